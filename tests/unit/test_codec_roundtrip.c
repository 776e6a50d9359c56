/*
 * Codec round trips: every payload type built as structures, encoded, decoded,
 * compared field by field and re-encoded byte for byte; wire layouts checked
 * against bytes written from the RFC figures; a hand-written IKE_SA_INIT request
 * decoded field by field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "unit/codec_test.h"
#include "tools/sample_msgs.h"

static uint8_t pat[512]; /* pattern bytes for payload data */

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(pat); i++)
        pat[i] = (uint8_t)(i * 7 + 3);
    return 0;
}

/* Round trip of a message holding just pl; then, when want is given, the payload's
 * wire bytes (after the 28-octet header) must equal it. */
static void one(const struct ike_payload *pl, const uint8_t *want, size_t want_len)
{
    struct ike_msg m;
    struct rt rt;
    test_msg_init(&m, (struct ike_payload *)pl, 1);
    roundtrip(&m, &rt);
    if (want) {
        assert_int_equal(rt.enc.len, IKE_HDR_LEN + want_len);
        assert_memory_equal(rt.enc.buf + IKE_HDR_LEN, want, want_len);
    }
    rt_free(&rt);
}

static void rt_sa(void **state)
{
    (void)state;
    struct ike_transform t_ike[] = {
        {.type = IKE_TRANS_ENCR, .id = 12, .nattrs = 1, .attrs = {{14, true, 128, {0}}}},
        {.type = IKE_TRANS_ENCR, .id = 12, .nattrs = 1, .attrs = {{14, true, 256, {0}}}},
        {.type = IKE_TRANS_PRF, .id = 5},
        {.type = IKE_TRANS_INTEG, .id = 12},
        {.type = IKE_TRANS_KE, .id = 19},
        {.type = IKE_TRANS_KE, .id = 31},
    };
    struct ike_transform t_esp[] = {
        {.type = IKE_TRANS_ENCR, .id = 20, .nattrs = 1, .attrs = {{14, true, 256, {0}}}},
        /* a TLV attribute of an unassigned type, to cover the variable-length form */
        {.type = IKE_TRANS_ENCR,
         .id = 28,
         .nattrs = 2,
         .attrs = {{14, true, 256, {0}}, {1000, false, 0, {pat, 5}}}},
        {.type = IKE_TRANS_ESN, .id = 0},
        {.type = IKE_TRANS_ESN, .id = 1},
    };
    struct ike_transform t_ah[] = {{.type = IKE_TRANS_INTEG, .id = 12}};
    struct ike_proposal props[] = {
        {.num = 1,
         .protocol = IKE_PROTO_IKE,
         .spi = {pat, 8},
         .ntransforms = 6,
         .transforms = t_ike},
        {.num = 2,
         .protocol = IKE_PROTO_ESP,
         .spi = {pat + 8, 4},
         .ntransforms = 4,
         .transforms = t_esp},
        {.num = 3,
         .protocol = IKE_PROTO_AH,
         .spi = {pat + 12, 4},
         .ntransforms = 1,
         .transforms = t_ah},
    };
    struct ike_payload pl = {.type = IKE_PL_SA, .u.sa = {3, props}};
    one(&pl, NULL, 0);

    /* Wire layout of one small proposal (3.3.1, 3.3.2, 3.3.5). */
    struct ike_payload small = {.type = IKE_PL_SA, .u.sa = {1, &props[2]}};
    const uint8_t want[] = {
        0x00,    0x00,    0x00,    0x18,                            /* generic header, length 24 */
        0x00,    0x00,    0x00,    0x14,    0x03, 0x02, 0x04, 0x01, /* last, #3, AH */
        pat[12], pat[13], pat[14], pat[15],                         /* SPI */
        0x00,    0x00,    0x00,    0x08,    0x03, 0x00, 0x00, 0x0c};
    one(&small, want, sizeof(want));
}

