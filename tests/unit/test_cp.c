/*
 * Configuration payload attributes: requests and replies built, encoded in a whole
 * message by the codec, decoded and parsed back; the exact wire bytes of both; the
 * 3.15.1 length table and the other malformations a reply parser must refuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "common/arena.h"
#include "common/cbb.h"
#include "common/err.h"
#include "ike/codec/msg.h"
#include "ike/cp.h"

static struct hk_ip ip(const char *s)
{
    struct hk_ip r = {0};
    r.family = strchr(s, ':') ? AF_INET6 : AF_INET;
    assert_int_equal(inet_pton(r.family, s, r.addr), 1);
    return r;
}

/* Encodes cp as the only payload of an IKE_AUTH message, decodes it into *got (whose
 * views point into *wire), and returns the CP payload found. */
static const struct ike_pl_cp *through_codec(const struct ike_pl_cp *cp, struct hk_cbb *wire,
                                             struct ike_msg *got, struct hk_arena *a)
{
    struct ike_payload pl = {.type = IKE_PL_CP, .u.cp = *cp};
    struct ike_msg m = {.hdr = {.version = 0x20, .exchange = IKE_AUTH, .msg_id = 1},
                        .npayloads = 1,
                        .payloads = &pl};
    struct hk_diag d = {0};
    hk_cbb_init(wire, 0, 0);
    assert_int_equal(ike_msg_encode(&m, wire), 0);
    assert_int_equal(ike_msg_decode(wire->buf, wire->len, got, a, &d), 0);
    assert_int_equal(got->npayloads, 1);
    assert_int_equal(got->payloads[0].type, IKE_PL_CP);
    return &got->payloads[0].u.cp;
}

static void request_round_trip(void **state)
{
    (void)state;
    struct hk_arena a;
    hk_arena_init(&a, 1 << 16);
    struct ike_pl_cp cp;
    assert_int_equal(ike_cp_build_request(true, true, &a, &cp), 0);
    assert_int_equal(cp.cfg_type, IKE_CFG_REQUEST);
    assert_int_equal(cp.nattrs, 4);

    struct hk_cbb wire;
    struct ike_msg got;
    const struct ike_pl_cp *dec = through_codec(&cp, &wire, &got, &a);
    /* After the IKE header: generic header, CFG_REQUEST, RESERVED, four empty
     * attributes 1, 3, 8, 10 (3.15, 3.15.1). */
    static const uint8_t body[] = {0, 0, 0, 24, 1, 0, 0, 0, 0, 1,  0, 0,
                                   0, 3, 0, 0,  0, 8, 0, 0, 0, 10, 0, 0};
    assert_int_equal(wire.len, IKE_HDR_LEN + sizeof(body));
    assert_memory_equal(wire.buf + IKE_HDR_LEN, body, sizeof(body));
    assert_int_equal(wire.buf[16], IKE_PL_CP);

    struct ike_cp_request req;
    assert_int_equal(ike_cp_parse_request(dec, &req), 0);
    assert_true(req.want4 && req.want6 && req.dns4 && req.dns6);
    assert_false(req.has_addr4 || req.has_addr6 || req.netmask4 || req.supported_attributes);
    hk_cbb_free(&wire);

    /* One family only. */
    assert_int_equal(ike_cp_build_request(false, true, &a, &cp), 0);
    assert_int_equal(cp.nattrs, 2);
    assert_int_equal(cp.attrs[0].type, IKE_CFG_INTERNAL_IP6_ADDRESS);
    assert_int_equal(cp.attrs[1].type, IKE_CFG_INTERNAL_IP6_DNS);
    assert_int_equal(ike_cp_parse_request(&cp, &req), 0);
    assert_true(!req.want4 && req.want6);
    assert_int_equal(ike_cp_build_request(false, false, &a, &cp), HK_E_INVALID);
    hk_arena_free(&a);
}

