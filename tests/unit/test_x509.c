/* X.509: credentials and trust anchors from files, chain verification, ID binding, CERTREQ. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "certgen.h"
#include "common/cbb.h"
#include "common/err.h"
#include "config/id_conf.h"
#include "crypto/x509.h"

#define DAY      86400L
#define LEAF_DN  "CN=gw.hike.test,O=hike test,C=CH"
#define LEAF_SAN "DNS:gw.hike.test,IP:192.0.2.1,IP:2001:db8::1,email:admin@Hike.Test"

struct fixture {
    struct cg_ent ca, inter, leaf, rsa_leaf, expired, future, other_ca, other_leaf, bare;
    char dir[512];
    char paths[8][640]; /* a ring for path(): several file names alive in one call */
    int next;
};

static char *path(struct fixture *f, const char *name)
{
    char *p = f->paths[f->next];
    f->next = (f->next + 1) % 8;
    snprintf(p, sizeof(f->paths[0]), "%s/%s", f->dir, name);
    return p;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f || cg_ca(&f->ca, CG_P256, "Test CA") ||
        cg_issue(&f->inter, &f->ca, CG_P384, "CN=Test Intermediate,O=hike test", NULL, true, -DAY,
                 20 * DAY) ||
        cg_issue(&f->leaf, &f->inter, CG_P256, LEAF_DN, LEAF_SAN, false, -DAY, 10 * DAY) ||
        cg_issue(&f->rsa_leaf, &f->ca, CG_RSA2048, "CN=rsa.hike.test", "DNS:rsa.hike.test", false,
                 -DAY, 10 * DAY) ||
        cg_issue(&f->expired, &f->ca, CG_P256, "CN=old.hike.test", "DNS:old.hike.test", false,
                 -2 * DAY, -DAY) ||
        cg_issue(&f->future, &f->ca, CG_P256, "CN=new.hike.test", "DNS:new.hike.test", false, DAY,
                 2 * DAY) ||
        cg_ca(&f->other_ca, CG_P256, "Other CA") ||
        cg_issue(&f->other_leaf, &f->other_ca, CG_ED25519, "CN=stranger.hike.test",
                 "DNS:stranger.hike.test", false, -DAY, DAY) ||
        cg_issue(&f->bare, &f->ca, CG_P256, "CN=bare.hike.test", NULL, false, -DAY, DAY) ||
        !cg_tmpdir(f->dir, sizeof(f->dir)))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    struct cg_ent *e[] = {&f->ca,     &f->inter,    &f->leaf,       &f->rsa_leaf, &f->expired,
                          &f->future, &f->other_ca, &f->other_leaf, &f->bare};
    for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++)
        cg_ent_free(e[i]);
    cg_rmdir(f->dir);
    free(f);
    return 0;
}

static void expect_contains(const char *err, const char *want);

/* ---- loading ---- */

static void cred_from_pem(void **state)
{
    struct fixture *f = *state;
    char err[256] = "";
    struct hk_cred *c;
    char *chain[] = {path(f, "inter.pem")};
    assert_int_equal(cg_write_pem_certs(path(f, "leaf.pem"), &f->leaf.cert, 1), 0);
    assert_int_equal(cg_write_pem_key(path(f, "leaf.key"), f->leaf.key), 0);
    assert_int_equal(cg_write_pem_certs(chain[0], &f->inter.cert, 1), 0);
    assert_int_equal(
        hk_cred_load(path(f, "leaf.pem"), path(f, "leaf.key"), chain, 1, &c, err, sizeof(err)), 0);
    assert_int_equal(X509_cmp(c->cert, f->leaf.cert), 0);
    assert_int_equal(EVP_PKEY_eq(c->key, f->leaf.key), 1);
    assert_int_equal(sk_X509_num(c->chain), 1);
    assert_int_equal(X509_cmp(sk_X509_value(c->chain, 0), f->inter.cert), 0);
    hk_cred_free(c);

    /* A full-chain file: the certificates after the first are intermediates. */
    X509 *full[] = {f->leaf.cert, f->inter.cert};
    assert_int_equal(cg_write_pem_certs(path(f, "full.pem"), full, 2), 0);
    assert_int_equal(
        hk_cred_load(path(f, "full.pem"), path(f, "leaf.key"), NULL, 0, &c, err, sizeof(err)), 0);
    assert_int_equal(X509_cmp(c->cert, f->leaf.cert), 0);
    assert_int_equal(sk_X509_num(c->chain), 1);
    hk_cred_free(c);
}

