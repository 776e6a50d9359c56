/*
 * The data plane's Internet checksum (RFC 1071) and TCP segmentation / coalescing for a TUN
 * device with offloads (struct virtio_net_hdr): every result is checked against a naive
 * reference checksum written here (16-bit big-endian words, RFC 1071 section 4.1), never
 * against the module's own functions.
 *
 * Vectors:
 *  - RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "esp/csum.h"
#include "esp/gso.h"

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20
#define TH_ECE 0x40
#define TH_CWR 0x80

#define PKT_MAX 70000 /* any test packet or segment fits */

/* ---- reference checksum and byte helpers ---- */

/* Sum of 16-bit big-endian words (an odd last octet padded with zero), not folded. */
static uint64_t ref_sum(uint64_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 2)
        s += (uint64_t)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
    return s;
}

static uint16_t ref_fold(uint64_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* A 16-bit value the module gives in host order for memcpy, read as the octets it stores. */
static uint16_t stored(uint16_t host)
{
    uint8_t b[2];
    memcpy(b, &host, 2);
    return get16(b);
}

/* The reference sum of the pseudo-header of the IP packet at ip (RFC 793 3.1, RFC 8200 8.1),
 * built octet by octet. */
static uint64_t ref_pseudo(const uint8_t *ip, uint8_t proto, uint32_t l4len)
{
    uint8_t ph[40] = {0};
    if (ip[0] >> 4 == 4) {
        memcpy(ph, ip + 12, 8);
        ph[9] = proto;
        put16(ph + 10, (uint16_t)l4len);
        return ref_sum(0, ph, 12);
    }
    memcpy(ph, ip + 8, 32);
    put32(ph + 32, l4len);
    ph[39] = proto;
    return ref_sum(0, ph, 40);
}

/* Whether the upper-layer checksum of the len-octet packet at ip verifies. */
static bool ref_l4_ok(const uint8_t *ip, size_t len, size_t l4off, uint8_t proto)
{
    uint32_t l4len = (uint32_t)(len - l4off);
    return ref_fold(ref_sum(ref_pseudo(ip, proto, l4len), ip + l4off, l4len)) == 0xffff;
}

static bool ref_ipv4_ok(const uint8_t *ip)
{
    return ref_fold(ref_sum(0, ip, (size_t)(ip[0] & 0x0f) * 4)) == 0xffff;
}

static void fill_random(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(rand() >> 7);
}

/* ---- packet builder ---- */

enum csum_mode {
    CS_FULL,   /* a correct checksum, as on the wire */
    CS_PSEUDO, /* the folded pseudo-header sum, as the kernel leaves it with NEEDS_CSUM */
};

static const uint8_t ts_opt[12] = {1, 1, 8, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};

struct spec {
    bool v6;
    uint8_t proto; /* 0: TCP */
    size_t ipopt;  /* IPv4 option octets (NOPs), a multiple of 4 */
    size_t optlen; /* TCP option octets, a multiple of 4 */
    const uint8_t *opt;
    uint8_t flags;
    uint16_t frag; /* IPv4 flags and fragment offset; DF when 0 */
    uint16_t id, sport, dport, win;
    uint32_t seq, ack;
};

static struct spec base_spec(bool v6)
{
    struct spec s = {0};
    s.v6 = v6;
    s.flags = TH_ACK;
    s.id = 0x1234;
    s.sport = 40000;
    s.dport = 443;
    s.win = 0x2000;
    s.seq = 0x10000000;
    s.ack = 0x55667788;
    return s;
}

static size_t l4off_of(const struct spec *s)
{
    return s->v6 ? 40 : 20 + s->ipopt;
}

static size_t hlen_of(const struct spec *s)
{
    return l4off_of(s) + (s->proto == 17 ? 8 : 20 + s->optlen);
}

/* An IP packet with a TCP (or UDP) header and plen octets of payload at pl. */
static size_t build(uint8_t *out, const struct spec *s, const uint8_t *pl, size_t plen,
                    enum csum_mode mode)
{
    size_t l4off = l4off_of(s), hlen = hlen_of(s), len = hlen + plen;
    uint8_t proto = s->proto ? s->proto : 6;
    assert_true(len <= PKT_MAX);
    memset(out, 0, hlen);
    if (s->v6) {
        out[0] = 0x60;
        out[1] = 0x0a;
        out[2] = 0xbc;
        out[3] = 0xde;
        put16(out + 4, (uint16_t)(len - 40));
        out[6] = proto;
        out[7] = 64;
        static const uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0,    0,
                                        0,    0,    0,    0,    0, 0, 0xab, 0x01};
        static const uint8_t dst[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xee, 0,    0,
                                        0,    0,    0,    0,    0,    0,    0xcd, 0x02};
        memcpy(out + 8, src, 16);
        memcpy(out + 24, dst, 16);
    } else {
        out[0] = (uint8_t)(0x40 | l4off / 4);
        out[1] = 0x10;
        put16(out + 2, (uint16_t)len);
        put16(out + 4, s->id);
        put16(out + 6, s->frag ? s->frag : 0x4000);
        out[8] = 64;
        out[9] = proto;
        static const uint8_t addrs[8] = {192, 0, 2, 1, 198, 51, 100, 77};
        memcpy(out + 12, addrs, 8);
        memset(out + 20, 1, s->ipopt); /* NOP options */
        put16(out + 10, (uint16_t)~ref_fold(ref_sum(0, out, l4off)));
    }
    uint8_t *t = out + l4off;
    put16(t, s->sport);
    put16(t + 2, s->dport);
    size_t field;
    if (proto == 17) {
        put16(t + 4, (uint16_t)(len - l4off));
        field = 6;
    } else {
        put32(t + 4, s->seq);
        put32(t + 8, s->ack);
        t[12] = (uint8_t)((20 + s->optlen) / 4 << 4);
        t[13] = s->flags;
        put16(t + 14, s->win);
        if (s->optlen)
            memcpy(t + 20, s->opt, s->optlen);
        field = 16;
    }
    memcpy(out + hlen, pl, plen);
    uint64_t ps = ref_pseudo(out, proto, (uint32_t)(len - l4off));
    if (mode == CS_PSEUDO)
        put16(t + field, ref_fold(ps));
    else
        put16(t + field, (uint16_t)~ref_fold(ref_sum(ps, t, len - l4off)));
    return len;
}

/* The header the kernel gives with a TSO packet built from s. */
static struct virtio_net_hdr tso_hdr(const struct spec *s, size_t mss)
{
    struct virtio_net_hdr vh = {0};
    vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    vh.gso_type = s->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
    vh.hdr_len = (uint16_t)hlen_of(s);
    vh.gso_size = (uint16_t)mss;
    vh.csum_start = (uint16_t)l4off_of(s);
    vh.csum_offset = 16;
    return vh;
}

