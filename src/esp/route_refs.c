#include "esp/route_refs.h"

#include "common/err.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/* Routes whose prefixes hash alike are chained, and compared in full. */
struct hk_route_ref {
    struct hk_ip dst;
    uint8_t len;
    unsigned users;
    struct hk_route_ref *next;
};

static uint64_t mix(uint64_t x)
{
    /* splitmix64 finaliser */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t hash(const struct hk_route_refs *r, const struct hk_ip *dst, uint8_t len)
{
    uint64_t a, b;
    memcpy(&a, dst->addr, 8);
    memcpy(&b, dst->addr + 8, 8);
    uint64_t h = mix(r->seed ^ ((uint64_t)len << 1 | (dst->family == AF_INET6)));
    h = mix(h ^ a);
    return mix(h ^ b);
}

static bool same(const struct hk_route_ref *x, const struct hk_ip *dst, uint8_t len)
{
    return x->len == len && x->dst.family == dst->family &&
           !memcmp(x->dst.addr, dst->addr, sizeof(dst->addr));
}

void hk_route_refs_init(struct hk_route_refs *r, uint64_t seed, hk_route_fn add, hk_route_fn del,
                        void *arg)
{
    memset(r, 0, sizeof(*r));
    hk_u64map_init(&r->by_hash, seed);
    r->seed = seed;
    r->add = add;
    r->del = del;
    r->arg = arg;
}

static struct hk_route_ref *find(const struct hk_route_refs *r, uint64_t h, const struct hk_ip *dst,
                                 uint8_t len)
{
    struct hk_route_ref *x = hk_u64map_get(&r->by_hash, h);
    while (x && !same(x, dst, len))
        x = x->next;
    return x;
}

/* Whether p covers dst/len: the same family, no longer, and dst inside it. */
static bool pfx_covers(const struct hk_route_pfx *p, const struct hk_ip *dst, uint8_t len)
{
    if (p->dst.family != dst->family || len < p->len)
        return false;
    size_t full = p->len / 8;
    unsigned rest = p->len % 8;
    if (memcmp(p->dst.addr, dst->addr, full))
        return false;
    uint8_t m = (uint8_t)(0xff << (8 - rest));
    return !rest || !((p->dst.addr[full] ^ dst->addr[full]) & m);
}

static bool covered_by(const struct hk_route_pfx *p, size_t n, const struct hk_ip *dst, uint8_t len)
{
    for (size_t i = 0; i < n; i++)
        if (pfx_covers(&p[i], dst, len))
            return true;
    return false;
}

static bool exact_in(const struct hk_route_pfx *p, size_t n, const struct hk_ip *dst, uint8_t len)
{
    for (size_t i = 0; i < n; i++)
        if (p[i].len == len && p[i].dst.family == dst->family &&
            !memcmp(p[i].dst.addr, dst->addr, sizeof(dst->addr)))
            return true;
    return false;
}

bool hk_route_refs_covered(const struct hk_route_refs *r, const struct hk_ip *dst, uint8_t len)
{
    return covered_by(r->perm, r->nperm, dst, len);
}

/* One more user of a route of its own; kernel: add it to the kernel with its first user. */
static int store_ref(struct hk_route_refs *r, const struct hk_ip *dst, uint8_t len, bool kernel)
{
    uint64_t h = hash(r, dst, len);
    struct hk_route_ref *x = find(r, h, dst, len);
    if (x) {
        x->users++;
        return HK_OK;
    }
    x = calloc(1, sizeof(*x));
    if (!x)
        return HK_E_NOMEM;
    *x = (struct hk_route_ref){.dst = *dst, .len = len, .users = 1};
    struct hk_route_ref *head = hk_u64map_get(&r->by_hash, h);
    if (head) { /* behind the chain's head, so the map keeps its value */
        x->next = head->next;
        head->next = x;
    } else if (hk_u64map_put(&r->by_hash, h, x)) {
        free(x);
        return HK_E_NOMEM;
    }
    r->count++;
    if (kernel && r->add)
        r->add(r->arg, dst, len);
    return HK_OK;
}

int hk_route_refs_ref(struct hk_route_refs *r, const struct hk_ip *dst, uint8_t len)
{
    if (covered_by(r->perm, r->nperm, dst, len)) {
        r->covered++;
        return HK_OK;
    }
    return store_ref(r, dst, len, true);
}

/* Takes x out of its chain; a head is replaced by its successor's contents, so the map's
 * value stays valid. */
static void drop(struct hk_route_refs *r, uint64_t h, struct hk_route_ref *x)
{
    struct hk_route_ref *head = hk_u64map_get(&r->by_hash, h);
    if (x == head) {
        struct hk_route_ref *n = x->next;
        if (!n) {
            hk_u64map_del(&r->by_hash, h);
            free(x);
        } else {
            *x = *n;
            free(n);
        }
    } else {
        while (head->next != x)
            head = head->next;
        head->next = x->next;
        free(x);
    }
    r->count--;
}

/* One user less of a route of its own; kernel: the last deletes it from the kernel. */
static void store_unref(struct hk_route_refs *r, const struct hk_ip *dst, uint8_t len, bool kernel)
{
    uint64_t h = hash(r, dst, len);
    struct hk_route_ref *x = find(r, h, dst, len);
    if (!x || --x->users)
        return;
    if (kernel && r->del)
        r->del(r->arg, dst, len);
    drop(r, h, x);
}

void hk_route_refs_unref(struct hk_route_refs *r, const struct hk_ip *dst, uint8_t len)
{
    if (!covered_by(r->perm, r->nperm, dst, len))
        store_unref(r, dst, len, true);
    else if (r->covered)
        r->covered--;
}

unsigned hk_route_refs_users(const struct hk_route_refs *r, const struct hk_ip *dst, uint8_t len)
{
    const struct hk_route_ref *x = find(r, hash(r, dst, len), dst, len);
    return x ? x->users : 0;
}

/*
 * A held ref while the permanent routes change from perm to next (both in the kernel now):
 * it moves to a route of its own or under a permanent one. A route of its own with exactly
 * a permanent route's prefix is that route already: no kernel call for it.
 */
static void move_ref(struct hk_route_refs *r, const struct hk_ip *dst, uint8_t len)
{
    bool was = covered_by(r->perm, r->nperm, dst, len);
    bool now = covered_by(r->next, r->nnext, dst, len);
    bool kernel = !exact_in(r->perm, r->nperm, dst, len) && !exact_in(r->next, r->nnext, dst, len);
    if (was && !now) {
        if (r->covered)
            r->covered--;
        if (store_ref(r, dst, len, kernel))
            r->lost++; /* no memory: this prefix stays without a route (unref ignores it) */
    } else if (!was && now) {
        store_unref(r, dst, len, kernel);
        r->covered++;
    }
}

int hk_route_refs_set_permanent(struct hk_route_refs *r, const struct hk_route_pfx *p, size_t n,
                                hk_route_each each, void *each_arg)
{
    struct hk_route_pfx *next = n ? calloc(n, sizeof(*next)) : NULL;
    if (n && !next)
        return HK_E_NOMEM;
    size_t nn = 0;
    for (size_t i = 0; i < n; i++) {
        const struct hk_ip *d = &p[i].dst;
        if (exact_in(next, nn, d, p[i].len))
            continue;
        /* Already in the kernel (as a permanent route or a ref's own), or added now. */
        if (exact_in(r->perm, r->nperm, d, p[i].len) ||
            find(r, hash(r, d, p[i].len), d, p[i].len) || !r->add || !r->add(r->arg, d, p[i].len))
            next[nn++] = p[i];
    }
    r->next = next;
    r->nnext = nn;
    r->lost = 0;
    if (each)
        each(each_arg, r, move_ref);
    for (size_t i = 0; i < r->nperm; i++) {
        const struct hk_route_pfx *q = &r->perm[i];
        if (!exact_in(next, nn, &q->dst, q->len) &&
            !find(r, hash(r, &q->dst, q->len), &q->dst, q->len) && r->del)
            r->del(r->arg, &q->dst, q->len);
    }
    free(r->perm);
    r->perm = next;
    r->nperm = nn;
    r->next = NULL;
    r->nnext = 0;
    return r->lost ? HK_E_NOMEM : HK_OK;
}

void hk_route_refs_flush(struct hk_route_refs *r)
{
    size_t pos = 0;
    struct hk_route_ref *x;
    while ((x = hk_u64map_next(&r->by_hash, &pos, NULL)))
        while (x) {
            struct hk_route_ref *n = x->next;
            if (r->del)
                r->del(r->arg, &x->dst, x->len);
            free(x);
            x = n;
        }
    hk_u64map_free(&r->by_hash);
    for (size_t i = 0; i < r->nperm; i++)
        if (r->del)
            r->del(r->arg, &r->perm[i].dst, r->perm[i].len);
    free(r->perm);
    r->perm = NULL;
    r->nperm = 0;
    r->count = r->covered = 0;
}
