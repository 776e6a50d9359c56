/*
 * Virtual IP pools: sequential leases, identity stickiness, requested addresses,
 * exhaustion and eviction of remembered leases, release and reuse, IPv6 ranges with
 * carries across octets and halves, the size cap, and 100,000 leases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "config/config.h"
#include "ike/pool.h"

static struct hk_ippool *pool(const char *range)
{
    struct hk_pool conf = {.name = "vip"};
    char err[128];
    assert_int_equal(hk_ip_range_parse(range, &conf.range, NULL, err, sizeof(err)), 0);
    struct hk_ippool *p = NULL;
    assert_int_equal(hk_ippool_new(&conf, &p), 0);
    assert_non_null(p);
    return p;
}

static struct hk_ip ip(const char *s)
{
    struct hk_ip r = {0};
    r.family = strchr(s, ':') ? AF_INET6 : AF_INET;
    assert_int_equal(inet_pton(r.family, s, r.addr), 1);
    return r;
}

static const char *str(const struct hk_ip *a)
{
    static char buf[INET6_ADDRSTRLEN];
    return inet_ntop(a->family, a->addr, buf, sizeof(buf));
}

/* Acquires for identity id (a string; "" for none) and returns the address as text. */
static const char *get(struct hk_ippool *p, const char *id, const char *want)
{
    struct hk_ip out, req;
    if (want)
        req = ip(want);
    int rc = hk_ippool_acquire(p, (const uint8_t *)id, strlen(id), want ? &req : NULL, &out);
    if (rc)
        return hk_strerror(rc);
    return str(&out);
}

static int put(struct hk_ippool *p, const char *addr)
{
    struct hk_ip a = ip(addr);
    return hk_ippool_release(p, &a);
}

static void sequential(void **state)
{
    (void)state;
    struct hk_ippool *p = pool("10.3.0.0/24");
    assert_string_equal(hk_ippool_name(p), "vip");
    assert_int_equal(hk_ippool_family(p), AF_INET);
    assert_int_equal(hk_ippool_size(p), 254); /* no .0, no .255 */
    assert_int_equal(hk_ippool_in_use(p), 0);
    assert_string_equal(get(p, "alice", NULL), "10.3.0.1");
    assert_string_equal(get(p, "bob", NULL), "10.3.0.2");
    assert_string_equal(get(p, "carol", NULL), "10.3.0.3");
    assert_int_equal(hk_ippool_in_use(p), 3);
    /* Two devices with one identity get two addresses. */
    assert_string_equal(get(p, "alice", NULL), "10.3.0.4");
    assert_int_equal(hk_ippool_in_use(p), 4);
    hk_ippool_free(p);

    /* A range that is not a CIDR block is used whole; one that is, is trimmed. */
    p = pool("10.0.0.5-10.0.0.7");
    assert_int_equal(hk_ippool_size(p), 3);
    assert_string_equal(get(p, "a", NULL), "10.0.0.5");
    hk_ippool_free(p);
    p = pool("10.0.0.0-10.0.0.255");
    assert_int_equal(hk_ippool_size(p), 254);
    hk_ippool_free(p);
    p = pool("10.0.0.8/31");
    assert_int_equal(hk_ippool_size(p), 2);
    assert_string_equal(get(p, "a", NULL), "10.0.0.8");
    hk_ippool_free(p);
    p = pool("10.0.0.9");
    assert_int_equal(hk_ippool_size(p), 1);
    assert_string_equal(get(p, "a", NULL), "10.0.0.9");
    hk_ippool_free(p);
}

static void stickiness(void **state)
{
    (void)state;
    struct hk_ippool *p = pool("10.3.0.0/24");
    assert_string_equal(get(p, "alice", NULL), "10.3.0.1");
    assert_string_equal(get(p, "bob", NULL), "10.3.0.2");
    assert_int_equal(put(p, "10.3.0.1"), 0);
    assert_int_equal(put(p, "10.3.0.2"), 0);
    assert_int_equal(hk_ippool_in_use(p), 0);
    /* A newcomer gets a fresh address, not one remembered for someone else. */
    assert_string_equal(get(p, "dave", NULL), "10.3.0.3");
    /* Reconnecting peers get their old addresses back, in any order. */
    assert_string_equal(get(p, "bob", NULL), "10.3.0.2");
    assert_string_equal(get(p, "alice", NULL), "10.3.0.1");
    assert_int_equal(hk_ippool_in_use(p), 3);
    /* Identities are compared as bytes: a prefix or a longer string is someone else. */
    assert_string_equal(get(p, "alic", NULL), "10.3.0.4");
    assert_string_equal(get(p, "alice2", NULL), "10.3.0.5");
    static const uint8_t bin[] = {0, 1, 0, 2};
    struct hk_ip a, b;
    assert_int_equal(hk_ippool_acquire(p, bin, 4, NULL, &a), 0);
    assert_int_equal(hk_ippool_release(p, &a), 0);
    assert_int_equal(hk_ippool_acquire(p, bin, 4, NULL, &b), 0);
    assert_memory_equal(&a, &b, sizeof(a));
    hk_ippool_free(p);
}

