/* AUTH (RFC 7296 2.15): signed octets, PSK, RFC 7427 signatures, legacy ECDSA/RSA methods. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit/testutil.h"
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "common/cbb.h"
#include "common/err.h"
#include "crypto/alg.h"
#include "crypto/auth.h"
#include "crypto/crypto.h"
#include "crypto/sig.h"

struct fixture {
    struct hk_crypto c;
    EVP_PKEY *rsa, *p256, *p384, *p521, *ed;
    EVP_PKEY *rsa_pub, *p256_pub, *ed_pub; /* public halves only, as from a certificate */
};

static EVP_PKEY *pub_only(EVP_PKEY *k)
{
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    assert_true(n > 0);
    const unsigned char *p = der;
    EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, n);
    OPENSSL_free(der);
    assert_non_null(pub);
    return pub;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f || hk_crypto_init(&f->c))
        return -1;
    f->rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    f->p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    f->p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    f->p521 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
    f->ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!f->rsa || !f->p256 || !f->p384 || !f->p521 || !f->ed)
        return -1;
    f->rsa_pub = pub_only(f->rsa);
    f->p256_pub = pub_only(f->p256);
    f->ed_pub = pub_only(f->ed);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    EVP_PKEY *k[] = {f->rsa, f->p256, f->p384, f->p521, f->ed, f->rsa_pub, f->p256_pub, f->ed_pub};
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
        EVP_PKEY_free(k[i]);
    hk_crypto_free(&f->c);
    free(f);
    return 0;
}

/* Made-up but well-shaped inputs for the signed octets. */
static const uint8_t msg[] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0, 0, 0, 0, 0, 0,
                              0,    0,    0x21, 0x20, 0x22, 0x08, 0,    0,    0, 0, 0, 0, 0, 0x1c};
static const uint8_t nonce[] = {0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,
                                0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0};
static const uint8_t sk_p[32] = {0x5b, 0x5c, 0x5d};
static const uint8_t id_body[] = {2 /* ID_FQDN */, 0, 0, 0, 'v', 'p', 'n', '.', 'e', 'x'};

static void octets_for(struct fixture *f, uint16_t prf, struct hk_cbb *b)
{
    assert_int_equal(hk_cbb_init(b, 0, 0), 0);
    assert_int_equal(hk_auth_octets(&f->c, prf, msg, sizeof(msg), nonce, sizeof(nonce), sk_p,
                                    sizeof(sk_p), id_body, sizeof(id_body), b),
                     0);
}

/* The construction pinned with OpenSSL's one-shot HMAC, computed here independently. */
static void psk_known_answer(void **state)
{
    struct fixture *f = *state;
    static const char *names[] = {"SHA256", "SHA384", "SHA512"};
    static const uint16_t prfs[] = {HK_PRF_HMAC_SHA2_256, HK_PRF_HMAC_SHA2_384,
                                    HK_PRF_HMAC_SHA2_512};
    const char psk[] = "correct horse battery staple";
    for (size_t i = 0; i < 3; i++) {
        OSSL_PARAM p[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)names[i], 0),
            OSSL_PARAM_construct_end()};
        uint8_t idmac[64], padkey[64], want[64], got[64];
        size_t idlen, padlen, wlen, glen = sizeof(got);
        /* octets = RealMessage | Nonce | prf(SK_p, RestOfIDPayload) */
        assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, NULL, p, sk_p, sizeof(sk_p), id_body,
                                  sizeof(id_body), idmac, sizeof(idmac), &idlen));
        struct hk_cbb b;
        octets_for(f, prfs[i], &b);
        assert_int_equal(b.len, sizeof(msg) + sizeof(nonce) + idlen);
        assert_memory_equal(b.buf, msg, sizeof(msg));
        assert_memory_equal(b.buf + sizeof(msg), nonce, sizeof(nonce));
        assert_memory_equal(b.buf + sizeof(msg) + sizeof(nonce), idmac, idlen);
        /* AUTH = prf(prf(psk, "Key Pad for IKEv2"), octets) */
        assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, NULL, p, psk, strlen(psk),
                                  (const unsigned char *)"Key Pad for IKEv2", 17, padkey,
                                  sizeof(padkey), &padlen));
        assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, NULL, p, padkey, padlen, b.buf, b.len, want,
                                  sizeof(want), &wlen));
        assert_int_equal(hk_auth_psk_compute(&f->c, prfs[i], (const uint8_t *)psk, strlen(psk),
                                             b.buf, b.len, got, &glen),
                         0);
        assert_int_equal(glen, wlen);
        assert_memory_equal(got, want, wlen);
        /* The engine's path: the pad kept per connection, the octets in pieces. */
        uint8_t pad[64];
        assert_int_equal(hk_auth_psk_pad(&f->c, prfs[i], (const uint8_t *)psk, strlen(psk), pad),
                         0);
        assert_memory_equal(pad, padkey, padlen);
        memset(got, 0, sizeof(got));
        glen = sizeof(got);
        assert_int_equal(hk_auth_psk_from_pad(&f->c, prfs[i], pad, padlen, msg, sizeof(msg), nonce,
                                              sizeof(nonce), sk_p, sizeof(sk_p), id_body,
                                              sizeof(id_body), got, &glen),
                         0);
        assert_int_equal(glen, wlen);
        assert_memory_equal(got, want, wlen);
        /* A pad of another length, a short ID body, too little room. */
        assert_int_equal(hk_auth_psk_from_pad(&f->c, prfs[i], pad, padlen - 1, msg, sizeof(msg),
                                              nonce, sizeof(nonce), sk_p, sizeof(sk_p), id_body,
                                              sizeof(id_body), got, &glen),
                         HK_E_INVALID);
        assert_int_equal(hk_auth_psk_from_pad(&f->c, prfs[i], pad, padlen, msg, sizeof(msg), nonce,
                                              sizeof(nonce), sk_p, sizeof(sk_p), id_body, 3, got,
                                              &glen),
                         HK_E_INVALID);
        glen = wlen - 1;
        assert_int_equal(hk_auth_psk_from_pad(&f->c, prfs[i], pad, padlen, msg, sizeof(msg), nonce,
                                              sizeof(nonce), sk_p, sizeof(sk_p), id_body,
                                              sizeof(id_body), got, &glen),
                         HK_E_OVERFLOW);
        hk_cbb_free(&b);
    }
}

