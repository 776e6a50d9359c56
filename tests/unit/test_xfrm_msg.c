/*
 * NETLINK_XFRM requests (src/esp/xfrm_msg.c) checked field by field against the structs of
 * <linux/xfrm.h>; selectors from traffic selectors (xfrm_sel.c); the reply parser.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/udp.h>
#include <linux/xfrm.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/err.h"
#include "crypto/alg.h"
#include "esp/xfrm_msg.h"
#include "esp/xfrm_reply.h"
#include "esp/xfrm_sel.h"

/* Message buffers: netlink-aligned, with room past HK_XFRM_MSG_MAX for an overrun canary. */
#define BUFSZ (HK_XFRM_MSG_MAX + 64)
static _Alignas(8) uint8_t buf[BUFSZ];

static uint8_t ekey[64], ikey[64];

static void fill_keys(void)
{
    for (size_t i = 0; i < sizeof(ekey); i++) {
        ekey[i] = (uint8_t)(0xa0 + i);
        ikey[i] = (uint8_t)(0x10 + i);
    }
}

static void ip(int family, const char *s, uint8_t out[16])
{
    memset(out, 0, 16);
    assert_int_equal(inet_pton(family, s, out), 1);
}

/* The attribute of type in the message (exactly one), or NULL when absent. */
static const struct nlattr *attr(const struct nlmsghdr *nlh, size_t hdrlen, uint16_t type)
{
    const struct nlattr *a, *found = NULL;
    mnl_attr_for_each(a, nlh, hdrlen)
    {
        if (mnl_attr_get_type(a) == type) {
            assert_null(found);
            found = a;
        }
    }
    return found;
}

/* Every attribute lies inside the message, and the message length is what was reported. */
static const struct nlmsghdr *msg(size_t len, uint16_t type, uint16_t flags, uint32_t seq)
{
    const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
    assert_int_equal(nlh->nlmsg_len, len);
    assert_int_equal(nlh->nlmsg_type, type);
    assert_int_equal(nlh->nlmsg_flags, flags);
    assert_int_equal(nlh->nlmsg_seq, seq);
    assert_true(mnl_nlmsg_ok(nlh, (int)len));
    return nlh;
}

static struct hk_xfrm_sa sa_v4(void)
{
    struct hk_xfrm_sa sa = {.family = AF_INET,
                            .spi = 0xc0ffee01,
                            .reqid = 0x686b0007,
                            .tunnel = true,
                            .encr = HK_ENCR_AES_GCM_16,
                            .encr_key_bits = 128,
                            .integ = HK_AUTH_NONE,
                            .ekey = ekey,
                            .eklen = 20,
                            .replay_window = 32,
                            .soft_bytes = 1000000,
                            .hard_packets = 5000};
    fill_keys();
    ip(AF_INET, "192.0.2.1", sa.src);
    ip(AF_INET, "192.0.2.2", sa.dst);
    return sa;
}

static struct xfrm_usersa_info sa_info(const struct nlmsghdr *nlh)
{
    struct xfrm_usersa_info info;
    assert_true(nlh->nlmsg_len >= NLMSG_LENGTH(sizeof(info)));
    memcpy(&info, mnl_nlmsg_get_payload(nlh), sizeof(info));
    return info;
}

/* AES-GCM-16 over IPv4, tunnel mode, no ESN, a window in the legacy field, lifetimes. */
static void newsa_gcm_v4_tunnel(void **state)
{
    (void)state;
    struct hk_xfrm_sa sa = sa_v4();
    size_t len = 0;
    assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 77, &sa, &len), HK_OK);
    const struct nlmsghdr *nlh = msg(len, XFRM_MSG_NEWSA, NLM_F_REQUEST | NLM_F_ACK, 77);
    struct xfrm_usersa_info info = sa_info(nlh);
    uint8_t a[16];
    ip(AF_INET, "192.0.2.2", a);
    assert_memory_equal(&info.id.daddr, a, 4);
    ip(AF_INET, "192.0.2.1", a);
    assert_memory_equal(&info.saddr, a, 4);
    assert_int_equal(info.id.spi, htonl(0xc0ffee01));
    assert_int_equal(info.id.proto, IPPROTO_ESP);
    assert_int_equal(info.family, AF_INET);
    assert_int_equal(info.mode, XFRM_MODE_TUNNEL);
    assert_int_equal(info.reqid, 0x686b0007);
    assert_int_equal(info.replay_window, 32);
    assert_int_equal(info.flags, XFRM_STATE_AF_UNSPEC); /* no ESN */
    assert_int_equal(info.sel.family, 0);
    assert_true(info.lft.soft_byte_limit == 1000000);
    assert_true(info.lft.hard_byte_limit == XFRM_INF);
    assert_true(info.lft.soft_packet_limit == XFRM_INF);
    assert_true(info.lft.hard_packet_limit == 5000);
    assert_true(info.lft.soft_add_expires_seconds == 0 && info.lft.hard_add_expires_seconds == 0);

    const struct nlattr *ae = attr(nlh, sizeof(info), XFRMA_ALG_AEAD);
    assert_non_null(ae);
    struct xfrm_algo_aead alg;
    assert_int_equal(mnl_attr_get_payload_len(ae), sizeof(alg) + 20);
    memcpy(&alg, mnl_attr_get_payload(ae), sizeof(alg));
    assert_string_equal(alg.alg_name, "rfc4106(gcm(aes))");
    assert_int_equal(alg.alg_key_len, 160); /* 128-bit key + 32-bit salt */
    assert_int_equal(alg.alg_icv_len, 128);
    assert_memory_equal((const uint8_t *)mnl_attr_get_payload(ae) + sizeof(alg), ekey, 20);
    assert_null(attr(nlh, sizeof(info), XFRMA_ALG_CRYPT));
    assert_null(attr(nlh, sizeof(info), XFRMA_ALG_AUTH_TRUNC));
    assert_null(attr(nlh, sizeof(info), XFRMA_ENCAP));
    assert_null(attr(nlh, sizeof(info), XFRMA_REPLAY_ESN_VAL));
}