static void rt_ke(void **state)
{
    (void)state;
    struct ike_payload pl = {.type = IKE_PL_KE, .u.ke = {.group = 19, .data = {pat, 64}}};
    one(&pl, NULL, 0);
    pl.u.ke.group = 31;
    pl.u.ke.data.len = 32;
    one(&pl, NULL, 0);
}

static void rt_id(void **state)
{
    (void)state;
    struct ike_payload idi = {.type = IKE_PL_IDI,
                              .u.id = {.type = IKE_ID_FQDN, .data = view("vpn.example.org", 15)}};
    one(&idi, NULL, 0);
    struct ike_payload idr = {
        .type = IKE_PL_IDR,
        .u.id = {.type = IKE_ID_IPV4_ADDR, .data = view("\xc0\x00\x02\x01", 4)}};
    const uint8_t want[] = {0x00, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01};
    one(&idr, want, sizeof(want));
}

static void rt_cert_certreq(void **state)
{
    (void)state;
    struct ike_payload cert = {.type = IKE_PL_CERT,
                               .u.cert = {.encoding = IKE_CERT_X509_SIG, .data = {pat, 300}}};
    one(&cert, NULL, 0);
    struct ike_payload cr = {.type = IKE_PL_CERTREQ,
                             .u.cert = {.encoding = IKE_CERT_X509_SIG, .data = {pat, 40}}};
    one(&cr, NULL, 0);
    cr.u.cert.data.len = 0; /* no CA list: legal */
    const uint8_t want[] = {0x00, 0x00, 0x00, 0x05, 0x04};
    one(&cr, want, sizeof(want));
}

static void rt_auth(void **state)
{
    (void)state;
    struct ike_payload pl = {.type = IKE_PL_AUTH,
                             .u.auth = {.method = IKE_AUTH_SHARED_KEY, .data = {pat, 32}}};
    one(&pl, NULL, 0);
    pl.u.auth.method = IKE_AUTH_DIGITAL_SIGNATURE;
    pl.u.auth.data.len = 300;
    one(&pl, NULL, 0);
}

static void rt_nonce(void **state)
{
    (void)state;
    struct ike_payload pl = {.type = IKE_PL_NONCE, .u.nonce = {{pat, 16}}};
    one(&pl, NULL, 0);
    pl.u.nonce.data.len = 32;
    one(&pl, NULL, 0);
    pl.u.nonce.data.len = 256;
    one(&pl, NULL, 0);
}

static void rt_notify(void **state)
{
    (void)state;
    /* Without SPI: COOKIE with data. */
    struct ike_payload n = {.type = IKE_PL_NOTIFY,
                            .u.notify = {.type = IKE_N_COOKIE, .data = {pat, 20}}};
    one(&n, NULL, 0);
    /* Without SPI or data: the wire layout of 3.10. */
    n.u.notify.type = IKE_N_IKEV2_FRAGMENTATION_SUPPORTED;
    n.u.notify.data.len = 0;
    const uint8_t want0[] = {0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x40, 0x2e};
    one(&n, want0, sizeof(want0));
    /* With a 4-octet ESP SPI: REKEY_SA. */
    struct ike_payload r = {.type = IKE_PL_NOTIFY,
                            .u.notify = {.protocol = IKE_PROTO_ESP,
                                         .spi = view("\xde\xad\xbe\xef", 4),
                                         .type = IKE_N_REKEY_SA}};
    const uint8_t want4[] = {0x00, 0x00, 0x00, 0x0c, 0x03, 0x04,
                             0x40, 0x09, 0xde, 0xad, 0xbe, 0xef};
    one(&r, want4, sizeof(want4));
    /* With an 8-octet SPI and data. */
    r.u.notify.protocol = IKE_PROTO_IKE;
    r.u.notify.spi = view(pat, 8);
    r.u.notify.type = IKE_N_INVALID_SELECTORS;
    r.u.notify.data = view(pat + 8, 40);
    one(&r, NULL, 0);
}