static void psk_round_trip_and_failures(void **state)
{
    struct fixture *f = *state;
    const uint8_t psk[] = "sixty-four octets of shared secret would be better than this";
    const uint8_t other[] = "sixty-four octets of shared secret would be better than thiS";
    struct hk_cbb b;
    octets_for(f, HK_PRF_HMAC_SHA2_256, &b);
    uint8_t auth[HK_AUTH_PSK_MAX];
    size_t alen = sizeof(auth);
    assert_int_equal(hk_auth_psk_compute(&f->c, HK_PRF_HMAC_SHA2_256, psk, sizeof(psk) - 1, b.buf,
                                         b.len, auth, &alen),
                     0);
    assert_int_equal(alen, 32);
    assert_int_equal(hk_auth_psk_verify(&f->c, HK_PRF_HMAC_SHA2_256, psk, sizeof(psk) - 1, b.buf,
                                        b.len, auth, alen),
                     0);
    /* Wrong key, tampered octets, tampered or short AUTH, another PRF. */
    assert_int_equal(hk_auth_psk_verify(&f->c, HK_PRF_HMAC_SHA2_256, other, sizeof(other) - 1,
                                        b.buf, b.len, auth, alen),
                     HK_E_AUTH);
    b.buf[3] ^= 1;
    assert_int_equal(hk_auth_psk_verify(&f->c, HK_PRF_HMAC_SHA2_256, psk, sizeof(psk) - 1, b.buf,
                                        b.len, auth, alen),
                     HK_E_AUTH);
    b.buf[3] ^= 1;
    auth[31] ^= 0x80;
    assert_int_equal(hk_auth_psk_verify(&f->c, HK_PRF_HMAC_SHA2_256, psk, sizeof(psk) - 1, b.buf,
                                        b.len, auth, alen),
                     HK_E_AUTH);
    auth[31] ^= 0x80;
    assert_int_equal(hk_auth_psk_verify(&f->c, HK_PRF_HMAC_SHA2_256, psk, sizeof(psk) - 1, b.buf,
                                        b.len, auth, alen - 1),
                     HK_E_AUTH);
    assert_int_equal(hk_auth_psk_verify(&f->c, HK_PRF_HMAC_SHA2_384, psk, sizeof(psk) - 1, b.buf,
                                        b.len, auth, alen),
                     HK_E_AUTH);
    /* Arguments. */
    size_t small = 31;
    assert_int_equal(hk_auth_psk_compute(&f->c, HK_PRF_HMAC_SHA2_256, psk, sizeof(psk) - 1, b.buf,
                                         b.len, auth, &small),
                     HK_E_OVERFLOW);
    alen = sizeof(auth);
    assert_int_equal(hk_auth_psk_compute(&f->c, 2 /* PRF_HMAC_SHA1 */, psk, sizeof(psk) - 1, b.buf,
                                         b.len, auth, &alen),
                     HK_E_UNSUPPORTED);
    assert_int_equal(
        hk_auth_psk_compute(&f->c, HK_PRF_HMAC_SHA2_256, psk, 0, b.buf, b.len, auth, &alen),
        HK_E_INVALID);
    size_t before = b.len;
    assert_int_equal(hk_auth_octets(&f->c, 2, msg, sizeof(msg), nonce, sizeof(nonce), sk_p,
                                    sizeof(sk_p), id_body, sizeof(id_body), &b),
                     HK_E_UNSUPPORTED);
    assert_int_equal(hk_auth_octets(&f->c, HK_PRF_HMAC_SHA2_256, msg, sizeof(msg), nonce,
                                    sizeof(nonce), sk_p, sizeof(sk_p), id_body, 3, &b),
                     HK_E_INVALID);
    assert_int_equal(b.len, before);
    hk_cbb_free(&b);
}