/* ---- 1. checksum ---- */

static uint16_t mod_sum(const uint8_t *p, size_t n)
{
    return stored(hk_csum_fold(hk_csum_add(0, p, n)));
}

static void csum_rfc1071_example(void **state)
{
    (void)state;
    static const uint8_t ex[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(ref_fold(ref_sum(0, ex, 8)), 0xddf2); /* the reference itself */
    assert_int_equal(mod_sum(ex, 8), 0xddf2);
    assert_int_equal(stored(hk_csum_final(hk_csum_add(0, ex, 8))), 0x220d);
    /* In two pieces (even first length), and with 16-bit values added one at a time. */
    assert_int_equal(stored(hk_csum_fold(hk_csum_add(hk_csum_add(0, ex, 2), ex + 2, 6))), 0xddf2);
    uint64_t s = 0;
    for (size_t i = 0; i < 8; i += 2) {
        uint16_t v;
        memcpy(&v, ex + i, 2); /* network order as stored */
        s = hk_csum_add16(s, v);
    }
    assert_int_equal(stored(hk_csum_fold(s)), 0xddf2);
    /* Nothing sums to zero. */
    assert_int_equal(mod_sum(ex, 0), 0);
}

static void csum_random_lengths(void **state)
{
    (void)state;
    srand(1071);
    uint8_t *buf = malloc(65536 + 8);
    assert_non_null(buf);
    for (size_t align = 0; align < 4; align++) {
        for (size_t len = 0; len <= 200; len++) {
            for (int rep = 0; rep < 4; rep++) {
                uint8_t *p = buf + align;
                fill_random(p, len);
                if (rep == 3)
                    memset(p, 0xff, len); /* every carry */
                uint16_t want = ref_fold(ref_sum(0, p, len));
                assert_int_equal(mod_sum(p, len), want);
                /* Split at an even point, and starting from a nonzero sum. */
                size_t cut = (len / 2) & ~(size_t)1;
                uint64_t s = hk_csum_add(hk_csum_add(0, p, cut), p + cut, len - cut);
                assert_int_equal(stored(hk_csum_fold(s)), want);
                uint8_t ib[2] = {0xfe, 0xdc};
                uint64_t s2 = hk_csum_add(hk_csum_add(0, ib, 2), p, len);
                assert_int_equal(stored(hk_csum_fold(s2)), ref_fold(ref_sum(0xfedc, p, len)));
            }
        }
    }
    /* Starting sums near 2^64: the end-around carry of the 64-bit accumulation. A start sum
     * is in the module's (host) order: for the reference, fold it and swap its octets (RFC
     * 1071 2(B)) where the host is little-endian. */
    for (uint64_t k = 0; k < 64; k++) {
        uint64_t start = ~(uint64_t)0 - k * 0x0123456789abull;
        uint8_t *p = buf + (k & 1);
        size_t len = 1 + k * 13;
        fill_random(p, len);
        assert_int_equal(stored(hk_csum_fold(hk_csum_add(start, p, len))),
                         ref_fold(ref_sum(stored(ref_fold(start)), p, len)));
    }
    static const size_t big[] = {1400, 1401, 65534, 65535};
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++)
        for (size_t align = 0; align < 2; align++) {
            uint8_t *p = buf + align;
            fill_random(p, big[i]);
            assert_int_equal(mod_sum(p, big[i]), ref_fold(ref_sum(0, p, big[i])));
            memset(p, 0xff, big[i]);
            assert_int_equal(mod_sum(p, big[i]), ref_fold(ref_sum(0, p, big[i])));
        }
    free(buf);
}

static void csum_pseudo(void **state)
{
    (void)state;
    srand(793);
    for (int rep = 0; rep < 200; rep++) {
        uint8_t ip[40];
        fill_random(ip, sizeof(ip));
        uint8_t proto = rep & 1 ? 17 : 6;
        uint32_t l4len = (uint32_t)rand() % 65536;
        /* IPv4: src, dst, zero, protocol, 16-bit length. */
        uint8_t ph[40] = {0};
        memcpy(ph, ip + 12, 8);
        ph[9] = proto;
        ph[10] = (uint8_t)(l4len >> 8);
        ph[11] = (uint8_t)l4len;
        assert_int_equal(stored(hk_csum_fold(hk_csum_pseudo(ip + 12, ip + 16, 4, proto, l4len))),
                         ref_fold(ref_sum(0, ph, 12)));
        /* IPv6: src, dst, 32-bit length, three zeros, next header; lengths over 64 KiB too. */
        if (rep % 4 == 3)
            l4len = (uint32_t)rand() << 8 ^ (uint32_t)rand();
        memset(ph, 0, sizeof(ph));
        memcpy(ph, ip + 8, 32);
        ph[32] = (uint8_t)(l4len >> 24);
        ph[33] = (uint8_t)(l4len >> 16);
        ph[34] = (uint8_t)(l4len >> 8);
        ph[35] = (uint8_t)l4len;
        ph[39] = proto;
        assert_int_equal(stored(hk_csum_fold(hk_csum_pseudo(ip + 8, ip + 24, 16, proto, l4len))),
                         ref_fold(ref_sum(0, ph, 40)));
    }
}

/* ---- 2. segmentation ---- */

/* Checks segment i (olen octets at seg) of the TSO packet pkt built from s with plen octets
 * of payload pl and gso_size mss. */
static void check_segment(const struct spec *s, const uint8_t *pkt, const uint8_t *pl, size_t plen,
                          size_t mss, size_t i, size_t nseg, const uint8_t *seg, size_t olen)
{
    size_t l4off = l4off_of(s), hlen = hlen_of(s);
    size_t off = i * mss, want = plen - off < mss ? plen - off : mss;
    bool first = i == 0, last = i + 1 == nseg;
    assert_int_equal(olen, hlen + want);
    if (s->v6) {
        assert_memory_equal(seg, pkt, 4);
        assert_int_equal(get16(seg + 4), olen - 40);
        assert_memory_equal(seg + 6, pkt + 6, 34);
    } else {
        assert_int_equal(seg[0], pkt[0]);
        assert_int_equal(seg[1], pkt[1]);
        assert_int_equal(get16(seg + 2), olen);
        assert_int_equal(get16(seg + 4), (uint16_t)(s->id + i));
        assert_memory_equal(seg + 6, pkt + 6, 4); /* flags, TTL, protocol */
        assert_memory_equal(seg + 12, pkt + 12, l4off - 12);
        assert_true(ref_ipv4_ok(seg));
    }
    const uint8_t *t = seg + l4off, *ot = pkt + l4off;
    assert_memory_equal(t, ot, 4);
    assert_int_equal(get32(t + 4), (uint32_t)(s->seq + off));
    assert_memory_equal(t + 8, ot + 8, 5); /* ack, data offset */
    uint8_t flags = s->flags;
    if (!last)
        flags &= (uint8_t) ~(TH_FIN | TH_PSH);
    if (!first)
        flags &= (uint8_t)~TH_CWR;
    assert_int_equal(t[13], flags);
    assert_memory_equal(t + 14, ot + 14, 2);
    assert_memory_equal(t + 18, ot + 18, hlen - l4off - 18); /* urgent pointer, options */
    assert_true(ref_l4_ok(seg, olen, l4off, 6));
    assert_memory_equal(seg + hlen, pl + off, want);
}