static void requested(void **state)
{
    (void)state;
    struct hk_ippool *p = pool("10.3.0.0/24");
    assert_string_equal(get(p, "alice", "10.3.0.100"), "10.3.0.100");
    /* Taken: someone else asking for it gets a fresh one. */
    assert_string_equal(get(p, "bob", "10.3.0.100"), "10.3.0.1");
    /* Outside the pool, the other family, the trimmed network address: ignored. */
    assert_string_equal(get(p, "carol", "192.0.2.1"), "10.3.0.2");
    assert_string_equal(get(p, "dave", "2001:db8::1"), "10.3.0.3");
    assert_string_equal(get(p, "erin", "10.3.0.0"), "10.3.0.4");
    assert_string_equal(get(p, "frank", "10.3.0.255"), "10.3.0.5");
    /* The same identity reconnecting before its old SA is gone shares its address. */
    assert_string_equal(get(p, "alice", "10.3.0.100"), "10.3.0.100");
    assert_int_equal(hk_ippool_in_use(p), 6);
    assert_int_equal(put(p, "10.3.0.100"), 0);
    assert_int_equal(hk_ippool_in_use(p), 6); /* still held by the other lease */
    assert_int_equal(put(p, "10.3.0.100"), 0);
    assert_int_equal(hk_ippool_in_use(p), 5);
    /* A free address remembered for alice is given to whoever asks for it. */
    assert_string_equal(get(p, "bob", "10.3.0.100"), "10.3.0.100");
    /* ... and alice, who lost it, gets a fresh one. */
    assert_string_equal(get(p, "alice", NULL), "10.3.0.6");
    /* Asking for an address while holding a released one: the request wins. */
    assert_int_equal(put(p, "10.3.0.6"), 0);
    assert_string_equal(get(p, "alice", "10.3.0.200"), "10.3.0.200");
    assert_string_equal(get(p, "alice", NULL), "10.3.0.6");
    hk_ippool_free(p);
}

static void exhaustion(void **state)
{
    (void)state;
    struct hk_ippool *p = pool("10.9.0.0/30"); /* .1 and .2 */
    assert_int_equal(hk_ippool_size(p), 2);
    assert_string_equal(get(p, "a", NULL), "10.9.0.1");
    assert_string_equal(get(p, "b", NULL), "10.9.0.2");
    struct hk_ip out;
    assert_int_equal(hk_ippool_acquire(p, (const uint8_t *)"c", 1, NULL, &out), HK_E_NOTFOUND);
    assert_int_equal(hk_ippool_in_use(p), 2);
    /* Releases remember a and b; c then takes the one released longest ago. */
    assert_int_equal(put(p, "10.9.0.2"), 0);
    assert_int_equal(put(p, "10.9.0.1"), 0);
    assert_string_equal(get(p, "c", NULL), "10.9.0.2");
    /* b lost its address; a still has its own. */
    assert_string_equal(get(p, "b", NULL), "10.9.0.1");
    assert_int_equal(hk_ippool_acquire(p, (const uint8_t *)"a", 1, NULL, &out), HK_E_NOTFOUND);
    /* A failed acquire leaves nothing behind. */
    assert_int_equal(hk_ippool_in_use(p), 2);
    assert_int_equal(put(p, "10.9.0.1"), 0);
    assert_string_equal(get(p, "a", NULL), "10.9.0.1");
    hk_ippool_free(p);
}

static void release_and_reuse(void **state)
{
    (void)state;
    struct hk_ippool *p = pool("10.3.0.0/24");
    assert_int_equal(put(p, "10.3.0.1"), HK_E_NOTFOUND); /* never leased */
    assert_int_equal(put(p, "192.0.2.1"), HK_E_NOTFOUND);
    assert_int_equal(put(p, "2001:db8::1"), HK_E_NOTFOUND);
    assert_string_equal(get(p, "a", NULL), "10.3.0.1");
    assert_int_equal(put(p, "10.3.0.1"), 0);
    assert_int_equal(put(p, "10.3.0.1"), HK_E_NOTFOUND); /* twice */
    /* Without an identity nothing is remembered: the address is fresh again. */
    assert_string_equal(get(p, "", NULL), "10.3.0.2");
    assert_int_equal(put(p, "10.3.0.2"), 0);
    assert_string_equal(get(p, "", NULL), "10.3.0.2");
    assert_string_equal(get(p, "", NULL), "10.3.0.3");
    /* Anonymous leases are never shared, even when asked for. */
    assert_string_equal(get(p, "", "10.3.0.3"), "10.3.0.4");
    assert_int_equal(hk_ippool_in_use(p), 3);
    struct hk_ip out;
    assert_int_equal(hk_ippool_acquire(p, NULL, 3, NULL, &out), HK_E_INVALID);
    assert_int_equal(hk_ippool_acquire(p, (const uint8_t *)"a", 1, NULL, NULL), HK_E_INVALID);
    assert_int_equal(hk_ippool_release(p, NULL), HK_E_INVALID);
    hk_ippool_free(p);
}