/* ---- RFC 7427 ---- */

/* RFC 7427 Appendix A byte strings (A.1.x, A.3.x, A.4.x), and id-Ed25519 (RFC 8410 3). */
static const uint8_t a11_sha1_rsa[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                       0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00};
static const uint8_t a12_sha256_rsa[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                         0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00};
static const uint8_t a13_sha384_rsa[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                         0xf7, 0x0d, 0x01, 0x01, 0x0c, 0x05, 0x00};
static const uint8_t a14_sha512_rsa[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                         0xf7, 0x0d, 0x01, 0x01, 0x0d, 0x05, 0x00};
static const uint8_t a22_dsa_sha256[] = {0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48,
                                         0x01, 0x65, 0x03, 0x04, 0x03, 0x02};
static const uint8_t a32_ecdsa_sha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                           0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t a33_ecdsa_sha384[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                           0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
static const uint8_t a34_ecdsa_sha512[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                           0x48, 0xce, 0x3d, 0x04, 0x03, 0x04};
static const uint8_t a41_pss_empty[] = {0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                        0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x00};
#define A42_PSS_DEFAULT                                                                            \
    "303e 0609 2a86 4886 f70d 0101 0a30 31a0 0b30 0906 052b 0e03 021a 0500 a118 3016"              \
    "0609 2a86 4886 f70d 0101 0830 0906 052b 0e03 021a 0500 a203 0201 14a3 0302 0101"
#define A43_PSS_SHA256                                                                             \
    "3046 0609 2a86 4886 f70d 0101 0a30 39a0 0f30 0d06 0960 8648 0165 0304 0201 0500"              \
    "a11c 301a 0609 2a86 4886 f70d 0101 0830 0d06 0960 8648 0165 0304 0201 0500 a203"              \
    "0201 20a3 0302 0101"
static const uint8_t ed25519_aid[] = {0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70};

static void sign_ok(struct fixture *f, EVP_PKEY *key, uint16_t hash, struct hk_cbb *out)
{
    assert_int_equal(hk_cbb_init(out, 0, 0), 0);
    assert_int_equal(hk_auth_sig_sign(&f->c, key, hash, msg, sizeof(msg), out), 0);
}

static void emitted_algorithm_identifiers(void **state)
{
    struct fixture *f = *state;
    uint8_t a43[72];
    assert_int_equal(test_unhex(A43_PSS_SHA256, a43, sizeof(a43)), 72);
    const struct {
        EVP_PKEY *key;
        uint16_t hash;
        const uint8_t *aid;
        size_t len;
    } t[] = {
        {f->rsa, HK_SIG_HASH_SHA2_256, a43, sizeof(a43)},
        {f->p256, HK_SIG_HASH_SHA2_256, a32_ecdsa_sha256, sizeof(a32_ecdsa_sha256)},
        {f->p384, HK_SIG_HASH_SHA2_384, a33_ecdsa_sha384, sizeof(a33_ecdsa_sha384)},
        {f->p256, HK_SIG_HASH_SHA2_512, a34_ecdsa_sha512, sizeof(a34_ecdsa_sha512)},
        {f->ed, HK_SIG_HASH_IDENTITY, ed25519_aid, sizeof(ed25519_aid)},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct hk_cbb b;
        sign_ok(f, t[i].key, t[i].hash, &b);
        assert_true(b.len > 1 + t[i].len);
        assert_int_equal(b.buf[0], t[i].len); /* RFC 7427 3: ASN.1 Length */
        assert_memory_equal(b.buf + 1, t[i].aid, t[i].len);
        hk_cbb_free(&b);
    }
}

/* The PSS AlgorithmIdentifiers for SHA-384/512 (not printed in RFC 7427) parse in OpenSSL. */
static void pss_sha384_sha512_ids_are_valid_der(void **state)
{
    struct fixture *f = *state;
    const uint16_t hashes[] = {HK_SIG_HASH_SHA2_384, HK_SIG_HASH_SHA2_512};
    const int nids[] = {NID_sha384, NID_sha512};
    for (size_t i = 0; i < 2; i++) {
        struct hk_cbb b;
        sign_ok(f, f->rsa, hashes[i], &b);
        const unsigned char *p = b.buf + 1;
        X509_ALGOR *alg = d2i_X509_ALGOR(NULL, &p, b.buf[0]);
        assert_non_null(alg);
        assert_ptr_equal(p, b.buf + 1 + b.buf[0]);
        const ASN1_OBJECT *obj;
        int ptype;
        const void *pval;
        X509_ALGOR_get0(&obj, &ptype, &pval, alg);
        assert_int_equal(OBJ_obj2nid(obj), NID_rsassaPss);
        assert_int_equal(ptype, V_ASN1_SEQUENCE);
        const ASN1_STRING *seq = pval;
        const unsigned char *q = ASN1_STRING_get0_data(seq);
        RSA_PSS_PARAMS *pss = d2i_RSA_PSS_PARAMS(NULL, &q, ASN1_STRING_length(seq));
        assert_non_null(pss);
        assert_int_equal(OBJ_obj2nid(pss->hashAlgorithm->algorithm), nids[i]);
        assert_int_equal(OBJ_obj2nid(pss->maskGenAlgorithm->algorithm), NID_mgf1);
        assert_int_equal(ASN1_INTEGER_get(pss->saltLength), i == 0 ? 48 : 64);
        assert_int_equal(ASN1_INTEGER_get(pss->trailerField), 1);
        RSA_PSS_PARAMS_free(pss);
        X509_ALGOR_free(alg);
        hk_cbb_free(&b);
    }
}

static void sign_verify_each_key_type(void **state)
{
    struct fixture *f = *state;
    const struct {
        const char *name;
        EVP_PKEY *key, *pub;
        uint16_t hash;
    } t[] = {
        {"RSA-2048 PSS SHA-256", f->rsa, f->rsa_pub, HK_SIG_HASH_SHA2_256},
        {"RSA-2048 PSS SHA-384", f->rsa, f->rsa_pub, HK_SIG_HASH_SHA2_384},
        {"RSA-2048 PSS SHA-512", f->rsa, f->rsa_pub, HK_SIG_HASH_SHA2_512},
        {"ECDSA P-256 SHA-256", f->p256, f->p256_pub, HK_SIG_HASH_SHA2_256},
        {"ECDSA P-384 SHA-384", f->p384, f->p384, HK_SIG_HASH_SHA2_384},
        {"ECDSA P-521 SHA-512", f->p521, f->p521, HK_SIG_HASH_SHA2_512},
        {"Ed25519", f->ed, f->ed_pub, HK_SIG_HASH_IDENTITY},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        struct hk_cbb b;
        print_message("%s\n", t[i].name);
        sign_ok(f, t[i].key, t[i].hash, &b);
        assert_int_equal(hk_auth_sig_verify(&f->c, t[i].pub, b.buf, b.len, msg, sizeof(msg)), 0);
        /* Tampered signature (first and last octet), tampered octets. */
        size_t sig0 = 1 + b.buf[0];
        b.buf[sig0 + 5] ^= 1;
        assert_int_equal(hk_auth_sig_verify(&f->c, t[i].pub, b.buf, b.len, msg, sizeof(msg)),
                         HK_E_AUTH);
        b.buf[sig0 + 5] ^= 1;
        b.buf[b.len - 1] ^= 0x20;
        assert_int_equal(hk_auth_sig_verify(&f->c, t[i].pub, b.buf, b.len, msg, sizeof(msg)),
                         HK_E_AUTH);
        b.buf[b.len - 1] ^= 0x20;
        uint8_t m2[sizeof(msg)];
        memcpy(m2, msg, sizeof(msg));
        m2[sizeof(m2) - 1] ^= 1;
        assert_int_equal(hk_auth_sig_verify(&f->c, t[i].pub, b.buf, b.len, m2, sizeof(m2)),
                         HK_E_AUTH);
        /* Signature truncated by one octet, or extended by one. */
        assert_int_equal(hk_auth_sig_verify(&f->c, t[i].pub, b.buf, b.len - 1, msg, sizeof(msg)),
                         HK_E_AUTH);
        hk_cbb_add_u8(&b, 0);
        assert_int_equal(hk_auth_sig_verify(&f->c, t[i].pub, b.buf, b.len, msg, sizeof(msg)),
                         HK_E_AUTH);
        hk_cbb_free(&b);
    }
}

static void key_and_algorithm_must_match(void **state)
{
    struct fixture *f = *state;
    struct hk_cbb rsa, ec, ed;
    sign_ok(f, f->rsa, HK_SIG_HASH_SHA2_256, &rsa);
    sign_ok(f, f->p256, HK_SIG_HASH_SHA2_256, &ec);
    sign_ok(f, f->ed, HK_SIG_HASH_IDENTITY, &ed);
    assert_int_equal(hk_auth_sig_verify(&f->c, f->p256, rsa.buf, rsa.len, msg, sizeof(msg)),
                     HK_E_AUTH);
    assert_int_equal(hk_auth_sig_verify(&f->c, f->ed, ec.buf, ec.len, msg, sizeof(msg)), HK_E_AUTH);
    assert_int_equal(hk_auth_sig_verify(&f->c, f->rsa, ed.buf, ed.len, msg, sizeof(msg)),
                     HK_E_AUTH);
    /* Another key of the right type. */
    assert_int_equal(hk_auth_sig_verify(&f->c, f->p384, ec.buf, ec.len, msg, sizeof(msg)),
                     HK_E_AUTH);
    /* An RSA signature relabelled as PKCS#1 v1.5, an ECDSA one relabelled with another hash. */
    uint8_t *w = malloc(1 + sizeof(a12_sha256_rsa) + rsa.len);
    size_t sig0 = 1 + rsa.buf[0], n = 0;
    w[n++] = sizeof(a12_sha256_rsa);
    memcpy(w + n, a12_sha256_rsa, sizeof(a12_sha256_rsa));
    n += sizeof(a12_sha256_rsa);
    memcpy(w + n, rsa.buf + sig0, rsa.len - sig0);
    n += rsa.len - sig0;
    assert_int_equal(hk_auth_sig_verify(&f->c, f->rsa, w, n, msg, sizeof(msg)), HK_E_AUTH);
    free(w);
    ec.buf[1 + ec.buf[0] - 1] = 0x03; /* ecdsa-with-SHA384 */
    assert_int_equal(hk_auth_sig_verify(&f->c, f->p256, ec.buf, ec.len, msg, sizeof(msg)),
                     HK_E_AUTH);
    /* Signing: a hash the key cannot use, a key type without a method. */
    struct hk_cbb b;
    assert_int_equal(hk_cbb_init(&b, 0, 0), 0);
    assert_int_equal(hk_auth_sig_sign(&f->c, f->ed, HK_SIG_HASH_SHA2_256, msg, sizeof(msg), &b),
                     HK_E_INVALID);
    assert_int_equal(hk_auth_sig_sign(&f->c, f->rsa, HK_SIG_HASH_IDENTITY, msg, sizeof(msg), &b),
                     HK_E_INVALID);
    assert_int_equal(hk_auth_sig_sign(&f->c, f->p256, 1 /* SHA1 */, msg, sizeof(msg), &b),
                     HK_E_INVALID);
    EVP_PKEY *x = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    assert_int_equal(hk_auth_sig_sign(&f->c, x, HK_SIG_HASH_IDENTITY, msg, sizeof(msg), &b),
                     HK_E_UNSUPPORTED);
    EVP_PKEY_free(x);
    assert_int_equal(b.len, 0);
    hk_cbb_free(&b);
    hk_cbb_free(&rsa);
    hk_cbb_free(&ec);
    hk_cbb_free(&ed);
}

/* Builds ASN.1 Length | aid | sig. */
static size_t auth_data(uint8_t *out, const uint8_t *aid, size_t alen, const uint8_t *sig,
                        size_t slen)
{
    out[0] = (uint8_t)alen;
    memcpy(out + 1, aid, alen);
    memcpy(out + 1 + alen, sig, slen);
    return 1 + alen + slen;
}

/* Peers may send PKCS#1 v1.5 (A.1.2-A.1.4) or the strict-DER PSS form OpenSSL emits. */
static void verifies_other_encodings(void **state)
{
    struct fixture *f = *state;
    const struct {
        const char *md;
        const uint8_t *aid;
    } v15[] = {{"SHA256", a12_sha256_rsa}, {"SHA384", a13_sha384_rsa}, {"SHA512", a14_sha512_rsa}};
    uint8_t sig[512], ad[600];
    for (size_t i = 0; i < 3; i++) {
        size_t slen = sizeof(sig);
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        assert_int_equal(EVP_DigestSignInit_ex(m, NULL, v15[i].md, NULL, NULL, f->rsa, NULL), 1);
        assert_int_equal(EVP_DigestSign(m, sig, &slen, msg, sizeof(msg)), 1);
        EVP_MD_CTX_free(m);
        size_t n = auth_data(ad, v15[i].aid, 15, sig, slen);
        assert_int_equal(hk_auth_sig_verify(&f->c, f->rsa_pub, ad, n, msg, sizeof(msg)), 0);
        ad[n - 1] ^= 1;
        assert_int_equal(hk_auth_sig_verify(&f->c, f->rsa_pub, ad, n, msg, sizeof(msg)), HK_E_AUTH);
    }
    /* RSASSA-PSS with OpenSSL's own AlgorithmIdentifier (trailerField omitted as DER default). */
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pc;
    uint8_t aid[128];
    size_t slen = sizeof(sig);
    assert_int_equal(EVP_DigestSignInit_ex(m, &pc, "SHA384", NULL, NULL, f->rsa, NULL), 1);
    assert_true(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) > 0);
    assert_true(EVP_PKEY_CTX_set_rsa_mgf1_md_name(pc, "SHA384", NULL) > 0);
    assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, 48) > 0);
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, aid, sizeof(aid)),
        OSSL_PARAM_construct_end()};
    assert_int_equal(EVP_PKEY_CTX_get_params(pc, p), 1);
    assert_int_equal(EVP_DigestSign(m, sig, &slen, msg, sizeof(msg)), 1);
    EVP_MD_CTX_free(m);
    size_t n = auth_data(ad, aid, p[0].return_size, sig, slen);
    assert_int_equal(hk_auth_sig_verify(&f->c, f->rsa_pub, ad, n, msg, sizeof(msg)), 0);
}