static void request_with_addresses(void **state)
{
    (void)state;
    /* A reconnecting client asks for its previous addresses; a zero IPv4 address means
     * any; the R bit is ignored; unknown attributes and APPLICATION_VERSION too. */
    static const uint8_t v4[4] = {10, 3, 0, 7}, zero4[4] = {0};
    static const uint8_t v6[17] = {0x20, 0x01, 0x0d, 0xb8, 0, 3, [15] = 0x22, [16] = 64};
    static const uint8_t ver[] = "strongSwan 5.9";
    struct ike_cfg_attr at[] = {
        {.type = IKE_CFG_INTERNAL_IP4_ADDRESS, .r_bit = true, .value = {zero4, 4}},
        {.type = IKE_CFG_INTERNAL_IP4_ADDRESS, .value = {v4, 4}},
        {.type = IKE_CFG_INTERNAL_IP6_ADDRESS, .value = {v6, 17}},
        {.type = IKE_CFG_INTERNAL_IP4_NETMASK},
        {.type = IKE_CFG_SUPPORTED_ATTRIBUTES},
        {.type = IKE_CFG_APPLICATION_VERSION, .value = {ver, sizeof(ver) - 1}},
        {.type = 0x7000, .value = {ver, 3}},
        {.type = IKE_CFG_INTERNAL_IP6_SUBNET},
    };
    struct ike_pl_cp cp = {.cfg_type = IKE_CFG_REQUEST, .nattrs = 8, .attrs = at};
    struct hk_arena a;
    hk_arena_init(&a, 1 << 16);
    struct hk_cbb wire;
    struct ike_msg got;
    const struct ike_pl_cp *dec = through_codec(&cp, &wire, &got, &a);
    assert_true(dec->attrs[0].r_bit);

    struct ike_cp_request req;
    assert_int_equal(ike_cp_parse_request(dec, &req), 0);
    assert_true(req.want4 && req.has_addr4 && req.want6 && req.has_addr6);
    struct hk_ip e4 = ip("10.3.0.7"), e6 = ip("2001:db8:3::22");
    assert_memory_equal(&req.addr4, &e4, sizeof(e4));
    assert_memory_equal(&req.addr6, &e6, sizeof(e6));
    assert_int_equal(req.prefix6, 64);
    assert_true(req.netmask4 && req.supported_attributes);
    assert_false(req.dns4 || req.dns6);
    hk_cbb_free(&wire);

    /* Another CFG type is for the caller to ignore. */
    cp.cfg_type = IKE_CFG_SET;
    assert_int_equal(ike_cp_parse_request(&cp, &req), HK_E_UNSUPPORTED);
    hk_arena_free(&a);
}

