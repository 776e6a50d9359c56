#include "ike/auth_cert.h"

#include "common/fmt.h"

#include "common/err.h"
#include "crypto/sig.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define NAME_LEN 256

/* DER of a certificate into the arena. */
static int cert_der(X509 *x, struct hk_arena *a, struct ike_view *out)
{
    int len = i2d_X509(x, NULL);
    if (len <= 0)
        return HK_E_CRYPTO;
    uint8_t *p = hk_arena_alloc(a, (size_t)len), *q = p;
    if (!p)
        return HK_E_NOMEM;
    if (i2d_X509(x, &q) != len)
        return HK_E_CRYPTO;
    *out = (struct ike_view){p, (size_t)len};
    return HK_OK;
}

int auth_cert_payloads(const struct hk_cred *cred, struct hk_arena *a, struct ike_payload *pl,
                       size_t room, size_t *n)
{
    if (!cred || !cred->cert || !a || !pl || !n || *n > room)
        return HK_E_INVALID;
    size_t ninter = cred->chain ? (size_t)sk_X509_num(cred->chain) : 0;
    if (room - *n < 1 + ninter)
        return HK_E_OVERFLOW;
    /* 3.6: the first CERT holds the key that verifies AUTH; the chain follows. */
    for (size_t i = 0; i <= ninter; i++) {
        X509 *x = i == 0 ? cred->cert : sk_X509_value(cred->chain, (int)(i - 1));
        struct ike_payload *p = &pl[*n + i];
        *p = (struct ike_payload){.type = IKE_PL_CERT};
        p->u.cert.encoding = IKE_CERT_X509_SIG;
        int rc = cert_der(x, a, &p->u.cert.data);
        if (rc)
            return rc;
    }
    *n += 1 + ninter;
    return HK_OK;
}

int auth_certreq_payload(const struct hk_trust *t, struct hk_arena *a, struct ike_payload *pl)
{
    size_t n = hk_trust_count(t);
    if (!a || !pl)
        return HK_E_INVALID;
    if (!n)
        return HK_E_NOTFOUND;
    struct hk_cbb b;
    int rc = hk_cbb_init(&b, n * HK_CERTREQ_HASH_LEN, 0);
    if (!rc)
        rc = hk_trust_certreq_hashes(t, &b);
    uint8_t *p = rc ? NULL : hk_arena_alloc(a, b.len);
    if (!rc && !p)
        rc = HK_E_NOMEM;
    if (!rc) {
        memcpy(p, b.buf, b.len);
        *pl = (struct ike_payload){.type = IKE_PL_CERTREQ};
        pl->u.cert.encoding = IKE_CERT_X509_SIG;
        pl->u.cert.data = (struct ike_view){p, b.len};
    }
    hk_cbb_free(&b);
    return rc;
}

int auth_cert_id_body(const struct hk_cred *cred, struct hk_cbb *out)
{
    uint8_t *der;
    size_t len;
    if (!cred || !cred->cert)
        return HK_E_INVALID;
    int rc = hk_cert_subject_der(cred->cert, &der, &len);
    if (rc)
        return rc;
    hk_cbb_add_u8(out, IKE_ID_DER_ASN1_DN);
    hk_cbb_add_zeros(out, 3);
    hk_cbb_add_bytes(out, der, len);
    free(der);
    return hk_cbb_err(out);
}

/* The curve of an EC key as 256/384/521, 0 for other keys or curves. */
static int ec_bits(EVP_PKEY *k)
{
    char g[64];
    size_t n;
    if (!EVP_PKEY_is_a(k, "EC") || !EVP_PKEY_get_group_name(k, g, sizeof(g), &n))
        return 0;
    if (!strcmp(g, "prime256v1") || !strcmp(g, "P-256"))
        return 256;
    if (!strcmp(g, "secp384r1") || !strcmp(g, "P-384"))
        return 384;
    if (!strcmp(g, "secp521r1") || !strcmp(g, "P-521"))
        return 521;
    return 0;
}

