#include "crypto/sig.h"
#include "common/cbs.h"
#include "common/diag.h"
#include "common/err.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <string.h>

/* RFC 7296 3.8 authentication methods handled here. */
#define METHOD_RSA_SIG   1
#define METHOD_ECDSA_256 9
#define METHOD_ECDSA_384 10
#define METHOD_ECDSA_521 11

struct sig_alg {
    enum hk_sig_kind kind;
    const EVP_MD *md;   /* NULL for Ed25519 */
    const EVP_MD *mgf1; /* PSS only */
    int saltlen;        /* PSS only */
};

/*
 * The AlgorithmIdentifiers we emit, in DER as RFC 7427 3 asks. ecdsa-with-SHA* are RFC 7427
 * A.3.2-A.3.4 (parameters absent, RFC 5758 3.2); id-Ed25519 has absent parameters (RFC 8410
 * 3). RSASSA-PSS is RFC 7427 A.4.3 without its trailerField [3] INTEGER 1: that is the
 * DEFAULT (RFC 4055 3.1), and DER leaves a DEFAULT value out (X.690 11.5), so A.4.3 as
 * printed (72 octets) is not DER and peers that compare octets (RFC 7427 1 allows it) refuse
 * it. The SHA-384/512 forms use id-sha384/id-sha512 (hash parameters NULL, RFC 4055 2.1) and
 * a salt of the hash length.
 */
static const uint8_t aid_ecdsa_sha256[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                           0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}; /* A.3.2 */
static const uint8_t aid_ecdsa_sha384[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                           0x48, 0xce, 0x3d, 0x04, 0x03, 0x03}; /* A.3.3 */
static const uint8_t aid_ecdsa_sha512[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                           0x48, 0xce, 0x3d, 0x04, 0x03, 0x04}; /* A.3.4 */
/* SEQUENCE { id-RSASSA-PSS, RSASSA-PSS-params { [0] hash, [1] MGF1(hash), [2] salt } } with the
 * hash OID's last octet h (1: SHA-256, 2: SHA-384, 3: SHA-512) and the salt length. */
#define PSS_AID(h, salt)                                                                           \
    {                                                                                              \
        0x30, 0x41, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, 0x30, 0x34,  \
            0xa0, 0x0f, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,    \
            (h), 0x05, 0x00, 0xa1, 0x1c, 0x30, 0x1a, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,     \
            0x0d, 0x01, 0x01, 0x08, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,    \
            0x04, 0x02, (h), 0x05, 0x00, 0xa2, 0x03, 0x02, 0x01, (salt)                            \
    }
static const uint8_t aid_pss_sha256[] = PSS_AID(0x01, 0x20); /* A.4.3, DER */
static const uint8_t aid_pss_sha384[] = PSS_AID(0x02, 0x30);
static const uint8_t aid_pss_sha512[] = PSS_AID(0x03, 0x40);
static const uint8_t aid_ed25519[] = {0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70};

