/* Packet selectors and the SPD of the userspace data plane (RFC 4301 4.4.1, 5.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "esp/spd.h"

static size_t v4_packet(uint8_t *p, const char *src, const char *dst, uint8_t proto, uint16_t sport,
                        uint16_t dport, uint16_t frag)
{
    memset(p, 0, 28);
    p[0] = 0x45;
    p[6] = (uint8_t)(frag >> 8), p[7] = (uint8_t)frag;
    p[9] = proto;
    inet_pton(AF_INET, src, p + 12);
    inet_pton(AF_INET, dst, p + 16);
    p[20] = (uint8_t)(sport >> 8), p[21] = (uint8_t)sport;
    p[22] = (uint8_t)(dport >> 8), p[23] = (uint8_t)dport;
    return 28;
}

static struct ike_ts v4ts(const char *lo, const char *hi, uint8_t proto, uint16_t p1, uint16_t p2)
{
    struct ike_ts t = {
        .type = IKE_TS_IPV4_ADDR_RANGE, .ip_proto = proto, .start_port = p1, .end_port = p2};
    inet_pton(AF_INET, lo, t.start_addr);
    inet_pton(AF_INET, hi, t.end_addr);
    return t;
}

static void parse_v4_and_v6(void **s)
{
    (void)s;
    uint8_t p[80];
    struct hk_pkt_sel sel;
    size_t n = v4_packet(p, "10.1.0.5", "10.2.0.9", IPPROTO_TCP, 1234, 443, 0);
    assert_int_equal(hk_pkt_sel_parse(p, n, &sel), 0);
    assert_int_equal(sel.family, AF_INET);
    assert_true(sel.has_ports);
    assert_int_equal(sel.sport, 1234);
    assert_int_equal(sel.dport, 443);
    /* A later fragment has no ports. */
    v4_packet(p, "10.1.0.5", "10.2.0.9", IPPROTO_TCP, 1234, 443, 0x0010);
    assert_int_equal(hk_pkt_sel_parse(p, n, &sel), 0);
    assert_false(sel.has_ports);
    /* IPv6 with a hop-by-hop header before UDP. */
    memset(p, 0, sizeof(p));
    p[0] = 0x60;
    p[6] = 0; /* hop-by-hop */
    inet_pton(AF_INET6, "fd00:1::5", p + 8);
    inet_pton(AF_INET6, "fd00:2::9", p + 24);
    p[40] = IPPROTO_UDP;
    p[41] = 0; /* 8 octets */
    p[48] = 0x13, p[49] = 0x88, p[50] = 0x00, p[51] = 0x35;
    assert_int_equal(hk_pkt_sel_parse(p, 56, &sel), 0);
    assert_int_equal(sel.family, AF_INET6);
    assert_int_equal(sel.proto, IPPROTO_UDP);
    assert_int_equal(sel.dport, 53);
    /* Garbage and truncation are refused, never read past. */
    for (size_t len = 0; len < 20; len++)
        assert_int_equal(hk_pkt_sel_parse(p, len, &sel), HK_E_SYNTAX);
    p[0] = 0x20;
    assert_int_equal(hk_pkt_sel_parse(p, 56, &sel), HK_E_SYNTAX);
}

