/*
 * The peer's certificate policy (remote.eku, min_rsa_bits, min_ec_bits, signature): extended key
 * usage for IKE (RFC 4945 5.1.3.12), key sizes, and AUTH method 1 (RSA with SHA-1, RFC 7296 3.8)
 * refused unless allowed. Certificates from certgen, including RSA-1024 and EKU variants.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "certgen.h"
#include "common/cbb.h"
#include "common/err.h"
#include "crypto/crypto.h"
#include "crypto/sig.h"
#include "crypto/x509.h"
#include "ike/auth_cert.h"
#include "ike/codec/msg.h"

#define DAY       86400L
#define IPSEC_IKE "1.3.6.1.5.5.7.3.17"

enum { E_NONE, E_SERVER, E_CLIENT, E_IKE, E_ANY, E_EMAIL, E_CODE_EMAIL, NEKU };
static const char *const ekus[NEKU] = {NULL,
                                       "serverAuth",
                                       "clientAuth",
                                       IPSEC_IKE,
                                       "anyExtendedKeyUsage",
                                       "emailProtection",
                                       "codeSigning,emailProtection"};

enum { K_RSA1024, K_RSA2048, K_P256, K_P384, K_ED, NKEYS };
static const enum cg_key_type ktypes[NKEYS] = {CG_RSA1024, CG_RSA2048, CG_P256, CG_P384,
                                               CG_ED25519};

struct fixture {
    struct hk_crypto c;
    struct cg_ent ca, eku[NEKU], key[NKEYS];
    struct hk_trust *trust;
    uint8_t octets[200];
};

static X509 *issue(struct fixture *f, EVP_PKEY *key, const char *eku)
{
    struct cg_spec s = {.subject = "CN=peer.hike.test,O=hike test",
                        .san = "DNS:peer.hike.test",
                        .key = key,
                        .issuer = f->ca.cert,
                        .issuer_key = f->ca.key,
                        .not_before = -DAY,
                        .not_after = DAY,
                        .eku = eku};
    return cg_cert_new(&s);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char err[256];
    if (!f || hk_crypto_init(&f->c) || cg_ca(&f->ca, CG_P256, "Policy CA") ||
        hk_trust_from_certs(&f->ca.cert, 1, &f->trust, err, sizeof(err)) ||
        hk_random(f->octets, sizeof(f->octets)))
        return -1;
    for (int i = 0; i < NEKU; i++)
        if (!(f->eku[i].key = cg_key_new(CG_P256)) ||
            !(f->eku[i].cert = issue(f, f->eku[i].key, ekus[i])))
            return -1;
    for (int i = 0; i < NKEYS; i++)
        if (!(f->key[i].key = cg_key_new(ktypes[i])) ||
            !(f->key[i].cert = issue(f, f->key[i].key, NULL)))
            return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < NEKU; i++)
        cg_ent_free(&f->eku[i]);
    for (int i = 0; i < NKEYS; i++)
        cg_ent_free(&f->key[i]);
    cg_ent_free(&f->ca);
    hk_trust_free(f->trust);
    hk_crypto_free(&f->c);
    free(f);
    return 0;
}

static void eku_for_ike(void **state)
{
    struct fixture *f = *state;
    const unsigned ike = auth_cert_policy_default.eku;
    char err[512];
    /* Absent, or naming a purpose IKE accepts. */
    for (int i = E_NONE; i <= E_ANY; i++) {
        if (hk_cert_check_eku(f->eku[i].cert, ike, err, sizeof(err)))
            fail_msg("%s: %s", ekus[i] ? ekus[i] : "no EKU", err);
    }
    /* Only purposes of other applications: not for IKE, and the message lists them. */
    assert_int_equal(hk_cert_check_eku(f->eku[E_EMAIL].cert, ike, err, sizeof(err)), HK_E_AUTH);
    assert_non_null(strstr(err, "is not for IKE"));
    assert_non_null(strstr(err, "E-mail Protection"));
    assert_int_equal(hk_cert_check_eku(f->eku[E_CODE_EMAIL].cert, ike, err, sizeof(err)),
                     HK_E_AUTH);
    assert_non_null(strstr(err, "Code Signing, E-mail Protection"));
    /* A narrower list: ipsecIKE only. */
    assert_int_equal(hk_cert_check_eku(f->eku[E_IKE].cert, HK_X509_EKU_IPSEC_IKE, err, 512), 0);
    assert_int_equal(hk_cert_check_eku(f->eku[E_SERVER].cert, HK_X509_EKU_IPSEC_IKE, err, 512),
                     HK_E_AUTH);
    assert_int_equal(hk_cert_check_eku(f->eku[E_NONE].cert, HK_X509_EKU_IPSEC_IKE, err, 512), 0);
}