/* OID contents octets recognised when verifying. */
static const uint8_t oid_rsa_sha256[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
static const uint8_t oid_rsa_sha384[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c};
static const uint8_t oid_rsa_sha512[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d};
static const uint8_t oid_rsa_pss[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a};
static const uint8_t oid_mgf1[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08};
static const uint8_t oid_ecdsa_sha256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t oid_ecdsa_sha384[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
static const uint8_t oid_ecdsa_sha512[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04};
static const uint8_t oid_ed25519[] = {0x2b, 0x65, 0x70};
static const uint8_t oid_sha256[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
static const uint8_t oid_sha384[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02};
static const uint8_t oid_sha512[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03};

#define DER_INT    0x02
#define DER_NULL   0x05
#define DER_OID    0x06
#define DER_SEQ    0x30
#define DER_CTX(n) (0xa0 | (n)) /* [n] EXPLICIT, constructed */

/* ---- the AlgorithmIdentifier parser: a minimal DER reader over hk_cbs, one TLV at a time,
 * nothing read past its bounds; every refusal says what and where in d ---- */

static int der_peek(const struct hk_cbs *in, uint8_t tag)
{
    uint8_t t;
    return hk_cbs_peek_u8(in, &t) == 0 && t == tag;
}

/* Reads one element (what: its name in the diagnostic) with the given tag; definite, minimal
 * length (X.690 10.1). */
static int der_get(struct hk_cbs *in, uint8_t tag, struct hk_cbs *body, struct hk_diag *d,
                   const char *what)
{
    struct hk_cbs save = *in;
    uint8_t t, l0, b;
    size_t len;
    if (hk_cbs_get_u8(in, &t)) {
        hk_diag_set(d, "AlgorithmIdentifier: %s missing", what);
        goto bad;
    }
    if (t != tag) {
        hk_diag_set(d, "AlgorithmIdentifier: %s has tag 0x%02x, not 0x%02x", what, t, tag);
        goto bad;
    }
    if (hk_cbs_get_u8(in, &l0)) {
        hk_diag_set(d, "AlgorithmIdentifier: %s without a length", what);
        goto bad;
    }
    len = l0;
    if (l0 & 0x80) {
        size_t n = l0 & 0x7f;
        if (n == 0 || n > 2) {
            hk_diag_set(d, "AlgorithmIdentifier: %s: %s length", what,
                        n ? "oversized" : "indefinite");
            goto bad;
        }
        len = 0;
        for (size_t i = 0; i < n; i++) {
            if (hk_cbs_get_u8(in, &b)) {
                hk_diag_set(d, "AlgorithmIdentifier: %s: length cut short", what);
                goto bad;
            }
            len = len << 8 | b;
            if (i == 0 && b == 0)
                len = 0; /* a leading zero octet: not minimal either */
        }
        if (len < 0x80) {
            hk_diag_set(d, "AlgorithmIdentifier: %s: length not in minimal form", what);
            goto bad;
        }
    }
    if (hk_cbs_get_sub(in, body, len)) {
        hk_diag_set(d, "AlgorithmIdentifier: %s: length %zu > %zu octets left", what, len,
                    hk_cbs_len(in));
        goto bad;
    }
    return HK_OK;
bad:
    *in = save;
    return HK_E_SYNTAX;
}

/* Nothing may follow the last element of what. */
static int der_end(const struct hk_cbs *in, struct hk_diag *d, const char *what)
{
    if (!hk_cbs_len(in))
        return HK_OK;
    hk_diag_set(d, "AlgorithmIdentifier: %zu octet(s) after the end of %s", hk_cbs_len(in), what);
    return HK_E_SYNTAX;
}

static int oid_is(const struct hk_cbs *oid, const uint8_t *want, size_t len)
{
    return hk_cbs_len(oid) == len && memcmp(hk_cbs_data(oid), want, len) == 0;
}

/* A small non-negative INTEGER (PSS salt length, trailer field). */
static int der_get_small_uint(struct hk_cbs *in, int *out, struct hk_diag *d, const char *what)
{
    struct hk_cbs v;
    uint8_t b;
    if (der_get(in, DER_INT, &v, d, what))
        return HK_E_SYNTAX;
    const uint8_t *p = hk_cbs_data(&v);
    size_t n = hk_cbs_len(&v);
    if (n == 0 || n > 3 || p[0] & 0x80 || (n > 1 && p[0] == 0 && !(p[1] & 0x80))) {
        hk_diag_set(d, "AlgorithmIdentifier: %s: not a small non-negative DER INTEGER (%zu octets)",
                    what, n);
        return HK_E_SYNTAX;
    }
    *out = 0;
    while (hk_cbs_get_u8(&v, &b) == 0)
        *out = *out << 8 | b;
    return HK_OK;
}

/* NULL or absent parameters (RFC 4055 2.1 hashes, RFC 4055 5 PKCS#1 v1.5). */
static int params_null_or_absent(struct hk_cbs *rest, struct hk_diag *d, const char *what)
{
    struct hk_cbs n;
    if (hk_cbs_len(rest) == 0)
        return HK_OK;
    if (der_get(rest, DER_NULL, &n, d, what))
        return HK_E_SYNTAX;
    if (hk_cbs_len(&n)) {
        hk_diag_set(d, "AlgorithmIdentifier: %s: NULL with %zu octets of contents", what,
                    hk_cbs_len(&n));
        return HK_E_SYNTAX;
    }
    return der_end(rest, d, what);
}

/* A SHA-2 hash AlgorithmIdentifier; SHA-1 and others are HK_E_UNSUPPORTED. */
static int parse_hash_aid(struct hk_cbs *in, uint16_t *hash, struct hk_diag *d, const char *what)
{
    struct hk_cbs seq, oid;
    if (der_get(in, DER_SEQ, &seq, d, what) || der_get(&seq, DER_OID, &oid, d, what) ||
        params_null_or_absent(&seq, d, what))
        return HK_E_SYNTAX;
    if (oid_is(&oid, oid_sha256, sizeof(oid_sha256)))
        *hash = HK_SIG_HASH_SHA2_256;
    else if (oid_is(&oid, oid_sha384, sizeof(oid_sha384)))
        *hash = HK_SIG_HASH_SHA2_384;
    else if (oid_is(&oid, oid_sha512, sizeof(oid_sha512)))
        *hash = HK_SIG_HASH_SHA2_512;
    else {
        hk_diag_set(d, "AlgorithmIdentifier: %s is not SHA-256, SHA-384 or SHA-512", what);
        return HK_E_UNSUPPORTED;
    }
    return HK_OK;
}

/* RSASSA-PSS-params (RFC 4055 3.1); the SHA-1 defaults are not accepted. The trailerField may
 * be spelled out (RFC 7427 A.4.3 as printed) or left out (DER). */
static int parse_pss_params(struct hk_cbs *rest, struct hk_sig_aid *out, struct hk_diag *d)
{
    struct hk_cbs p, f, mgf, oid;
    int rc, trailer = 1;
    out->salt_len = 20;
    if (der_get(rest, DER_SEQ, &p, d, "RSASSA-PSS-params") ||
        der_end(rest, d, "the RSASSA-PSS AlgorithmIdentifier"))
        return HK_E_SYNTAX;
    /* An absent [0] or [1] means the SHA-1 defaults (RFC 7427 A.4.1, A.4.2): not accepted. */
    if (!der_peek(&p, DER_CTX(0))) {
        hk_diag_set(d, "AlgorithmIdentifier: RSASSA-PSS with the default hash SHA-1");
        return HK_E_UNSUPPORTED;
    }
    if (der_get(&p, DER_CTX(0), &f, d, "PSS [0]"))
        return HK_E_SYNTAX;
    if ((rc = parse_hash_aid(&f, &out->hash, d, "PSS hashAlgorithm")))
        return rc;
    if (der_end(&f, d, "PSS [0]"))
        return HK_E_SYNTAX;
    if (!der_peek(&p, DER_CTX(1))) {
        hk_diag_set(d, "AlgorithmIdentifier: RSASSA-PSS with the default MGF1 with SHA-1");
        return HK_E_UNSUPPORTED;
    }
    if (der_get(&p, DER_CTX(1), &f, d, "PSS [1]") ||
        der_get(&f, DER_SEQ, &mgf, d, "PSS maskGenAlgorithm") || der_end(&f, d, "PSS [1]") ||
        der_get(&mgf, DER_OID, &oid, d, "PSS maskGenAlgorithm OID"))
        return HK_E_SYNTAX;
    if (!oid_is(&oid, oid_mgf1, sizeof(oid_mgf1))) {
        hk_diag_set(d, "AlgorithmIdentifier: RSASSA-PSS mask generation is not MGF1");
        return HK_E_UNSUPPORTED;
    }
    if ((rc = parse_hash_aid(&mgf, &out->mgf1_hash, d, "MGF1 hash")))
        return rc;
    if (der_end(&mgf, d, "PSS maskGenAlgorithm"))
        return HK_E_SYNTAX;
    if (der_peek(&p, DER_CTX(2)) &&
        (der_get(&p, DER_CTX(2), &f, d, "PSS [2]") ||
         der_get_small_uint(&f, &out->salt_len, d, "PSS saltLength") || der_end(&f, d, "PSS [2]")))
        return HK_E_SYNTAX;
    if (der_peek(&p, DER_CTX(3)) &&
        (der_get(&p, DER_CTX(3), &f, d, "PSS [3]") ||
         der_get_small_uint(&f, &trailer, d, "PSS trailerField") || der_end(&f, d, "PSS [3]")))
        return HK_E_SYNTAX;
    if (der_end(&p, d, "RSASSA-PSS-params"))
        return HK_E_SYNTAX;
    if (trailer != 1) { /* trailerFieldBC only (RFC 4055 3.1) */
        hk_diag_set(d, "AlgorithmIdentifier: RSASSA-PSS trailerField %d, not 1", trailer);
        return HK_E_UNSUPPORTED;
    }
    return HK_OK;
}

static int aid_parse(const uint8_t *der, size_t len, struct hk_sig_aid *out, struct hk_diag *d)
{
    struct hk_cbs aid, seq, oid;
    memset(out, 0, sizeof(*out));
    if (!der && len)
        return HK_E_INVALID;
    hk_cbs_init(&aid, der, len);
    /* RFC 7427 3: exactly one SEQUENCE filling the field. */
    if (der_get(&aid, DER_SEQ, &seq, d, "the outer SEQUENCE") ||
        der_end(&aid, d, "the AlgorithmIdentifier field") ||
        der_get(&seq, DER_OID, &oid, d, "algorithm OID"))
        return HK_E_SYNTAX;
    static const struct {
        const uint8_t *oid;
        size_t len;
        enum hk_sig_kind kind;
        uint16_t hash;
    } known[] = {
        {oid_rsa_sha256, sizeof(oid_rsa_sha256), HK_SIG_RSA_PKCS1, HK_SIG_HASH_SHA2_256},
        {oid_rsa_sha384, sizeof(oid_rsa_sha384), HK_SIG_RSA_PKCS1, HK_SIG_HASH_SHA2_384},
        {oid_rsa_sha512, sizeof(oid_rsa_sha512), HK_SIG_RSA_PKCS1, HK_SIG_HASH_SHA2_512},
        {oid_rsa_pss, sizeof(oid_rsa_pss), HK_SIG_RSA_PSS, 0},
        {oid_ecdsa_sha256, sizeof(oid_ecdsa_sha256), HK_SIG_ECDSA, HK_SIG_HASH_SHA2_256},
        {oid_ecdsa_sha384, sizeof(oid_ecdsa_sha384), HK_SIG_ECDSA, HK_SIG_HASH_SHA2_384},
        {oid_ecdsa_sha512, sizeof(oid_ecdsa_sha512), HK_SIG_ECDSA, HK_SIG_HASH_SHA2_512},
        {oid_ed25519, sizeof(oid_ed25519), HK_SIG_ED25519, HK_SIG_HASH_IDENTITY},
    };
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (!oid_is(&oid, known[i].oid, known[i].len))
            continue;
        out->kind = known[i].kind;
        out->hash = known[i].hash;
        switch (out->kind) {
        case HK_SIG_RSA_PKCS1:
            return params_null_or_absent(&seq, d, "PKCS#1 v1.5 parameters");
        case HK_SIG_RSA_PSS:
            return parse_pss_params(&seq, out, d);
        case HK_SIG_ECDSA:
        case HK_SIG_ED25519:
            /* Parameters absent (RFC 5758 3.2; RFC 8410 3). */
            return der_end(&seq, d,
                           out->kind == HK_SIG_ECDSA ? "ecdsa-with-SHA* (parameters must be absent)"
                                                     : "id-Ed25519 (parameters must be absent)");
        }
    }
    hk_diag_set(d, "AlgorithmIdentifier: signature algorithm OID of %zu octets not supported",
                hk_cbs_len(&oid));
    return HK_E_UNSUPPORTED;
}

int hk_sig_aid_parse(const uint8_t *der, size_t len, struct hk_sig_aid *out, struct hk_diag *d)
{
    int rc = aid_parse(der, len, out, d);
    if (rc)
        memset(out, 0, sizeof(*out)); /* no half-read algorithm for a caller to trust */
    return rc;
}

/* ---- signing and verifying ---- */

static int key_suits(EVP_PKEY *k, enum hk_sig_kind kind)
{
    switch (kind) {
    case HK_SIG_RSA_PKCS1:
        return EVP_PKEY_is_a(k, "RSA");
    case HK_SIG_RSA_PSS:
        return EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_is_a(k, "RSA-PSS");
    case HK_SIG_ECDSA:
        return EVP_PKEY_is_a(k, "EC");
    case HK_SIG_ED25519:
        return EVP_PKEY_is_a(k, "ED25519");
    }
    return 0;
}

static int sig_init(const struct hk_crypto *c, EVP_MD_CTX *m, EVP_PKEY *key,
                    const struct sig_alg *a, int sign)
{
    EVP_PKEY_CTX *pc = NULL;
    const char *mdname = a->md ? EVP_MD_get0_name(a->md) : NULL;
    int ok = sign ? EVP_DigestSignInit_ex(m, &pc, mdname, c->libctx, NULL, key, NULL)
                  : EVP_DigestVerifyInit_ex(m, &pc, mdname, c->libctx, NULL, key, NULL);
    if (ok && a->kind == HK_SIG_RSA_PKCS1)
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) > 0;
    if (ok && a->kind == HK_SIG_RSA_PSS)
        ok = EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) > 0 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pc, a->mgf1) > 0 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, a->saltlen) > 0;
    return ok;
}

