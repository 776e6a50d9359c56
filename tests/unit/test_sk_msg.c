/*
 * Whole messages through codec and crypto together: an IKE_SA_INIT exchange built
 * from real key-exchange values, keys derived on both sides, and an IKE_AUTH request
 * sealed by the initiator, opened by the responder and parsed back, for each SK
 * transform. Then the failures: bad ICV, bad padding, wrong key, and fragments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/secret.h"
#include "crypto/alg.h"
#include "crypto/auth.h"
#include "crypto/crypto.h"
#include "crypto/kdf.h"
#include "crypto/ke.h"
#include "crypto/sk_cipher.h"
#include "ike/codec/msg.h"
#include "ike/codec/notify.h"
#include "ike/sk_msg.h"

struct side {
    struct hk_ke *ke;
    uint8_t pub[64];
    uint8_t nonce[32];
    struct hk_ike_keys keys;
    struct hk_sk_cipher *out, *in;
};

struct world {
    struct hk_crypto crypto;
    struct hk_ike_alg alg;
    uint8_t spi_i[8], spi_r[8];
    struct side i, r;
    struct hk_cbb init_req; /* the initiator's IKE_SA_INIT request, signed in AUTH */
};

static const uint8_t psk[] = "a shared secret of some length";

/* The initiator's IKE_SA_INIT request: SA, KE, Ni, NAT-D x2, fragmentation supported. */
static void build_init_request(struct world *w)
{
    struct ike_transform tr[] = {
        {.type = IKE_TRANS_ENCR,
         .id = w->alg.encr,
         .nattrs = w->alg.encr_key_bits ? 1 : 0,
         .attrs = {{.type = IKE_ATTR_KEY_LENGTH, .tv = true, .value = w->alg.encr_key_bits}}},
        {.type = IKE_TRANS_PRF, .id = w->alg.prf},
        {.type = IKE_TRANS_INTEG, .id = w->alg.integ},
        {.type = IKE_TRANS_KE, .id = HK_KE_CURVE25519},
    };
    struct ike_proposal prop = {
        .num = 1, .protocol = IKE_PROTO_IKE, .ntransforms = w->alg.integ ? 4 : 3, .transforms = tr};
    if (!w->alg.integ)
        tr[2] = tr[3];
    static const uint8_t natd[20] = {0x11};
    struct ike_payload pl[] = {
        {.type = IKE_PL_SA, .u.sa = {.nproposals = 1, .proposals = &prop}},
        {.type = IKE_PL_KE, .u.ke = {.group = HK_KE_CURVE25519, .data = {w->i.pub, 32}}},
        {.type = IKE_PL_NONCE, .u.nonce = {.data = {w->i.nonce, 32}}},
        {.type = IKE_PL_NOTIFY,
         .u.notify = {.type = IKE_N_NAT_DETECTION_SOURCE_IP, .data = {natd, 20}}},
        {.type = IKE_PL_NOTIFY,
         .u.notify = {.type = IKE_N_NAT_DETECTION_DESTINATION_IP, .data = {natd, 20}}},
        {.type = IKE_PL_NOTIFY, .u.notify = {.type = IKE_N_IKEV2_FRAGMENTATION_SUPPORTED}},
    };
    struct ike_msg m = {
        .hdr = {.version = 0x20, .exchange = IKE_SA_INIT, .flags = IKE_FLAG_INITIATOR},
        .npayloads = 6,
        .payloads = pl};
    memcpy(m.hdr.spi_i, w->spi_i, 8);
    hk_cbb_init(&w->init_req, 0, 0);
    assert_int_equal(ike_msg_encode(&m, &w->init_req), 0);

    /* The responder parses it back and finds what was sent. */
    struct hk_arena a;
    struct ike_msg got;
    struct hk_diag d = {0};
    hk_arena_init(&a, 1 << 16);
    assert_int_equal(ike_msg_decode(w->init_req.buf, w->init_req.len, &got, &a, &d), 0);
    assert_int_equal(got.hdr.exchange, IKE_SA_INIT);
    assert_int_equal(got.hdr.length, w->init_req.len);
    assert_int_equal(got.npayloads, 6);
    assert_int_equal(got.payloads[0].u.sa.proposals[0].transforms[0].id, w->alg.encr);
    assert_memory_equal(got.payloads[1].u.ke.data.p, w->i.pub, 32);
    assert_non_null(ike_msg_find_notify(&got, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED));
    hk_arena_free(&a);
}

