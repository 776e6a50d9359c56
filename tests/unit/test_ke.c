/* Key exchange: RFC 5903 and RFC 7748 vectors, MODP agreement, RFC 6989 peer checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/bn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "crypto/alg.h"
#include "crypto/crypto.h"
#include "crypto/ke.h"

#include "testutil.h"

/* A known-answer exchange: both private keys, both public values, the shared secret. */
struct kat {
    const char *name, *priv_i, *pub_i, *priv_r, *pub_r, *shared;
};

static void run_kat(const struct hk_crypto *c, uint16_t group, const struct kat *t)
{
    uint8_t pi[64], pr[64], want_i[HK_KE_MAX_PUBLIC], want_r[HK_KE_MAX_PUBLIC], ss[64];
    uint8_t pub[HK_KE_MAX_PUBLIC];
    size_t pil = test_unhex(t->priv_i, pi, sizeof(pi)), prl = test_unhex(t->priv_r, pr, sizeof(pr));
    size_t len = test_unhex(t->pub_i, want_i, sizeof(want_i));
    assert_int_equal(test_unhex(t->pub_r, want_r, sizeof(want_r)), len);
    size_t sl = test_unhex(t->shared, ss, sizeof(ss));
    assert_int_equal(hk_ke_public_len(group), len);
    assert_int_equal(hk_ke_shared_len(group), sl);

    struct hk_ke *i, *r;
    assert_int_equal(hk_ke_new_from_private(c, group, pi, pil, &i), 0);
    assert_int_equal(hk_ke_new_from_private(c, group, pr, prl, &r), 0);
    assert_int_equal(hk_ke_group(i), group);
    assert_int_equal(hk_ke_public(i, pub, len), 0);
    if (memcmp(pub, want_i, len))
        fail_msg("%s: initiator public value", t->name);
    assert_int_equal(hk_ke_public(r, pub, len), 0);
    if (memcmp(pub, want_r, len))
        fail_msg("%s: responder public value", t->name);

    struct hk_secret *si, *sr;
    assert_int_equal(hk_ke_derive(i, want_r, len, &si), 0);
    assert_int_equal(hk_ke_derive(r, want_i, len, &sr), 0);
    assert_int_equal(si->len, sl);
    if (memcmp(si->data, ss, sl) || memcmp(sr->data, ss, sl))
        fail_msg("%s: shared secret", t->name);
    hk_secret_free(&si);
    hk_secret_free(&sr);
    hk_ke_free(i);
    hk_ke_free(r);
}

/* RFC 5903 section 8.1 (256-bit random ECP group): i, gix|giy, r, grx|gry, girx. */
static const struct kat rfc5903_8_1 = {
    "RFC 5903 8.1",
    "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433",
    "dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
    "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
    "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53",
    "d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
    "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
    "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de",
};

/* RFC 5903 section 8.2 (384-bit random ECP group). */
static const struct kat rfc5903_8_2 = {
    "RFC 5903 8.2",
    "099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655"
    "e35b538041e649ee3faef896783ab194",
    "667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6"
    "de3ac808acb4bdb4c88732aee95f41aa"
    "9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38e"
    "eb9fcff3c2c947dae69b4c634573a81c",
    "41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942"
    "e0308312916b8ed2960e4bd55a7448fc",
    "e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d"
    "0d1ac43a0336def96fda41d0774a3571"
    "dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1ff"
    "f83fa40142209dff5eaad96db9e6386c",
    "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4"
    "d603135569b9e9d09cf5d4a270f59746",
};

/* RFC 7748 section 6.1: Alice's and Bob's private and public keys, shared secret K. */
static const struct kat rfc7748_6_1 = {
    "RFC 7748 6.1",
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
};

static void rfc5903_ecp256(void **state)
{
    run_kat(*state, HK_KE_ECP256, &rfc5903_8_1);
}

static void rfc5903_ecp384(void **state)
{
    run_kat(*state, HK_KE_ECP384, &rfc5903_8_2);
}

static void rfc7748_x25519(void **state)
{
    run_kat(*state, HK_KE_CURVE25519, &rfc7748_6_1);
}

/*
 * RFC 7748 section 5.2, the two single-step X25519 vectors (scalar, u, output). The
 * second u has its top bit set, which the receiver must mask (RFC 8031 3.2).
 */