static void malformed_and_unknown_auth_data(void **state)
{
    struct fixture *f = *state;
    struct hk_cbb good;
    sign_ok(f, f->p256, HK_SIG_HASH_SHA2_256, &good);
    const uint8_t sig[64] = {1, 2, 3};
    uint8_t ad[256];
    size_t n;

    /* Every truncation of a good AUTH payload: never accepted, never read past its end. */
    for (size_t len = 0; len < good.len; len++) {
        uint8_t *copy = malloc(len ? len : 1); /* exact size, so ASan catches an overread */
        memcpy(copy, good.buf, len);
        int rc = hk_auth_sig_verify(&f->c, f->p256, copy, len, msg, sizeof(msg));
        assert_int_equal(rc, len <= 1 + (size_t)good.buf[0] ? HK_E_SYNTAX : HK_E_AUTH);
        free(copy);
    }
    assert_int_equal(hk_auth_sig_verify(&f->c, f->p256, NULL, 0, msg, sizeof(msg)), HK_E_SYNTAX);

    /* Structure errors in the AlgorithmIdentifier. */
    static const char *syntax[] = {
        "300b 0608 2a8648ce3d040302",                  /* SEQUENCE longer than its field */
        "3009 0608 2a8648ce3d040302",                  /* SEQUENCE shorter than its contents */
        "300a 0608 2a8648ce3d040302 00",               /* trailing octet after the SEQUENCE */
        "310a 0608 2a8648ce3d040302",                  /* SET, not SEQUENCE */
        "300a 0408 2a8648ce3d040302",                  /* OCTET STRING, not OID */
        "30810a 0608 2a8648ce3d040302",                /* non-minimal long-form length */
        "3080 0608 2a8648ce3d040302 0000",             /* indefinite length */
        "300c 0608 2a8648ce3d040302 0500",             /* ECDSA with (NULL) parameters */
        "3007 0603 2b6570 0500",                       /* Ed25519 with parameters */
        "300e 0609 2a864886f70d01010b 0501 00",        /* NULL with contents */
        "300e 0609 2a864886f70d01010b 0500 00",        /* junk after NULL */
        "3011 0609 2a864886f70d01010a 3004 a002 3000", /* PSS hash AlgId without OID */
        "",                                            /* empty */
    };
    for (size_t i = 0; i < sizeof(syntax) / sizeof(syntax[0]); i++) {
        uint8_t aid[128];
        size_t alen = test_unhex(syntax[i], aid, sizeof(aid));
        n = auth_data(ad, aid, alen, sig, sizeof(sig));
        print_message("syntax %zu\n", i);
        assert_int_equal(hk_auth_sig_verify(&f->c, f->p256, ad, n, msg, sizeof(msg)), HK_E_SYNTAX);
    }
    /* A.4.3 with junk inside the PSS parameters, and with trailerField 2. */
    uint8_t pss[80];
    assert_int_equal(test_unhex(A43_PSS_SHA256, pss, sizeof(pss)), 72);
    pss[1]++, pss[14]++, pss[72] = 0x00;
    n = auth_data(ad, pss, 73, sig, sizeof(sig));
    assert_int_equal(hk_auth_sig_verify(&f->c, f->rsa, ad, n, msg, sizeof(msg)), HK_E_SYNTAX);
    assert_int_equal(test_unhex(A43_PSS_SHA256, pss, sizeof(pss)), 72);
    pss[71] = 2;
    n = auth_data(ad, pss, 72, sig, sizeof(sig));
    assert_int_equal(hk_auth_sig_verify(&f->c, f->rsa, ad, n, msg, sizeof(msg)), HK_E_UNSUPPORTED);

    /* Well-formed but not accepted: SHA-1 and DSA (A.1.1, A.2.2), PSS with SHA-1 (A.4.1, A.4.2). */
    uint8_t a42[64];
    assert_int_equal(test_unhex(A42_PSS_DEFAULT, a42, sizeof(a42)), 64);
    const struct {
        const uint8_t *aid;
        size_t len;
    } unsup[] = {
        {a11_sha1_rsa, sizeof(a11_sha1_rsa)},
        {a22_dsa_sha256, sizeof(a22_dsa_sha256)},
        {a41_pss_empty, sizeof(a41_pss_empty)},
        {a42, sizeof(a42)},
    };
    for (size_t i = 0; i < sizeof(unsup) / sizeof(unsup[0]); i++) {
        n = auth_data(ad, unsup[i].aid, unsup[i].len, sig, sizeof(sig));
        assert_int_equal(hk_auth_sig_verify(&f->c, f->rsa, ad, n, msg, sizeof(msg)),
                         HK_E_UNSUPPORTED);
    }

    /* Random bytes after a plausible prefix: no crash, never accepted. */
    uint8_t rnd[200];
    for (int i = 0; i < 2000; i++) {
        assert_int_equal(hk_random(rnd, sizeof(rnd)), 0);
        size_t len = rnd[0] % sizeof(rnd);
        if (i & 1) {
            rnd[0] = rnd[1] % 80;
            rnd[1] = 0x30;
        }
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, rnd, len);
        assert_int_not_equal(hk_auth_sig_verify(&f->c, f->rsa, copy, len, msg, sizeof(msg)), 0);
        free(copy);
    }
    hk_cbb_free(&good);
}