static void derive(struct world *w, struct side *me, const uint8_t *peer_pub, bool initiator)
{
    struct hk_secret *g_ir = NULL, *skeyseed = NULL;
    assert_int_equal(hk_ke_derive(me->ke, peer_pub, 32, &g_ir), 0);
    assert_int_equal(hk_skeyseed(&w->crypto, w->alg.prf, w->i.nonce, 32, w->r.nonce, 32, g_ir->data,
                                 g_ir->len, &skeyseed),
                     0);
    assert_int_equal(hk_ike_keys_derive(&w->crypto, &w->alg, skeyseed, w->i.nonce, 32, w->r.nonce,
                                        32, w->spi_i, w->spi_r, &me->keys),
                     0);
    struct hk_secret *ei = me->keys.sk_ei, *er = me->keys.sk_er;
    struct hk_secret *ai = me->keys.sk_ai, *ar = me->keys.sk_ar;
    struct hk_secret *eo = initiator ? ei : er, *ein = initiator ? er : ei;
    struct hk_secret *ao = initiator ? ai : ar, *ain = initiator ? ar : ai;
    assert_int_equal(hk_sk_cipher_new(&w->crypto, w->alg.encr, w->alg.encr_key_bits, w->alg.integ,
                                      eo->data, eo->len, ao ? ao->data : NULL, ao ? ao->len : 0,
                                      &me->out),
                     0);
    assert_int_equal(hk_sk_cipher_new(&w->crypto, w->alg.encr, w->alg.encr_key_bits, w->alg.integ,
                                      ein->data, ein->len, ain ? ain->data : NULL,
                                      ain ? ain->len : 0, &me->in),
                     0);
    hk_secret_free(&g_ir);
    hk_secret_free(&skeyseed);
}

static struct world *world_new(uint16_t encr, uint16_t bits, uint16_t integ)
{
    struct world *w = calloc(1, sizeof(*w));
    assert_int_equal(hk_crypto_init(&w->crypto), 0);
    w->alg = (struct hk_ike_alg){.encr = encr,
                                 .encr_key_bits = bits,
                                 .prf = HK_PRF_HMAC_SHA2_256,
                                 .integ = integ,
                                 .ke = HK_KE_CURVE25519};
    hk_random(w->spi_i, 8);
    hk_random(w->spi_r, 8);
    for (int k = 0; k < 2; k++) {
        struct side *s = k ? &w->r : &w->i;
        assert_int_equal(hk_ke_new(&w->crypto, HK_KE_CURVE25519, &s->ke), 0);
        assert_int_equal(hk_ke_public(s->ke, s->pub, 32), 0);
        hk_random(s->nonce, 32);
    }
    build_init_request(w);
    derive(w, &w->i, w->r.pub, true);
    derive(w, &w->r, w->i.pub, false);
    return w;
}

static void world_free(struct world *w)
{
    for (int k = 0; k < 2; k++) {
        struct side *s = k ? &w->r : &w->i;
        hk_ke_free(s->ke);
        hk_ike_keys_free(&s->keys);
        hk_sk_cipher_free(s->out);
        hk_sk_cipher_free(s->in);
    }
    hk_cbb_free(&w->init_req);
    hk_crypto_free(&w->crypto);
    free(w);
}

/* IDi body as signed in AUTH (2.15): ID type, RESERVED, data. */
static const uint8_t id_data[] = "client.example.org";