int auth_cert_sign(const struct hk_crypto *c, const struct hk_cred *cred, bool rfc7427,
                   const uint8_t *octets, size_t olen, uint8_t *method, struct hk_cbb *auth_data,
                   char *err, size_t errlen)
{
    if (!c || !cred || !cred->key || !octets || !olen || !method || !auth_data)
        return hk_errf(HK_E_INVALID, err, errlen, "nothing to sign or no private key");
    EVP_PKEY *k = cred->key;
    bool rsa = EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_is_a(k, "RSA-PSS");
    bool ed = EVP_PKEY_is_a(k, "ED25519");
    int bits = ec_bits(k), rc;
    if (!rsa && !ed && !bits)
        return hk_errf(HK_E_UNSUPPORTED, err, errlen, "cannot sign AUTH with a %s key",
                       EVP_PKEY_get0_type_name(k));
    if (rfc7427) {
        /* RFC 7427 with the hash that matches the key's strength (RFC 8247 3.2). */
        uint16_t hash = ed            ? HK_SIG_HASH_IDENTITY
                        : bits == 384 ? HK_SIG_HASH_SHA2_384
                        : bits == 521 ? HK_SIG_HASH_SHA2_512
                                      : HK_SIG_HASH_SHA2_256;
        *method = IKE_AUTH_DIGITAL_SIGNATURE;
        rc = hk_auth_sig_sign(c, k, hash, octets, olen, auth_data);
    } else if (rsa) {
        return hk_errf(HK_E_UNSUPPORTED, err, errlen,
                       "classic RSA authentication (method 1) needs PKCS#1 v1.5 signatures with "
                       "SHA-1, which hike does not make; use RFC 7427 signatures");
    } else if (ed) {
        return hk_errf(HK_E_UNSUPPORTED, err, errlen,
                       "Ed25519 keys have no classic authentication method; use RFC 7427 "
                       "signatures");
    } else {
        /* RFC 4754: the method names curve and hash together. */
        *method = bits == 256   ? IKE_AUTH_ECDSA_256
                  : bits == 384 ? IKE_AUTH_ECDSA_384
                                : IKE_AUTH_ECDSA_521;
        rc = hk_auth_sig_sign_legacy(c, *method, k, octets, olen, auth_data);
    }
    if (rc) {
        ERR_clear_error();
        return hk_errf(rc, err, errlen, "cannot sign AUTH (method %u): %s", *method,
                       hk_strerror(rc));
    }
    return HK_OK;
}

/* ---- verifying the peer ---- */

/* The peer's ID for messages ("fqdn:gw.example.com", "dn:CN=gw,O=Example"). */
static const char *id_str(const struct ike_pl_id *id, char *buf, size_t len)
{
    char tmp[NAME_LEN];
    const uint8_t *d = id->data.p;
    size_t n = id->data.len, i;
    switch (id->type) {
    case IKE_ID_IPV4_ADDR:
    case IKE_ID_IPV6_ADDR:
        if (n == (id->type == IKE_ID_IPV4_ADDR ? 4u : 16u) &&
            inet_ntop(n == 4 ? AF_INET : AF_INET6, d, tmp, sizeof(tmp))) {
            hk_fmt(buf, len, "%s:%s", n == 4 ? "ipv4" : "ipv6", tmp);
            return buf;
        }
        break;
    case IKE_ID_FQDN:
    case IKE_ID_RFC822_ADDR:
        for (i = 0; i < n && i < sizeof(tmp) - 1; i++)
            tmp[i] = d[i] >= 0x20 && d[i] < 0x7f ? (char)d[i] : '?'; /* hostile input: printable */
        tmp[i] = '\0';
        hk_fmt(buf, len, "%s:%s", id->type == IKE_ID_FQDN ? "fqdn" : "email", tmp);
        return buf;
    case IKE_ID_DER_ASN1_DN: {
        const unsigned char *p = d;
        X509_NAME *name = d2i_X509_NAME(NULL, &p, (long)n);
        BIO *b = name ? BIO_new(BIO_s_mem()) : NULL;
        char *s;
        long sl;
        if (b && X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0 &&
            (sl = BIO_get_mem_data(b, &s)) >= 0)
            snprintf(buf, len, "dn:%.*s", (int)sl, s);
        else
            snprintf(buf, len, "dn:(malformed, %zu octets)", n);
        BIO_free(b);
        X509_NAME_free(name);
        ERR_clear_error();
        return buf;
    }
    }
    snprintf(buf, len, "type %u (%zu octets)", id->type, n);
    return buf;
}

static bool is_sig_method(uint8_t m)
{
    return m == IKE_AUTH_RSA_SIG || m == IKE_AUTH_ECDSA_256 || m == IKE_AUTH_ECDSA_384 ||
           m == IKE_AUTH_ECDSA_521 || m == IKE_AUTH_DIGITAL_SIGNATURE;
}