static void rt_delete(void **state)
{
    (void)state;
    struct ike_payload ike = {.type = IKE_PL_DELETE, .u.del = {.protocol = IKE_PROTO_IKE}};
    const uint8_t want_ike[] = {0x00, 0x00, 0x00, 0x08, 0x01, 0x00, 0x00, 0x00};
    one(&ike, want_ike, sizeof(want_ike));
    const uint8_t spis[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    struct ike_payload esp = {
        .type = IKE_PL_DELETE,
        .u.del = {.protocol = IKE_PROTO_ESP, .spi_size = 4, .nspis = 3, .spis = {spis, 12}}};
    const uint8_t want_esp[] = {0x00, 0x00, 0x00, 0x14, 0x03, 0x04, 0x00, 0x03, 1,  2,
                                3,    4,    5,    6,    7,    8,    9,    10,   11, 12};
    one(&esp, want_esp, sizeof(want_esp));
}

static void rt_vendor(void **state)
{
    (void)state;
    struct ike_payload pl = {.type = IKE_PL_VENDOR, .u.vendor = {{pat, 16}}};
    one(&pl, NULL, 0);
}

static void rt_ts(void **state)
{
    (void)state;
    struct ike_ts ts[] = {
        {IKE_TS_IPV4_ADDR_RANGE, 0, 0, 65535, {10, 0, 0, 0}, {10, 0, 255, 255}},
        {IKE_TS_IPV6_ADDR_RANGE, 6, 443, 443, {0x20, 0x01, 0x0d, 0xb8}, {0x20, 0x01, 0x0d, 0xb8}},
        {IKE_TS_IPV4_ADDR_RANGE, 1, 0x0800, 0x08ff, {192, 0, 2, 1}, {192, 0, 2, 1}},
    };
    memset(ts[1].end_addr + 4, 0xff, 12);
    struct ike_payload tsi = {.type = IKE_PL_TSI, .u.ts = {.nts = 3, .ts = ts}};
    one(&tsi, NULL, 0);
    struct ike_payload tsr = {.type = IKE_PL_TSR, .u.ts = {.nts = 1, .ts = &ts[0]}};
    /* 3.13, 3.13.1: count, reserved, then type 7, proto, length 16, ports, addresses. */
    const uint8_t want[] = {0x00, 0x00, 0x00, 0x18, 0x01, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x10,
                            0x00, 0x00, 0xff, 0xff, 10,   0,    0,    0,    10,   0,    255,  255};
    one(&tsr, want, sizeof(want));
    tsr.u.ts.ts = &ts[1];
    one(&tsr, NULL, 0);
}

static void rt_sk(void **state)
{
    (void)state;
    struct ike_payload pl = {.type = IKE_PL_SK,
                             .u.sk = {.first_inner = IKE_PL_IDI, .body = {pat, 8 + 200 + 16}}};
    one(&pl, NULL, 0);
    /* An empty INFORMATIONAL (liveness check): SK's Next Payload is 0 (3.14). */
    pl.u.sk.first_inner = IKE_PL_NONE;
    pl.u.sk.body.len = 8 + 16;
    one(&pl, NULL, 0);
}

static void rt_skf(void **state)
{
    (void)state;
    struct ike_payload pl = {
        .type = IKE_PL_SKF,
        .u.skf = {.first_inner = IKE_PL_IDI, .frag_num = 1, .total_frags = 3, .body = {pat, 40}}};
    one(&pl, NULL, 0);
    /* Later fragments: Next Payload 0 (RFC 7383 2.5). */
    pl.u.skf = (struct ike_pl_skf){0, 3, 3, {pat, 4}};
    const uint8_t want[] = {0x00, 0x00, 0x00,   0x0c,   0x00,   0x03,
                            0x00, 0x03, pat[0], pat[1], pat[2], pat[3]};
    one(&pl, want, sizeof(want));
}

static void rt_cp(void **state)
{
    (void)state;
    /* CFG_REQUEST: empty attributes ask for values (3.15.1). */
    struct ike_cfg_attr req[] = {{IKE_CFG_INTERNAL_IP4_ADDRESS, false, {0}},
                                 {IKE_CFG_INTERNAL_IP4_DNS, false, {0}},
                                 {IKE_CFG_INTERNAL_IP6_ADDRESS, false, {0}}};
    struct ike_payload pl = {.type = IKE_PL_CP,
                             .u.cp = {.cfg_type = IKE_CFG_REQUEST, .nattrs = 3, .attrs = req}};
    const uint8_t want_req[] = {0x00, 0x00, 0x00, 0x14, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01,
                                0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00};
    one(&pl, want_req, sizeof(want_req));
    struct ike_cfg_attr reply[] = {
        {IKE_CFG_INTERNAL_IP4_ADDRESS, false, {(const uint8_t *)"\x0a\x00\x00\x05", 4}},
        {IKE_CFG_INTERNAL_IP4_NETMASK, false, {(const uint8_t *)"\xff\xff\xff\x00", 4}},
        {IKE_CFG_INTERNAL_IP4_DNS, false, {(const uint8_t *)"\x0a\x00\x00\x01", 4}},
        {IKE_CFG_INTERNAL_IP6_ADDRESS, false, {pat, 17}},
        {IKE_CFG_APPLICATION_VERSION, false, {(const uint8_t *)"hike", 4}},
    };
    pl.u.cp = (struct ike_pl_cp){.cfg_type = IKE_CFG_REPLY, .nattrs = 5, .attrs = reply};
    one(&pl, NULL, 0);
    /* No attributes at all is allowed. */
    pl.u.cp = (struct ike_pl_cp){.cfg_type = IKE_CFG_ACK};
    one(&pl, NULL, 0);
}

static void rt_eap(void **state)
{
    (void)state;
    struct ike_payload pl = {.type = IKE_PL_EAP,
                             .u.eap = {view("\x01\x07\x00\x0a\x04\x10\x11\x12\x13\x14", 10)}};
    one(&pl, NULL, 0);
    pl.u.eap.msg = view("\x03\x07\x00\x04", 4); /* Success */
    one(&pl, NULL, 0);
}

static void rt_unknown(void **state)
{
    (void)state;
    struct ike_payload pl[] = {
        {.type = 129, .u.unknown = {{pat, 10}}},
        {.type = IKE_PL_NONCE, .u.nonce = {{pat, 16}}},
        {.type = 1, .u.unknown = {{pat, 0}}},
    };
    struct ike_msg m;
    struct rt rt;
    test_msg_init(&m, pl, 3);
    roundtrip(&m, &rt);
    assert_int_equal(rt.out.unknown_critical, 0);
    assert_false(ike_payload_known(rt.out.payloads[0].type));
    assert_int_equal(rt.out.payloads[0].type, 129);
    rt_free(&rt);
    /* The critical bit of a known payload is kept but ignored (3.2). */
    pl[1].critical = true;
    test_msg_init(&m, pl, 3);
    roundtrip(&m, &rt);
    assert_int_equal(rt.out.unknown_critical, 0);
    assert_true(rt.out.payloads[1].critical);
    rt_free(&rt);
}

/* RESERVED fields MUST be ignored on receipt (3.2 and each payload): they survive. */
static void rt_reserved_bits(void **state)
{
    (void)state;
    struct ike_transform tr = {.type = 1,
                               .id = 20,
                               .reserved = {0xaa, 0xbb},
                               .nattrs = 1,
                               .attrs = {{14, true, 256, {0}}}};
    struct ike_proposal prop = {
        .num = 1, .protocol = 1, .reserved = 0x5a, .ntransforms = 1, .transforms = &tr};
    struct ike_cfg_attr ca = {IKE_CFG_INTERNAL_IP4_ADDRESS, true, {0}};
    struct ike_ts ts = {IKE_TS_IPV4_ADDR_RANGE, 0, 0, 65535, {0}, {255, 255, 255, 255}};
    struct ike_payload pl[] = {
        {.type = IKE_PL_SA, .reserved = 0x7f, .u.sa = {1, &prop}},
        {.type = IKE_PL_KE, .reserved = 0x01, .u.ke = {19, {0x12, 0x34}, {pat, 64}}},
        {.type = IKE_PL_IDI, .u.id = {IKE_ID_KEY_ID, {1, 2, 3}, {pat, 3}}},
        {.type = IKE_PL_AUTH, .u.auth = {IKE_AUTH_SHARED_KEY, {4, 5, 6}, {pat, 32}}},
        {.type = IKE_PL_TSI, .u.ts = {{7, 8, 9}, 1, &ts, {0}}},
        {.type = IKE_PL_CP, .u.cp = {IKE_CFG_REQUEST, {10, 11, 12}, 1, &ca}},
    };
    struct ike_msg m;
    struct rt rt;
    test_msg_init(&m, pl, 6);
    m.hdr.version = 0x2f;                                      /* minor version ignored (3.1) */
    m.hdr.flags = IKE_FLAG_RESPONSE | IKE_FLAG_VERSION | 0x07; /* X bits ignored */
    roundtrip(&m, &rt);
    rt_free(&rt);
}

static void rt_all_samples(void **state)
{
    (void)state;
    static struct sample s;
    void (*builders[])(struct sample *) = {sample_sa_init_req,  sample_sa_init_resp,
                                           sample_ike_auth_req, sample_informational,
                                           sample_skf,          sample_all_payloads};
    for (size_t i = 0; i < sizeof(builders) / sizeof(builders[0]); i++) {
        struct rt rt;
        builders[i](&s);
        roundtrip(&s.msg, &rt);
        rt_free(&rt);
    }
    /* The kitchen-sink message covers every known payload type and an unknown one. */
    sample_all_payloads(&s);
    for (uint8_t t = IKE_PL_SA; t <= IKE_PL_EAP; t++) {
        size_t from = 0;
        assert_non_null(ike_msg_find(&s.msg, t, &from));
    }
}

/* The hand-written IKE_SA_INIT request, decoded and checked field by field. */
static void sa_init_from_hex(void **state)
{
    (void)state;
    struct hk_arena a;
    struct hk_diag d = {{0}};
    struct ike_msg m;
    hk_arena_init(&a, ARENA_LIMIT);
    assert_int_equal(sizeof(sa_init_hex), 248);
    assert_int_equal(ike_msg_decode(sa_init_hex, sizeof(sa_init_hex), &m, &a, &d), 0);

    const uint8_t spi_i[8] = {1, 2, 3, 4, 5, 6, 7, 8}, zero[8] = {0};
    assert_memory_equal(m.hdr.spi_i, spi_i, 8);
    assert_memory_equal(m.hdr.spi_r, zero, 8);
    assert_int_equal(m.hdr.next_payload, IKE_PL_SA);
    assert_int_equal(m.hdr.version, 0x20);
    assert_int_equal(m.hdr.exchange, IKE_SA_INIT);
    assert_int_equal(m.hdr.flags, IKE_FLAG_INITIATOR);
    assert_int_equal(m.hdr.msg_id, 0);
    assert_int_equal(m.hdr.length, 248);
    assert_int_equal(m.unknown_critical, 0);
    assert_int_equal(m.npayloads, 6);

    const struct ike_payload *p = &m.payloads[0];
    assert_int_equal(p->type, IKE_PL_SA);
    assert_false(p->critical);
    assert_int_equal(p->u.sa.nproposals, 1);
    const struct ike_proposal *prop = &p->u.sa.proposals[0];
    assert_int_equal(prop->num, 1);
    assert_int_equal(prop->protocol, IKE_PROTO_IKE);
    assert_int_equal(prop->spi.len, 0);
    assert_int_equal(prop->ntransforms, 4);
    assert_int_equal(prop->transforms[0].type, IKE_TRANS_ENCR);
    assert_int_equal(prop->transforms[0].id, 20);
    assert_int_equal(prop->transforms[0].nattrs, 1);
    assert_int_equal(prop->transforms[0].attrs[0].type, IKE_ATTR_KEY_LENGTH);
    assert_true(prop->transforms[0].attrs[0].tv);
    assert_int_equal(prop->transforms[0].attrs[0].value, 256);
    assert_int_equal(prop->transforms[1].type, IKE_TRANS_PRF);
    assert_int_equal(prop->transforms[1].id, 5);
    assert_int_equal(prop->transforms[1].nattrs, 0);
    assert_int_equal(prop->transforms[2].type, IKE_TRANS_KE);
    assert_int_equal(prop->transforms[2].id, 19);
    assert_int_equal(prop->transforms[3].type, IKE_TRANS_KE);
    assert_int_equal(prop->transforms[3].id, 31);

    p = &m.payloads[1];
    assert_int_equal(p->type, IKE_PL_KE);
    assert_int_equal(p->u.ke.group, 19);
    assert_int_equal(p->u.ke.data.len, 64);
    assert_int_equal(p->u.ke.data.p[0], 0x40);
    assert_int_equal(p->u.ke.data.p[63], 0x7f);
    assert_ptr_equal(p->u.ke.data.p, sa_init_hex + 28 + 48 + 8); /* a view, not a copy */

    p = &m.payloads[2];
    assert_int_equal(p->type, IKE_PL_NONCE);
    assert_int_equal(p->u.nonce.data.len, 32);
    assert_int_equal(p->u.nonce.data.p[0], 0xa0);
    assert_int_equal(p->u.nonce.data.p[31], 0xbf);

    const uint16_t ntypes[] = {IKE_N_NAT_DETECTION_SOURCE_IP, IKE_N_NAT_DETECTION_DESTINATION_IP,
                               IKE_N_IKEV2_FRAGMENTATION_SUPPORTED};
    const uint8_t nfirst[] = {0xc0, 0xe0};
    for (int i = 0; i < 3; i++) {
        p = &m.payloads[3 + i];
        assert_int_equal(p->type, IKE_PL_NOTIFY);
        assert_int_equal(p->u.notify.protocol, 0);
        assert_int_equal(p->u.notify.spi.len, 0);
        assert_int_equal(p->u.notify.type, ntypes[i]);
        assert_int_equal(p->u.notify.data.len, i < 2 ? 20 : 0);
        if (i < 2)
            assert_int_equal(p->u.notify.data.p[0], nfirst[i]);
    }
    const struct ike_pl_notify *nd = ike_msg_find_notify(&m, IKE_N_NAT_DETECTION_DESTINATION_IP);
    assert_ptr_equal(nd, &m.payloads[4].u.notify);
    assert_null(ike_msg_find_notify(&m, IKE_N_COOKIE));

    /* And back to the same bytes. */
    struct hk_cbb b;
    hk_cbb_init(&b, 0, 0);
    assert_int_equal(ike_msg_encode(&m, &b), 0);
    assert_int_equal(b.len, sizeof(sa_init_hex));
    assert_memory_equal(b.buf, sa_init_hex, sizeof(sa_init_hex));
    hk_cbb_free(&b);
    hk_arena_free(&a);
}

/* SK plaintext: a header-less chain, appended to the message that carried the SK. */
static void rt_inner_chain(void **state)
{
    (void)state;
    struct ike_ts ts = {IKE_TS_IPV4_ADDR_RANGE, 0, 0, 65535, {0}, {255, 255, 255, 255}};
    struct ike_payload inner[] = {
        {.type = IKE_PL_IDI, .u.id = {IKE_ID_RFC822_ADDR, {0}, view("a@example.org", 13)}},
        {.type = IKE_PL_AUTH, .u.auth = {IKE_AUTH_SHARED_KEY, {0}, {pat, 32}}},
        {.type = IKE_PL_TSI, .u.ts = {{0}, 1, &ts, {0}}},
        {.type = IKE_PL_TSR, .u.ts = {{0}, 1, &ts, {0}}},
        {.type = 150, .critical = true, .u.unknown = {{pat, 3}}},
    };
    struct hk_cbb plain, again;
    uint8_t first = 0xff;
    hk_cbb_init(&plain, 0, 0);
    hk_cbb_init(&again, 0, 0);
    assert_int_equal(ike_payloads_encode(inner, 5, &first, &plain), 0);
    assert_int_equal(first, IKE_PL_IDI);

    struct ike_payload outer = {.type = IKE_PL_SK,
                                .u.sk = {.first_inner = first, .body = {pat, 40}}};
    struct ike_msg m;
    struct rt rt;
    test_msg_init(&m, &outer, 1);
    roundtrip(&m, &rt);
    struct hk_diag d = {{0}};
    assert_int_equal(ike_payloads_decode(rt.out.payloads[0].u.sk.first_inner, plain.buf, plain.len,
                                         &rt.out, &rt.arena, &d),
                     0);
    assert_int_equal(rt.out.npayloads, 6);
    assert_int_equal(rt.out.payloads[0].type, IKE_PL_SK);
    for (size_t i = 0; i < 5; i++)
        assert_payload_equal(&inner[i], &rt.out.payloads[1 + i]);
    assert_int_equal(rt.out.unknown_critical, 150);
    assert_int_equal(ike_payloads_encode(rt.out.payloads + 1, 5, &first, &again), 0);
    assert_int_equal(again.len, plain.len);
    assert_memory_equal(again.buf, plain.buf, plain.len);

    /* Empty chain. */
    assert_int_equal(ike_payloads_encode(NULL, 0, &first, &again), 0);
    assert_int_equal(first, IKE_PL_NONE);
    assert_int_equal(ike_payloads_decode(IKE_PL_NONE, NULL, 0, &rt.out, &rt.arena, &d), 0);
    assert_int_equal(rt.out.npayloads, 6);

    hk_cbb_free(&plain);
    hk_cbb_free(&again);
    rt_free(&rt);
}

/* The encoder refuses what it cannot represent, and leaves the buffer as it was. */
static void encode_refusals(void **state)
{
    (void)state;
    struct ike_payload sk = {.type = IKE_PL_SK, .u.sk = {IKE_PL_NONCE, {pat, 24}}};
    struct ike_payload nonce = {.type = IKE_PL_NONCE, .u.nonce = {{pat, 16}}};
    struct ike_payload pl[2] = {sk, nonce};
    struct ike_msg m;
    struct hk_cbb b;
    uint8_t first;
    hk_cbb_init(&b, 0, 0);
    hk_cbb_add_u32(&b, 0); /* a non-ESP marker already in the buffer */

    test_msg_init(&m, pl, 2); /* SK not last */
    assert_int_equal(ike_msg_encode(&m, &b), HK_E_INVALID);
    assert_int_equal(b.len, 4);
    assert_int_equal(ike_payloads_encode(&sk, 1, &first, &b), HK_E_INVALID); /* SK inside SK */
    struct ike_payload none = {.type = IKE_PL_NONE};
    test_msg_init(&m, &none, 1);
    assert_int_equal(ike_msg_encode(&m, &b), HK_E_INVALID);
    struct ike_payload big_spi = {.type = IKE_PL_NOTIFY, .u.notify = {.spi = {pat, 256}}};
    test_msg_init(&m, &big_spi, 1);
    assert_int_equal(ike_msg_encode(&m, &b), HK_E_INVALID);
    assert_int_equal(b.len, 4);
    assert_int_equal(hk_cbb_err(&b), 0);

    /* The message length counts from the header, not from the start of the buffer. */
    test_msg_init(&m, &nonce, 1);
    assert_int_equal(ike_msg_encode(&m, &b), 0);
    assert_int_equal(b.len, 4 + 28 + 20);
    assert_int_equal(b.buf[4 + 27], 48);

    /* A payload longer than 65535 octets cannot be framed. */
    static uint8_t huge[70000];
    struct ike_payload v = {.type = IKE_PL_VENDOR, .u.vendor = {{huge, sizeof(huge)}}};
    test_msg_init(&m, &v, 1);
    assert_int_equal(ike_msg_encode(&m, &b), HK_E_OVERFLOW);
    hk_cbb_free(&b);

    /* The writer's limit is respected. */
    hk_cbb_init(&b, 0, 40);
    test_msg_init(&m, &nonce, 1);
    assert_int_equal(ike_msg_encode(&m, &b), HK_E_OVERFLOW);
    hk_cbb_free(&b);
}

static void lookups_and_names(void **state)
{
    (void)state;
    struct ike_payload pl[] = {
        {.type = IKE_PL_NOTIFY, .u.notify = {.type = IKE_N_COOKIE}},
        {.type = IKE_PL_NONCE},
        {.type = IKE_PL_NOTIFY, .u.notify = {.type = IKE_N_INITIAL_CONTACT}},
    };
    struct ike_msg m;
    size_t from = 0;
    test_msg_init(&m, pl, 3);
    assert_ptr_equal(ike_msg_find(&m, IKE_PL_NOTIFY, &from), &pl[0]);
    assert_int_equal(from, 1);
    assert_ptr_equal(ike_msg_find(&m, IKE_PL_NOTIFY, &from), &pl[2]);
    assert_int_equal(from, 3);
    assert_null(ike_msg_find(&m, IKE_PL_NOTIFY, &from));
    assert_null(ike_msg_find(&m, IKE_PL_SA, NULL));
    assert_ptr_equal(ike_msg_find(&m, IKE_PL_NONCE, NULL), &pl[1]);
    assert_ptr_equal(ike_msg_find_notify(&m, IKE_N_INITIAL_CONTACT), &pl[2].u.notify);

    assert_string_equal(ike_payload_name(IKE_PL_SA), "SA");
    assert_string_equal(ike_payload_name(IKE_PL_IDR), "IDr");
    assert_string_equal(ike_payload_name(IKE_PL_SKF), "SKF");
    assert_string_equal(ike_payload_name(99), "UNKNOWN");
    assert_string_equal(ike_exchange_name(IKE_SA_INIT), "IKE_SA_INIT");
    assert_string_equal(ike_exchange_name(IKE_CREATE_CHILD_SA), "CREATE_CHILD_SA");
    assert_string_equal(ike_exchange_name(IKE_INFORMATIONAL), "INFORMATIONAL");
    assert_string_equal(ike_exchange_name(0), "UNKNOWN");
    assert_true(ike_payload_known(IKE_PL_EAP));
    assert_true(ike_payload_known(IKE_PL_SKF));
    assert_false(ike_payload_known(49));
    assert_false(ike_payload_known(0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rt_sa),
        cmocka_unit_test(rt_ke),
        cmocka_unit_test(rt_id),
        cmocka_unit_test(rt_cert_certreq),
        cmocka_unit_test(rt_auth),
        cmocka_unit_test(rt_nonce),
        cmocka_unit_test(rt_notify),
        cmocka_unit_test(rt_delete),
        cmocka_unit_test(rt_vendor),
        cmocka_unit_test(rt_ts),
        cmocka_unit_test(rt_sk),
        cmocka_unit_test(rt_skf),
        cmocka_unit_test(rt_cp),
        cmocka_unit_test(rt_eap),
        cmocka_unit_test(rt_unknown),
        cmocka_unit_test(rt_reserved_bits),
        cmocka_unit_test(rt_all_samples),
        cmocka_unit_test(sa_init_from_hex),
        cmocka_unit_test(rt_inner_chain),
        cmocka_unit_test(encode_refusals),
        cmocka_unit_test(lookups_and_names),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