/* Builds the initiator's IKE_AUTH request payloads; auth_buf receives the PSK AUTH value. */
static size_t auth_payloads(struct world *w, struct ike_payload *pl, uint8_t *auth_buf,
                            struct ike_transform *tr, struct ike_proposal *prop, struct ike_ts *ts)
{
    uint8_t id_body[4 + sizeof(id_data) - 1] = {IKE_ID_FQDN};
    memcpy(id_body + 4, id_data, sizeof(id_data) - 1);
    struct hk_cbb oct;
    hk_cbb_init(&oct, 0, 0);
    assert_int_equal(hk_auth_octets(&w->crypto, w->alg.prf, w->init_req.buf, w->init_req.len,
                                    w->r.nonce, 32, w->i.keys.sk_pi->data, w->i.keys.sk_pi->len,
                                    id_body, sizeof(id_body), &oct),
                     0);
    size_t auth_len = 64;
    assert_int_equal(hk_auth_psk_compute(&w->crypto, w->alg.prf, psk, sizeof(psk) - 1, oct.buf,
                                         oct.len, auth_buf, &auth_len),
                     0);
    hk_cbb_free(&oct);
    static const uint8_t spi[4] = {0xc0, 0xff, 0xee, 0x01};
    tr[0] =
        (struct ike_transform){.type = IKE_TRANS_ENCR,
                               .id = HK_ENCR_AES_GCM_16,
                               .nattrs = 1,
                               .attrs = {{.type = IKE_ATTR_KEY_LENGTH, .tv = true, .value = 256}}};
    tr[1] = (struct ike_transform){.type = IKE_TRANS_ESN, .id = HK_ESN_NO};
    *prop = (struct ike_proposal){
        .num = 1, .protocol = IKE_PROTO_ESP, .spi = {spi, 4}, .ntransforms = 2, .transforms = tr};
    ts[0] = (struct ike_ts){.type = IKE_TS_IPV4_ADDR_RANGE,
                            .end_port = 65535,
                            .start_addr = {10, 1, 0, 0},
                            .end_addr = {10, 1, 255, 255}};
    ts[1] = (struct ike_ts){.type = IKE_TS_IPV6_ADDR_RANGE,
                            .ip_proto = 6,
                            .start_port = 443,
                            .end_port = 443,
                            .start_addr = {0x20, 0x01, 0x0d, 0xb8},
                            .end_addr = {0x20, 0x01, 0x0d, 0xb8, [15] = 0xff}};
    pl[0] = (struct ike_payload){
        .type = IKE_PL_IDI, .u.id = {.type = IKE_ID_FQDN, .data = {id_data, sizeof(id_data) - 1}}};
    pl[1] = (struct ike_payload){
        .type = IKE_PL_AUTH,
        .u.auth = {.method = IKE_AUTH_SHARED_KEY, .data = {auth_buf, auth_len}}};
    pl[2] =
        (struct ike_payload){.type = IKE_PL_NOTIFY, .u.notify = {.type = IKE_N_INITIAL_CONTACT}};
    pl[3] = (struct ike_payload){.type = IKE_PL_SA, .u.sa = {.nproposals = 1, .proposals = prop}};
    pl[4] = (struct ike_payload){.type = IKE_PL_TSI, .u.ts = {.nts = 2, .ts = ts}};
    pl[5] = (struct ike_payload){.type = IKE_PL_TSR, .u.ts = {.nts = 1, .ts = ts}};
    return 6;
}

static struct ike_hdr auth_hdr(const struct world *w)
{
    struct ike_hdr h = {
        .version = 0x20, .exchange = IKE_AUTH, .flags = IKE_FLAG_INITIATOR, .msg_id = 1};
    memcpy(h.spi_i, w->spi_i, 8);
    memcpy(h.spi_r, w->spi_r, 8);
    return h;
}