/* The end entity, trusted through t and/or the pin; *leaf is the caller's reference. */
static int peer_cert(const struct hk_trust *t, const struct ike_view *ee,
                     const struct hk_der_view *inter, size_t ninter, X509 *pinned, X509 **leaf,
                     char *err, size_t errlen)
{
    char name[NAME_LEN];
    int rc;
    *leaf = NULL;
    if (hk_trust_count(t)) {
        if (ee) {
            rc = hk_cert_verify(t, ee->p, ee->len, inter, ninter, 0, leaf, err, errlen);
        } else {
            /* No CERT from the peer: the pinned certificate must still chain to an anchor. */
            unsigned char *der = NULL;
            int dlen = i2d_X509(pinned, &der);
            if (dlen <= 0)
                return HK_E_NOMEM;
            rc = hk_cert_verify(t, der, (size_t)dlen, NULL, 0, 0, leaf, err, errlen);
            OPENSSL_free(der);
        }
        if (rc)
            return rc == HK_E_NOMEM ? rc : HK_E_AUTH;
        if (pinned && X509_cmp(*leaf, pinned) != 0) {
            rc = hk_errf(HK_E_AUTH, err, errlen, "certificate %s is not the pinned certificate",
                         hk_cert_subject_str(*leaf, name, sizeof(name)));
            X509_free(*leaf);
            *leaf = NULL;
        }
        return rc;
    }
    if (!pinned)
        return hk_errf(HK_E_AUTH, err, errlen, "no trust anchors or pinned certificate configured");
    if (ee) {
        X509 *x = hk_cert_from_der(ee->p, ee->len);
        if (!x)
            return hk_errf(HK_E_AUTH, err, errlen,
                           "end-entity certificate (%zu octets) is not a DER X.509 certificate",
                           ee->len);
        if (X509_cmp(x, pinned) != 0) {
            rc = hk_errf(HK_E_AUTH, err, errlen, "certificate %s is not the pinned certificate",
                         hk_cert_subject_str(x, name, sizeof(name)));
            X509_free(x);
            return rc;
        }
        X509_free(x);
    }
    if ((rc = hk_cert_check_time(pinned, 0, err, errlen)))
        return HK_E_AUTH;
    if (!X509_up_ref(pinned))
        return HK_E_NOMEM;
    *leaf = pinned;
    return HK_OK;
}

static int check_signature(const struct hk_crypto *c, X509 *leaf, const struct ike_pl_auth *auth,
                           const uint8_t *octets, size_t olen, char *err, size_t errlen)
{
    char name[NAME_LEN];
    EVP_PKEY *pub = X509_get0_pubkey(leaf);
    int rc;
    hk_cert_subject_str(leaf, name, sizeof(name));
    if (!pub) {
        ERR_clear_error();
        return hk_errf(HK_E_AUTH, err, errlen, "certificate %s: unusable public key", name);
    }
    struct hk_diag d = {0};
    if (auth->method == IKE_AUTH_DIGITAL_SIGNATURE)
        rc = hk_auth_sig_verify(c, pub, auth->data.p, auth->data.len, octets, olen, &d);
    else
        rc = hk_auth_sig_verify_legacy(c, auth->method, pub, auth->data.p, auth->data.len, octets,
                                       olen);
    ERR_clear_error();
    switch (rc) {
    case HK_OK:
        return HK_OK;
    case HK_E_NOMEM:
        return rc;
    case HK_E_SYNTAX:
        return hk_errf(HK_E_AUTH, err, errlen, "malformed AUTH data for method %u (%zu octets)%s%s",
                       auth->method, auth->data.len, d.msg[0] ? ": " : "", hk_diag_msg(&d));
    case HK_E_UNSUPPORTED:
        return hk_errf(HK_E_AUTH, err, errlen,
                       "AUTH method %u: unsupported signature algorithm%s%s", auth->method,
                       d.msg[0] ? ": " : "", hk_diag_msg(&d));
    default:
        return hk_errf(HK_E_AUTH, err, errlen,
                       "AUTH (method %u) is not a valid signature by the %s key of %s",
                       auth->method, EVP_PKEY_get0_type_name(pub), name);
    }
}

const struct auth_cert_policy auth_cert_policy_default = {
    .eku =
        HK_X509_EKU_SERVER_AUTH | HK_X509_EKU_CLIENT_AUTH | HK_X509_EKU_IPSEC_IKE | HK_X509_EKU_ANY,
    .min_rsa = 2048,
    .min_ec = 256,
};