/* ChaCha20-Poly1305 over IPv6, transport mode, ESN with a 1024-packet window, ESP in UDP. */
static void newsa_chacha_v6_transport_esn_encap(void **state)
{
    (void)state;
    struct hk_xfrm_sa sa = sa_v4();
    sa.family = AF_INET6;
    ip(AF_INET6, "2001:db8::1", sa.src);
    ip(AF_INET6, "2001:db8::2", sa.dst);
    sa.tunnel = false;
    sa.encr = HK_ENCR_CHACHA20_POLY1305;
    sa.encr_key_bits = 0;
    sa.eklen = 36;
    sa.esn = true;
    sa.replay_window = 1024;
    sa.encap = true;
    sa.encap_sport = 4500;
    sa.encap_dport = 31000;
    size_t len = 0;
    assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 5, &sa, &len), HK_OK);
    const struct nlmsghdr *nlh = msg(len, XFRM_MSG_NEWSA, NLM_F_REQUEST | NLM_F_ACK, 5);
    struct xfrm_usersa_info info = sa_info(nlh);
    assert_memory_equal(&info.id.daddr, sa.dst, 16);
    assert_memory_equal(&info.saddr, sa.src, 16);
    assert_int_equal(info.family, AF_INET6);
    assert_int_equal(info.mode, XFRM_MODE_TRANSPORT);
    assert_int_equal(info.flags, XFRM_STATE_ESN); /* transport: no AF_UNSPEC */
    assert_int_equal(info.replay_window, 0);      /* the kernel refuses it beside ESN_VAL */

    struct xfrm_algo_aead alg;
    const struct nlattr *ae = attr(nlh, sizeof(info), XFRMA_ALG_AEAD);
    assert_non_null(ae);
    memcpy(&alg, mnl_attr_get_payload(ae), sizeof(alg));
    assert_string_equal(alg.alg_name, "rfc7539esp(chacha20,poly1305)");
    assert_int_equal(alg.alg_key_len, 288);
    assert_int_equal(alg.alg_icv_len, 128);
    assert_memory_equal((const uint8_t *)mnl_attr_get_payload(ae) + sizeof(alg), ekey, 36);

    const struct nlattr *re = attr(nlh, sizeof(info), XFRMA_REPLAY_ESN_VAL);
    assert_non_null(re);
    struct xfrm_replay_state_esn rs;
    assert_int_equal(mnl_attr_get_payload_len(re), sizeof(rs) + 32 * 4);
    memcpy(&rs, mnl_attr_get_payload(re), sizeof(rs));
    assert_int_equal(rs.bmp_len, 32);
    assert_int_equal(rs.replay_window, 1024);
    assert_int_equal(rs.seq, 0);
    assert_int_equal(rs.oseq, 0);
    assert_int_equal(rs.seq_hi, 0);
    assert_int_equal(rs.oseq_hi, 0);

    const struct nlattr *en = attr(nlh, sizeof(info), XFRMA_ENCAP);
    assert_non_null(en);
    struct xfrm_encap_tmpl et;
    assert_int_equal(mnl_attr_get_payload_len(en), sizeof(et));
    memcpy(&et, mnl_attr_get_payload(en), sizeof(et));
    assert_int_equal(et.encap_type, UDP_ENCAP_ESPINUDP);
    assert_int_equal(et.encap_sport, htons(4500));
    assert_int_equal(et.encap_dport, htons(31000));
}

/* AES-CBC with each HMAC-SHA2: XFRMA_ALG_CRYPT + XFRMA_ALG_AUTH_TRUNC (RFC 4868 lengths). */
static void newsa_cbc_hmac(void **state)
{
    (void)state;
    static const struct {
        uint16_t integ;
        const char *name;
        unsigned key, trunc;
    } t[] = {{HK_AUTH_HMAC_SHA2_256_128, "hmac(sha256)", 256, 128},
             {HK_AUTH_HMAC_SHA2_384_192, "hmac(sha384)", 384, 192},
             {HK_AUTH_HMAC_SHA2_512_256, "hmac(sha512)", 512, 256}};
    for (size_t i = 0; i < 3; i++) {
        struct hk_xfrm_sa sa = sa_v4();
        sa.encr = HK_ENCR_AES_CBC;
        sa.encr_key_bits = 256;
        sa.eklen = 32;
        sa.integ = t[i].integ;
        sa.ikey = ikey;
        sa.iklen = t[i].key / 8;
        size_t len = 0;
        assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 9, &sa, &len), HK_OK);
        const struct nlmsghdr *nlh = msg(len, XFRM_MSG_NEWSA, NLM_F_REQUEST | NLM_F_ACK, 9);
        size_t h = sizeof(struct xfrm_usersa_info);
        assert_null(attr(nlh, h, XFRMA_ALG_AEAD));
        assert_null(attr(nlh, h, XFRMA_ALG_AUTH)); /* untruncated: never */

        const struct nlattr *ce = attr(nlh, h, XFRMA_ALG_CRYPT);
        assert_non_null(ce);
        struct xfrm_algo enc;
        assert_int_equal(mnl_attr_get_payload_len(ce), sizeof(enc) + 32);
        memcpy(&enc, mnl_attr_get_payload(ce), sizeof(enc));
        assert_string_equal(enc.alg_name, "cbc(aes)");
        assert_int_equal(enc.alg_key_len, 256);
        assert_memory_equal((const uint8_t *)mnl_attr_get_payload(ce) + sizeof(enc), ekey, 32);

        const struct nlattr *ie = attr(nlh, h, XFRMA_ALG_AUTH_TRUNC);
        assert_non_null(ie);
        struct xfrm_algo_auth auth;
        assert_int_equal(mnl_attr_get_payload_len(ie), sizeof(auth) + t[i].key / 8);
        memcpy(&auth, mnl_attr_get_payload(ie), sizeof(auth));
        assert_string_equal(auth.alg_name, t[i].name);
        assert_int_equal(auth.alg_key_len, t[i].key);
        assert_int_equal(auth.alg_trunc_len, t[i].trunc);
        assert_memory_equal((const uint8_t *)mnl_attr_get_payload(ie) + sizeof(auth), ikey,
                            t[i].key / 8);
    }
    /* AES-128 and AES-192 keys too. */
    struct hk_xfrm_sa sa = sa_v4();
    sa.encr = HK_ENCR_AES_CBC, sa.encr_key_bits = 192, sa.eklen = 24;
    sa.integ = HK_AUTH_HMAC_SHA2_256_128, sa.ikey = ikey, sa.iklen = 32;
    size_t len;
    assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 1, &sa, &len), HK_OK);
    struct xfrm_algo enc;
    const struct nlattr *ce =
        attr((const struct nlmsghdr *)buf, sizeof(struct xfrm_usersa_info), XFRMA_ALG_CRYPT);
    memcpy(&enc, mnl_attr_get_payload(ce), sizeof(enc));
    assert_int_equal(enc.alg_key_len, 192);
}

/* Replay windows: beyond 32 packets without ESN they go in XFRMA_REPLAY_ESN_VAL (bitmap
 * mode, no ESN flag); 0 without ESN is the legacy field 0 (no replay check). */
