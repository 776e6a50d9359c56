/*
 * The routes of the userspace data plane into its TUN device, counted by their users: a
 * route per prefix of the Child SAs' (and trap policies') remote selectors, added with the
 * first user and deleted with the last, so a rekey's successor shares its predecessor's.
 * A hash, any number of routes: a remote-access gateway has one per client. The kernel
 * calls go through callbacks, so the bookkeeping is tested without a kernel.
 */
#ifndef HIKE_ESP_ROUTE_REFS_H
#define HIKE_ESP_ROUTE_REFS_H

#include <stddef.h>
#include <stdint.h>

#include "common/u64map.h"
#include "config/ts_conf.h"

typedef void (*hk_route_fn)(void *arg, const struct hk_ip *dst, uint8_t len);

struct hk_route_refs {
    struct hk_u64map by_hash; /* hash of the prefix -> chain of struct hk_route_ref */
    size_t count;             /* distinct routes */
    hk_route_fn add, del;
    void *arg;
    uint64_t seed;
};

void hk_route_refs_init(struct hk_route_refs *r, uint64_t seed, hk_route_fn add, hk_route_fn del,
                        void *arg);
/* One more user of dst/len; the first adds the route. A failed add (the callback logs it)
 * is counted anyway, so that unref stays balanced. HK_E_NOMEM: nothing changed. */
int hk_route_refs_ref(struct hk_route_refs *r, const struct hk_ip *dst, uint8_t len);
/* One user less; the last deletes the route. Unknown prefixes are ignored. */
void hk_route_refs_unref(struct hk_route_refs *r, const struct hk_ip *dst, uint8_t len);
/* The number of users of dst/len (0: no route). */
unsigned hk_route_refs_users(const struct hk_route_refs *r, const struct hk_ip *dst, uint8_t len);
/* Deletes every route still there and frees the table (shutdown). */
void hk_route_refs_flush(struct hk_route_refs *r);

#endif