/* The end entity against the policy: fit for IKE, strong enough. */
static int check_policy(X509 *leaf, const struct auth_cert_policy *pol, char *err, size_t errlen)
{
    int rc = pol->eku_any ? HK_OK : hk_cert_check_eku(leaf, pol->eku, err, errlen);
    if (!rc)
        rc = hk_cert_check_key(leaf, pol->min_rsa, pol->min_ec, err, errlen);
    return rc;
}

int auth_cert_verify(const struct hk_crypto *c, const struct hk_trust *t, const struct ike_msg *m,
                     const struct ike_pl_id *id, const struct ike_pl_auth *auth,
                     const uint8_t *octets, size_t olen, X509 *pinned,
                     const struct auth_cert_policy *pol, char *err, size_t errlen)
{
    char name[NAME_LEN], idbuf[NAME_LEN];
    if (!pol)
        pol = &auth_cert_policy_default;
    if (!c || !m || !id || !auth || !octets || !olen)
        return hk_errf(HK_E_AUTH, err, errlen, "certificate authentication without its inputs");
    if (!is_sig_method(auth->method))
        return hk_errf(HK_E_AUTH, err, errlen,
                       "AUTH method %u is not a signature method, but a certificate is expected",
                       auth->method);
    /* Method 1 signs with SHA-1 (RFC 7296 3.8, RFC 7427 1), which RFC 8247 3.2 no longer
     * recommends: only where the connection allows it (remote.signature = "classic"). */
    if (auth->method == IKE_AUTH_RSA_SIG && !pol->allow_sha1)
        return hk_errf(HK_E_AUTH, err, errlen,
                       "AUTH method 1 (RSA with SHA-1) refused: remote.signature does not allow "
                       "\"classic\" signatures");

    /* 3.6: the first X.509 CERT carries the key for AUTH; the others the chain. */
    struct ike_view ee = {0};
    struct hk_der_view inter[AUTH_CERT_MAX_CERTS];
    size_t ninter = 0, ncerts = 0, other = 0;
    uint8_t other_enc = 0;
    for (size_t i = 0; i < m->npayloads; i++) {
        const struct ike_payload *p = &m->payloads[i];
        if (p->type != IKE_PL_CERT)
            continue;
        if (p->u.cert.encoding != IKE_CERT_X509_SIG) {
            other++;
            other_enc = p->u.cert.encoding;
            continue;
        }
        if (++ncerts > AUTH_CERT_MAX_CERTS)
            return hk_errf(HK_E_AUTH, err, errlen, "more than %d CERT payloads",
                           AUTH_CERT_MAX_CERTS);
        if (ncerts == 1)
            ee = p->u.cert.data;
        else
            inter[ninter++] = (struct hk_der_view){p->u.cert.data.p, p->u.cert.data.len};
    }
    if (!ncerts && !pinned) {
        if (other)
            return hk_errf(HK_E_AUTH, err, errlen,
                           "no X.509 certificate from the peer (CERT encoding %u is not supported)",
                           other_enc);
        return hk_errf(HK_E_AUTH, err, errlen, "the peer sent no certificate");
    }

    X509 *leaf;
    int rc = peer_cert(t, ncerts ? &ee : NULL, inter, ninter, pinned, &leaf, err, errlen);
    if (rc)
        return rc;
    uint32_t ku = X509_get_key_usage(leaf);
    if (ku != UINT32_MAX && !(ku & (KU_DIGITAL_SIGNATURE | KU_NON_REPUDIATION)))
        rc = hk_errf(HK_E_AUTH, err, errlen,
                     "certificate %s: its key usage does not allow signatures",
                     hk_cert_subject_str(leaf, name, sizeof(name)));
    /* 2.15: the ID must name the certificate's holder, or anyone with a certificate could
     * claim any identity. */
    if (!rc)
        rc = check_policy(leaf, pol, err, errlen);
    if (!rc && !hk_cert_matches_id(leaf, id->type, id->data.p, id->data.len))
        rc = hk_errf(HK_E_AUTH, err, errlen,
                     "ID %s is not in certificate %s (neither its subject nor a subjectAltName)",
                     id_str(id, idbuf, sizeof(idbuf)),
                     hk_cert_subject_str(leaf, name, sizeof(name)));
    if (!rc)
        rc = check_signature(c, leaf, auth, octets, olen, err, errlen);
    X509_free(leaf);
    return rc;
}
