/*
 * A capture and the key logs to decrypt it, for checking hike's key log against
 * tshark (tests/unit/tshark_decrypt.sh). With random keys of the chosen algorithms:
 *   1. an IKE_AUTH request (IDi client.example.org, AUTH, CP(CFG_REQUEST), SA, TSi,
 *      TSr) sealed with SK_ei/SK_ai by ike_sk_seal, 192.0.2.1 -> 192.0.2.2, UDP 500;
 *   2. its response (IDr gw.example.net, AUTH, CP(CFG_REPLY) 10.3.0.1, SA, TSi, TSr)
 *      sealed with SK_er/SK_ar;
 *   3. an ESP packet (RFC 4303; RFC 4106 for AES-GCM) initiator -> responder carrying
 *      an ICMP echo request 10.3.0.1 -> 10.1.0.10, sealed with the Child SA's
 *      initiator-to-responder keys by the SK cipher (same constructions as ESP);
 *   4. the ESP echo reply, responder -> initiator.
 * IKE_KEYS gets hk_keylog_ike_line, ESP_KEYS hk_keylog_esp_lines (both appended).
 *
 * usage: keylog_pcap gcm256|gcm128|cbc256|cbc128 PCAP IKE_KEYS ESP_KEYS
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/cbb.h"
#include "common/err.h"
#include "common/secret.h"
#include "crypto/alg.h"
#include "crypto/crypto.h"
#include "crypto/kdf.h"
#include "crypto/sk_cipher.h"
#include "ike/codec/msg.h"
#include "ike/cp.h"
#include "ike/keylog.h"
#include "ike/sa.h"
#include "ike/sk_msg.h"

static const uint8_t addr_i[4] = {192, 0, 2, 1}, addr_r[4] = {192, 0, 2, 2};
static const uint8_t vip[4] = {10, 3, 0, 1}, host[4] = {10, 1, 0, 10};

/* ---- pcap (little-endian headers, Ethernet link type) ---- */

static void le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void be32(uint8_t *p, uint32_t v)
{
    be16(p, (uint16_t)(v >> 16));
    be16(p + 2, (uint16_t)v);
}