static void cred_from_der(void **state)
{
    struct fixture *f = *state;
    char err[256] = "";
    struct hk_cred *c;
    char *chain[] = {path(f, "ca.der")};
    assert_int_equal(cg_write_der_cert(path(f, "rsa.der"), f->rsa_leaf.cert), 0);
    assert_int_equal(cg_write_der_key(path(f, "rsa.key.der"), f->rsa_leaf.key), 0);
    assert_int_equal(cg_write_der_cert(chain[0], f->ca.cert), 0);
    assert_int_equal(
        hk_cred_load(path(f, "rsa.der"), path(f, "rsa.key.der"), chain, 1, &c, err, sizeof(err)),
        0);
    assert_int_equal(X509_cmp(c->cert, f->rsa_leaf.cert), 0);
    assert_int_equal(EVP_PKEY_eq(c->key, f->rsa_leaf.key), 1);
    assert_int_equal(sk_X509_num(c->chain), 1);
    hk_cred_free(c);
    /* Ed25519 (PKCS#8) and EC (RFC 5915) keys in DER too. */
    assert_int_equal(cg_write_der_cert(path(f, "ed.der"), f->other_leaf.cert), 0);
    assert_int_equal(cg_write_der_key(path(f, "ed.key.der"), f->other_leaf.key), 0);
    assert_int_equal(
        hk_cred_load(path(f, "ed.der"), path(f, "ed.key.der"), NULL, 0, &c, err, sizeof(err)), 0);
    assert_int_equal(EVP_PKEY_eq(c->key, f->other_leaf.key), 1);
    hk_cred_free(c);
    assert_int_equal(cg_write_der_cert(path(f, "ec.der"), f->leaf.cert), 0);
    assert_int_equal(cg_write_der_key(path(f, "ec.key.der"), f->leaf.key), 0);
    assert_int_equal(
        hk_cred_load(path(f, "ec.der"), path(f, "ec.key.der"), NULL, 0, &c, err, sizeof(err)), 0);
    assert_int_equal(EVP_PKEY_eq(c->key, f->leaf.key), 1);
    hk_cred_free(c);
}

static void expect_load_error(struct fixture *f, const char *cert, const char *key, int want,
                              const char *msg)
{
    char err[256] = "";
    struct hk_cred *c = (struct hk_cred *)&err; /* must become NULL */
    assert_int_equal(hk_cred_load(path(f, cert), path(f, key), NULL, 0, &c, err, sizeof(err)),
                     want);
    assert_null(c);
    if (!strstr(err, msg))
        fail_msg("error '%s' lacks '%s'", err, msg);
}

