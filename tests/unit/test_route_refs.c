/* The userspace data plane's routes into its TUN device, counted by their users, without a
 * kernel: the callbacks count what would be added and deleted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "esp/route_refs.h"

struct calls {
    size_t added, deleted;
    struct hk_ip last;
    uint8_t last_len;
};

static int on_add(void *arg, const struct hk_ip *dst, uint8_t len)
{
    struct calls *c = arg;
    c->added++;
    c->last = *dst;
    c->last_len = len;
    return 0;
}

static int on_del(void *arg, const struct hk_ip *dst, uint8_t len)
{
    struct calls *c = arg;
    c->deleted++;
    c->last = *dst;
    c->last_len = len;
    return 0;
}

static struct hk_ip v4(uint32_t host_order)
{
    struct hk_ip ip = {.family = AF_INET};
    uint32_t a = htonl(host_order);
    memcpy(ip.addr, &a, 4);
    return ip;
}

/* A rekey's successor shares the route; the last user removes it. */
static void shared_by_successor(void **s)
{
    (void)s;
    struct calls c = {0};
    struct hk_route_refs r;
    hk_route_refs_init(&r, 7, on_add, on_del, &c);
    struct hk_ip a = v4(0x0a800001), b = v4(0x0a800000);
    assert_int_equal(hk_route_refs_ref(&r, &a, 32), 0);
    assert_int_equal(hk_route_refs_ref(&r, &a, 32), 0); /* the successor */
    assert_int_equal(c.added, 1);
    assert_int_equal(hk_route_refs_users(&r, &a, 32), 2);
    /* Same address, other length, other family: other routes. */
    assert_int_equal(hk_route_refs_ref(&r, &b, 24), 0);
    struct hk_ip six = {.family = AF_INET6};
    memcpy(six.addr, a.addr, 4);
    assert_int_equal(hk_route_refs_ref(&r, &six, 32), 0);
    assert_int_equal(c.added, 3);
    assert_int_equal(r.count, 3);
    hk_route_refs_unref(&r, &a, 32); /* the predecessor goes */
    assert_int_equal(c.deleted, 0);
    hk_route_refs_unref(&r, &a, 32);
    assert_int_equal(c.deleted, 1);
    assert_memory_equal(c.last.addr, a.addr, 4);
    assert_int_equal(c.last_len, 32);
    assert_int_equal(hk_route_refs_users(&r, &a, 32), 0);
    hk_route_refs_unref(&r, &a, 32); /* unknown: ignored */
    assert_int_equal(c.deleted, 1);
    hk_route_refs_flush(&r); /* destroy: the rest goes */
    assert_int_equal(c.deleted, 3);
    assert_int_equal(r.count, 0);
}

/* A remote-access gateway's routes, one per client: no limit, each removed with its last
 * user, the rest with the data plane. */
static void many_routes(void **s)
{
    (void)s;
    enum { N = 100000 };
    struct calls c = {0};
    struct hk_route_refs r;
    hk_route_refs_init(&r, 9, on_add, on_del, &c);
    for (uint32_t i = 0; i < N; i++) {
        struct hk_ip a = v4(0x0a800000 + i);
        assert_int_equal(hk_route_refs_ref(&r, &a, 32), 0);
    }
    assert_int_equal(c.added, N);
    assert_int_equal(r.count, N);
    for (uint32_t i = 0; i < N; i += 2) {
        struct hk_ip a = v4(0x0a800000 + i);
        hk_route_refs_unref(&r, &a, 32);
    }
    assert_int_equal(c.deleted, N / 2);
    for (uint32_t i = 0; i < N; i++) {
        struct hk_ip a = v4(0x0a800000 + i);
        assert_int_equal(hk_route_refs_users(&r, &a, 32), i % 2);
    }
    hk_route_refs_flush(&r);
    assert_int_equal(c.deleted, N);
}

/* ---- permanent routes (address pools) against a fake kernel ---- */

#define KMAX 64

/* The kernel's routes into the TUN device, and the prefixes the data plane holds refs to:
 * after every kernel call, each held prefix must still have a route (no gap). */
struct kernel {
    struct hk_route_pfx routes[KMAX];
    size_t n, adds, dels;
    struct hk_route_pfx refuse; /* an add of this prefix fails (len 255: none) */
    struct hk_route_pfx held[KMAX];
    size_t nheld;
};

static struct hk_route_pfx P(uint32_t host_order, uint8_t len) {
    return (struct hk_route_pfx){.dst = v4(host_order), .len = len};
}

