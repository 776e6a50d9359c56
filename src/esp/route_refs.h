/*
 * The routes of the userspace data plane into its TUN device, counted by their users: a
 * route per prefix of the Child SAs' (and trap policies') remote selectors, added with the
 * first user and deleted with the last, so a rekey's successor shares its predecessor's.
 * A hash, any number of routes: a remote-access gateway has one per client, unless its
 * clients' addresses come from a pool: a pool's prefixes are permanent routes, added once,
 * and a prefix inside one is only counted (no route of its own, nothing stored), so
 * clients come and go without a netlink call. The kernel calls go through callbacks, so
 * the bookkeeping is tested without a kernel.
 */
#ifndef HIKE_ESP_ROUTE_REFS_H
#define HIKE_ESP_ROUTE_REFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/u64map.h"
#include "config/ts_conf.h"

/* Adds or deletes one route; 0 or a negative error (logged by the callback). */
typedef int (*hk_route_fn)(void *arg, const struct hk_ip *dst, uint8_t len);

struct hk_route_pfx {
    struct hk_ip dst;
    uint8_t len;
};

struct hk_route_refs;
/* Calls visit(r, dst, len) once for each ref the caller holds (hk_route_refs_set_permanent). */
typedef void (*hk_route_visit)(struct hk_route_refs *r, const struct hk_ip *dst, uint8_t len);
typedef void (*hk_route_each)(void *arg, struct hk_route_refs *r, hk_route_visit visit);

struct hk_route_refs {
    struct hk_u64map by_hash;  /* hash of the prefix -> chain of struct hk_route_ref */
    size_t count;              /* distinct routes of their own */
    size_t covered;            /* refs inside a permanent route: counted only */
    struct hk_route_pfx *perm; /* permanent routes in the kernel (those it refused are not) */
    size_t nperm;
    struct hk_route_pfx *next; /* during set_permanent: the new permanent routes */
    size_t nnext;
    size_t lost; /* during set_permanent: refs that found no memory for a route of their own */
    hk_route_fn add, del;
    void *arg;
    uint64_t seed;
};

void hk_route_refs_init(struct hk_route_refs *r, uint64_t seed, hk_route_fn add, hk_route_fn del,
                        void *arg);
/* One more user of dst/len; the first adds the route, unless a permanent route covers it.
 * A failed add (the callback logs it) is counted anyway, so that unref stays balanced.
 * HK_E_NOMEM: nothing changed. */
int hk_route_refs_ref(struct hk_route_refs *r, const struct hk_ip *dst, uint8_t len);
/* One user less; the last deletes the route. Unknown prefixes are ignored. */
void hk_route_refs_unref(struct hk_route_refs *r, const struct hk_ip *dst, uint8_t len);
/* The number of users of dst/len's own route (0: none; a covered prefix has none). */
unsigned hk_route_refs_users(const struct hk_route_refs *r, const struct hk_ip *dst, uint8_t len);
/* Whether a permanent route covers dst/len (lies inside or equals it). */
bool hk_route_refs_covered(const struct hk_route_refs *r, const struct hk_ip *dst, uint8_t len);
/*
 * Makes p[0..n) the permanent routes (at start, and again after a configuration reload),
 * without a moment in which a held prefix has no route: the new ones are added first, then
 * each ref the caller holds (each() lists them) moves to its own route or under a
 * permanent one, then the permanent routes no longer wanted are deleted. A permanent route
 * the kernel refuses covers nothing. HK_E_NOMEM: nothing changed.
 */
int hk_route_refs_set_permanent(struct hk_route_refs *r, const struct hk_route_pfx *p, size_t n,
                                hk_route_each each, void *each_arg);
/* Deletes every route still there, permanent ones too, and frees the table (shutdown). */
void hk_route_refs_flush(struct hk_route_refs *r);

#endif