static void newsa_windows(void **state)
{
    (void)state;
    struct hk_xfrm_sa sa = sa_v4();
    size_t len;
    sa.replay_window = 64;
    assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 1, &sa, &len), HK_OK);
    const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
    struct xfrm_usersa_info info = sa_info(nlh);
    assert_int_equal(info.flags & XFRM_STATE_ESN, 0);
    assert_int_equal(info.replay_window, 0);
    const struct nlattr *re = attr(nlh, sizeof(info), XFRMA_REPLAY_ESN_VAL);
    assert_non_null(re);
    struct xfrm_replay_state_esn rs;
    memcpy(&rs, mnl_attr_get_payload(re), sizeof(rs));
    assert_int_equal(rs.bmp_len, 2);
    assert_int_equal(rs.replay_window, 64);

    sa.replay_window = 4096; /* the kernel's widest: 128 words */
    sa.esn = true;
    assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 1, &sa, &len), HK_OK);
    re = attr(nlh, sizeof(info), XFRMA_REPLAY_ESN_VAL);
    memcpy(&rs, mnl_attr_get_payload(re), sizeof(rs));
    assert_int_equal(rs.bmp_len, 128);
    assert_int_equal(mnl_attr_get_payload_len(re), sizeof(rs) + 512);

    sa.esn = false;
    sa.replay_window = 0;
    assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 1, &sa, &len), HK_OK);
    info = sa_info(nlh);
    assert_int_equal(info.replay_window, 0);
    assert_null(attr(nlh, sizeof(info), XFRMA_REPLAY_ESN_VAL));
}

/* Arguments the kernel would refuse, or that would build a wrong SA, are refused here. */
static void newsa_invalid(void **state)
{
    (void)state;
    size_t len;
    struct hk_xfrm_sa sa = sa_v4();
    sa.integ = HK_AUTH_HMAC_SHA2_256_128, sa.ikey = ikey, sa.iklen = 32; /* AEAD + integ */
    assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 1, &sa, &len), HK_E_INVALID);
    sa = sa_v4();
    sa.eklen = 16; /* GCM key without its salt */
    assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 1, &sa, &len), HK_E_INVALID);
    sa = sa_v4();
    sa.encr = HK_ENCR_AES_CBC, sa.eklen = 16; /* CBC without integrity */
    assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 1, &sa, &len), HK_E_INVALID);
    sa.integ = HK_AUTH_HMAC_SHA2_384_192, sa.ikey = ikey, sa.iklen = 32; /* short HMAC key */
    assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 1, &sa, &len), HK_E_INVALID);
    sa = sa_v4();
    sa.encr = 3; /* 3DES: no */
    assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 1, &sa, &len), HK_E_UNSUPPORTED);
    sa = sa_v4();
    sa.replay_window = HK_XFRM_MAX_WINDOW + 1;
    assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 1, &sa, &len), HK_E_INVALID);
    sa = sa_v4();
    sa.esn = true, sa.replay_window = 0;
    assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 1, &sa, &len), HK_E_INVALID);
    sa = sa_v4();
    sa.family = AF_UNIX;
    assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 1, &sa, &len), HK_E_INVALID);
    sa = sa_v4();
    assert_int_equal(hk_xfrm_newsa(buf + 1, BUFSZ - 1, 1, &sa, &len), HK_E_INVALID); /* align */
}

/* Every buffer shorter than the message gives HK_E_OVERFLOW, writes nothing past its end,
 * and leaves no key octet behind. */
static void small_buffers(void **state)
{
    (void)state;
    struct hk_xfrm_sa sa = sa_v4();
    sa.encr = HK_ENCR_AES_CBC, sa.encr_key_bits = 256, sa.eklen = 32;
    sa.integ = HK_AUTH_HMAC_SHA2_512_256, sa.ikey = ikey, sa.iklen = 64;
    sa.esn = true, sa.replay_window = 128, sa.encap = true;
    size_t full = 0, len;
    assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 1, &sa, &full), HK_OK);
    for (size_t cap = 0; cap < full; cap++) {
        memset(buf, 0x5a, BUFSZ);
        assert_int_equal(hk_xfrm_newsa(buf, cap, 1, &sa, &len), HK_E_OVERFLOW);
        for (size_t i = cap; i < BUFSZ; i++)
            assert_int_equal(buf[i], 0x5a);
        for (size_t i = 0; i + 8 <= cap; i++) {
            assert_memory_not_equal(buf + i, ekey, 8);
            assert_memory_not_equal(buf + i, ikey, 8);
        }
    }
    struct hk_xfrm_sa_id id = {.family = AF_INET6, .spi = 1};
    assert_int_equal(hk_xfrm_delsa(buf, BUFSZ, 1, &id, &full), HK_OK);
    for (size_t cap = 0; cap < full; cap++) {
        memset(buf, 0x5a, BUFSZ);
        assert_int_equal(hk_xfrm_delsa(buf, cap, 1, &id, &len), HK_E_OVERFLOW);
        for (size_t i = cap; i < BUFSZ; i++)
            assert_int_equal(buf[i], 0x5a);
    }
    struct hk_xfrm_policy p = {.dir = XFRM_POLICY_OUT, .family = AF_INET};
    p.sel.family = AF_INET;
    assert_int_equal(hk_xfrm_newpolicy(buf, BUFSZ, 1, &p, &full), HK_OK);
    for (size_t cap = 0; cap < full; cap++) {
        memset(buf, 0x5a, BUFSZ);
        assert_int_equal(hk_xfrm_newpolicy(buf, cap, 1, &p, &len), HK_E_OVERFLOW);
        for (size_t i = cap; i < BUFSZ; i++)
            assert_int_equal(buf[i], 0x5a);
    }
    assert_int_equal(hk_xfrm_delpolicy(buf, BUFSZ, 1, &p, &full), HK_OK);
    assert_int_equal(hk_xfrm_delpolicy(buf, full - 1, 1, &p, &len), HK_E_OVERFLOW);
    assert_int_equal(hk_xfrm_newsa(NULL, 100, 1, &sa, &len), HK_E_INVALID);
}

