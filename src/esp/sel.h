/*
 * Selectors of the userspace data plane: the selector fields of a packet read from its IP
 * header, and a Child SA's traffic selectors sized to what it has, matched against them
 * (RFC 4301 4.4.1). Pure code.
 */
#ifndef HIKE_ESP_SEL_H
#define HIKE_ESP_SEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ts.h"

/* The selector fields of one IP packet. */
struct hk_pkt_sel {
    int family; /* AF_INET or AF_INET6 */
    uint8_t src[16], dst[16];
    uint8_t proto;
    bool has_ports;
    uint16_t sport, dport;
};

/* Reads the selector fields of an IPv4 or IPv6 packet; HK_E_SYNTAX when it is not one. */
int hk_pkt_sel_parse(const uint8_t *pkt, size_t len, struct hk_pkt_sel *out);

/* Whether one selector covers the packet's destination (remote) or source (local) side. */
bool hk_ts_match(const struct ike_ts *ts, int family, const uint8_t *addr, uint8_t proto,
                 bool has_port, uint16_t port);

/* A Child SA's selectors: ts[0..nlocal) local, then nremote remote. One allocation, as
 * large as the selectors (a remote-access child has one each side). */
struct hk_sel {
    uint8_t nlocal, nremote;
    struct ike_ts ts[];
};

/* NULL when out of memory or more than 255 per side. Free with free(). */
struct hk_sel *hk_sel_new(const struct ike_ts *local, size_t nlocal, const struct ike_ts *remote,
                          size_t nremote);
/* For a caller that keeps the selectors inside a block of its own: the octets they take, and
 * filling them in (at an address aligned for struct hk_sel; at most 255 per side). */
size_t hk_sel_size(size_t nlocal, size_t nremote);
void hk_sel_fill(struct hk_sel *s, const struct ike_ts *local, size_t nlocal,
                 const struct ike_ts *remote, size_t nremote);
static inline const struct ike_ts *hk_sel_remote(const struct hk_sel *s)
{
    return s->ts + s->nlocal;
}
/* Outbound: the source in a local selector and the destination in a remote one. */
bool hk_sel_out(const struct hk_sel *s, const struct hk_pkt_sel *p);
/* Inbound (RFC 4301 5.2): the source in a remote selector, the destination in a local one. */
bool hk_sel_in(const struct hk_sel *s, const struct hk_pkt_sel *p);

#endif
