/* Virtual IP address pools (RFC 7296 2.19); see pool.h for the policy. */
#include "ike/pool.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/err.h"
#include "common/u64map.h"
#include "crypto/crypto.h"

struct owner;

/* One address that is leased now (refs > 0) or remembered for its owner. */
struct lease {
    uint64_t off; /* from the pool's first address */
    uint32_t refs;
    struct owner *owner;               /* NULL: anonymous, forgotten on release */
    struct lease *oprev, *onext;       /* the owner's other leases */
    struct lease *lru_prev, *lru_next; /* released leases, oldest first */
};

/*
 * An identity and its leases, released ones (refs == 0) first: step 2 of the choice
 * looks at the head only, so it costs the same however many leases the identity holds.
 */
struct owner {
    uint64_t hash;
    struct owner *hnext;
    struct lease *leases, *last;
    size_t held; /* acquires not released: the sum of its leases' refs (max_leases) */
    size_t idlen;
    uint8_t id[];
};

struct hk_ippool {
    char *name;
    int family;
    struct hk_ip_range range;  /* as configured */
    uint64_t base_hi, base_lo; /* first address, as a 128-bit number */
    uint64_t size;
    uint64_t *bits; /* set: the address has a struct lease (leased or remembered) */
    size_t nwords;
    size_t cursor; /* word where the scan for a fresh address starts */
    size_t in_use;
    struct hk_u64map leases; /* off -> struct lease */
    struct owner **buckets;
    size_t nbuckets, nowners;
    uint64_t seed;
    struct lease *lru_head, *lru_tail;
};

/* ---- addresses as 128-bit numbers ---- */

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static void to_num(int family, const uint8_t *a, uint64_t *hi, uint64_t *lo)
{
    if (family == AF_INET) {
        *hi = 0;
        *lo = (uint64_t)a[0] << 24 | (uint64_t)a[1] << 16 | (uint64_t)a[2] << 8 | a[3];
    } else {
        *hi = be64(a);
        *lo = be64(a + 8);
    }
}

static void add(uint64_t *hi, uint64_t *lo, uint64_t v)
{
    uint64_t old = *lo;
    *lo += v;
    *hi += *lo < old;
}

static void sub(uint64_t *hi, uint64_t *lo, uint64_t v)
{
    uint64_t old = *lo;
    *lo -= v;
    *hi -= *lo > old;
}

static void addr_of(const struct hk_ippool *p, uint64_t off, struct hk_ip *out)
{
    uint64_t hi = p->base_hi, lo = p->base_lo;
    add(&hi, &lo, off);
    memset(out, 0, sizeof(*out));
    out->family = p->family;
    if (p->family == AF_INET) {
        for (int i = 3; i >= 0; i--, lo >>= 8)
            out->addr[i] = (uint8_t)lo;
    } else {
        put_be64(out->addr, hi);
        put_be64(out->addr + 8, lo);
    }
}

static bool off_of(const struct hk_ippool *p, const struct hk_ip *ip, uint64_t *off)
{
    if (!ip || ip->family != p->family)
        return false;
    uint64_t hi, lo;
    to_num(ip->family, ip->addr, &hi, &lo);
    /* ip - base, as 128 bits; below base wraps to a huge value. */
    uint64_t dlo = lo - p->base_lo;
    uint64_t dhi = hi - p->base_hi - (lo < p->base_lo);
    if (dhi || dlo >= p->size)
        return false;
    *off = dlo;
    return true;
}

/* ---- identities ---- */