/* Appends the raw signature of octets to out. */
static int sign_raw(const struct hk_crypto *c, EVP_PKEY *key, const struct sig_alg *a,
                    const uint8_t *octets, size_t olen, struct hk_cbb *out)
{
    int max = EVP_PKEY_get_size(key);
    size_t pos = out->len, siglen;
    uint8_t *p;
    if (max <= 0)
        return HK_E_CRYPTO;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    if (!m)
        return HK_E_NOMEM;
    int rc = hk_cbb_add_space(out, &p, (size_t)max);
    if (!rc) {
        siglen = (size_t)max;
        if (sig_init(c, m, key, a, 1) && EVP_DigestSign(m, p, &siglen, octets, olen) == 1)
            hk_cbb_truncate(out, pos + siglen);
        else
            rc = HK_E_CRYPTO;
    }
    EVP_MD_CTX_free(m);
    return rc;
}

static int verify_raw(const struct hk_crypto *c, EVP_PKEY *pub, const struct sig_alg *a,
                      const uint8_t *sig, size_t siglen, const uint8_t *octets, size_t olen)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    if (!m)
        return HK_E_NOMEM;
    int ok = sig_init(c, m, pub, a, 0) && EVP_DigestVerify(m, sig, siglen, octets, olen) == 1;
    EVP_MD_CTX_free(m);
    if (!ok)
        ERR_clear_error(); /* a bad peer signature is not our error to report later */
    return ok ? HK_OK : HK_E_AUTH;
}

