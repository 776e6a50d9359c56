#include "crypto/x509.h"

#include "common/fmt.h"
#include "common/err.h"

#include <openssl/bio.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 7296 3.5 ID types matched here (crypto sits below the codec, so not its enum). */
#define ID_IPV4_ADDR   1
#define ID_FQDN        2
#define ID_RFC822_ADDR 3
#define ID_IPV6_ADDR   5
#define ID_DER_ASN1_DN 9
#define FILE_MAX       (1u << 20) /* a certificate or key file larger than this is refused */
#define VERIFY_DEPTH   8          /* intermediates between end entity and anchor */
#define NAME_MAX_PRINT 256

/* The reason OpenSSL gave for its last error, for messages; clears the error queue. */
static const char *ossl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    ERR_clear_error();
    return r ? r : "malformed";
}

static int read_file(const char *path, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return hk_errf(HK_E_CONFIG, err, errlen, "cannot open %s: %s", path, strerror(errno));
    uint8_t *b = malloc(FILE_MAX + 1);
    if (!b) {
        fclose(f);
        return HK_E_NOMEM;
    }
    size_t n = fread(b, 1, FILE_MAX + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n == 0 || n > FILE_MAX) {
        free(b);
        return hk_errf(HK_E_CONFIG, err, errlen, "%s: %s", path,
                       bad ? "read error"
                       : n ? "file too large"
                           : "empty file");
    }
    *buf = b;
    *len = n;
    return HK_OK;
}

static bool is_pem(const uint8_t *buf, size_t len)
{
    static const char tag[] = "-----BEGIN ";
    for (size_t i = 0; i + sizeof(tag) - 1 <= len; i++)
        if (memcmp(buf + i, tag, sizeof(tag) - 1) == 0)
            return true;
    return false;
}

X509 *hk_cert_from_der(const uint8_t *der, size_t len)
{
    if (!der || !len || len > FILE_MAX)
        return NULL;
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x && p != der + len) { /* trailing octets: not one certificate */
        X509_free(x);
        x = NULL;
    }
    if (!x)
        ERR_clear_error();
    return x;
}

/* Appends every certificate of a PEM or DER file to out. */
static int load_certs(const char *path, STACK_OF(X509) * out, char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len, found = 0;
    int rc = read_file(path, &buf, &len, err, errlen);
    if (rc)
        return rc;
    if (is_pem(buf, len)) {
        BIO *bio = BIO_new_mem_buf(buf, (int)len);
        if (!bio)
            rc = HK_E_NOMEM;
        while (!rc) {
            X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
            if (!x) {
                unsigned long e = ERR_peek_last_error();
                if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
                    ERR_clear_error(); /* no more certificates */
                else
                    rc = hk_errf(HK_E_CONFIG, err, errlen, "%s: bad certificate %zu: %s", path,
                                 found + 1, ossl_reason());
                break;
            }
            if (found == HK_X509_MAX_CERTS || !sk_X509_push(out, x)) {
                X509_free(x);
                rc = found == HK_X509_MAX_CERTS
                         ? hk_errf(HK_E_CONFIG, err, errlen, "%s: more than %d certificates", path,
                                   HK_X509_MAX_CERTS)
                         : HK_E_NOMEM;
                break;
            }
            found++;
        }
        BIO_free(bio);
    } else {
        const unsigned char *p = buf, *end = buf + len;
        while (!rc && p < end) { /* DER: one or more certificates back to back */
            X509 *x = d2i_X509(NULL, &p, (long)(end - p));
            if (!x) {
                rc = hk_errf(HK_E_CONFIG, err, errlen, "%s: not a PEM or DER certificate (%s)",
                             path, ossl_reason());
            } else if (found == HK_X509_MAX_CERTS || !sk_X509_push(out, x)) {
                X509_free(x);
                rc = found == HK_X509_MAX_CERTS
                         ? hk_errf(HK_E_CONFIG, err, errlen, "%s: more than %d certificates", path,
                                   HK_X509_MAX_CERTS)
                         : HK_E_NOMEM;
            } else {
                found++;
            }
        }
    }
    free(buf);
    if (!rc && !found)
        rc = hk_errf(HK_E_CONFIG, err, errlen, "%s: no certificate found", path);
    return rc;
}

