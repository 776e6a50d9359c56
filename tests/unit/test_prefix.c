/* Address ranges (traffic selectors) split into CIDR prefixes for routes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/err.h"
#include "config/ts_conf.h"
#include "esp/prefix.h"

static struct hk_ip_range range(const char *s)
{
    struct hk_ip_range r;
    char err[160];
    if (hk_ip_range_parse(s, &r, NULL, err, sizeof(err)) != 0)
        fail_msg("'%s': %s", s, err);
    return r;
}

/* The split of s as "a/n a/n ...". */
static void check(const char *s, const char *want, size_t want_n)
{
    struct hk_ip_range r = range(s);
    struct hk_ip addrs[HK_PREFIX_MAX_V6];
    uint8_t lens[HK_PREFIX_MAX_V6];
    char got[8192] = "", a[64];

    size_t n = hk_range_to_prefixes(&r, addrs, lens, HK_PREFIX_MAX_V6);
    assert_int_equal(n, want_n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(addrs[i].family, r.family);
        assert_int_equal(hk_ip_format(&addrs[i], a, sizeof(a)), 0);
        size_t l = strlen(got);
        snprintf(got + l, sizeof(got) - l, "%s%s/%u", i ? " " : "", a, lens[i]);
    }
    if (want)
        assert_string_equal(got, want);
    /* Counting alone gives the same number. */
    assert_int_equal(hk_range_to_prefixes(&r, NULL, NULL, 0), want_n);
}

static void example_and_single(void **state)
{
    (void)state;
    check("10.0.0.1-10.0.0.6", "10.0.0.1/32 10.0.0.2/31 10.0.0.4/31 10.0.0.6/32", 4);
    check("10.0.0.7", "10.0.0.7/32", 1);
    check("0.0.0.0", "0.0.0.0/32", 1);
    check("255.255.255.255", "255.255.255.255/32", 1);
    check("2001:db8::1", "2001:db8::1/128", 1);
    check("::", "::/128", 1);
    check("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
          1);
    check("2001:db8::1-2001:db8::6",
          "2001:db8::1/128 2001:db8::2/127 2001:db8::4/127 2001:db8::6/128", 4);
}

