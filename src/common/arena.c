#include "common/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN 4096

struct hk_arena_chunk {
    struct hk_arena_chunk *next;
    size_t cap;
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

void hk_arena_init(struct hk_arena *a, size_t limit)
{
    memset(a, 0, sizeof(*a));
    a->limit = limit;
}

void hk_arena_init_buf(struct hk_arena *a, size_t limit, void *buf, size_t len)
{
    hk_arena_init(a, limit);
    const uintptr_t align = alignof(struct hk_arena_chunk);
    uintptr_t p = (uintptr_t)buf, start = (p + align - 1) & ~(align - 1);
    if (!buf || len < start - p + sizeof(struct hk_arena_chunk) + alignof(max_align_t))
        return; /* too small to be worth it: the heap from the first allocation */
    struct hk_arena_chunk *c = (struct hk_arena_chunk *)start;
    c->next = NULL;
    c->cap = len - (start - p) - sizeof(*c);
    c->used = 0;
    a->head = a->fixed = c;
}

void *hk_arena_alloc(struct hk_arena *a, size_t size)
{
    const size_t align = alignof(max_align_t);
    if (size == 0)
        size = 1;
    if (size > SIZE_MAX - align)
        return NULL;
    size = (size + align - 1) & ~(align - 1);
    if (a->limit && (size > a->limit || a->used > a->limit - size))
        return NULL;
    struct hk_arena_chunk *c = a->head;
    if (!c || c->cap - c->used < size) {
        size_t cap = size > CHUNK_MIN ? size : CHUNK_MIN;
        c = malloc(sizeof(*c) + cap);
        if (!c)
            return NULL;
        c->cap = cap;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += size;
    a->used += size;
    memset(p, 0, size);
    return p;
}

void *hk_arena_calloc(struct hk_arena *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    return hk_arena_alloc(a, n * size);
}

void hk_arena_free(struct hk_arena *a)
{
    struct hk_arena_chunk *c = a->head;
    while (c) {
        struct hk_arena_chunk *n = c->next;
        if (c != a->fixed)
            free(c);
        c = n;
    }
    a->head = NULL;
    a->fixed = NULL;
    a->used = 0;
}