static bool key_supported(EVP_PKEY *k, char *why, size_t wlen)
{
    char group[64];
    size_t n;
    if (EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_is_a(k, "RSA-PSS")) {
        if (EVP_PKEY_get_bits(k) >= 2048)
            return true;
        snprintf(why, wlen, "RSA key of %d bits (2048 at least)", EVP_PKEY_get_bits(k));
        return false;
    }
    if (EVP_PKEY_is_a(k, "EC")) {
        if (EVP_PKEY_get_group_name(k, group, sizeof(group), &n) &&
            (!strcmp(group, "prime256v1") || !strcmp(group, "P-256") ||
             !strcmp(group, "secp384r1") || !strcmp(group, "P-384") ||
             !strcmp(group, "secp521r1") || !strcmp(group, "P-521")))
            return true;
        hk_fmt(why, wlen, "EC key on curve %s (P-256, P-384 or P-521 only)",
               EVP_PKEY_get_group_name(k, group, sizeof(group), &n) ? group : "?");
        return false;
    }
    if (EVP_PKEY_is_a(k, "ED25519"))
        return true;
    snprintf(why, wlen, "%s key (RSA, ECDSA or Ed25519 only)", EVP_PKEY_get0_type_name(k));
    return false;
}

static int load_key(const char *path, EVP_PKEY **out, char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len;
    int rc = read_file(path, &buf, &len, err, errlen);
    if (rc)
        return rc;
    EVP_PKEY *k = NULL;
    OSSL_DECODER_CTX *dc =
        OSSL_DECODER_CTX_new_for_pkey(&k, NULL, NULL, NULL, EVP_PKEY_KEYPAIR, NULL, NULL);
    const unsigned char *p = buf;
    size_t left = len;
    if (!dc) {
        rc = HK_E_NOMEM;
    } else if (!OSSL_DECODER_from_data(dc, &p, &left) || !k) {
        bool enc = memmem(buf, len, "ENCRYPTED", 9) != NULL;
        ERR_clear_error();
        rc = hk_errf(HK_E_CONFIG, err, errlen, "%s: %s", path,
                     enc ? "encrypted private keys are not supported"
                         : "not a PEM or DER private key");
    }
    OSSL_DECODER_CTX_free(dc);
    OPENSSL_cleanse(buf, len);
    free(buf);
    if (!rc)
        *out = k;
    else
        EVP_PKEY_free(k);
    return rc;
}

int hk_cred_load(const char *cert, const char *key, char *const *chain, size_t nchain,
                 struct hk_cred **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!cert || !key || (nchain && !chain))
        return hk_errf(HK_E_INVALID, err, errlen, "certificate and private key files are required");
    struct hk_cred *c = calloc(1, sizeof(*c));
    STACK_OF(X509) *certs = sk_X509_new_null();
    if (!c || !certs || !(c->chain = sk_X509_new_null())) {
        free(c);
        sk_X509_free(certs);
        return HK_E_NOMEM;
    }
    int rc = load_certs(cert, certs, err, errlen);
    if (!rc) {
        /* The first certificate is ours; any others in the file are intermediates. */
        c->cert = sk_X509_shift(certs);
        while (!rc && sk_X509_num(certs) > 0) {
            X509 *x = sk_X509_shift(certs);
            if (!sk_X509_push(c->chain, x)) {
                X509_free(x);
                rc = HK_E_NOMEM;
            }
        }
    }
    for (size_t i = 0; !rc && i < nchain; i++)
        rc = load_certs(chain[i], c->chain, err, errlen);
    if (!rc && sk_X509_num(c->chain) > HK_X509_MAX_CERTS)
        rc = hk_errf(HK_E_CONFIG, err, errlen, "more than %d intermediate certificates",
                     HK_X509_MAX_CERTS);
    if (!rc)
        rc = load_key(key, &c->key, err, errlen);
    char why[96];
    if (!rc && !key_supported(c->key, why, sizeof(why)))
        rc = hk_errf(HK_E_UNSUPPORTED, err, errlen, "%s: %s not supported", key, why);
    if (!rc && EVP_PKEY_eq(X509_get0_pubkey(c->cert), c->key) != 1) {
        ERR_clear_error();
        rc = hk_errf(HK_E_CONFIG, err, errlen, "%s: private key does not match certificate %s", key,
                     cert);
    }
    sk_X509_pop_free(certs, X509_free);
    if (rc) {
        hk_cred_free(c);
        return rc;
    }
    *out = c;
    return HK_OK;
}

