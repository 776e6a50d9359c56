/*
 * A bump allocator for the short-lived objects of one decoded message: one
 * free releases everything, so decoders need no per-field cleanup paths.
 */
#ifndef HIKE_COMMON_ARENA_H
#define HIKE_COMMON_ARENA_H

#include <stddef.h>

struct hk_arena_chunk;

struct hk_arena {
    struct hk_arena_chunk *head;
    size_t
        limit; /* total bytes allowed (0 = none): bounds what hostile input can make us allocate */
    size_t used;
    struct hk_arena_chunk *fixed; /* the caller's buffer (hk_arena_init_buf): never freed */
};

void hk_arena_init(struct hk_arena *a, size_t limit);
/*
 * The same, serving the first allocations from buf (len octets, typically on the caller's
 * stack) and going to the heap only past it: a message built or decoded per exchange then
 * costs no malloc. buf must outlive the arena; hk_arena_free leaves it alone.
 */
void hk_arena_init_buf(struct hk_arena *a, size_t limit, void *buf, size_t len);
/* Zeroed, aligned memory that lives until hk_arena_free; NULL past the limit. */
void *hk_arena_alloc(struct hk_arena *a, size_t size);
/* n elements of size each, with overflow check. */
void *hk_arena_calloc(struct hk_arena *a, size_t n, size_t size);
void hk_arena_free(struct hk_arena *a);

#endif