/* ---- legacy methods ---- */

static void legacy_ecdsa_round_trips(void **state)
{
    struct fixture *f = *state;
    const struct {
        uint8_t method;
        EVP_PKEY *key, *wrong;
        size_t siglen;
    } t[] = {
        {9, f->p256, f->p384, 64},
        {10, f->p384, f->p521, 96},
        {11, f->p521, f->p256, 132},
    };
    for (size_t i = 0; i < 3; i++) {
        struct hk_cbb b;
        assert_int_equal(hk_cbb_init(&b, 0, 0), 0);
        assert_int_equal(
            hk_auth_sig_sign_legacy(&f->c, t[i].method, t[i].key, msg, sizeof(msg), &b), 0);
        assert_int_equal(b.len, t[i].siglen); /* r | s, fixed length (RFC 4754 7) */
        assert_int_equal(
            hk_auth_sig_verify_legacy(&f->c, t[i].method, t[i].key, b.buf, b.len, msg, sizeof(msg)),
            0);
        b.buf[b.len / 2] ^= 1;
        assert_int_equal(
            hk_auth_sig_verify_legacy(&f->c, t[i].method, t[i].key, b.buf, b.len, msg, sizeof(msg)),
            HK_E_AUTH);
        b.buf[b.len / 2] ^= 1;
        assert_int_equal(hk_auth_sig_verify_legacy(&f->c, t[i].method, t[i].key, b.buf, b.len - 1,
                                                   msg, sizeof(msg)),
                         HK_E_SYNTAX);
        assert_int_equal(hk_auth_sig_verify_legacy(&f->c, t[i].method, t[i].wrong, b.buf, b.len,
                                                   msg, sizeof(msg)),
                         HK_E_AUTH);
        assert_int_equal(
            hk_auth_sig_verify_legacy(&f->c, t[i].method, f->rsa, b.buf, b.len, msg, sizeof(msg)),
            HK_E_AUTH);
        size_t before = b.len;
        assert_int_equal(
            hk_auth_sig_sign_legacy(&f->c, t[i].method, t[i].wrong, msg, sizeof(msg), &b),
            HK_E_INVALID);
        assert_int_equal(b.len, before);
        hk_cbb_free(&b);
    }
    /* Zero r and s are not a signature. */
    uint8_t zero[64] = {0};
    assert_int_equal(hk_auth_sig_verify_legacy(&f->c, 9, f->p256_pub, zero, 64, msg, sizeof(msg)),
                     HK_E_AUTH);
}

