/* Addresses, ranges and traffic selectors as written in hiked.conf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/err.h"
#include "config/ts_conf.h"

static struct hk_ts_conf ts_ok(const char *s)
{
    struct hk_ts_conf ts;
    char err[160];
    if (hk_ts_parse(s, &ts, err, sizeof(err)) != 0)
        fail_msg("'%s': %s", s, err);
    return ts;
}

static void check_addr(int family, const uint8_t *a, const char *want)
{
    uint8_t w[16] = {0};
    assert_int_equal(inet_pton(family, want, w), 1);
    assert_memory_equal(a, w, family == AF_INET ? 4 : 16);
}

static void cidr_range_single(void **state)
{
    (void)state;
    struct hk_ts_conf ts = ts_ok("10.1.0.0/16");
    assert_false(ts.dynamic);
    assert_int_equal(ts.range.family, AF_INET);
    check_addr(AF_INET, ts.range.start, "10.1.0.0");
    check_addr(AF_INET, ts.range.end, "10.1.255.255");
    assert_int_equal(ts.ip_proto, 0);
    assert_int_equal(ts.start_port, 0);
    assert_int_equal(ts.end_port, 65535);
    assert_int_equal(hk_ip_range_prefix(&ts.range), 16);

    ts = ts_ok("10.2.0.1-10.2.0.9");
    check_addr(AF_INET, ts.range.start, "10.2.0.1");
    check_addr(AF_INET, ts.range.end, "10.2.0.9");
    assert_int_equal(hk_ip_range_prefix(&ts.range), -1);

    ts = ts_ok("192.0.2.7");
    check_addr(AF_INET, ts.range.end, "192.0.2.7");
    assert_int_equal(hk_ip_range_prefix(&ts.range), 32);

    ts = ts_ok("0.0.0.0/0");
    check_addr(AF_INET, ts.range.end, "255.255.255.255");
    assert_int_equal(hk_ip_range_prefix(&ts.range), 0);

    ts = ts_ok("2001:db8:1::/48");
    assert_int_equal(ts.range.family, AF_INET6);
    check_addr(AF_INET6, ts.range.end, "2001:db8:1:ffff:ffff:ffff:ffff:ffff");
    ts = ts_ok("::/0");
    check_addr(AF_INET6, ts.range.start, "::");
    check_addr(AF_INET6, ts.range.end, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    ts = ts_ok("fd00::1-fd00::1:0");
    check_addr(AF_INET6, ts.range.end, "fd00::1:0");
    ts = ts_ok("10.0.0.0/31");
    check_addr(AF_INET, ts.range.end, "10.0.0.1");
    ts = ts_ok("10.0.0.128/25");
    check_addr(AF_INET, ts.range.end, "10.0.0.255");

    ts = ts_ok("%dynamic");
    assert_true(ts.dynamic);
    assert_int_equal(ts.ip_proto, 0);
}

static void protocols_and_ports(void **state)
{
    (void)state;
    struct hk_ts_conf ts = ts_ok("0.0.0.0/0[tcp/443]");
    assert_int_equal(ts.ip_proto, 6);
    assert_int_equal(ts.start_port, 443);
    assert_int_equal(ts.end_port, 443);
    ts = ts_ok("10.0.0.0/8[udp]");
    assert_int_equal(ts.ip_proto, 17);
    assert_int_equal(ts.start_port, 0);
    assert_int_equal(ts.end_port, 65535);
    ts = ts_ok("%dynamic[udp/1024-65535]");
    assert_true(ts.dynamic);
    assert_int_equal(ts.start_port, 1024);
    assert_int_equal(ts.end_port, 65535);
    ts = ts_ok("::/0[icmpv6]");
    assert_int_equal(ts.ip_proto, 58);
    ts = ts_ok("::/0[ipv6-icmp/34560]"); /* type 135 << 8: neighbour solicitation */
    assert_int_equal(ts.start_port, 34560);
    ts = ts_ok("10.0.0.1[ICMP]");
    assert_int_equal(ts.ip_proto, 1);
    ts = ts_ok("10.0.0.1[sctp/0]");
    assert_int_equal(ts.ip_proto, 132);
    assert_int_equal(ts.end_port, 0);
    ts = ts_ok("10.0.0.1[47]");
    assert_int_equal(ts.ip_proto, 47);
    ts = ts_ok("10.0.0.1[0]");
    assert_int_equal(ts.ip_proto, 0);
    ts = ts_ok("10.0.0.1[255/7-7]");
    assert_int_equal(ts.ip_proto, 255);
    assert_int_equal(ts.start_port, 7);
}