static void reply_round_trip(void **state)
{
    (void)state;
    struct hk_arena a;
    hk_arena_init(&a, 1 << 16);
    const struct hk_ip addrs[] = {ip("10.3.0.1"), ip("2001:db8:3::1")};
    const struct hk_ip dns[] = {ip("10.3.0.53"), ip("2001:db8:3::53")};
    struct ike_pl_cp cp;
    assert_int_equal(ike_cp_build_reply(addrs, 2, dns, 2, &a, &cp), 0);

    struct hk_cbb wire;
    struct ike_msg got;
    const struct ike_pl_cp *dec = through_codec(&cp, &wire, &got, &a);
    static const uint8_t body[] = {0,    0,    0,    4 + 4 + 8 + 21 + 8 + 20,
                                   2,    0,    0,    0,
                                   0,    1,    0,    4,
                                   10,   3,    0,    1,
                                   0,    8,    0,    17,
                                   0x20, 0x01, 0x0d, 0xb8,
                                   0,    3,    0,    0,
                                   0,    0,    0,    0,
                                   0,    0,    0,    1,
                                   128,  0,    3,    0,
                                   4,    10,   3,    0,
                                   53,   0,    10,   0,
                                   16,   0x20, 0x01, 0x0d,
                                   0xb8, 0,    3,    0,
                                   0,    0,    0,    0,
                                   0,    0,    0,    0,
                                   0x53};
    assert_int_equal(wire.len, IKE_HDR_LEN + sizeof(body));
    assert_memory_equal(wire.buf + IKE_HDR_LEN, body, sizeof(body));

    struct ike_cp_reply rep;
    assert_int_equal(ike_cp_parse_reply(dec, &rep), 0);
    assert_int_equal(rep.naddrs, 2);
    assert_memory_equal(&rep.addrs[0], &addrs[0], sizeof(addrs[0]));
    assert_memory_equal(&rep.addrs[1], &addrs[1], sizeof(addrs[1]));
    assert_int_equal(rep.prefix[0], 32);
    assert_int_equal(rep.prefix[1], 128);
    assert_int_equal(rep.ndns, 2);
    assert_memory_equal(&rep.dns[0], &dns[0], sizeof(dns[0]));
    assert_memory_equal(&rep.dns[1], &dns[1], sizeof(dns[1]));
    assert_false(rep.has_netmask4);
    assert_int_equal(rep.nsubnets, 0);
    hk_cbb_free(&wire);

    /* Empty reply (no DNS, no address) is representable; a bad family is not. */
    assert_int_equal(ike_cp_build_reply(NULL, 0, NULL, 0, &a, &cp), 0);
    assert_int_equal(cp.nattrs, 0);
    assert_int_equal(ike_cp_parse_reply(&cp, &rep), 0);
    assert_int_equal(rep.naddrs, 0);
    struct hk_ip bad = {.family = AF_UNIX};
    assert_int_equal(ike_cp_build_reply(&bad, 1, NULL, 0, &a, &cp), HK_E_INVALID);
    assert_int_equal(ike_cp_build_reply(addrs, 1, &bad, 1, &a, &cp), HK_E_INVALID);
    hk_arena_free(&a);
}

static void reply_from_other_gateway(void **state)
{
    (void)state;
    /* The 3.15.2 example: address, netmask, two subnets; plus an IPv6 subnet, NBNS,
     * DHCP, an empty DNS attribute and an unknown one, all accepted. */
    static const uint8_t a4[4] = {198, 51, 100, 234}, m4[4] = {255, 255, 255, 192};
    static const uint8_t s1[8] = {198, 51, 100, 0, 255, 255, 255, 192};
    static const uint8_t s2[8] = {192, 0, 2, 0, 255, 255, 255, 0};
    static const uint8_t s6[17] = {0x20, 0x01, 0x0d, 0xb8, 0, 0x99, [16] = 48};
    struct ike_cfg_attr at[] = {
        {.type = IKE_CFG_INTERNAL_IP4_ADDRESS, .value = {a4, 4}},
        {.type = IKE_CFG_INTERNAL_IP4_NETMASK, .value = {m4, 4}},
        {.type = IKE_CFG_INTERNAL_IP4_SUBNET, .value = {s1, 8}},
        {.type = IKE_CFG_INTERNAL_IP4_SUBNET, .value = {s2, 8}},
        {.type = IKE_CFG_INTERNAL_IP6_SUBNET, .value = {s6, 17}},
        {.type = IKE_CFG_INTERNAL_IP4_NBNS, .value = {a4, 4}},
        {.type = IKE_CFG_INTERNAL_IP4_DHCP, .value = {a4, 4}},
        {.type = IKE_CFG_INTERNAL_IP4_DNS},
        {.type = 0x1234, .value = {a4, 3}},
        {.type = IKE_CFG_SUPPORTED_ATTRIBUTES, .value = {s1, 4}},
    };
    struct ike_pl_cp cp = {.cfg_type = IKE_CFG_REPLY, .nattrs = 10, .attrs = at};
    struct hk_arena a;
    hk_arena_init(&a, 1 << 16);
    struct hk_cbb wire;
    struct ike_msg got;
    const struct ike_pl_cp *dec = through_codec(&cp, &wire, &got, &a);
    struct ike_cp_reply rep;
    assert_int_equal(ike_cp_parse_reply(dec, &rep), 0);
    assert_int_equal(rep.naddrs, 1);
    assert_int_equal(rep.prefix[0], 26);
    assert_true(rep.has_netmask4);
    assert_int_equal(rep.netmask4, 26);
    assert_int_equal(rep.ndns, 0);
    assert_int_equal(rep.nsubnets, 3);
    struct hk_ip n1 = ip("198.51.100.0"), n2 = ip("192.0.2.0"), n6 = ip("2001:db8:99::");
    assert_memory_equal(&rep.subnets[0].addr, &n1, sizeof(n1));
    assert_int_equal(rep.subnets[0].prefix, 26);
    assert_memory_equal(&rep.subnets[1].addr, &n2, sizeof(n2));
    assert_int_equal(rep.subnets[1].prefix, 24);
    assert_memory_equal(&rep.subnets[2].addr, &n6, sizeof(n6));
    assert_int_equal(rep.subnets[2].prefix, 48);
    hk_cbb_free(&wire);
    hk_arena_free(&a);
}

