#include "crypto/hmac.h"
#include "common/err.h"
#include "common/secret.h"

#include <string.h>

/* The largest digest block (SHA-384/512: 128 octets, FIPS 180-4). */
#define MAX_BLOCK 128

int hk_hmac_prefetch(struct hk_crypto *c)
{
    for (size_t i = 0; i < HK_CRYPTO_HMAC_CTX; i++) {
        if (!(c->hmac_md[i] = EVP_MD_CTX_new())) {
            hk_hmac_prefetch_free(c);
            return HK_E_NOMEM;
        }
    }
    return HK_OK;
}

void hk_hmac_prefetch_free(struct hk_crypto *c)
{
    for (size_t i = 0; i < HK_CRYPTO_HMAC_CTX; i++) {
        EVP_MD_CTX_free(c->hmac_md[i]);
        c->hmac_md[i] = NULL;
    }
}

void hk_hmac_done(struct hk_hmac *h)
{
    /* Reset frees each provider digest state, which OpenSSL clears first. */
    if (h->ki)
        EVP_MD_CTX_reset(h->ki);
    if (h->ko)
        EVP_MD_CTX_reset(h->ko);
    if (h->w)
        EVP_MD_CTX_reset(h->w);
}

/* ctx = the digest state after one block of key ^ pad. */
static int pad_state(EVP_MD_CTX *ctx, const EVP_MD *md, const uint8_t *k0, size_t block,
                     uint8_t pad)
{
    uint8_t b[MAX_BLOCK];
    for (size_t i = 0; i < block; i++)
        b[i] = k0[i] ^ pad;
    int ok = EVP_DigestInit_ex2(ctx, md, NULL) && EVP_DigestUpdate(ctx, b, block);
    hk_wipe(b, block);
    return ok ? HK_OK : HK_E_CRYPTO;
}

int hk_hmac_init(struct hk_hmac *h, const struct hk_crypto *c, const EVP_MD *md, const uint8_t *key,
                 size_t klen)
{
    h->ki = c->hmac_md[0];
    h->ko = c->hmac_md[1];
    h->w = c->hmac_md[2];
    int hl = md ? EVP_MD_get_size(md) : 0, bl = md ? EVP_MD_get_block_size(md) : 0;
    if (!h->ki || !h->ko || !h->w || hl <= 0 || bl <= 0 || bl > MAX_BLOCK || hl > bl)
        return HK_E_CRYPTO;
    if (!key && klen)
        return HK_E_INVALID;
    h->hlen = (size_t)hl;
    size_t block = (size_t)bl;
    /* RFC 2104 2: K0 is the key padded with zeros, or its hash when longer than a block. */
    uint8_t k0[MAX_BLOCK] = {0};
    int rc = HK_OK;
    if (klen > block) {
        unsigned int n = 0;
        if (!EVP_DigestInit_ex2(h->w, md, NULL) || !EVP_DigestUpdate(h->w, key, klen) ||
            !EVP_DigestFinal_ex(h->w, k0, &n))
            rc = HK_E_CRYPTO;
    } else if (klen) {
        memcpy(k0, key, klen);
    }
    if (!rc)
        rc = pad_state(h->ki, md, k0, block, 0x36);
    if (!rc)
        rc = pad_state(h->ko, md, k0, block, 0x5c);
    hk_wipe(k0, block); /* only the first block octets were ever written */
    if (rc)
        hk_hmac_done(h);
    return rc;
}

int hk_hmac_start(struct hk_hmac *h)
{
    return EVP_MD_CTX_copy_ex(h->w, h->ki) ? HK_OK : HK_E_CRYPTO;
}

int hk_hmac_update(struct hk_hmac *h, const uint8_t *p, size_t len)
{
    return !len || EVP_DigestUpdate(h->w, p, len) ? HK_OK : HK_E_CRYPTO;
}

/* HMAC = H(K0 ^ opad | H(K0 ^ ipad | text)) (RFC 2104 2): in is the inner hash so far, outer
 * the K0 ^ opad state (both finished here). */
static int finish(EVP_MD_CTX *in, EVP_MD_CTX *outer, size_t hlen, uint8_t *out)
{
    uint8_t inner[EVP_MAX_MD_SIZE];
    unsigned int n = 0, m = 0;
    int ok = EVP_DigestFinal_ex(in, inner, &n) && n == hlen && EVP_DigestUpdate(outer, inner, n) &&
             EVP_DigestFinal_ex(outer, out, &m) && m == hlen;
    hk_wipe(inner, hlen);
    return ok ? HK_OK : HK_E_CRYPTO;
}

int hk_hmac_final(struct hk_hmac *h, uint8_t *out)
{
    /* w becomes the outer state only after the inner hash is out of it. */
    uint8_t inner[EVP_MAX_MD_SIZE];
    unsigned int n = 0, m = 0;
    int ok = EVP_DigestFinal_ex(h->w, inner, &n) && n == h->hlen &&
             EVP_MD_CTX_copy_ex(h->w, h->ko) && EVP_DigestUpdate(h->w, inner, n) &&
             EVP_DigestFinal_ex(h->w, out, &m) && m == h->hlen;
    hk_wipe(inner, h->hlen);
    return ok ? HK_OK : HK_E_CRYPTO;
}

int hk_hmac_segs(struct hk_hmac *h, const struct hk_prf_seg *seg, size_t nseg, uint8_t *out)
{
    int rc = hk_hmac_start(h);
    for (size_t i = 0; !rc && i < nseg; i++)
        rc = hk_hmac_update(h, seg[i].p, seg[i].len);
    return rc ? rc : hk_hmac_final(h, out);
}

int hk_hmac_once(const struct hk_crypto *c, const EVP_MD *md, const uint8_t *key, size_t klen,
                 const struct hk_prf_seg *seg, size_t nseg, uint8_t *out)
{
    struct hk_hmac h;
    int rc = hk_hmac_init(&h, c, md, key, klen);
    for (size_t i = 0; !rc && i < nseg; i++) {
        if (seg[i].len && !EVP_DigestUpdate(h.ki, seg[i].p, seg[i].len))
            rc = HK_E_CRYPTO;
    }
    if (!rc)
        rc = finish(h.ki, h.ko, h.hlen, out);
    hk_hmac_done(&h);
    return rc;
}
