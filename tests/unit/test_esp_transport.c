/* ESP transport mode helpers (src/esp/esp_transport.c): header strip and rebuild, checksums
 * over the pseudo-header (RFC 3948 3.1.2), selectors to addresses, malformed input. The
 * packets below were built and checksummed by an independent script and checked by tshark. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "common/err.h"
#include "esp/esp_transport.h"
#include "esp/spd.h"
#include "unit/testutil.h"

/* 192.0.2.1:40000 -> 192.0.2.2:5001 TCP PSH/ACK "abc"; TTL 64, DF, ID 0. */
static const char v4_tcp[] = "4500002b000040004006b6c9c0000201c00002029c4013890102030400000000"
                             "5018ffffb3930000616263";
/* 192.0.2.1:5000 -> 192.0.2.2:53 UDP "hike!". */
static const char v4_udp[] = "45000021000040004011b6c8c0000201c000020213880035000d734468696b65"
                             "21";
/* 2001:db8::1 -> 2001:db8::2 ICMPv6 echo request "hike-ping"; hop limit 64. */
static const char v6_icmp[] = "6000000000113a4020010db800000000000000000000000120010db800000000"
                              "00000000000000028000405c1234000168696b652d70696e67";
/* 2001:db8::1:5000 -> 2001:db8::2:53 UDP "hike!". */
static const char v6_udp[] = "60000000000d114020010db800000000000000000000000120010db800000000"
                             "000000000000000213880035000d9bd368696b6521";

static struct hk_tp_addrs addrs(const char *local, const char *remote)
{
    struct hk_tp_addrs a = {.family = strchr(local, ':') ? AF_INET6 : AF_INET};
    assert_int_equal(inet_pton(a.family, local, a.local), 1);
    assert_int_equal(inet_pton(a.family, remote, a.remote), 1);
    return a;
}

/* Strip, then rebuild on the receiver (local = the destination): the same packet again. */
static void roundtrip(const char *hex, const char *dst, const char *src, uint8_t want_proto)
{
    uint8_t pkt[256], out[256];
    size_t n = test_unhex(hex, pkt, sizeof(pkt)), plen, olen;
    const uint8_t *payload;
    uint8_t proto;
    assert_int_equal(hk_tp_strip(pkt, n, &payload, &plen, &proto), HK_OK);
    assert_int_equal(proto, want_proto);
    assert_int_equal(plen, n - (pkt[0] >> 4 == 4 ? 20 : 40));
    assert_ptr_equal(payload, pkt + n - plen);
    struct hk_tp_addrs a = addrs(dst, src);
    int fam = a.family;
    assert_true(hk_tp_l4_ok(fam, a.remote, a.local, proto, payload, plen));
    for (int fix = 0; fix < 2; fix++) {
        memset(out, 0xee, sizeof(out));
        assert_int_equal(hk_tp_rebuild(&a, proto, payload, plen, fix, out, sizeof(out), &olen),
                         HK_OK);
        assert_int_equal(olen, n);
        assert_memory_equal(out, pkt, n); /* header, IPv4 checksum and the L4 checksum */
    }
    /* The selector parser of the SPD reads the rebuilt packet as the original. */
    struct hk_pkt_sel s1, s2;
    assert_int_equal(hk_pkt_sel_parse(pkt, n, &s1), 0);
    assert_int_equal(hk_pkt_sel_parse(out, olen, &s2), 0);
    assert_memory_equal(&s1, &s2, sizeof(s1));
}

static void strip_and_rebuild_known_packets(void **state)
{
    (void)state;
    roundtrip(v4_tcp, "192.0.2.2", "192.0.2.1", IPPROTO_TCP);
    roundtrip(v4_udp, "192.0.2.2", "192.0.2.1", IPPROTO_UDP);
    roundtrip(v6_icmp, "2001:db8::2", "2001:db8::1", IPPROTO_ICMPV6);
    roundtrip(v6_udp, "2001:db8::2", "2001:db8::1", IPPROTO_UDP);
}

/* RFC 3948 3.1.2: through a NAT the receiver sees another source; the sender's checksum no
 * longer verifies over the rebuilt pseudo-header unless it is recomputed. */
