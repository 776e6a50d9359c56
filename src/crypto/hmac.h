/*
 * HMAC (RFC 2104) for the PRFs (crypto/prf.h), keyed once and then run for as many inputs
 * as the caller needs: OpenSSL's own HMAC through EVP_MAC, in long-lived contexts of
 * struct hk_crypto (one per digest, digest set once). Why not a fresh EVP_MAC context per
 * MAC: in OpenSSL 3.0 duplicating one, keying it and freeing it costs several times the
 * four hash blocks it computes, in allocations and parameter look-ups. Keying an existing
 * context computes the key's inner and outer hash states once; each further MAC with the
 * same key re-initialises from them: EVP_MAC_init with no key, which OpenSSL 3.0's HMAC
 * provider takes as "same key again" (tests/unit/test_hmac.c checks it on the OpenSSL in use).
 *
 * A keyed struct hk_hmac leaves key-equivalent state (the key's copy and hash states) in
 * c's context: call hk_hmac_done as soon as the computation ends; it re-keys the context
 * with the empty key, so none of the secret key's state is left. One at a time per struct
 * hk_crypto, which is for one thread.
 */
#ifndef HIKE_CRYPTO_HMAC_H
#define HIKE_CRYPTO_HMAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "crypto/prf.h"

struct hk_hmac {
    EVP_MAC_CTX **ctx; /* c's context for the digest (its slot in c->hmac_ctx) */
    size_t hlen;
    bool fresh; /* keyed and no MAC started yet: the context is ready for the first */
};

/* Keys h with key (klen may be 0) for md, one of c's SHA-256/384/512. On failure nothing
 * is left keyed. */
int hk_hmac_init(struct hk_hmac *h, const struct hk_crypto *c, const EVP_MD *md, const uint8_t *key,
                 size_t klen);
/* One MAC with the key: start, any number of updates, final (hlen octets into out). */
int hk_hmac_start(struct hk_hmac *h);
int hk_hmac_update(struct hk_hmac *h, const uint8_t *p, size_t len);
int hk_hmac_final(struct hk_hmac *h, uint8_t *out);
/* out = HMAC(key, seg[0] | ... | seg[nseg-1]): start, updates, final. Any number of
 * times between init and done. */
int hk_hmac_segs(struct hk_hmac *h, const struct hk_prf_seg *seg, size_t nseg, uint8_t *out);
/* One MAC with a key used once: init, the MAC, done. */
int hk_hmac_once(const struct hk_crypto *c, const EVP_MD *md, const uint8_t *key, size_t klen,
                 const struct hk_prf_seg *seg, size_t nseg, uint8_t *out);
/* Clears the keyed state: the context holds the empty key's after it; h can be keyed
 * again. Safe after a failed init, and twice. */
void hk_hmac_done(struct hk_hmac *h);

/* For hk_crypto_init/free: c->hmac_ctx, one HMAC context per digest. */
int hk_hmac_prefetch(struct hk_crypto *c);
void hk_hmac_prefetch_free(struct hk_crypto *c);

#endif