static void delsa_getsa(void **state)
{
    (void)state;
    struct hk_xfrm_sa_id id = {.family = AF_INET6, .spi = 0x12345678};
    ip(AF_INET6, "2001:db8::1", id.src);
    ip(AF_INET6, "2001:db8::2", id.dst);
    for (int get = 0; get < 2; get++) {
        size_t len = 0;
        int rc = get ? hk_xfrm_getsa(buf, BUFSZ, 42, &id, &len)
                     : hk_xfrm_delsa(buf, BUFSZ, 42, &id, &len);
        assert_int_equal(rc, HK_OK);
        const struct nlmsghdr *nlh = msg(len, get ? XFRM_MSG_GETSA : XFRM_MSG_DELSA,
                                         get ? NLM_F_REQUEST : NLM_F_REQUEST | NLM_F_ACK, 42);
        struct xfrm_usersa_id uid;
        memcpy(&uid, mnl_nlmsg_get_payload(nlh), sizeof(uid));
        assert_memory_equal(&uid.daddr, id.dst, 16);
        assert_int_equal(uid.spi, htonl(0x12345678));
        assert_int_equal(uid.family, AF_INET6);
        assert_int_equal(uid.proto, IPPROTO_ESP);
        const struct nlattr *sa = attr(nlh, sizeof(uid), XFRMA_SRCADDR);
        assert_non_null(sa);
        assert_int_equal(mnl_attr_get_payload_len(sa), sizeof(xfrm_address_t));
        assert_memory_equal(mnl_attr_get_payload(sa), id.src, 16);
    }
}

static struct ike_ts ts4(const char *a, const char *b, uint8_t proto, uint16_t p0, uint16_t p1)
{
    struct ike_ts t = {
        .type = IKE_TS_IPV4_ADDR_RANGE, .ip_proto = proto, .start_port = p0, .end_port = p1};
    ip(AF_INET, a, t.start_addr);
    ip(AF_INET, b, t.end_addr);
    return t;
}

static struct ike_ts ts6(const char *a, const char *b)
{
    struct ike_ts t = {.type = IKE_TS_IPV6_ADDR_RANGE, .end_port = 65535};
    ip(AF_INET6, a, t.start_addr);
    ip(AF_INET6, b, t.end_addr);
    return t;
}

/* Policies: out selects local -> remote; in and fwd the reverse; the template names the
 * tunnel endpoints, reqid and mode. */
static void policies(void **state)
{
    (void)state;
    struct ike_ts l = ts4("10.1.0.0", "10.1.255.255", IPPROTO_TCP, 0, 65535);
    struct ike_ts r = ts4("10.2.0.5", "10.2.0.5", IPPROTO_TCP, 443, 443);
    struct hk_xfrm_sel sel[4];
    size_t n;
    assert_int_equal(hk_xfrm_sels(&l, 1, &r, 1, sel, 4, &n), HK_OK);
    assert_int_equal(n, 1);
    static const uint8_t dirs[] = {XFRM_POLICY_OUT, XFRM_POLICY_IN, XFRM_POLICY_FWD};
    for (size_t d = 0; d < 3; d++) {
        struct hk_xfrm_policy p = {.dir = dirs[d], .family = AF_INET, .reqid = 99, .tunnel = true};
        bool out = dirs[d] == XFRM_POLICY_OUT;
        p.sel = out ? sel[0] : hk_xfrm_sel_reverse(&sel[0]);
        p.priority = hk_xfrm_sel_priority(&p.sel);
        ip(AF_INET, out ? "192.0.2.1" : "192.0.2.2", p.tsrc);
        ip(AF_INET, out ? "192.0.2.2" : "192.0.2.1", p.tdst);
        size_t len = 0;
        assert_int_equal(hk_xfrm_newpolicy(buf, BUFSZ, 3, &p, &len), HK_OK);
        const struct nlmsghdr *nlh = msg(len, XFRM_MSG_NEWPOLICY, NLM_F_REQUEST | NLM_F_ACK, 3);
        struct xfrm_userpolicy_info pi;
        memcpy(&pi, mnl_nlmsg_get_payload(nlh), sizeof(pi));
        uint8_t a[16];
        ip(AF_INET, out ? "10.1.0.0" : "10.2.0.5", a);
        assert_memory_equal(&pi.sel.saddr, a, 4);
        ip(AF_INET, out ? "10.2.0.5" : "10.1.0.0", a);
        assert_memory_equal(&pi.sel.daddr, a, 4);
        assert_int_equal(pi.sel.prefixlen_s, out ? 16 : 32);
        assert_int_equal(pi.sel.prefixlen_d, out ? 32 : 16);
        assert_int_equal(pi.sel.family, AF_INET);
        assert_int_equal(pi.sel.proto, IPPROTO_TCP);
        assert_int_equal(pi.sel.sport, out ? 0 : htons(443));
        assert_int_equal(pi.sel.sport_mask, out ? 0 : 0xffff);
        assert_int_equal(pi.sel.dport, out ? htons(443) : 0);
        assert_int_equal(pi.sel.dport_mask, out ? 0xffff : 0);
        assert_int_equal(pi.dir, dirs[d]);
        assert_int_equal(pi.action, XFRM_POLICY_ALLOW);
        assert_int_equal(pi.priority, HK_XFRM_PRIO_BASE - (48 * 64 + 32 + 16));
        assert_true(pi.lft.hard_byte_limit == XFRM_INF && pi.lft.soft_packet_limit == XFRM_INF);
        const struct nlattr *ta = attr(nlh, sizeof(pi), XFRMA_TMPL);
        assert_non_null(ta);
        struct xfrm_user_tmpl t;
        assert_int_equal(mnl_attr_get_payload_len(ta), sizeof(t));
        memcpy(&t, mnl_attr_get_payload(ta), sizeof(t));
        assert_memory_equal(&t.id.daddr, p.tdst, 4);
        assert_memory_equal(&t.saddr, p.tsrc, 4);
        assert_int_equal(t.id.proto, IPPROTO_ESP);
        assert_int_equal(t.id.spi, 0);
        assert_int_equal(t.family, AF_INET);
        assert_int_equal(t.reqid, 99);
        assert_int_equal(t.mode, XFRM_MODE_TUNNEL);
        assert_int_equal(t.optional, 0);
        assert_int_equal(t.aalgos, ~0u);
        assert_int_equal(t.ealgos, ~0u);

        assert_int_equal(hk_xfrm_delpolicy(buf, BUFSZ, 4, &p, &len), HK_OK);
        nlh = msg(len, XFRM_MSG_DELPOLICY, NLM_F_REQUEST | NLM_F_ACK, 4);
        struct xfrm_userpolicy_id pid;
        assert_int_equal(len, NLMSG_LENGTH(sizeof(pid)));
        memcpy(&pid, mnl_nlmsg_get_payload(nlh), sizeof(pid));
        assert_memory_equal(&pid.sel, &pi.sel, sizeof(pid.sel));
        assert_int_equal(pid.dir, dirs[d]);
    }
    /* Transport mode over IPv6. */
    struct ike_ts l6 = ts6("2001:db8::1", "2001:db8::1"), r6 = ts6("2001:db8::2", "2001:db8::2");
    assert_int_equal(hk_xfrm_sels(&l6, 1, &r6, 1, sel, 4, &n), HK_OK);
    assert_int_equal(n, 1);
    struct hk_xfrm_policy p = {.dir = XFRM_POLICY_OUT, .family = AF_INET6, .reqid = 7};
    p.sel = sel[0];
    size_t len;
    assert_int_equal(hk_xfrm_newpolicy(buf, BUFSZ, 1, &p, &len), HK_OK);
    struct xfrm_userpolicy_info pi;
    memcpy(&pi, mnl_nlmsg_get_payload((const struct nlmsghdr *)buf), sizeof(pi));
    assert_int_equal(pi.sel.family, AF_INET6);
    assert_int_equal(pi.sel.prefixlen_s, 128);
    assert_memory_equal(&pi.sel.saddr, l6.start_addr, 16);
    assert_memory_equal(&pi.sel.daddr, r6.start_addr, 16);
    assert_int_equal(pi.sel.proto, 0);
    struct xfrm_user_tmpl t;
    memcpy(&t, mnl_attr_get_payload(attr((const struct nlmsghdr *)buf, sizeof(pi), XFRMA_TMPL)),
           sizeof(t));
    assert_int_equal(t.mode, XFRM_MODE_TRANSPORT);
    assert_int_equal(t.family, AF_INET6);
    p.dir = 7;
    assert_int_equal(hk_xfrm_newpolicy(buf, BUFSZ, 1, &p, &len), HK_E_INVALID);
}