static void nat_checksum_fix(void **state)
{
    (void)state;
    uint8_t pkt[256], out[256];
    size_t n = test_unhex(v4_tcp, pkt, sizeof(pkt)), plen, olen;
    const uint8_t *payload;
    uint8_t proto;
    assert_int_equal(hk_tp_strip(pkt, n, &payload, &plen, &proto), HK_OK);
    struct hk_tp_addrs a = addrs("192.0.2.2", "198.51.100.7");
    assert_int_equal(hk_tp_rebuild(&a, proto, payload, plen, false, out, sizeof(out), &olen), 0);
    assert_false(hk_tp_l4_ok(AF_INET, a.remote, a.local, proto, out + 20, plen));
    assert_int_equal(hk_tp_rebuild(&a, proto, payload, plen, true, out, sizeof(out), &olen), 0);
    assert_true(hk_tp_l4_ok(AF_INET, a.remote, a.local, proto, out + 20, plen));
    assert_int_equal(out[20 + 16], 0x4b); /* the independent script's value: 4b5a */
    assert_int_equal(out[20 + 17], 0x5a);
    assert_memory_equal(out + 12, a.remote, 4);
    assert_memory_equal(out + 40, "abc", 3); /* data untouched */

    n = test_unhex(v6_udp, pkt, sizeof(pkt));
    assert_int_equal(hk_tp_strip(pkt, n, &payload, &plen, &proto), HK_OK);
    a = addrs("2001:db8::2", "2001:db8::99");
    assert_int_equal(hk_tp_rebuild(&a, proto, payload, plen, true, out, sizeof(out), &olen), 0);
    assert_true(hk_tp_l4_ok(AF_INET6, a.remote, a.local, proto, out + 40, plen));
    assert_int_equal(out[40 + 6], 0x9b);
    assert_int_equal(out[40 + 7], 0x3b);

    /* An IPv4 UDP checksum of zero means none (RFC 768): it stays zero. */
    n = test_unhex(v4_udp, pkt, sizeof(pkt));
    pkt[20 + 6] = pkt[20 + 7] = 0;
    assert_int_equal(hk_tp_strip(pkt, n, &payload, &plen, &proto), HK_OK);
    a = addrs("192.0.2.2", "198.51.100.7");
    assert_int_equal(hk_tp_rebuild(&a, proto, payload, plen, true, out, sizeof(out), &olen), 0);
    assert_int_equal(out[26] | out[27], 0);
    assert_true(hk_tp_l4_ok(AF_INET, a.remote, a.local, proto, out + 20, plen));

    /* Other protocols are copied as they are (ICMPv4 has no pseudo-header). */
    const uint8_t icmp[] = {8, 0, 0xf7, 0xfe, 0, 1, 0, 0};
    assert_int_equal(
        hk_tp_rebuild(&a, IPPROTO_ICMP, icmp, sizeof(icmp), true, out, sizeof(out), &olen), 0);
    assert_memory_equal(out + 20, icmp, sizeof(icmp));
    assert_int_equal(out[9], IPPROTO_ICMP);
}

/* A computed UDP checksum of zero goes out as 0xffff (RFC 768, RFC 8200 8.1). */
static void udp_zero_becomes_ffff(void **state)
{
    (void)state;
    struct hk_tp_addrs a = addrs("192.0.2.2", "192.0.2.1");
    uint8_t udp[10] = {0x13, 0x88, 0x00, 0x35, 0x00, 0x0a, 0x12, 0x34, 0, 0}, out[64];
    size_t olen;
    /* Choose the last two data octets so that the checksum comes out as zero. */
    udp[6] = udp[7] = 0;
    uint16_t c = hk_tp_l4_sum(AF_INET, a.remote, a.local, IPPROTO_UDP, udp, sizeof(udp));
    /* c = ~S; adding data word D = c makes the new sum S + ~S = 0xffff, checksum 0. */
    udp[8] = (uint8_t)(c >> 8), udp[9] = (uint8_t)c;
    udp[6] = 0x12;
    assert_int_equal(
        hk_tp_rebuild(&a, IPPROTO_UDP, udp, sizeof(udp), true, out, sizeof(out), &olen), 0);
    assert_int_equal(out[26], 0xff);
    assert_int_equal(out[27], 0xff);
    assert_true(hk_tp_l4_ok(AF_INET, a.remote, a.local, IPPROTO_UDP, out + 20, sizeof(udp)));
}

