/*
 * Helpers shared by the codec unit tests: a hand-written IKE_SA_INIT request,
 * field-by-field payload comparison and an encode/decode/encode round trip.
 * Include after cmocka.h.
 */
#ifndef HIKE_TESTS_CODEC_TEST_H
#define HIKE_TESTS_CODEC_TEST_H

#include <string.h>

#include "common/arena.h"
#include "common/cbb.h"
#include "common/err.h"
#include "ike/codec/msg.h"
#include "ike/codec/notify.h"

#define ARENA_LIMIT (1u << 20)

/*
 * IKE_SA_INIT request written from RFC 7296 3.1-3.10 by hand:
 * HDR, SA(ENCR AES-GCM-16/256, PRF HMAC-SHA2-256, KE 19, KE 31), KE(19), Ni,
 * N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP),
 * N(IKEV2_FRAGMENTATION_SUPPORTED). 248 octets.
 */
static const uint8_t sa_init_hex[] = {
    /* IKE header: SPIi, SPIr = 0 */
    0x01,
    0x02,
    0x03,
    0x04,
    0x05,
    0x06,
    0x07,
    0x08,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    /* next SA (33), version 2.0, IKE_SA_INIT (34), flags I, message ID 0, length 248 */
    0x21,
    0x20,
    0x22,
    0x08,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0xf8,
    /* SA: next KE (34), length 48 */
    0x22,
    0x00,
    0x00,
    0x30,
    /* proposal: last, length 44, #1, IKE, SPI size 0, 4 transforms */
    0x00,
    0x00,
    0x00,
    0x2c,
    0x01,
    0x01,
    0x00,
    0x04,
    /* transform: more, length 12, ENCR, AES-GCM-16 (20), Key Length (TV) 256 */
    0x03,
    0x00,
    0x00,
    0x0c,
    0x01,
    0x00,
    0x00,
    0x14,
    0x80,
    0x0e,
    0x01,
    0x00,
    /* transform: more, length 8, PRF, HMAC-SHA2-256 (5) */
    0x03,
    0x00,
    0x00,
    0x08,
    0x02,
    0x00,
    0x00,
    0x05,
    /* transform: more, length 8, D-H, 19 */
    0x03,
    0x00,
    0x00,
    0x08,
    0x04,
    0x00,
    0x00,
    0x13,
    /* transform: last, length 8, D-H, 31 */
    0x00,
    0x00,
    0x00,
    0x08,
    0x04,
    0x00,
    0x00,
    0x1f,
    /* KE: next Nonce (40), length 72, group 19, reserved, 64 octets */
    0x28,
    0x00,
    0x00,
    0x48,
    0x00,
    0x13,
    0x00,
    0x00,
    0x40,
    0x41,
    0x42,
    0x43,
    0x44,
    0x45,
    0x46,
    0x47,
    0x48,
    0x49,
    0x4a,
    0x4b,
    0x4c,
    0x4d,
    0x4e,
    0x4f,
    0x50,
    0x51,
    0x52,
    0x53,
    0x54,
    0x55,
    0x56,
    0x57,
    0x58,
    0x59,
    0x5a,
    0x5b,
    0x5c,
    0x5d,
    0x5e,
    0x5f,
    0x60,
    0x61,
    0x62,
    0x63,
    0x64,
    0x65,
    0x66,
    0x67,
    0x68,
    0x69,
    0x6a,
    0x6b,
    0x6c,
    0x6d,
    0x6e,
    0x6f,
    0x70,
    0x71,
    0x72,
    0x73,
    0x74,
    0x75,
    0x76,
    0x77,
    0x78,
    0x79,
    0x7a,
    0x7b,
    0x7c,
    0x7d,
    0x7e,
    0x7f,
    /* Nonce: next N (41), length 36, 32 octets */
    0x29,
    0x00,
    0x00,
    0x24,
    0xa0,
    0xa1,
    0xa2,
    0xa3,
    0xa4,
    0xa5,
    0xa6,
    0xa7,
    0xa8,
    0xa9,
    0xaa,
    0xab,
    0xac,
    0xad,
    0xae,
    0xaf,
    0xb0,
    0xb1,
    0xb2,
    0xb3,
    0xb4,
    0xb5,
    0xb6,
    0xb7,
    0xb8,
    0xb9,
    0xba,
    0xbb,
    0xbc,
    0xbd,
    0xbe,
    0xbf,
    /* N: next N, length 28, protocol 0, SPI size 0, NAT_DETECTION_SOURCE_IP (16388), SHA-1 */
    0x29,
    0x00,
    0x00,
    0x1c,
    0x00,
    0x00,
    0x40,
    0x04,
    0xc0,
    0xc1,
    0xc2,
    0xc3,
    0xc4,
    0xc5,
    0xc6,
    0xc7,
    0xc8,
    0xc9,
    0xca,
    0xcb,
    0xcc,
    0xcd,
    0xce,
    0xcf,
    0xd0,
    0xd1,
    0xd2,
    0xd3,
    /* N: next N, length 28, NAT_DETECTION_DESTINATION_IP (16389), SHA-1 */
    0x29,
    0x00,
    0x00,
    0x1c,
    0x00,
    0x00,
    0x40,
    0x05,
    0xe0,
    0xe1,
    0xe2,
    0xe3,
    0xe4,
    0xe5,
    0xe6,
    0xe7,
    0xe8,
    0xe9,
    0xea,
    0xeb,
    0xec,
    0xed,
    0xee,
    0xef,
    0xf0,
    0xf1,
    0xf2,
    0xf3,
    /* N: last, length 8, IKEV2_FRAGMENTATION_SUPPORTED (16430) */
    0x00,
    0x00,
    0x00,
    0x08,
    0x00,
    0x00,
    0x40,
    0x2e,
};

