#include "crypto/hmac.h"
#include "common/err.h"

#include <openssl/core_names.h>
#include <stdlib.h>

/*
 * The key a context holds when idle: the empty key, not secret. A non-NULL pointer, because
 * EVP_MAC_init with a NULL key means "the previous key again", not "the empty key".
 */
static const uint8_t empty_key[1];

/* An HMAC context for md, keyed with the empty key so that it is never left unkeyed. */
static EVP_MAC_CTX *hmac_ctx_new(EVP_MAC *mac, const EVP_MD *md)
{
    if (!mac || !md)
        return NULL;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)EVP_MD_get0_name(md), 0),
        OSSL_PARAM_construct_end(),
    };
    if (ctx && EVP_MAC_init(ctx, empty_key, 0, p))
        return ctx;
    EVP_MAC_CTX_free(ctx);
    return NULL;
}

/* c->hmac_ctx's slot for md, one of c's digests; NULL for another. */
static EVP_MAC_CTX **slot_of(const struct hk_crypto *c, const EVP_MD *md)
{
    if (!md || !c->hmac_ctx)
        return NULL;
    const EVP_MD *mds[HK_CRYPTO_HMAC_MDS] = {c->sha256, c->sha384, c->sha512};
    for (size_t i = 0; i < HK_CRYPTO_HMAC_MDS; i++) {
        if (md == mds[i])
            return &c->hmac_ctx[i];
    }
    return NULL;
}

int hk_hmac_prefetch(struct hk_crypto *c)
{
    /* Behind a pointer so that hk_hmac_done can replace a context through a const c. */
    if (!(c->hmac_ctx = calloc(HK_CRYPTO_HMAC_MDS, sizeof(*c->hmac_ctx))))
        return HK_E_NOMEM;
    const EVP_MD *mds[HK_CRYPTO_HMAC_MDS] = {c->sha256, c->sha384, c->sha512};
    for (size_t i = 0; i < HK_CRYPTO_HMAC_MDS; i++) {
        if (!(c->hmac_ctx[i] = hmac_ctx_new(c->hmac, mds[i]))) {
            hk_hmac_prefetch_free(c);
            return HK_E_CRYPTO;
        }
    }
    return HK_OK;
}

void hk_hmac_prefetch_free(struct hk_crypto *c)
{
    if (!c->hmac_ctx)
        return;
    for (size_t i = 0; i < HK_CRYPTO_HMAC_MDS; i++)
        EVP_MAC_CTX_free(c->hmac_ctx[i]); /* OpenSSL clears the key and states it frees */
    free(c->hmac_ctx);
    c->hmac_ctx = NULL;
}

void hk_hmac_done(struct hk_hmac *h)
{
    if (!h->ctx)
        return;
    /*
     * Re-keying with the empty key replaces everything the secret key left: OpenSSL 3.0's
     * HMAC clears and frees its copy of the key and recomputes the inner and outer states
     * (freeing the old ones cleared). It costs two hash blocks and a small allocation (about
     * 0.3 us), less than freeing the context and building a new one (a digest fetch by name
     * and half a dozen allocations). Should it fail (out of memory), the context goes, and
     * the next init builds another.
     */
    if (*h->ctx && !EVP_MAC_init(*h->ctx, empty_key, 0, NULL)) {
        EVP_MAC_CTX_free(*h->ctx);
        *h->ctx = NULL;
    }
    h->ctx = NULL;
}

int hk_hmac_init(struct hk_hmac *h, const struct hk_crypto *c, const EVP_MD *md, const uint8_t *key,
                 size_t klen)
{
    h->ctx = NULL;
    h->fresh = false;
    EVP_MAC_CTX **slot = slot_of(c, md);
    int hl = md ? EVP_MD_get_size(md) : 0;
    if (!slot || hl <= 0)
        return HK_E_CRYPTO;
    if (!key && klen)
        return HK_E_INVALID;
    if (!*slot && !(*slot = hmac_ctx_new(c->hmac, md)))
        return HK_E_NOMEM;
    h->ctx = slot;
    h->hlen = (size_t)hl;
    /* RFC 2104 2: OpenSSL hashes a key longer than the block and pads a shorter one. */
    if (!EVP_MAC_init(*slot, key ? key : empty_key, klen, NULL)) {
        hk_hmac_done(h); /* a half-made keying may hold the key */
        return HK_E_CRYPTO;
    }
    h->fresh = true;
    return HK_OK;
}

int hk_hmac_start(struct hk_hmac *h)
{
    if (!h->ctx || !*h->ctx)
        return HK_E_INVALID;
    /* Keying left the context ready for a first MAC: re-initialising would copy a state
     * for nothing. */
    if (h->fresh) {
        h->fresh = false;
        return HK_OK;
    }
    return EVP_MAC_init(*h->ctx, NULL, 0, NULL) ? HK_OK : HK_E_CRYPTO;
}

int hk_hmac_update(struct hk_hmac *h, const uint8_t *p, size_t len)
{
    return !len || EVP_MAC_update(*h->ctx, p, len) ? HK_OK : HK_E_CRYPTO;
}

int hk_hmac_final(struct hk_hmac *h, uint8_t *out)
{
    size_t n = 0;
    h->fresh = false;
    return EVP_MAC_final(*h->ctx, out, &n, h->hlen) && n == h->hlen ? HK_OK : HK_E_CRYPTO;
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
    if (!rc)
        rc = hk_hmac_segs(&h, seg, nseg, out);
    hk_hmac_done(&h);
    return rc;
}