static void check_gso(const struct spec *s, size_t plen, size_t mss)
{
    uint8_t *pl = malloc(plen + 1), *pkt = malloc(PKT_MAX), *seg = malloc(PKT_MAX);
    uint8_t *cat = malloc(plen + 1);
    assert_true(pl && pkt && seg && cat);
    fill_random(pl, plen);
    size_t len = build(pkt, s, pl, plen, CS_PSEUDO);
    struct virtio_net_hdr vh = tso_hdr(s, mss);
    struct hk_gso g;
    assert_int_equal(hk_gso_init(&g, &vh, pkt, len), HK_OK);
    size_t nseg = plen ? (plen + mss - 1) / mss : 1, got = 0, i;
    assert_int_equal(hk_gso_count(&g), nseg);
    for (i = 0;; i++) {
        size_t olen = 0;
        int rc = hk_gso_next(&g, seg, PKT_MAX, &olen);
        if (rc == HK_E_NOTFOUND)
            break;
        assert_int_equal(rc, HK_OK);
        assert_true(i < nseg);
        check_segment(s, pkt, pl, plen, mss, i, nseg, seg, olen);
        memcpy(cat + got, seg + hlen_of(s), olen - hlen_of(s));
        got += olen - hlen_of(s);
    }
    assert_int_equal(i, nseg);
    assert_int_equal(got, plen);
    assert_memory_equal(cat, pl, plen);
    size_t olen = 0;
    assert_int_equal(hk_gso_next(&g, seg, PKT_MAX, &olen), HK_E_NOTFOUND);
    free(pl);
    free(pkt);
    free(seg);
    free(cat);
}

static void gso_ipv4(void **state)
{
    (void)state;
    srand(4);
    struct spec s = base_spec(false);
    s.flags = TH_ACK | TH_PSH | TH_FIN | TH_CWR;
    check_gso(&s, 10000, 1448);
    check_gso(&s, 10000, 1360);
    check_gso(&s, 65000, 1448);
    /* IDs and sequence numbers wrap. */
    s.id = 0xfffe;
    s.seq = 0xfffff000;
    check_gso(&s, 10000, 1448);
    s.opt = ts_opt;
    s.optlen = sizeof(ts_opt);
    check_gso(&s, 10000, 1448);
    check_gso(&s, 65000, 1360);
    /* Options in the IPv4 header are copied into every segment. */
    s.ipopt = 8;
    check_gso(&s, 5000, 1000);
    s.ipopt = 0;
    /* An exact multiple of gso_size; one short payload; one octet per segment. */
    check_gso(&s, 1448 * 5, 1448);
    check_gso(&s, 100, 1448);
    check_gso(&s, 7, 1);
    s.flags = TH_ACK;
    check_gso(&s, 3000, 1000);
}

static void gso_ipv6(void **state)
{
    (void)state;
    srand(6);
    struct spec s = base_spec(true);
    s.flags = TH_ACK | TH_PSH | TH_FIN | TH_CWR;
    check_gso(&s, 10000, 1448);
    check_gso(&s, 65000, 1360);
    s.opt = ts_opt;
    s.optlen = sizeof(ts_opt);
    s.seq = 0xffffff00;
    check_gso(&s, 10000, 1360);
    check_gso(&s, 65000, 1448);
    check_gso(&s, 1360 * 3, 1360);
    s.flags = TH_ACK | TH_ECE;
    check_gso(&s, 4000, 1000);
}

static void gso_zero_payload(void **state)
{
    (void)state;
    struct spec s = base_spec(false);
    s.flags = TH_ACK | TH_FIN | TH_PSH | TH_CWR;
    check_gso(&s, 0, 1448);
    s.v6 = true;
    s.opt = ts_opt;
    s.optlen = sizeof(ts_opt);
    check_gso(&s, 0, 1360);
}

static void gso_ecn_type(void **state)
{
    (void)state;
    /* GSO_ECN (the original has CWR) does not change the segmentation. */
    struct spec s = base_spec(false);
    s.flags = TH_ACK | TH_CWR | TH_ECE;
    uint8_t pl[3000], pkt[4000], seg[4000];
    fill_random(pl, sizeof(pl));
    size_t len = build(pkt, &s, pl, sizeof(pl), CS_PSEUDO);
    struct virtio_net_hdr vh = tso_hdr(&s, 1000);
    vh.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
    struct hk_gso g;
    assert_int_equal(hk_gso_init(&g, &vh, pkt, len), HK_OK);
    assert_int_equal(hk_gso_count(&g), 3);
    for (size_t i = 0; i < 3; i++) {
        size_t olen;
        assert_int_equal(hk_gso_next(&g, seg, sizeof(seg), &olen), HK_OK);
        check_segment(&s, pkt, pl, sizeof(pl), 1000, i, 3, seg, olen);
    }
}

/* A UDP packet with NEEDS_CSUM (the field holding the folded pseudo sum) gets a correct
 * checksum; with payload p. */
static void check_udp_csum(bool v6, const uint8_t *pl, size_t plen)
{
    struct spec s = base_spec(v6);
    s.proto = 17;
    uint8_t pkt[2048], out[2048];
    size_t len = build(pkt, &s, pl, plen, CS_PSEUDO);
    size_t l4off = l4off_of(&s);
    struct virtio_net_hdr vh = {0};
    vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    vh.csum_start = (uint16_t)l4off;
    vh.csum_offset = 6;
    struct hk_gso g;
    assert_int_equal(hk_gso_init(&g, &vh, pkt, len), HK_OK);
    assert_int_equal(hk_gso_count(&g), 1);
    size_t olen = 0;
    assert_int_equal(hk_gso_next(&g, out, sizeof(out), &olen), HK_OK);
    assert_int_equal(olen, len);
    assert_memory_equal(out, pkt, l4off + 6);
    assert_memory_equal(out + l4off + 8, pkt + l4off + 8, len - l4off - 8);
    assert_true(ref_l4_ok(out, olen, l4off, 17));
    /* RFC 768, RFC 8200 8.1: a computed zero is sent as all ones (zero means "none" in
     * IPv4 and is dropped in IPv6). */
    assert_int_not_equal(get16(out + l4off + 6), 0);
    assert_int_equal(hk_gso_next(&g, out, sizeof(out), &olen), HK_E_NOTFOUND);
}

