/*
 * The route netlink reply parser (hk_rtnl_parse_reply, src/esp/rtnl.c): ACKs, errors with an
 * extended ACK message, and the malformed datagrams fuzz_rtnl_reply found (a length of 2 GiB
 * that libmnl's int check lets through, an error code of INT_MIN, an attribute cut off by
 * the end of the datagram), which must be refused as EBADMSG without reading past the buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <limits.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>

#include "esp/rtnl.h"

#define SEQ  7
#define PORT 1234

/* An NLMSG_ERROR message: header, nlmsgerr with the request header echoed (capped), TLVs. */
static size_t error_msg(uint8_t *b, int error, uint16_t flags, const uint8_t *tlv, size_t tlvlen)
{
    struct nlmsghdr h = {.nlmsg_len = (uint32_t)(sizeof(h) + sizeof(struct nlmsgerr) + tlvlen),
                         .nlmsg_type = NLMSG_ERROR,
                         .nlmsg_flags = flags,
                         .nlmsg_seq = SEQ,
                         .nlmsg_pid = PORT};
    struct nlmsgerr e = {.error = error,
                         .msg = {.nlmsg_len = 16, .nlmsg_type = 24, .nlmsg_seq = SEQ}};
    memcpy(b, &h, sizeof(h));
    memcpy(b + sizeof(h), &e, sizeof(e));
    if (tlvlen)
        memcpy(b + sizeof(h) + sizeof(e), tlv, tlvlen);
    return h.nlmsg_len;
}

/* Parses exactly len octets from a heap copy, so ASan sees any read past them. */
static int parse(const uint8_t *b, size_t len, int *error, char *msg, size_t msglen)
{
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, b, len);
    int rc = hk_rtnl_parse_reply(copy, len, SEQ, PORT, error, msg, msglen);
    free(copy);
    return rc;
}

static void ack_and_error(void **s)
{
    (void)s;
    _Alignas(4) uint8_t b[128];
    char msg[128];
    int error = -1;
    size_t n = error_msg(b, 0, NLM_F_CAPPED, NULL, 0);
    assert_int_equal(parse(b, n, &error, msg, sizeof(msg)), MNL_CB_STOP);
    assert_int_equal(error, 0);
    /* EEXIST with the message "Route exists" (NLMSGERR_ATTR_MSG = 1). */
    static const uint8_t tlv[] = {17,  0,   1,   0,   'R', 'o', 'u', 't', 'e', ' ',
                                  'e', 'x', 'i', 's', 't', 's', 0,   0,   0,   0};
    n = error_msg(b, -EEXIST, NLM_F_CAPPED | NLM_F_ACK_TLVS, tlv, sizeof(tlv));
    assert_int_equal(parse(b, n, &error, msg, sizeof(msg)), MNL_CB_ERROR);
    assert_int_equal(error, EEXIST);
    assert_string_equal(msg, "Route exists");
}

static void huge_length_refused(void **s)
{
    (void)s;
    _Alignas(4) uint8_t b[64];
    int error = 0;
    char msg[64];
    size_t n = error_msg(b, 0, NLM_F_CAPPED, NULL, 0);
    /* 0x92929292: above INT_MAX, which libmnl's (int) comparison takes as negative. */
    uint32_t len = 0x92929292u;
    memcpy(b, &len, sizeof(len));
    assert_int_equal(parse(b, n, &error, msg, sizeof(msg)), MNL_CB_ERROR);
    assert_int_equal(error, EBADMSG);
}

static void int_min_error_refused(void **s)
{
    (void)s;
    _Alignas(4) uint8_t b[64];
    int error = 0;
    char msg[64];
    size_t n = error_msg(b, INT_MIN, NLM_F_CAPPED, NULL, 0);
    assert_int_equal(parse(b, n, &error, msg, sizeof(msg)), MNL_CB_ERROR);
    assert_int_equal(error, EBADMSG);
}

static void cut_attribute_refused(void **s)
{
    (void)s;
    _Alignas(4) uint8_t b[64];
    int error = 0;
    char msg[64];
    /* A 6-octet NLMSGERR_ATTR_MSG attribute of which the datagram holds 5: the message length
     * says 41, and libmnl would read up to 44. */
    static const uint8_t tlv[] = {6, 0, 1, 0, 0x80};
    size_t n = error_msg(b, -EINVAL, NLM_F_CAPPED | NLM_F_ACK_TLVS, tlv, sizeof(tlv));
    assert_int_equal(n, 41);
    assert_int_equal(parse(b, n, &error, msg, sizeof(msg)), MNL_CB_ERROR);
    assert_int_equal(error, EBADMSG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ack_and_error),
        cmocka_unit_test(huge_length_refused),
        cmocka_unit_test(int_min_error_refused),
        cmocka_unit_test(cut_attribute_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