static const EVP_MD *hash_md(const struct hk_crypto *c, uint16_t hash)
{
    return hash == HK_SIG_HASH_SHA2_256   ? c->sha256
           : hash == HK_SIG_HASH_SHA2_384 ? c->sha384
           : hash == HK_SIG_HASH_SHA2_512 ? c->sha512
                                          : NULL;
}

int hk_auth_sig_sign(const struct hk_crypto *c, EVP_PKEY *key, uint16_t hash, const uint8_t *octets,
                     size_t olen, struct hk_cbb *auth_data)
{
    struct sig_alg a = {0};
    const uint8_t *aid;
    size_t aidlen;
    if (!key || !octets || !olen)
        return HK_E_INVALID;
    const EVP_MD *md = hash_md(c, hash);
    if (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS")) {
        if (!md)
            return HK_E_INVALID;
        /* RFC 8247 3.2 recommends PSS; A.4.3 parameters: MGF1 same hash, salt = hash length. */
        a = (struct sig_alg){HK_SIG_RSA_PSS, md, md, EVP_MD_get_size(md)};
        aid = md == c->sha256 ? aid_pss_sha256 : md == c->sha384 ? aid_pss_sha384 : aid_pss_sha512;
        aidlen = sizeof(aid_pss_sha256);
    } else if (EVP_PKEY_is_a(key, "EC")) {
        if (!md)
            return HK_E_INVALID;
        a = (struct sig_alg){HK_SIG_ECDSA, md, NULL, 0};
        aid = md == c->sha256   ? aid_ecdsa_sha256
              : md == c->sha384 ? aid_ecdsa_sha384
                                : aid_ecdsa_sha512;
        aidlen = sizeof(aid_ecdsa_sha256);
    } else if (EVP_PKEY_is_a(key, "ED25519")) {
        if (hash != HK_SIG_HASH_IDENTITY) /* RFC 8420 2 */
            return HK_E_INVALID;
        a = (struct sig_alg){HK_SIG_ED25519, NULL, NULL, 0};
        aid = aid_ed25519;
        aidlen = sizeof(aid_ed25519);
    } else {
        return HK_E_UNSUPPORTED;
    }
    size_t start = auth_data->len;
    hk_cbb_add_u8(auth_data, (uint8_t)aidlen); /* RFC 7427 3: ASN.1 Length */
    hk_cbb_add_bytes(auth_data, aid, aidlen);
    int rc = hk_cbb_err(auth_data);
    if (!rc)
        rc = sign_raw(c, key, &a, octets, olen, auth_data);
    if (rc)
        hk_cbb_truncate(auth_data, start);
    return rc;
}

