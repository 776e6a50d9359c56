/*
 * HMAC in c's long-lived EVP_MAC contexts (crypto/hmac.h): RFC 4231 vectors, twice per
 * keying (OpenSSL's re-initialisation with the previous key), keys around the block size
 * against OpenSSL's one-shot EVP_Q_mac, several MACs per key and a key used once, no keyed
 * state left after done.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "crypto/crypto.h"
#include "crypto/hmac.h"

#include "testutil.h"

static const char *const md_names[] = {"SHA256", "SHA384", "SHA512"};

static const EVP_MD *md_of(const struct hk_crypto *c, size_t i)
{
    return i == 0 ? c->sha256 : i == 1 ? c->sha384 : c->sha512;
}

static void one_shot(const char *md, const uint8_t *k, size_t klen, const uint8_t *d, size_t dlen,
                     uint8_t *out)
{
    size_t n = 0;
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, k, klen, d, dlen, out, 64, &n));
}

/* RFC 4231 4.2 and 4.3 (test cases 1 and 2), HMAC-SHA-256, -384 and -512. */
static void rfc4231_vectors(void **state)
{
    const struct hk_crypto *c = *state;
    static const struct {
        const char *key, *data, *want[3];
    } v[] = {
        {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
         "4869205468657265",
         {"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
          "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
          "faea9ea9076ede7f4af152e8b2fa9cb6",
          "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
          "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"}},
        {"4a656665",
         "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
         {"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
          "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
          "8e2240ca5e69e2c78b3239ecfab21649",
          "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
          "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"}},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t key[64], data[64], want[64], got[64];
        size_t kl = test_unhex(v[i].key, key, sizeof(key));
        size_t dl = test_unhex(v[i].data, data, sizeof(data));
        for (size_t m = 0; m < 3; m++) {
            size_t wl = test_unhex(v[i].want[m], want, sizeof(want));
            struct hk_hmac h;
            const struct hk_prf_seg seg = {data, dl};
            assert_int_equal(hk_hmac_init(&h, c, md_of(c, m), key, kl), 0);
            assert_int_equal(h.hlen, wl);
            assert_int_equal(hk_hmac_segs(&h, &seg, 1, got), 0);
            assert_memory_equal(got, want, wl);
            /* A second MAC re-initialises the context with the same key. */
            memset(got, 0, sizeof(got));
            assert_int_equal(hk_hmac_segs(&h, &seg, 1, got), 0);
            hk_hmac_done(&h);
            assert_memory_equal(got, want, wl);
        }
    }
}

/* Keys of 0 octets up to twice the block (hashed above it, RFC 2104 2), several inputs each. */
static void keys_around_the_block_size(void **state)
{
    const struct hk_crypto *c = *state;
    uint8_t key[300], data[200];
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)(7 * i + 3);
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(i ^ 0x5a);
    for (size_t m = 0; m < 3; m++) {
        size_t b = (size_t)EVP_MD_get_block_size(md_of(c, m));
        const size_t klens[] = {0, 1, 32, b - 1, b, b + 1, 2 * b};
        for (size_t k = 0; k < sizeof(klens) / sizeof(klens[0]); k++) {
            struct hk_hmac h;
            assert_int_equal(hk_hmac_init(&h, c, md_of(c, m), key, klens[k]), 0);
            /* One keyed state, several MACs: each must equal a fresh one-shot MAC. */
            const size_t dlens[] = {0, 1, 55, 64, 200};
            for (size_t d = 0; d < sizeof(dlens) / sizeof(dlens[0]); d++) {
                uint8_t got[64], want[64];
                one_shot(md_names[m], key, klens[k], data, dlens[d], want);
                const struct hk_prf_seg seg[] = {{data, dlens[d] / 3},
                                                 {NULL, 0},
                                                 {data + dlens[d] / 3, dlens[d] - dlens[d] / 3}};
                assert_int_equal(hk_hmac_segs(&h, seg, 3, got), 0);
                if (memcmp(got, want, h.hlen))
                    fail_msg("%s key %zu data %zu", md_names[m], klens[k], dlens[d]);
                assert_int_equal(hk_hmac_start(&h), 0);
                assert_int_equal(hk_hmac_update(&h, data, dlens[d]), 0);
                assert_int_equal(hk_hmac_final(&h, got), 0);
                assert_memory_equal(got, want, h.hlen);
            }
            hk_hmac_done(&h);
            /* The same key used once, the MAC computed in the keyed states themselves. */
            uint8_t got[64], want[64];
            const struct hk_prf_seg seg[] = {{data, 100}, {NULL, 0}, {data + 100, 33}};
            one_shot(md_names[m], key, klens[k], data, 133, want);
            assert_int_equal(hk_hmac_once(c, md_of(c, m), key, klens[k], seg, 3, got), 0);
            assert_memory_equal(got, want, (size_t)EVP_MD_get_size(md_of(c, m)));
        }
    }
}

