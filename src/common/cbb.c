#include "common/cbb.h"
#include "common/err.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

int hk_cbb_init(struct hk_cbb *b, size_t reserve, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
    if (reserve) {
        b->buf = malloc(reserve);
        if (!b->buf)
            return b->err = HK_E_NOMEM;
        b->cap = reserve;
    }
    return HK_OK;
}

void hk_cbb_init_buf(struct hk_cbb *b, uint8_t *buf, size_t len, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
    b->buf = buf;
    b->cap = buf ? len : 0;
    b->borrowed = buf != NULL;
}

void hk_cbb_free(struct hk_cbb *b)
{
    if (!b->borrowed)
        free(b->buf);
    memset(b, 0, sizeof(*b));
}

void hk_cbb_free_wipe(struct hk_cbb *b)
{
    if (b->buf)
        OPENSSL_cleanse(b->buf, b->cap);
    hk_cbb_free(b);
}

uint8_t *hk_cbb_detach(struct hk_cbb *b, size_t *len)
{
    uint8_t *p = b->buf;
    if (len)
        *len = b->len;
    if (b->borrowed) {
        p = b->len ? malloc(b->len) : NULL;
        if (p)
            memcpy(p, b->buf, b->len);
        else if (len)
            *len = 0;
    }
    memset(b, 0, sizeof(*b));
    return p;
}

__attribute__((noinline)) static int grow_slow(struct hk_cbb *b, size_t n, uint8_t **at)
{
    if (b->err)
        return b->err;
    if (n > SIZE_MAX - b->len || (b->max && b->len + n > b->max))
        return b->err = HK_E_OVERFLOW;
    size_t need = b->len + n;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need)
            cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        uint8_t *nb = malloc(cap);
        if (!nb)
            return b->err = HK_E_NOMEM;
        if (b->len)
            memcpy(nb, b->buf, b->len);
        /* The old block may hold key material: never leave it behind in the heap. */
        if (b->buf) {
            OPENSSL_cleanse(b->buf, b->cap);
            if (!b->borrowed)
                free(b->buf);
        }
        b->buf = nb;
        b->cap = cap;
        b->borrowed = 0;
    }
    *at = b->buf + b->len;
    b->len = need;
    return HK_OK;
}

/* Room for n more octets at *at. Encoders call this per field (a few hundred times per
 * message): the common case, room and no error, stays inline and short. */
__attribute__((always_inline)) static inline int grow(struct hk_cbb *b, size_t n, uint8_t **at)
{
    if (!b->err && n <= b->cap - b->len && (!b->max || b->len + n <= b->max)) {
        *at = b->buf + b->len;
        b->len += n;
        return HK_OK;
    }
    return grow_slow(b, n, at);
}

static int add_be(struct hk_cbb *b, uint64_t v, size_t n)
{
    uint8_t *p;
    int rc = grow(b, n, &p);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
    return HK_OK;
}

int hk_cbb_add_u8(struct hk_cbb *b, uint8_t v)
{
    return add_be(b, v, 1);
}
int hk_cbb_add_u16(struct hk_cbb *b, uint16_t v)
{
    return add_be(b, v, 2);
}
int hk_cbb_add_u32(struct hk_cbb *b, uint32_t v)
{
    return add_be(b, v, 4);
}
int hk_cbb_add_u64(struct hk_cbb *b, uint64_t v)
{
    return add_be(b, v, 8);
}

int hk_cbb_add_bytes(struct hk_cbb *b, const void *src, size_t n)
{
    uint8_t *p;
    int rc = grow(b, n, &p);
    if (!rc && n)
        memcpy(p, src, n);
    return rc;
}

int hk_cbb_add_zeros(struct hk_cbb *b, size_t n)
{
    uint8_t *p;
    int rc = grow(b, n, &p);
    if (!rc && n)
        memset(p, 0, n);
    return rc;
}

int hk_cbb_add_space(struct hk_cbb *b, uint8_t **out, size_t n)
{
    return grow(b, n, out);
}

int hk_cbb_reserve(struct hk_cbb *b, size_t *pos, size_t width)
{
    if (width != 1 && width != 2 && width != 4)
        return b->err ? b->err : (b->err = HK_E_INVALID);
    *pos = b->len;
    return add_be(b, 0, width);
}

int hk_cbb_fill(struct hk_cbb *b, size_t pos, size_t width, uint64_t v)
{
    if (b->err)
        return b->err;
    if ((width != 1 && width != 2 && width != 4) || pos > b->len || b->len - pos < width)
        return b->err = HK_E_INVALID;
    if (width < 8 && v >> (8 * width))
        return b->err = HK_E_OVERFLOW;
    for (size_t i = 0; i < width; i++)
        b->buf[pos + i] = (uint8_t)(v >> (8 * (width - 1 - i)));
    return HK_OK;
}

void hk_cbb_truncate(struct hk_cbb *b, size_t len)
{
    if (len < b->len)
        b->len = len;
}
