#include "common/cbs.h"
#include "common/err.h"

#include <string.h>

int hk_cbs_get_bytes(struct hk_cbs *c, const uint8_t **out, size_t n)
{
    if (c->len < n)
        return HK_E_SHORT;
    *out = c->p;
    c->p += n;
    c->len -= n;
    return HK_OK;
}

static int get_be(struct hk_cbs *c, uint64_t *out, size_t n)
{
    const uint8_t *p;
    uint64_t v = 0;
    int rc = hk_cbs_get_bytes(c, &p, n);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    *out = v;
    return HK_OK;
}

int hk_cbs_get_u8(struct hk_cbs *c, uint8_t *out)
{
    uint64_t v;
    int rc = get_be(c, &v, 1);
    if (!rc)
        *out = (uint8_t)v;
    return rc;
}

int hk_cbs_get_u16(struct hk_cbs *c, uint16_t *out)
{
    uint64_t v;
    int rc = get_be(c, &v, 2);
    if (!rc)
        *out = (uint16_t)v;
    return rc;
}

int hk_cbs_get_u32(struct hk_cbs *c, uint32_t *out)
{
    uint64_t v;
    int rc = get_be(c, &v, 4);
    if (!rc)
        *out = (uint32_t)v;
    return rc;
}

int hk_cbs_get_u64(struct hk_cbs *c, uint64_t *out)
{
    return get_be(c, out, 8);
}

int hk_cbs_copy_bytes(struct hk_cbs *c, uint8_t *out, size_t n)
{
    const uint8_t *p;
    int rc = hk_cbs_get_bytes(c, &p, n);
    if (!rc && n)
        memcpy(out, p, n);
    return rc;
}

int hk_cbs_get_sub(struct hk_cbs *c, struct hk_cbs *sub, size_t n)
{
    const uint8_t *p;
    int rc = hk_cbs_get_bytes(c, &p, n);
    if (!rc)
        hk_cbs_init(sub, p, n);
    return rc;
}

int hk_cbs_skip(struct hk_cbs *c, size_t n)
{
    const uint8_t *p;
    return hk_cbs_get_bytes(c, &p, n);
}

static int get_prefixed(struct hk_cbs *c, struct hk_cbs *sub, size_t width)
{
    struct hk_cbs save = *c;
    uint64_t n;
    int rc = get_be(c, &n, width);
    if (!rc)
        rc = hk_cbs_get_sub(c, sub, (size_t)n);
    if (rc)
        *c = save;
    return rc;
}

int hk_cbs_get_u8_prefixed(struct hk_cbs *c, struct hk_cbs *sub)
{
    return get_prefixed(c, sub, 1);
}

int hk_cbs_get_u16_prefixed(struct hk_cbs *c, struct hk_cbs *sub)
{
    return get_prefixed(c, sub, 2);
}

int hk_cbs_peek_u8(const struct hk_cbs *c, uint8_t *out)
{
    struct hk_cbs copy = *c;
    return hk_cbs_get_u8(&copy, out);
}

int hk_cbs_peek_u16(const struct hk_cbs *c, uint16_t *out)
{
    struct hk_cbs copy = *c;
    return hk_cbs_get_u16(&copy, out);
}
