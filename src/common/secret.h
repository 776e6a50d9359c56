/*
 * Heap buffers for key material: zeroed (OPENSSL_cleanse) before they are freed,
 * so no key outlives its SA in freed memory.
 */
#ifndef HIKE_COMMON_SECRET_H
#define HIKE_COMMON_SECRET_H

#include <stddef.h>
#include <stdint.h>

struct hk_secret {
    size_t len;
    uint8_t data[];
};

/* A zero-filled secret of len bytes, or NULL when out of memory. */
struct hk_secret *hk_secret_new(size_t len);
struct hk_secret *hk_secret_dup(const uint8_t *p, size_t len);
/* Concatenates two buffers into one secret (a || b). */
struct hk_secret *hk_secret_concat(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
/* Wipes and frees; NULL is fine. Sets *s to NULL. */
void hk_secret_free(struct hk_secret **s);
/* Wipes any buffer (a stack copy of a key, say). */
void hk_wipe(void *p, size_t len);
/* Constant-time comparison: 0 when equal. */
int hk_memeq_ct(const void *a, const void *b, size_t len);

#endif
