/* PRF and prf+: RFC 4868 vectors, prf+ against a by-hand computation, limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "crypto/alg.h"
#include "crypto/crypto.h"
#include "crypto/prf.h"

#include "testutil.h"

/* RFC 4868 2.7.1, test cases PRF-1 .. PRF-6 (borrowed there from RFC 4231). */
struct prf_case {
    const char *name, *key, *data, *sha256, *sha384, *sha512;
};

#define AA20  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define AA131 AA20 AA20 AA20 AA20 AA20 AA20 "aaaaaaaaaaaaaaaaaaaaaa"
#define DD50                                                                                       \
    "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd" \
    "dddddddd"
#define CD50                                                                                       \
    "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd" \
    "cdcdcdcd"

static const struct prf_case rfc4868[] = {
    {"PRF-1", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
     "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
     "faea9ea9076ede7f4af152e8b2fa9cb6",
     "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
     "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"},
    {"PRF-2", "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
     "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
     "8e2240ca5e69e2c78b3239ecfab21649",
     "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
     "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
    {"PRF-3", AA20, DD50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
     "88062608d3e6ad8a0aa2ace014c8a86f0aa635d947ac9febe83ef4e55966144b"
     "2a5ab39dc13814b94e3ab6e101a34f27",
     "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
     "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb"},
    {"PRF-4", "0102030405060708090a0b0c0d0e0f10111213141516171819", CD50,
     "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
     "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e"
     "6801dd23c4a7d679ccf8a386c674cffb",
     "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
     "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd"},
    {"PRF-5", AA131,
     "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a"
     "65204b6579202d2048617368204b6579204669727374",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
     "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
     "0c2ef6ab4030fe8296248df163f44952",
     "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
     "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"},
    {"PRF-6", AA131,
     "5468697320697320612074657374207573696e672061206c6172676572207468"
     "616e20626c6f636b2d73697a65206b657920616e642061206c61726765722074"
     "68616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565"
     "647320746f20626520686173686564206265666f7265206265696e6720757365"
     "642062792074686520484d414320616c676f726974686d2e",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
     "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5"
     "a678cc31e799176d3860e6110c46523e",
     "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
     "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58"},
};

static const uint16_t prfs[] = {HK_PRF_HMAC_SHA2_256, HK_PRF_HMAC_SHA2_384, HK_PRF_HMAC_SHA2_512};

static void rfc4868_prf_vectors(void **state)
{
    const struct hk_crypto *c = *state;
    for (size_t i = 0; i < sizeof(rfc4868) / sizeof(rfc4868[0]); i++) {
        const struct prf_case *t = &rfc4868[i];
        const char *want[] = {t->sha256, t->sha384, t->sha512};
        size_t klen, dlen;
        uint8_t *key = test_unhex_alloc(t->key, &klen), *data = test_unhex_alloc(t->data, &dlen);
        for (size_t j = 0; j < 3; j++) {
            size_t elen;
            uint8_t *exp = test_unhex_alloc(want[j], &elen);
            uint8_t out[HK_PRF_MAX_OUT];
            assert_int_equal(hk_prf_out_len(prfs[j]), elen);
            assert_int_equal(hk_prf(c, prfs[j], key, klen, data, dlen, out), 0);
            if (memcmp(out, exp, elen))
                fail_msg("%s PRF %u mismatch", t->name, prfs[j]);
            free(exp);
        }
        free(key);
        free(data);
    }
}

static void lengths_and_unknown_ids(void **state)
{
    const struct hk_crypto *c = *state;
    uint8_t out[HK_PRF_MAX_OUT];
    assert_int_equal(hk_prf_out_len(HK_PRF_HMAC_SHA2_256), 32);
    assert_int_equal(hk_prf_out_len(HK_PRF_HMAC_SHA2_384), 48);
    assert_int_equal(hk_prf_out_len(HK_PRF_HMAC_SHA2_512), 64);
    assert_int_equal(hk_prf_key_len(HK_PRF_HMAC_SHA2_384), 48);
    assert_int_equal(hk_prf_out_len(2), 0); /* HMAC-SHA1: not implemented */
    assert_int_equal(hk_prf_out_len(0), 0);
    assert_int_equal(hk_prf(c, 2, (const uint8_t *)"k", 1, out, 0, out), HK_E_UNSUPPORTED);
    assert_int_equal(hk_prf_plus(c, 8, (const uint8_t *)"k", 1, out, 0, out, 10), HK_E_UNSUPPORTED);
}

static void segments_equal_concatenation(void **state)
{
    const struct hk_crypto *c = *state;
    size_t klen, dlen;
    uint8_t *key = test_unhex_alloc(rfc4868[5].key, &klen),
            *data = test_unhex_alloc(rfc4868[5].data, &dlen);
    for (size_t j = 0; j < 3; j++) {
        uint8_t whole[HK_PRF_MAX_OUT], parts[HK_PRF_MAX_OUT];
        const struct hk_prf_seg seg[] = {
            {data, 7}, {NULL, 0}, {data + 7, 100}, {data + 107, dlen - 107}};
        assert_int_equal(hk_prf(c, prfs[j], key, klen, data, dlen, whole), 0);
        assert_int_equal(hk_prf_segs(c, prfs[j], key, klen, seg, 4, parts), 0);
        assert_memory_equal(whole, parts, hk_prf_out_len(prfs[j]));

        uint8_t a[300], b[300];
        assert_int_equal(hk_prf_plus(c, prfs[j], key, klen, data, dlen, a, sizeof(a)), 0);
        assert_int_equal(hk_prf_plus_segs(c, prfs[j], key, klen, seg, 4, b, sizeof(b)), 0);
        assert_memory_equal(a, b, sizeof(a));
    }
    free(key);
    free(data);
}

static void prf_plus_matches_rfc7296_construction(void **state)
{
    const struct hk_crypto *c = *state;
    uint8_t key[40], seed[77];
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(3 * i + 1);
    for (size_t i = 0; i < sizeof(seed); i++)
        seed[i] = (uint8_t)(0xa0 ^ i);
    for (size_t j = 0; j < 3; j++) {
        size_t h = hk_prf_out_len(prfs[j]);
        const size_t lens[] = {1, h - 1, h, h + 1, 3 * h + 5, 255 * h};
        for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
            uint8_t *got = malloc(lens[l]), *want = malloc(lens[l]);
            assert_non_null(got);
            assert_non_null(want);
            test_prf_plus_by_hand(prfs[j], key, sizeof(key), seed, sizeof(seed), want, lens[l]);
            assert_int_equal(
                hk_prf_plus(c, prfs[j], key, sizeof(key), seed, sizeof(seed), got, lens[l]), 0);
            assert_memory_equal(got, want, lens[l]);
            free(got);
            free(want);
        }
    }
}