static void errors(void **state)
{
    (void)state;
    static const struct {
        const char *s, *want;
    } cases[] = {
        {"10.0.0.0/33", "bad prefix length '33' (0..32)"},
        {"::/129", "bad prefix length '129' (0..128)"},
        {"10.0.0.0/", "bad prefix length ''"},
        {"10.0.0.0/+8", "bad prefix length '+8'"},
        {"10.0.0.0/08a", "bad prefix length"},
        {"10.1.2.3/16", "host bits set in 10.1.2.3/16 (did you mean 10.1.0.0/16?)"},
        {"2001:db8::1/64", "host bits set in 2001:db8::1/64 (did you mean 2001:db8::/64?)"},
        {"10.0.0.256", "'10.0.0.256' is not an IPv4 or IPv6 address"},
        {"", "'' is not an IPv4 or IPv6 address"},
        {" 10.0.0.1", "is not an IPv4 or IPv6 address"},
        {"%any", "'%any' is not an IPv4 or IPv6 address"},
        {"10.0.0.1-::1", "range '10.0.0.1-::1' mixes IPv4 and IPv6"},
        {"10.0.0.9-10.0.0.1", "range '10.0.0.9-10.0.0.1' ends before it starts"},
        {"10.0.0.1-", "'' is not an IPv4 or IPv6 address"},
        {"10.0.0.0/8[tcp/65536]", "bad port '65536' (N or N-M, 0..65535)"},
        {"10.0.0.0/8[tcp/-1]", "bad port '-1'"},
        {"10.0.0.0/8[tcp/80-]", "bad port '80-'"},
        {"10.0.0.0/8[tcp/443-80]", "port range '443-80' ends before it starts"},
        {"10.0.0.0/8[tcp/http]", "bad port 'http'"},
        {"10.0.0.0/8[/53]", "unknown protocol ''"},
        {"10.0.0.0/8[0/53]", "ports need a protocol"},
        {"10.0.0.0/8[tpc]", "unknown protocol 'tpc' (a name or 0..255)"},
        {"10.0.0.0/8[256]", "unknown protocol '256'"},
        {"10.0.0.0/8[tcp", "'[' without a closing ']' at the end"},
        {"10.0.0.0/8[tcp]x", "'[' without a closing ']' at the end"},
        {"10.0.0.0/8[]", "unknown protocol ''"},
        {"%dynamic/24", "is not an IPv4 or IPv6 address"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hk_ts_conf ts;
        char err[160] = "";
        int rc = hk_ts_parse(cases[i].s, &ts, err, sizeof(err));
        if (rc != HK_E_CONFIG || !strstr(err, cases[i].want))
            fail_msg("'%s': rc %d, got \"%s\", want \"%s\"", cases[i].s, rc, err, cases[i].want);
    }
    char longer[300];
    memset(longer, '1', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    struct hk_ts_conf ts;
    assert_int_equal(hk_ts_parse(longer, &ts, NULL, 0), HK_E_CONFIG);
}

static void format_round_trip(void **state)
{
    (void)state;
    static const struct {
        const char *in, *canonical;
    } cases[] = {
        {"10.1.0.0/16", "10.1.0.0/16"},
        {"192.0.2.1", "192.0.2.1/32"},
        {"10.2.0.0-10.2.0.255", "10.2.0.0/24"}, /* a range that is one block */
        {"10.2.0.1-10.2.0.9", "10.2.0.1-10.2.0.9"},
        {"0.0.0.0/0[tcp/443]", "0.0.0.0/0[tcp/443]"},
        {"0.0.0.0/0[TCP/0-65535]", "0.0.0.0/0[tcp]"},
        {"::/0[icmpv6]", "::/0[ipv6-icmp]"},
        {"2001:DB8::/32[udp/500-4500]", "2001:db8::/32[udp/500-4500]"},
        {"%dynamic", "%dynamic"},
        {"%dynamic[17/53]", "%dynamic[udp/53]"},
        {"10.0.0.1[200]", "10.0.0.1/32[200]"},
        {"fd00::1-fd00::2", "fd00::1-fd00::2"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[HK_TS_STRLEN];
        struct hk_ts_conf ts = ts_ok(cases[i].in);
        assert_int_equal(hk_ts_format(&ts, buf, sizeof(buf)), 0);
        assert_string_equal(buf, cases[i].canonical);
        struct hk_ts_conf again = ts_ok(buf);
        assert_memory_equal(&ts, &again, sizeof(ts));
    }

    /* The longest selector fits HK_TS_STRLEN; a short buffer is reported. */
    char buf[HK_TS_STRLEN], small[10];
    struct hk_ts_conf ts = ts_ok("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe-ffff:ffff:ffff:ffff:"
                                 "ffff:ffff:ffff:ffff[ipv6-icmp/65534-65535]");
    assert_int_equal(hk_ts_format(&ts, buf, sizeof(buf)), 0);
    assert_int_equal(hk_ts_format(&ts, small, sizeof(small)), HK_E_OVERFLOW);
    assert_true(memchr(small, '\0', sizeof(small)) != NULL);
}

static void helpers(void **state)
{
    (void)state;
    struct hk_ip_range a, b;
    struct hk_ip ip;
    bool is_prefix;
    char err[160];
    assert_int_equal(hk_ip_range_parse("10.0.0.0/24", &a, &is_prefix, err, sizeof(err)), 0);
    assert_true(is_prefix);
    assert_int_equal(hk_ip_range_parse("10.0.0.200-10.0.1.5", &b, &is_prefix, err, sizeof(err)), 0);
    assert_false(is_prefix);
    assert_true(hk_ip_range_overlaps(&a, &b));
    assert_true(hk_ip_range_overlaps(&b, &a));
    assert_int_equal(hk_ip_range_parse("10.0.1.0/24", &a, NULL, err, sizeof(err)), 0);
    assert_true(hk_ip_range_overlaps(&a, &b));
    assert_int_equal(hk_ip_range_parse("10.0.2.0/24", &a, NULL, err, sizeof(err)), 0);
    assert_false(hk_ip_range_overlaps(&a, &b));
    assert_int_equal(hk_ip_range_parse("::/0", &b, NULL, err, sizeof(err)), 0);
    assert_false(hk_ip_range_overlaps(&a, &b)); /* families never overlap */

    assert_int_equal(hk_ip_parse("10.0.2.255", &ip, err, sizeof(err)), 0);
    assert_true(hk_ip_range_contains(&a, &ip));
    assert_int_equal(hk_ip_parse("10.0.3.0", &ip, err, sizeof(err)), 0);
    assert_false(hk_ip_range_contains(&a, &ip));
    assert_int_equal(hk_ip_parse("::1", &ip, err, sizeof(err)), 0);
    assert_int_equal(ip.family, AF_INET6);
    assert_true(hk_ip_range_contains(&b, &ip));
    assert_false(hk_ip_range_contains(&a, &ip));
    assert_int_equal(hk_ip_parse("::1/128", &ip, err, sizeof(err)), HK_E_CONFIG);
    assert_string_equal(err, "'::1/128' is not an IPv4 or IPv6 address");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cidr_range_single),
        cmocka_unit_test(protocols_and_ports),
        cmocka_unit_test(errors),
        cmocka_unit_test(format_round_trip),
        cmocka_unit_test(helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