static void cred_bad_files(void **state)
{
    struct fixture *f = *state;
    static const char garbage[] = "this is not a certificate\n";
    static const char bad_pem[] =
        "-----BEGIN CERTIFICATE-----\nAAAA!!!!\n-----END CERTIFICATE-----\n";
    assert_int_equal(cg_write_pem_certs(path(f, "leaf.pem"), &f->leaf.cert, 1), 0);
    assert_int_equal(cg_write_pem_key(path(f, "leaf.key"), f->leaf.key), 0);
    assert_int_equal(cg_write_pem_key(path(f, "other.key"), f->other_leaf.key), 0);
    assert_int_equal(cg_write_file(path(f, "garbage"), garbage, sizeof(garbage) - 1), 0);
    assert_int_equal(cg_write_file(path(f, "bad.pem"), bad_pem, sizeof(bad_pem) - 1), 0);
    assert_int_equal(cg_write_file(path(f, "empty"), "", 0), 0);

    expect_load_error(f, "nonexistent.pem", "leaf.key", HK_E_CONFIG, "cannot open");
    expect_load_error(f, "nonexistent.pem", "leaf.key", HK_E_CONFIG, "nonexistent.pem");
    expect_load_error(f, "garbage", "leaf.key", HK_E_CONFIG, "not a PEM or DER certificate");
    expect_load_error(f, "bad.pem", "leaf.key", HK_E_CONFIG, "bad certificate 1");
    expect_load_error(f, "empty", "leaf.key", HK_E_CONFIG, "empty file");
    expect_load_error(f, "leaf.key", "leaf.key", HK_E_CONFIG, "no certificate found");
    expect_load_error(f, "leaf.pem", "nonexistent.key", HK_E_CONFIG, "cannot open");
    expect_load_error(f, "leaf.pem", "garbage", HK_E_CONFIG, "not a PEM or DER private key");
    expect_load_error(f, "leaf.pem", "leaf.pem", HK_E_CONFIG, "not a PEM or DER private key");
    expect_load_error(f, "leaf.pem", "other.key", HK_E_CONFIG, "does not match certificate");

    /* An encrypted key: no passphrase support, and the message says so. */
    BIO *b = BIO_new(BIO_s_mem());
    char *p;
    assert_int_equal(
        PEM_write_bio_PKCS8PrivateKey(b, f->leaf.key, EVP_aes_256_cbc(), "secret", 6, NULL, NULL),
        1);
    long n = BIO_get_mem_data(b, &p);
    assert_int_equal(cg_write_file(path(f, "enc.key"), p, (size_t)n), 0);
    BIO_free(b);
    expect_load_error(f, "leaf.pem", "enc.key", HK_E_CONFIG, "encrypted private keys");

    /* A key type we cannot sign AUTH with. */
    EVP_PKEY *weak = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    assert_non_null(weak);
    assert_int_equal(cg_write_pem_key(path(f, "weak.key"), weak), 0);
    EVP_PKEY_free(weak);
    expect_load_error(f, "leaf.pem", "weak.key", HK_E_UNSUPPORTED, "1024 bits");

    /* A bad intermediate file names itself. */
    char err[256] = "";
    struct hk_cred *c;
    char *chain[] = {path(f, "garbage")};
    assert_int_equal(
        hk_cred_load(path(f, "leaf.pem"), path(f, "leaf.key"), chain, 1, &c, err, sizeof(err)),
        HK_E_CONFIG);
    assert_non_null(strstr(err, "garbage"));
}

static void trust_from_files(void **state)
{
    struct fixture *f = *state;
    char err[256] = "";
    struct hk_trust *t;
    char *files[] = {path(f, "ca.pem"), path(f, "other.der")};
    assert_int_equal(cg_write_pem_certs(files[0], &f->ca.cert, 1), 0);
    assert_int_equal(cg_write_der_cert(files[1], f->other_ca.cert), 0);
    assert_int_equal(hk_trust_load(files, 2, &t, err, sizeof(err)), 0);
    assert_int_equal(hk_trust_count(t), 2);
    assert_int_equal(X509_cmp(sk_X509_value(t->anchors, 1), f->other_ca.cert), 0);
    hk_trust_free(t);

    /* One certificate, as for a pinned peer. */
    X509 *x;
    assert_int_equal(hk_cert_load(files[1], &x, err, sizeof(err)), 0);
    assert_int_equal(X509_cmp(x, f->other_ca.cert), 0);
    X509_free(x);
    X509 *two[] = {f->leaf.cert, f->inter.cert};
    assert_int_equal(cg_write_pem_certs(path(f, "two.pem"), two, 2), 0);
    assert_int_equal(hk_cert_load(path(f, "two.pem"), &x, err, sizeof(err)), HK_E_CONFIG);
    assert_null(x);
    expect_contains(err, "2 certificates where one is expected");

    char *bad[] = {path(f, "ca.pem"), path(f, "missing.pem")};
    assert_int_equal(hk_trust_load(bad, 2, &t, err, sizeof(err)), HK_E_CONFIG);
    assert_null(t);
    assert_non_null(strstr(err, "missing.pem"));
    assert_int_equal(hk_trust_load(NULL, 0, &t, err, sizeof(err)), HK_E_CONFIG);
}

/* ---- chain verification ---- */