void hk_cred_free(struct hk_cred *cred)
{
    if (!cred)
        return;
    X509_free(cred->cert);
    EVP_PKEY_free(cred->key); /* OpenSSL clears private key material when freeing it */
    sk_X509_pop_free(cred->chain, X509_free);
    free(cred);
}

int hk_cert_load(const char *path, X509 **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!path)
        return hk_errf(HK_E_INVALID, err, errlen, "no certificate file");
    STACK_OF(X509) *certs = sk_X509_new_null();
    if (!certs)
        return HK_E_NOMEM;
    int rc = load_certs(path, certs, err, errlen);
    if (!rc && sk_X509_num(certs) != 1)
        rc = hk_errf(HK_E_CONFIG, err, errlen, "%s: %d certificates where one is expected", path,
                     sk_X509_num(certs));
    if (!rc)
        *out = sk_X509_shift(certs);
    sk_X509_pop_free(certs, X509_free);
    return rc;
}

/* ---- trust anchors ---- */

static int spki_sha1(X509 *x, uint8_t out[HK_CERTREQ_HASH_LEN])
{
    unsigned char *der = NULL;
    size_t mdlen = 0;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    if (n <= 0)
        return HK_E_CRYPTO;
    /* RFC 7296 3.7: SHA-1 of the DER SubjectPublicKeyInfo of each trust anchor. */
    int ok = EVP_Q_digest(NULL, "SHA1", NULL, der, (size_t)n, out, &mdlen);
    OPENSSL_free(der);
    return ok && mdlen == HK_CERTREQ_HASH_LEN ? HK_OK : HK_E_CRYPTO;
}

/* Takes ownership of anchors (freed on failure too). */
static int trust_build(STACK_OF(X509) * anchors, struct hk_trust **out, char *err, size_t errlen)
{
    size_t n = (size_t)sk_X509_num(anchors);
    struct hk_trust *t = calloc(1, sizeof(*t));
    if (!t) {
        sk_X509_pop_free(anchors, X509_free);
        return HK_E_NOMEM;
    }
    t->anchors = anchors;
    if (n > HK_X509_MAX_CERTS) {
        hk_trust_free(t);
        return hk_errf(HK_E_CONFIG, err, errlen, "more than %d trust anchors", HK_X509_MAX_CERTS);
    }
    if (!(t->store = X509_STORE_new()) || !(t->spki_sha1 = malloc(n * HK_CERTREQ_HASH_LEN + 1))) {
        hk_trust_free(t);
        return HK_E_NOMEM;
    }
    /* A configured intermediate is trusted as an anchor; nothing comes from system paths. */
    X509_STORE_set_flags(t->store, X509_V_FLAG_PARTIAL_CHAIN);
    for (size_t i = 0; i < n; i++) {
        X509 *x = sk_X509_value(anchors, (int)i);
        int rc = spki_sha1(x, t->spki_sha1 + i * HK_CERTREQ_HASH_LEN);
        if (rc || !X509_STORE_add_cert(t->store, x)) {
            char name[NAME_MAX_PRINT];
            ERR_clear_error();
            hk_trust_free(t);
            return hk_errf(HK_E_CONFIG, err, errlen, "cannot use %s as a trust anchor",
                           hk_cert_subject_str(x, name, sizeof(name)));
        }
    }
    *out = t;
    return HK_OK;
}