/* A range that is no prefix becomes several selectors, hence several policies. */
static void range_split(void **state)
{
    (void)state;
    struct ike_ts l = ts4("10.1.0.1", "10.1.0.6", 0, 0, 65535);
    struct ike_ts r[2] = {ts4("10.2.0.0", "10.2.255.255", 0, 0, 65535),
                          ts6("fd00::", "fd00::ffff")};
    struct hk_xfrm_sel sel[8];
    size_t n;
    assert_int_equal(hk_xfrm_sels(&l, 1, r, 2, sel, 8, &n), HK_OK);
    assert_int_equal(n, 4); /* .1/32 .2/31 .4/31 .6/32; the IPv6 remote pairs with nothing */
    static const char *const want[] = {"10.1.0.1", "10.1.0.2", "10.1.0.4", "10.1.0.6"};
    static const uint8_t lens[] = {32, 31, 31, 32};
    for (size_t i = 0; i < n; i++) {
        struct hk_xfrm_policy p = {.dir = XFRM_POLICY_OUT, .family = AF_INET, .sel = sel[i]};
        size_t len;
        assert_int_equal(hk_xfrm_newpolicy(buf, BUFSZ, (uint32_t)i, &p, &len), HK_OK);
        struct xfrm_userpolicy_info pi;
        memcpy(&pi, mnl_nlmsg_get_payload((const struct nlmsghdr *)buf), sizeof(pi));
        uint8_t a[16];
        ip(AF_INET, want[i], a);
        assert_memory_equal(&pi.sel.saddr, a, 4);
        assert_int_equal(pi.sel.prefixlen_s, lens[i]);
        assert_int_equal(pi.sel.prefixlen_d, 16);
        ip(AF_INET, "10.2.0.0", a);
        assert_memory_equal(&pi.sel.daddr, a, 4);
    }
    /* Too many for the room: the count, and an error. */
    assert_int_equal(hk_xfrm_sels(&l, 1, r, 2, sel, 3, &n), HK_E_OVERFLOW);
    assert_int_equal(n, 4);
    /* Both sides split: 4 x 2. */
    struct ike_ts r2 = ts4("10.2.0.0", "10.2.0.2", 0, 0, 65535);
    assert_int_equal(hk_xfrm_sels(&l, 1, &r2, 1, sel, 8, &n), HK_OK);
    assert_int_equal(n, 8);
}

static void ports_and_protocols(void **state)
{
    (void)state;
    uint16_t port[30], mask[30];
    assert_int_equal(hk_xfrm_port_blocks(1000, 1003, port, mask, 30), 1);
    assert_int_equal(port[0], 1000);
    assert_int_equal(mask[0], 0xfffc);
    assert_int_equal(hk_xfrm_port_blocks(1000, 1004, port, mask, 30), 2);
    assert_int_equal(port[1], 1004);
    assert_int_equal(mask[1], 0xffff);
    assert_int_equal(hk_xfrm_port_blocks(1, 65534, port, mask, 30), 30);
    assert_int_equal(hk_xfrm_port_blocks(5, 4, port, mask, 30), 0);

    struct hk_xfrm_sel sel[8];
    size_t n;
    struct ike_ts l = ts4("10.1.0.1", "10.1.0.1", IPPROTO_UDP, 1000, 1004);
    struct ike_ts r = ts4("10.2.0.1", "10.2.0.1", 0, 0, 65535);
    assert_int_equal(hk_xfrm_sels(&l, 1, &r, 1, sel, 8, &n), HK_OK);
    assert_int_equal(n, 2);
    assert_int_equal(sel[0].proto, IPPROTO_UDP);
    assert_int_equal(sel[1].sport, 1004);
    assert_int_equal(sel[1].dport_mask, 0);
    /* Protocols that differ match nothing. */
    struct ike_ts r_tcp = ts4("10.2.0.1", "10.2.0.1", IPPROTO_TCP, 0, 65535);
    assert_int_equal(hk_xfrm_sels(&l, 1, &r_tcp, 1, sel, 8, &n), HK_OK);
    assert_int_equal(n, 0);
    /* What a kernel selector cannot say. */
    struct ike_ts icmp = ts4("10.1.0.1", "10.1.0.1", IPPROTO_ICMP, 0x0800, 0x0800);
    assert_int_equal(hk_xfrm_sels(&icmp, 1, &r, 1, sel, 8, &n), HK_E_UNSUPPORTED);
    struct ike_ts opaque = ts4("10.1.0.1", "10.1.0.1", IPPROTO_TCP, 65535, 0);
    assert_int_equal(hk_xfrm_sels(&opaque, 1, &r, 1, sel, 8, &n), HK_E_UNSUPPORTED);
    icmp.start_port = 0, icmp.end_port = 65535; /* any type: fine */
    assert_int_equal(hk_xfrm_sels(&icmp, 1, &r, 1, sel, 8, &n), HK_OK);
    /* More specific selectors win (lower priority values). */
    struct hk_xfrm_sel wide = {.family = AF_INET, .src_len = 16, .dst_len = 16};
    struct hk_xfrm_sel host = {.family = AF_INET, .src_len = 32, .dst_len = 16};
    struct hk_xfrm_sel tcp = wide;
    tcp.proto = IPPROTO_TCP;
    assert_true(hk_xfrm_sel_priority(&host) < hk_xfrm_sel_priority(&tcp));
    assert_true(hk_xfrm_sel_priority(&tcp) < hk_xfrm_sel_priority(&wide));
}

