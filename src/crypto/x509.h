/*
 * X.509 for certificate authentication (RFC 7296 2.15, 3.6, 3.7): our credential (end-entity
 * certificate, its private key, the intermediates we send along), the trust anchors we verify
 * peers against, chain verification, binding an IKE identity to a certificate, and the CA
 * hashes of a CERTREQ. Files may be PEM or DER. Every failure comes with a one-line reason in
 * the caller's err buffer ("certificate CN=gw (depth 0) not valid: expired ...").
 */
#ifndef HIKE_CRYPTO_X509_H
#define HIKE_CRYPTO_X509_H

#include "common/cbb.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Length of one CERTREQ Certification Authority entry: SHA-1 of a SubjectPublicKeyInfo. */
#define HK_CERTREQ_HASH_LEN 20
/* At most this many certificates per file, intermediates per chain, anchors per store. */
#define HK_X509_MAX_CERTS 32

/* Our own credential. Read-only after hk_cred_load. */
struct hk_cred {
    X509 *cert;             /* end entity: its public key verifies our AUTH */
    EVP_PKEY *key;          /* its private key (RSA, EC P-256/384/521 or Ed25519) */
    STACK_OF(X509) * chain; /* intermediates, sent after the end entity in this order */
};

/*
 * Loads cert (PEM or DER; further certificates in a PEM cert file join the chain), key (PEM
 * or DER, PKCS#8 or traditional, unencrypted) and nchain intermediate files (PEM or DER, any
 * number of certificates each). Checks that the key is of a supported type and matches the
 * certificate. Returns 0, HK_E_CONFIG (unreadable or malformed file, mismatched key, with the
 * file name in err), HK_E_UNSUPPORTED (key type) or HK_E_NOMEM. *out: free with hk_cred_free.
 */
int hk_cred_load(const char *cert, const char *key, char *const *chain, size_t nchain,
                 struct hk_cred **out, char *err, size_t errlen);
void hk_cred_free(struct hk_cred *cred);

/* Loads a file (PEM or DER) holding exactly one certificate, e.g. a pinned peer certificate;
 * *out: free with X509_free. Returns 0, HK_E_CONFIG (reason in err) or HK_E_NOMEM. */
int hk_cert_load(const char *path, X509 **out, char *err, size_t errlen);

/* Trust anchors. Read-only after hk_trust_load, so one store can serve any number of SAs. */
struct hk_trust {
    X509_STORE *store;        /* the anchors, and nothing else (no system default paths) */
    STACK_OF(X509) * anchors; /* the same certificates, in file order */
    uint8_t *spki_sha1;       /* HK_CERTREQ_HASH_LEN octets per anchor, in the same order */
};

/*
 * Loads every certificate of n files (PEM or DER) as trust anchors. An anchor need not be
 * self-signed: an intermediate CA configured here is trusted as it is (partial chains).
 * Returns 0, HK_E_CONFIG (with the file in err) or HK_E_NOMEM. Free with hk_trust_free.
 */
int hk_trust_load(char *const *files, size_t n, struct hk_trust **out, char *err, size_t errlen);
/* The same from certificates in memory (each is up-referenced). */
int hk_trust_from_certs(X509 *const *certs, size_t n, struct hk_trust **out, char *err,
                        size_t errlen);
void hk_trust_free(struct hk_trust *t);
size_t hk_trust_count(const struct hk_trust *t);

/* A DER certificate in someone else's buffer (a CERT payload, say). */
struct hk_der_view {
    const uint8_t *p;
    size_t len;
};

/*
 * Parses der as the end-entity certificate and verifies it with X509_verify_cert against t's
 * anchors, building the chain from the ninter untrusted intermediates (any order; at most
 * HK_X509_MAX_CERTS). Every certificate of the chain must be valid at now (Unix seconds;
 * 0 means the current time); no purpose or key usage is required here. On success *leaf_out
 * (optional) gets the parsed end entity, which the caller frees with X509_free. Returns 0,
 * HK_E_SYNTAX (not a DER certificate), HK_E_AUTH (chain does not verify) or HK_E_NOMEM, with
 * the reason in err.
 */
int hk_cert_verify(const struct hk_trust *t, const uint8_t *der, size_t len,
                   const struct hk_der_view *inter, size_t ninter, time_t now, X509 **leaf_out,
                   char *err, size_t errlen);

/* Parses one DER certificate that fills exactly len octets; NULL when it is not one. */
X509 *hk_cert_from_der(const uint8_t *der, size_t len);
/* 0 when cert is valid at now (0: the current time), else HK_E_AUTH with the reason in err. */
int hk_cert_check_time(X509 *cert, time_t now, char *err, size_t errlen);

/*
 * Whether an IKE identity (RFC 7296 3.5 ID Type and Identification Data) names cert's holder:
 * ID_DER_ASN1_DN equals the subject (same DER, or the same name after OpenSSL's canonical
 * comparison, which ignores string types and letter case); ID_FQDN, ID_RFC822_ADDR,
 * ID_IPV4_ADDR and ID_IPV6_ADDR equal a subjectAltName dNSName (letter case ignored),
 * rfc822Name (domain part case ignored) or iPAddress. Other types never match.
 */
bool hk_cert_matches_id(X509 *cert, uint8_t id_type, const uint8_t *data, size_t len);

/* The DER of cert's subject DN (for an ID_DER_ASN1_DN identity); *der is malloc'd. */
int hk_cert_subject_der(X509 *cert, uint8_t **der, size_t *len);
/* The subject as an RFC 4514 string ("CN=gw,O=Example") into buf, for messages; returns buf. */
const char *hk_cert_subject_str(X509 *cert, char *buf, size_t len);

/*
 * Certificate policy for a peer's end entity (what makes it fit for IKE). Extended key usage
 * purposes as bits; RFC 4945 5.1.3.12 names ipsecIKE and anyExtendedKeyUsage, and serverAuth /
 * clientAuth are what most VPN certificates carry.
 */
#define HK_X509_EKU_SERVER_AUTH 0x1u /* id-kp-serverAuth, 1.3.6.1.5.5.7.3.1 */
#define HK_X509_EKU_CLIENT_AUTH 0x2u /* id-kp-clientAuth, 1.3.6.1.5.5.7.3.2 */
#define HK_X509_EKU_IPSEC_IKE   0x4u /* id-kp-ipsecIKE, 1.3.6.1.5.5.7.3.17 (RFC 4945) */
#define HK_X509_EKU_ANY         0x8u /* anyExtendedKeyUsage, 2.5.29.37.0 */
/*
 * 0 when cert has no extendedKeyUsage extension or lists one of the purposes in allowed (HK_X509_
 * EKU_* bits); HK_E_AUTH with the purposes it does list in err otherwise (also for an extension
 * that does not parse).
 */
int hk_cert_check_eku(X509 *cert, unsigned allowed, char *err, size_t errlen);
/*
 * 0 when cert's public key is strong enough: RSA of at least min_rsa bits; EC (ECDSA, Ed25519,
 * Ed448) of at least min_ec bits (the curve's size: 256 for P-256 and Ed25519). HK_E_AUTH with
 * the key's size in err otherwise, and for other key types.
 */
int hk_cert_check_key(X509 *cert, unsigned min_rsa, unsigned min_ec, char *err, size_t errlen);

/*
 * Appends the CERTREQ Certification Authority value (RFC 7296 3.7): the SHA-1 hash of each
 * anchor's DER SubjectPublicKeyInfo, concatenated in anchor order. Sticky cbb error returned.
 */
int hk_trust_certreq_hashes(const struct hk_trust *t, struct hk_cbb *out);

#endif
