/*
 * Codec rejections: every malformed input gives its specific error code and a
 * diagnostic; mutations of valid messages never crash and either decode (and then
 * re-encode to the same bytes) or fail with a defined error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "unit/codec_test.h"
#include "tools/sample_msgs.h"

static uint8_t buf[70000];
static struct ike_msg msg;
static struct hk_arena arena;
static struct hk_diag diag;

/* Decodes buf[0..len) with a fresh arena and diagnostic. */
static int dec(const uint8_t *p, size_t len)
{
    hk_arena_free(&arena);
    hk_arena_init(&arena, ARENA_LIMIT);
    memset(&diag, 0, sizeof(diag));
    return ike_msg_decode(p, len, &msg, &arena, &diag);
}

/* Expects rc from decoding, with a diagnostic when rc is an error. */
static void expect_at(const uint8_t *p, size_t len, int rc, int line)
{
    int got = dec(p, len);
    if (got != rc)
        fail_msg("line %d: got %d (%s: %s), want %d (%s)", line, got, hk_strerror(got),
                 hk_diag_msg(&diag), rc, hk_strerror(rc));
    if (rc && !diag.msg[0])
        fail_msg("line %d: error %d without a diagnostic", line, rc);
}
#define expect(len, rc) expect_at(buf, (len), (rc), __LINE__)

