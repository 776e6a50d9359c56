/*
 * The userspace ESP data plane (RFC 4303, tunnel and transport mode): clear traffic
 * through a TUN device, ESP in UDP on the NAT-T port (RFC 3948) or raw ESP (IP protocol
 * 50), an SPD from the Child SAs' selectors, anti-replay windows, and routes for the
 * remote selectors (transport mode: tp_route.h). For kernels without ESP (this
 * machine's) and for platforms with none.
 */
#ifndef HIKE_ESP_DP_USER_H
#define HIKE_ESP_DP_USER_H

#include <event2/event.h>
#include <sys/socket.h>
#include <stdbool.h>
#include <sys/uio.h>

#include "crypto/crypto.h"
#include "esp/dataplane.h"

/*
 * Sends n ESP-in-UDP datagrams (no non-ESP marker) from local (port 4500) to remote, one
 * per iovec. seg != 0 promises that all but the last are exactly seg octets and the last
 * is no longer: the sender may then hand them to the kernel as one UDP GSO send.
 */
typedef void (*hk_dp_send_udp)(void *arg, const struct sockaddr_storage *local,
                               const struct sockaddr_storage *remote, const struct iovec *pkts,
                               size_t n, size_t seg);

/* What the data plane reports about a Child SA. */
enum hk_dp_event {
    HK_DP_ACTIVITY = 1,     /* inbound traffic (at most every 100 ms): the peer is alive */
    HK_DP_SOFT_EXPIRED = 2, /* rekey_bytes / rekey_packets reached */
    HK_DP_HARD_EXPIRED = 3, /* life_bytes / life_packets reached: the SA carries no more */
};
typedef void (*hk_dp_event_cb)(void *arg, uint64_t child_id, enum hk_dp_event ev);

/* Traffic hit a trap policy of connection conn: start it (RFC 4301 "acquire"). */
typedef void (*hk_dp_acquire)(void *arg, const char *conn);

struct hk_dp_user_conf {
    const char *ifname; /* TUN device name; NULL: "hike%d" */
    uint32_t replay_window;
    bool no_offload; /* a plain TUN device: one packet per read and write */
    hk_dp_send_udp send_udp;
    void *send_arg;
    hk_dp_acquire acquire; /* with send_arg */
    hk_dp_event_cb event;  /* with send_arg */
    uint32_t fwmark;       /* SO_MARK of the raw ESP sockets, skipped by the transport rule */
    uint32_t route_table;  /* transport-mode peers' routes (tp_route.h) */
};

/* Opens the TUN device and the raw ESP sockets; NULL (logged) when that fails. */
struct hk_dataplane *hk_dp_user_new(struct event_base *base, const struct hk_crypto *crypto,
                                    const struct hk_log *log, const struct hk_dp_user_conf *conf);

#endif