static void rfc7748_x25519_function(void **state)
{
    const struct hk_crypto *c = *state;
    static const char *v[][3] = {
        {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
         "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
         "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
        {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
         "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
         "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
    };
    for (size_t i = 0; i < 2; i++) {
        uint8_t k[32], u[32], want[32];
        test_unhex(v[i][0], k, 32);
        test_unhex(v[i][1], u, 32);
        test_unhex(v[i][2], want, 32);
        struct hk_ke *ke;
        struct hk_secret *s;
        assert_int_equal(hk_ke_new_from_private(c, HK_KE_CURVE25519, k, 32, &ke), 0);
        assert_int_equal(hk_ke_derive(ke, u, 32, &s), 0);
        assert_memory_equal(s->data, want, 32);
        hk_secret_free(&s);
        hk_ke_free(ke);
    }
}

/* RFC 3526 section 3, the 2048-bit MODP group (group 14); generator 2. */
static const char modp2048_p[] = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74"
                                 "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437"
                                 "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
                                 "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05"
                                 "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB"
                                 "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
                                 "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718"
                                 "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF";

/* Big-endian, left-padded to 256 octets: base^e mod p with the RFC 3526 prime. */
static void modp_pow(const uint8_t *base, size_t blen, const uint8_t *e, size_t elen,
                     uint8_t out[256])
{
    uint8_t pb[256];
    test_unhex(modp2048_p, pb, sizeof(pb));
    BIGNUM *p = BN_bin2bn(pb, 256, NULL), *b = BN_bin2bn(base, (int)blen, NULL);
    BIGNUM *x = BN_bin2bn(e, (int)elen, NULL), *r = BN_new();
    BN_CTX *ctx = BN_CTX_new();
    assert_true(p && b && x && r && ctx);
    assert_true(BN_mod_exp(r, b, x, p, ctx));
    assert_int_equal(BN_bn2binpad(r, out, 256), 256);
    BN_free(p);
    BN_free(b);
    BN_free(x);
    BN_free(r);
    BN_CTX_free(ctx);
}

static void modp2048_known_answer(void **state)
{
    const struct hk_crypto *c = *state;
    /* Small exponents make small powers of 2: the padding to 256 octets shows (RFC 7296 3.4). */
    const uint8_t xi[] = {0x01, 0x00}, xr[32] = {0x7f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    const uint8_t two = 2;
    uint8_t want_i[256], want_r[256], want_s[256], pub[256];
    modp_pow(&two, 1, xi, sizeof(xi), want_i);
    modp_pow(&two, 1, xr, sizeof(xr), want_r);
    modp_pow(want_r, 256, xi, sizeof(xi), want_s);
    assert_int_equal(want_i[0], 0); /* 2^256 is short: leading zeros */

    struct hk_ke *i, *r;
    struct hk_secret *si, *sr;
    assert_int_equal(hk_ke_new_from_private(c, HK_KE_MODP2048, xi, sizeof(xi), &i), 0);
    assert_int_equal(hk_ke_new_from_private(c, HK_KE_MODP2048, xr, sizeof(xr), &r), 0);
    assert_int_equal(hk_ke_public(i, pub, 256), 0);
    assert_memory_equal(pub, want_i, 256);
    assert_int_equal(hk_ke_public(r, pub, 256), 0);
    assert_memory_equal(pub, want_r, 256);
    assert_int_equal(hk_ke_derive(i, want_r, 256, &si), 0);
    assert_int_equal(hk_ke_derive(r, want_i, 256, &sr), 0);
    assert_int_equal(si->len, 256);
    assert_memory_equal(si->data, want_s, 256);
    assert_memory_equal(sr->data, want_s, 256);
    hk_secret_free(&si);
    hk_secret_free(&sr);
    hk_ke_free(i);
    hk_ke_free(r);
}

static void fresh_keys_agree(void **state)
{
    const struct hk_crypto *c = *state;
    const uint16_t groups[] = {HK_KE_MODP2048, HK_KE_ECP256, HK_KE_ECP384, HK_KE_CURVE25519};
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        size_t len = hk_ke_public_len(groups[g]);
        uint8_t pa[HK_KE_MAX_PUBLIC], pb[HK_KE_MAX_PUBLIC];
        struct hk_ke *a, *b;
        struct hk_secret *sa, *sb;
        assert_int_equal(hk_ke_new(c, groups[g], &a), 0);
        assert_int_equal(hk_ke_new(c, groups[g], &b), 0);
        assert_int_equal(hk_ke_public(a, pa, len), 0);
        assert_int_equal(hk_ke_public(b, pb, len), 0);
        assert_memory_not_equal(pa, pb, len);
        assert_int_equal(hk_ke_derive(a, pb, len, &sa), 0);
        assert_int_equal(hk_ke_derive(b, pa, len, &sb), 0);
        assert_int_equal(sa->len, hk_ke_shared_len(groups[g]));
        assert_int_equal(sb->len, sa->len);
        assert_memory_equal(sa->data, sb->data, sa->len);
        hk_secret_free(&sa);
        hk_secret_free(&sb);
        hk_ke_free(a);
        hk_ke_free(b);
    }
}

static void groups_and_lengths(void **state)
{
    const struct hk_crypto *c = *state;
    assert_true(hk_ke_supported(HK_KE_MODP2048));
    assert_true(hk_ke_supported(HK_KE_ECP256));
    assert_true(hk_ke_supported(HK_KE_ECP384));
    assert_true(hk_ke_supported(HK_KE_CURVE25519));
    assert_false(hk_ke_supported(HK_KE_NONE));
    assert_false(hk_ke_supported(21)); /* ECP-521 */
    assert_false(hk_ke_supported(2));  /* MODP-1024 */
    assert_int_equal(hk_ke_public_len(HK_KE_MODP2048), 256);
    assert_int_equal(hk_ke_public_len(HK_KE_ECP256), 64);
    assert_int_equal(hk_ke_public_len(HK_KE_ECP384), 96);
    assert_int_equal(hk_ke_public_len(HK_KE_CURVE25519), 32);
    assert_int_equal(hk_ke_public_len(21), 0);

    struct hk_ke *k = (struct hk_ke *)1;
    assert_int_equal(hk_ke_new(c, 21, &k), HK_E_UNSUPPORTED);
    assert_null(k);
    uint8_t buf[65];
    assert_int_equal(hk_ke_new(c, HK_KE_ECP256, &k), 0);
    assert_int_equal(hk_ke_public(k, buf, 65), HK_E_INVALID);
    assert_int_equal(hk_ke_public(k, buf, 63), HK_E_INVALID);
    hk_ke_free(k);
    hk_ke_free(NULL);
}

/* Expects hk_ke_derive to refuse peer (HK_E_PEER_KE) and leave no secret. */
static void expect_reject(struct hk_ke *k, const uint8_t *peer, size_t len, const char *what)
{
    struct hk_secret *s = (struct hk_secret *)1;
    int r = hk_ke_derive(k, peer, len, &s);
    if (r != HK_E_PEER_KE)
        fail_msg("group %u: %s: got %d", hk_ke_group(k), what, r);
    assert_null(s);
}

static void peer_wrong_length(void **state)
{
    const struct hk_crypto *c = *state;
    const uint16_t groups[] = {HK_KE_MODP2048, HK_KE_ECP256, HK_KE_ECP384, HK_KE_CURVE25519};
    uint8_t buf[HK_KE_MAX_PUBLIC + 1];
    for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); g++) {
        struct hk_ke *k, *peer;
        size_t len = hk_ke_public_len(groups[g]);
        assert_int_equal(hk_ke_new(c, groups[g], &k), 0);
        assert_int_equal(hk_ke_new(c, groups[g], &peer), 0);
        assert_int_equal(hk_ke_public(peer, buf + 1, len), 0);
        expect_reject(k, buf + 1, len - 1, "short");
        expect_reject(k, buf + 1, 0, "empty");
        expect_reject(k, NULL, len, "missing");
        buf[0] = 0x04; /* SEC1 form with format octet: RFC 5903 7 sends none */
        expect_reject(k, buf, len + 1, "long");
        hk_ke_free(k);
        hk_ke_free(peer);
    }
}

