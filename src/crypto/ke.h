/*
 * Key exchange (transform type 4): MODP-2048 (group 14, RFC 3526), ECP-256 and ECP-384
 * (groups 19, 20, RFC 5903) and Curve25519 (group 31, RFC 8031), over OpenSSL EVP_PKEY.
 * Values are in IKEv2 wire form (RFC 7296 3.4): MODP big-endian padded to the modulus,
 * ECP x | y without a point-format octet, X25519 the 32 octets of RFC 7748.
 */
#ifndef HIKE_CRYPTO_KE_H
#define HIKE_CRYPTO_KE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/secret.h"
#include "crypto/crypto.h"

/* Largest public value (MODP-2048). */
#define HK_KE_MAX_PUBLIC 256

/* One side of one exchange: a private key used once (RFC 6989 2.2). */
struct hk_ke;

bool hk_ke_supported(uint16_t group);
/* Public value (KE payload data) octets: 256, 64, 96, 32; 0 if unsupported. */
size_t hk_ke_public_len(uint16_t group);
/* Shared secret (g^ir) octets: 256, 32, 48, 32; 0 if unsupported. */
size_t hk_ke_shared_len(uint16_t group);

/* A fresh private key for group; HK_E_UNSUPPORTED for other groups. k keeps c. */
int hk_ke_new(const struct hk_crypto *c, uint16_t group, struct hk_ke **out);
/* For hk_crypto_init/free: the key generation contexts of every group. */
int hk_ke_prefetch(struct hk_crypto *c);
void hk_ke_prefetch_free(struct hk_crypto *c);
/*
 * The key from a given private value (MODP: big-endian exponent; ECP: big-endian scalar of
 * the field size; X25519: 32 octets, RFC 7748), as hk_ke_private gives it: known-answer tests,
 * and an SA moved to another node with its Diffie-Hellman key (the context draft's first way
 * to carry keys). Never for a new exchange: a private key is used once (RFC 6989 2.2).
 */
int hk_ke_new_from_private(const struct hk_crypto *c, uint16_t group, const uint8_t *priv,
                           size_t len, struct hk_ke **out);
/* Wipes the private key (EVP_PKEY_free clears it) and frees; NULL is fine. */
void hk_ke_free(struct hk_ke *k);

uint16_t hk_ke_group(const struct hk_ke *k);
/* Our private value in the form hk_ke_new_from_private takes (MODP: the exponent padded to the
 * modulus size; ECP: the scalar padded to the field size; X25519: 32 octets), in secret memory. */
int hk_ke_private(const struct hk_ke *k, struct hk_secret **out);
/* Copies our public value; len must equal hk_ke_public_len. */
int hk_ke_public(const struct hk_ke *k, uint8_t *out, size_t len);
/*
 * Checks the peer's public value, then computes the shared secret g^ir. HK_E_PEER_KE when
 * the value is rejected: wrong length; MODP outside 1 < y < p-1 (RFC 6989 2.1); ECP not on
 * the curve (RFC 6989 2.3); X25519 giving an all-zero secret (RFC 7748 6.1, RFC 8031).
 */
int hk_ke_derive(struct hk_ke *k, const uint8_t *peer, size_t len, struct hk_secret **shared);

#endif