int hk_trust_load(char *const *files, size_t n, struct hk_trust **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!n || !files)
        return hk_errf(HK_E_CONFIG, err, errlen, "no trust anchor files");
    STACK_OF(X509) *anchors = sk_X509_new_null();
    if (!anchors)
        return HK_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        int rc = load_certs(files[i], anchors, err, errlen);
        if (rc) {
            sk_X509_pop_free(anchors, X509_free);
            return rc;
        }
    }
    return trust_build(anchors, out, err, errlen);
}

int hk_trust_from_certs(X509 *const *certs, size_t n, struct hk_trust **out, char *err,
                        size_t errlen)
{
    *out = NULL;
    STACK_OF(X509) *anchors = sk_X509_new_null();
    if (!anchors)
        return HK_E_NOMEM;
    for (size_t i = 0; i < n; i++) {
        if (!certs[i] || !X509_up_ref(certs[i]))
            goto fail;
        if (!sk_X509_push(anchors, certs[i])) {
            X509_free(certs[i]);
            goto fail;
        }
    }
    return trust_build(anchors, out, err, errlen);
fail:
    sk_X509_pop_free(anchors, X509_free);
    return HK_E_NOMEM;
}

void hk_trust_free(struct hk_trust *t)
{
    if (!t)
        return;
    X509_STORE_free(t->store);
    sk_X509_pop_free(t->anchors, X509_free);
    free(t->spki_sha1);
    free(t);
}

size_t hk_trust_count(const struct hk_trust *t)
{
    return t && t->anchors ? (size_t)sk_X509_num(t->anchors) : 0;
}

int hk_trust_certreq_hashes(const struct hk_trust *t, struct hk_cbb *out)
{
    size_t n = hk_trust_count(t);
    if (n)
        hk_cbb_add_bytes(out, t->spki_sha1, n * HK_CERTREQ_HASH_LEN);
    return hk_cbb_err(out);
}

/* ---- names, times and messages ---- */

static const char *name_str(const X509_NAME *name, char *buf, size_t len)
{
    BIO *b = BIO_new(BIO_s_mem());
    if (len)
        buf[0] = '\0';
    if (b && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0) {
        char *p;
        long n = BIO_get_mem_data(b, &p);
        if (n > 0 && len)
            snprintf(buf, len, "%.*s", (int)n, p);
    }
    BIO_free(b);
    if (len && !buf[0])
        snprintf(buf, len, "(empty DN)");
    return buf;
}

const char *hk_cert_subject_str(X509 *cert, char *buf, size_t len)
{
    return name_str(X509_get_subject_name(cert), buf, len);
}

static const char *time_str(const ASN1_TIME *t, char *buf, size_t len)
{
    BIO *b = BIO_new(BIO_s_mem());
    snprintf(buf, len, "?");
    if (b && ASN1_TIME_print(b, t) > 0) {
        char *p;
        long n = BIO_get_mem_data(b, &p);
        if (n > 0)
            snprintf(buf, len, "%.*s", (int)n, p);
    }
    BIO_free(b);
    return buf;
}

int hk_cert_check_time(X509 *cert, time_t now, char *err, size_t errlen)
{
    char name[NAME_MAX_PRINT], when[40];
    time_t t = now ? now : time(NULL);
    const ASN1_TIME *nb = X509_get0_notBefore(cert), *na = X509_get0_notAfter(cert);
    int b = X509_cmp_time(nb, &t), a = X509_cmp_time(na, &t);
    if (b == 0 || a == 0) {
        ERR_clear_error();
        return hk_errf(HK_E_AUTH, err, errlen, "certificate %s has a malformed validity period",
                       hk_cert_subject_str(cert, name, sizeof(name)));
    }
    if (b > 0)
        return hk_errf(HK_E_AUTH, err, errlen, "certificate %s not valid: not yet valid, from %s",
                       hk_cert_subject_str(cert, name, sizeof(name)),
                       time_str(nb, when, sizeof(when)));
    if (a < 0)
        return hk_errf(HK_E_AUTH, err, errlen, "certificate %s not valid: expired on %s",
                       hk_cert_subject_str(cert, name, sizeof(name)),
                       time_str(na, when, sizeof(when)));
    return HK_OK;
}