static uint64_t mix(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Seeded, so that a peer cannot choose identities that collide in our table. */
static uint64_t id_hash(uint64_t seed, const uint8_t *p, size_t n)
{
    uint64_t h = mix(seed ^ (uint64_t)n);
    while (n >= 8) {
        h = mix(h ^ be64(p));
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    for (size_t i = 0; i < n; i++)
        w = w << 8 | p[i];
    return mix(h ^ w ^ 0x9e3779b97f4a7c15ULL);
}

static struct owner *owner_find(const struct hk_ippool *p, uint64_t h, const uint8_t *id,
                                size_t idlen)
{
    for (struct owner *o = p->buckets[h & (p->nbuckets - 1)]; o; o = o->hnext)
        if (o->hash == h && o->idlen == idlen && !memcmp(o->id, id, idlen))
            return o;
    return NULL;
}

static void owner_link(struct hk_ippool *p, struct owner *o)
{
    struct owner **b = &p->buckets[o->hash & (p->nbuckets - 1)];
    o->hnext = *b;
    *b = o;
}

/* Adds o to the table, doubling it past one owner per bucket (if memory allows). */
static void owner_insert(struct hk_ippool *p, struct owner *o)
{
    if (p->nowners >= p->nbuckets) {
        size_t n = p->nbuckets * 2;
        struct owner **nb = calloc(n, sizeof(*nb));
        if (nb) {
            struct owner **old = p->buckets;
            size_t oldn = p->nbuckets;
            p->buckets = nb;
            p->nbuckets = n;
            for (size_t i = 0; i < oldn; i++) {
                for (struct owner *x = old[i], *next; x; x = next) {
                    next = x->hnext;
                    owner_link(p, x);
                }
            }
            free(old);
        }
    }
    owner_link(p, o);
    p->nowners++;
}

static void owner_remove(struct hk_ippool *p, struct owner *o)
{
    for (struct owner **pp = &p->buckets[o->hash & (p->nbuckets - 1)]; *pp; pp = &(*pp)->hnext) {
        if (*pp == o) {
            *pp = o->hnext;
            p->nowners--;
            break;
        }
    }
    free(o);
}

static void owner_unlink(struct owner *o, struct lease *l)
{
    if (l->oprev)
        l->oprev->onext = l->onext;
    else
        o->leases = l->onext;
    if (l->onext)
        l->onext->oprev = l->oprev;
    else
        o->last = l->oprev;
    l->oprev = l->onext = NULL;
}

/* Puts l first (released: the next one its owner gets back) or last (held). */
static void owner_link_lease(struct owner *o, struct lease *l)
{
    if (!l->refs) {
        l->oprev = NULL;
        l->onext = o->leases;
        if (o->leases)
            o->leases->oprev = l;
        else
            o->last = l;
        o->leases = l;
    } else {
        l->onext = NULL;
        l->oprev = o->last;
        if (o->last)
            o->last->onext = l;
        else
            o->leases = l;
        o->last = l;
    }
}

/* Takes l away from its owner; an owner left without leases is forgotten. */
static void lease_detach(struct hk_ippool *p, struct lease *l)
{
    struct owner *o = l->owner;
    if (!o)
        return;
    owner_unlink(o, l);
    l->owner = NULL;
    if (!o->leases)
        owner_remove(p, o);
}

static void lease_attach(struct lease *l, struct owner *o)
{
    l->owner = o;
    if (o)
        owner_link_lease(o, l);
}

/* Moves l between its owner's released and held parts after refs went 0 <-> 1. */
static void lease_requeue(struct lease *l)
{
    if (l->owner) {
        owner_unlink(l->owner, l);
        owner_link_lease(l->owner, l);
    }
}

/* ---- released leases, oldest first ---- */

static void lru_push(struct hk_ippool *p, struct lease *l)
{
    l->lru_next = NULL;
    l->lru_prev = p->lru_tail;
    if (p->lru_tail)
        p->lru_tail->lru_next = l;
    else
        p->lru_head = l;
    p->lru_tail = l;
}

static void lru_remove(struct hk_ippool *p, struct lease *l)
{
    if (l->lru_prev)
        l->lru_prev->lru_next = l->lru_next;
    else
        p->lru_head = l->lru_next;
    if (l->lru_next)
        l->lru_next->lru_prev = l->lru_prev;
    else
        p->lru_tail = l->lru_prev;
    l->lru_prev = l->lru_next = NULL;
}

/* ---- the bitmap ---- */

static void bit_set(struct hk_ippool *p, uint64_t off)
{
    p->bits[off / 64] |= 1ULL << (off % 64);
}

static void bit_clear(struct hk_ippool *p, uint64_t off)
{
    p->bits[off / 64] &= ~(1ULL << (off % 64));
}

/* An address without a lease record, scanning from the cursor round the pool. */
static bool find_fresh(struct hk_ippool *p, uint64_t *off)
{
    for (size_t n = 0; n < p->nwords; n++) {
        size_t w = (p->cursor + n) % p->nwords;
        uint64_t used = p->bits[w];
        if (w == p->nwords - 1 && p->size % 64)
            used |= ~0ULL << (p->size % 64); /* past the end */
        if (used != ~0ULL) {
            p->cursor = w;
            *off = (uint64_t)w * 64 + (uint64_t)__builtin_ctzll(~used);
            return true;
        }
    }
    return false;
}

static struct lease *lease_new(struct hk_ippool *p, uint64_t off)
{
    struct lease *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->off = off;
    if (hk_u64map_put(&p->leases, off, l)) {
        free(l);
        return NULL;
    }
    bit_set(p, off);
    return l;
}

static void lease_forget(struct hk_ippool *p, struct lease *l)
{
    lease_detach(p, l);
    hk_u64map_del(&p->leases, l->off);
    bit_clear(p, l->off);
    free(l);
}

/* ---- pool ---- */

int hk_ippool_new(const struct hk_pool *conf, struct hk_ippool **out)
{
    if (!conf || !out)
        return HK_E_INVALID;
    *out = NULL;
    const struct hk_ip_range *r = &conf->range;
    if (r->family != AF_INET && r->family != AF_INET6)
        return HK_E_CONFIG;
    uint64_t shi, slo, ehi, elo;
    to_num(r->family, r->start, &shi, &slo);
    to_num(r->family, r->end, &ehi, &elo);
    int prefix = hk_ip_range_prefix(r);
    if (prefix >= 0 && prefix <= (r->family == AF_INET ? 30 : 126)) {
        add(&shi, &slo, 1); /* network / Subnet-Router anycast address */
        if (r->family == AF_INET)
            sub(&ehi, &elo, 1); /* broadcast */
    }
    if (ehi < shi || (ehi == shi && elo < slo))
        return HK_E_CONFIG;
    uint64_t dlo = elo - slo, dhi = ehi - shi - (elo < slo);
    uint64_t size = dhi || dlo >= HK_IPPOOL_MAX_SIZE - 1 ? HK_IPPOOL_MAX_SIZE : dlo + 1;

    struct hk_ippool *p = calloc(1, sizeof(*p));
    if (!p)
        return HK_E_NOMEM;
    p->family = r->family;
    p->range = *r;
    p->base_hi = shi;
    p->base_lo = slo;
    p->size = size;
    p->nwords = (size_t)((size + 63) / 64);
    p->nbuckets = 64;
    p->name = strdup(conf->name ? conf->name : "");
    p->bits = calloc(p->nwords, sizeof(*p->bits));
    p->buckets = calloc(p->nbuckets, sizeof(*p->buckets));
    int rc = !p->name || !p->bits || !p->buckets ? HK_E_NOMEM : 0;
    if (!rc && hk_random(&p->seed, sizeof(p->seed)))
        rc = HK_E_CRYPTO;
    if (rc) {
        hk_ippool_free(p);
        return rc;
    }
    hk_u64map_init(&p->leases, p->seed);
    *out = p;
    return 0;
}

void hk_ippool_free(struct hk_ippool *p)
{
    if (!p)
        return;
    size_t pos = 0;
    struct lease *l;
    while ((l = hk_u64map_next(&p->leases, &pos, NULL)))
        free(l);
    hk_u64map_free(&p->leases);
    for (size_t i = 0; p->buckets && i < p->nbuckets; i++) {
        for (struct owner *o = p->buckets[i], *next; o; o = next) {
            next = o->hnext;
            free(o);
        }
    }
    free(p->buckets);
    free(p->bits);
    free(p->name);
    free(p);
}

/* The lease to give identity o (which may be NULL), or NULL; creates a record for a
 * fresh address. *err is set when memory runs out. */
static struct lease *choose(struct hk_ippool *p, struct owner *o, const struct hk_ip *requested,
                            int *err)
{
    uint64_t off;
    struct lease *l;
    /* 1. The address asked for (2.19: "likely ... a previous connection"). */
    if (off_of(p, requested, &off)) {
        l = hk_u64map_get(&p->leases, off);
        if (!l) {
            if (!(l = lease_new(p, off)))
                *err = HK_E_NOMEM;
            return l;
        }
        if (!l->refs || (o && l->owner == o))
            return l;
    }
    /* 2. One this identity held before: released leases come first in its list. */
    if (o && o->leases && !o->leases->refs)
        return o->leases;
    /* 3. A fresh one. */
    if (find_fresh(p, &off)) {
        if (!(l = lease_new(p, off)))
            *err = HK_E_NOMEM;
        return l;
    }
    /* 4. The one released longest ago. */
    return p->lru_head;
}

int hk_ippool_acquire(struct hk_ippool *p, const uint8_t *id, size_t idlen,
                      const struct hk_ip *requested, struct hk_ip *out)
{
    if (!p || !out || (idlen && !id))
        return HK_E_INVALID;
    struct owner *o = NULL, *fresh_owner = NULL;
    uint64_t h = 0;
    if (idlen) {
        h = id_hash(p->seed, id, idlen);
        o = owner_find(p, h, id, idlen);
        if (!o) {
            /* Allocated before anything changes, so that failing leaves no trace. */
            if (!(fresh_owner = malloc(sizeof(*fresh_owner) + idlen)))
                return HK_E_NOMEM;
            *fresh_owner = (struct owner){.hash = h, .idlen = idlen};
            memcpy(fresh_owner->id, id, idlen);
        }
    }
    int err = HK_E_NOTFOUND;
    struct lease *l = choose(p, o, requested, &err);
    if (!l) {
        free(fresh_owner);
        return err;
    }
    if (fresh_owner) {
        owner_insert(p, fresh_owner);
        o = fresh_owner;
    }
    if (!l->refs) {
        if (l->lru_prev || p->lru_head == l)
            lru_remove(p, l);
        l->refs++;
        if (l->owner != o) {
            lease_detach(p, l); /* reused: its previous owner forgets it */
            lease_attach(l, o);
        } else {
            lease_requeue(l);
        }
        p->in_use++;
    } else {
        l->refs++;
    }
    if (l->owner)
        l->owner->held++;
    addr_of(p, l->off, out);
    return 0;
}

int hk_ippool_release(struct hk_ippool *p, const struct hk_ip *ip)
{
    uint64_t off;
    if (!p || !ip)
        return HK_E_INVALID;
    struct lease *l = off_of(p, ip, &off) ? hk_u64map_get(&p->leases, off) : NULL;
    if (!l || !l->refs)
        return HK_E_NOTFOUND;
    if (l->owner)
        l->owner->held--;
    if (--l->refs)
        return 0;
    p->in_use--;
    if (l->owner) {
        lru_push(p, l); /* remembered until reused */
        lease_requeue(l);
    } else
        lease_forget(p, l);
    return 0;
}

size_t hk_ippool_held(const struct hk_ippool *p, const uint8_t *id, size_t idlen)
{
    if (!p || !idlen || !id)
        return 0;
    const struct owner *o = owner_find(p, id_hash(p->seed, id, idlen), id, idlen);
    return o ? o->held : 0;
}

size_t hk_ippool_in_use(const struct hk_ippool *p)
{
    return p ? p->in_use : 0;
}

size_t hk_ippool_size(const struct hk_ippool *p)
{
    return p ? (size_t)p->size : 0;
}

const char *hk_ippool_name(const struct hk_ippool *p)
{
    return p ? p->name : "";
}

int hk_ippool_family(const struct hk_ippool *p)
{
    return p ? p->family : 0;
}

bool hk_ippool_same_range(const struct hk_ippool *p, const struct hk_pool *conf)
{
    return !memcmp(&p->range, &conf->range, sizeof(p->range));
}
