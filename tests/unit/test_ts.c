/* Traffic selector narrowing and containment (RFC 7296 2.9). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "ike/ts.h"

static struct ike_ts v4(const char *lo, const char *hi, uint8_t proto, uint16_t p1, uint16_t p2)
{
    struct ike_ts t = {
        .type = IKE_TS_IPV4_ADDR_RANGE, .ip_proto = proto, .start_port = p1, .end_port = p2};
    unsigned a, b, c, d;
    sscanf(lo, "%u.%u.%u.%u", &a, &b, &c, &d);
    t.start_addr[0] = a, t.start_addr[1] = b, t.start_addr[2] = c, t.start_addr[3] = d;
    sscanf(hi, "%u.%u.%u.%u", &a, &b, &c, &d);
    t.end_addr[0] = a, t.end_addr[1] = b, t.end_addr[2] = c, t.end_addr[3] = d;
    return t;
}

static void intersect_ranges_and_ports(void **s)
{
    (void)s;
    struct ike_ts any = v4("0.0.0.0", "255.255.255.255", 0, 0, 65535);
    struct ike_ts net = v4("10.1.0.0", "10.1.255.255", 0, 0, 65535);
    struct ike_ts web = v4("10.1.2.0", "10.2.0.0", 6, 443, 443);
    struct ike_ts x;
    char buf[128];
    assert_true(ike_ts_intersect(&any, &net, &x));
    assert_string_equal(ike_ts_format(&x, buf, sizeof(buf)), "10.1.0.0-10.1.255.255");
    assert_true(ike_ts_intersect(&net, &web, &x));
    assert_string_equal(ike_ts_format(&x, buf, sizeof(buf)), "10.1.2.0-10.1.255.255[6/443-443]");
    struct ike_ts udp = v4("10.1.0.0", "10.1.255.255", 17, 0, 65535);
    assert_false(ike_ts_intersect(&web, &udp, &x));
    struct ike_ts other = v4("192.0.2.0", "192.0.2.255", 0, 0, 65535);
    assert_false(ike_ts_intersect(&net, &other, &x));
    struct ike_ts v6 = {.type = IKE_TS_IPV6_ADDR_RANGE, .end_port = 65535};
    memset(v6.end_addr, 0xff, 16);
    assert_false(ike_ts_intersect(&net, &v6, &x));
    /* OPAQUE ports only meet "any port". */
    struct ike_ts opaque = v4("10.1.0.0", "10.1.0.0", 0, 65535, 0);
    assert_true(ike_ts_intersect(&opaque, &net, &x));
    assert_int_equal(x.start_port, 65535);
    assert_false(ike_ts_intersect(&opaque, &web, &x));
}

static void narrow_and_check(void **s)
{
    (void)s;
    /* Initiator asks for everything; responder allows two subnets. */
    struct ike_ts proposed[] = {v4("10.9.0.5", "10.9.0.5", 6, 80, 80),
                                v4("0.0.0.0", "255.255.255.255", 0, 0, 65535)};
    struct ike_ts conf[] = {v4("10.9.0.0", "10.9.0.255", 0, 0, 65535),
                            v4("10.8.0.0", "10.8.0.255", 0, 0, 65535)};
    struct ike_ts out[8];
    size_t n = ike_ts_narrow(proposed, 2, conf, 2, out, 8);
    /* The first (packet-specific) selector survives, then the subnets; no duplicates. */
    assert_int_equal(n, 3);
    assert_true(ike_ts_within(&out[0], &conf[0]));
    assert_true(ike_ts_all_within(out, n, proposed, 2));
    assert_false(ike_ts_all_within(conf, 2, &proposed[0], 1));
    assert_int_equal(ike_ts_narrow(proposed, 1, &conf[1], 1, out, 8), 0);
    assert_false(ike_ts_all_within(out, 0, proposed, 2)); /* nothing back is not acceptable */
    assert_int_equal(ike_ts_narrow(proposed, 2, conf, 2, out, 1), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(intersect_ranges_and_ports),
        cmocka_unit_test(narrow_and_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