/* RFC 6989 2.3: the peer point must satisfy the curve equation (and be encodable). */
static void peer_ecp_not_on_curve(void **state)
{
    const struct hk_crypto *c = *state;
    const uint16_t groups[] = {HK_KE_ECP256, HK_KE_ECP384};
    for (size_t g = 0; g < 2; g++) {
        size_t len = hk_ke_public_len(groups[g]);
        uint8_t pub[96], bad[96];
        struct hk_ke *k, *peer;
        assert_int_equal(hk_ke_new(c, groups[g], &k), 0);
        assert_int_equal(hk_ke_new(c, groups[g], &peer), 0);
        assert_int_equal(hk_ke_public(peer, pub, len), 0);

        memcpy(bad, pub, len);
        bad[len - 1] ^= 0x01; /* y changed */
        expect_reject(k, bad, len, "y flipped");
        memcpy(bad, pub, len);
        bad[0] ^= 0x80; /* x changed */
        expect_reject(k, bad, len, "x flipped");
        memset(bad, 0, len); /* (0, 0): what a point at infinity would look like */
        expect_reject(k, bad, len, "all zero");
        memset(bad, 0xff, len); /* coordinates above p */
        expect_reject(k, bad, len, "all ones");

        struct hk_secret *s; /* the genuine value still works afterwards */
        assert_int_equal(hk_ke_derive(k, pub, len, &s), 0);
        hk_secret_free(&s);
        hk_ke_free(k);
        hk_ke_free(peer);
    }
}

