/*
 * A hash map from 64-bit keys to pointers (open addressing, linear probing).
 * The IKE engine keys its SA tables by SPI, so lookups per packet stay O(1) with
 * 100,000 SAs. Keys are SPIs chosen at random, but the map still mixes them so a
 * peer that picks its own SPIs cannot build long probe chains.
 */
#ifndef HIKE_COMMON_U64MAP_H
#define HIKE_COMMON_U64MAP_H

#include <stddef.h>
#include <stdint.h>

struct hk_u64map_slot {
    uint64_t key;
    void *val; /* NULL: empty; HK_U64MAP_TOMB: deleted */
};

struct hk_u64map {
    struct hk_u64map_slot *slots;
    size_t cap; /* power of two, or 0 */
    size_t count;
    size_t tombs;
    uint64_t seed;
};

void hk_u64map_init(struct hk_u64map *m, uint64_t seed);
void hk_u64map_free(struct hk_u64map *m);
/* HK_E_EXISTS if the key is there already; val must not be NULL. */
int hk_u64map_put(struct hk_u64map *m, uint64_t key, void *val);
void *hk_u64map_get(const struct hk_u64map *m, uint64_t key);
/* Returns the removed value, or NULL. */
void *hk_u64map_del(struct hk_u64map *m, uint64_t key);
static inline size_t hk_u64map_count(const struct hk_u64map *m)
{
    return m->count;
}
/* Iteration: *pos starts at 0; returns the next value or NULL at the end. The map
 * must not change during iteration except through hk_u64map_del of the current key. */
void *hk_u64map_next(const struct hk_u64map *m, size_t *pos, uint64_t *key);

#endif