static void run_auth(uint16_t encr, uint16_t bits, uint16_t integ)
{
    struct world *w = world_new(encr, bits, integ);
    struct ike_payload pl[6];
    struct ike_transform tr[2];
    struct ike_proposal prop;
    struct ike_ts ts[2];
    uint8_t auth[64];
    size_t n = auth_payloads(w, pl, auth, tr, &prop, ts);
    struct ike_hdr h = auth_hdr(w);
    struct hk_cbb wire;
    hk_cbb_init(&wire, 0, 0);
    assert_int_equal(ike_sk_seal(w->i.out, &h, pl, n, &wire), 0);

    /* The responder: decode the outer message, open SK, parse the inner payloads. */
    struct hk_arena a;
    struct ike_msg m;
    struct hk_diag d = {0};
    hk_arena_init(&a, 1 << 16);
    assert_int_equal(ike_msg_decode(wire.buf, wire.len, &m, &a, &d), 0);
    assert_int_equal(m.npayloads, 1);
    assert_int_equal(m.payloads[0].type, IKE_PL_SK);
    assert_int_equal(ike_sk_open(w->r.in, wire.buf, wire.len, &m, &a, &d), 0);
    assert_int_equal(m.npayloads, 7);
    const struct ike_payload *idi = &m.payloads[1], *ap = &m.payloads[2];
    assert_int_equal(idi->type, IKE_PL_IDI);
    assert_memory_equal(idi->u.id.data.p, id_data, sizeof(id_data) - 1);
    assert_int_equal(ap->type, IKE_PL_AUTH);
    assert_int_equal(m.payloads[6].type, IKE_PL_TSR);
    assert_int_equal(m.payloads[5].u.ts.nts, 2);
    assert_int_equal(m.payloads[5].u.ts.ts[1].start_port, 443);
    assert_int_equal(m.payloads[4].u.sa.proposals[0].spi.len, 4);

    /* The responder checks AUTH with its own keys: SK_pi agrees on both sides. */
    uint8_t id_body[4 + sizeof(id_data) - 1] = {IKE_ID_FQDN};
    memcpy(id_body + 4, id_data, sizeof(id_data) - 1);
    struct hk_cbb oct;
    hk_cbb_init(&oct, 0, 0);
    assert_int_equal(hk_auth_octets(&w->crypto, w->alg.prf, w->init_req.buf, w->init_req.len,
                                    w->r.nonce, 32, w->r.keys.sk_pi->data, w->r.keys.sk_pi->len,
                                    id_body, sizeof(id_body), &oct),
                     0);
    assert_int_equal(hk_auth_psk_verify(&w->crypto, w->alg.prf, psk, sizeof(psk) - 1, oct.buf,
                                        oct.len, ap->u.auth.data.p, ap->u.auth.data.len),
                     0);
    hk_cbb_free(&oct);
    hk_arena_free(&a);
    hk_cbb_free(&wire);
    world_free(w);
}

static void auth_aes_gcm_256(void **s)
{
    (void)s;
    run_auth(HK_ENCR_AES_GCM_16, 256, HK_AUTH_NONE);
}
static void auth_aes_gcm_128(void **s)
{
    (void)s;
    run_auth(HK_ENCR_AES_GCM_16, 128, HK_AUTH_NONE);
}
static void auth_chacha20_poly1305(void **s)
{
    (void)s;
    run_auth(HK_ENCR_CHACHA20_POLY1305, 256, HK_AUTH_NONE);
}
static void auth_aes_cbc_sha256(void **s)
{
    (void)s;
    run_auth(HK_ENCR_AES_CBC, 128, HK_AUTH_HMAC_SHA2_256_128);
}
static void auth_aes_cbc_sha512(void **s)
{
    (void)s;
    run_auth(HK_ENCR_AES_CBC, 256, HK_AUTH_HMAC_SHA2_512_256);
}

/* Seals an empty INFORMATIONAL, returns the wire bytes for tampering. */
static void seal_info(struct world *w, struct hk_cbb *wire)
{
    struct ike_hdr h = auth_hdr(w);
    h.exchange = IKE_INFORMATIONAL;
    struct ike_payload del = {.type = IKE_PL_DELETE, .u.del = {.protocol = IKE_PROTO_IKE}};
    hk_cbb_init(wire, 0, 0);
    assert_int_equal(ike_sk_seal(w->i.out, &h, &del, 1, wire), 0);
}

static int open_wire(struct world *w, struct hk_cbb *wire, struct hk_diag *d)
{
    struct hk_arena a;
    struct ike_msg m;
    hk_arena_init(&a, 1 << 16);
    int rc = ike_msg_decode(wire->buf, wire->len, &m, &a, d);
    if (!rc)
        rc = ike_sk_open(w->r.in, wire->buf, wire->len, &m, &a, d);
    hk_arena_free(&a);
    return rc;
}

