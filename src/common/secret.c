#include "common/secret.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

struct hk_secret *hk_secret_new(size_t len)
{
    if (len > SIZE_MAX - sizeof(struct hk_secret))
        return NULL;
    struct hk_secret *s = calloc(1, sizeof(*s) + len);
    if (s)
        s->len = len;
    return s;
}

struct hk_secret *hk_secret_dup(const uint8_t *p, size_t len)
{
    struct hk_secret *s = hk_secret_new(len);
    if (s && len)
        memcpy(s->data, p, len);
    return s;
}

struct hk_secret *hk_secret_concat(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    if (alen > SIZE_MAX - blen)
        return NULL;
    struct hk_secret *s = hk_secret_new(alen + blen);
    if (!s)
        return NULL;
    if (alen)
        memcpy(s->data, a, alen);
    if (blen)
        memcpy(s->data + alen, b, blen);
    return s;
}

void hk_secret_free(struct hk_secret **s)
{
    if (!s || !*s)
        return;
    OPENSSL_cleanse((*s)->data, (*s)->len);
    free(*s);
    *s = NULL;
}

void hk_wipe(void *p, size_t len)
{
    if (p && len)
        OPENSSL_cleanse(p, len);
}

int hk_memeq_ct(const void *a, const void *b, size_t len)
{
    return CRYPTO_memcmp(a, b, len);
}