/* An SA continuing a moved one: counters and window in XFRMA_REPLAY_ESN_VAL, translated into
 * the kernel's ring (sequence number s at bit (s - 1) mod W), the use in XFRMA_LTIME_VAL. */
static void newsa_with_state(void **state)
{
    (void)state;
    struct hk_xfrm_sa sa = sa_v4();
    uint64_t bits[2] = {0x23, 0}; /* j = 0, 1, 5: top, top - 1, top - 5 were received */
    struct hk_xfrm_sa_state st = {.oseq = 0x100000005ull,
                                  .top = 0x100000010ull,
                                  .bits = bits,
                                  .nbits = 128,
                                  .bytes = 9000,
                                  .packets = 7};
    sa.esn = true;
    sa.replay_window = 64;
    sa.state = &st;
    size_t len = 0;
    assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 5, &sa, &len), HK_OK);
    const struct nlmsghdr *nlh = msg(len, XFRM_MSG_NEWSA, NLM_F_REQUEST | NLM_F_ACK, 5);
    struct xfrm_usersa_info info = sa_info(nlh);
    assert_int_equal(info.replay_window, 0);
    const struct nlattr *re = attr(nlh, sizeof(info), XFRMA_REPLAY_ESN_VAL);
    assert_non_null(re);
    assert_int_equal(mnl_attr_get_payload_len(re), sizeof(struct xfrm_replay_state_esn) + 8);
    struct xfrm_replay_state_esn rs;
    uint32_t bmp[2];
    memcpy(&rs, mnl_attr_get_payload(re), sizeof(rs));
    memcpy(bmp, (const uint8_t *)mnl_attr_get_payload(re) + sizeof(rs), sizeof(bmp));
    assert_int_equal(rs.oseq, 5);
    assert_int_equal(rs.oseq_hi, 1);
    assert_int_equal(rs.seq, 0x10);
    assert_int_equal(rs.seq_hi, 1);
    assert_int_equal(rs.replay_window, 64);
    assert_int_equal(rs.bmp_len, 2);
    /* top 0x10 at bit 15, 0x0f at 14, 0x0b at 10 */
    assert_int_equal(bmp[0], (1u << 15) | (1u << 14) | (1u << 10));
    assert_int_equal(bmp[1], 0);
    const struct nlattr *lt = attr(nlh, sizeof(info), XFRMA_LTIME_VAL);
    assert_non_null(lt);
    struct xfrm_lifetime_cur cur;
    memcpy(&cur, mnl_attr_get_payload(lt), sizeof(cur));
    assert_int_equal(cur.bytes, 9000);
    assert_int_equal(cur.packets, 7);

    /* The ring wraps below the top: top 3 sits at bit 2, 2 at 1, 1 at 0; nothing for 0. */
    bits[0] = ~0ull;
    bits[1] = ~0ull;
    st = (struct hk_xfrm_sa_state){.top = 3, .bits = bits, .nbits = 128};
    sa.esn = false;
    assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 5, &sa, &len), HK_OK);
    info = sa_info(nlh);
    re = attr(nlh, sizeof(info), XFRMA_REPLAY_ESN_VAL);
    memcpy(&rs, mnl_attr_get_payload(re), sizeof(rs));
    memcpy(bmp, (const uint8_t *)mnl_attr_get_payload(re) + sizeof(rs), sizeof(bmp));
    assert_int_equal(info.flags & XFRM_STATE_ESN, 0);
    assert_int_equal(bmp[0], 7);
    assert_int_equal(bmp[1], 0);
    assert_null(attr(nlh, sizeof(info), XFRMA_LTIME_VAL));
    /* A window that ends past the top of the ring: top 100, W 64, every packet received. */
    st.top = 100;
    assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 5, &sa, &len), HK_OK);
    memcpy(bmp,
           (const uint8_t *)mnl_attr_get_payload(attr(nlh, sizeof(info), XFRMA_REPLAY_ESN_VAL)) +
               sizeof(rs),
           sizeof(bmp));
    assert_int_equal(bmp[0], UINT32_MAX);
    assert_int_equal(bmp[1], UINT32_MAX);
    /* Without ESN a counter past 2^32 - 1 cannot be given to the kernel. */
    st.oseq = 0x100000000ull;
    assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 5, &sa, &len), HK_E_INVALID);
}

/* The window the kernel reports with an SA (GETSA answers with the NEWSA form) comes back in
 * the exported form: our own NEWSA with a state, read as a reply, gives the state back. */