static EVP_PKEY *ec_pub_from_xy(const char *group, const char *x, const char *y)
{
    uint8_t pt[1 + 2 * 66];
    size_t n = 1;
    pt[0] = 0x04;
    n += test_unhex(x, pt + n, sizeof(pt) - n);
    n += test_unhex(y, pt + n, sizeof(pt) - n);
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, n),
        OSSL_PARAM_construct_end()};
    EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    EVP_PKEY *k = NULL;
    assert_int_equal(EVP_PKEY_fromdata_init(pc), 1);
    assert_int_equal(EVP_PKEY_fromdata(pc, &k, EVP_PKEY_PUBLIC_KEY, p), 1);
    EVP_PKEY_CTX_free(pc);
    return k;
}

/* RFC 4754 8.1, 8.2, 8.3: the published signatures of "abc" verify with the published keys. */
static void legacy_ecdsa_rfc4754_vectors(void **state)
{
    struct fixture *f = *state;
    static const struct {
        uint8_t method;
        const char *group, *gwx, *gwy, *r, *s;
    } v[] = {
        {9, "P-256", "2442A5CC 0ECD015F A3CA31DC 8E2BBC70 BF42D60C BCA20085 E0822CB0 4235E970",
         "6FC98BD7 E50211A4 A27102FA 3549DF79 EBCB4BF2 46B80945 CDDFE7D5 09BBFD7D",
         "CB28E099 9B9C7715 FD0A80D8 E47A7707 9716CBBF 917DD72E 97566EA1 C066957C",
         "86FA3BB4 E26CAD5B F90B7F81 899256CE 7594BB1E A0C89212 748BFF3B 3D5B0315"},
        {10, "P-384",
         "96281BF8 DD5E0525 CA049C04 8D345D30 82968D10 FEDF5C5A CA0C64E6 465A97EA 5CE10C9D "
         "FEC21797 "
         "41571072 1F437922",
         "447688BA 94708EB6 E2E4D59F 6AB6D7ED FF9301D2 49FE49C3 3096655F 5D502FAD 3D383B91 "
         "C5E7EDAA "
         "2B714CC9 9D5743CA",
         "FB017B91 4E291494 32D8BAC2 9A514640 B46F53DD AB2C6994 8084E293 0F1C8F7E 08E07C9C "
         "63F2D21A "
         "07DCB56A 6AF56EB3",
         "B263A130 5E057F98 4D38726A 1B468741 09F417BC A112674C 528262A4 0A629AF1 CBB9F516 "
         "CE0FA7D2 "
         "FF630863 A00E8B9F"},
        {11, "P-521",
         "0151518F 1AF0F563 517EDD54 85190DF9 5A4BF57B 5CBA4CF2 A9A3F647 4725A35F 7AFE0A6D "
         "DEB8BEDB "
         "CD6A197E 592D4018 8901CECD 650699C9 B5E456AE A5ADD190 52A8",
         "006F3B14 2EA1BFFF 7E2837AD 44C9E4FF 6D2D34C7 3184BBAD 90026DD5 E6E85317 D9DF45CA "
         "D7803C6C "
         "20035B2F 3FF63AFF 4E1BA64D 1C077577 DA3F4286 C58F0AEA E643",
         "0154FD38 36AF92D0 DCA57DD5 341D3053 988534FD E8318FC6 AAAAB68E 2E6F4339 B19F2F28 "
         "1A7E0B22 "
         "C269D93C F8794A92 78880ED7 DBB8D936 2CAEACEE 54432055 2251",
         "017705A7 030290D1 CEB605A9 A1BB03FF 9CDD521E 87A696EC 926C8C10 C8362DF4 97536710 "
         "1F67D1CF "
         "9BCCBF2F 3D239534 FA509E70 AAC851AE 01AAC68D 62F86647 2660"},
    };
    const uint8_t abc[] = {'a', 'b', 'c'};
    for (size_t i = 0; i < 3; i++) {
        EVP_PKEY *pub = ec_pub_from_xy(v[i].group, v[i].gwx, v[i].gwy);
        uint8_t rs[132];
        size_t n = test_unhex(v[i].r, rs, sizeof(rs));
        n += test_unhex(v[i].s, rs + n, sizeof(rs) - n);
        assert_int_equal(
            hk_auth_sig_verify_legacy(&f->c, v[i].method, pub, rs, n, abc, sizeof(abc)), 0);
        rs[n - 1] ^= 1;
        assert_int_equal(
            hk_auth_sig_verify_legacy(&f->c, v[i].method, pub, rs, n, abc, sizeof(abc)), HK_E_AUTH);
        EVP_PKEY_free(pub);
    }
}