static inline void assert_view_equal(struct ike_view a, struct ike_view b)
{
    assert_int_equal(a.len, b.len);
    if (a.len)
        assert_memory_equal(a.p, b.p, a.len);
}

static inline void assert_view_bytes(struct ike_view v, const void *p, size_t len)
{
    assert_int_equal(v.len, len);
    if (len)
        assert_memory_equal(v.p, p, len);
}

static inline void assert_transform_equal(const struct ike_transform *a,
                                          const struct ike_transform *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->id, b->id);
    assert_memory_equal(a->reserved, b->reserved, sizeof(a->reserved));
    assert_int_equal(a->nattrs, b->nattrs);
    for (size_t k = 0; k < a->nattrs; k++) {
        assert_int_equal(a->attrs[k].type, b->attrs[k].type);
        assert_int_equal(a->attrs[k].tv, b->attrs[k].tv);
        if (a->attrs[k].tv)
            assert_int_equal(a->attrs[k].value, b->attrs[k].value);
        else
            assert_view_equal(a->attrs[k].data, b->attrs[k].data);
    }
}

/* Compares every field the codec carries for a payload. */
static inline void assert_payload_equal(const struct ike_payload *a, const struct ike_payload *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->critical, b->critical);
    assert_int_equal(a->reserved, b->reserved);
    switch (a->type) {
    case IKE_PL_SA:
        assert_int_equal(a->u.sa.nproposals, b->u.sa.nproposals);
        for (size_t i = 0; i < a->u.sa.nproposals; i++) {
            const struct ike_proposal *pa = &a->u.sa.proposals[i], *pb = &b->u.sa.proposals[i];
            assert_int_equal(pa->num, pb->num);
            assert_int_equal(pa->protocol, pb->protocol);
            assert_int_equal(pa->reserved, pb->reserved);
            assert_view_equal(pa->spi, pb->spi);
            assert_int_equal(pa->ntransforms, pb->ntransforms);
            for (size_t j = 0; j < pa->ntransforms; j++)
                assert_transform_equal(&pa->transforms[j], &pb->transforms[j]);
        }
        break;
    case IKE_PL_KE:
        assert_int_equal(a->u.ke.group, b->u.ke.group);
        assert_memory_equal(a->u.ke.reserved, b->u.ke.reserved, 2);
        assert_view_equal(a->u.ke.data, b->u.ke.data);
        break;
    case IKE_PL_IDI:
    case IKE_PL_IDR:
        assert_int_equal(a->u.id.type, b->u.id.type);
        assert_memory_equal(a->u.id.reserved, b->u.id.reserved, 3);
        assert_view_equal(a->u.id.data, b->u.id.data);
        break;
    case IKE_PL_CERT:
    case IKE_PL_CERTREQ:
        assert_int_equal(a->u.cert.encoding, b->u.cert.encoding);
        assert_view_equal(a->u.cert.data, b->u.cert.data);
        break;
    case IKE_PL_AUTH:
        assert_int_equal(a->u.auth.method, b->u.auth.method);
        assert_memory_equal(a->u.auth.reserved, b->u.auth.reserved, 3);
        assert_view_equal(a->u.auth.data, b->u.auth.data);
        break;
    case IKE_PL_NONCE:
        assert_view_equal(a->u.nonce.data, b->u.nonce.data);
        break;
    case IKE_PL_NOTIFY:
        assert_int_equal(a->u.notify.protocol, b->u.notify.protocol);
        assert_int_equal(a->u.notify.type, b->u.notify.type);
        assert_view_equal(a->u.notify.spi, b->u.notify.spi);
        assert_view_equal(a->u.notify.data, b->u.notify.data);
        break;
    case IKE_PL_DELETE:
        assert_int_equal(a->u.del.protocol, b->u.del.protocol);
        assert_int_equal(a->u.del.spi_size, b->u.del.spi_size);
        assert_int_equal(a->u.del.nspis, b->u.del.nspis);
        assert_view_equal(a->u.del.spis, b->u.del.spis);
        break;
    case IKE_PL_VENDOR:
        assert_view_equal(a->u.vendor.id, b->u.vendor.id);
        break;
    case IKE_PL_TSI:
    case IKE_PL_TSR:
        assert_memory_equal(a->u.ts.reserved, b->u.ts.reserved, 3);
        assert_int_equal(a->u.ts.nts, b->u.ts.nts);
        for (size_t i = 0; i < a->u.ts.nts; i++) {
            const struct ike_ts *ta = &a->u.ts.ts[i], *tb = &b->u.ts.ts[i];
            size_t alen = ta->type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;
            assert_int_equal(ta->type, tb->type);
            assert_int_equal(ta->ip_proto, tb->ip_proto);
            assert_int_equal(ta->start_port, tb->start_port);
            assert_int_equal(ta->end_port, tb->end_port);
            assert_memory_equal(ta->start_addr, tb->start_addr, alen);
            assert_memory_equal(ta->end_addr, tb->end_addr, alen);
        }
        break;
    case IKE_PL_SK:
        assert_int_equal(a->u.sk.first_inner, b->u.sk.first_inner);
        assert_view_equal(a->u.sk.body, b->u.sk.body);
        break;
    case IKE_PL_SKF:
        assert_int_equal(a->u.skf.first_inner, b->u.skf.first_inner);
        assert_int_equal(a->u.skf.frag_num, b->u.skf.frag_num);
        assert_int_equal(a->u.skf.total_frags, b->u.skf.total_frags);
        assert_view_equal(a->u.skf.body, b->u.skf.body);
        break;
    case IKE_PL_CP:
        assert_int_equal(a->u.cp.cfg_type, b->u.cp.cfg_type);
        assert_memory_equal(a->u.cp.reserved, b->u.cp.reserved, 3);
        assert_int_equal(a->u.cp.nattrs, b->u.cp.nattrs);
        for (size_t i = 0; i < a->u.cp.nattrs; i++) {
            assert_int_equal(a->u.cp.attrs[i].type, b->u.cp.attrs[i].type);
            assert_int_equal(a->u.cp.attrs[i].r_bit, b->u.cp.attrs[i].r_bit);
            assert_view_equal(a->u.cp.attrs[i].value, b->u.cp.attrs[i].value);
        }
        break;
    case IKE_PL_EAP:
        assert_view_equal(a->u.eap.msg, b->u.eap.msg);
        break;
    default:
        assert_view_equal(a->u.unknown.body, b->u.unknown.body);
        break;
    }
}