static void state_read_back(void **state)
{
    (void)state;
    static const struct {
        bool esn;
        uint32_t window;
        uint64_t top, oseq;
    } cases[] = {{true, 64, 0x100000010ull, 0x100000005ull},
                 {false, 128, 3, 9},
                 {false, 4096, 100000, 7},
                 {true, 96, 0x200000000ull, 1}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hk_xfrm_sa sa = sa_v4();
        uint64_t bits[HK_XFRM_REPLY_WORDS] = {0};
        uint64_t seed = 0x9e3779b97f4a7c15ull * (i + 1);
        for (size_t w = 0; w < cases[i].window / 64 + 1 && w < HK_XFRM_REPLY_WORDS; w++)
            bits[w] = seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        bits[0] |= 1; /* the top itself */
        struct hk_xfrm_sa_state st = {.oseq = cases[i].oseq,
                                      .top = cases[i].top,
                                      .bits = bits,
                                      .nbits = cases[i].window,
                                      .bytes = 5,
                                      .packets = 1};
        sa.esn = cases[i].esn;
        sa.replay_window = cases[i].window;
        sa.state = &st;
        size_t len = 0;
        assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 40 + (uint32_t)i, &sa, &len), HK_OK);
        struct hk_xfrm_reply r;
        assert_int_equal(hk_xfrm_parse_reply(buf, len, 40 + (uint32_t)i, &r), HK_OK);
        assert_true(r.sa && r.replay_state);
        assert_int_equal(r.esn, cases[i].esn);
        assert_int_equal(r.oseq, cases[i].oseq);
        assert_int_equal(r.top, cases[i].top);
        assert_int_equal(r.window, cases[i].window);
        /* Only the bits inside the window and above sequence number 0 exist. */
        for (uint32_t j = 0; j < 4096; j++) {
            bool want = j < cases[i].window && j < cases[i].top && (bits[j / 64] >> (j % 64) & 1);
            assert_int_equal(!!(r.bits[j / 64] >> (j % 64) & 1), want);
        }
    }
    /* A bitmap longer than its attribute is refused, not read past. */
    struct hk_xfrm_sa sa = sa_v4();
    uint64_t bits[2] = {1, 0};
    struct hk_xfrm_sa_state st = {.top = 1, .bits = bits, .nbits = 64};
    sa.replay_window = 64;
    sa.state = &st;
    size_t len = 0;
    assert_int_equal(hk_xfrm_newsa(buf, BUFSZ, 9, &sa, &len), HK_OK);
    struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
    struct nlattr *re =
        (struct nlattr *)attr(nlh, sizeof(struct xfrm_usersa_info), XFRMA_REPLAY_ESN_VAL);
    struct xfrm_replay_state_esn rs;
    memcpy(&rs, mnl_attr_get_payload(re), sizeof(rs));
    rs.bmp_len = 100;
    memcpy(mnl_attr_get_payload(re), &rs, sizeof(rs));
    struct hk_xfrm_reply r;
    assert_int_equal(hk_xfrm_parse_reply(buf, len, 9, &r), HK_E_SYNTAX);
}

/* UPDSA: the same SA, new encapsulation ports. MIGRATE: a policy's template and SAs move to
 * new outer addresses (here IPv4 to IPv6, into UDP). */
static void updsa_and_migrate(void **state)
{
    (void)state;
    struct hk_xfrm_sa sa = sa_v4();
    sa.encap = true;
    sa.encap_sport = 4500;
    sa.encap_dport = 31000;
    size_t len = 0;
    assert_int_equal(hk_xfrm_updsa(buf, BUFSZ, 8, &sa, &len), HK_OK);
    const struct nlmsghdr *nlh = msg(len, XFRM_MSG_UPDSA, NLM_F_REQUEST | NLM_F_ACK, 8);
    struct xfrm_usersa_info info = sa_info(nlh);
    assert_int_equal(ntohl(info.id.spi), 0xc0ffee01);
    const struct nlattr *e = attr(nlh, sizeof(info), XFRMA_ENCAP);
    assert_non_null(e);
    struct xfrm_encap_tmpl enc;
    memcpy(&enc, mnl_attr_get_payload(e), sizeof(enc));
    assert_int_equal(ntohs(enc.encap_dport), 31000);

    struct ike_ts l = ts4("10.1.0.0", "10.1.255.255", 0, 0, 65535);
    struct ike_ts r = ts4("10.2.0.0", "10.2.255.255", 0, 0, 65535);
    struct hk_xfrm_sel sel[4];
    size_t n;
    assert_int_equal(hk_xfrm_sels(&l, 1, &r, 1, sel, 4, &n), HK_OK);
    struct hk_xfrm_policy p = {
        .sel = sel[0], .dir = XFRM_POLICY_OUT, .family = AF_INET, .reqid = 42, .tunnel = true};
    ip(AF_INET, "192.0.2.1", p.tsrc);
    ip(AF_INET, "192.0.2.2", p.tdst);
    struct hk_xfrm_move to = {
        .family = AF_INET6, .encap = true, .encap_sport = 4500, .encap_dport = 4500};
    ip(AF_INET6, "2001:db8::1", to.src);
    ip(AF_INET6, "2001:db8::2", to.dst);
    assert_int_equal(hk_xfrm_migrate(buf, BUFSZ, 9, &p, &to, &len), HK_OK);
    nlh = msg(len, XFRM_MSG_MIGRATE, NLM_F_REQUEST | NLM_F_ACK, 9);
    struct xfrm_userpolicy_id pid;
    memcpy(&pid, mnl_nlmsg_get_payload(nlh), sizeof(pid));
    assert_int_equal(pid.dir, XFRM_POLICY_OUT);
    assert_int_equal(pid.sel.family, AF_INET);
    assert_int_equal(pid.sel.prefixlen_s, 16);
    const struct nlattr *m = attr(nlh, sizeof(pid), XFRMA_MIGRATE);
    assert_non_null(m);
    struct xfrm_user_migrate um;
    memcpy(&um, mnl_attr_get_payload(m), sizeof(um));
    uint8_t a[16];
    ip(AF_INET, "192.0.2.2", a);
    assert_memory_equal(&um.old_daddr, a, 4);
    ip(AF_INET6, "2001:db8::1", a);
    assert_memory_equal(&um.new_saddr, a, 16);
    assert_int_equal(um.old_family, AF_INET);
    assert_int_equal(um.new_family, AF_INET6);
    assert_int_equal(um.proto, IPPROTO_ESP);
    assert_int_equal(um.mode, XFRM_MODE_TUNNEL);
    assert_int_equal(um.reqid, 42);
    assert_non_null(attr(nlh, sizeof(pid), XFRMA_ENCAP));
    /* Bad arguments and a buffer too small never write past it. */
    to.family = 99;
    assert_int_equal(hk_xfrm_migrate(buf, BUFSZ, 9, &p, &to, &len), HK_E_INVALID);
    to.family = AF_INET6;
    p.dir = 7;
    assert_int_equal(hk_xfrm_migrate(buf, BUFSZ, 9, &p, &to, &len), HK_E_INVALID);
    p.dir = XFRM_POLICY_OUT;
    for (size_t cap = 0; cap < len; cap += 8)
        assert_int_equal(hk_xfrm_migrate(buf, cap, 9, &p, &to, &len), HK_E_OVERFLOW);
}

static void bypass(void **state)
{
    (void)state;
    struct xfrm_userpolicy_info p;
    memset(&p, 0x77, sizeof(p));
    hk_xfrm_bypass(XFRM_POLICY_OUT, &p);
    assert_int_equal(p.dir, XFRM_POLICY_OUT);
    assert_int_equal(p.action, XFRM_POLICY_ALLOW);
    assert_int_equal(p.sel.family, 0);
    assert_true(p.lft.hard_byte_limit == XFRM_INF);
}

/* ---- replies ---- */

