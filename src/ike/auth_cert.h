/*
 * Certificate authentication for IKE_AUTH (RFC 7296 2.15, 3.6, 3.7, 3.8; RFC 7427): the CERT
 * and CERTREQ payloads we send, our signature AUTH, and the check of the peer's CERT chain,
 * identity and signature. Pure functions: the exchange code (x_auth.c) calls them with the
 * signed octets of hk_auth_octets() and the decoded (decrypted) IKE_AUTH message.
 */
#ifndef HIKE_IKE_AUTH_CERT_H
#define HIKE_IKE_AUTH_CERT_H

#include "common/arena.h"
#include "common/cbb.h"
#include "crypto/crypto.h"
#include "crypto/x509.h"
#include "ike/codec/msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CERT payloads of one peer that auth_cert_verify looks at; more is refused. */
#define AUTH_CERT_MAX_CERTS 16

/*
 * Appends CERT payloads (encoding X.509 Certificate - Signature, 3.6) for our end entity and
 * then each intermediate to pl at *n, advancing *n; room is the size of pl. The DER lives in
 * arena a (keep it until the message is encoded). HK_E_OVERFLOW when pl has no room for all
 * (nothing is appended then), HK_E_NOMEM.
 */
int auth_cert_payloads(const struct hk_cred *cred, struct hk_arena *a, struct ike_payload *pl,
                       size_t room, size_t *n);

/*
 * One CERTREQ payload (3.7, encoding X.509 Certificate - Signature) whose Certification
 * Authority field lists the SHA-1 hashes of t's anchors' SubjectPublicKeyInfo; the data lives
 * in a. HK_E_NOTFOUND when t has no anchors (send no CERTREQ then), HK_E_NOMEM.
 */
int auth_certreq_payload(const struct hk_trust *t, struct hk_arena *a, struct ike_payload *pl);

/*
 * The ID payload body (ID Type | RESERVED | Identification Data, as conn_local_id writes it)
 * for an automatic local identity with a certificate: ID_DER_ASN1_DN with our subject.
 */
int auth_cert_id_body(const struct hk_cred *cred, struct hk_cbb *out);

/*
 * Signs the octets (hk_auth_octets) with our private key and appends the AUTH payload's
 * Authentication Data to auth_data; *method gets the Auth Method (3.8).
 * rfc7427: method 14 (Digital Signature) with SHA2-256 for P-256, SHA2-384 for P-384,
 * SHA2-512 for P-521, RSASSA-PSS with SHA2-256 for RSA, Identity for Ed25519.
 * Otherwise the classic methods: 9/10/11 ECDSA by curve (RFC 4754). Classic RSA (method 1,
 * PKCS#1 v1.5 with SHA-1) and Ed25519 have no classic method we sign: HK_E_UNSUPPORTED.
 * Returns 0, HK_E_UNSUPPORTED / HK_E_CRYPTO / HK_E_NOMEM with the reason in err.
 */
int auth_cert_sign(const struct hk_crypto *c, const struct hk_cred *cred, bool rfc7427,
                   const uint8_t *octets, size_t olen, uint8_t *method, struct hk_cbb *auth_data,
                   char *err, size_t errlen);

/* What the peer's certificate and AUTH must be beyond a valid chain (remote.* settings). */
struct auth_cert_policy {
    unsigned eku;     /* HK_X509_EKU_* purposes accepted when the EKU extension is present */
    bool eku_any;     /* no check of the extended key usage */
    unsigned min_rsa; /* bits of an RSA key, at least */
    unsigned min_ec;  /* bits of an EC key (curve size), at least */
    bool allow_sha1;  /* AUTH method 1 (RSASSA-PKCS1-v1_5 with SHA-1, RFC 7296 3.8) */
};
/* The defaults: EKU absent or for IKE (serverAuth, clientAuth, ipsecIKE, any), RSA 2048,
 * EC 256, no SHA-1. */
extern const struct auth_cert_policy auth_cert_policy_default;

/*
 * Authenticates the peer of an IKE_AUTH message m (decoded, SK content included):
 * - the first CERT payload of encoding X.509 Certificate - Signature is the end entity, the
 *   other ones intermediates (other encodings are ignored; at most AUTH_CERT_MAX_CERTS);
 * - with trust anchors t, the chain must verify to one of them at the current time; with a
 *   pinned certificate, the end entity must be that certificate (without t, the pin alone is
 *   the trust, and its validity period is checked). A peer that sent no certificate is taken
 *   to use the pinned one, which must then chain to t's anchors by itself. At least one of t
 *   and pinned is required;
 * - the end entity must allow signatures (keyUsage, when present) and the peer's ID must name
 *   it (hk_cert_matches_id: subject DN or a subjectAltName), so the ID is bound to the key
 *   (2.15);
 * - the end entity must pass pol (NULL: auth_cert_policy_default): extended key usage and
 *   key size (hk_cert_check_eku, hk_cert_check_key);
 * - AUTH (methods 9, 10, 11 or 14; 1 only when pol allows SHA-1) must be a signature of
 *   octets by its key.
 * Returns 0, or HK_E_AUTH (HK_E_NOMEM when memory runs out) with the reason in err.
 */
int auth_cert_verify(const struct hk_crypto *c, const struct hk_trust *t, const struct ike_msg *m,
                     const struct ike_pl_id *id, const struct ike_pl_auth *auth,
                     const uint8_t *octets, size_t olen, X509 *pinned,
                     const struct auth_cert_policy *pol, char *err, size_t errlen);

#endif
