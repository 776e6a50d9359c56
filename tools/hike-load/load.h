/*
 * hike-load: sets up many IKE SAs toward one responder from one process, with hike's own IKE
 * engine as the initiator, and reports the rate, the latency of each set-up and the failures.
 * opts.c reads the command line, conf.c turns it into an engine configuration, net.c is the
 * UDP transport (many local ports), stats.c the figures, main.c the event loop and window.
 */
#ifndef HIKE_LOAD_H
#define HIKE_LOAD_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/rxbatch.h"
#include "common/txq.h"
#include "config/ts_conf.h"
#include "ike/engine.h"

#define LOAD_MAX_PROPOSALS 8
#define LOAD_MAX_SRC       1024 /* source addresses */
#define LOAD_MAX_SOCKS     65536

struct load_opts {
    struct hk_ip target;
    uint16_t port, natt_port;
    uint32_t count, window;
    struct hk_ip src[LOAD_MAX_SRC]; /* nsrc == 0: the route's choice toward target */
    size_t nsrc;
    uint32_t nports; /* local ports per source address, from base_port */
    uint16_t base_port;
    const char *psk, *cert, *key, *ca;
    const char *id, *remote_id;
    const char *ike[LOAD_MAX_PROPOSALS], *esp[LOAD_MAX_PROPOSALS];
    size_t nike, nesp;
    const char *local_ts, *remote_ts; /* Child SA selectors (NULL: %dynamic) */
    bool vip;                         /* ask for a virtual address (CP, RFC 7296 2.19) */
    bool childless, hold, encap, json;
    uint32_t timeout_s;     /* whole run; 0: none */
    uint32_t retransmit_ms; /* first retransmission */
    uint32_t retransmit_tries;
    int log_level;
};

/* Fills o from argv. 0: run; 1: done (help or version printed); 2: usage error (printed). */
int load_opts_parse(struct load_opts *o, int argc, char **argv);

/* The engine configuration for o as hiked.conf text (one connection "load"); NULL: no memory. */
char *load_conf_text(const struct load_opts *o);

/* ---- figures ---- */

struct load_reason {
    char why[96];
    uint64_t n;
};
#define LOAD_MAX_REASONS 32

struct load_stats {
    uint32_t *lat_us; /* set-up latencies, one per established SA */
    size_t nlat, cap;
    uint64_t started, established, failed;
    struct load_reason reasons[LOAD_MAX_REASONS];
    size_t nreasons;
    uint64_t t_first_ns, t_last_ns; /* first initiate, last SA established */
    double cpu_s;                   /* our own user + system time over the run */
};

int load_stats_init(struct load_stats *s, size_t count);
void load_stats_free(struct load_stats *s);
void load_stats_ok(struct load_stats *s, uint64_t latency_ns, uint64_t now_ns);
void load_stats_fail(struct load_stats *s, const char *why);
/* The summary: one line (and one per failure reason), or a JSON object. */
void load_stats_print(const struct load_stats *s, const struct load_opts *o, FILE *f);

/* ---- transport ---- */

struct load;
struct load_sock {
    struct load *l;
    int fd;
    struct sockaddr_storage addr; /* bound: the wildcard address and the port */
    struct event *ev;
};

/* Opens one socket per port, for nsrc * nports local addresses (or nports on the route's
 * source toward target). */
int load_net_open(struct load *l);
void load_net_close(struct load *l);
/* The local address of the i-th SA: sockets are used in turn. */
const struct sockaddr_storage *load_net_local(const struct load *l, uint64_t i);
/* Queues one IKE datagram; load_net_flush sends the queue (one sendmmsg per socket). */
void load_net_send(void *arg, const struct sockaddr_storage *local,
                   const struct sockaddr_storage *remote, const uint8_t *buf, size_t len);
void load_net_flush(struct load *l);

/* ---- the run ---- */

enum load_sa_state { LOAD_SA_PENDING = 0, LOAD_SA_UP = 1, LOAD_SA_DONE = 2 };

struct load_sa {
    uint64_t t0_ns;
    uint64_t ike_id;
    uint8_t state; /* enum load_sa_state */
};

struct load {
    struct load_opts *o;
    struct event_base *base;
    struct event *timer, *sig_int, *sig_term, *deadline;
    struct hk_log log;
    struct hk_crypto crypto;
    struct hk_config *cfg;
    struct ike_engine engine;
    struct load_sock *socks; /* one per port */
    size_t nsocks;
    struct sockaddr_storage *locals; /* (address, port) of each SA in turn, port-major */
    size_t nlocals;
    struct hk_rxbatch rx; /* shared by the sockets */
    struct hk_txq txq;
    struct load_sa *sas;    /* one per SA to start, in order */
    struct hk_u64map by_id; /* engine IKE SA id -> struct load_sa */
    uint64_t *check;        /* ids of SAs up without their Child SA yet (checked after recv) */
    size_t ncheck, check_cap, inflight;
    bool engine_up, all_done, stopping;
    struct load_stats stats;
};

uint64_t load_now_ns(void);
/* After input or a timer: checks SAs up without a child, starts more, runs engine timers. */
void load_kick(struct load *l);

#endif
