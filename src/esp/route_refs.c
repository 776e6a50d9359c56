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

int hk_route_refs_ref(struct hk_route_refs *r, const struct hk_ip *dst, uint8_t len)
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
    if (r->add)
        r->add(r->arg, dst, len);
    return HK_OK;
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

void hk_route_refs_unref(struct hk_route_refs *r, const struct hk_ip *dst, uint8_t len)
{
    uint64_t h = hash(r, dst, len);
    struct hk_route_ref *x = find(r, h, dst, len);
    if (!x || --x->users)
        return;
    if (r->del)
        r->del(r->arg, dst, len);
    drop(r, h, x);
}

unsigned hk_route_refs_users(const struct hk_route_refs *r, const struct hk_ip *dst, uint8_t len)
{
    const struct hk_route_ref *x = find(r, hash(r, dst, len), dst, len);
    return x ? x->users : 0;
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
    r->count = 0;
}