/* The reason X509_verify_cert gave, with names. */
static int verify_error(X509_STORE_CTX *ctx, X509 *leaf, char *err, size_t errlen)
{
    int e = X509_STORE_CTX_get_error(ctx), depth = X509_STORE_CTX_get_error_depth(ctx);
    X509 *cur = X509_STORE_CTX_get_current_cert(ctx);
    char name[NAME_MAX_PRINT], issuer[NAME_MAX_PRINT], when[40];
    if (!cur)
        cur = leaf;
    hk_cert_subject_str(cur, name, sizeof(name));
    name_str(X509_get_issuer_name(cur), issuer, sizeof(issuer));
    ERR_clear_error();
    switch (e) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return hk_errf(HK_E_AUTH, err, errlen, "certificate %s not valid: expired on %s", name,
                       time_str(X509_get0_notAfter(cur), when, sizeof(when)));
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return hk_errf(HK_E_AUTH, err, errlen, "certificate %s not valid: not yet valid, from %s",
                       name, time_str(X509_get0_notBefore(cur), when, sizeof(when)));
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        return hk_errf(HK_E_AUTH, err, errlen,
                       "certificate %s: no trust anchor for issuer %s (untrusted CA, or an "
                       "intermediate certificate is missing)",
                       name, issuer);
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
        return hk_errf(HK_E_AUTH, err, errlen,
                       "certificate %s is self-signed and not a trust anchor", name);
    default:
        return hk_errf(HK_E_AUTH, err, errlen, "certificate %s (chain depth %d) not valid: %s",
                       name, depth, X509_verify_cert_error_string(e));
    }
}

int hk_cert_verify(const struct hk_trust *t, const uint8_t *der, size_t len,
                   const struct hk_der_view *inter, size_t ninter, time_t now, X509 **leaf_out,
                   char *err, size_t errlen)
{
    if (leaf_out)
        *leaf_out = NULL;
    if (!t || !t->store)
        return hk_errf(HK_E_INVALID, err, errlen, "no trust anchors");
    if (ninter > HK_X509_MAX_CERTS)
        return hk_errf(HK_E_AUTH, err, errlen, "too many intermediate certificates (%zu > %d)",
                       ninter, HK_X509_MAX_CERTS);
    X509 *leaf = hk_cert_from_der(der, len);
    if (!leaf)
        return hk_errf(HK_E_SYNTAX, err, errlen,
                       "end-entity certificate (%zu octets) is not a DER X.509 certificate", len);
    int rc = HK_OK;
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (!untrusted || !ctx)
        rc = HK_E_NOMEM;
    for (size_t i = 0; !rc && i < ninter; i++) {
        X509 *x = hk_cert_from_der(inter[i].p, inter[i].len);
        if (!x)
            rc = hk_errf(HK_E_SYNTAX, err, errlen,
                         "intermediate certificate %zu (%zu octets) is not a DER X.509 certificate",
                         i + 1, inter[i].len);
        else if (!sk_X509_push(untrusted, x)) {
            X509_free(x);
            rc = HK_E_NOMEM;
        }
    }
    if (!rc && !X509_STORE_CTX_init(ctx, t->store, leaf, untrusted))
        rc = HK_E_NOMEM;
    if (!rc) {
        X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
        X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY);
        X509_VERIFY_PARAM_set_depth(param, VERIFY_DEPTH);
        if (now)
            X509_VERIFY_PARAM_set_time(param, now);
        if (X509_verify_cert(ctx) != 1)
            rc = verify_error(ctx, leaf, err, errlen);
    }
    X509_STORE_CTX_free(ctx);
    sk_X509_pop_free(untrusted, X509_free);
    ERR_clear_error();
    if (!rc && leaf_out)
        *leaf_out = leaf;
    else
        X509_free(leaf);
    return rc;
}