/* A reply holding one attribute of the given type and value must be refused. */
static void refused(uint16_t type, const uint8_t *v, size_t len)
{
    struct ike_cfg_attr at = {.type = type, .value = {v, len}};
    struct ike_pl_cp cp = {.cfg_type = IKE_CFG_REPLY, .nattrs = 1, .attrs = &at};
    struct ike_cp_reply rep;
    struct hk_arena a;
    hk_arena_init(&a, 1 << 16);
    struct hk_cbb wire;
    struct ike_msg got;
    const struct ike_pl_cp *dec = through_codec(&cp, &wire, &got, &a);
    assert_int_equal(ike_cp_parse_reply(dec, &rep), HK_E_SYNTAX);
    hk_cbb_free(&wire);
    hk_arena_free(&a);
}

static void malformed_replies(void **state)
{
    (void)state;
    static const uint8_t b[32] = {10, 1, 2, 3, 10, 1, 2, 3, 10, 1, 2, 3, 10, 1, 2, 3, 64, 5};
    static const uint8_t zero[17] = {0};
    /* Lengths against the 3.15.1 table. */
    refused(IKE_CFG_INTERNAL_IP4_ADDRESS, b, 3);
    refused(IKE_CFG_INTERNAL_IP4_ADDRESS, b, 5);
    refused(IKE_CFG_INTERNAL_IP4_ADDRESS, b, 16);
    refused(IKE_CFG_INTERNAL_IP4_NETMASK, b, 2);
    refused(IKE_CFG_INTERNAL_IP4_DNS, b, 16);
    refused(IKE_CFG_INTERNAL_IP4_NBNS, b, 1);
    refused(IKE_CFG_INTERNAL_IP4_DHCP, b, 6);
    refused(IKE_CFG_INTERNAL_IP6_ADDRESS, b, 16);
    refused(IKE_CFG_INTERNAL_IP6_ADDRESS, b, 4);
    refused(IKE_CFG_INTERNAL_IP6_ADDRESS, b, 18);
    refused(IKE_CFG_INTERNAL_IP6_DNS, b, 17);
    refused(IKE_CFG_INTERNAL_IP6_DNS, b, 4);
    refused(IKE_CFG_INTERNAL_IP6_DHCP, b, 15);
    refused(IKE_CFG_INTERNAL_IP4_SUBNET, b, 4);
    refused(IKE_CFG_INTERNAL_IP6_SUBNET, b, 0);
    refused(IKE_CFG_INTERNAL_IP6_SUBNET, b, 16);
    refused(IKE_CFG_SUPPORTED_ATTRIBUTES, b, 3);
    /* Values. */
    refused(IKE_CFG_INTERNAL_IP4_ADDRESS, zero, 4);
    refused(IKE_CFG_INTERNAL_IP6_ADDRESS, zero, 17);
    refused(IKE_CFG_INTERNAL_IP4_DNS, zero, 4);
    static const uint8_t p129[17] = {0x20, 0x01, [15] = 1, [16] = 129};
    refused(IKE_CFG_INTERNAL_IP6_ADDRESS, p129, 17);
    refused(IKE_CFG_INTERNAL_IP6_SUBNET, p129, 17);
    static const uint8_t holes[4] = {255, 0, 255, 0};
    refused(IKE_CFG_INTERNAL_IP4_NETMASK, holes, 4);
    static const uint8_t sub_holes[8] = {10, 0, 0, 0, 255, 255, 1, 0};
    refused(IKE_CFG_INTERNAL_IP4_SUBNET, sub_holes, 8);

    /* Edge values that are fine: /0 and /32 netmasks, a 0-octet unknown attribute. */
    static const uint8_t m0[4] = {0}, m32[4] = {255, 255, 255, 255};
    struct ike_cfg_attr at[] = {
        {.type = IKE_CFG_INTERNAL_IP4_NETMASK, .value = {m32, 4}},
        {.type = IKE_CFG_INTERNAL_IP4_NETMASK, .value = {m0, 4}},
        {.type = 0x7fff},
    };
    struct ike_pl_cp cp = {.cfg_type = IKE_CFG_REPLY, .nattrs = 3, .attrs = at};
    struct ike_cp_reply rep;
    assert_int_equal(ike_cp_parse_reply(&cp, &rep), 0);
    assert_int_equal(rep.netmask4, 32);

    /* Not a reply at all. */
    cp.cfg_type = IKE_CFG_REQUEST;
    assert_int_equal(ike_cp_parse_reply(&cp, &rep), HK_E_SYNTAX);
    cp.cfg_type = IKE_CFG_ACK;
    assert_int_equal(ike_cp_parse_reply(&cp, &rep), HK_E_SYNTAX);
}

