/*
 * Configuration payload contents (RFC 7296 2.19, 3.15): what an initiator asks for
 * in CP(CFG_REQUEST) and what a responder hands out in CP(CFG_REPLY), on top of
 * the codec's struct ike_pl_cp. Building fills a payload whose attributes live in
 * the caller's arena; parsing reads a decoded payload and checks each attribute's
 * length against the table of 3.15.1.
 *
 * Choices (RFC 7296 leaves them open):
 * - A reply gives a virtual IPv6 address with prefix length 128 and an IPv4 address
 *   without INTERNAL_IP4_NETMASK: a virtual address is a host address, reached
 *   through the SA, not an on-link subnet (3.15.1: a netmask "implies a link
 *   boundary"). What is routed through the gateway is the traffic selectors' job.
 * - A requested address of all zeros (some clients send 0.0.0.0) counts as a request
 *   for any address.
 * - Unknown attributes are ignored (3.15.1 MUST); so are known ones of a valid
 *   length that hike does not use (NBNS, DHCP, APPLICATION_VERSION), and values past
 *   the capacities below.
 */
#ifndef HIKE_IKE_CP_H
#define HIKE_IKE_CP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "config/ts_conf.h"
#include "ike/codec/msg.h"

/* What a CFG_REQUEST asks for. */
struct ike_cp_request {
    bool want4, want6;         /* an INTERNAL_IP4_ADDRESS / INTERNAL_IP6_ADDRESS attribute */
    bool has_addr4, has_addr6; /* ... with a specific (non-zero) address in it */
    struct hk_ip addr4, addr6; /* the address asked for (2.19: likely a previous one) */
    uint8_t prefix6;           /* the prefix length sent with addr6 */
    bool dns4, dns6;           /* INTERNAL_IP4_DNS / INTERNAL_IP6_DNS asked for */
    bool netmask4;             /* INTERNAL_IP4_NETMASK asked for */
    bool supported_attributes; /* SUPPORTED_ATTRIBUTES asked for */
};

#define IKE_CP_MAX_ADDRS   4
#define IKE_CP_MAX_DNS     8
#define IKE_CP_MAX_SUBNETS 16

struct ike_cp_subnet {
    struct hk_ip addr;
    uint8_t prefix; /* from the IPv4 netmask or the IPv6 prefix length */
};

/* What a CFG_REPLY gives. */
struct ike_cp_reply {
    size_t naddrs;
    struct hk_ip addrs[IKE_CP_MAX_ADDRS];
    uint8_t prefix[IKE_CP_MAX_ADDRS]; /* IPv6: as sent; IPv4: from the netmask, else 32 */
    bool has_netmask4;
    uint8_t netmask4; /* INTERNAL_IP4_NETMASK as a prefix length */
    size_t ndns;
    struct hk_ip dns[IKE_CP_MAX_DNS];
    size_t nsubnets;
    struct ike_cp_subnet subnets[IKE_CP_MAX_SUBNETS];
};

/*
 * Initiator: CP(CFG_REQUEST) with an empty INTERNAL_IP4_ADDRESS and INTERNAL_IP4_DNS
 * when want4, an empty INTERNAL_IP6_ADDRESS and INTERNAL_IP6_DNS when want6.
 * HK_E_INVALID when neither (2.19: a request MUST hold an INTERNAL_ADDRESS).
 */
int ike_cp_build_request(bool want4, bool want6, struct hk_arena *a, struct ike_pl_cp *out);

/*
 * Responder: reads a CFG_REQUEST. HK_E_UNSUPPORTED for another CFG type (CFG_SET may
 * be ignored, 3.15.1), HK_E_SYNTAX for an attribute of a wrong length or an IPv6
 * prefix length over 128. Neither family asked for is not an error here: out says so.
 */
int ike_cp_parse_request(const struct ike_pl_cp *cp, struct ike_cp_request *out);

/*
 * Responder: CP(CFG_REPLY) with one INTERNAL_IP4_ADDRESS (4 octets) or
 * INTERNAL_IP6_ADDRESS (address and prefix length 128, 17 octets) per address, then
 * one INTERNAL_IP4_DNS / INTERNAL_IP6_DNS per DNS server. HK_E_INVALID for an address
 * of another family or too many attributes.
 */
int ike_cp_build_reply(const struct hk_ip *addrs, size_t n, const struct hk_ip *dns, size_t ndns,
                       struct hk_arena *a, struct ike_pl_cp *out);

/*
 * Initiator: reads a CFG_REPLY. HK_E_SYNTAX for another CFG type, an attribute of a
 * wrong length (3.15.1: 0 or 4 for IPv4 ones, 0 or 17 for INTERNAL_IP6_ADDRESS, 0 or 16
 * for IPv6 DNS/DHCP, 0 or 8 for INTERNAL_IP4_SUBNET, 17 for INTERNAL_IP6_SUBNET, a
 * multiple of 2 for SUPPORTED_ATTRIBUTES), an all-zero address, a non-contiguous
 * netmask or a prefix length over 128. Empty attributes in a reply carry nothing and
 * are skipped.
 */
int ike_cp_parse_reply(const struct ike_pl_cp *cp, struct ike_cp_reply *out);

#endif