/* RFC 6989 2.1: the peer value y must satisfy 1 < y < p-1. */
static void peer_modp_out_of_range(void **state)
{
    const struct hk_crypto *c = *state;
    uint8_t p[256], y[256];
    test_unhex(modp2048_p, p, sizeof(p));
    struct hk_ke *k;
    struct hk_secret *s;
    assert_int_equal(hk_ke_new(c, HK_KE_MODP2048, &k), 0);

    memset(y, 0, 256);
    expect_reject(k, y, 256, "y = 0");
    y[255] = 1;
    expect_reject(k, y, 256, "y = 1");
    memcpy(y, p, 256);
    y[255] -= 1; /* p ends in 0xff */
    expect_reject(k, y, 256, "y = p-1");
    memcpy(y, p, 256);
    expect_reject(k, y, 256, "y = p");
    y[255] = 0x00; /* p + 1 (p ends in ..ff: carry) */
    y[254] = 0x00;
    for (int i = 253; i >= 0 && ++y[i] == 0; i--)
        ;
    expect_reject(k, y, 256, "y = p+1");
    memset(y, 0xff, 256);
    expect_reject(k, y, 256, "y = 2^2048-1");

    /* The edges just inside the range are accepted. */
    memset(y, 0, 256);
    y[255] = 2;
    assert_int_equal(hk_ke_derive(k, y, 256, &s), 0);
    hk_secret_free(&s);
    memcpy(y, p, 256);
    y[255] -= 2;
    assert_int_equal(hk_ke_derive(k, y, 256, &s), 0);
    hk_secret_free(&s);
    hk_ke_free(k);
}

/*
 * RFC 7748 6.1 / RFC 8031 2: low-order points give an all-zero shared secret, which must be
 * refused. The points are the Curve25519 u-coordinates of small order listed by
 * D. J. Bernstein, "Curve25519 ... Which Curve25519 public keys are invalid?"
 * (https://cr.yp.to/ecdh.html): 0, 1, two points of order 8, p-1, p, p+1; and the same with
 * the top bit set, which X25519 masks (RFC 7748 5).
 */
static void peer_x25519_low_order(void **state)
{
    const struct hk_crypto *c = *state;
    static const char *pts[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    };
    struct hk_ke *k;
    assert_int_equal(hk_ke_new(c, HK_KE_CURVE25519, &k), 0);
    for (size_t i = 0; i < sizeof(pts) / sizeof(pts[0]); i++) {
        uint8_t u[32];
        test_unhex(pts[i], u, 32);
        expect_reject(k, u, 32, pts[i]);
        u[31] |= 0x80;
        expect_reject(k, u, 32, "top bit set");
    }
    hk_ke_free(k);
}

/*
 * X25519 peer values pass through one shared public-key object of struct hk_crypto: each
 * derive must see its own peer value, whatever came before (a rejected point, a wrong
 * length, another key's peer), and the RFC 7748 6.1 answers must hold throughout.
 */
static void x25519_peer_key_reused(void **state)
{
    const struct hk_crypto *c = *state;
    const struct kat *t = &rfc7748_6_1;
    uint8_t a[32], b[32], pa[32], pb[32], k[32], low[32] = {0};
    test_unhex(t->priv_i, a, 32);
    test_unhex(t->pub_i, pa, 32);
    test_unhex(t->priv_r, b, 32);
    test_unhex(t->pub_r, pb, 32);
    test_unhex(t->shared, k, 32);
    struct hk_ke *alice, *bob, *fresh;
    assert_int_equal(hk_ke_new_from_private(c, HK_KE_CURVE25519, a, 32, &alice), 0);
    assert_int_equal(hk_ke_new_from_private(c, HK_KE_CURVE25519, b, 32, &bob), 0);
    assert_int_equal(hk_ke_new(c, HK_KE_CURVE25519, &fresh), 0);
    for (int round = 0; round < 3; round++) {
        struct hk_secret *s;
        assert_int_equal(hk_ke_derive(alice, pb, 32, &s), 0);
        assert_memory_equal(s->data, k, 32);
        hk_secret_free(&s);
        expect_reject(bob, low, 32, "all-zero point between good ones");
        assert_int_equal(hk_ke_derive(fresh, pa, 32, &s), 0); /* another peer value */
        assert_memory_not_equal(s->data, k, 32);
        hk_secret_free(&s);
        expect_reject(alice, pb, 31, "short between good ones");
        assert_int_equal(hk_ke_derive(bob, pa, 32, &s), 0);
        assert_memory_equal(s->data, k, 32);
        hk_secret_free(&s);
    }
    hk_ke_free(alice);
    hk_ke_free(bob);
    hk_ke_free(fresh);
}

