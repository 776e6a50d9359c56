#include "crypto/rng.h"
#include "common/err.h"
#include "common/secret.h"

#include <openssl/rand.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(HK_RNG_BUF <= INT_MAX && HK_RNG_MAX_DRAW <= HK_RNG_BUF, "rng sizes");

struct hk_rng {
    OSSL_LIB_CTX *libctx;
    bool priv;
    size_t pos;            /* octets before pos are handed out (and zero) */
    struct hk_secret *buf; /* HK_RNG_BUF octets */
};

static int draw(const struct hk_rng *r, unsigned char *buf, size_t len)
{
    if (len > INT_MAX)
        return HK_E_INVALID;
    int ok = r->priv ? RAND_priv_bytes_ex(r->libctx, buf, len, 0)
                     : RAND_bytes_ex(r->libctx, buf, len, 0);
    return ok == 1 ? HK_OK : HK_E_CRYPTO;
}

int hk_rng_new(OSSL_LIB_CTX *libctx, bool priv, struct hk_rng **out)
{
    *out = NULL;
    struct hk_rng *r = calloc(1, sizeof(*r));
    if (!r)
        return HK_E_NOMEM;
    r->buf = hk_secret_new(HK_RNG_BUF);
    if (!r->buf) {
        free(r);
        return HK_E_NOMEM;
    }
    r->libctx = libctx;
    r->priv = priv;
    r->pos = HK_RNG_BUF; /* empty: the first draw refills */
    *out = r;
    return HK_OK;
}

void hk_rng_free(struct hk_rng *r)
{
    if (!r)
        return;
    hk_secret_free(&r->buf);
    free(r);
}

void hk_rng_reset(struct hk_rng *r)
{
    if (!r)
        return;
    hk_wipe(r->buf->data, HK_RNG_BUF);
    r->pos = HK_RNG_BUF;
}

size_t hk_rng_avail(const struct hk_rng *r)
{
    return HK_RNG_BUF - r->pos;
}

const unsigned char *hk_rng_buffer(const struct hk_rng *r)
{
    return r->buf->data;
}

int hk_rng_bytes(struct hk_rng *r, void *buf, size_t len)
{
    if (!r)
        return HK_E_CRYPTO; /* hk_crypto_init failed or was not called */
    if (!len)
        return HK_OK;
    if (!buf)
        return HK_E_INVALID;
    if (len > HK_RNG_MAX_DRAW)
        return draw(r, buf, len);
    if (len > hk_rng_avail(r)) {
        /* The few octets left over are overwritten, never handed out. */
        int rc = draw(r, r->buf->data, HK_RNG_BUF);
        if (rc) {
            hk_rng_reset(r);
            return rc;
        }
        r->pos = 0;
    }
    uint8_t *p = r->buf->data + r->pos;
    memcpy(buf, p, len);
    hk_wipe(p, len); /* a handed-out octet leaves no copy behind */
    r->pos += len;
    return HK_OK;
}
