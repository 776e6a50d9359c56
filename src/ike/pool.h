/*
 * Virtual IP address pools for a responder (RFC 7296 2.19, 3.15.4): addresses from
 * a configured range handed to peers that ask with CP(CFG_REQUEST).
 *
 * Leases belong to the peer's identity. A released lease is remembered for that
 * identity, so a peer that reconnects gets its old address back, until the address
 * is handed to someone else. Choice of address, in order:
 *   1. the address the peer asked for (2.19), if in the pool and free, or already
 *      leased to the same identity (a reconnect before the old IKE SA is gone: the
 *      lease is then shared and counted twice);
 *   2. an address this identity held before and released;
 *   3. an address never leased (or forgotten);
 *   4. the address released longest ago by another identity, which then forgets it;
 *   else HK_E_NOTFOUND (the exchange answers INTERNAL_ADDRESS_FAILURE, 3.15.4).
 * Several leases per identity are normal (two devices with one identity, RFC 7791
 * clones); without an identity (idlen 0) a lease is not remembered after release.
 *
 * Cost: a bitmap of the pool plus one record per address ever leased and a hash of
 * identities, so acquire and release are O(1) apart from the scan for a fresh
 * address (64 addresses per word, from a rotating cursor), however many leases one
 * identity holds (each identity keeps its released leases ahead of its held ones).
 *
 * Range: a range that is one CIDR block loses its first address (the IPv4 network
 * address, the IPv6 Subnet-Router anycast address, RFC 4291 2.6.1) and for IPv4 its
 * last (broadcast), unless the block is a /31, /32, /127 or /128; any other range
 * ("10.0.0.5-10.0.0.20") is used whole.
 * Only the first HK_IPPOOL_MAX_SIZE addresses of a larger range (an IPv6 /64) are
 * used: a pool of a million leases is far past what one gateway serves.
 */
#ifndef HIKE_IKE_POOL_H
#define HIKE_IKE_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define HK_IPPOOL_MAX_SIZE (1u << 20)

struct hk_ippool;

/* A pool over conf->range (the name is copied). HK_E_CONFIG for an empty range. */
int hk_ippool_new(const struct hk_pool *conf, struct hk_ippool **out);
void hk_ippool_free(struct hk_ippool *p);

/*
 * Leases an address to identity id (the peer's ID payload body, or any stable byte
 * string). requested may be NULL; one of another family or outside the pool is
 * ignored. HK_E_NOTFOUND when the pool is exhausted, HK_E_NOMEM, HK_E_INVALID.
 */
int hk_ippool_acquire(struct hk_ippool *p, const uint8_t *id, size_t idlen,
                      const struct hk_ip *requested, struct hk_ip *out);

/* Ends one lease of ip (one acquire). HK_E_NOTFOUND when ip is not leased. */
int hk_ippool_release(struct hk_ippool *p, const struct hk_ip *ip);

/* Leases identity id holds now (acquires not released; a shared lease counts each time): what
 * max_leases limits. 0 without an identity. */
size_t hk_ippool_held(const struct hk_ippool *p, const uint8_t *id, size_t idlen);

/* Addresses leased now, and addresses the pool can hand out. */
size_t hk_ippool_in_use(const struct hk_ippool *p);
size_t hk_ippool_size(const struct hk_ippool *p);
const char *hk_ippool_name(const struct hk_ippool *p);
int hk_ippool_family(const struct hk_ippool *p);
/* Whether the pool was made from this configured range (a reload can keep it). */
bool hk_ippool_same_range(const struct hk_ippool *p, const struct hk_pool *conf);

#endif
