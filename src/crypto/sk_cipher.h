/*
 * The transform pair that protects an Encrypted (SK) payload: an AEAD (AES-GCM-16,
 * ChaCha20-Poly1305) or AES-CBC with a truncated HMAC. The same constructions serve
 * ESP (RFC 4106, RFC 7634), so nothing here knows about IKE framing: the caller
 * passes the associated data, the IV, the padded plaintext and room for the ICV.
 *
 * Each object keeps its keys and builds its OpenSSL contexts when first needed, the sealing
 * one at the first seal and the opening one at the first open (an SA direction needs only
 * one); after that seal and open only reset the IV, so the per-message path allocates
 * nothing. hk_sk_cipher_idle drops the contexts (about 1.1 KiB each) of an object that
 * will not be used for a while; the next seal or open builds them again. One object is not
 * thread-safe.
 */
#ifndef HIKE_CRYPTO_SK_CIPHER_H
#define HIKE_CRYPTO_SK_CIPHER_H

#include "crypto/crypto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hk_sk_cipher;

/*
 * encr: HK_ENCR_*; key_bits: 128/256 for AES-GCM, 128/192/256 for AES-CBC, 0 or 256 for
 * ChaCha20-Poly1305. integ: HK_AUTH_NONE for an AEAD, an HMAC-SHA2 transform for CBC.
 * ekey: the encryption key; for an AEAD the key followed by its 4-octet salt
 * (RFC 5282 7.1, RFC 7634 2). ikey: the integrity key (hash-length octets, RFC 4868 2.1.1).
 * HK_E_INVALID for a bad combination or key length, HK_E_UNSUPPORTED for an unknown ID.
 */
int hk_sk_cipher_new(const struct hk_crypto *c, uint16_t encr, uint16_t key_bits, uint16_t integ,
                     const uint8_t *ekey, size_t eklen, const uint8_t *ikey, size_t iklen,
                     struct hk_sk_cipher **out);
/* Wipes the keys and frees; NULL is fine. */
void hk_sk_cipher_free(struct hk_sk_cipher *s);
/* Frees the OpenSSL contexts (their key schedules are cleansed), keeps the keys; NULL is
 * fine. The next seal or open rebuilds what it needs. */
void hk_sk_cipher_idle(struct hk_sk_cipher *s);
/* True when no OpenSSL context is built (new, or idle since the last use). */
bool hk_sk_cipher_is_idle(const struct hk_sk_cipher *s);

/* Octets of explicit IV carried before the ciphertext: 8 (AEAD) or 16 (CBC). */
size_t hk_sk_cipher_iv_len(const struct hk_sk_cipher *s);
/*
 * A fresh random IV (hk_sk_cipher_iv_len octets) for the next seal, from the buffered
 * source of the struct hk_crypto the object was made with (which must outlive it):
 * unpredictable as RFC 7296 3.14 asks for CBC, and for an AEAD repeating only by chance
 * (64 random bits; an SK key seals few messages).
 */
int hk_sk_cipher_new_iv(struct hk_sk_cipher *s, uint8_t *iv);
/* What the plaintext length must be a multiple of: 16 for CBC, 1 for an AEAD (RFC 5282 3). */
size_t hk_sk_cipher_block_len(const struct hk_sk_cipher *s);
/* Octets of ICV after the ciphertext: 16 for the AEADs, 16/24/32 for the HMACs. */
size_t hk_sk_cipher_icv_len(const struct hk_sk_cipher *s);

/*
 * Encrypts data[0..len) in place and writes icv_len octets to icv. For an AEAD, aad is
 * authenticated but not encrypted (for SK: IKE header through SK payload header, RFC 5282
 * 5.1); the IV must never repeat under one key. For CBC the ICV is the truncated HMAC over
 * aad | iv | ciphertext (RFC 7296 3.14). HK_E_LENGTH when len is not a block multiple.
 */
int hk_sk_cipher_seal(struct hk_sk_cipher *s, const uint8_t *aad, size_t aadlen, const uint8_t *iv,
                      uint8_t *data, size_t len, uint8_t *icv);
/*
 * Verifies icv and decrypts data[0..len) in place. HK_E_AUTH when the ICV does not match
 * (data is then zeroed for an AEAD and untouched for CBC), HK_E_LENGTH as for seal.
 */
int hk_sk_cipher_open(struct hk_sk_cipher *s, const uint8_t *aad, size_t aadlen, const uint8_t *iv,
                      uint8_t *data, size_t len, const uint8_t *icv);

#endif