/* ---- identities ---- */

static bool ascii_caseeq(const uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z')
            x = (uint8_t)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (uint8_t)(y + 32);
        if (x != y)
            return false;
    }
    return true;
}

/* rfc822Name: the local part as is, the domain without letter case (RFC 5280 4.2.1.6). */
static bool email_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    const uint8_t *at = memrchr(a, '@', alen);
    if (alen != blen || !at)
        return false;
    size_t local = (size_t)(at - a);
    return memcmp(a, b, local + 1) == 0 && ascii_caseeq(a + local, b + local, alen - local);
}

static bool dn_matches(X509 *cert, const uint8_t *data, size_t len)
{
    const X509_NAME *subj = X509_get_subject_name(cert);
    const unsigned char *enc;
    size_t enclen;
    if (X509_NAME_entry_count(subj) == 0 || !X509_NAME_get0_der(subj, &enc, &enclen))
        return false;
    if (enclen == len && memcmp(enc, data, len) == 0)
        return true;
    /* Same name in other string types or letter case: OpenSSL's canonical form. */
    const unsigned char *p = data;
    X509_NAME *id = d2i_X509_NAME(NULL, &p, (long)len);
    bool eq =
        id && p == data + len && X509_NAME_entry_count(id) > 0 && X509_NAME_cmp(id, subj) == 0;
    X509_NAME_free(id);
    ERR_clear_error();
    return eq;
}

static bool san_matches(X509 *cert, uint8_t id_type, const uint8_t *data, size_t len)
{
    int crit = -1;
    GENERAL_NAMES *gens = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit, NULL);
    bool found = false;
    if (!gens) {
        ERR_clear_error();
        return false;
    }
    for (int i = 0; !found && i < sk_GENERAL_NAME_num(gens); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const ASN1_STRING *s;
        switch (id_type) {
        case ID_FQDN:
            if (g->type != GEN_DNS)
                continue;
            s = g->d.dNSName;
            found = (size_t)ASN1_STRING_length(s) == len &&
                    ascii_caseeq(ASN1_STRING_get0_data(s), data, len);
            break;
        case ID_RFC822_ADDR:
            if (g->type != GEN_EMAIL)
                continue;
            s = g->d.rfc822Name;
            found = email_eq(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s), data, len);
            break;
        case ID_IPV4_ADDR:
        case ID_IPV6_ADDR:
            if (g->type != GEN_IPADD)
                continue;
            s = g->d.iPAddress;
            found = (size_t)ASN1_STRING_length(s) == len &&
                    memcmp(ASN1_STRING_get0_data(s), data, len) == 0;
            break;
        }
    }
    GENERAL_NAMES_free(gens);
    return found;
}

bool hk_cert_matches_id(X509 *cert, uint8_t id_type, const uint8_t *data, size_t len)
{
    if (!cert || !data || !len)
        return false;
    switch (id_type) {
    case ID_DER_ASN1_DN:
        return dn_matches(cert, data, len);
    case ID_IPV4_ADDR:
        return len == 4 && san_matches(cert, id_type, data, len);
    case ID_IPV6_ADDR:
        return len == 16 && san_matches(cert, id_type, data, len);
    case ID_FQDN:
    case ID_RFC822_ADDR:
        return san_matches(cert, id_type, data, len);
    default:
        return false; /* KEY_ID, DER_ASN1_GN: not bound to a certificate here */
    }
}

