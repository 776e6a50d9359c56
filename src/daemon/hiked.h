/* The daemon: one event loop around the IKE engine, its sockets and its control socket. */
#ifndef HIKE_DAEMON_HIKED_H
#define HIKE_DAEMON_HIKED_H

#include <event2/event.h>
#include <stdbool.h>

#include "common/log.h"
#include "common/rxbatch.h"
#include "common/txq.h"
#include "config/config.h"
#include "crypto/crypto.h"
#include "esp/dataplane.h"
#include "ike/engine.h"

#define HIKED_MAX_SOCKS 16
#define HIKED_RX_MAX    65536 /* a slot: the largest datagram, or a UDP GRO train of them */
/* Datagrams per recvmmsg. Each slot holds 64 KiB, of which IKE touches a page or two; ESP in
 * UDP (GRO) fills whole slots: 8 keeps that at 512 KiB for the daemon. */
#define HIKED_RX_BATCH     8
#define HIKED_RX_BURST     64 /* datagrams per socket and wake-up, so one cannot starve the others */
#define HIKED_NATT_SOCKBUF (8 * 1024 * 1024) /* receive/send buffer of the NAT-T sockets */

struct hiked;

struct hiked_sock {
    struct hiked *d;
    int fd;
    int family;
    uint16_t port;
    bool natt; /* RFC 3948 port: non-ESP marker on IKE, ESP otherwise */
    struct event *ev;
};

struct hiked_stats {
    uint64_t rx_short, rx_keepalive, rx_esp, tx_errors;
};

struct hiked {
    struct event_base *base;
    struct hk_log log;
    struct hk_crypto crypto;
    const char *config_path;
    struct hk_config *cfg;
    struct ike_engine engine;
    struct hk_dataplane *dp;
    struct hiked_sock socks[HIKED_MAX_SOCKS];
    size_t nsocks;
    struct event *timer, *sig_term, *sig_int, *sig_hup;
    struct hiked_control *ctl;
    struct hiked_stats stats;
    struct hk_rxbatch rx; /* HIKED_RX_BATCH slots, shared by the sockets */
    struct hk_txq txq;    /* IKE datagrams, sent at the end of each round of callbacks */
    bool stopping;
    bool no_udp_gso; /* UDP_SEGMENT failed once: send ESP in UDP one datagram per call */
};

/* netio.c: UDP sockets on the IKE and NAT-T ports. */
int hiked_net_open(struct hiked *d);
/* Sends what is queued, then closes the sockets. */
void hiked_net_close(struct hiked *d);
/* Sends the queued IKE datagrams (hiked_net_send queues them). */
void hiked_net_flush(struct hiked *d);
/* The event loop: event_base_dispatch, with a flush after every round of callbacks. */
int hiked_net_run(struct hiked *d);
void hiked_net_send(void *arg, const struct sockaddr_storage *local,
                    const struct sockaddr_storage *remote, const uint8_t *buf, size_t len);
void hiked_net_send_esp(void *arg, const struct sockaddr_storage *local,
                        const struct sockaddr_storage *remote, const struct iovec *pkts, size_t n,
                        size_t seg);
void hiked_net_keepalive(void *arg, const struct sockaddr_storage *local,
                         const struct sockaddr_storage *remote);
int hiked_net_local_addr(void *arg, const struct sockaddr_storage *remote,
                         struct sockaddr_storage *local);

/* hiked.c */
/* Re-arms the engine timer after anything that may have changed the next deadline. */
void hiked_kick(struct hiked *d);
/* Loads the config file again and swaps it in; err gets a reason. */
int hiked_reload(struct hiked *d, char *err, size_t errlen);
/* Starts the connections whose start_action is "start". */
void hiked_start_conns(struct hiked *d);

#endif