static bool
pfx_eq(const struct hk_route_pfx *a, const struct hk_ip *d, uint8_t len)
{
    return a->len == len && a->dst.family == d->family && !memcmp(a->dst.addr, d->addr, 16);
}

static bool in_route(const struct hk_route_pfx *r, const struct hk_route_pfx *p)
{
    uint32_t a, b;
    memcpy(&a, r->dst.addr, 4);
    memcpy(&b, p->dst.addr, 4);
    uint32_t m = r->len ? htonl(~0u << (32 - r->len)) : 0;
    return p->len >= r->len && !((a ^ b) & m);
}

static ssize_t k_find(const struct kernel *k, const struct hk_ip *d, uint8_t len)
{
    for (size_t i = 0; i < k->n; i++)
        if (pfx_eq(&k->routes[i], d, len))
            return (ssize_t)i;
    return -1;
}

static void no_gap(const struct kernel *k)
{
    for (size_t h = 0; h < k->nheld; h++) {
        bool ok = false;
        for (size_t i = 0; i < k->n && !ok; i++)
            ok = in_route(&k->routes[i], &k->held[h]);
        if (!ok)
            fail_msg("held prefix %zu (/%u) has no route", h, k->held[h].len);
    }
}

static int k_add(void *arg, const struct hk_ip *d, uint8_t len)
{
    struct kernel *k = arg;
    if (k_find(k, d, len) >= 0)
        fail_msg("route added twice (the kernel says EEXIST)");
    if (pfx_eq(&k->refuse, d, len))
        return -1;
    assert_true(k->n < KMAX);
    k->routes[k->n++] = (struct hk_route_pfx){.dst = *d, .len = len};
    k->adds++;
    return 0;
}

static int k_del(void *arg, const struct hk_ip *d, uint8_t len)
{
    struct kernel *k = arg;
    ssize_t i = k_find(k, d, len);
    if (i < 0)
        fail_msg("deleting a route that is not there");
    k->routes[i] = k->routes[--k->n];
    k->dels++;
    no_gap(k);
    return 0;
}

static void hold(struct kernel *k, struct hk_route_refs *r, struct hk_route_pfx p)
{
    k->held[k->nheld++] = p;
    assert_int_equal(hk_route_refs_ref(r, &p.dst, p.len), 0);
    no_gap(k);
}

static void release(struct kernel *k, struct hk_route_refs *r, struct hk_route_pfx p)
{
    for (size_t i = 0; i < k->nheld; i++)
        if (pfx_eq(&k->held[i], &p.dst, p.len)) {
            k->held[i] = k->held[--k->nheld];
            break;
        }
    hk_route_refs_unref(r, &p.dst, p.len);
    no_gap(k);
}

static void k_each(void *arg, struct hk_route_refs *r, hk_route_visit visit)
{
    struct kernel *k = arg;
    for (size_t i = 0; i < k->nheld; i++)
        visit(r, &k->held[i].dst, k->held[i].len);
}

static void set_perm(struct kernel *k, struct hk_route_refs *r, const struct hk_route_pfx *p,
                     size_t n)
{
    assert_int_equal(hk_route_refs_set_permanent(r, p, n, k_each, k), 0);
    no_gap(k);
}

static bool k_has(const struct kernel *k, struct hk_route_pfx p)
{
    return k_find(k, &p.dst, p.len) >= 0;
}

/* Clients inside a pool need no route of their own: no kernel call per client. */
static void pool_covers_clients(void **s)
{
    (void)s;
    struct kernel k = {.refuse.len = 255};
    struct hk_route_refs r;
    hk_route_refs_init(&r, 3, k_add, k_del, &k);
    struct hk_route_pfx pool = P(0x0a800000, 14); /* 10.128.0.0/14 */
    set_perm(&k, &r, &pool, 1);
    assert_int_equal(k.n, 1);
    for (uint32_t i = 1; i <= 20; i++)
        hold(&k, &r, P(0x0a800000 + i, 32));
    hold(&k, &r, P(0x0a800005, 32)); /* a rekey's successor */
    assert_int_equal(k.adds, 1);
    assert_int_equal(r.count, 0);
    assert_int_equal(r.covered, 21);
    struct hk_route_pfx c1 = P(0x0a800001, 32), wide = P(0x0a000000, 8);
    assert_true(hk_route_refs_covered(&r, &c1.dst, 32));
    assert_int_equal(hk_route_refs_users(&r, &c1.dst, 32), 0);
    /* wider than the pool, or outside it: routes of their own */
    assert_false(hk_route_refs_covered(&r, &wide.dst, 8));
    hold(&k, &r, wide);
    hold(&k, &r, P(0x0a840001, 32)); /* 10.132.0.1: just past the pool */
    assert_int_equal(k.adds, 3);
    assert_int_equal(r.count, 2);
    for (uint32_t i = 1; i <= 20; i++)
        release(&k, &r, P(0x0a800000 + i, 32));
    release(&k, &r, P(0x0a800005, 32));
    assert_int_equal(k.dels, 0);
    assert_int_equal(r.covered, 0);
    assert_true(k_has(&k, pool)); /* the pool's route stays while hiked runs */
    k.nheld = 0;
    hk_route_refs_flush(&r); /* shutdown: every route goes, held or not */
    assert_int_equal(k.n, 0);
}