int hk_auth_sig_verify(const struct hk_crypto *c, EVP_PKEY *pub, const uint8_t *auth_data,
                       size_t len, const uint8_t *octets, size_t olen, struct hk_diag *d)
{
    struct hk_cbs in, aid;
    struct hk_sig_aid id;
    if (!pub || !octets || !olen || (!auth_data && len))
        return HK_E_INVALID;
    hk_cbs_init(&in, auth_data, len);
    if (hk_cbs_get_u8_prefixed(&in, &aid) || hk_cbs_len(&in) == 0) {
        hk_diag_set(d, "RFC 7427 AUTH data of %zu octets: no room for %s", len,
                    len ? "a signature after the AlgorithmIdentifier" : "its ASN.1 Length");
        return HK_E_SYNTAX;
    }
    int rc = hk_sig_aid_parse(hk_cbs_data(&aid), hk_cbs_len(&aid), &id, d);
    if (rc)
        return rc;
    struct sig_alg a = {id.kind, hash_md(c, id.hash), hash_md(c, id.mgf1_hash), id.salt_len};
    if (!key_suits(pub, a.kind))
        return HK_E_AUTH;
    return verify_raw(c, pub, &a, hk_cbs_data(&in), hk_cbs_len(&in), octets, olen);
}

/* ---- legacy methods ---- */