static void strip_refuses(void **state)
{
    (void)state;
    uint8_t pkt[256] = {0};
    const uint8_t *payload;
    size_t plen, n;
    uint8_t proto;
    /* Malformed: empty, wrong version, short headers, lengths past the buffer. */
    assert_int_equal(hk_tp_strip(pkt, 0, &payload, &plen, &proto), HK_E_SYNTAX);
    n = test_unhex(v4_tcp, pkt, sizeof(pkt));
    pkt[0] = 0x55;
    assert_int_equal(hk_tp_strip(pkt, n, &payload, &plen, &proto), HK_E_SYNTAX);
    pkt[0] = 0x44; /* IHL 16 octets */
    assert_int_equal(hk_tp_strip(pkt, n, &payload, &plen, &proto), HK_E_SYNTAX);
    pkt[0] = 0x45;
    assert_int_equal(hk_tp_strip(pkt, 19, &payload, &plen, &proto), HK_E_SYNTAX);
    assert_int_equal(hk_tp_strip(pkt, n - 1, &payload, &plen, &proto), HK_E_SYNTAX);
    pkt[3] = 19; /* total length under the header */
    assert_int_equal(hk_tp_strip(pkt, n, &payload, &plen, &proto), HK_E_SYNTAX);
    /* Trailing octets past the total length are cut off. */
    n = test_unhex(v4_tcp, pkt, sizeof(pkt));
    assert_int_equal(hk_tp_strip(pkt, n + 5, &payload, &plen, &proto), HK_OK);
    assert_int_equal(plen, n - 20);
    /* Unsupported: fragments (MF, offset), options, protocol 59. */
    pkt[6] = 0x20;
    assert_int_equal(hk_tp_strip(pkt, n, &payload, &plen, &proto), HK_E_UNSUPPORTED);
    pkt[6] = 0x00, pkt[7] = 0x01;
    assert_int_equal(hk_tp_strip(pkt, n, &payload, &plen, &proto), HK_E_UNSUPPORTED);
    pkt[6] = 0x40, pkt[7] = 0x00; /* DF alone is fine */
    assert_int_equal(hk_tp_strip(pkt, n, &payload, &plen, &proto), HK_OK);
    pkt[0] = 0x46;
    assert_int_equal(hk_tp_strip(pkt, n, &payload, &plen, &proto), HK_E_UNSUPPORTED);
    pkt[0] = 0x45, pkt[9] = 59;
    assert_int_equal(hk_tp_strip(pkt, n, &payload, &plen, &proto), HK_E_UNSUPPORTED);

    n = test_unhex(v6_udp, pkt, sizeof(pkt));
    assert_int_equal(hk_tp_strip(pkt, 39, &payload, &plen, &proto), HK_E_SYNTAX);
    assert_int_equal(hk_tp_strip(pkt, n - 1, &payload, &plen, &proto), HK_E_SYNTAX);
    const uint8_t ext[] = {0, 43, 44, 51, 59, 60, 135, 139, 140};
    for (size_t i = 0; i < sizeof(ext); i++) {
        pkt[6] = ext[i];
        assert_int_equal(hk_tp_strip(pkt, n, &payload, &plen, &proto), HK_E_UNSUPPORTED);
    }
    pkt[6] = IPPROTO_UDP;
    assert_int_equal(hk_tp_strip(pkt, n, &payload, &plen, &proto), HK_OK);
    assert_int_equal(plen, 13);
}

