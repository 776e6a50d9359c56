#include "crypto/prf.h"
#include "common/err.h"
#include "common/secret.h"
#include "crypto/alg.h"
#include "crypto/hmac.h"

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

/* The digest of an HMAC PRF, or NULL. */
static const EVP_MD *prf_md(const struct hk_crypto *c, uint16_t prf_id)
{
    size_t hlen = hk_prf_out_len(prf_id);
    return hlen ? hk_crypto_md_by_len(c, hlen) : NULL;
}

int hk_prf_segs(const struct hk_crypto *c, uint16_t prf_id, const uint8_t *key, size_t klen,
                const struct hk_prf_seg *seg, size_t nseg, uint8_t *out)
{
    const EVP_MD *md = prf_md(c, prf_id);
    if (!md)
        return HK_E_UNSUPPORTED;
    int r = hk_hmac_once(c, md, key, klen, seg, nseg, out);
    if (r)
        hk_wipe(out, hk_prf_out_len(prf_id));
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
 * The key is set up once (crypto/hmac.h) for every iteration. Whole blocks are written
 * straight into out.
 */
int hk_prf_plus_segs(const struct hk_crypto *c, uint16_t prf_id, const uint8_t *key, size_t klen,
                     const struct hk_prf_seg *seg, size_t nseg, uint8_t *out, size_t outlen)
{
    size_t hlen = hk_prf_out_len(prf_id);
    const EVP_MD *md = prf_md(c, prf_id);
    if (!md)
        return HK_E_UNSUPPORTED;
    if (outlen > HK_PRF_PLUS_MAX_ITER * hlen)
        return HK_E_OVERFLOW; /* RFC 7296 2.13: not defined beyond 255 iterations */
    if (!outlen)
        return HK_OK;
    if (!out)
        return HK_E_INVALID;
    struct hk_hmac h;
    int r = hk_hmac_init(&h, c, md, key, klen);
    if (r)
        return r;
    uint8_t tail[HK_PRF_MAX_OUT];
    const uint8_t *prev = NULL;
    size_t done = 0;
    for (unsigned i = 1; done < outlen && !r; i++) {
        const uint8_t ctr = (uint8_t)i;
        size_t take = outlen - done < hlen ? outlen - done : hlen;
        uint8_t *t = take == hlen ? out + done : tail;
        if ((r = hk_hmac_start(&h)) || (prev && (r = hk_hmac_update(&h, prev, hlen))))
            break;
        for (size_t j = 0; j < nseg && !r; j++)
            r = hk_hmac_update(&h, seg[j].p, seg[j].len);
        if (r || (r = hk_hmac_update(&h, &ctr, 1)) || (r = hk_hmac_final(&h, t)))
            break;
        if (t == tail)
            memcpy(out + done, tail, take);
        prev = t;
        done += take;
    }
    hk_hmac_done(&h);
    hk_wipe(tail, sizeof(tail));
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