/* RFC 4754 4 and 7: curve, hash and r/s length of methods 9, 10, 11. */
static int legacy_ecdsa(const struct hk_crypto *c, uint8_t method, const EVP_MD **md, int *nid,
                        size_t *flen)
{
    if (method == METHOD_ECDSA_256) {
        *md = c->sha256;
        *nid = NID_X9_62_prime256v1;
        *flen = 32;
    } else if (method == METHOD_ECDSA_384) {
        *md = c->sha384;
        *nid = NID_secp384r1;
        *flen = 48;
    } else if (method == METHOD_ECDSA_521) {
        *md = c->sha512;
        *nid = NID_secp521r1;
        *flen = 66; /* 528 bits */
    } else {
        return 0;
    }
    return 1;
}

static int ec_curve_nid(EVP_PKEY *k)
{
    char name[64];
    size_t n;
    if (!EVP_PKEY_is_a(k, "EC") || !EVP_PKEY_get_group_name(k, name, sizeof(name), &n))
        return NID_undef;
    int nid = OBJ_sn2nid(name);
    return nid != NID_undef ? nid : EC_curve_nist2nid(name);
}

#define ECDSA_DER_MAX 160 /* SEQUENCE of two 67-octet INTEGERs (P-521) fits */

int hk_auth_sig_sign_legacy(const struct hk_crypto *c, uint8_t method, EVP_PKEY *key,
                            const uint8_t *octets, size_t olen, struct hk_cbb *auth_data)
{
    const EVP_MD *md;
    int nid;
    size_t flen;
    if (!legacy_ecdsa(c, method, &md, &nid, &flen))
        return HK_E_UNSUPPORTED; /* method 1 (RSA with SHA-1): verification only */
    if (!key || !octets || !olen)
        return HK_E_INVALID;
    if (ec_curve_nid(key) != nid)
        return HK_E_INVALID;
    struct sig_alg a = {HK_SIG_ECDSA, md, NULL, 0};
    struct hk_cbb der;
    int rc = hk_cbb_init(&der, ECDSA_DER_MAX, 0);
    if (!rc)
        rc = sign_raw(c, key, &a, octets, olen, &der);
    ECDSA_SIG *sig = NULL;
    if (!rc) {
        const uint8_t *p = der.buf;
        sig = d2i_ECDSA_SIG(NULL, &p, (long)der.len);
        if (!sig)
            rc = HK_E_CRYPTO;
    }
    if (!rc) {
        const BIGNUM *r, *s;
        uint8_t *out;
        size_t start = auth_data->len;
        ECDSA_SIG_get0(sig, &r, &s);
        rc = hk_cbb_add_space(auth_data, &out, 2 * flen);
        if (!rc &&
            (BN_bn2binpad(r, out, (int)flen) < 0 || BN_bn2binpad(s, out + flen, (int)flen) < 0)) {
            hk_cbb_truncate(auth_data, start);
            rc = HK_E_CRYPTO;
        }
    }
    ECDSA_SIG_free(sig);
    hk_cbb_free(&der);
    return rc;
}