static void tamper(uint16_t encr, uint16_t bits, uint16_t integ)
{
    struct world *w = world_new(encr, bits, integ);
    struct hk_cbb wire;
    struct hk_diag d = {0};
    /* Every byte of header, payload header, IV, ciphertext and ICV is covered. */
    seal_info(w, &wire);
    for (size_t i = 0; i < wire.len; i++) {
        struct hk_cbb copy;
        hk_cbb_init(&copy, 0, 0);
        hk_cbb_add_bytes(&copy, wire.buf, wire.len);
        copy.buf[i] ^= 0x01;
        memset(&d, 0, sizeof(d));
        int rc = open_wire(w, &copy, &d);
        /* Header and payload-header bits may already fail decoding; from the SK body on,
         * only the ICV check can catch the change. */
        if (i >= 32)
            assert_int_equal(rc, HK_E_AUTH);
        else
            assert_true(rc < 0 && strcmp(hk_strerror(rc), "unknown error"));
        hk_cbb_free(&copy);
    }
    memset(&d, 0, sizeof(d));
    assert_int_equal(open_wire(w, &wire, &d), 0);
    hk_cbb_free(&wire);

    /* The initiator's own inbound key (SK_er) cannot open what it sent with SK_ei. */
    seal_info(w, &wire);
    struct hk_arena a;
    struct ike_msg m;
    hk_arena_init(&a, 1 << 16);
    assert_int_equal(ike_msg_decode(wire.buf, wire.len, &m, &a, &d), 0);
    assert_int_equal(ike_sk_open(w->i.in, wire.buf, wire.len, &m, &a, &d), HK_E_AUTH);
    hk_arena_free(&a);
    hk_cbb_free(&wire);
    world_free(w);
}

static void tamper_gcm(void **s)
{
    (void)s;
    tamper(HK_ENCR_AES_GCM_16, 256, HK_AUTH_NONE);
}
static void tamper_cbc(void **s)
{
    (void)s;
    tamper(HK_ENCR_AES_CBC, 256, HK_AUTH_HMAC_SHA2_256_128);
}

/*
 * A correctly authenticated SK whose pad length exceeds the plaintext: built by hand,
 * because ike_sk_seal never writes one.
 */
static void bad_padding(void **s)
{
    (void)s;
    struct world *w = world_new(HK_ENCR_AES_CBC, 128, HK_AUTH_HMAC_SHA2_256_128);
    uint8_t body[16 + 32 + 16] = {0};
    body[16 + 31] = 200; /* pad length 200 > 31 octets of content */
    struct ike_payload pl = {.type = IKE_PL_SK,
                             .u.sk = {.first_inner = IKE_PL_NOTIFY, .body = {body, sizeof(body)}}};
    struct ike_msg m = {.hdr = auth_hdr(w), .npayloads = 1, .payloads = &pl};
    struct hk_cbb wire;
    hk_cbb_init(&wire, 0, 0);
    assert_int_equal(ike_msg_encode(&m, &wire), 0);
    size_t off = wire.len - sizeof(body);
    assert_int_equal(hk_sk_cipher_seal(w->i.out, wire.buf, off, wire.buf + off, wire.buf + off + 16,
                                       32, wire.buf + off + 48),
                     0);
    struct hk_diag d = {0};
    assert_int_equal(open_wire(w, &wire, &d), HK_E_PADDING);
    assert_non_null(strstr(hk_diag_msg(&d), "pad length 200"));

    /* Ciphertext not a multiple of the block: refused before any crypto. */
    hk_cbb_truncate(&wire, 0);
    pl.u.sk.body.len = 16 + 20 + 16;
    assert_int_equal(ike_msg_encode(&m, &wire), 0);
    memset(&d, 0, sizeof(d));
    assert_int_equal(open_wire(w, &wire, &d), HK_E_LENGTH);
    /* Shorter than IV + pad length + ICV. */
    hk_cbb_truncate(&wire, 0);
    pl.u.sk.body.len = 20;
    assert_int_equal(ike_msg_encode(&m, &wire), 0);
    memset(&d, 0, sizeof(d));
    assert_int_equal(open_wire(w, &wire, &d), HK_E_LENGTH);
    hk_cbb_free(&wire);
    world_free(w);
}