static void key_sizes(void **state)
{
    struct fixture *f = *state;
    char err[512];
    assert_int_equal(hk_cert_check_key(f->key[K_RSA1024].cert, 2048, 256, err, sizeof(err)),
                     HK_E_AUTH);
    assert_non_null(strstr(err, "RSA key of 1024 bits, 2048 at least required"));
    assert_int_equal(hk_cert_check_key(f->key[K_RSA1024].cert, 1024, 256, err, sizeof(err)), 0);
    assert_int_equal(hk_cert_check_key(f->key[K_RSA2048].cert, 2048, 256, err, sizeof(err)), 0);
    assert_int_equal(hk_cert_check_key(f->key[K_RSA2048].cert, 3072, 256, err, sizeof(err)),
                     HK_E_AUTH);
    assert_int_equal(hk_cert_check_key(f->key[K_P256].cert, 2048, 256, err, sizeof(err)), 0);
    assert_int_equal(hk_cert_check_key(f->key[K_P256].cert, 2048, 384, err, sizeof(err)),
                     HK_E_AUTH);
    assert_non_null(strstr(err, "EC key of 256 bits, 384 at least required (remote.min_ec_bits)"));
    assert_int_equal(hk_cert_check_key(f->key[K_P384].cert, 2048, 384, err, sizeof(err)), 0);
    assert_int_equal(hk_cert_check_key(f->key[K_ED].cert, 2048, 256, err, sizeof(err)), 0);
}

/* The peer's IKE_AUTH as auth_cert_verify sees it: ID, one CERT, AUTH. */
struct peer_msg {
    struct ike_payload pl[2];
    struct ike_msg m;
    struct ike_pl_id id;
    struct ike_pl_auth auth;
    uint8_t *der;
    struct hk_cbb sig;
};

static void peer_msg(struct fixture *f, const struct cg_ent *e, struct peer_msg *p)
{
    size_t len;
    memset(p, 0, sizeof(*p));
    assert_non_null(p->der = cg_der(e->cert, &len));
    p->pl[0] = (struct ike_payload){.type = IKE_PL_CERT};
    p->pl[0].u.cert.encoding = IKE_CERT_X509_SIG;
    p->pl[0].u.cert.data = (struct ike_view){p->der, len};
    p->m.payloads = p->pl;
    p->m.npayloads = 1;
    p->id.type = IKE_ID_FQDN;
    p->id.data = (struct ike_view){(const uint8_t *)"peer.hike.test", 14};
    assert_int_equal(hk_cbb_init(&p->sig, 512, 0), 0);
    (void)f;
}

static void peer_msg_free(struct peer_msg *p)
{
    OPENSSL_free(p->der);
    hk_cbb_free(&p->sig);
}

/* RFC 7427 AUTH by e's key (SHA2-256; Ed25519: identity). */
static void sign_7427(struct fixture *f, const struct cg_ent *e, struct peer_msg *p)
{
    uint16_t hash = EVP_PKEY_is_a(e->key, "ED25519") ? HK_SIG_HASH_IDENTITY : HK_SIG_HASH_SHA2_256;
    assert_int_equal(hk_auth_sig_sign(&f->c, e->key, hash, f->octets, sizeof(f->octets), &p->sig),
                     0);
    p->auth.method = IKE_AUTH_DIGITAL_SIGNATURE;
    p->auth.data = (struct ike_view){p->sig.buf, p->sig.len};
}

/* AUTH method 1 (RFC 7296 3.8): RSASSA-PKCS1-v1_5 with SHA-1, which hike itself never makes. */
static void sign_method1(struct fixture *f, const struct cg_ent *e, struct peer_msg *p)
{
    uint8_t *out;
    size_t n = (size_t)EVP_PKEY_get_size(e->key);
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    assert_non_null(m);
    assert_int_equal(hk_cbb_add_space(&p->sig, &out, n), 0);
    assert_int_equal(EVP_DigestSignInit(m, NULL, EVP_sha1(), NULL, e->key), 1);
    assert_int_equal(EVP_DigestSign(m, out, &n, f->octets, sizeof(f->octets)), 1);
    EVP_MD_CTX_free(m);
    p->auth.method = IKE_AUTH_RSA_SIG;
    p->auth.data = (struct ike_view){p->sig.buf, n};
}

static int verify(struct fixture *f, struct peer_msg *p, const struct auth_cert_policy *pol,
                  char *err, size_t errlen)
{
    err[0] = '\0';
    return auth_cert_verify(&f->c, f->trust, &p->m, &p->id, &p->auth, f->octets, sizeof(f->octets),
                            NULL, pol, err, errlen);
}