static void private_key_arguments(void **state)
{
    const struct hk_crypto *c = *state;
    uint8_t priv[257] = {1};
    struct hk_ke *k = (struct hk_ke *)1;
    assert_int_equal(hk_ke_new_from_private(c, HK_KE_CURVE25519, priv, 31, &k), HK_E_INVALID);
    assert_null(k);
    assert_int_equal(hk_ke_new_from_private(c, HK_KE_ECP256, priv, 48, &k), HK_E_INVALID);
    assert_int_equal(hk_ke_new_from_private(c, HK_KE_MODP2048, priv, 257, &k), HK_E_INVALID);
    assert_int_equal(hk_ke_new_from_private(c, 21, priv, 66, &k), HK_E_UNSUPPORTED);
    memset(priv, 0, 32);
    assert_int_not_equal(hk_ke_new_from_private(c, HK_KE_ECP256, priv, 32, &k), 0);
    assert_null(k);
}

/* Our private value out and back in (an SA carried to another node with its DH key): the
 * same public value, and the same shared secret with a peer. */
static void private_value_round_trip(void **state)
{
    const struct hk_crypto *c = *state;
    static const uint16_t grp[] = {14, 19, 20, 31};
    for (size_t i = 0; i < sizeof(grp) / sizeof(grp[0]); i++) {
        struct hk_ke *a, *b, *a2;
        struct hk_secret *priv, *s1, *s2;
        size_t pl = hk_ke_public_len(grp[i]);
        uint8_t pa[HK_KE_MAX_PUBLIC], pa2[HK_KE_MAX_PUBLIC], pb[HK_KE_MAX_PUBLIC];
        assert_int_equal(hk_ke_new(c, grp[i], &a), 0);
        assert_int_equal(hk_ke_new(c, grp[i], &b), 0);
        assert_int_equal(hk_ke_private(a, &priv), 0);
        assert_int_equal(priv->len, grp[i] == 14 ? 256 : hk_ke_shared_len(grp[i]));
        assert_int_equal(hk_ke_new_from_private(c, grp[i], priv->data, priv->len, &a2), 0);
        assert_int_equal(hk_ke_public(a, pa, pl), 0);
        assert_int_equal(hk_ke_public(a2, pa2, pl), 0);
        assert_int_equal(hk_ke_public(b, pb, pl), 0);
        assert_memory_equal(pa, pa2, pl);
        assert_int_equal(hk_ke_derive(a, pb, pl, &s1), 0);
        assert_int_equal(hk_ke_derive(a2, pb, pl, &s2), 0);
        assert_int_equal(s1->len, s2->len);
        assert_memory_equal(s1->data, s2->data, s1->len);
        hk_secret_free(&priv);
        hk_secret_free(&s1);
        hk_secret_free(&s2);
        hk_ke_free(a);
        hk_ke_free(a2);
        hk_ke_free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc5903_ecp256),        cmocka_unit_test(rfc5903_ecp384),
        cmocka_unit_test(rfc7748_x25519),        cmocka_unit_test(rfc7748_x25519_function),
        cmocka_unit_test(modp2048_known_answer), cmocka_unit_test(fresh_keys_agree),
        cmocka_unit_test(groups_and_lengths),    cmocka_unit_test(peer_wrong_length),
        cmocka_unit_test(peer_ecp_not_on_curve), cmocka_unit_test(peer_modp_out_of_range),
        cmocka_unit_test(peer_x25519_low_order), cmocka_unit_test(x25519_peer_key_reused),
        cmocka_unit_test(private_key_arguments), cmocka_unit_test(private_value_round_trip),
    };
    return cmocka_run_group_tests(tests, test_crypto_setup, test_crypto_teardown);
}