static void whole_space(void **state)
{
    (void)state;
    check("0.0.0.0-255.255.255.255", "0.0.0.0/0", 1);
    check("0.0.0.0/0", "0.0.0.0/0", 1);
    check("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/0", 1);
    check("::/0", "::/0", 1);
    /* Halves and the space minus its ends. */
    check("128.0.0.0-255.255.255.255", "128.0.0.0/1", 1);
    check("8000::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "8000::/1", 1);
    check("::-7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/1", 1);
    check("0.0.0.0-255.255.255.254", NULL, 32);
    check("0.0.0.1-255.255.255.255", NULL, 32);
}

static void aligned_blocks(void **state)
{
    (void)state;
    check("10.1.0.0/16", "10.1.0.0/16", 1);
    check("10.1.2.0-10.1.3.255", "10.1.2.0/23", 1);
    check("10.0.0.0-10.0.2.255", "10.0.0.0/23 10.0.2.0/24", 2);
    check("192.168.0.0-192.168.0.1", "192.168.0.0/31", 1);
    check("2001:db8::/32", "2001:db8::/32", 1);
    check("2001:db8::/64", "2001:db8::/64", 1);
    /* Across the 64-bit halves of an IPv6 address. */
    check("2001:db8:0:0:8000::-2001:db8:0:1:7fff:ffff:ffff:ffff",
          "2001:db8:0:0:8000::/65 2001:db8:0:1::/65", 2);
    check("::ffff:ffff:ffff:ffff-::1:0:0:0:0", "::ffff:ffff:ffff:ffff/128 0:0:0:1::/128", 2);
}

static void worst_case(void **state)
{
    (void)state;
    /* 0.0.0.1 - 255.255.255.254: one of each size /32.../1 on each side but /1 itself. */
    check("0.0.0.1-255.255.255.254", NULL, HK_PREFIX_MAX_V4);
    check("::1-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", NULL, HK_PREFIX_MAX_V6);
    check("10.0.0.1-10.0.0.254", NULL, 14);

    struct hk_ip_range r = range("0.0.0.1-255.255.255.254");
    struct hk_ip addrs[HK_PREFIX_MAX_V4];
    uint8_t lens[HK_PREFIX_MAX_V4];
    assert_int_equal(hk_range_to_prefixes(&r, addrs, lens, HK_PREFIX_MAX_V4), HK_PREFIX_MAX_V4);
    assert_int_equal(lens[0], 32);
    assert_int_equal(lens[30], 2);
    assert_int_equal(lens[31], 2);
    assert_int_equal(lens[61], 32);
}

static void truncation(void **state)
{
    (void)state;
    struct hk_ip_range r = range("10.0.0.1-10.0.0.6");
    struct hk_ip addrs[4];
    uint8_t lens[4];
    memset(addrs, 0xAA, sizeof(addrs));
    memset(lens, 0xAA, sizeof(lens));

    /* Returns what is needed; writes only max. */
    assert_int_equal(hk_range_to_prefixes(&r, addrs, lens, 2), 4);
    assert_int_equal(lens[0], 32);
    assert_int_equal(lens[1], 31);
    assert_int_equal(lens[2], 0xAA);
    assert_int_equal(addrs[2].family, (int)0xAAAAAAAA);
    assert_int_equal(hk_range_to_prefixes(&r, addrs, lens, 4), 4);
    assert_int_equal(lens[3], 32);
}

static void invalid(void **state)
{
    (void)state;
    struct hk_ip_range r = range("10.0.0.1-10.0.0.6");
    struct hk_ip addrs[4];
    uint8_t lens[4];

    r.start[3] = 9; /* start > end */
    assert_int_equal(hk_range_to_prefixes(&r, addrs, lens, 4), 0);
    r = range("10.0.0.1-10.0.0.6");
    r.family = 12345;
    assert_int_equal(hk_range_to_prefixes(&r, addrs, lens, 4), 0);
    assert_int_equal(hk_range_to_prefixes(NULL, addrs, lens, 4), 0);
}

static uint32_t v4(const struct hk_ip *ip)
{
    return (uint32_t)ip->addr[0] << 24 | (uint32_t)ip->addr[1] << 16 | (uint32_t)ip->addr[2] << 8 |
           ip->addr[3];
}

/* Random IPv4 ranges: blocks aligned, contiguous, exactly covering, and minimal (no block
 * could have been taken larger, which is what the greedy split's optimality rests on). */
static void random_v4(void **state)
{
    (void)state;
    struct hk_ip addrs[HK_PREFIX_MAX_V4];
    uint8_t lens[HK_PREFIX_MAX_V4];
    uint64_t x = 0x9E3779B97F4A7C15ull;

    for (int t = 0; t < 20000; t++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t a = (uint32_t)x, b = (uint32_t)(x >> 32);
        if (t % 3 == 0)
            b = a + (uint32_t)(x >> 52); /* short ranges too */
        if (a > b) {
            uint32_t c = a;
            a = b;
            b = c;
        }
        struct hk_ip_range r = {.family = AF_INET};
        for (int i = 0; i < 4; i++) {
            r.start[i] = (uint8_t)(a >> (24 - 8 * i));
            r.end[i] = (uint8_t)(b >> (24 - 8 * i));
        }
        size_t n = hk_range_to_prefixes(&r, addrs, lens, HK_PREFIX_MAX_V4);
        assert_true(n >= 1 && n <= HK_PREFIX_MAX_V4);
        uint64_t next = a;
        for (size_t i = 0; i < n; i++) {
            uint64_t s = v4(&addrs[i]), size = 1ull << (32 - lens[i]);
            assert_true(s == next);
            assert_true(s % size == 0);
            /* The next larger block at s is either misaligned or runs past b. */
            if (lens[i] > 0)
                assert_true(s % (size * 2) != 0 || s + size * 2 - 1 > b);
            next = s + size;
        }
        assert_true(next == (uint64_t)b + 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(example_and_single), cmocka_unit_test(whole_space),
        cmocka_unit_test(aligned_blocks),     cmocka_unit_test(worst_case),
        cmocka_unit_test(truncation),         cmocka_unit_test(invalid),
        cmocka_unit_test(random_v4),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
