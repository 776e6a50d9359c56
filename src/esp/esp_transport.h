/*
 * ESP transport mode (RFC 4303 3.1.1) for the userspace data plane: what lies between a
 * clear IP packet of the local stack and the upper-layer payload that ESP protects.
 *
 * Outbound, the TUN device hands us a whole IP packet; hk_tp_strip finds its upper-layer
 * payload and protocol (the ESP Next Header, RFC 4303 2.6); the outer IP header is the
 * kernel's (raw ESP socket) or comes with the UDP encapsulation (RFC 3948). Inbound,
 * hk_tp_rebuild puts an IP header (peer -> us) in front of the decrypted payload so the
 * kernel delivers it locally through the TUN device, and can recompute the TCP/UDP/ICMPv6
 * checksum over the rebuilt pseudo-header (RFC 3948 3.1.2, option 2).
 *
 * Pure functions over caller buffers: no allocation, no state.
 */
#ifndef HIKE_ESP_ESP_TRANSPORT_H
#define HIKE_ESP_ESP_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ts.h"

#define HK_TP_TTL 64 /* TTL / hop limit of a rebuilt header: the packet is ours, one hop */

/* The two hosts of a transport-mode SA, as the local stack sees them. */
struct hk_tp_addrs {
    int family; /* AF_INET or AF_INET6 */
    uint8_t local[16], remote[16];
};

/*
 * The addresses of a transport-mode SA from its traffic selectors: every selector of a side
 * must name the same single address (RFC 7296 2.23.1: "exactly one IP address" per side),
 * and both sides one family. HK_E_UNSUPPORTED otherwise (a range, mixed addresses or
 * families, or no selector).
 */
int hk_tp_addrs_from_ts(const struct ike_ts *local, size_t nlocal, const struct ike_ts *remote,
                        size_t nremote, struct hk_tp_addrs *out);

/*
 * The upper-layer payload of a clear IPv4 or IPv6 packet: *payload and *plen point into pkt
 * (trailing octets past the IP length are cut off), *proto is the protocol. Errors:
 * HK_E_SYNTAX when pkt is not a well-formed IP packet (version, header or total length);
 * HK_E_UNSUPPORTED for what transport mode cannot carry this way: IPv4 fragments (RFC 4303
 * 3.1.1: transport mode applies to whole datagrams), IPv4 options, and IPv6 extension
 * headers (they would have to stay in front of ESP; we drop and count them instead).
 */
int hk_tp_strip(const uint8_t *pkt, size_t len, const uint8_t **payload, size_t *plen,
                uint8_t *proto);

/*
 * Writes IP header (src = a->remote, dst = a->local, protocol proto, TTL HK_TP_TTL, IPv4
 * header checksum) | payload into out. With fix_csum, the TCP, UDP or ICMPv6 checksum of
 * the copy is recomputed over the new pseudo-header (an IPv4 UDP checksum of zero, "none",
 * stays zero). *outlen is the packet's length. HK_E_OVERFLOW when the packet would exceed
 * the IP length field or outcap; HK_E_SHORT when fix_csum is set and the payload is too
 * short to hold its checksum field; HK_E_INVALID for a bad family.
 */
int hk_tp_rebuild(const struct hk_tp_addrs *a, uint8_t proto, const uint8_t *payload, size_t plen,
                  bool fix_csum, uint8_t *out, size_t outcap, size_t *outlen);

/*
 * The checksum of an upper-layer packet over the pseudo-header (RFC 768 / RFC 793 for IPv4,
 * RFC 8200 8.1 for IPv6) of src/dst/proto: the one's complement of the one's complement sum
 * (RFC 1071), with the data's checksum field counted as it is. A packet whose field is right
 * sums to 0 (hk_tp_l4_ok); with the field zeroed, the result is the value to store.
 */
uint16_t hk_tp_l4_sum(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
                      const uint8_t *l4, size_t len);

/* Offset of the checksum field of proto (TCP 16, UDP 6, ICMPv6 2) and the minimal length of
 * its header; -1 for a protocol whose checksum has no pseudo-header (or none at all). */
int hk_tp_csum_offset(int family, uint8_t proto, size_t *min_len);

/* Whether the TCP, UDP or ICMPv6 checksum of l4 verifies under src/dst; true for other
 * protocols and for an IPv4 UDP checksum of zero. */
bool hk_tp_l4_ok(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
                 const uint8_t *l4, size_t len);

#endif