static void gso_none_udp_csum(void **state)
{
    (void)state;
    srand(768);
    uint8_t pl[1001];
    for (size_t n = 0; n < sizeof(pl); n += 97) {
        fill_random(pl, n);
        check_udp_csum(false, pl, n);
        check_udp_csum(true, pl, n);
    }
    /* A TCP packet without GSO: NEEDS_CSUM at offset 16 finishes the TCP checksum. */
    struct spec s = base_spec(true);
    s.flags = TH_ACK | TH_PSH | TH_FIN;
    uint8_t pkt[1500], out[1500];
    fill_random(pl, 500);
    size_t len = build(pkt, &s, pl, 500, CS_PSEUDO);
    struct virtio_net_hdr vh = {0};
    vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    vh.csum_start = 40;
    vh.csum_offset = 16;
    struct hk_gso g;
    assert_int_equal(hk_gso_init(&g, &vh, pkt, len), HK_OK);
    size_t olen = 0;
    assert_int_equal(hk_gso_next(&g, out, sizeof(out), &olen), HK_OK);
    assert_int_equal(olen, len);
    assert_true(ref_l4_ok(out, olen, 40, 6));
    assert_memory_equal(out, pkt, 56);
    assert_memory_equal(out + 58, pkt + 58, len - 58);
}

/* The checksum that comes out as zero must be sent as ffff (UDP). */
static void gso_none_udp_csum_zero(void **state)
{
    (void)state;
    for (int v6 = 0; v6 < 2; v6++) {
        struct spec s = base_spec(v6);
        s.proto = 17;
        uint8_t pl[64] = {0}, pkt[256];
        fill_random(pl, 62);
        /* Pick the last word so the whole sum (pseudo-header, header, payload) is ffff. */
        size_t len = build(pkt, &s, pl, sizeof(pl), CS_FULL);
        size_t l4off = l4off_of(&s);
        pkt[l4off + 6] = pkt[l4off + 7] = 0;
        uint16_t s0 = ref_fold(
            ref_sum(ref_pseudo(pkt, 17, (uint32_t)(len - l4off)), pkt + l4off, len - l4off));
        uint16_t last = (uint16_t)~s0;
        put16(pl + 62, last);
        len = build(pkt, &s, pl, sizeof(pl), CS_FULL);
        assert_int_equal(ref_fold(ref_sum(ref_pseudo(pkt, 17, (uint32_t)(len - l4off)), pkt + l4off,
                                          len - l4off) -
                                  get16(pkt + l4off + 6)),
                         0xffff);
        check_udp_csum(v6, pl, sizeof(pl));
    }
}

static void gso_none_plain_copy(void **state)
{
    (void)state;
    uint8_t pkt[300], out[300];
    fill_random(pkt, sizeof(pkt));
    pkt[0] = 0x45;
    struct virtio_net_hdr vh = {0};
    vh.csum_start = 9999; /* ignored without NEEDS_CSUM */
    vh.csum_offset = 9999;
    struct hk_gso g;
    assert_int_equal(hk_gso_init(&g, &vh, pkt, sizeof(pkt)), HK_OK);
    assert_int_equal(hk_gso_count(&g), 1);
    size_t olen = 0;
    assert_int_equal(hk_gso_next(&g, out, sizeof(out), &olen), HK_OK);
    assert_int_equal(olen, sizeof(pkt));
    assert_memory_equal(out, pkt, sizeof(pkt));
    assert_int_equal(hk_gso_next(&g, out, sizeof(out), &olen), HK_E_NOTFOUND);
    /* IPv6 and a 20-octet minimum. */
    pkt[0] = 0x60;
    assert_int_equal(hk_gso_init(&g, &vh, pkt, 20), HK_OK);
    assert_int_equal(hk_gso_next(&g, out, sizeof(out), &olen), HK_OK);
    assert_int_equal(olen, 20);
    assert_memory_equal(out, pkt, 20);
}

/* ---- 3. rejections and bounds ---- */

static int init_with(struct virtio_net_hdr vh, const uint8_t *pkt, size_t len)
{
    struct hk_gso g;
    return hk_gso_init(&g, &vh, pkt, len);
}

