/*
 * Growable byte writer (after iked's ibuf). Errors are sticky: after the first
 * failure every call is a no-op and hk_cbb_err() reports it, so a chain of adds
 * needs one check at the end. A length field can be reserved and filled later.
 */
#ifndef HIKE_COMMON_CBB_H
#define HIKE_COMMON_CBB_H

#include <stddef.h>
#include <stdint.h>

struct hk_cbb {
    uint8_t *buf;
    size_t len;
    size_t cap;
    size_t max; /* hard limit on len; 0 = none */
    int err;
    int borrowed; /* buf is the caller's (hk_cbb_init_buf): never freed here */
};

/* Starts empty; reserve is an initial capacity hint, max a hard size limit (0 = none). */
int hk_cbb_init(struct hk_cbb *b, size_t reserve, size_t max);
/*
 * Starts empty, writing into the caller's buffer (len octets, e.g. on its stack) and moving
 * to the heap only when that is full: a message that is encoded, used and copied or dropped
 * costs no malloc. The buffer must outlive the writer; what is left in it is the caller's
 * to wipe.
 */
void hk_cbb_init_buf(struct hk_cbb *b, uint8_t *buf, size_t len, size_t max);
/* Frees the buffer; wipes it first when it may have held secrets. */
void hk_cbb_free(struct hk_cbb *b);
void hk_cbb_free_wipe(struct hk_cbb *b);
/* Hands the buffer to the caller (who frees it) and resets the writer; a borrowed buffer is
 * handed over as a heap copy of its contents (NULL when out of memory or empty). */
uint8_t *hk_cbb_detach(struct hk_cbb *b, size_t *len);
static inline int hk_cbb_err(const struct hk_cbb *b)
{
    return b->err;
}

int hk_cbb_add_u8(struct hk_cbb *b, uint8_t v);
int hk_cbb_add_u16(struct hk_cbb *b, uint16_t v);
int hk_cbb_add_u32(struct hk_cbb *b, uint32_t v);
int hk_cbb_add_u64(struct hk_cbb *b, uint64_t v);
int hk_cbb_add_bytes(struct hk_cbb *b, const void *p, size_t n);
int hk_cbb_add_zeros(struct hk_cbb *b, size_t n);
/* Appends n bytes and points *out at them for the caller to fill. */
int hk_cbb_add_space(struct hk_cbb *b, uint8_t **out, size_t n);

/* Reserves a big-endian field of width 1, 2 or 4 bytes; *pos remembers where. */
int hk_cbb_reserve(struct hk_cbb *b, size_t *pos, size_t width);
/* Fills a reserved field; fails with HK_E_OVERFLOW if v does not fit. */
int hk_cbb_fill(struct hk_cbb *b, size_t pos, size_t width, uint64_t v);
/* Discards everything written after len (for undoing a partial write). */
void hk_cbb_truncate(struct hk_cbb *b, size_t len);

#endif
