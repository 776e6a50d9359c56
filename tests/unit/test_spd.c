/* Packet selectors and the SPD of the userspace data plane (RFC 4301 4.4.1, 5.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

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
    hk_spd_init(&spd);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_v4_and_v6),
        cmocka_unit_test(lookup_newest_first),
        cmocka_unit_test(opaque_ports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
