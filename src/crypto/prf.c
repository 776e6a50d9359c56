#include "crypto/prf.h"
#include "common/err.h"
#include "common/secret.h"
#include "crypto/alg.h"

#include <openssl/core_names.h>
#include <string.h>

size_t hk_prf_out_len(uint16_t prf_id)
{
    switch (prf_id) {
    case HK_PRF_HMAC_SHA2_256:
        return 32;
    case HK_PRF_HMAC_SHA2_384:
        return 48;
    case HK_PRF_HMAC_SHA2_512:
        return 64;
    }
    return 0;
}

size_t hk_prf_key_len(uint16_t prf_id)
{
    return hk_prf_out_len(prf_id); /* RFC 7296 2.13: HMAC PRFs prefer the hash length */
}

/* An HMAC context for prf_id, keyed and ready for input. */
static int mac_start(const struct hk_crypto *c, uint16_t prf_id, const uint8_t *key, size_t klen,
                     EVP_MAC_CTX **out)
{
    static const uint8_t empty[1];
    size_t hlen = hk_prf_out_len(prf_id);
    if (!hlen)
        return HK_E_UNSUPPORTED;
    if (!key && klen)
        return HK_E_INVALID;
    EVP_MAC_CTX *ctx = hk_crypto_hmac_new(c, hlen);
    if (!ctx)
        return HK_E_NOMEM;
    /* A NULL key would mean "keep the old key"; an empty key is still a key. */
    if (!EVP_MAC_init(ctx, klen ? key : empty, klen, NULL)) {
        EVP_MAC_CTX_free(ctx);
        return HK_E_CRYPTO;
    }
    *out = ctx;
    return HK_OK;
}

static int mac_update_segs(EVP_MAC_CTX *ctx, const struct hk_prf_seg *seg, size_t nseg)
{
    for (size_t i = 0; i < nseg; i++) {
        if (seg[i].len && !EVP_MAC_update(ctx, seg[i].p, seg[i].len))
            return HK_E_CRYPTO;
    }
    return HK_OK;
}

static int mac_final(EVP_MAC_CTX *ctx, uint8_t *out, size_t hlen)
{
    size_t n = 0;
    if (!EVP_MAC_final(ctx, out, &n, hlen) || n != hlen)
        return HK_E_CRYPTO;
    return HK_OK;
}

int hk_prf_segs(const struct hk_crypto *c, uint16_t prf_id, const uint8_t *key, size_t klen,
                const struct hk_prf_seg *seg, size_t nseg, uint8_t *out)
{
    size_t hlen = hk_prf_out_len(prf_id);
    EVP_MAC_CTX *ctx;
    int r = mac_start(c, prf_id, key, klen, &ctx);
    if (r)
        return r;
    r = mac_update_segs(ctx, seg, nseg);
    if (!r)
        r = mac_final(ctx, out, hlen);
    EVP_MAC_CTX_free(ctx);
    if (r)
        hk_wipe(out, hlen);
    return r;
}

int hk_prf(const struct hk_crypto *c, uint16_t prf_id, const uint8_t *key, size_t klen,
           const uint8_t *data, size_t dlen, uint8_t *out)
{
    const struct hk_prf_seg seg = {data, dlen};
    return hk_prf_segs(c, prf_id, key, klen, &seg, 1, out);
}

/*
 * RFC 7296 2.13: T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n); output T1 | T2 | ...
 * One keyed context serves every iteration: re-initialising without a key restarts it
 * with the same key. Whole blocks are written straight into out.
 */
int hk_prf_plus_segs(const struct hk_crypto *c, uint16_t prf_id, const uint8_t *key, size_t klen,
                     const struct hk_prf_seg *seg, size_t nseg, uint8_t *out, size_t outlen)
{
    size_t hlen = hk_prf_out_len(prf_id);
    if (!hlen)
        return HK_E_UNSUPPORTED;
    if (outlen > HK_PRF_PLUS_MAX_ITER * hlen)
        return HK_E_OVERFLOW; /* RFC 7296 2.13: not defined beyond 255 iterations */
    if (!outlen)
        return HK_OK;
    if (!out)
        return HK_E_INVALID;
    EVP_MAC_CTX *ctx;
    int r = mac_start(c, prf_id, key, klen, &ctx);
    if (r)
        return r;
    uint8_t tail[HK_PRF_MAX_OUT];
    const uint8_t *prev = NULL;
    size_t done = 0;
    for (unsigned i = 1; done < outlen && !r; i++) {
        const uint8_t ctr = (uint8_t)i;
        size_t take = outlen - done < hlen ? outlen - done : hlen;
        uint8_t *t = take == hlen ? out + done : tail;
        if ((prev && (!EVP_MAC_init(ctx, NULL, 0, NULL) || !EVP_MAC_update(ctx, prev, hlen))) ||
            mac_update_segs(ctx, seg, nseg) || !EVP_MAC_update(ctx, &ctr, 1) ||
            mac_final(ctx, t, hlen)) {
            r = HK_E_CRYPTO;
            break;
        }
        if (t == tail)
            memcpy(out + done, tail, take);
        prev = t;
        done += take;
    }
    hk_wipe(tail, sizeof(tail));
    EVP_MAC_CTX_free(ctx);
    if (r)
        hk_wipe(out, outlen);
    return r;
}

int hk_prf_plus(const struct hk_crypto *c, uint16_t prf_id, const uint8_t *key, size_t klen,
                const uint8_t *seed, size_t slen, uint8_t *out, size_t outlen)
{
    const struct hk_prf_seg seg = {seed, slen};
    return hk_prf_plus_segs(c, prf_id, key, klen, &seg, 1, out, outlen);
}