int hk_cert_subject_der(X509 *cert, uint8_t **der, size_t *len)
{
    const unsigned char *enc;
    size_t n;
    *der = NULL;
    *len = 0;
    if (!cert)
        return HK_E_INVALID;
    if (!X509_NAME_get0_der(X509_get_subject_name(cert), &enc, &n) || !n)
        return HK_E_CRYPTO;
    if (!(*der = malloc(n)))
        return HK_E_NOMEM;
    memcpy(*der, enc, n);
    *len = n;
    return HK_OK;
}

/* ---- certificate policy ---- */

int hk_cert_check_eku(X509 *cert, unsigned allowed, char *err, size_t errlen)
{
    static const struct {
        int nid;
        unsigned bit;
    } known[] = {
        {NID_server_auth, HK_X509_EKU_SERVER_AUTH},
        {NID_client_auth, HK_X509_EKU_CLIENT_AUTH},
        {NID_ipsec_IKE, HK_X509_EKU_IPSEC_IKE},
        {NID_anyExtendedKeyUsage, HK_X509_EKU_ANY},
    };
    char name[NAME_MAX_PRINT], list[160] = "", oid[64];
    int crit = -1;
    EXTENDED_KEY_USAGE *eku = X509_get_ext_d2i(cert, NID_ext_key_usage, &crit, NULL);
    if (!eku) {
        ERR_clear_error();
        if (crit == -1)
            return HK_OK; /* no extendedKeyUsage: any purpose (RFC 5280 4.2.1.12) */
        return hk_errf(HK_E_AUTH, err, errlen, "certificate %s: malformed extended key usage",
                       hk_cert_subject_str(cert, name, sizeof(name)));
    }
    bool ok = false;
    size_t used = 0;
    for (int i = 0; i < sk_ASN1_OBJECT_num(eku) && !ok; i++) {
        const ASN1_OBJECT *o = sk_ASN1_OBJECT_value(eku, i);
        for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
            if (OBJ_obj2nid(o) == known[k].nid && (allowed & known[k].bit))
                ok = true;
        if (OBJ_obj2txt(oid, sizeof(oid), o, 0) > 0 && used < sizeof(list)) {
            int n = snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "", oid);
            used += n > 0 ? (size_t)n : 0;
        }
    }
    EXTENDED_KEY_USAGE_free(eku);
    if (ok)
        return HK_OK;
    return hk_errf(HK_E_AUTH, err, errlen,
                   "certificate %s is not for IKE: its extended key usage (%s) has none of the "
                   "purposes accepted (remote.eku)",
                   hk_cert_subject_str(cert, name, sizeof(name)), list[0] ? list : "empty");
}

int hk_cert_check_key(X509 *cert, unsigned min_rsa, unsigned min_ec, char *err, size_t errlen)
{
    char name[NAME_MAX_PRINT];
    EVP_PKEY *k = X509_get0_pubkey(cert);
    if (!k) {
        ERR_clear_error();
        return hk_errf(HK_E_AUTH, err, errlen, "certificate %s: unusable public key",
                       hk_cert_subject_str(cert, name, sizeof(name)));
    }
    int bits = EVP_PKEY_get_bits(k);
    bool rsa = EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_is_a(k, "RSA-PSS");
    bool ec = EVP_PKEY_is_a(k, "EC") || EVP_PKEY_is_a(k, "ED25519") || EVP_PKEY_is_a(k, "ED448");
    if (!rsa && !ec)
        return hk_errf(HK_E_AUTH, err, errlen, "certificate %s: %s keys are not accepted",
                       hk_cert_subject_str(cert, name, sizeof(name)), EVP_PKEY_get0_type_name(k));
    unsigned min = rsa ? min_rsa : min_ec;
    if (bits > 0 && (unsigned)bits >= min)
        return HK_OK;
    return hk_errf(HK_E_AUTH, err, errlen,
                   "certificate %s: %s key of %d bits, %u at least required (remote.%s)",
                   hk_cert_subject_str(cert, name, sizeof(name)), rsa ? "RSA" : "EC", bits, min,
                   rsa ? "min_rsa_bits" : "min_ec_bits");
}