static void gso_rejects(void **state)
{
    (void)state;
    struct spec s4 = base_spec(false), s6 = base_spec(true);
    uint8_t pl[3000], p4[4000], p6[4000], bad[4000];
    fill_random(pl, sizeof(pl));
    size_t l4 = build(p4, &s4, pl, sizeof(pl), CS_PSEUDO);
    size_t l6 = build(p6, &s6, pl, sizeof(pl), CS_PSEUDO);
    struct virtio_net_hdr v4 = tso_hdr(&s4, 1000), v6 = tso_hdr(&s6, 1000), vh;
    assert_int_equal(init_with(v4, p4, l4), HK_OK);
    assert_int_equal(init_with(v6, p6, l6), HK_OK);

    /* The checksum position beyond the packet. */
    vh = v4;
    vh.csum_start = (uint16_t)(l4 - 17); /* field would end one octet past */
    assert_int_equal(init_with(vh, p4, l4), HK_E_SYNTAX);
    vh.csum_start = 20;
    vh.csum_offset = 0xffff;
    assert_int_equal(init_with(vh, p4, l4), HK_E_SYNTAX);
    vh = (struct virtio_net_hdr){0};
    vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    vh.csum_start = 0xffff;
    vh.csum_offset = 0xffff;
    assert_int_equal(init_with(vh, p4, l4), HK_E_SYNTAX);
    vh.csum_start = (uint16_t)(l4 - 2);
    vh.csum_offset = 1;
    assert_int_equal(init_with(vh, p4, l4), HK_E_SYNTAX);
    vh.csum_offset = 0; /* the last two octets: fine without GSO */
    assert_int_equal(init_with(vh, p4, l4), HK_OK);

    /* GSO without NEEDS_CSUM; UDP (UFO) and UDP_L4 (5); an unknown type. */
    vh = v4;
    vh.flags = 0;
    assert_int_equal(init_with(vh, p4, l4), HK_E_UNSUPPORTED);
    vh.flags = VIRTIO_NET_HDR_F_DATA_VALID;
    assert_int_equal(init_with(vh, p4, l4), HK_E_UNSUPPORTED);
    static const uint8_t types[] = {VIRTIO_NET_HDR_GSO_UDP, 5, 2, 0x7f,
                                    VIRTIO_NET_HDR_GSO_UDP | VIRTIO_NET_HDR_GSO_ECN};
    for (size_t i = 0; i < sizeof(types); i++) {
        vh = v4;
        vh.gso_type = types[i];
        assert_int_equal(init_with(vh, p4, l4), HK_E_UNSUPPORTED);
    }

    /* The type of the other IP version. */
    vh = v6;
    vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    assert_int_equal(init_with(vh, p6, l6), HK_E_SYNTAX);
    vh = v4;
    vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
    assert_int_equal(init_with(vh, p4, l4), HK_E_SYNTAX);

    /* IPv4 protocol not TCP; IPv6 next header not TCP. */
    memcpy(bad, p4, l4);
    bad[9] = 17;
    assert_int_equal(init_with(v4, bad, l4), HK_E_SYNTAX);
    memcpy(bad, p6, l6);
    bad[6] = 17;
    assert_int_equal(init_with(v6, bad, l6), HK_E_SYNTAX);

    /* csum_start not at the TCP header; csum_offset not 16. */
    vh = v4;
    vh.csum_start = 24;
    assert_int_equal(init_with(vh, p4, l4), HK_E_SYNTAX);
    vh = v6;
    vh.csum_start = 20;
    assert_int_equal(init_with(vh, p6, l6), HK_E_SYNTAX);
    vh = v4;
    vh.csum_offset = 6;
    assert_int_equal(init_with(vh, p4, l4), HK_E_SYNTAX);

    /* TCP data offset beyond the packet, or under 5 words. */
    size_t l0 = build(bad, &s4, pl, 0, CS_PSEUDO); /* 40 octets, headers only */
    assert_int_equal(init_with(v4, bad, l0), HK_OK);
    bad[32] = 0x60;
    assert_int_equal(init_with(v4, bad, l0), HK_E_SYNTAX);
    bad[32] = 0xf0;
    assert_int_equal(init_with(v4, bad, l0), HK_E_SYNTAX);
    bad[32] = 0x40;
    assert_int_equal(init_with(v4, bad, l0), HK_E_SYNTAX);
    /* A TCP header cut short. */
    assert_int_equal(init_with(v4, p4, 39), HK_E_SYNTAX);
    assert_int_equal(init_with(v6, p6, 59), HK_E_SYNTAX);

    /* An IPv4 header length under 5 words: its "header" would overlap the TCP header. */
    memcpy(bad, p4, l4);
    bad[0] = 0x44;
    vh = v4;
    vh.csum_start = 16;
    assert_int_equal(init_with(vh, bad, l4), HK_E_SYNTAX);
    bad[0] = 0x40;
    vh.csum_start = 0;
    assert_int_equal(init_with(vh, bad, l4), HK_E_SYNTAX);

    /* gso_size 0. */
    vh = v4;
    vh.gso_size = 0;
    assert_int_equal(init_with(vh, p4, l4), HK_E_SYNTAX);

    /* Under 20 octets, or not IP, with or without GSO. */
    vh = (struct virtio_net_hdr){0};
    for (size_t n = 0; n < 20; n++) {
        assert_int_equal(init_with(vh, p4, n), HK_E_SYNTAX);
        assert_int_equal(init_with(v4, p4, n), HK_E_SYNTAX);
    }
    memcpy(bad, p4, l4);
    bad[0] = 0x55;
    assert_int_equal(init_with(vh, bad, l4), HK_E_SYNTAX);
    assert_int_equal(init_with(v4, bad, l4), HK_E_SYNTAX);
}

#define GUARD 64

/* hk_gso_next with cap one short: HK_E_OVERFLOW and nothing written; then exactly enough. */
static void check_cap(const struct virtio_net_hdr *vh, const uint8_t *pkt, size_t len)
{
    struct hk_gso g;
    assert_int_equal(hk_gso_init(&g, vh, pkt, len), HK_OK);
    size_t n = hk_gso_count(&g);
    uint8_t *out = malloc(PKT_MAX + GUARD);
    assert_non_null(out);
    for (size_t i = 0; i < n; i++) {
        /* Find the segment's length with a large buffer on a copy of the state. */
        struct hk_gso peek = g;
        size_t want = 0;
        assert_int_equal(hk_gso_next(&peek, out, PKT_MAX, &want), HK_OK);
        for (size_t cap = 0; cap < want; cap += (cap + 8 < want ? (want - cap) / 2 + 1 : 1)) {
            memset(out, 0xa5, PKT_MAX + GUARD);
            size_t olen = 12345;
            assert_int_equal(hk_gso_next(&g, out, cap, &olen), HK_E_OVERFLOW);
            assert_int_equal(olen, 12345);
            for (size_t k = 0; k < want + GUARD; k++)
                assert_int_equal(out[k], 0xa5);
        }
        memset(out, 0xa5, PKT_MAX + GUARD);
        size_t olen = 0;
        assert_int_equal(hk_gso_next(&g, out, want, &olen), HK_OK);
        assert_int_equal(olen, want);
        for (size_t k = want; k < want + GUARD; k++)
            assert_int_equal(out[k], 0xa5);
    }
    size_t olen;
    assert_int_equal(hk_gso_next(&g, out, PKT_MAX, &olen), HK_E_NOTFOUND);
    free(out);
}

static void gso_overflow(void **state)
{
    (void)state;
    uint8_t pl[2500], pkt[3000];
    fill_random(pl, sizeof(pl));
    for (int v6 = 0; v6 < 2; v6++) {
        struct spec s = base_spec(v6);
        s.flags = TH_ACK | TH_PSH | TH_FIN | TH_CWR;
        size_t len = build(pkt, &s, pl, sizeof(pl), CS_PSEUDO);
        struct virtio_net_hdr vh = tso_hdr(&s, 1000);
        check_cap(&vh, pkt, len);
        /* And the segments are the right ones after the refusals. */
        struct hk_gso g;
        uint8_t seg[2000];
        assert_int_equal(hk_gso_init(&g, &vh, pkt, len), HK_OK);
        for (size_t i = 0; i < 3; i++) {
            size_t olen;
            assert_int_equal(hk_gso_next(&g, seg, 10, &olen), HK_E_OVERFLOW);
            assert_int_equal(hk_gso_next(&g, seg, sizeof(seg), &olen), HK_OK);
            check_segment(&s, pkt, pl, sizeof(pl), 1000, i, 3, seg, olen);
        }
        /* Without GSO: a copy with its checksum finished, and a plain copy. */
        vh = (struct virtio_net_hdr){0};
        vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        vh.csum_start = (uint16_t)l4off_of(&s);
        vh.csum_offset = 16;
        check_cap(&vh, pkt, len);
        vh.flags = 0;
        check_cap(&vh, pkt, len);
    }
}

/* ---- 4. coalescing ---- */

static const struct virtio_net_hdr zero_vh;

/* Segments of the TSO packet built from s (payload pl, plen octets) at gso_size mss, into
 * segs (nseg of them, lengths in lens). */
