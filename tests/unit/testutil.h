/* Helpers the unit tests share. Include after <cmocka.h>: they assert. */
#ifndef HIKE_TESTS_UNIT_TESTUTIL_H
#define HIKE_TESTS_UNIT_TESTUTIL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/alg.h"
#include "crypto/crypto.h"
#include "crypto/prf.h"

/* An IPv4 socket address (ip in dotted form, port in host order). */
static inline struct sockaddr_storage test_v4(const char *ip, uint16_t port)
{
    struct sockaddr_storage a = {0};
    struct sockaddr_in *s = (struct sockaddr_in *)&a;
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    inet_pton(AF_INET, ip, &s->sin_addr);
    return a;
}

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

/* test_unhex into a fresh buffer (the caller frees it); *len gets the octet count. */
static inline uint8_t *test_unhex_alloc(const char *s, size_t *len)
{
    size_t cap = strlen(s) / 2 + 1;
    uint8_t *out = malloc(cap);
    assert_non_null(out);
    *len = test_unhex(s, out, cap);
    return out;
}

/* OpenSSL's digest name for a PRF_HMAC_SHA2_* transform. */
static inline const char *test_prf_md_name(uint16_t prf)
{
    return prf == HK_PRF_HMAC_SHA2_256   ? "SHA256"
           : prf == HK_PRF_HMAC_SHA2_384 ? "SHA384"
                                         : "SHA512";
}

/*
 * prf+ by hand from RFC 7296 2.13 with OpenSSL's one-shot EVP_Q_mac, a path independent of
 * the code under test: T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n).
 */
static inline void test_prf_plus_by_hand(uint16_t prf, const uint8_t *k, size_t klen,
                                         const uint8_t *s, size_t slen, uint8_t *out, size_t outlen)
{
    size_t h = hk_prf_out_len(prf), done = 0;
    uint8_t t[64], buf[64 + 600 + 1];
    assert_true(slen <= 600);
    for (unsigned i = 1; done < outlen; i++) {
        size_t n = 0, mlen = 0;
        if (i > 1) {
            memcpy(buf, t, h);
            n = h;
        }
        memcpy(buf + n, s, slen);
        n += slen;
        buf[n++] = (uint8_t)i;
        assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, test_prf_md_name(prf), NULL, k, klen, buf, n,
                                  t, sizeof(t), &mlen));
        assert_int_equal(mlen, h);
        size_t take = outlen - done < h ? outlen - done : h;
        memcpy(out + done, t, take);
        done += take;
    }
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
