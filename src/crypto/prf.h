/*
 * IKEv2 pseudo-random functions (transform type 2) and prf+ (RFC 7296 2.13).
 * Only the HMAC-SHA2 PRFs of RFC 4868 are implemented.
 */
#ifndef HIKE_CRYPTO_PRF_H
#define HIKE_CRYPTO_PRF_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

/* One piece of a PRF input: prf(K, seg[0] | seg[1] | ...) without concatenating. */
struct hk_prf_seg {
    const uint8_t *p;
    size_t len;
};

/* Largest PRF output (HMAC-SHA-512). */
#define HK_PRF_MAX_OUT 64
/* prf+ is not defined beyond 255 iterations (RFC 7296 2.13). */
#define HK_PRF_PLUS_MAX_ITER 255

/* Output length in octets, 0 for an unknown PRF. */
size_t hk_prf_out_len(uint16_t prf_id);
/* Preferred key length (RFC 7296 2.13: the hash output for HMAC PRFs), 0 if unknown. */
size_t hk_prf_key_len(uint16_t prf_id);

/* out (hk_prf_out_len octets) = prf(key, data). */
int hk_prf(const struct hk_crypto *c, uint16_t prf_id, const uint8_t *key, size_t klen,
           const uint8_t *data, size_t dlen, uint8_t *out);
/* out = prf(key, seg[0] | ... | seg[nseg-1]). */
int hk_prf_segs(const struct hk_crypto *c, uint16_t prf_id, const uint8_t *key, size_t klen,
                const struct hk_prf_seg *seg, size_t nseg, uint8_t *out);

/*
 * out (outlen octets) = first outlen octets of prf+(key, seed). HK_E_OVERFLOW when that
 * takes more than 255 PRF iterations. On failure out is wiped. out must not overlap key
 * or seed: whole blocks are written into it as they are computed.
 */
int hk_prf_plus(const struct hk_crypto *c, uint16_t prf_id, const uint8_t *key, size_t klen,
                const uint8_t *seed, size_t slen, uint8_t *out, size_t outlen);
/* prf+ with the seed given in pieces: S = seg[0] | ... | seg[nseg-1]. */
int hk_prf_plus_segs(const struct hk_crypto *c, uint16_t prf_id, const uint8_t *key, size_t klen,
                     const struct hk_prf_seg *seg, size_t nseg, uint8_t *out, size_t outlen);

#endif