/* Header (from sa_init_hex) with the given first payload, then body; length set. */
static size_t mk(uint8_t next, const uint8_t *body, size_t n)
{
    memcpy(buf, sa_init_hex, IKE_HDR_LEN);
    buf[16] = next;
    if (n)
        memcpy(buf + IKE_HDR_LEN, body, n);
    size_t len = IKE_HDR_LEN + n;
    buf[24] = (uint8_t)(len >> 24);
    buf[25] = (uint8_t)(len >> 16);
    buf[26] = (uint8_t)(len >> 8);
    buf[27] = (uint8_t)len;
    return len;
}
#define MK(next, ...)                                                                              \
    mk((next), (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static int teardown(void **state)
{
    (void)state;
    hk_arena_free(&arena);
    return 0;
}

static void truncated_header(void **state)
{
    (void)state;
    struct ike_hdr h;
    for (size_t n = 0; n < IKE_HDR_LEN; n++) {
        expect_at(sa_init_hex, n, HK_E_SHORT, __LINE__);
        assert_int_equal(ike_hdr_decode(sa_init_hex, n, &h, NULL), HK_E_SHORT);
    }
    expect_at(NULL, 0, HK_E_SHORT, __LINE__);
    assert_int_equal(ike_hdr_decode(sa_init_hex, IKE_HDR_LEN, &h, NULL), 0);
    assert_int_equal(h.length, 248);
}

static void header_length(void **state)
{
    (void)state;
    memcpy(buf, sa_init_hex, sizeof(sa_init_hex));
    buf[27] = 249; /* header length > buffer */
    expect(248, HK_E_LENGTH);
    assert_string_equal(diag.msg, "header length 249 != message length 248");
    buf[27] = 247; /* header length < buffer */
    expect(248, HK_E_LENGTH);
    buf[27] = 248; /* one stray octet after the message */
    buf[248] = 0;
    expect(249, HK_E_LENGTH);
    buf[27] = 27; /* below the header size */
    expect(248, HK_E_LENGTH);
    assert_string_equal(diag.msg, "header length 27 < 28");
    buf[24] = 0x80; /* absurd */
    expect(248, HK_E_LENGTH);
    /* An empty message: header only. */
    mk(IKE_PL_NONE, NULL, 0);
    expect(28, 0);
    assert_int_equal(msg.npayloads, 0);
}

static void major_version(void **state)
{
    (void)state;
    struct ike_hdr h;
    memcpy(buf, sa_init_hex, sizeof(sa_init_hex));
    buf[17] = 0x30;
    expect(248, HK_E_UNSUPPORTED);
    assert_string_equal(diag.msg, "major version 3 > 2");
    assert_int_equal(ike_hdr_decode(buf, 248, &h, NULL), HK_E_UNSUPPORTED);
    assert_int_equal(h.version, 0x30); /* the header is there for INVALID_MAJOR_VERSION */
    buf[17] = 0xf0;
    expect(248, HK_E_UNSUPPORTED);
    buf[17] = 0x10; /* IKEv1 */
    expect(248, HK_E_SYNTAX);
    buf[17] = 0x2f; /* minor version is ignored (3.1) */
    expect(248, 0);
}

static void payload_framing(void **state)
{
    (void)state;
    /* Nonce payload claiming 256 octets in a 20-octet message tail. */
    size_t n = MK(IKE_PL_NONCE, 0x00, 0x00, 0x01, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
                  14, 15, 16);
    expect(n, HK_E_LENGTH);
    assert_string_equal(diag.msg, "Nonce payload length 256 > 20 remaining");
    /* Payload length below the generic header. */
    n = MK(IKE_PL_VENDOR, 0x00, 0x00, 0x00, 0x03, 0x00);
    expect(n, HK_E_LENGTH);
    assert_string_equal(diag.msg, "V payload length 3 < 4");
    n = MK(IKE_PL_VENDOR, 0x00, 0x00, 0x00, 0x00);
    expect(n, HK_E_LENGTH);
    /* The header names a payload that is not there; or only half of its header. */
    n = mk(IKE_PL_NONCE, NULL, 0);
    expect(n, HK_E_SHORT);
    n = MK(IKE_PL_VENDOR, 0x00, 0x00);
    expect(n, HK_E_SHORT);
    /* A Next Payload pointing past the end. */
    n = MK(IKE_PL_VENDOR, IKE_PL_VENDOR, 0x00, 0x00, 0x04);
    expect(n, HK_E_SHORT);
    /* Octets after the last payload. */
    n = MK(IKE_PL_VENDOR, 0x00, 0x00, 0x00, 0x04, 0xee);
    expect(n, HK_E_LENGTH);
    assert_string_equal(diag.msg, "1 octets after the last payload");
}

static void empty_data(void **state)
{
    (void)state;
    size_t n = MK(IKE_PL_NONCE, 0x00, 0x00, 0x00, 0x04);
    expect(n, HK_E_SYNTAX);
    assert_string_equal(diag.msg, "Nonce length 0 outside 16..256");
    uint8_t body[4 + 257] = {0x00, 0x00, 0x00, 4 + 15};
    n = mk(IKE_PL_NONCE, body, 4 + 15);
    expect(n, HK_E_SYNTAX);
    body[2] = 0x01, body[3] = 0x05; /* 4 + 257 */
    n = mk(IKE_PL_NONCE, body, sizeof(body));
    expect(n, HK_E_SYNTAX);
    assert_string_equal(diag.msg, "Nonce length 257 outside 16..256");
    body[3] = 0x04; /* 256 is fine */
    n = mk(IKE_PL_NONCE, body, 4 + 256);
    expect(n, 0);

    n = MK(IKE_PL_KE, 0x00, 0x00, 0x00, 0x08, 0x00, 0x13, 0x00, 0x00);
    expect(n, HK_E_SYNTAX);
    n = MK(IKE_PL_KE, 0x00, 0x00, 0x00, 0x06, 0x00, 0x13);
    expect(n, HK_E_SHORT);
    assert_string_equal(diag.msg, "short KE payload: 6 < 8");
    n = MK(IKE_PL_IDI, 0x00, 0x00, 0x00, 0x08, 0x02, 0x00, 0x00, 0x00);
    expect(n, HK_E_SYNTAX);
    n = MK(IKE_PL_IDR, 0x00, 0x00, 0x00, 0x07, 0x02, 0x00, 0x00);
    expect(n, HK_E_SHORT);
    n = MK(IKE_PL_AUTH, 0x00, 0x00, 0x00, 0x05, 0x02);
    expect(n, HK_E_SHORT);
    n = MK(IKE_PL_CERT, 0x00, 0x00, 0x00, 0x04);
    expect(n, HK_E_SHORT);
}

/* SA with one IKE proposal of one transform; offsets: proposal at 4, transform at 12. */
#define SA1(plast, plen, num, proto, spisz, ntr, tlast, tlen, ...)                                 \
    MK(IKE_PL_SA, 0x00, 0x00, 0x00, (uint8_t)(4 + (plen)), plast, 0x00, 0x00, plen, num, proto,    \
       spisz, ntr, tlast, 0x00, 0x00, tlen, __VA_ARGS__)

static void sa_structure(void **state)
{
    (void)state;
    size_t n = SA1(0, 16, 1, 1, 0, 1, 0, 8, 0x01, 0x00, 0x00, 0x14);
    expect(n, 0); /* the valid base */
    /* Transform length overruns the proposal. */
    n = SA1(0, 16, 1, 1, 0, 1, 0, 12, 0x01, 0x00, 0x00, 0x14);
    expect(n, HK_E_LENGTH);
    n = SA1(0, 16, 1, 1, 0, 1, 0, 7, 0x01, 0x00, 0x00, 0x14);
    expect(n, HK_E_LENGTH);
    /* Proposal length overruns the SA payload, or is below its header. */
    n = MK(IKE_PL_SA, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x20, 0x01, 0x01, 0x00, 0x01, 0x00,
           0x00, 0x00, 0x08, 0x01, 0x00, 0x00, 0x14);
    expect(n, HK_E_LENGTH);
    n = MK(IKE_PL_SA, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x01);
    expect(n, HK_E_LENGTH);
    n = MK(IKE_PL_SA, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x08);
    expect(n, HK_E_SHORT);
    /* No proposals at all. */
    n = MK(IKE_PL_SA, 0x00, 0x00, 0x00, 0x04);
    expect(n, HK_E_SYNTAX);
    /* Bad last-substructure markers. */
    n = SA1(2, 16, 1, 1, 0, 1, 0, 8, 0x01, 0x00, 0x00, 0x14);
    expect(n, HK_E_SYNTAX);
    n = SA1(0, 16, 1, 1, 0, 1, 3, 8, 0x01, 0x00, 0x00, 0x14);
    expect(n, HK_E_SYNTAX);
    n = SA1(1, 16, 1, 1, 0, 1, 0, 8, 0x01, 0x00, 0x00, 0x14);
    expect(n, HK_E_SYNTAX);
    /* Two transforms where the first says "last". */
    n = SA1(0, 24, 1, 1, 0, 2, 0, 8, 0x01, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x08, 0x02, 0x00,
            0x00, 0x05);
    expect(n, HK_E_SYNTAX);
    /* Transform count larger than what follows; smaller than what follows. */
    n = SA1(0, 16, 1, 1, 0, 2, 0, 8, 0x01, 0x00, 0x00, 0x14);
    expect(n, HK_E_LENGTH);
    n = SA1(0, 24, 1, 1, 0, 1, 3, 8, 0x01, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x08, 0x02, 0x00,
            0x00, 0x05);
    expect(n, HK_E_SYNTAX);
    n = SA1(0, 24, 1, 1, 0, 1, 0, 8, 0x01, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x08, 0x02, 0x00,
            0x00, 0x05);
    expect(n, HK_E_LENGTH);
    /* Zero transforms. */
    n = MK(IKE_PL_SA, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00);
    expect(n, HK_E_SYNTAX);
    /* Proposal numbers: 0 first; 1 then 3. */
    n = SA1(0, 16, 0, 1, 0, 1, 0, 8, 0x01, 0x00, 0x00, 0x14);
    expect(n, HK_E_SYNTAX);
    n = MK(IKE_PL_SA, 0x00, 0x00, 0x00, 0x24, 0x02, 0x00, 0x00, 0x10, 0x01, 0x01, 0x00, 0x01, 0x00,
           0x00, 0x00, 0x08, 0x01, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x10, 0x03, 0x01, 0x00, 0x01,
           0x00, 0x00, 0x00, 0x08, 0x01, 0x00, 0x00, 0x14);
    expect(n, HK_E_SYNTAX);
    buf[IKE_HDR_LEN + 4 + 16 + 4] = 2; /* 1 then 2 is fine; and a response may echo 2 alone */
    expect(n, 0);
    n = SA1(0, 16, 2, 1, 0, 1, 0, 8, 0x01, 0x00, 0x00, 0x14);
    expect(n, 0);
    /* SPI sizes: IKE 0 or 8; ESP/AH 4. */
    n = MK(IKE_PL_SA, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x00, 0x14, 0x01, 0x03, 0x04, 0x01, 0xaa,
           0xbb, 0xcc, 0xdd, 0x00, 0x00, 0x00, 0x08, 0x01, 0x00, 0x00, 0x14);
    expect(n, 0);
    buf[IKE_HDR_LEN + 10] = 3; /* ESP with SPI size 3 */
    expect(n, HK_E_SYNTAX);
    buf[IKE_HDR_LEN + 10] = 0; /* ESP without SPI */
    expect(n, HK_E_SYNTAX);
    buf[IKE_HDR_LEN + 9] = 1; /* IKE, SPI size 4 */
    buf[IKE_HDR_LEN + 10] = 4;
    expect(n, HK_E_SYNTAX);
    n = MK(IKE_PL_SA, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x0c, 0x01, 0x03, 0x08, 0x01, 0xaa,
           0xbb, 0xcc, 0xdd);
    expect(n, HK_E_SYNTAX);
    buf[IKE_HDR_LEN + 9] = 1; /* IKE with an 8-octet SPI that overruns the proposal */
    expect(n, HK_E_LENGTH);
}

static void sa_attributes(void **state)
{
    (void)state;
    /* Five TV attributes: more than IKE_ATTR_MAX. */
    size_t n =
        SA1(0, 36, 1, 1, 0, 1, 0, 28, 0x01, 0x00, 0x00, 0x14, 0x80, 0x0e, 0x01, 0x00, 0x80, 0x01,
            0x00, 0x00, 0x80, 0x02, 0x00, 0x00, 0x80, 0x03, 0x00, 0x00, 0x80, 0x04, 0x00, 0x00);
    expect(n, HK_E_SYNTAX);
    /* Four are fine. */
    n = SA1(0, 32, 1, 1, 0, 1, 0, 24, 0x01, 0x00, 0x00, 0x14, 0x80, 0x0e, 0x01, 0x00, 0x80, 0x01,
            0x00, 0x00, 0x80, 0x02, 0x00, 0x00, 0x80, 0x03, 0x00, 0x00);
    expect(n, 0);
    assert_int_equal(msg.payloads[0].u.sa.proposals[0].transforms[0].nattrs, 4);
    /* TLV attribute whose length overruns the transform. */
    n = SA1(0, 24, 1, 1, 0, 1, 0, 16, 0x01, 0x00, 0x00, 0x14, 0x00, 0x20, 0x00, 0x05, 0x01, 0x02,
            0x03, 0x04);
    expect(n, HK_E_LENGTH);
    /* Half an attribute header. */
    n = SA1(0, 20, 1, 1, 0, 1, 0, 12, 0x01, 0x00, 0x00, 0x14, 0x80, 0x0e, 0x01, 0x00);
    expect(n, 0);
    n = SA1(0, 18, 1, 1, 0, 1, 0, 10, 0x01, 0x00, 0x00, 0x14, 0x80, 0x0e);
    expect(n, HK_E_SHORT);
}

static void too_many_proposals(void **state)
{
    (void)state;
    /* 257 minimal proposals of 16 octets each. */
    size_t np = IKE_MAX_ITEMS + 1, plen = 4 + np * 16;
    uint8_t *p = buf + IKE_HDR_LEN;
    mk(IKE_PL_SA, NULL, 0);
    p[0] = 0, p[1] = 0, p[2] = (uint8_t)(plen >> 8), p[3] = (uint8_t)plen;
    for (size_t i = 0; i < np; i++) {
        uint8_t *q = p + 4 + i * 16;
        const uint8_t prop[16] = {
            i + 1 < np ? 2 : 0, 0, 0, 16, (uint8_t)(i + 1), 1, 0, 1, 0, 0, 0, 8, 1, 0, 0, 20};
        memcpy(q, prop, 16);
    }
    size_t len = IKE_HDR_LEN + plen;
    buf[24] = 0, buf[25] = (uint8_t)(len >> 16), buf[26] = (uint8_t)(len >> 8),
    buf[27] = (uint8_t)len;
    expect(len, HK_E_SYNTAX);
    assert_string_equal(diag.msg, "too many proposals: more than 256");
}

static void sk_position(void **state)
{
    (void)state;
    /* SK followed by a Vendor ID: the SK does not reach the end of the message. */
    size_t n =
        MK(IKE_PL_SK, IKE_PL_IDI, 0x00, 0x00, 0x08, 1, 2, 3, 4, 0x00, 0x00, 0x00, 0x05, 0xee);
    expect(n, HK_E_SYNTAX);
    assert_string_equal(diag.msg, "SK payload not last: 5 octets follow");
    n = MK(IKE_PL_SKF, 0x00, 0x00, 0x00, 0x08, 0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, 0x04);
    expect(n, HK_E_SYNTAX);
    /* Last is fine, after other payloads too. */
    n = MK(IKE_PL_VENDOR, IKE_PL_SK, 0x00, 0x00, 0x05, 0x01, IKE_PL_IDI, 0x00, 0x00, 0x08, 1, 2, 3,
           4);
    expect(n, 0);
    assert_int_equal(msg.npayloads, 2);
    assert_int_equal(msg.payloads[1].u.sk.first_inner, IKE_PL_IDI);
    /* Inside SK, neither SK nor SKF (3.1). */
    struct ike_msg m = {0};
    const uint8_t inner[] = {0x00, 0x00, 0x00, 0x04};
    memset(&diag, 0, sizeof(diag));
    assert_int_equal(ike_payloads_decode(IKE_PL_SK, inner, 4, &m, &arena, &diag), HK_E_SYNTAX);
    assert_int_equal(ike_payloads_decode(IKE_PL_SKF, inner, 4, &m, &arena, NULL), HK_E_SYNTAX);
    const uint8_t inner2[] = {IKE_PL_SK, 0x00, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x04};
    assert_int_equal(ike_payloads_decode(IKE_PL_VENDOR, inner2, 9, &m, &arena, NULL), HK_E_SYNTAX);
    assert_int_equal(m.npayloads, 0); /* unchanged on failure */
    assert_null(m.payloads);
}

static void skf_fields(void **state)
{
    (void)state;
    size_t n = MK(IKE_PL_SKF, IKE_PL_IDI, 0x00, 0x00, 0x0c, 0x00, 0x01, 0x00, 0x02, 1, 2, 3, 4);
    expect(n, 0);
    buf[IKE_HDR_LEN + 5] = 0; /* fragment 0 */
    expect(n, HK_E_SYNTAX);
    buf[IKE_HDR_LEN + 5] = 3; /* fragment 3 of 2 */
    expect(n, HK_E_SYNTAX);
    assert_string_equal(diag.msg, "SKF fragment 3 of 2");
    buf[IKE_HDR_LEN + 5] = 2; /* fragment 2 naming an inner payload */
    expect(n, HK_E_SYNTAX);
    buf[IKE_HDR_LEN] = 0;
    expect(n, 0);
    buf[IKE_HDR_LEN + 7] = 0; /* total 0 */
    expect(n, HK_E_SYNTAX);
    n = MK(IKE_PL_SKF, 0x00, 0x00, 0x00, 0x06, 0x00, 0x01);
    expect(n, HK_E_SHORT);
}

static void unknown_critical(void **state)
{
    (void)state;
    /* Unknown 130 (critical), then unknown 131 (critical), then Vendor. */
    size_t n = MK(130, 131, 0x80, 0x00, 0x05, 0xaa, IKE_PL_VENDOR, 0x80, 0x00, 0x04, 0x00, 0x00,
                  0x00, 0x04);
    expect(n, 0);
    assert_int_equal(msg.unknown_critical, 130);
    assert_int_equal(msg.npayloads, 3);
    assert_int_equal(msg.payloads[0].type, 130);
    assert_true(msg.payloads[0].critical);
    assert_int_equal(msg.payloads[0].u.unknown.body.len, 1);
    /* Not critical: skipped silently (2.5). */
    buf[IKE_HDR_LEN + 1] = 0x00;
    expect(n, 0);
    assert_int_equal(msg.unknown_critical, 131);
    buf[IKE_HDR_LEN + 5 + 1] = 0x00;
    expect(n, 0);
    assert_int_equal(msg.unknown_critical, 0);
    /* The critical bit on a known payload is ignored (3.2). */
    n = MK(IKE_PL_VENDOR, 0x00, 0x80, 0x00, 0x04);
    expect(n, 0);
    assert_int_equal(msg.unknown_critical, 0);
    assert_true(msg.payloads[0].critical);
}

static size_t tiny_chain(size_t count)
{
    uint8_t *p = buf + IKE_HDR_LEN;
    mk(200, NULL, 0);
    for (size_t i = 0; i < count; i++) {
        p[4 * i] = i + 1 < count ? 200 : 0;
        p[4 * i + 1] = 0;
        p[4 * i + 2] = 0;
        p[4 * i + 3] = 4;
    }
    size_t len = IKE_HDR_LEN + 4 * count;
    buf[25] = (uint8_t)(len >> 16), buf[26] = (uint8_t)(len >> 8), buf[27] = (uint8_t)len;
    return len;
}

static void too_many_payloads(void **state)
{
    (void)state;
    expect(tiny_chain(1000), HK_E_SYNTAX);
    assert_string_equal(diag.msg, "too many payloads: more than 256");
    expect(tiny_chain(IKE_MAX_ITEMS + 1), HK_E_SYNTAX);
    expect(tiny_chain(IKE_MAX_ITEMS), 0);
    assert_int_equal(msg.npayloads, IKE_MAX_ITEMS);
    /* The same limit holds for a decrypted chain. */
    struct ike_msg m = {0};
    size_t len = tiny_chain(1000);
    assert_int_equal(
        ike_payloads_decode(200, buf + IKE_HDR_LEN, len - IKE_HDR_LEN, &m, &arena, NULL),
        HK_E_SYNTAX);
}

static void notify_delete(void **state)
{
    (void)state;
    size_t n = MK(IKE_PL_NOTIFY, 0x00, 0x00, 0x00, 0x0b, 0x03, 0x03, 0x40, 0x09, 1, 2, 3);
    expect(n, HK_E_SYNTAX); /* SPI size 3 */
    n = MK(IKE_PL_NOTIFY, 0x00, 0x00, 0x00, 0x0c, 0x01, 0x08, 0x40, 0x09, 1, 2, 3, 4);
    expect(n, HK_E_LENGTH); /* SPI size 8, 4 octets */
    n = MK(IKE_PL_NOTIFY, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x40);
    expect(n, HK_E_SHORT);

    n = MK(IKE_PL_DELETE, 0x00, 0x00, 0x00, 0x0c, 0x01, 0x04, 0x00, 0x01, 1, 2, 3, 4);
    expect(n, HK_E_SYNTAX); /* IKE with an SPI */
    n = MK(IKE_PL_DELETE, 0x00, 0x00, 0x00, 0x08, 0x01, 0x00, 0x00, 0x01);
    expect(n, HK_E_SYNTAX); /* IKE with a count */
    n = MK(IKE_PL_DELETE, 0x00, 0x00, 0x00, 0x0c, 0x03, 0x04, 0x00, 0x02, 1, 2, 3, 4);
    expect(n, HK_E_LENGTH); /* 2 SPIs announced, 1 present */
    assert_string_equal(diag.msg, "D: 2 SPIs of 4 octets = 8 != 4");
    n = MK(IKE_PL_DELETE, 0x00, 0x00, 0x00, 0x10, 0x03, 0x04, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8);
    expect(n, HK_E_LENGTH); /* 1 announced, 2 present */
    n = MK(IKE_PL_DELETE, 0x00, 0x00, 0x00, 0x10, 0x03, 0x08, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8);
    expect(n, HK_E_SYNTAX); /* ESP with 8-octet SPIs */
    n = MK(IKE_PL_DELETE, 0x00, 0x00, 0x00, 0x06, 0x03, 0x04);
    expect(n, HK_E_SHORT);
}

static void traffic_selectors(void **state)
{
    (void)state;
#define TS4 0x07, 0x00, 0x00, 0x10, 0x00, 0x00, 0xff, 0xff, 10, 0, 0, 0, 10, 0, 0, 255
    size_t n = MK(IKE_PL_TSI, 0x00, 0x00, 0x00, 0x18, 0x01, 0x00, 0x00, 0x00, TS4);
    expect(n, 0);
    n = MK(IKE_PL_TSI, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00);
    expect(n, HK_E_SYNTAX); /* no selectors */
    n = MK(IKE_PL_TSI, 0x00, 0x00, 0x00, 0x18, 0x02, 0x00, 0x00, 0x00, TS4);
    expect(n, HK_E_LENGTH); /* 2 announced, 1 present */
    n = MK(IKE_PL_TSI, 0x00, 0x00, 0x00, 0x1c, 0x01, 0x00, 0x00, 0x00, TS4, 0, 0, 0, 0);
    expect(n, HK_E_LENGTH); /* trailing octets */
    n = MK(IKE_PL_TSR, 0x00, 0x00, 0x00, 0x18, 0x01, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x28, 0x00,
           0x00, 0xff, 0xff, 10, 0, 0, 0, 10, 0, 0, 255);
    expect(n, HK_E_LENGTH); /* v4 selector claiming 40 */
    n = MK(IKE_PL_TSR, 0x00, 0x00, 0x00, 0x18, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x10, 0x00,
           0x00, 0xff, 0xff, 10, 0, 0, 0, 10, 0, 0, 255);
    expect(n, HK_E_LENGTH); /* v6 selector claiming 16 */
    /* Type 9: framed by its Selector Length, kept with its type only, re-encoded as it came
     * (3.13.1 lets types be added; the exchange answers TS_UNACCEPTABLE). */
    n = MK(IKE_PL_TSR, 0x00, 0x00, 0x00, 0x18, 0x01, 0x00, 0x00, 0x00, 0x09, 0x06, 0x00, 0x10, 0x00,
           0x00, 0xff, 0xff, 10, 0, 0, 0, 10, 0, 0, 255);
    expect(n, 0);
    assert_int_equal(msg.payloads[0].u.ts.nts, 1);
    assert_int_equal(msg.payloads[0].u.ts.ts[0].type, 9);
    assert_int_equal(msg.payloads[0].u.ts.ts[0].ip_proto, 6);
    assert_int_equal(msg.payloads[0].u.ts.raw.len, 16);
    struct hk_cbb re;
    hk_cbb_init(&re, 0, 0);
    assert_int_equal(ike_msg_encode(&msg, &re), 0);
    assert_int_equal(re.len, n);
    assert_memory_equal(re.buf, buf, n);
    hk_cbb_free(&re);
    /* Without the octets as received, the encoder cannot write a type it does not know. */
    msg.payloads[0].u.ts.raw = (struct ike_view){0};
    hk_cbb_init(&re, 0, 0);
    assert_int_equal(ike_msg_encode(&msg, &re), HK_E_INVALID);
    hk_cbb_free(&re);
    n = MK(IKE_PL_TSR, 0x00, 0x00, 0x00, 0x10, 0x01, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x03, 0, 0,
           0, 0);
    expect(n, HK_E_LENGTH); /* an unknown type still needs its 4-octet header */
    n = MK(IKE_PL_TSR, 0x00, 0x00, 0x00, 0x10, 0x01, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x09, 0, 0,
           0, 0);
    expect(n, HK_E_LENGTH); /* and must fit */
    n = MK(IKE_PL_TSR, 0x00, 0x00, 0x00, 0x07, 0x01, 0x00, 0x00);
    expect(n, HK_E_SHORT);
    /* Two selectors, the second a truncated IPv6 one. */
    uint8_t body[8 + 16 + 40] = {0x00, 0x00, 0x00, 8 + 16 + 24, 0x02, 0x00, 0x00,
                                 0x00, TS4,  0x08, 0x00,        0x00, 0x28};
    n = mk(IKE_PL_TSI, body, 8 + 16 + 24);
    expect(n, HK_E_LENGTH);
    body[3] = 8 + 16 + 40;
    n = mk(IKE_PL_TSI, body, sizeof(body));
    expect(n, 0);
#undef TS4
}

static void config_and_eap(void **state)
{
    (void)state;
    size_t n =
        MK(IKE_PL_CP, 0x00, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x04);
    expect(n, HK_E_LENGTH); /* attribute value overruns */
    n = MK(IKE_PL_CP, 0x00, 0x00, 0x00, 0x0a, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01);
    expect(n, HK_E_SHORT);
    n = MK(IKE_PL_CP, 0x00, 0x00, 0x00, 0x06, 0x01, 0x00);
    expect(n, HK_E_SHORT);
    n = MK(IKE_PL_CP, 0x00, 0x00, 0x00, 0x0c, 0x01, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00);
    expect(n, 0); /* R bit set: ignored, kept */
    assert_true(msg.payloads[0].u.cp.attrs[0].r_bit);
    assert_int_equal(msg.payloads[0].u.cp.attrs[0].type, 1);
    /* 257 empty attributes. */
    size_t na = IKE_MAX_ITEMS + 1, plen = 8 + 4 * na;
    mk(IKE_PL_CP, NULL, 0);
    uint8_t *p = buf + IKE_HDR_LEN;
    memset(p, 0, plen);
    p[2] = (uint8_t)(plen >> 8), p[3] = (uint8_t)plen, p[4] = IKE_CFG_REQUEST;
    for (size_t i = 0; i < na; i++)
        p[8 + 4 * i + 1] = IKE_CFG_INTERNAL_IP4_DNS;
    size_t len = IKE_HDR_LEN + plen;
    buf[26] = (uint8_t)(len >> 8), buf[27] = (uint8_t)len;
    expect(len, HK_E_SYNTAX);

    n = MK(IKE_PL_EAP, 0x00, 0x00, 0x00, 0x09, 0x02, 0x01, 0x00, 0x06, 0x01);
    expect(n, HK_E_LENGTH); /* EAP Length 6 != 5 */
    n = MK(IKE_PL_EAP, 0x00, 0x00, 0x00, 0x09, 0x03, 0x01, 0x00, 0x05, 0x01);
    expect(n, HK_E_LENGTH); /* Success with a Type */
    n = MK(IKE_PL_EAP, 0x00, 0x00, 0x00, 0x08, 0x01, 0x01, 0x00, 0x04);
    expect(n, HK_E_SHORT); /* Request without a Type */
    n = MK(IKE_PL_EAP, 0x00, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00);
    expect(n, HK_E_SHORT);
    n = MK(IKE_PL_EAP, 0x00, 0x00, 0x00, 0x08, 0x04, 0x01, 0x00, 0x04);
    expect(n, 0); /* Failure */
}

static void arena_limit(void **state)
{
    (void)state;
    static struct sample s;
    struct hk_cbb b;
    struct hk_arena small;
    struct ike_msg m;
    sample_all_payloads(&s);
    hk_cbb_init(&b, 0, 0);
    assert_int_equal(ike_msg_encode(&s.msg, &b), 0);
    for (size_t limit = 16; limit < 16384; limit *= 2) {
        hk_arena_init(&small, limit);
        memset(&diag, 0, sizeof(diag));
        int rc = ike_msg_decode(b.buf, b.len, &m, &small, &diag);
        assert_true(rc == 0 || rc == HK_E_NOMEM);
        if (rc)
            assert_true(diag.msg[0] != 0);
        hk_arena_free(&small);
        if (!rc)
            break;
    }
    hk_arena_init(&small, 16);
    assert_int_equal(ike_msg_decode(b.buf, b.len, &m, &small, NULL), HK_E_NOMEM);
    hk_arena_free(&small);
    hk_cbb_free(&b);
}

/* Decoding succeeded or failed with a defined error; success re-encodes identically. */
static void check_defined(const uint8_t *p, size_t len, const char *what, size_t at)
{
    int rc = dec(p, len);
    if (rc == 0) {
        struct hk_cbb b;
        hk_cbb_init(&b, 0, 0);
        assert_int_equal(ike_msg_encode(&msg, &b), 0);
        if (b.len != len || memcmp(b.buf, p, len))
            fail_msg("%s at %zu: decoded but re-encoded differently", what, at);
        hk_cbb_free(&b);
        return;
    }
    if (rc != HK_E_SHORT && rc != HK_E_LENGTH && rc != HK_E_SYNTAX && rc != HK_E_UNSUPPORTED)
        fail_msg("%s at %zu: undefined error %d", what, at, rc);
    if (!diag.msg[0])
        fail_msg("%s at %zu: error %d without a diagnostic", what, at, rc);
}

static void mutate(const uint8_t *orig, size_t len)
{
    static uint8_t m[4096];
    assert_true(len <= sizeof(m));
    assert_int_equal(dec(orig, len), 0);
    for (size_t cut = 0; cut < len; cut++) {
        /* Truncated as received: the header length no longer matches. */
        expect_at(orig, cut, cut < IKE_HDR_LEN ? HK_E_SHORT : HK_E_LENGTH, __LINE__);
        /* Truncated with the header length adjusted, so that the payloads see the cut. */
        if (cut >= IKE_HDR_LEN) {
            memcpy(m, orig, cut);
            m[24] = 0, m[25] = 0, m[26] = (uint8_t)(cut >> 8), m[27] = (uint8_t)cut;
            check_defined(m, cut, "truncation", cut);
        }
    }
    for (size_t i = 0; i < len; i++) {
        const uint8_t vals[] = {0x00, 0xff, (uint8_t)(orig[i] ^ 0x80), (uint8_t)(orig[i] + 1)};
        for (size_t v = 0; v < sizeof(vals); v++) {
            memcpy(m, orig, len);
            m[i] = vals[v];
            check_defined(m, len, "mutation", i);
        }
    }
}

static void mutations(void **state)
{
    (void)state;
    static struct sample s;
    struct hk_cbb b;
    mutate(sa_init_hex, sizeof(sa_init_hex));
    void (*builders[])(struct sample *) = {sample_sa_init_resp, sample_skf, sample_all_payloads};
    for (size_t i = 0; i < sizeof(builders) / sizeof(builders[0]); i++) {
        builders[i](&s);
        hk_cbb_init(&b, 0, 0);
        assert_int_equal(ike_msg_encode(&s.msg, &b), 0);
        mutate(b.buf, b.len);
        hk_cbb_free(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(truncated_header), cmocka_unit_test(header_length),
        cmocka_unit_test(major_version),    cmocka_unit_test(payload_framing),
        cmocka_unit_test(empty_data),       cmocka_unit_test(sa_structure),
        cmocka_unit_test(sa_attributes),    cmocka_unit_test(too_many_proposals),
        cmocka_unit_test(sk_position),      cmocka_unit_test(skf_fields),
        cmocka_unit_test(unknown_critical), cmocka_unit_test(too_many_payloads),
        cmocka_unit_test(notify_delete),    cmocka_unit_test(traffic_selectors),
        cmocka_unit_test(config_and_eap),   cmocka_unit_test(arena_limit),
        cmocka_unit_test(mutations),
    };
    return cmocka_run_group_tests(tests, NULL, teardown);
}