/* A reload changes the pools: clients of a pool that went get routes of their own, clients
 * of a new pool give theirs up, and no held prefix is ever without a route. */
static void pools_change_on_reload(void **s)
{
    (void)s;
    struct kernel k = {.refuse.len = 255};
    struct hk_route_refs r;
    hk_route_refs_init(&r, 4, k_add, k_del, &k);
    struct hk_route_pfx a = P(0x0a030000, 24), b = P(0x0a040000, 24); /* 10.3/24, 10.4/24 */
    struct hk_route_pfx a1 = P(0x0a030001, 32), a2 = P(0x0a030002, 32), b1 = P(0x0a040001, 32);
    set_perm(&k, &r, &a, 1);
    hold(&k, &r, a1);
    hold(&k, &r, a2);
    hold(&k, &r, a2);
    hold(&k, &r, b1); /* not in a pool yet: its own route */
    assert_true(k_has(&k, b1));
    assert_int_equal(k.n, 2);
    struct hk_route_pfx both[] = {b, a, b}; /* duplicates are one route */
    set_perm(&k, &r, both, 3);
    assert_int_equal(k.n, 2); /* a and b; b1's own route went after b came */
    assert_false(k_has(&k, b1));
    assert_int_equal(r.nperm, 2);
    set_perm(&k, &r, &b, 1); /* pool a removed */
    assert_true(k_has(&k, a1));
    assert_true(k_has(&k, a2));
    assert_false(k_has(&k, a));
    assert_int_equal(hk_route_refs_users(&r, &a2.dst, 32), 2);
    assert_int_equal(r.covered, 1);
    set_perm(&k, &r, NULL, 0); /* no pools at all */
    assert_int_equal(k.n, 3);
    assert_int_equal(r.covered, 0);
    release(&k, &r, a2);
    assert_true(k_has(&k, a2));
    release(&k, &r, a2);
    release(&k, &r, a1);
    release(&k, &r, b1);
    assert_int_equal(k.n, 0);
    assert_int_equal(r.count, 0);
    hk_route_refs_flush(&r);
}

/* A pool route the kernel refuses covers nothing; a pool equal to a child's own prefix takes
 * over that route (no second add, no delete) and hands it back. */
static void refused_and_equal(void **s)
{
    (void)s;
    struct kernel k = {.refuse = P(0x0a050000, 24)};
    struct hk_route_refs r;
    hk_route_refs_init(&r, 5, k_add, k_del, &k);
    struct hk_route_pfx bad = P(0x0a050000, 24), c = P(0x0a050009, 32);
    set_perm(&k, &r, &bad, 1);
    assert_int_equal(r.nperm, 0);
    hold(&k, &r, c);
    assert_true(k_has(&k, c));
    release(&k, &r, c);
    struct hk_route_pfx site = P(0x0a060000, 24); /* a site-to-site child's remote subnet */
    hold(&k, &r, site);
    size_t adds = k.adds, dels = k.dels;
    set_perm(&k, &r, &site, 1);
    assert_int_equal(k.adds, adds);
    assert_int_equal(k.dels, dels);
    assert_int_equal(r.count, 0);
    assert_int_equal(r.covered, 1);
    set_perm(&k, &r, NULL, 0);
    assert_int_equal(k.adds, adds);
    assert_int_equal(k.dels, dels);
    assert_int_equal(hk_route_refs_users(&r, &site.dst, 24), 1);
    release(&k, &r, site);
    assert_int_equal(k.n, 0);
    hk_route_refs_flush(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shared_by_successor), cmocka_unit_test(many_routes),
        cmocka_unit_test(pool_covers_clients), cmocka_unit_test(pools_change_on_reload),
        cmocka_unit_test(refused_and_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
