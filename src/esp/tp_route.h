/*
 * Routing for transport-mode SAs. The peer's address is both the ESP endpoint and the
 * protected destination, so a plain route for it via the TUN device would also swallow
 * hiked's own IKE (UDP 500/4500) and ESP packets. Instead: a host route to the peer via the
 * TUN device in a table of its own, and per address family one rule "not fwmark MARK lookup
 * TABLE" (rtnl.h). hiked sets SO_MARK = MARK on its IKE, NAT-T and raw ESP sockets, so they
 * skip the rule and use the main table; every other packet to the peer finds the TUN route.
 *
 * Reference-counted: a rekeyed Child SA's successor shares its predecessor's route, and a
 * family's rule lives while that family has a route. hk_tp_routing_flush removes everything
 * (shutdown), including after install failures.
 */
#ifndef HIKE_ESP_TP_ROUTE_H
#define HIKE_ESP_TP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp/esp_transport.h"
#include "esp/rtnl.h"

#define HK_TP_MAX_ROUTES 64
#define HK_TP_RULE_PRIO  18507 /* before the main table's rule (32766), after local (0) */

struct hk_tp_route {
    int family;
    uint8_t dst[16], src[16];
    unsigned refs;
    bool added; /* the kernel took it (or had it already): delete it at the end */
};

struct hk_tp_routing {
    struct hk_rtnl *rtnl;
    int ifindex;
    uint32_t mark, table;
    struct hk_tp_route r[HK_TP_MAX_ROUTES];
    size_t n;
    unsigned rule_refs[2]; /* routes of each family: [0] IPv4, [1] IPv6 */
    bool rule_added[2];
};

void hk_tp_routing_init(struct hk_tp_routing *t, struct hk_rtnl *rtnl, int ifindex, uint32_t mark,
                        uint32_t table);
/* Routes a->remote (preferred source a->local) via the TUN device; adds the family's rule with
 * the first route. HK_E_OVERFLOW when the table is full, HK_E_IO when the kernel refused
 * (logged through the rtnl's log); the reference counts anyway, so unref stays balanced. */
int hk_tp_route_ref(struct hk_tp_routing *t, const struct hk_tp_addrs *a);
void hk_tp_route_unref(struct hk_tp_routing *t, const struct hk_tp_addrs *a);
/* Deletes every route and rule still there. */
void hk_tp_routing_flush(struct hk_tp_routing *t);

#endif