/* RFC 7383: an IKE_AUTH request split into SKF fragments and put back together. */
static void fragments(void **s)
{
    (void)s;
    struct world *w = world_new(HK_ENCR_AES_CBC, 256, HK_AUTH_HMAC_SHA2_256_128);
    struct ike_payload pl[7];
    struct ike_transform tr[2];
    struct ike_proposal prop;
    struct ike_ts ts[2];
    uint8_t auth[64];
    static uint8_t cert[1500];
    memset(cert, 0x5a, sizeof(cert));
    size_t n = auth_payloads(w, pl, auth, tr, &prop, ts);
    pl[n++] = (struct ike_payload){
        .type = IKE_PL_CERT,
        .u.cert = {.encoding = IKE_CERT_X509_SIG, .data = {cert, sizeof(cert)}}};
    struct ike_hdr h = auth_hdr(w);
    struct ike_frags f;
    assert_int_equal(ike_skf_seal(w->i.out, &h, pl, n, 576, &f), 0);
    assert_true(f.n >= 3);
    struct hk_cbb all;
    hk_cbb_init(&all, 0, 0);
    uint8_t first = 0;
    for (size_t i = 0; i < f.n; i++) {
        struct hk_arena a;
        struct ike_msg m;
        struct hk_diag d = {0};
        struct ike_view chunk;
        assert_true(f.msgs[i].len <= 576);
        hk_arena_init(&a, 1 << 16);
        assert_int_equal(ike_msg_decode(f.msgs[i].buf, f.msgs[i].len, &m, &a, &d), 0);
        const struct ike_pl_skf *skf = &m.payloads[m.npayloads - 1].u.skf;
        assert_int_equal(skf->frag_num, i + 1);
        assert_int_equal(skf->total_frags, f.n);
        if (i == 0)
            first = skf->first_inner;
        else
            assert_int_equal(skf->first_inner, 0);
        assert_int_equal(ike_skf_open(w->r.in, f.msgs[i].buf, f.msgs[i].len, &m, &chunk, &d), 0);
        hk_cbb_add_bytes(&all, chunk.p, chunk.len);
        hk_arena_free(&a);
    }
    struct hk_arena a;
    struct ike_msg m = {0};
    struct hk_diag d = {0};
    hk_arena_init(&a, 1 << 16);
    assert_int_equal(ike_payloads_decode(first, all.buf, all.len, &m, &a, &d), 0);
    assert_int_equal(m.npayloads, n);
    assert_int_equal(m.payloads[n - 1].u.cert.data.len, sizeof(cert));
    ike_frags_free(&f);
    assert_int_equal(ike_skf_seal(w->i.out, &h, pl, n, 60, &f), HK_E_OVERFLOW);
    hk_arena_free(&a);
    hk_cbb_free(&all);
    world_free(w);
}

/* Whether needle occurs anywhere in hay. */
static bool contains(const uint8_t *hay, size_t len, const uint8_t *needle, size_t nlen)
{
    for (size_t i = 0; i + nlen <= len; i++)
        if (!memcmp(hay + i, needle, nlen))
            return true;
    return false;
}

/*
 * ike_sk_seal writes the message in place, after what out already holds, into a caller's
 * buffer or the heap: the framing is right, it opens, the prefix is untouched, and no
 * plaintext is left anywhere in the buffer (sealed, or wiped when sealing fails).
 */