static void rebuild_refuses(void **state)
{
    (void)state;
    static uint8_t big[70000], out[70100];
    struct hk_tp_addrs a = addrs("192.0.2.2", "192.0.2.1");
    size_t olen;
    /* IPv4: the total length is 16 bits. */
    assert_int_equal(hk_tp_rebuild(&a, 6, big, 65516, false, out, sizeof(out), &olen),
                     HK_E_OVERFLOW);
    assert_int_equal(hk_tp_rebuild(&a, 17, big, 65515, false, out, sizeof(out), &olen), HK_OK);
    assert_int_equal(olen, 65535);
    /* The caller's buffer. */
    assert_int_equal(hk_tp_rebuild(&a, 17, big, 100, false, out, 119, &olen), HK_E_OVERFLOW);
    /* Too short for the checksum field it must fix. */
    assert_int_equal(hk_tp_rebuild(&a, IPPROTO_TCP, big, 19, true, out, sizeof(out), &olen),
                     HK_E_SHORT);
    assert_int_equal(hk_tp_rebuild(&a, IPPROTO_UDP, big, 7, true, out, sizeof(out), &olen),
                     HK_E_SHORT);
    assert_int_equal(hk_tp_rebuild(&a, IPPROTO_UDP, big, 7, false, out, sizeof(out), &olen), HK_OK);
    struct hk_tp_addrs a6 = addrs("2001:db8::2", "2001:db8::1");
    assert_int_equal(hk_tp_rebuild(&a6, IPPROTO_ICMPV6, big, 3, true, out, sizeof(out), &olen),
                     HK_E_SHORT);
    assert_int_equal(hk_tp_rebuild(&a6, 17, big, 65536, false, out, sizeof(out), &olen),
                     HK_E_OVERFLOW);
    assert_false(hk_tp_l4_ok(AF_INET6, a6.remote, a6.local, IPPROTO_UDP, big, 7));
    a.family = 0;
    assert_int_equal(hk_tp_rebuild(&a, 17, big, 10, false, out, sizeof(out), &olen), HK_E_INVALID);
}

static struct ike_ts ts4(const char *lo, const char *hi, uint8_t proto)
{
    struct ike_ts t = {.type = IKE_TS_IPV4_ADDR_RANGE, .ip_proto = proto, .end_port = 65535};
    inet_pton(AF_INET, lo, t.start_addr);
    inet_pton(AF_INET, hi, t.end_addr);
    return t;
}

static void addrs_from_selectors(void **state)
{
    (void)state;
    struct hk_tp_addrs a;
    struct ike_ts l[2] = {ts4("192.0.2.1", "192.0.2.1", 6), ts4("192.0.2.1", "192.0.2.1", 17)};
    struct ike_ts r[1] = {ts4("192.0.2.2", "192.0.2.2", 0)};
    assert_int_equal(hk_tp_addrs_from_ts(l, 2, r, 1, &a), HK_OK);
    assert_int_equal(a.family, AF_INET);
    struct hk_tp_addrs want = addrs("192.0.2.1", "192.0.2.2");
    assert_memory_equal(&a, &want, sizeof(a));
    /* A range, two addresses on one side, no selector, mixed families: not transport. */
    r[0] = ts4("192.0.2.0", "192.0.2.255", 0);
    assert_int_equal(hk_tp_addrs_from_ts(l, 2, r, 1, &a), HK_E_UNSUPPORTED);
    r[0] = ts4("192.0.2.2", "192.0.2.2", 0);
    l[1] = ts4("192.0.2.9", "192.0.2.9", 0);
    assert_int_equal(hk_tp_addrs_from_ts(l, 2, r, 1, &a), HK_E_UNSUPPORTED);
    assert_int_equal(hk_tp_addrs_from_ts(l, 1, r, 0, &a), HK_E_UNSUPPORTED);
    struct ike_ts r6 = {.type = IKE_TS_IPV6_ADDR_RANGE, .end_port = 65535};
    inet_pton(AF_INET6, "2001:db8::2", r6.start_addr);
    inet_pton(AF_INET6, "2001:db8::2", r6.end_addr);
    assert_int_equal(hk_tp_addrs_from_ts(l, 1, &r6, 1, &a), HK_E_UNSUPPORTED);
    struct ike_ts l6 = r6;
    inet_pton(AF_INET6, "2001:db8::1", l6.start_addr);
    inet_pton(AF_INET6, "2001:db8::1", l6.end_addr);
    assert_int_equal(hk_tp_addrs_from_ts(&l6, 1, &r6, 1, &a), HK_OK);
    want = addrs("2001:db8::1", "2001:db8::2");
    assert_memory_equal(&a, &want, sizeof(a));
    l6.type = 99;
    assert_int_equal(hk_tp_addrs_from_ts(&l6, 1, &r6, 1, &a), HK_E_UNSUPPORTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strip_and_rebuild_known_packets),
        cmocka_unit_test(nat_checksum_fix),
        cmocka_unit_test(udp_zero_becomes_ffff),
        cmocka_unit_test(strip_refuses),
        cmocka_unit_test(rebuild_refuses),
        cmocka_unit_test(addrs_from_selectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