static void prf_plus_limit_is_255_blocks(void **state)
{
    const struct hk_crypto *c = *state;
    const uint8_t key[] = {1, 2, 3}, seed[] = {4, 5};
    for (size_t j = 0; j < 3; j++) {
        size_t h = hk_prf_out_len(prfs[j]);
        uint8_t *out = malloc(255 * h + 1);
        assert_non_null(out);
        assert_int_equal(hk_prf_plus(c, prfs[j], key, 3, seed, 2, out, 255 * h), 0);
        /* RFC 7296 2.13: prf+ is not defined beyond 255 times the PRF output. */
        assert_int_equal(hk_prf_plus(c, prfs[j], key, 3, seed, 2, out, 255 * h + 1), HK_E_OVERFLOW);
        assert_int_equal(hk_prf_plus(c, prfs[j], key, 3, seed, 2, out, 0), 0);
        /* A shorter request is a prefix of a longer one. */
        uint8_t a[100];
        assert_int_equal(hk_prf_plus(c, prfs[j], key, 3, seed, 2, a, sizeof(a)), 0);
        assert_int_equal(hk_prf_plus(c, prfs[j], key, 3, seed, 2, out, 255 * h), 0);
        assert_memory_equal(a, out, sizeof(a));
        free(out);
    }
}

static void empty_key_and_data(void **state)
{
    const struct hk_crypto *c = *state;
    uint8_t got[32], want[32];
    size_t n = 0;
    /* HMAC-SHA-256 with an empty key over empty data, computed by OpenSSL's one-shot MAC. */
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, "", 0, (const uint8_t *)"", 0,
                              want, sizeof(want), &n));
    assert_int_equal(hk_prf(c, HK_PRF_HMAC_SHA2_256, NULL, 0, NULL, 0, got), 0);
    assert_memory_equal(got, want, sizeof(got));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc4868_prf_vectors),
        cmocka_unit_test(lengths_and_unknown_ids),
        cmocka_unit_test(segments_equal_concatenation),
        cmocka_unit_test(prf_plus_matches_rfc7296_construction),
        cmocka_unit_test(prf_plus_limit_is_255_blocks),
        cmocka_unit_test(empty_key_and_data),
    };
    return cmocka_run_group_tests(tests, test_crypto_setup, test_crypto_teardown);
}