static void lookup_newest_first(void **s)
{
    (void)s;
    struct hk_spd spd;
    hk_spd_init(&spd, 1);
    struct ike_ts l = v4ts("10.1.0.0", "10.1.255.255", 0, 0, 65535);
    struct ike_ts r = v4ts("10.2.0.0", "10.2.255.255", 0, 0, 65535);
    struct ike_ts web = v4ts("10.3.0.0", "10.3.0.255", IPPROTO_TCP, 443, 443);
    assert_int_equal(hk_spd_add(&spd, 7, &l, 1, &r, 1, true), 0);
    assert_int_equal(hk_spd_add(&spd, 9, &l, 1, &web, 1, true), 0);
    uint8_t p[28];
    struct hk_pkt_sel sel;
    hk_pkt_sel_parse(p, v4_packet(p, "10.1.0.5", "10.2.0.9", IPPROTO_ICMP, 0, 0, 0), &sel);
    assert_int_equal(hk_spd_lookup_out(&spd, &sel), 7);
    hk_pkt_sel_parse(p, v4_packet(p, "10.1.0.5", "10.3.0.9", IPPROTO_TCP, 999, 443, 0), &sel);
    assert_int_equal(hk_spd_lookup_out(&spd, &sel), 9);
    hk_pkt_sel_parse(p, v4_packet(p, "10.1.0.5", "10.3.0.9", IPPROTO_TCP, 999, 80, 0), &sel);
    assert_int_equal(hk_spd_lookup_out(&spd, &sel), 0);
    hk_pkt_sel_parse(p, v4_packet(p, "10.9.0.5", "10.2.0.9", IPPROTO_ICMP, 0, 0, 0), &sel);
    assert_int_equal(hk_spd_lookup_out(&spd, &sel), 0);
    /* A successor we made as responder waits behind its predecessor... */
    assert_int_equal(hk_spd_add(&spd, 13, &l, 1, &r, 1, false), 0);
    hk_pkt_sel_parse(p, v4_packet(p, "10.1.0.5", "10.2.0.9", IPPROTO_ICMP, 0, 0, 0), &sel);
    assert_int_equal(hk_spd_lookup_out(&spd, &sel), 7);
    hk_spd_del(&spd, 13);
    /* ...one we initiated takes the traffic at once. */
    assert_int_equal(hk_spd_add(&spd, 11, &l, 1, &r, 1, true), 0);
    hk_pkt_sel_parse(p, v4_packet(p, "10.1.0.5", "10.2.0.9", IPPROTO_ICMP, 0, 0, 0), &sel);
    assert_int_equal(hk_spd_lookup_out(&spd, &sel), 11);
    hk_spd_del(&spd, 11);
    assert_int_equal(hk_spd_lookup_out(&spd, &sel), 7);
    /* Inbound check: the reverse direction of the SA's selectors (RFC 4301 5.2). */
    hk_pkt_sel_parse(p, v4_packet(p, "10.2.0.9", "10.1.0.5", IPPROTO_ICMP, 0, 0, 0), &sel);
    assert_true(hk_spd_check_in(&spd, 7, &sel));
    assert_false(hk_spd_check_in(&spd, 9, &sel));
    assert_false(hk_spd_check_in(&spd, 12345, &sel));
    hk_spd_free(&spd);
}

static void opaque_ports(void **s)
{
    (void)s;
    struct ike_ts t = v4ts("10.0.0.0", "10.0.0.255", 0, 65535, 0);
    uint8_t a[4] = {10, 0, 0, 1};
    assert_true(hk_ts_match(&t, AF_INET, a, IPPROTO_ICMP, false, 0));
    assert_false(hk_ts_match(&t, AF_INET, a, IPPROTO_TCP, true, 80));
}

/* ---- the reference: the SPD as RFC 4301 4.4.1 lists it, one ordered array ---- */

#define REF_MAX 256

struct ref_entry {
    uint64_t id;
    size_t nl, nr;
    struct ike_ts l[HK_SPD_MAX_TS], r[HK_SPD_MAX_TS];
};

struct ref_spd {
    struct ref_entry e[REF_MAX];
    size_t n;
};

static void ref_del(struct ref_spd *m, uint64_t id)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->e[i].id == id) {
            memmove(&m->e[i], &m->e[i + 1], (m->n - i - 1) * sizeof(m->e[0]));
            m->n--;
            return;
        }
}

/* First: before all others (a child we initiated); else last (one we answered). */
static void ref_add(struct ref_spd *m, const struct ref_entry *x, bool first)
{
    ref_del(m, x->id);
    assert_true(m->n < REF_MAX);
    if (first) {
        memmove(&m->e[1], &m->e[0], m->n * sizeof(m->e[0]));
        m->e[0] = *x;
    } else {
        m->e[m->n] = *x;
    }
    m->n++;
}

static bool ref_side(const struct ike_ts *ts, size_t n, const struct hk_pkt_sel *p, bool src)
{
    for (size_t i = 0; i < n; i++)
        if (hk_ts_match(&ts[i], p->family, src ? p->src : p->dst, p->proto, p->has_ports,
                        src ? p->sport : p->dport))
            return true;
    return false;
}

static uint64_t ref_lookup(const struct ref_spd *m, const struct hk_pkt_sel *p)
{
    for (size_t i = 0; i < m->n; i++)
        if (ref_side(m->e[i].l, m->e[i].nl, p, true) && ref_side(m->e[i].r, m->e[i].nr, p, false))
            return m->e[i].id;
    return 0;
}