static void weak_leaf_refused(void **state)
{
    struct fixture *f = *state;
    struct peer_msg p;
    char err[512];
    /* An RSA-1024 end entity with a good RFC 7427 signature: refused by default. */
    peer_msg(f, &f->key[K_RSA1024], &p);
    sign_7427(f, &f->key[K_RSA1024], &p);
    assert_int_equal(verify(f, &p, NULL, err, sizeof(err)), HK_E_AUTH);
    assert_non_null(strstr(err, "RSA key of 1024 bits, 2048 at least required"));
    /* ... and taken where the connection lowers min_rsa_bits. */
    struct auth_cert_policy weak = auth_cert_policy_default;
    weak.min_rsa = 1024;
    if (verify(f, &p, &weak, err, sizeof(err)))
        fail_msg("min_rsa 1024: %s", err);
    peer_msg_free(&p);

    /* The defaults take RSA-2048, P-256 and Ed25519. */
    for (int k = K_RSA2048; k < NKEYS; k++) {
        peer_msg(f, &f->key[k], &p);
        sign_7427(f, &f->key[k], &p);
        if (verify(f, &p, NULL, err, sizeof(err)))
            fail_msg("key %d: %s", k, err);
        peer_msg_free(&p);
    }
}

static void eku_policy(void **state)
{
    struct fixture *f = *state;
    struct peer_msg p;
    char err[512];
    peer_msg(f, &f->eku[E_EMAIL], &p);
    sign_7427(f, &f->eku[E_EMAIL], &p);
    assert_int_equal(verify(f, &p, NULL, err, sizeof(err)), HK_E_AUTH);
    assert_non_null(strstr(err, "CN=peer.hike.test,O=hike test is not for IKE"));
    struct auth_cert_policy any = auth_cert_policy_default;
    any.eku_any = true; /* eku = "any" */
    if (verify(f, &p, &any, err, sizeof(err)))
        fail_msg("eku any: %s", err);
    peer_msg_free(&p);

    /* ipsecIKE and serverAuth leaves pass the default; a list of ipsecIKE alone refuses
     * serverAuth. */
    peer_msg(f, &f->eku[E_SERVER], &p);
    sign_7427(f, &f->eku[E_SERVER], &p);
    assert_int_equal(verify(f, &p, NULL, err, sizeof(err)), 0);
    struct auth_cert_policy only_ike = auth_cert_policy_default;
    only_ike.eku = HK_X509_EKU_IPSEC_IKE;
    assert_int_equal(verify(f, &p, &only_ike, err, sizeof(err)), HK_E_AUTH);
    peer_msg_free(&p);
    peer_msg(f, &f->eku[E_IKE], &p);
    sign_7427(f, &f->eku[E_IKE], &p);
    assert_int_equal(verify(f, &p, &only_ike, err, sizeof(err)), 0);
    peer_msg_free(&p);
}

static void method1_refused_unless_allowed(void **state)
{
    struct fixture *f = *state;
    struct peer_msg p;
    char err[512];
    peer_msg(f, &f->key[K_RSA2048], &p);
    sign_method1(f, &f->key[K_RSA2048], &p);
    assert_int_equal(verify(f, &p, NULL, err, sizeof(err)), HK_E_AUTH);
    assert_non_null(strstr(err, "AUTH method 1 (RSA with SHA-1) refused"));
    /* signature = "classic": the same AUTH verifies (it is a real SHA-1 signature)... */
    struct auth_cert_policy classic = auth_cert_policy_default;
    classic.allow_sha1 = true;
    if (verify(f, &p, &classic, err, sizeof(err)))
        fail_msg("classic: %s", err);
    /* ... and one octet changed does not. */
    p.sig.buf[10] ^= 1;
    assert_int_equal(verify(f, &p, &classic, err, sizeof(err)), HK_E_AUTH);
    assert_non_null(strstr(err, "not a valid signature"));
    peer_msg_free(&p);

    /* The key-size policy holds for method 1 too. */
    peer_msg(f, &f->key[K_RSA1024], &p);
    sign_method1(f, &f->key[K_RSA1024], &p);
    assert_int_equal(verify(f, &p, &classic, err, sizeof(err)), HK_E_AUTH);
    assert_non_null(strstr(err, "RSA key of 1024 bits"));
    peer_msg_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(eku_for_ike),
        cmocka_unit_test(key_sizes),
        cmocka_unit_test(weak_leaf_refused),
        cmocka_unit_test(eku_policy),
        cmocka_unit_test(method1_refused_unless_allowed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
