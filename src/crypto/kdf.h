/*
 * IKEv2 key derivation: SKEYSEED and SK_* for an IKE SA (RFC 7296 2.14), SKEYSEED for a
 * rekeyed IKE SA (2.18), and KEYMAT for Child SAs (2.17). Every key is returned in its own
 * struct hk_secret, zeroed when freed.
 */
#ifndef HIKE_CRYPTO_KDF_H
#define HIKE_CRYPTO_KDF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/secret.h"
#include "crypto/crypto.h"

/* The negotiated IKE SA transforms (crypto/alg.h IDs). */
struct hk_ike_alg {
    uint16_t encr;
    uint16_t encr_key_bits; /* Key Length attribute; 0 when absent */
    uint16_t prf;
    uint16_t integ; /* HK_AUTH_NONE with an AEAD cipher */
    uint16_t ke;
};

/* True for combined-mode ciphers (AES-GCM-16, ChaCha20-Poly1305), which take no integ key. */
bool hk_encr_is_aead(uint16_t encr);
/*
 * Encryption key octets taken from the key stream, salt included: AES-CBC key only
 * (RFC 3602), AES-GCM key + 4 salt (RFC 5282 7.1, RFC 4106 8.1), ChaCha20-Poly1305
 * 32 + 4 salt (RFC 7634 2, 3). 0 when the cipher or key length is not supported (AES-GCM
 * takes 128 or 256 bits, the ciphers struct hk_crypto holds). Holds for SK_e* and ESP alike.
 */
size_t hk_encr_key_len(uint16_t encr, uint16_t key_bits);
/* Integrity key octets (RFC 4868 2.1.1: the hash length); 0 for NONE or unknown. */
size_t hk_integ_key_len(uint16_t integ);

struct hk_ike_keys {
    struct hk_secret *sk_d;
    struct hk_secret *sk_ai, *sk_ar; /* NULL with an AEAD cipher */
    struct hk_secret *sk_ei, *sk_er; /* include the salt for AEAD ciphers */
    struct hk_secret *sk_pi, *sk_pr;
};

/* SKEYSEED = prf(Ni | Nr, g^ir) (RFC 7296 2.14). Nonces are at most 256 octets (2.10). */
int hk_skeyseed(const struct hk_crypto *c, uint16_t prf, const uint8_t *ni, size_t nilen,
                const uint8_t *nr, size_t nrlen, const uint8_t *g_ir, size_t glen,
                struct hk_secret **out);

/*
 * SKEYSEED for an IKE SA rekeyed by CREATE_CHILD_SA (RFC 7296 2.18):
 *     SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr)
 * 2.18: "Because the rekeying exchange belongs to the old IKE SA, it is the old IKE SA's
 * PRF that is used to generate SKEYSEED." So prf here is the OLD SA's PRF; the new SA's
 * SK_* then come from hk_ike_keys_derive with the NEW SA's algorithms, SPIs and nonces.
 */
int hk_skeyseed_rekey(const struct hk_crypto *c, uint16_t old_prf, const struct hk_secret *sk_d_old,
                      const uint8_t *g_ir_new, size_t glen, const uint8_t *ni, size_t nilen,
                      const uint8_t *nr, size_t nrlen, struct hk_secret **out);

/*
 * {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)
 * (RFC 7296 2.14), sized by alg. SPIs are the IKE header's, initiator's first. On failure
 * out is left empty.
 */
int hk_ike_keys_derive(const struct hk_crypto *c, const struct hk_ike_alg *alg,
                       const struct hk_secret *skeyseed, const uint8_t *ni, size_t nilen,
                       const uint8_t *nr, size_t nrlen, const uint8_t spi_i[8],
                       const uint8_t spi_r[8], struct hk_ike_keys *out);
void hk_ike_keys_free(struct hk_ike_keys *k);

/*
 * KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr) (RFC 7296 2.17); g_ir NULL without PFS.
 * len octets, at most 255 PRF outputs (HK_E_OVERFLOW beyond).
 */
int hk_child_keymat(const struct hk_crypto *c, uint16_t prf, const struct hk_secret *sk_d,
                    const uint8_t *g_ir, size_t glen, const uint8_t *ni, size_t nilen,
                    const uint8_t *nr, size_t nrlen, size_t len, struct hk_secret **out);

/* The keys of one ESP SA pair. ir = initiator to responder, ri = the reverse. */
struct hk_child_keys {
    struct hk_secret *encr_ir, *integ_ir; /* a key of length 0 is NULL (AEAD: no integ) */
    struct hk_secret *encr_ri, *integ_ri;
};

/* KEYMAT octets one ESP SA pair takes: 2 * (encr + integ). */
size_t hk_child_keymat_len(size_t encr_len, size_t integ_len);
/*
 * Splits KEYMAT for one ESP SA pair in the order of RFC 7296 2.17: all keys for the
 * initiator-to-responder SA first, each SA's encryption key before its integrity key
 * (RFC 4301). keymat must be exactly hk_child_keymat_len octets.
 */
int hk_child_keys_split(const struct hk_secret *keymat, size_t encr_len, size_t integ_len,
                        struct hk_child_keys *out);
void hk_child_keys_free(struct hk_child_keys *k);

#endif