static bool ref_check_in(const struct ref_spd *m, uint64_t id, const struct hk_pkt_sel *p)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->e[i].id == id)
            return ref_side(m->e[i].r, m->e[i].nr, p, true) &&
                   ref_side(m->e[i].l, m->e[i].nl, p, false);
    return false;
}

/* ---- random selectors and packets over a small address space, so that they meet ---- */

static uint64_t rnd(uint64_t *st)
{
    uint64_t x = *st; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *st = x;
}

static unsigned pick(uint64_t *st, unsigned n)
{
    return (unsigned)(rnd(st) % n);
}

/* An address of the space: 10.0.0-3.x or fd00::0-3:x (the last two octets vary). */
static void rnd_addr(uint64_t *st, bool v6, uint8_t *a)
{
    memset(a, 0, 16);
    size_t alen = v6 ? 16 : 4;
    a[0] = v6 ? 0xfd : 10;
    a[alen - 2] = (uint8_t)pick(st, 4);
    a[alen - 1] = (uint8_t)pick(st, 256);
}

static struct ike_ts rnd_ts(uint64_t *st)
{
    bool v6 = pick(st, 3) == 0;
    size_t alen = v6 ? 16 : 4, bits = 8 * alen;
    struct ike_ts t = {.type = v6 ? IKE_TS_IPV6_ADDR_RANGE : IKE_TS_IPV4_ADDR_RANGE,
                       .end_port = 65535};
    rnd_addr(st, v6, t.start_addr);
    switch (pick(st, 5)) {
    case 0: /* one address: the remote-access case */
    case 1:
        memcpy(t.end_addr, t.start_addr, 16);
        break;
    case 2: { /* a prefix of 22 to 32 (118 to 128) bits */
        size_t len = bits - pick(st, 11);
        memcpy(t.end_addr, t.start_addr, 16);
        for (size_t b = len; b < bits; b++) {
            t.start_addr[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
            t.end_addr[b / 8] |= (uint8_t)(0x80 >> (b % 8));
        }
        break;
    }
    case 3: { /* a range, most often no prefix */
        uint8_t b[16];
        rnd_addr(st, v6, b);
        bool swap = memcmp(b, t.start_addr, alen) < 0;
        memcpy(t.end_addr, swap ? t.start_addr : b, 16);
        if (swap)
            memcpy(t.start_addr, b, 16);
        break;
    }
    default: /* everything */
        memset(t.start_addr, 0, 16);
        memset(t.end_addr, 0xff, alen);
    }
    static const uint8_t protos[] = {0, 0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP};
    t.ip_proto = protos[pick(st, sizeof(protos))];
    switch (pick(st, 5)) {
    case 0: /* one port */
        t.start_port = t.end_port = (uint16_t)(1 + pick(st, 4));
        break;
    case 1: /* a port range */
        t.start_port = (uint16_t)pick(st, 3);
        t.end_port = (uint16_t)(t.start_port + pick(st, 3));
        break;
    case 2: /* OPAQUE (RFC 7296 3.13.1) */
        t.start_port = 65535;
        t.end_port = 0;
        break;
    default: /* any port */
        break;
    }
    return t;
}

static void rnd_entry(uint64_t *st, struct ref_entry *x)
{
    memset(x, 0, sizeof(*x));
    x->id = 1 + pick(st, 200);
    x->nl = 1 + pick(st, 3);
    x->nr = pick(st, 20) ? 1 + pick(st, pick(st, 4) ? 1 : 3) : 0;
    for (size_t i = 0; i < x->nl; i++)
        x->l[i] = rnd_ts(st);
    for (size_t i = 0; i < x->nr; i++)
        x->r[i] = rnd_ts(st);
}

static void rnd_packet(uint64_t *st, struct hk_pkt_sel *p)
{
    static const uint8_t protos[] = {IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, 47};
    memset(p, 0, sizeof(*p));
    bool v6 = pick(st, 3) == 0;
    p->family = v6 ? AF_INET6 : AF_INET;
    rnd_addr(st, v6, p->src);
    rnd_addr(st, v6, p->dst);
    p->proto = protos[pick(st, sizeof(protos))];
    p->has_ports = (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP) && pick(st, 8);
    if (p->has_ports) {
        p->sport = (uint16_t)pick(st, 6);
        p->dport = (uint16_t)pick(st, 6);
    }
}

/* The indexed SPD against the reference, over random adds, deletes and lookups. */
static void differential(void **s)
{
    (void)s;
    static struct ref_spd ref;
    /* Half the entries borrow the test's selectors (hk_spd_add_sel), with an arg each. */
    static struct hk_sel *lent[201];
    static char args[201];
    size_t hits = 0, lookups = 0;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        uint64_t st = 0x9e3779b97f4a7c15ULL * seed;
        struct hk_spd spd;
        hk_spd_init(&spd, seed);
        ref.n = 0;
        for (int op = 0; op < 4000; op++) {
            unsigned what = pick(&st, 10);
            if (what < 4) {
                struct ref_entry x;
                rnd_entry(&st, &x);
                bool first = pick(&st, 2);
                struct hk_sel *old = lent[x.id];
                lent[x.id] = NULL;
                if (pick(&st, 2)) {
                    assert_int_equal(hk_spd_add(&spd, x.id, x.l, x.nl, x.r, x.nr, first), 0);
                } else {
                    lent[x.id] = hk_sel_new(x.l, x.nl, x.r, x.nr);
                    assert_non_null(lent[x.id]);
                    assert_int_equal(hk_spd_add_sel(&spd, x.id, lent[x.id], &args[x.id], first), 0);
                }
                free(old); /* the SPD let go of it with the replaced entry */
                ref_add(&ref, &x, first);
            } else if (what < 6) {
                uint64_t id = 1 + pick(&st, 200);
                hk_spd_del(&spd, id);
                free(lent[id]);
                lent[id] = NULL;
                ref_del(&ref, id);
            } else {
                struct hk_pkt_sel p;
                rnd_packet(&st, &p);
                uint64_t want = ref_lookup(&ref, &p);
                assert_int_equal(hk_spd_lookup_out(&spd, &p), want);
                assert_ptr_equal(hk_spd_lookup_arg(&spd, &p),
                                 want && lent[want] ? &args[want] : NULL);
                uint64_t id = 1 + pick(&st, 200);
                assert_int_equal(hk_spd_check_in(&spd, id, &p), ref_check_in(&ref, id, &p));
                lookups++;
                hits += want != 0;
            }
            assert_int_equal(hk_spd_count(&spd), ref.n);
        }
        hk_spd_free(&spd);
        for (size_t i = 0; i < 201; i++) {
            free(lent[i]);
            lent[i] = NULL;
        }
    }
    /* The space is small enough that lookups find policies, and large enough that not all. */
    assert_true(hits > lookups / 10);
    assert_true(hits < lookups);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A remote-access gateway: 100,000 children, each to one virtual IP (10.128.0.0/14). */
static void hundred_thousand(void **s)
{
    (void)s;
    enum { N = 100000 };
    struct hk_spd spd;
    hk_spd_init(&spd, 42);
    struct ike_ts l = v4ts("10.200.0.0", "10.200.255.255", 0, 0, 65535);
    struct ike_ts r = v4ts("10.128.0.0", "10.128.0.0", 0, 0, 65535);
    struct hk_pkt_sel p = {.family = AF_INET, .proto = IPPROTO_TCP, .has_ports = true};
    inet_pton(AF_INET, "10.200.0.7", p.src);
    double t0 = now_s();
    for (uint32_t i = 0; i < N; i++) {
        uint32_t a = htonl(0x0a800000u + i);
        memcpy(r.start_addr, &a, 4);
        memcpy(r.end_addr, &a, 4);
        assert_int_equal(hk_spd_add(&spd, 1000 + i, &l, 1, &r, 1, i % 2), 0);
    }
    double t1 = now_s();
    for (uint32_t i = 0; i < N; i++) {
        uint32_t a = htonl(0x0a800000u + i);
        memcpy(p.dst, &a, 4);
        assert_int_equal(hk_spd_lookup_out(&spd, &p), 1000 + i);
    }
    uint32_t past = htonl(0x0a800000u + N);
    memcpy(p.dst, &past, 4);
    assert_int_equal(hk_spd_lookup_out(&spd, &p), 0);
    double t2 = now_s();
    for (uint32_t i = 0; i < N; i++)
        hk_spd_del(&spd, 1000 + i);
    double t3 = now_s();
    assert_int_equal(hk_spd_count(&spd), 0);
    print_message("spd: %d children: add %.0f ms, lookup each %.0f ms, delete %.0f ms\n", N,
                  (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3);
    hk_spd_free(&spd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_v4_and_v6),  cmocka_unit_test(lookup_newest_first),
        cmocka_unit_test(opaque_ports),     cmocka_unit_test(differential),
        cmocka_unit_test(hundred_thousand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
