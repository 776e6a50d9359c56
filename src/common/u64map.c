#include "common/u64map.h"
#include "common/err.h"

#include <stdlib.h>
#include <string.h>

static char tomb_marker;
#define TOMB ((void *)&tomb_marker)

static uint64_t mix(uint64_t x, uint64_t seed)
{
    /* splitmix64 finaliser over the seeded key */
    x ^= seed;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void hk_u64map_init(struct hk_u64map *m, uint64_t seed)
{
    memset(m, 0, sizeof(*m));
    m->seed = seed;
}

void hk_u64map_free(struct hk_u64map *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = m->tombs = 0;
}

static struct hk_u64map_slot *find(const struct hk_u64map *m, uint64_t key)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = mix(key, m->seed) & mask, n = 0; n < m->cap; i = (i + 1) & mask, n++) {
        struct hk_u64map_slot *s = &m->slots[i];
        if (!s->val)
            return NULL;
        if (s->val != TOMB && s->key == key)
            return s;
    }
    return NULL;
}

static int resize(struct hk_u64map *m, size_t cap)
{
    struct hk_u64map_slot *old = m->slots;
    size_t oldcap = m->cap;
    m->slots = calloc(cap, sizeof(*m->slots));
    if (!m->slots) {
        m->slots = old;
        return HK_E_NOMEM;
    }
    m->cap = cap;
    m->count = m->tombs = 0;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].val && old[i].val != TOMB)
            hk_u64map_put(m, old[i].key, old[i].val);
    free(old);
    return HK_OK;
}

int hk_u64map_put(struct hk_u64map *m, uint64_t key, void *val)
{
    if (!val)
        return HK_E_INVALID;
    if (find(m, key))
        return HK_E_EXISTS;
    /* Keep the load (live + deleted) under 3/4 so probes stay short. */
    if ((m->count + m->tombs + 1) * 4 > m->cap * 3) {
        size_t cap = m->cap ? m->cap : 16;
        while ((m->count + 1) * 2 > cap)
            cap *= 2;
        int rc = resize(m, cap);
        if (rc)
            return rc;
    }
    size_t mask = m->cap - 1;
    for (size_t i = mix(key, m->seed) & mask;; i = (i + 1) & mask) {
        struct hk_u64map_slot *s = &m->slots[i];
        if (!s->val || s->val == TOMB) {
            if (s->val == TOMB)
                m->tombs--;
            s->key = key;
            s->val = val;
            m->count++;
            return HK_OK;
        }
    }
}

void *hk_u64map_get(const struct hk_u64map *m, uint64_t key)
{
    struct hk_u64map_slot *s = find(m, key);
    return s ? s->val : NULL;
}

void *hk_u64map_del(struct hk_u64map *m, uint64_t key)
{
    struct hk_u64map_slot *s = find(m, key);
    if (!s)
        return NULL;
    void *v = s->val;
    size_t mask = m->cap - 1, i = (size_t)(s - m->slots);
    m->count--;
    if (m->slots[(i + 1) & mask].val) {
        s->val = TOMB; /* a probe may have to go on past it */
        m->tombs++;
        return v;
    }
    /* No probe goes past an empty slot, so none needs this one, nor the tombstones just
     * before it: they become empty too. Under steady churn (SAs come and go) tombstones then
     * rarely pile up to force a rehash. Nothing moves, so iteration stays valid. */
    s->val = NULL;
    for (i = (i - 1) & mask; m->slots[i].val == TOMB; i = (i - 1) & mask) {
        m->slots[i].val = NULL;
        m->tombs--;
    }
    return v;
}

void *hk_u64map_next(const struct hk_u64map *m, size_t *pos, uint64_t *key)
{
    while (*pos < m->cap) {
        struct hk_u64map_slot *s = &m->slots[(*pos)++];
        if (s->val && s->val != TOMB) {
            if (key)
                *key = s->key;
            return s->val;
        }
    }
    return NULL;
}
