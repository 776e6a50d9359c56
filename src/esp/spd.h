/*
 * The security policy database of the userspace data plane (RFC 4301 4.4.1): which
 * Child SA an outbound packet belongs to, from the Child SAs' traffic selectors.
 *
 * The order is a list (earliest wins), kept as a number per entry: an entry added first
 * takes a number below all others, one added last a number above. Lookups stay exact over
 * that order without scanning it: entries whose remote selectors are all CIDR prefixes (a
 * remote-access child's virtual IP, a site's subnet) sit in buckets keyed by prefix, one
 * probe per prefix length in use; only the others are scanned in order. A gateway with
 * 100,000 children probes one bucket per packet.
 */
#ifndef HIKE_ESP_SPD_H
#define HIKE_ESP_SPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/u64map.h"
#include "esp/sel.h"

#define HK_SPD_MAX_TS 8

struct hk_spd_entry;

/* Where an entry sits: in a bucket of by_prefix, or in the scan list. Lists run in order. */
struct hk_spd_node {
    struct hk_spd_node *prev, *next;
    struct hk_spd_entry *e;
    uint64_t key; /* its bucket in by_prefix */
};

struct hk_spd_list {
    struct hk_spd_node *head, *tail;
};

struct hk_spd {
    struct hk_u64map by_id;     /* child id -> struct hk_spd_entry */
    struct hk_u64map by_prefix; /* hash of (family, length, prefix) -> struct hk_spd_list */
    struct hk_spd_list scan;    /* entries with a remote selector that is no prefix */
    uint32_t nlen[2][129];      /* index entries per prefix length, IPv4 and IPv6 */
    int64_t lo, hi;             /* the lowest and highest order number given */
    uint64_t seed;
};

void hk_spd_init(struct hk_spd *s, uint64_t seed);
void hk_spd_free(struct hk_spd *s);
/*
 * Adds (or replaces) the policy of a Child SA. With first, it goes before every existing
 * entry: a Child SA whose exchange we initiated takes the traffic at once (the peer had
 * its inbound SA before it answered). Without, it goes last: a Child SA we made as
 * responder waits until its predecessor is deleted, because the initiator installs its
 * inbound half only when our answer arrives (make-before-break without loss).
 */
int hk_spd_add(struct hk_spd *s, uint64_t id, const struct ike_ts *local, size_t nlocal,
               const struct ike_ts *remote, size_t nremote, bool first);
/* The same over selectors the caller keeps unchanged until hk_spd_del (no copy: the data
 * plane's SA holds them already), with arg for hk_spd_lookup_arg. */
int hk_spd_add_sel(struct hk_spd *s, uint64_t id, const struct hk_sel *sel, void *arg, bool first);
void hk_spd_del(struct hk_spd *s, uint64_t id);
size_t hk_spd_count(const struct hk_spd *s);
/* The Child SA for an outbound packet (source in local, destination in remote), or 0. */
uint64_t hk_spd_lookup_out(const struct hk_spd *s, const struct hk_pkt_sel *p);
/* The same lookup, returning the arg its entry was added with (NULL: none). */
void *hk_spd_lookup_arg(const struct hk_spd *s, const struct hk_pkt_sel *p);
/* Whether an inbound packet decapsulated from Child SA id fits its selectors (RFC 4301
 * 5.2: a packet that does not must be dropped). */
bool hk_spd_check_in(const struct hk_spd *s, uint64_t id, const struct hk_pkt_sel *p);

#endif