static void seal_in_place(uint16_t encr, uint16_t bits, uint16_t integ)
{
    struct world *w = world_new(encr, bits, integ);
    static const uint8_t secret[] = "plaintext-that-must-not-stay-in-the-buffer";
    struct ike_payload pl[] = {
        {.type = IKE_PL_NOTIFY, .u.notify = {.type = 40000, .data = {secret, sizeof(secret)}}},
        {.type = IKE_PL_DELETE, .u.del = {.protocol = IKE_PROTO_IKE}},
    };
    struct ike_hdr h = auth_hdr(w);
    h.exchange = IKE_INFORMATIONAL;
    /* Big enough to stay in the buffer, then too small (moves to the heap mid-message). */
    static const size_t room[] = {1024, 40};
    for (size_t k = 0; k < 2; k++) {
        uint8_t buf[1024];
        struct hk_cbb out;
        memset(buf, 0xee, sizeof(buf));
        hk_cbb_init_buf(&out, buf, room[k], 0);
        assert_int_equal(hk_cbb_add_bytes(&out, "prefix!", 7), 0);
        assert_int_equal(ike_sk_seal(w->i.out, &h, pl, 2, &out), 0);
        assert_int_equal(out.buf == buf, k == 0);
        assert_memory_equal(out.buf, "prefix!", 7);
        const uint8_t *m = out.buf + 7;
        size_t mlen = out.len - 7;
        assert_int_equal((size_t)m[24] << 24 | m[25] << 16 | m[26] << 8 | m[27], mlen);
        assert_int_equal(m[16], IKE_PL_SK);
        assert_int_equal(m[28], IKE_PL_NOTIFY);
        assert_int_equal((size_t)m[30] << 8 | m[31], mlen - IKE_HDR_LEN);
        assert_false(contains(buf, sizeof(buf), secret, sizeof(secret)));
        assert_false(contains(out.buf, out.len, secret, sizeof(secret)));

        struct hk_cbb wire;
        struct hk_diag d = {0};
        struct hk_arena a;
        struct ike_msg msg;
        hk_cbb_init(&wire, 0, 0);
        hk_cbb_add_bytes(&wire, m, mlen);
        hk_arena_init(&a, 1 << 16);
        assert_int_equal(ike_msg_decode(wire.buf, wire.len, &msg, &a, &d), 0);
        assert_int_equal(ike_sk_open(w->r.in, wire.buf, wire.len, &msg, &a, &d), 0);
        assert_int_equal(msg.npayloads, 3); /* SK, then the two inner ones */
        assert_int_equal(msg.payloads[1].u.notify.type, 40000);
        assert_memory_equal(msg.payloads[1].u.notify.data.p, secret, sizeof(secret));
        assert_int_equal(msg.payloads[2].type, IKE_PL_DELETE);
        hk_arena_free(&a);
        hk_cbb_free(&wire);
        hk_cbb_free(&out);
    }
    /* A payload that cannot be encoded after one that was: nothing stays behind. */
    struct ike_payload bad[] = {pl[0], {.type = IKE_PL_NONE}};
    uint8_t buf[1024];
    struct hk_cbb out;
    hk_cbb_init_buf(&out, buf, sizeof(buf), 0);
    assert_int_equal(ike_sk_seal(w->i.out, &h, bad, 2, &out), HK_E_INVALID);
    assert_int_equal(out.len, 0);
    assert_false(contains(buf, sizeof(buf), secret, sizeof(secret)));
    hk_cbb_free(&out);
    world_free(w);
}

static void seal_in_place_gcm(void **s)
{
    (void)s;
    seal_in_place(HK_ENCR_AES_GCM_16, 256, HK_AUTH_NONE);
}

static void seal_in_place_cbc(void **s)
{
    (void)s;
    seal_in_place(HK_ENCR_AES_CBC, 128, HK_AUTH_HMAC_SHA2_256_128);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(auth_aes_gcm_256),
        cmocka_unit_test(auth_aes_gcm_128),
        cmocka_unit_test(auth_chacha20_poly1305),
        cmocka_unit_test(auth_aes_cbc_sha256),
        cmocka_unit_test(auth_aes_cbc_sha512),
        cmocka_unit_test(tamper_gcm),
        cmocka_unit_test(tamper_cbc),
        cmocka_unit_test(bad_padding),
        cmocka_unit_test(fragments),
        cmocka_unit_test(seal_in_place_gcm),
        cmocka_unit_test(seal_in_place_cbc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
