/*
 * The security policy database of the userspace data plane (RFC 4301 4.4.1): which
 * Child SA an outbound packet belongs to, from the Child SAs' traffic selectors, and
 * the selector fields of a packet read from its IP header.
 */
#ifndef HIKE_ESP_SPD_H
#define HIKE_ESP_SPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike/codec/msg.h"

#define HK_SPD_MAX_TS 8

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

struct hk_spd_entry {
    uint64_t id; /* the Child SA */
    size_t nlocal, nremote;
    struct ike_ts local[HK_SPD_MAX_TS], remote[HK_SPD_MAX_TS];
};

struct hk_spd {
    struct hk_spd_entry *e;
    size_t n, cap;
};

void hk_spd_init(struct hk_spd *s);
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
void hk_spd_del(struct hk_spd *s, uint64_t id);
/* Whether one selector covers the packet's destination (remote) or source (local) side. */
bool hk_ts_match(const struct ike_ts *ts, int family, const uint8_t *addr, uint8_t proto,
                 bool has_port, uint16_t port);
/* The Child SA for an outbound packet (source in local, destination in remote), or 0. */
uint64_t hk_spd_lookup_out(const struct hk_spd *s, const struct hk_pkt_sel *p);
/* Whether an inbound packet decapsulated from Child SA id fits its selectors (RFC 4301
 * 5.2: a packet that does not must be dropped). */
bool hk_spd_check_in(const struct hk_spd *s, uint64_t id, const struct hk_pkt_sel *p);

#endif