/* r | s (RFC 4754 7) to the DER ECDSA-Sig-Value OpenSSL verifies. */
static int ecdsa_rs_to_der(const uint8_t *rs, size_t flen, uint8_t *der, size_t *derlen)
{
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(rs, (int)flen, NULL), *s = BN_bin2bn(rs + flen, (int)flen, NULL);
    int rc = HK_E_NOMEM;
    if (sig && r && s && ECDSA_SIG_set0(sig, r, s)) {
        r = s = NULL; /* owned by sig now */
        int n = i2d_ECDSA_SIG(sig, NULL);
        rc = HK_E_CRYPTO;
        if (n > 0 && (size_t)n <= *derlen) {
            uint8_t *p = der;
            *derlen = (size_t)i2d_ECDSA_SIG(sig, &p);
            rc = HK_OK;
        }
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return rc;
}

int hk_auth_sig_verify_legacy(const struct hk_crypto *c, uint8_t method, EVP_PKEY *pub,
                              const uint8_t *auth_data, size_t len, const uint8_t *octets,
                              size_t olen)
{
    const EVP_MD *md;
    int nid;
    size_t flen;
    if (!pub || !octets || !olen || (!auth_data && len))
        return HK_E_INVALID;
    if (method == METHOD_RSA_SIG) {
        /* RFC 7296 3.8: RSASSA-PKCS1-v1_5; the hash is SHA-1 (RFC 7427 1). */
        struct sig_alg a = {HK_SIG_RSA_PKCS1, c->sha1, NULL, 0};
        if (!len)
            return HK_E_SYNTAX;
        if (!key_suits(pub, a.kind))
            return HK_E_AUTH;
        return verify_raw(c, pub, &a, auth_data, len, octets, olen);
    }
    if (!legacy_ecdsa(c, method, &md, &nid, &flen))
        return HK_E_UNSUPPORTED;
    if (len != 2 * flen)
        return HK_E_SYNTAX;
    if (ec_curve_nid(pub) != nid)
        return HK_E_AUTH;
    uint8_t der[ECDSA_DER_MAX];
    size_t derlen = sizeof(der);
    int rc = ecdsa_rs_to_der(auth_data, flen, der, &derlen);
    if (rc)
        return rc;
    struct sig_alg a = {HK_SIG_ECDSA, md, NULL, 0};
    return verify_raw(c, pub, &a, der, derlen, octets, olen);
}
