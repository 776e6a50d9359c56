/*
 * Signature AUTH: RFC 7427 Digital Signature (auth method 14), whose Authentication Data is
 * ASN.1 length (1 octet) | AlgorithmIdentifier (DER) | signature, and the older fixed-algorithm
 * methods kept for interoperability: RSA (1, verification only) and ECDSA (9/10/11, RFC 4754).
 * The signed octets come from hk_auth_octets().
 */
#ifndef HIKE_CRYPTO_SIG_H
#define HIKE_CRYPTO_SIG_H

#include "common/cbb.h"
#include "common/diag.h"
#include "crypto/crypto.h"

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 7427 4 hash algorithm IDs (SIGNATURE_HASH_ALGORITHMS). */
enum hk_sig_hash {
    HK_SIG_HASH_SHA2_256 = 2,
    HK_SIG_HASH_SHA2_384 = 3,
    HK_SIG_HASH_SHA2_512 = 4,
    HK_SIG_HASH_IDENTITY = 5, /* RFC 8420: Ed25519 */
};

/* The signature algorithms an RFC 7427 AlgorithmIdentifier can name that hike accepts. */
enum hk_sig_kind {
    HK_SIG_RSA_PKCS1 = 1, /* sha{256,384,512}WithRSAEncryption (RFC 7427 A.1) */
    HK_SIG_RSA_PSS,       /* id-RSASSA-PSS (RFC 4055 3.1, RFC 7427 A.4) */
    HK_SIG_ECDSA,         /* ecdsa-with-SHA{256,384,512} (RFC 7427 A.3) */
    HK_SIG_ED25519,       /* id-Ed25519 (RFC 8410, RFC 8420) */
};

struct hk_sig_aid {
    enum hk_sig_kind kind;
    uint16_t hash;      /* enum hk_sig_hash; HK_SIG_HASH_IDENTITY for Ed25519 */
    uint16_t mgf1_hash; /* RSASSA-PSS: the hash of MGF1 */
    int salt_len;       /* RSASSA-PSS: saltLength (20 when absent) */
};

/*
 * Parses the AlgorithmIdentifier field of RFC 7427 3 (der, len: exactly one SEQUENCE, no
 * ASN.1 Length octet before it). Reads DER, and the RSASSA-PSS parameters also with the DEFAULT
 * trailerField spelled out as RFC 7427 A.4.3 prints them. HK_E_SYNTAX for a malformed field,
 * HK_E_UNSUPPORTED for a well-formed one naming an algorithm or hash we do not take (SHA-1,
 * DSA, PSS defaults, trailerField other than 1); d (may be NULL) then says why. *out is zeroed
 * unless HK_OK. No crypto context needed: a plain function of its input (fuzzed).
 */
int hk_sig_aid_parse(const uint8_t *der, size_t len, struct hk_sig_aid *out, struct hk_diag *d);

/*
 * Signs octets with key and appends the method-14 Authentication Data to auth_data, with the
 * AlgorithmIdentifier in DER (RFC 7427 3). RSA keys sign RSASSA-PSS (MGF1 with the same hash,
 * salt = hash length, trailer 1: DEFAULT, so not encoded), EC keys ecdsa-with-SHA*, Ed25519
 * keys id-Ed25519 (hash must be HK_SIG_HASH_IDENTITY).
 * HK_E_INVALID when hash does not fit the key, HK_E_UNSUPPORTED for other key types.
 */
int hk_auth_sig_sign(const struct hk_crypto *c, EVP_PKEY *key, uint16_t hash, const uint8_t *octets,
                     size_t olen, struct hk_cbb *auth_data);
/*
 * Verifies method-14 Authentication Data against pub. Accepts sha256/384/512WithRSAEncryption,
 * RSASSA-PSS with SHA-256/384/512, ecdsa-with-SHA256/384/512 and Ed25519 (hk_sig_aid_parse).
 * HK_E_SYNTAX for a malformed field, HK_E_UNSUPPORTED for another algorithm (d, may be NULL,
 * says why), HK_E_AUTH when the algorithm does not suit pub or the signature does not verify.
 */
int hk_auth_sig_verify(const struct hk_crypto *c, EVP_PKEY *pub, const uint8_t *auth_data,
                       size_t len, const uint8_t *octets, size_t olen, struct hk_diag *d);

/*
 * Legacy methods (RFC 7296 3.8 values): 9/10/11 ECDSA with SHA-256/384/512 on P-256/384/521,
 * signature r | s in fixed-length octets (RFC 4754 7); 1 RSA PKCS#1 v1.5 with SHA-1, for
 * verification only (signing returns HK_E_UNSUPPORTED). A key on the wrong curve or of the
 * wrong type: HK_E_INVALID when signing, HK_E_AUTH when verifying.
 */
int hk_auth_sig_sign_legacy(const struct hk_crypto *c, uint8_t method, EVP_PKEY *key,
                            const uint8_t *octets, size_t olen, struct hk_cbb *auth_data);
int hk_auth_sig_verify_legacy(const struct hk_crypto *c, uint8_t method, EVP_PKEY *pub,
                              const uint8_t *auth_data, size_t len, const uint8_t *octets,
                              size_t olen);

#endif