static int verify(struct hk_trust *t, X509 *leaf, X509 *const *inter, size_t ninter, time_t now,
                  char *err, size_t errlen)
{
    struct hk_der_view v[4];
    uint8_t *ders[4];
    size_t len;
    uint8_t *der = cg_der(leaf, &len);
    assert_true(ninter <= 4);
    for (size_t i = 0; i < ninter; i++) {
        ders[i] = cg_der(inter[i], &v[i].len);
        v[i].p = ders[i];
    }
    X509 *out = NULL;
    int rc = hk_cert_verify(t, der, len, v, ninter, now, &out, err, errlen);
    if (rc == 0) {
        assert_non_null(out);
        assert_int_equal(X509_cmp(out, leaf), 0);
    } else {
        assert_null(out);
    }
    X509_free(out);
    OPENSSL_free(der);
    for (size_t i = 0; i < ninter; i++)
        OPENSSL_free(ders[i]);
    return rc;
}

static void expect_contains(const char *err, const char *want)
{
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
}

static void chain_verification(void **state)
{
    struct fixture *f = *state;
    char err[300] = "";
    struct hk_trust *t, *t_inter;
    assert_int_equal(hk_trust_from_certs(&f->ca.cert, 1, &t, err, sizeof(err)), 0);

    assert_int_equal(verify(t, f->leaf.cert, &f->inter.cert, 1, 0, err, sizeof(err)), 0);
    assert_int_equal(verify(t, f->rsa_leaf.cert, NULL, 0, 0, err, sizeof(err)), 0);
    /* Extra and repeated certificates do no harm: the chain is built, not taken in order. */
    X509 *extra[] = {f->other_ca.cert, f->inter.cert, f->ca.cert};
    assert_int_equal(verify(t, f->leaf.cert, extra, 3, 0, err, sizeof(err)), 0);

    assert_int_equal(verify(t, f->leaf.cert, NULL, 0, 0, err, sizeof(err)), HK_E_AUTH);
    expect_contains(err, "no trust anchor for issuer CN=Test Intermediate,O=hike test");
    assert_int_equal(verify(t, f->other_leaf.cert, NULL, 0, 0, err, sizeof(err)), HK_E_AUTH);
    expect_contains(err, "no trust anchor for issuer CN=Other CA");
    expect_contains(err, "CN=stranger.hike.test");
    assert_int_equal(verify(t, f->expired.cert, NULL, 0, 0, err, sizeof(err)), HK_E_AUTH);
    expect_contains(err, "certificate CN=old.hike.test not valid: expired");
    assert_int_equal(verify(t, f->future.cert, NULL, 0, 0, err, sizeof(err)), HK_E_AUTH);
    expect_contains(err, "certificate CN=new.hike.test not valid: not yet valid");
    /* A self-signed certificate that is not an anchor. */
    assert_int_equal(verify(t, f->other_ca.cert, NULL, 0, 0, err, sizeof(err)), HK_E_AUTH);
    expect_contains(err, "CN=Other CA,O=hike test is self-signed and not a trust anchor");

    /* The time is injectable: the expired one was fine yesterday, the future one tomorrow. */
    time_t now = time(NULL);
    assert_int_equal(verify(t, f->expired.cert, NULL, 0, now - DAY - DAY / 2, err, sizeof(err)), 0);
    assert_int_equal(verify(t, f->future.cert, NULL, 0, now + DAY + DAY / 2, err, sizeof(err)), 0);
    assert_int_equal(verify(t, f->leaf.cert, &f->inter.cert, 1, now + 40 * DAY, err, sizeof(err)),
                     HK_E_AUTH);
    expect_contains(err, "expired");

    /* A configured intermediate is an anchor by itself (partial chain). */
    assert_int_equal(hk_trust_from_certs(&f->inter.cert, 1, &t_inter, err, sizeof(err)), 0);
    if (verify(t_inter, f->leaf.cert, NULL, 0, 0, err, sizeof(err)))
        fail_msg("%s", err);
    assert_int_equal(verify(t_inter, f->rsa_leaf.cert, NULL, 0, 0, err, sizeof(err)), HK_E_AUTH);
    hk_trust_free(t_inter);

    /* An end entity cannot issue certificates. */
    struct cg_ent sub;
    assert_int_equal(
        cg_issue(&sub, &f->rsa_leaf, CG_P256, "CN=sub.hike.test", NULL, false, -DAY, DAY), 0);
    assert_int_equal(verify(t, sub.cert, &f->rsa_leaf.cert, 1, 0, err, sizeof(err)), HK_E_AUTH);
    expect_contains(err, "CN=rsa.hike.test");
    cg_ent_free(&sub);

    /* Garbage and truncated DER. */
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    size_t len;
    uint8_t *der = cg_der(f->rsa_leaf.cert, &len);
    assert_int_equal(hk_cert_verify(t, junk, sizeof(junk), NULL, 0, 0, NULL, err, sizeof(err)),
                     HK_E_SYNTAX);
    expect_contains(err, "not a DER X.509 certificate");
    assert_int_equal(hk_cert_verify(t, der, len - 1, NULL, 0, 0, NULL, err, sizeof(err)),
                     HK_E_SYNTAX);
    struct hk_der_view bad = {junk, sizeof(junk)};
    assert_int_equal(hk_cert_verify(t, der, len, &bad, 1, 0, NULL, err, sizeof(err)), HK_E_SYNTAX);
    expect_contains(err, "intermediate certificate 1");
    assert_int_equal(hk_cert_verify(NULL, der, len, NULL, 0, 0, NULL, err, sizeof(err)),
                     HK_E_INVALID);
    OPENSSL_free(der);
    hk_trust_free(t);
}

