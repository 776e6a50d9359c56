/* Helpers the unit tests share. Include after <cmocka.h>: they assert. */
#ifndef HIKE_TESTS_UNIT_TESTUTIL_H
#define HIKE_TESTS_UNIT_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

/* Hex text (any case; spaces and other separators ignored) into out; asserts it fits and that
 * no half octet is left over. Returns the octet count. */
static inline size_t test_unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *s; s++) {
        int v;
        if (*s >= '0' && *s <= '9')
            v = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            v = *s - 'a' + 10;
        else if (*s >= 'A' && *s <= 'F')
            v = *s - 'A' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
            continue;
        }
        assert_true(n < cap);
        out[n++] = (uint8_t)(hi << 4 | v);
        hi = -1;
    }
    assert_int_equal(hi, -1);
    return n;
}

/* A group setup/teardown giving every test a ready struct hk_crypto in *state. */
static inline int test_crypto_setup(void **state)
{
    static struct hk_crypto c;
    if (hk_crypto_init(&c))
        return -1;
    *state = &c;
    return 0;
}

static inline int test_crypto_teardown(void **state)
{
    hk_crypto_free(*state);
    return 0;
}

#endif