static void legacy_rsa_verify_only(void **state)
{
    struct fixture *f = *state;
    uint8_t sig[256];
    size_t slen = sizeof(sig);
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestSignInit_ex(m, NULL, "SHA1", NULL, NULL, f->rsa, NULL), 1);
    assert_int_equal(EVP_DigestSign(m, sig, &slen, msg, sizeof(msg)), 1);
    EVP_MD_CTX_free(m);
    assert_int_equal(hk_auth_sig_verify_legacy(&f->c, 1, f->rsa_pub, sig, slen, msg, sizeof(msg)),
                     0);
    sig[0] ^= 1;
    assert_int_equal(hk_auth_sig_verify_legacy(&f->c, 1, f->rsa_pub, sig, slen, msg, sizeof(msg)),
                     HK_E_AUTH);
    assert_int_equal(hk_auth_sig_verify_legacy(&f->c, 1, f->p256_pub, sig, slen, msg, sizeof(msg)),
                     HK_E_AUTH);
    assert_int_equal(hk_auth_sig_verify_legacy(&f->c, 1, f->rsa_pub, sig, 0, msg, sizeof(msg)),
                     HK_E_SYNTAX);
    struct hk_cbb b;
    assert_int_equal(hk_cbb_init(&b, 0, 0), 0);
    assert_int_equal(hk_auth_sig_sign_legacy(&f->c, 1, f->rsa, msg, sizeof(msg), &b),
                     HK_E_UNSUPPORTED);
    assert_int_equal(hk_auth_sig_sign_legacy(&f->c, 3 /* DSS */, f->rsa, msg, sizeof(msg), &b),
                     HK_E_UNSUPPORTED);
    assert_int_equal(hk_auth_sig_verify_legacy(&f->c, 3, f->rsa_pub, sig, slen, msg, sizeof(msg)),
                     HK_E_UNSUPPORTED);
    hk_cbb_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(psk_known_answer),
        cmocka_unit_test(psk_round_trip_and_failures),
        cmocka_unit_test(emitted_algorithm_identifiers),
        cmocka_unit_test(pss_sha384_sha512_ids_are_valid_der),
        cmocka_unit_test(sign_verify_each_key_type),
        cmocka_unit_test(key_and_algorithm_must_match),
        cmocka_unit_test(verifies_other_encodings),
        cmocka_unit_test(malformed_and_unknown_auth_data),
        cmocka_unit_test(legacy_ecdsa_round_trips),
        cmocka_unit_test(legacy_ecdsa_rfc4754_vectors),
        cmocka_unit_test(legacy_rsa_verify_only),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
