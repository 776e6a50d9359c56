/*
 * Bounded, non-owning byte reader (after BoringSSL's CBS). Every get either
 * consumes exactly what it returns or fails with HK_E_SHORT and consumes nothing,
 * so no parser built on it can read past its buffer.
 */
#ifndef HIKE_COMMON_CBS_H
#define HIKE_COMMON_CBS_H

#include <stddef.h>
#include <stdint.h>

struct hk_cbs {
    const uint8_t *p;
    size_t len;
};

static inline void hk_cbs_init(struct hk_cbs *c, const uint8_t *p, size_t len)
{
    c->p = p;
    c->len = len;
}
static inline size_t hk_cbs_len(const struct hk_cbs *c)
{
    return c->len;
}
static inline const uint8_t *hk_cbs_data(const struct hk_cbs *c)
{
    return c->p;
}

int hk_cbs_get_u8(struct hk_cbs *c, uint8_t *out);
int hk_cbs_get_u16(struct hk_cbs *c, uint16_t *out); /* network byte order */
int hk_cbs_get_u32(struct hk_cbs *c, uint32_t *out);
int hk_cbs_get_u64(struct hk_cbs *c, uint64_t *out);
/* Points *out at the next n bytes (no copy). */
int hk_cbs_get_bytes(struct hk_cbs *c, const uint8_t **out, size_t n);
/* Copies the next n bytes into out. */
int hk_cbs_copy_bytes(struct hk_cbs *c, uint8_t *out, size_t n);
/* Splits off the next n bytes as their own reader. */
int hk_cbs_get_sub(struct hk_cbs *c, struct hk_cbs *sub, size_t n);
int hk_cbs_skip(struct hk_cbs *c, size_t n);
/* A sub-view prefixed by its u8/u16 length. */
int hk_cbs_get_u8_prefixed(struct hk_cbs *c, struct hk_cbs *sub);
int hk_cbs_get_u16_prefixed(struct hk_cbs *c, struct hk_cbs *sub);
/* Reads without consuming. */
int hk_cbs_peek_u8(const struct hk_cbs *c, uint8_t *out);
int hk_cbs_peek_u16(const struct hk_cbs *c, uint16_t *out);

#endif