static void check_time(void **state)
{
    struct fixture *f = *state;
    char err[256];
    assert_int_equal(hk_cert_check_time(f->leaf.cert, 0, err, sizeof(err)), 0);
    assert_int_equal(hk_cert_check_time(f->expired.cert, 0, err, sizeof(err)), HK_E_AUTH);
    expect_contains(err, "CN=old.hike.test not valid: expired");
    assert_int_equal(hk_cert_check_time(f->future.cert, 0, err, sizeof(err)), HK_E_AUTH);
    expect_contains(err, "not yet valid");
    assert_int_equal(hk_cert_check_time(f->expired.cert, time(NULL) - DAY - 60, err, sizeof(err)),
                     0);
}

/* ---- identities ---- */

static bool match_ip(X509 *x, int af, const char *s)
{
    uint8_t a[16];
    assert_int_equal(inet_pton(af, s, a), 1);
    return hk_cert_matches_id(x, af == AF_INET ? 1 : 5, a, af == AF_INET ? 4 : 16);
}

static bool match_str(X509 *x, uint8_t type, const char *s)
{
    return hk_cert_matches_id(x, type, (const uint8_t *)s, strlen(s));
}

static bool match_dn(X509 *x, const char *dn)
{
    uint8_t *der;
    size_t len;
    char err[128];
    assert_int_equal(hk_dn_to_der(dn, &der, &len, err, sizeof(err)), 0);
    bool r = hk_cert_matches_id(x, 9, der, len);
    free(der);
    return r;
}