/* State of one round trip; the decoded message points into enc and the arena. */
struct rt {
    struct hk_arena arena;
    struct hk_cbb enc, reenc;
    struct ike_msg out;
    struct hk_diag diag;
};

static inline void rt_free(struct rt *rt)
{
    hk_cbb_free(&rt->enc);
    hk_cbb_free(&rt->reenc);
    hk_arena_free(&rt->arena);
}

/*
 * in -> encode -> decode -> compare with in field by field -> encode -> same bytes.
 * Leaves the decoded message in rt->out and the bytes in rt->enc.
 */
static inline void roundtrip(const struct ike_msg *in, struct rt *rt)
{
    memset(rt, 0, sizeof(*rt));
    hk_arena_init(&rt->arena, ARENA_LIMIT);
    hk_cbb_init(&rt->enc, 0, 0);
    hk_cbb_init(&rt->reenc, 0, 0);
    assert_int_equal(ike_msg_encode(in, &rt->enc), 0);
    int rc = ike_msg_decode(rt->enc.buf, rt->enc.len, &rt->out, &rt->arena, &rt->diag);
    if (rc)
        fail_msg("decode: %d %s", rc, hk_diag_msg(&rt->diag));
    assert_memory_equal(rt->out.hdr.spi_i, in->hdr.spi_i, IKE_SPI_LEN);
    assert_memory_equal(rt->out.hdr.spi_r, in->hdr.spi_r, IKE_SPI_LEN);
    assert_int_equal(rt->out.hdr.version, in->hdr.version);
    assert_int_equal(rt->out.hdr.exchange, in->hdr.exchange);
    assert_int_equal(rt->out.hdr.flags, in->hdr.flags);
    assert_int_equal(rt->out.hdr.msg_id, in->hdr.msg_id);
    assert_int_equal(rt->out.hdr.length, rt->enc.len);
    assert_int_equal(rt->out.hdr.next_payload, in->npayloads ? in->payloads[0].type : 0);
    assert_int_equal(rt->out.npayloads, in->npayloads);
    for (size_t i = 0; i < in->npayloads; i++)
        assert_payload_equal(&in->payloads[i], &rt->out.payloads[i]);
    assert_int_equal(ike_msg_encode(&rt->out, &rt->reenc), 0);
    assert_int_equal(rt->reenc.len, rt->enc.len);
    assert_memory_equal(rt->reenc.buf, rt->enc.buf, rt->enc.len);
}

/* A message header for tests; the caller adds payloads. */
static inline void test_msg_init(struct ike_msg *m, struct ike_payload *pl, size_t n)
{
    memset(m, 0, sizeof(*m));
    for (int i = 0; i < IKE_SPI_LEN; i++) {
        m->hdr.spi_i[i] = (uint8_t)(0x10 + i);
        m->hdr.spi_r[i] = (uint8_t)(0x20 + i);
    }
    m->hdr.version = 0x20;
    m->hdr.exchange = IKE_INFORMATIONAL;
    m->hdr.flags = IKE_FLAG_INITIATOR;
    m->hdr.msg_id = 5;
    m->payloads = pl;
    m->npayloads = n;
}

static inline struct ike_view view(const void *p, size_t len)
{
    return (struct ike_view){p, len};
}

#endif