/* RFC 1071 checksum over up to two buffers. */
static uint16_t cksum(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    uint32_t s = 0;
    for (int k = 0; k < 2; k++) {
        const uint8_t *p = k ? b : a;
        size_t n = k ? blen : alen;
        for (size_t i = 0; i + 1 < n; i += 2)
            s += (uint32_t)p[i] << 8 | p[i + 1];
        if (n & 1)
            s += (uint32_t)p[n - 1] << 8;
    }
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* An IPv4 header and payload into b. */
static void ipv4(struct hk_cbb *b, uint8_t proto, const uint8_t *src, const uint8_t *dst,
                 const uint8_t *pl, size_t len)
{
    uint8_t h[20] = {0x45};
    be16(h + 2, (uint16_t)(20 + len));
    be16(h + 6, 0x4000);
    h[8] = 64;
    h[9] = proto;
    memcpy(h + 12, src, 4);
    memcpy(h + 16, dst, 4);
    be16(h + 10, cksum(h, 20, NULL, 0));
    hk_cbb_add_bytes(b, h, 20);
    hk_cbb_add_bytes(b, pl, len);
}

static int frame(FILE *f, uint32_t ts, const uint8_t *ip, size_t len)
{
    uint8_t rec[16], eth[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00};
    le32(rec, ts);
    le32(rec + 4, 0);
    le32(rec + 8, (uint32_t)(len + 14));
    le32(rec + 12, (uint32_t)(len + 14));
    return fwrite(rec, 1, 16, f) == 16 && fwrite(eth, 1, 14, f) == 14 &&
                   fwrite(ip, 1, len, f) == len
               ? 0
               : HK_E_IO;
}

static int udp_frame(FILE *f, uint32_t ts, bool from_i, const uint8_t *pl, size_t len)
{
    const uint8_t *src = from_i ? addr_i : addr_r, *dst = from_i ? addr_r : addr_i;
    struct hk_cbb u, ip;
    hk_cbb_init(&u, len + 8, 0);
    hk_cbb_init(&ip, len + 28, 0);
    uint8_t h[8], pseudo[12] = {0};
    be16(h, 500);
    be16(h + 2, 500);
    be16(h + 4, (uint16_t)(len + 8));
    be16(h + 6, 0);
    memcpy(pseudo, src, 4);
    memcpy(pseudo + 4, dst, 4);
    pseudo[9] = 17;
    be16(pseudo + 10, (uint16_t)(len + 8));
    hk_cbb_add_bytes(&u, h, 8);
    hk_cbb_add_bytes(&u, pl, len);
    int rc = hk_cbb_err(&u);
    if (!rc) {
        uint16_t c = cksum(pseudo, 12, u.buf, u.len);
        be16(u.buf + 6, c ? c : 0xffff);
        ipv4(&ip, 17, src, dst, u.buf, u.len);
        rc = hk_cbb_err(&ip);
    }
    if (!rc)
        rc = frame(f, ts, ip.buf, ip.len);
    hk_cbb_free(&u);
    hk_cbb_free(&ip);
    return rc;
}

/* ---- IKE ---- */

static struct hk_secret *rnd(size_t n)
{
    struct hk_secret *s = n ? hk_secret_new(n) : NULL;
    if (s)
        hk_random(s->data, n);
    return s;
}

static int ike_msgs(FILE *f, const struct hk_crypto *cr, const struct ike_sa *sa,
                    const struct child_sa *c)
{
    struct hk_sk_cipher *ci = NULL, *cresp = NULL;
    const struct hk_ike_keys *k = &sa->keys;
    const struct hk_ike_alg *al = &sa->alg;
    struct hk_arena a;
    struct hk_cbb wire;
    hk_arena_init(&a, 1 << 16);
    hk_cbb_init(&wire, 0, 0);
    int rc =
        hk_sk_cipher_new(cr, al->encr, al->encr_key_bits, al->integ, k->sk_ei->data, k->sk_ei->len,
                         k->sk_ai ? k->sk_ai->data : NULL, k->sk_ai ? k->sk_ai->len : 0, &ci);
    if (!rc)
        rc = hk_sk_cipher_new(cr, al->encr, al->encr_key_bits, al->integ, k->sk_er->data,
                              k->sk_er->len, k->sk_ar ? k->sk_ar->data : NULL,
                              k->sk_ar ? k->sk_ar->len : 0, &cresp);
    if (rc)
        goto out;

    static const char idi[] = "client.example.org", idr[] = "gw.example.net";
    uint8_t auth[32], spi_i[4], spi_r[4];
    hk_random(auth, sizeof(auth));
    be32(spi_i, c->spi_in); /* the initiator's inbound SPI, offered in SAi2 */
    be32(spi_r, c->spi_out);
    struct ike_transform tr[3] = {
        {.type = IKE_TRANS_ENCR,
         .id = c->chosen.encr,
         .nattrs = 1,
         .attrs = {{.type = IKE_ATTR_KEY_LENGTH, .tv = true, .value = c->chosen.encr_key_bits}}},
        {.type = IKE_TRANS_ESN, .id = HK_ESN_NO},
        {.type = IKE_TRANS_INTEG, .id = c->chosen.integ},
    };
    size_t ntr = c->chosen.integ ? 3 : 2;
    struct ike_proposal prop = {.num = 1,
                                .protocol = IKE_PROTO_ESP,
                                .spi = {spi_i, 4},
                                .ntransforms = ntr,
                                .transforms = tr};
    struct ike_ts any = {
        .type = IKE_TS_IPV4_ADDR_RANGE, .end_port = 65535, .end_addr = {255, 255, 255, 255}};
    struct ike_ts one = {.type = IKE_TS_IPV4_ADDR_RANGE, .end_port = 65535};
    memcpy(one.start_addr, vip, 4);
    memcpy(one.end_addr, vip, 4);
    struct ike_pl_cp req, rep;
    struct hk_ip va = {.family = AF_INET}, dns = {.family = AF_INET, .addr = {10, 3, 0, 53}};
    memcpy(va.addr, vip, 4);
    if ((rc = ike_cp_build_request(true, false, &a, &req)) ||
        (rc = ike_cp_build_reply(&va, 1, &dns, 1, &a, &rep)))
        goto out;

    struct ike_payload pl[6] = {
        {.type = IKE_PL_IDI,
         .u.id = {.type = IKE_ID_FQDN, .data = {(const uint8_t *)idi, sizeof(idi) - 1}}},
        {.type = IKE_PL_AUTH, .u.auth = {.method = IKE_AUTH_SHARED_KEY, .data = {auth, 32}}},
        {.type = IKE_PL_CP, .u.cp = req},
        {.type = IKE_PL_SA, .u.sa = {.nproposals = 1, .proposals = &prop}},
        {.type = IKE_PL_TSI, .u.ts = {.nts = 1, .ts = &any}},
        {.type = IKE_PL_TSR, .u.ts = {.nts = 1, .ts = &any}},
    };
    struct ike_hdr h = {
        .version = 0x20, .exchange = IKE_AUTH, .flags = IKE_FLAG_INITIATOR, .msg_id = 1};
    memcpy(h.spi_i, sa->spi_i, 8);
    memcpy(h.spi_r, sa->spi_r, 8);
    if ((rc = ike_sk_seal(ci, &h, pl, 6, &wire)) ||
        (rc = udp_frame(f, 1700000000, true, wire.buf, wire.len)))
        goto out;

    /* The response: IDr, AUTH, CP(CFG_REPLY), SAr2, TSi = the virtual IP, TSr = any. */
    pl[0] = (struct ike_payload){
        .type = IKE_PL_IDR,
        .u.id = {.type = IKE_ID_FQDN, .data = {(const uint8_t *)idr, sizeof(idr) - 1}}};
    pl[2].u.cp = rep;
    prop.spi.p = spi_r;
    pl[4].u.ts.ts = &one;
    h.flags = IKE_FLAG_RESPONSE;
    hk_cbb_truncate(&wire, 0);
    if ((rc = ike_sk_seal(cresp, &h, pl, 6, &wire)) ||
        (rc = udp_frame(f, 1700000001, false, wire.buf, wire.len)))
        goto out;
out:
    hk_sk_cipher_free(ci);
    hk_sk_cipher_free(cresp);
    hk_cbb_free(&wire);
    hk_arena_free(&a);
    return rc;
}

/* ---- ESP ---- */

/* An ICMP echo (type 8) or echo reply (0) in IPv4, src -> dst. */
static void icmp_echo(struct hk_cbb *b, uint8_t type, const uint8_t *src, const uint8_t *dst)
{
    static const char data[] = "hike keylog esp test";
    uint8_t m[8 + sizeof(data) - 1] = {type, 0, 0, 0, 0x12, 0x34, 0, 1};
    memcpy(m + 8, data, sizeof(data) - 1);
    be16(m + 2, cksum(m, sizeof(m), NULL, 0));
    ipv4(b, 1, src, dst, m, sizeof(m));
}

/* SPI | seq | IV | E(inner | padding | pad length | next header) | ICV (RFC 4303 2). */
static int esp_frame(FILE *f, uint32_t ts, const struct hk_crypto *cr, const struct child_sa *c,
                     bool from_i)
{
    const struct hk_child_keys *k = &c->keys;
    const struct hk_secret *ek = from_i ? k->encr_ir : k->encr_ri;
    const struct hk_secret *ik = from_i ? k->integ_ir : k->integ_ri;
    struct hk_sk_cipher *s = NULL;
    int rc = hk_sk_cipher_new(cr, c->chosen.encr, c->chosen.encr_key_bits, c->chosen.integ,
                              ek->data, ek->len, ik ? ik->data : NULL, ik ? ik->len : 0, &s);
    if (rc)
        return rc;
    struct hk_cbb inner, esp, ip;
    hk_cbb_init(&inner, 128, 0);
    hk_cbb_init(&esp, 256, 0);
    hk_cbb_init(&ip, 256, 0);
    if (from_i)
        icmp_echo(&inner, 8, vip, host);
    else
        icmp_echo(&inner, 0, host, vip);
    /* Pad so that pad length and next header end a cipher block, or a 4-octet word for
     * an AEAD (RFC 4303 2.4); the padding is 1, 2, 3, ... (2.4 default). */
    size_t blk = hk_sk_cipher_block_len(s) > 4 ? hk_sk_cipher_block_len(s) : 4;
    size_t padlen = (blk - (inner.len + 2) % blk) % blk;
    for (size_t i = 1; i <= padlen; i++)
        hk_cbb_add_u8(&inner, (uint8_t)i);
    hk_cbb_add_u8(&inner, (uint8_t)padlen);
    hk_cbb_add_u8(&inner, 4); /* next header: IPv4 (tunnel mode) */
    size_t ivlen = hk_sk_cipher_iv_len(s), icvlen = hk_sk_cipher_icv_len(s);
    uint8_t *hdr, *iv, *ct, *icv;
    hk_cbb_add_space(&esp, &hdr, 8);
    hk_cbb_add_space(&esp, &iv, ivlen);
    hk_cbb_add_space(&esp, &ct, inner.len);
    hk_cbb_add_space(&esp, &icv, icvlen);
    rc = hk_cbb_err(&inner) ? hk_cbb_err(&inner) : hk_cbb_err(&esp);
    if (!rc) {
        /* Pointers are taken after the last add, so they stay valid. */
        hdr = esp.buf;
        iv = hdr + 8;
        ct = iv + ivlen;
        icv = ct + inner.len;
        be32(hdr, from_i ? c->spi_out : c->spi_in);
        be32(hdr + 4, 1);
        hk_random(iv, ivlen);
        memcpy(ct, inner.buf, inner.len);
        /* AAD: SPI | sequence number (RFC 4106 5); for CBC the HMAC covers the same
         * header, the IV and the ciphertext, which is ESP's ICV (RFC 4303 2.8). */
        rc = hk_sk_cipher_seal(s, hdr, 8, iv, ct, inner.len, icv);
    }
    if (!rc) {
        ipv4(&ip, 50, from_i ? addr_i : addr_r, from_i ? addr_r : addr_i, esp.buf, esp.len);
        rc = hk_cbb_err(&ip);
    }
    if (!rc)
        rc = frame(f, ts, ip.buf, ip.len);
    hk_sk_cipher_free(s);
    hk_cbb_free_wipe(&inner);
    hk_cbb_free(&esp);
    hk_cbb_free(&ip);
    return rc;
}

/* ---- main ---- */

static void set_sin(struct sockaddr_storage *ss, const uint8_t *a)
{
    struct sockaddr_in *s = (struct sockaddr_in *)ss;
    memset(ss, 0, sizeof(*ss));
    s->sin_family = AF_INET;
    s->sin_port = htons(500);
    memcpy(&s->sin_addr, a, 4);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s gcm256|gcm128|cbc256|cbc128 PCAP IKE_KEYS ESP_KEYS\n", argv[0]);
        return 2;
    }
    bool gcm = !strncmp(argv[1], "gcm", 3);
    uint16_t bits = strstr(argv[1], "128") ? 128 : 256;
    if ((!gcm && strncmp(argv[1], "cbc", 3)) || strlen(argv[1]) != 6) {
        fprintf(stderr, "unknown algorithm %s\n", argv[1]);
        return 2;
    }
    uint16_t encr = gcm ? HK_ENCR_AES_GCM_16 : HK_ENCR_AES_CBC;
    uint16_t integ = gcm ? HK_AUTH_NONE : HK_AUTH_HMAC_SHA2_256_128;
    size_t el = hk_encr_key_len(encr, bits), il = hk_integ_key_len(integ);

    struct hk_crypto cr;
    if (hk_crypto_init(&cr)) {
        fprintf(stderr, "crypto init failed\n");
        return 1;
    }
    struct ike_sa sa;
    struct child_sa c;
    memset(&sa, 0, sizeof(sa));
    memset(&c, 0, sizeof(c));
    hk_random(sa.spi_i, 8);
    hk_random(sa.spi_r, 8);
    sa.initiator = true;
    sa.alg = (struct hk_ike_alg){.encr = encr,
                                 .encr_key_bits = bits,
                                 .prf = HK_PRF_HMAC_SHA2_256,
                                 .integ = integ,
                                 .ke = HK_KE_CURVE25519};
    sa.keys.sk_ei = rnd(el);
    sa.keys.sk_er = rnd(el);
    sa.keys.sk_ai = rnd(il);
    sa.keys.sk_ar = rnd(il);
    set_sin(&sa.local, addr_i);
    set_sin(&sa.remote, addr_r);
    c.protocol = IKE_PROTO_ESP;
    c.initiator = true;
    c.spi_in = 0xc1000001;
    c.spi_out = 0xc2000002;
    c.chosen = (struct ike_chosen){
        .protocol = IKE_PROTO_ESP, .encr = encr, .encr_key_bits = bits, .integ = integ};
    c.keys.encr_ir = rnd(el);
    c.keys.encr_ri = rnd(el);
    c.keys.integ_ir = rnd(il);
    c.keys.integ_ri = rnd(il);

    char line[HK_KEYLOG_MAXLINE];
    int rc =
        !sa.keys.sk_ei || !sa.keys.sk_er || !c.keys.encr_ir || !c.keys.encr_ri ? HK_E_NOMEM : 0;
    FILE *f = rc ? NULL : fopen(argv[2], "wb");
    if (!rc && !f)
        rc = HK_E_IO;
    if (!rc) {
        uint8_t gh[24];
        le32(gh, 0xa1b2c3d4);
        gh[4] = 2, gh[5] = 0, gh[6] = 4, gh[7] = 0;
        le32(gh + 8, 0);
        le32(gh + 12, 0);
        le32(gh + 16, 65535);
        le32(gh + 20, 1);
        rc = fwrite(gh, 1, 24, f) == 24 ? 0 : HK_E_IO;
    }
    if (!rc)
        rc = ike_msgs(f, &cr, &sa, &c);
    if (!rc)
        rc = esp_frame(f, 1700000002, &cr, &c, true);
    if (!rc)
        rc = esp_frame(f, 1700000003, &cr, &c, false);
    if (f && fclose(f) && !rc)
        rc = HK_E_IO;
    if (!rc && !(rc = hk_keylog_ike_line(&sa, line, sizeof(line))))
        rc = hk_keylog_append(argv[3], line);
    if (!rc && !(rc = hk_keylog_esp_lines(&sa, &c, NULL, NULL, line, sizeof(line))))
        rc = hk_keylog_append(argv[4], line);
    hk_wipe(line, sizeof(line));
    hk_ike_keys_free(&sa.keys);
    hk_child_keys_free(&c.keys);
    hk_crypto_free(&cr);
    if (rc) {
        fprintf(stderr, "keylog_pcap: %s\n", hk_strerror(rc));
        return 1;
    }
    return 0;
}