static void id_matching(void **state)
{
    struct fixture *f = *state;
    X509 *x = f->leaf.cert;
    /* ID_DER_ASN1_DN: the subject, as the certificate has it or as the config writes it. */
    size_t len;
    uint8_t *der = cg_subject_der(x, &len);
    assert_true(hk_cert_matches_id(x, 9, der, len));
    assert_false(hk_cert_matches_id(x, 9, der, len - 1));
    assert_false(hk_cert_matches_id(f->rsa_leaf.cert, 9, der, len));
    uint8_t *mine;
    size_t mlen;
    assert_int_equal(hk_cert_subject_der(x, &mine, &mlen), 0);
    assert_int_equal(mlen, len);
    assert_memory_equal(mine, der, len);
    free(mine);
    OPENSSL_free(der);
    assert_true(match_dn(x, LEAF_DN));
    assert_true(match_dn(x, "CN=GW.Hike.Test,O=Hike Test,C=ch")); /* canonical comparison */
    assert_false(match_dn(x, "CN=gw.hike.test,O=hike test"));
    assert_false(match_dn(x, "CN=gw.hike.test,O=hike test,C=DE"));
    assert_false(match_dn(x, "O=hike test,CN=gw.hike.test,C=CH")); /* RDN order matters */
    /* ID_FQDN: a dNSName, letter case aside; the CN does not count. */
    assert_true(match_str(x, 2, "gw.hike.test"));
    assert_true(match_str(x, 2, "GW.Hike.TEST"));
    assert_false(match_str(x, 2, "gw.hike.tes"));
    assert_false(match_str(x, 2, "gw.hike.test."));
    assert_false(match_str(x, 2, "other.hike.test"));
    assert_false(match_str(x, 2, "admin@hike.test"));
    assert_false(match_str(f->bare.cert, 2, "bare.hike.test"));
    /* ID_RFC822_ADDR: an rfc822Name; the domain ignores case, the local part does not. */
    assert_true(match_str(x, 3, "admin@hike.test"));
    assert_true(match_str(x, 3, "admin@HIKE.test"));
    assert_false(match_str(x, 3, "Admin@hike.test"));
    assert_false(match_str(x, 3, "gw.hike.test"));
    assert_false(match_str(x, 2, "admin@Hike.Test"));
    /* ID_IPV4_ADDR, ID_IPV6_ADDR: an iPAddress of that family. */
    assert_true(match_ip(x, AF_INET, "192.0.2.1"));
    assert_false(match_ip(x, AF_INET, "192.0.2.2"));
    assert_true(match_ip(x, AF_INET6, "2001:db8::1"));
    assert_false(match_ip(x, AF_INET6, "2001:db8::2"));
    assert_false(match_ip(x, AF_INET6, "::ffff:192.0.2.1"));
    static const uint8_t v4[] = {192, 0, 2, 1};
    assert_false(hk_cert_matches_id(x, 5, v4, 4));  /* wrong length for the type */
    assert_false(hk_cert_matches_id(x, 2, v4, 4));  /* type mismatch */
    assert_false(hk_cert_matches_id(x, 11, v4, 4)); /* KEY_ID is never bound here */
    assert_false(hk_cert_matches_id(x, 1, v4, 0));
    assert_false(hk_cert_matches_id(x, 1, NULL, 4));
    assert_false(hk_cert_matches_id(NULL, 1, v4, 4));
}

/* ---- CERTREQ ---- */

static void certreq_hashes(void **state)
{
    struct fixture *f = *state;
    char err[128];
    struct hk_trust *t;
    X509 *anchors[] = {f->ca.cert, f->other_ca.cert, f->inter.cert};
    assert_int_equal(hk_trust_from_certs(anchors, 3, &t, err, sizeof(err)), 0);
    struct hk_cbb b;
    assert_int_equal(hk_cbb_init(&b, 0, 0), 0);
    hk_cbb_add_u8(&b, 0xee); /* appends */
    assert_int_equal(hk_trust_certreq_hashes(t, &b), 0);
    assert_int_equal(b.len, 1 + 3 * 20);
    for (size_t i = 0; i < 3; i++) {
        /* RFC 7296 3.7: SHA-1 of the anchor's DER SubjectPublicKeyInfo, from its key here. */
        unsigned char *spki = NULL;
        int n = i2d_PUBKEY(X509_get0_pubkey(anchors[i]), &spki);
        assert_true(n > 0);
        uint8_t md[20];
        unsigned int mdlen = 0;
        assert_int_equal(EVP_Digest(spki, (size_t)n, md, &mdlen, EVP_sha1(), NULL), 1);
        assert_int_equal(mdlen, 20);
        assert_memory_equal(b.buf + 1 + 20 * i, md, 20);
        OPENSSL_free(spki);
    }
    hk_cbb_free(&b);
    hk_trust_free(t);
    /* No anchors, nothing appended. */
    assert_int_equal(hk_cbb_init(&b, 0, 0), 0);
    assert_int_equal(hk_trust_certreq_hashes(NULL, &b), 0);
    assert_int_equal(b.len, 0);
    hk_cbb_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cred_from_pem),      cmocka_unit_test(cred_from_der),
        cmocka_unit_test(cred_bad_files),     cmocka_unit_test(trust_from_files),
        cmocka_unit_test(chain_verification), cmocka_unit_test(check_time),
        cmocka_unit_test(id_matching),        cmocka_unit_test(certreq_hashes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