/* Appends a netlink message to b at *off (aligned) and returns its header. */
static struct nlmsghdr *put_msg(uint8_t *b, size_t *off, uint16_t type, uint16_t flags,
                                uint32_t seq, const void *p, size_t plen)
{
    struct nlmsghdr *h = (struct nlmsghdr *)(b + *off);
    h->nlmsg_len = (uint32_t)NLMSG_LENGTH(plen);
    h->nlmsg_type = type;
    h->nlmsg_flags = flags;
    h->nlmsg_seq = seq;
    h->nlmsg_pid = 0;
    memcpy(b + *off + NLMSG_HDRLEN, p, plen);
    *off += NLMSG_ALIGN(h->nlmsg_len);
    return h;
}

static void replies(void **state)
{
    (void)state;
    static _Alignas(8) uint8_t b[1024];
    struct hk_xfrm_reply r;
    size_t off = 0;
    struct nlmsgerr e = {.error = 0};

    /* A plain ACK after a message for another request. */
    put_msg(b, &off, NLMSG_ERROR, 0, 6, &e, sizeof(e));
    e.error = -EEXIST;
    put_msg(b, &off, NLMSG_ERROR, 0, 7, &e, sizeof(e));
    assert_int_equal(hk_xfrm_parse_reply(b, off, 7, &r), HK_OK);
    assert_int_equal(r.error, EEXIST);
    assert_false(r.sa);
    assert_int_equal(hk_xfrm_parse_reply(b, off, 6, &r), HK_OK);
    assert_int_equal(r.error, 0);
    assert_int_equal(hk_xfrm_parse_reply(b, off, 8, &r), HK_E_AGAIN);

    /* An error with the kernel's text (capped: no request echoed). */
    uint8_t p[64] = {0};
    e.error = -EPROTONOSUPPORT;
    memcpy(p, &e, sizeof(e));
    struct nlattr a = {.nla_len = 4 + 24, .nla_type = NLMSGERR_ATTR_MSG};
    memcpy(p + sizeof(e), &a, 4);
    memcpy(p + sizeof(e) + 4, "Requested type not found", 24); /* no NUL: bounded anyway */
    off = 0;
    put_msg(b, &off, NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 1, p, sizeof(e) + 28);
    assert_int_equal(hk_xfrm_parse_reply(b, off, 1, &r), HK_OK);
    assert_int_equal(r.error, EPROTONOSUPPORT);
    assert_string_equal(r.msg, "Requested type not found");

    /* Not capped: the request (here 8 octets of payload) sits between error and TLVs. */
    memset(p, 0, sizeof(p));
    e.msg.nlmsg_len = NLMSG_LENGTH(8);
    memcpy(p, &e, sizeof(e));
    a.nla_len = 4 + 5;
    memcpy(p + sizeof(e) + 8, &a, 4);
    memcpy(p + sizeof(e) + 12, "oops", 5);
    off = 0;
    put_msg(b, &off, NLMSG_ERROR, NLM_F_ACK_TLVS, 2, p, sizeof(e) + 8 + 12);
    assert_int_equal(hk_xfrm_parse_reply(b, off, 2, &r), HK_OK);
    assert_string_equal(r.msg, "oops");
    /* An echoed request longer than the message: refused. */
    e.msg.nlmsg_len = NLMSG_LENGTH(200);
    memcpy(p, &e, sizeof(e));
    off = 0;
    put_msg(b, &off, NLMSG_ERROR, NLM_F_ACK_TLVS, 2, p, sizeof(e) + 8 + 12);
    assert_int_equal(hk_xfrm_parse_reply(b, off, 2, &r), HK_E_LENGTH);

    /* GETSA's answer: the SA with its counters. */
    struct xfrm_usersa_info info;
    memset(&info, 0, sizeof(info));
    info.id.spi = htonl(0xabcd0001);
    info.id.proto = IPPROTO_ESP;
    info.curlft.bytes = 123456789012ull;
    info.curlft.packets = 4242;
    info.stats.replay = 3;
    info.stats.integrity_failed = 2;
    off = 0;
    put_msg(b, &off, XFRM_MSG_NEWSA, 0, 9, &info, sizeof(info));
    assert_int_equal(hk_xfrm_parse_reply(b, off, 9, &r), HK_OK);
    assert_true(r.sa);
    assert_int_equal(r.error, 0);
    assert_int_equal(r.spi, 0xabcd0001);
    assert_true(r.bytes == 123456789012ull);
    assert_int_equal(r.packets, 4242);
    assert_int_equal(r.replay, 3);
    assert_int_equal(r.integrity_failed, 2);

    /* Malformed: truncated datagram, short payloads, impossible error codes. */
    assert_int_equal(hk_xfrm_parse_reply(b, off - 1, 9, &r), HK_E_LENGTH);
    off = 0;
    put_msg(b, &off, XFRM_MSG_NEWSA, 0, 9, &info, sizeof(info) - 8);
    assert_int_equal(hk_xfrm_parse_reply(b, off, 9, &r), HK_E_LENGTH);
    off = 0;
    put_msg(b, &off, NLMSG_ERROR, 0, 9, &e, 3);
    assert_int_equal(hk_xfrm_parse_reply(b, off, 9, &r), HK_E_LENGTH);
    e.error = 5;
    off = 0;
    put_msg(b, &off, NLMSG_ERROR, 0, 9, &e, sizeof(e));
    assert_int_equal(hk_xfrm_parse_reply(b, off, 9, &r), HK_E_SYNTAX);
    e.error = INT32_MIN;
    off = 0;
    put_msg(b, &off, NLMSG_ERROR, 0, 9, &e, sizeof(e));
    assert_int_equal(hk_xfrm_parse_reply(b, off, 9, &r), HK_E_SYNTAX);
    ((struct nlmsghdr *)b)->nlmsg_len = 4;
    assert_int_equal(hk_xfrm_parse_reply(b, off, 9, &r), HK_E_LENGTH);
    assert_int_equal(hk_xfrm_parse_reply(b, 0, 9, &r), HK_E_AGAIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(newsa_gcm_v4_tunnel),
        cmocka_unit_test(newsa_chacha_v6_transport_esn_encap),
        cmocka_unit_test(newsa_cbc_hmac),
        cmocka_unit_test(newsa_windows),
        cmocka_unit_test(newsa_invalid),
        cmocka_unit_test(newsa_with_state),
        cmocka_unit_test(updsa_and_migrate),
        cmocka_unit_test(state_read_back),
        cmocka_unit_test(small_buffers),
        cmocka_unit_test(delsa_getsa),
        cmocka_unit_test(policies),
        cmocka_unit_test(range_split),
        cmocka_unit_test(ports_and_protocols),
        cmocka_unit_test(bypass),
        cmocka_unit_test(replies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