static size_t segment(const struct spec *s, const uint8_t *pl, size_t plen, size_t mss,
                      uint8_t **segs, size_t *lens, size_t max)
{
    uint8_t *pkt = malloc(PKT_MAX);
    assert_non_null(pkt);
    size_t len = build(pkt, s, pl, plen, CS_PSEUDO);
    struct virtio_net_hdr vh = tso_hdr(s, mss);
    struct hk_gso g;
    assert_int_equal(hk_gso_init(&g, &vh, pkt, len), HK_OK);
    size_t n = 0, olen;
    for (;;) {
        assert_true(n < max);
        segs[n] = malloc(PKT_MAX);
        assert_non_null(segs[n]);
        int rc = hk_gso_next(&g, segs[n], PKT_MAX, &olen);
        if (rc == HK_E_NOTFOUND) {
            free(segs[n]);
            break;
        }
        assert_int_equal(rc, HK_OK);
        lens[n++] = olen;
    }
    free(pkt);
    return n;
}

static void free_segs(uint8_t **segs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(segs[i]);
}

/* Held packet i after hk_gro_vnet: a merged packet of s's flow with payload pl (plen octets)
 * and gso_size mss, its checksum completed as the kernel does. */
static void check_merged(struct hk_gro *g, size_t i, const struct spec *s, const uint8_t *pl,
                         size_t plen, size_t mss)
{
    size_t l4off = l4off_of(s), hlen = hlen_of(s), len = hlen + plen;
    struct virtio_net_hdr vh;
    hk_gro_vnet(g, i, &vh);
    assert_int_equal(g->p[i].len, len);
    assert_int_equal(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    assert_int_equal(vh.gso_type, s->v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4);
    assert_int_equal(vh.gso_size, mss);
    assert_int_equal(vh.hdr_len, hlen);
    assert_int_equal(vh.csum_start, l4off);
    assert_int_equal(vh.csum_offset, 16);
    uint8_t *p = g->p[i].buf;
    /* The field holds the folded pseudo-header sum of the whole packet. */
    assert_int_equal(get16(p + l4off + 16), ref_fold(ref_pseudo(p, 6, (uint32_t)(len - l4off))));
    /* The same again. */
    struct virtio_net_hdr vh2;
    hk_gro_vnet(g, i, &vh2);
    assert_memory_equal(&vh, &vh2, sizeof(vh));
    assert_int_equal(get16(p + l4off + 16), ref_fold(ref_pseudo(p, 6, (uint32_t)(len - l4off))));

    /* The kernel finishes it: sum from csum_start to the end, complement, store. */
    uint8_t *done = malloc(len);
    assert_non_null(done);
    memcpy(done, p, len);
    put16(done + l4off + 16, (uint16_t)~ref_fold(ref_sum(0, done + l4off, len - l4off)));
    assert_true(ref_l4_ok(done, len, l4off, 6));
    if (!s->v6) {
        assert_int_equal(get16(done + 2), len);
        assert_true(ref_ipv4_ok(done));
    } else {
        assert_int_equal(get16(done + 4), len - 40);
    }
    /* It is the packet the sender would have sent unsegmented (the checksum only verified:
     * 0000 and ffff are the same). */
    uint8_t *want = malloc(len);
    assert_non_null(want);
    assert_int_equal(build(want, s, pl, plen, CS_FULL), len);
    assert_memory_equal(done, want, l4off + 16);
    assert_memory_equal(done + l4off + 18, want + l4off + 18, len - l4off - 18);
    free(done);
    free(want);
}

static void gro_roundtrip(bool v6, bool ts, size_t plen, size_t mss)
{
    struct spec s = base_spec(v6);
    s.flags = TH_ACK | TH_PSH;
    if (ts) {
        s.opt = ts_opt;
        s.optlen = sizeof(ts_opt);
    }
    uint8_t *pl = malloc(plen), *segs[128];
    size_t lens[128];
    assert_non_null(pl);
    fill_random(pl, plen);
    size_t n = segment(&s, pl, plen, mss, segs, lens, 128);
    assert_true(n >= 2);
    struct hk_gro g;
    assert_int_equal(hk_gro_init(&g), HK_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(hk_gro_add(&g, segs[i], lens[i]), HK_OK);
    assert_int_equal(g.n, 1);
    check_merged(&g, 0, &s, pl, plen, mss);

    /* Segmenting the merged packet with its header gives the same segments again. */
    struct virtio_net_hdr vh;
    hk_gro_vnet(&g, 0, &vh);
    struct hk_gso gs;
    assert_int_equal(hk_gso_init(&gs, &vh, g.p[0].buf, g.p[0].len), HK_OK);
    assert_int_equal(hk_gso_count(&gs), n);
    uint8_t *seg = malloc(PKT_MAX);
    assert_non_null(seg);
    for (size_t i = 0; i < n; i++) {
        size_t olen;
        assert_int_equal(hk_gso_next(&gs, seg, PKT_MAX, &olen), HK_OK);
        assert_int_equal(olen, lens[i]);
        assert_memory_equal(seg, segs[i], olen);
    }
    free(seg);
    hk_gro_free(&g);
    free_segs(segs, n);
    free(pl);
}

static void gro_merge(void **state)
{
    (void)state;
    srand(5);
    gro_roundtrip(false, false, 10000, 1448);
    gro_roundtrip(false, true, 10000, 1448);
    gro_roundtrip(false, true, 65000, 1448);
    gro_roundtrip(false, false, 65000, 1460);
    gro_roundtrip(true, false, 10000, 1440);
    gro_roundtrip(true, true, 10000, 1428);
    gro_roundtrip(true, true, 65000, 1428);
    gro_roundtrip(false, false, 1448 * 4, 1448); /* the last segment full size */
}

/* One wire segment of s's flow: payload pl (plen octets) at sequence number seq. */
static size_t mkseg(uint8_t *out, const struct spec *base, uint32_t seq, uint8_t flags,
                    const uint8_t *pl, size_t plen)
{
    struct spec s = *base;
    s.seq = seq;
    s.flags = flags;
    return build(out, &s, pl, plen, CS_FULL);
}

/* Adds n packets; each is held alone and unchanged, hk_gro_vnet gives an empty header. */
static void check_separate(uint8_t **pkts, const size_t *lens, size_t n)
{
    struct hk_gro g;
    assert_int_equal(hk_gro_init(&g), HK_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(hk_gro_add(&g, pkts[i], lens[i]), HK_OK);
    assert_int_equal(g.n, n);
    for (size_t i = 0; i < n; i++) {
        struct virtio_net_hdr vh;
        hk_gro_vnet(&g, i, &vh);
        assert_memory_equal(&vh, &zero_vh, sizeof(vh));
        assert_int_equal(g.p[i].len, lens[i]);
        assert_memory_equal(g.p[i].buf, pkts[i], lens[i]);
    }
    hk_gro_free(&g);
}

/* Adds n packets; they must come back as one merged packet. */
static void check_one(uint8_t **pkts, const size_t *lens, size_t n)
{
    struct hk_gro g;
    assert_int_equal(hk_gro_init(&g), HK_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(hk_gro_add(&g, pkts[i], lens[i]), HK_OK);
    assert_int_equal(g.n, 1);
    struct virtio_net_hdr vh;
    hk_gro_vnet(&g, 0, &vh);
    assert_int_equal(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    hk_gro_free(&g);
}

static void gro_interleaved(void **state)
{
    (void)state;
    for (int v6 = 0; v6 < 2; v6++) {
        struct spec a = base_spec(v6), b = base_spec(v6);
        b.sport = 40001;
        b.seq = 0xfffffa00; /* B's sequence numbers wrap */
        uint8_t pla[3000], plb[3000], *pk[6];
        size_t lens[6];
        fill_random(pla, sizeof(pla));
        fill_random(plb, sizeof(plb));
        for (size_t i = 0; i < 3; i++) {
            pk[2 * i] = malloc(1200);
            pk[2 * i + 1] = malloc(1200);
            lens[2 * i] =
                mkseg(pk[2 * i], &a, a.seq + (uint32_t)(i * 1000), TH_ACK, pla + i * 1000, 1000);
            lens[2 * i + 1] = mkseg(pk[2 * i + 1], &b, b.seq + (uint32_t)(i * 1000), TH_ACK,
                                    plb + i * 1000, 1000);
        }
        struct hk_gro g;
        assert_int_equal(hk_gro_init(&g), HK_OK);
        for (size_t i = 0; i < 6; i++)
            assert_int_equal(hk_gro_add(&g, pk[i], lens[i]), HK_OK);
        assert_int_equal(g.n, 2);
        check_merged(&g, 0, &a, pla, sizeof(pla), 1000);
        check_merged(&g, 1, &b, plb, sizeof(plb), 1000);
        hk_gro_free(&g);
        for (size_t i = 0; i < 6; i++)
            free(pk[i]);
    }
}

enum variant {
    V_BASE, /* a plain continuation: merges */
    V_GAP,
    V_ACK,
    V_TS,
    V_WIN,
    V_PORT,
    V_TTL,
    V_BADSUM,
    V_SYN,
    V_FIN,
    V_RST,
    V_URG,
    V_ECE,
    V_IPOPT,
    V_MF,
    V_FRAGOFF,
    V_UDP,
    V_EMPTY,
    V_END
};

static const uint8_t ts_opt2[12] = {1, 1, 8, 10, 0x11, 0x22, 0x33, 0x45, 0x55, 0x66, 0x77, 0x88};

/* Properties of a packet alone (not of one packet against another). */
static bool per_packet(enum variant v)
{
    return v >= V_BADSUM && v != V_ECE;
}

/* Two segments of one flow; which = 0: the second changed by v, 1: the first, 2: both. */
static void gro_variant(bool v6, enum variant v, int which)
{
    struct spec s = base_spec(v6);
    s.opt = ts_opt;
    s.optlen = sizeof(ts_opt);
    uint8_t pl[2000], *pk[2];
    size_t lens[2];
    fill_random(pl, sizeof(pl));
    for (size_t i = 0; i < 2; i++) {
        struct spec t = s;
        uint32_t seq = s.seq + (uint32_t)(i * 1000);
        size_t plen = 1000;
        bool change = which == 2 || (size_t)which == 1 - i;
        if (change) {
            switch (v) {
            case V_BASE:
                break;
            case V_GAP:
                seq += 1;
                break;
            case V_ACK:
                t.ack++;
                break;
            case V_TS:
                t.opt = ts_opt2;
                break;
            case V_WIN:
                t.win++;
                break;
            case V_PORT:
                t.dport++;
                break;
            case V_TTL:
                break;
            case V_BADSUM:
                break;
            case V_SYN:
                t.flags |= TH_SYN;
                break;
            case V_FIN:
                t.flags |= TH_FIN;
                break;
            case V_RST:
                t.flags |= TH_RST;
                break;
            case V_URG:
                t.flags |= TH_URG;
                break;
            case V_ECE:
                t.flags |= TH_ECE;
                break;
            case V_IPOPT:
                t.ipopt = 4;
                break;
            case V_MF:
                t.frag = 0x2000;
                break;
            case V_FRAGOFF:
                t.frag = 0x0010;
                break;
            case V_UDP:
                t.proto = 17;
                break;
            case V_EMPTY:
                plen = 0;
                break;
            case V_END:
                break;
            }
        }
        pk[i] = malloc(1200);
        assert_non_null(pk[i]);
        t.seq = seq;
        lens[i] = build(pk[i], &t, pl + i * 1000, plen, CS_FULL);
        if (change && v == V_TTL) {
            size_t at = v6 ? 7 : 8;
            pk[i][at]--;
            if (!v6)
                put16(pk[i] + 10,
                      (uint16_t)~ref_fold(ref_sum(0, pk[i], 10) + ref_sum(0, pk[i] + 12, 8)));
        }
        if (change && v == V_BADSUM)
            pk[i][lens[i] - 1] ^= 0x40;
    }
    if (v == V_BASE || (which == 2 && !per_packet(v)))
        check_one(pk, lens, 2);
    else
        check_separate(pk, lens, 2);
    free(pk[0]);
    free(pk[1]);
}

static void gro_not_merged(void **state)
{
    (void)state;
    srand(9);
    for (int v6 = 0; v6 < 2; v6++)
        for (int v = V_BASE; v < V_END; v++) {
            if (v6 && (v == V_IPOPT || v == V_MF || v == V_FRAGOFF))
                continue;
            for (int which = 0; which < 3; which++) {
                if (which == 2 && v == V_ECE)
                    continue; /* ECE on both: merging would be allowed (as Linux does) */
                gro_variant(v6, (enum variant)v, which);
            }
        }
}

static void gro_push_and_short(void **state)
{
    (void)state;
    for (int v6 = 0; v6 < 2; v6++) {
        struct spec s = base_spec(v6);
        size_t hlen = hlen_of(&s);
        uint8_t pl[4000], *pk[4];
        size_t lens[4];
        fill_random(pl, sizeof(pl));
        for (size_t i = 0; i < 4; i++)
            pk[i] = malloc(1200);

        /* PSH ends a packet: s1, s2|PSH merge; s3 starts the next. */
        lens[0] = mkseg(pk[0], &s, s.seq, TH_ACK, pl, 1000);
        lens[1] = mkseg(pk[1], &s, s.seq + 1000, TH_ACK | TH_PSH, pl + 1000, 1000);
        lens[2] = mkseg(pk[2], &s, s.seq + 2000, TH_ACK, pl + 2000, 1000);
        lens[3] = mkseg(pk[3], &s, s.seq + 3000, TH_ACK, pl + 3000, 1000);
        struct hk_gro g;
        assert_int_equal(hk_gro_init(&g), HK_OK);
        for (size_t i = 0; i < 4; i++)
            assert_int_equal(hk_gro_add(&g, pk[i], lens[i]), HK_OK);
        assert_int_equal(g.n, 2);
        struct spec m = s;
        m.flags = TH_ACK | TH_PSH;
        check_merged(&g, 0, &m, pl, 2000, 1000);
        m = s;
        m.seq = s.seq + 2000;
        check_merged(&g, 1, &m, pl + 2000, 2000, 1000);

        /* A shorter segment ends a packet: 1000, 500 merge; the next 1000 starts one. */
        g.n = 0;
        lens[0] = mkseg(pk[0], &s, s.seq, TH_ACK, pl, 1000);
        lens[1] = mkseg(pk[1], &s, s.seq + 1000, TH_ACK, pl + 1000, 500);
        lens[2] = mkseg(pk[2], &s, s.seq + 1500, TH_ACK, pl + 1500, 1000);
        for (size_t i = 0; i < 3; i++)
            assert_int_equal(hk_gro_add(&g, pk[i], lens[i]), HK_OK);
        assert_int_equal(g.n, 2);
        check_merged(&g, 0, &s, pl, 1500, 1000);
        struct virtio_net_hdr vh;
        hk_gro_vnet(&g, 1, &vh);
        assert_memory_equal(&vh, &zero_vh, sizeof(vh));
        assert_int_equal(g.p[1].len, lens[2]);
        assert_memory_equal(g.p[1].buf, pk[2], lens[2]);

        /* A longer segment does not continue a shorter one. */
        g.n = 0;
        lens[0] = mkseg(pk[0], &s, s.seq, TH_ACK, pl, 500);
        lens[1] = mkseg(pk[1], &s, s.seq + 500, TH_ACK, pl + 500, 1000);
        for (size_t i = 0; i < 2; i++)
            assert_int_equal(hk_gro_add(&g, pk[i], lens[i]), HK_OK);
        assert_int_equal(g.n, 2);
        assert_int_equal(g.p[0].len, hlen + 500);
        assert_int_equal(g.p[1].len, hlen + 1000);

        hk_gro_free(&g);
        for (size_t i = 0; i < 4; i++)
            free(pk[i]);
    }
}

static void gro_table_full(void **state)
{
    (void)state;
    struct hk_gro g;
    assert_int_equal(hk_gro_init(&g), HK_OK);
    uint8_t pkt[200], pl[100];
    fill_random(pl, sizeof(pl));
    for (int kind = 0; kind < 2; kind++) {
        g.n = 0;
        for (size_t i = 0; i <= HK_GRO_MAX; i++) {
            struct spec s = base_spec(false);
            s.sport = (uint16_t)(1000 + i); /* all different flows */
            s.proto = kind ? 17 : 0;
            size_t len = build(pkt, &s, pl, sizeof(pl), CS_FULL);
            int rc = hk_gro_add(&g, pkt, len);
            assert_int_equal(rc, i < HK_GRO_MAX ? HK_OK : HK_E_OVERFLOW);
            assert_int_equal(g.n, i < HK_GRO_MAX ? i + 1 : HK_GRO_MAX);
            if (i == HK_GRO_MAX) { /* flush, then it is taken */
                g.n = 0;
                assert_int_equal(hk_gro_add(&g, pkt, len), HK_OK);
                assert_int_equal(g.n, 1);
                assert_memory_equal(g.p[0].buf, pkt, len);
            }
        }
    }
    /* Larger than a slot. */
    uint8_t *big = calloc(1, HK_GRO_BUF + 1);
    assert_non_null(big);
    big[0] = 0x45;
    g.n = 0;
    assert_int_equal(hk_gro_add(&g, big, HK_GRO_BUF + 1), HK_E_SYNTAX);
    assert_int_equal(g.n, 0);
    assert_int_equal(hk_gro_add(&g, big, HK_GRO_BUF), HK_OK);
    free(big);
    hk_gro_free(&g);
}

/* A long run of segments: every merged packet stays within 64 KiB, order and data kept. */
static void gro_64k(void **state)
{
    (void)state;
    for (int v6 = 0; v6 < 2; v6++) {
        for (int ts = 0; ts < 2; ts++) {
            struct spec s = base_spec(v6);
            if (ts) {
                s.opt = ts_opt;
                s.optlen = sizeof(ts_opt);
            }
            size_t mss = 1448, nseg = 100, hlen = hlen_of(&s);
            uint8_t *pl = malloc(mss * nseg), pkt[1600];
            assert_non_null(pl);
            fill_random(pl, mss * nseg);
            struct hk_gro g;
            assert_int_equal(hk_gro_init(&g), HK_OK);
            for (size_t i = 0; i < nseg; i++) {
                size_t len = mkseg(pkt, &s, s.seq + (uint32_t)(i * mss), TH_ACK, pl + i * mss, mss);
                assert_int_equal(hk_gro_add(&g, pkt, len), HK_OK);
            }
            size_t per = (HK_GRO_BUF - hlen) / mss; /* segments that fit in 64 KiB */
            assert_int_equal(g.n, (nseg + per - 1) / per);
            size_t off = 0;
            for (size_t i = 0; i < g.n; i++) {
                size_t k = nseg - off / mss < per ? nseg - off / mss : per;
                struct spec m = s;
                m.seq = s.seq + (uint32_t)off;
                assert_true(g.p[i].len <= 65535);
                check_merged(&g, i, &m, pl + off, k * mss, mss);
                off += k * mss;
            }
            assert_int_equal(off, mss * nseg);
            hk_gro_free(&g);
            free(pl);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csum_rfc1071_example),
        cmocka_unit_test(csum_random_lengths),
        cmocka_unit_test(csum_pseudo),
        cmocka_unit_test(gso_ipv4),
        cmocka_unit_test(gso_ipv6),
        cmocka_unit_test(gso_zero_payload),
        cmocka_unit_test(gso_ecn_type),
        cmocka_unit_test(gso_none_udp_csum),
        cmocka_unit_test(gso_none_udp_csum_zero),
        cmocka_unit_test(gso_none_plain_copy),
        cmocka_unit_test(gso_rejects),
        cmocka_unit_test(gso_overflow),
        cmocka_unit_test(gro_merge),
        cmocka_unit_test(gro_interleaved),
        cmocka_unit_test(gro_not_merged),
        cmocka_unit_test(gro_push_and_short),
        cmocka_unit_test(gro_table_full),
        cmocka_unit_test(gro_64k),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