static void ipv6(void **state)
{
    (void)state;
    struct hk_ippool *p = pool("2001:db8:3::/64");
    assert_int_equal(hk_ippool_family(p), AF_INET6);
    assert_int_equal(hk_ippool_size(p), HK_IPPOOL_MAX_SIZE); /* capped */
    assert_string_equal(get(p, "a", NULL), "2001:db8:3::1"); /* not the anycast ::0 */
    assert_string_equal(get(p, "b", NULL), "2001:db8:3::2");
    assert_string_equal(get(p, "c", "2001:db8:3::1:0"), "2001:db8:3::1:0");
    /* Past the tracked part of the range, and below it: not honoured. */
    assert_string_equal(get(p, "d", "2001:db8:3::10:1"), "2001:db8:3::3");
    assert_string_equal(get(p, "e", "2001:db8:2:ffff:ffff:ffff:ffff:ffff"), "2001:db8:3::4");
    assert_string_equal(get(p, "f", "10.0.0.1"), "2001:db8:3::5");
    assert_int_equal(put(p, "2001:db8:3::1:0"), 0);
    assert_string_equal(get(p, "c", NULL), "2001:db8:3::1:0");
    hk_ippool_free(p);

    /* Carries across an octet and across the two 64-bit halves. */
    p = pool("2001:db8::fffe-2001:db8::1:1");
    assert_int_equal(hk_ippool_size(p), 4);
    assert_string_equal(get(p, "a", NULL), "2001:db8::fffe");
    assert_string_equal(get(p, "b", NULL), "2001:db8::ffff");
    assert_string_equal(get(p, "c", NULL), "2001:db8::1:0");
    assert_string_equal(get(p, "d", NULL), "2001:db8::1:1");
    assert_string_equal(get(p, "e", NULL), "not found");
    hk_ippool_free(p);
    p = pool("2001:db8:0:0:ffff:ffff:ffff:ffff-2001:db8:0:1::1");
    assert_int_equal(hk_ippool_size(p), 3);
    assert_string_equal(get(p, "a", NULL), "2001:db8::ffff:ffff:ffff:ffff");
    assert_string_equal(get(p, "b", NULL), "2001:db8:0:1::");
    assert_string_equal(get(p, "c", "2001:db8:0:1::1"), "2001:db8:0:1::1");
    assert_int_equal(put(p, "2001:db8:0:1::"), 0);
    assert_string_equal(get(p, "b", NULL), "2001:db8:0:1::");
    hk_ippool_free(p);
    /* The whole address space. */
    p = pool("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    assert_int_equal(hk_ippool_size(p), HK_IPPOOL_MAX_SIZE);
    assert_string_equal(get(p, "a", NULL), "::1"); /* a /0 block: ::0 is skipped too */
    hk_ippool_free(p);
}

static void bad_config(void **state)
{
    (void)state;
    struct hk_pool conf = {.name = "x"};
    struct hk_ippool *p = (struct hk_ippool *)&conf;
    assert_int_equal(hk_ippool_new(&conf, &p), HK_E_CONFIG); /* no family */
    assert_null(p);
    conf.range.family = AF_INET;
    conf.range.start[0] = 10;
    conf.range.start[3] = 9;
    conf.range.end[0] = 10;
    conf.range.end[3] = 1; /* end < start */
    assert_int_equal(hk_ippool_new(&conf, &p), HK_E_CONFIG);
    assert_int_equal(hk_ippool_new(NULL, &p), HK_E_INVALID);
}

/* 100,000 leases: all distinct, all in the pool, all sticky after release. */
static void many(void **state)
{
    (void)state;
    enum { N = 100000 };
    struct hk_ippool *p = pool("10.0.0.0/8");
    assert_int_equal(hk_ippool_size(p), HK_IPPOOL_MAX_SIZE);
    struct hk_ip *got = calloc(N, sizeof(*got));
    uint8_t *seen = calloc(HK_IPPOOL_MAX_SIZE + 2, 1);
    assert_non_null(got);
    assert_non_null(seen);
    char id[32];
    for (int i = 0; i < N; i++) {
        int n = snprintf(id, sizeof(id), "user%d@example.org", i);
        assert_int_equal(hk_ippool_acquire(p, (const uint8_t *)id, (size_t)n, NULL, &got[i]), 0);
        uint32_t off =
            ((uint32_t)got[i].addr[1] << 16 | (uint32_t)got[i].addr[2] << 8 | got[i].addr[3]);
        assert_int_equal(got[i].addr[0], 10);
        assert_true(off >= 1 && off <= HK_IPPOOL_MAX_SIZE);
        assert_int_equal(seen[off], 0);
        seen[off] = 1;
    }
    assert_int_equal(hk_ippool_in_use(p), N);
    for (int i = 0; i < N; i++)
        assert_int_equal(hk_ippool_release(p, &got[i]), 0);
    assert_int_equal(hk_ippool_in_use(p), 0);
    /* Back in another order: everyone gets the same address again. */
    for (int k = 0; k < N; k++) {
        int i = (int)(((long)k * 7919) % N);
        int n = snprintf(id, sizeof(id), "user%d@example.org", i);
        struct hk_ip again;
        assert_int_equal(hk_ippool_acquire(p, (const uint8_t *)id, (size_t)n, NULL, &again), 0);
        assert_memory_equal(&again, &got[i], sizeof(again));
    }
    assert_int_equal(hk_ippool_in_use(p), N);
    free(seen);
    free(got);
    hk_ippool_free(p);
}

/* Offset of a in 10.0.0.0/8 (the pool's first address is 10.0.0.1). */
static uint32_t off8(const struct hk_ip *a)
{
    return ((uint32_t)a->addr[1] << 16 | (uint32_t)a->addr[2] << 8 | a->addr[3]) - 1;
}

/*
 * 100,000 leases held by one identity (the load generator's case: many SAs, few IDs).
 * Each acquire must cost the same however many leases the identity holds; before, step 2
 * walked them all and this took minutes. Released ones come back to the same identity,
 * most recently released first, and a lease held twice stays held after one release.
 */
static void one_identity_many_leases(void **state)
{
    (void)state;
    enum { N = 100000, BACK = 1000 };
    struct hk_ippool *p = pool("10.0.0.0/8");
    struct hk_ip *got = calloc(N, sizeof(*got));
    uint8_t *seen = calloc(HK_IPPOOL_MAX_SIZE, 1);
    assert_non_null(got);
    assert_non_null(seen);
    const uint8_t id[] = "roadwarrior@example.org";
    for (int i = 0; i < N; i++) {
        assert_int_equal(hk_ippool_acquire(p, id, sizeof(id), NULL, &got[i]), 0);
        uint32_t off = off8(&got[i]);
        assert_false(seen[off]);
        seen[off] = 1;
    }
    assert_int_equal(hk_ippool_in_use(p), N);
    /* Release every 100th; they come back, newest release first, before any fresh one. */
    for (int i = 0; i < N; i += N / BACK)
        assert_int_equal(hk_ippool_release(p, &got[i]), 0);
    assert_int_equal(hk_ippool_in_use(p), N - BACK);
    for (int k = BACK - 1; k >= 0; k--) {
        struct hk_ip again;
        assert_int_equal(hk_ippool_acquire(p, id, sizeof(id), NULL, &again), 0);
        assert_memory_equal(&again, &got[k * (N / BACK)], sizeof(again));
    }
    struct hk_ip fresh;
    assert_int_equal(hk_ippool_acquire(p, id, sizeof(id), NULL, &fresh), 0);
    assert_false(seen[off8(&fresh)]);
    /* A shared lease (asked for by the same identity again) survives one release. */
    assert_int_equal(hk_ippool_acquire(p, id, sizeof(id), &got[5], &fresh), 0);
    assert_memory_equal(&fresh, &got[5], sizeof(fresh));
    assert_int_equal(hk_ippool_release(p, &got[5]), 0);
    assert_int_equal(hk_ippool_acquire(p, id, sizeof(id), NULL, &fresh), 0);
    assert_memory_not_equal(&fresh, &got[5], sizeof(fresh));
    /* All released: another identity gets fresh addresses, then the oldest released. */
    for (int i = 0; i < N; i++)
        assert_int_equal(hk_ippool_release(p, &got[i]), 0);
    assert_int_equal(hk_ippool_acquire(p, (const uint8_t *)"other", 5, NULL, &fresh), 0);
    assert_false(seen[off8(&fresh)]);
    free(seen);
    free(got);
    hk_ippool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sequential),
        cmocka_unit_test(stickiness),
        cmocka_unit_test(requested),
        cmocka_unit_test(exhaustion),
        cmocka_unit_test(release_and_reuse),
        cmocka_unit_test(ipv6),
        cmocka_unit_test(bad_config),
        cmocka_unit_test(many),
        cmocka_unit_test(one_identity_many_leases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