/*
 * What c's context for md computes when re-initialised with the key it holds (no key given
 * to EVP_MAC_init) must be the empty key's MAC: nothing of an earlier key is left in it.
 */
static void assert_idle(const struct hk_crypto *c, size_t m)
{
    static const uint8_t data[] = "probe";
    uint8_t got[64], want[64];
    size_t n = 0;
    EVP_MAC_CTX *ctx = c->hmac_ctx[m];
    assert_non_null(ctx);
    assert_int_equal(EVP_MAC_init(ctx, NULL, 0, NULL), 1);
    assert_int_equal(EVP_MAC_update(ctx, data, sizeof(data)), 1);
    assert_int_equal(EVP_MAC_final(ctx, got, &n, sizeof(got)), 1);
    one_shot(md_names[m], (const uint8_t *)"", 0, data, sizeof(data), want);
    assert_memory_equal(got, want, n);
}

/* Done leaves no keyed state in the context's HMAC contexts. */
static void done_clears_the_keyed_states(void **state)
{
    const struct hk_crypto *c = *state;
    const uint8_t key[] = "secret key";
    uint8_t out[64];
    struct hk_hmac h;
    const struct hk_prf_seg seg = {key, 3};
    for (size_t m = 0; m < 3; m++) {
        assert_int_equal(hk_hmac_init(&h, c, md_of(c, m), key, sizeof(key)), 0);
        assert_int_equal(hk_hmac_segs(&h, &seg, 1, out), 0);
        hk_hmac_done(&h);
        assert_idle(c, m);
        hk_hmac_done(&h); /* twice is fine */
        assert_int_equal(hk_hmac_once(c, md_of(c, m), key, sizeof(key), &seg, 1, out), 0);
        assert_idle(c, m);
        /* Keyed and left without a MAC. */
        assert_int_equal(hk_hmac_init(&h, c, md_of(c, m), key, sizeof(key)), 0);
        hk_hmac_done(&h);
        assert_idle(c, m);
    }

    /* A refused key leaves nothing keyed either. */
    assert_int_equal(hk_hmac_init(&h, c, c->sha256, NULL, 4), HK_E_INVALID);
    hk_hmac_done(&h);
    assert_int_equal(hk_hmac_init(&h, c, NULL, key, 4), HK_E_CRYPTO);
    hk_hmac_done(&h);
    assert_int_equal(hk_hmac_init(&h, c, c->sha1, key, 4), HK_E_CRYPTO); /* not an HMAC PRF's */
    hk_hmac_done(&h);
    assert_int_equal(hk_hmac_once(c, c->sha256, NULL, 4, &seg, 1, out), HK_E_INVALID);
    for (size_t m = 0; m < 3; m++)
        assert_idle(c, m);
}

/* A context hk_hmac_done had to drop (it could not re-key it) is rebuilt by the next init. */
static void a_dropped_context_is_rebuilt(void **state)
{
    const struct hk_crypto *c = *state;
    static const uint8_t key[] = "Jefe", data[] = "what do ya want for nothing?";
    uint8_t got[64], want[64];
    const struct hk_prf_seg seg = {data, sizeof(data) - 1};
    EVP_MAC_CTX_free(c->hmac_ctx[1]);
    c->hmac_ctx[1] = NULL;
    assert_int_equal(hk_hmac_once(c, c->sha384, key, sizeof(key) - 1, &seg, 1, got), 0);
    one_shot("SHA384", key, sizeof(key) - 1, data, sizeof(data) - 1, want);
    assert_memory_equal(got, want, 48);
    assert_idle(c, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc4231_vectors),
        cmocka_unit_test(keys_around_the_block_size),
        cmocka_unit_test(done_clears_the_keyed_states),
        cmocka_unit_test(a_dropped_context_is_rebuilt),
    };
    return cmocka_run_group_tests(tests, test_crypto_setup, test_crypto_teardown);
}
