/*
 * Traffic selectors (RFC 7296 3.13.1: address ranges, a protocol, port ranges) as Linux
 * XFRM policy selectors, which only know an address prefix and a port with a mask per
 * side. Each pair (local TS x remote TS) becomes every combination of the prefixes
 * covering its address ranges and the port blocks covering its port ranges. Pure code.
 */
#ifndef HIKE_ESP_XFRM_SEL_H
#define HIKE_ESP_XFRM_SEL_H

#include <stddef.h>
#include <stdint.h>

#include "common/ts.h"

/* One kernel selector, oriented local -> remote (the "out" direction). Ports in host order;
 * a mask of 0 matches any port. */
struct hk_xfrm_sel {
    int family; /* AF_INET or AF_INET6 */
    uint8_t src[16], dst[16];
    uint8_t src_len, dst_len;
    uint8_t proto; /* 0: any */
    uint16_t sport, sport_mask, dport, dport_mask;
};

/* Policy priorities: lower wins in the kernel; more specific selectors get lower values. */
#define HK_XFRM_PRIO_BASE 0x10000u

/*
 * Expands local x remote into selectors (pairs of different families, or with two
 * different protocols, match nothing and are left out). Writes at most max and sets *n to
 * the number needed; HK_E_OVERFLOW when that is more than max. HK_E_UNSUPPORTED for what
 * a kernel selector cannot say: opaque ports, or an ICMP type/code range narrower than
 * "any" (the kernel matches type and code in separate fields). HK_E_INVALID for a bad TS.
 */
int hk_xfrm_sels(const struct ike_ts *local, size_t nlocal, const struct ike_ts *remote,
                 size_t nremote, struct hk_xfrm_sel *out, size_t max, size_t *n);

/* The same selector seen from the other side (for the "in" and "fwd" policies). */
struct hk_xfrm_sel hk_xfrm_sel_reverse(const struct hk_xfrm_sel *s);

/* HK_XFRM_PRIO_BASE minus the selector's specificity (prefix lengths, protocol, ports). */
uint32_t hk_xfrm_sel_priority(const struct hk_xfrm_sel *s);

/*
 * Splits the inclusive port range [lo, hi] into aligned blocks (port, mask), like an
 * address range into prefixes. Writes at most max; returns the number needed (at most 30),
 * 0 when lo > hi.
 */
size_t hk_xfrm_port_blocks(uint16_t lo, uint16_t hi, uint16_t *port, uint16_t *mask, size_t max);

#endif