static void malformed_requests(void **state)
{
    (void)state;
    static const uint8_t b[17] = {0x20, 0x01, [16] = 200};
    struct ike_cfg_attr at = {.type = IKE_CFG_INTERNAL_IP6_ADDRESS, .value = {b, 17}};
    struct ike_pl_cp cp = {.cfg_type = IKE_CFG_REQUEST, .nattrs = 1, .attrs = &at};
    struct ike_cp_request req;
    assert_int_equal(ike_cp_parse_request(&cp, &req), HK_E_SYNTAX); /* prefix 200 */
    at.value.len = 16;
    assert_int_equal(ike_cp_parse_request(&cp, &req), HK_E_SYNTAX);
    at = (struct ike_cfg_attr){.type = IKE_CFG_INTERNAL_IP4_ADDRESS, .value = {b, 2}};
    assert_int_equal(ike_cp_parse_request(&cp, &req), HK_E_SYNTAX);
    at = (struct ike_cfg_attr){.type = IKE_CFG_SUPPORTED_ATTRIBUTES, .value = {b, 1}};
    assert_int_equal(ike_cp_parse_request(&cp, &req), HK_E_SYNTAX);

    /* Decoded from hand-written bytes: CFG_REQUEST with INTERNAL_IP4_ADDRESS of 3 octets.
     * The codec accepts it (bounds are fine); the attribute parser does not. */
    static const uint8_t msg[] = {
        1,         2,    3,        4,    5, 6, 7, 8, 9,  10, 11, 12,      13, 14, 15, 16, /* SPIs */
        IKE_PL_CP, 0x20, IKE_AUTH, 0x08, 0, 0, 0, 1, 0,  0,  0,  28 + 15, 0,  0,  0,  15,
        1,         0,    0,        0,    0, 1, 0, 3, 10, 0,  0};
    struct hk_arena a;
    struct ike_msg m;
    struct hk_diag d = {0};
    hk_arena_init(&a, 1 << 16);
    assert_int_equal(ike_msg_decode(msg, sizeof(msg), &m, &a, &d), 0);
    assert_int_equal(ike_cp_parse_request(&m.payloads[0].u.cp, &req), HK_E_SYNTAX);
    hk_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_round_trip), cmocka_unit_test(request_with_addresses),
        cmocka_unit_test(reply_round_trip),   cmocka_unit_test(reply_from_other_gateway),
        cmocka_unit_test(malformed_replies),  cmocka_unit_test(malformed_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
