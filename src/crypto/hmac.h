/*
 * HMAC (RFC 2104) over OpenSSL digests, for the PRFs (crypto/prf.h), keyed once and then
 * run for as many inputs as the caller needs. Why not EVP_MAC: in OpenSSL 3.0 one HMAC
 * through EVP_MAC (context duplicate, init with key, final, free) costs several times the
 * four hash blocks it computes, in allocations and parameter look-ups. Here the key's
 * inner and outer hash states are computed once into contexts of struct hk_crypto, and
 * each MAC copies them (a key used for one MAC only, hk_hmac_once, runs in them without
 * copies): prf+ and the other PRF calls of an IKE SA run about twice as fast.
 *
 * A keyed struct hk_hmac holds key-equivalent hash states in c's contexts: call
 * hk_hmac_done as soon as the computation ends; it frees those states (OpenSSL clears a
 * digest state when freeing it). One at a time per struct hk_crypto, which is for one
 * thread.
 */
#ifndef HIKE_CRYPTO_HMAC_H
#define HIKE_CRYPTO_HMAC_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "crypto/prf.h"

struct hk_hmac {
    EVP_MD_CTX *ki, *ko, *w; /* key ^ ipad state, key ^ opad state, work; c's contexts */
    size_t hlen;
};

/* Keys h with key (klen may be 0) for md. On failure nothing is left keyed. */
int hk_hmac_init(struct hk_hmac *h, const struct hk_crypto *c, const EVP_MD *md, const uint8_t *key,
                 size_t klen);
/* One MAC with the key: start, any number of updates, final (hlen octets into out). */
int hk_hmac_start(struct hk_hmac *h);
int hk_hmac_update(struct hk_hmac *h, const uint8_t *p, size_t len);
int hk_hmac_final(struct hk_hmac *h, uint8_t *out);
/* out = HMAC(key, seg[0] | ... | seg[nseg-1]): start, updates, final. Any number of
 * times between init and done. */
int hk_hmac_segs(struct hk_hmac *h, const struct hk_prf_seg *seg, size_t nseg, uint8_t *out);
/* One MAC with a key used once: init, the MAC computed in the keyed states themselves (no
 * copies), done. */
int hk_hmac_once(const struct hk_crypto *c, const EVP_MD *md, const uint8_t *key, size_t klen,
                 const struct hk_prf_seg *seg, size_t nseg, uint8_t *out);
/* Clears the keyed states; h can be keyed again. Safe after a failed init. */
void hk_hmac_done(struct hk_hmac *h);

/* For hk_crypto_init/free: the three digest contexts. */
int hk_hmac_prefetch(struct hk_crypto *c);
void hk_hmac_prefetch_free(struct hk_crypto *c);

#endif
