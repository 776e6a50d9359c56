/*
 * Address ranges (traffic selectors) as CIDR prefixes: a route or an address needs a
 * prefix, a selector is an arbitrary inclusive range. Pure code.
 */
#ifndef HIKE_ESP_PREFIX_H
#define HIKE_ESP_PREFIX_H

#include <stddef.h>
#include <stdint.h>

#include "config/ts_conf.h"

/* Most prefixes any range can need: 2 * (bits - 1) (62 for IPv4, 254 for IPv6). */
#define HK_PREFIX_MAX_V4 62
#define HK_PREFIX_MAX_V6 254

/*
 * Splits r into the minimal list of CIDR blocks covering exactly r, in ascending address
 * order: block i is addrs[i]/lens[i]. Writes at most max entries and returns how many the
 * whole range needs, so a return > max reports truncation (as snprintf does). Returns 0
 * for an invalid range (unknown family or start > end). addrs/lens may be NULL when max
 * is 0, to count.
 */
size_t hk_range_to_prefixes(const struct hk_ip_range *r, struct hk_ip *addrs, uint8_t *lens,
                            size_t max);

#endif
