/*
 * The IKE engine: the whole protocol core without sockets, clocks or an event
 * library. Packets, timer ticks and commands go in; datagrams to send and Child
 * SAs to install come out through the callbacks in ops. hiked drives it from
 * libevent; exchange tests drive two engines over a fake network with a fake
 * clock.
 */
#ifndef HIKE_IKE_ENGINE_H
#define HIKE_IKE_ENGINE_H

#include <stdint.h>
#include <sys/socket.h>

#include "common/log.h"
#include "common/timerq.h"
#include "common/u64map.h"
#include "config/config.h"
#include "crypto/crypto.h"
#include "ike/sa.h"

struct ike_engine_ops {
    void *arg;
    /* Monotonic milliseconds. */
    uint64_t (*now)(void *arg);
    /* The local address to reach remote from, when the connection does not name one. */
    int (*local_addr)(void *arg, const struct sockaddr_storage *remote,
                      struct sockaddr_storage *local);
    /* One IKE datagram (without the non-ESP marker; the transport adds it on 4500). */
    void (*send)(void *arg, const struct sockaddr_storage *local,
                 const struct sockaddr_storage *remote, const uint8_t *buf, size_t len);
    /* A NAT keepalive (RFC 3948 2.3: one 0xff octet, no marker) from local to remote. Optional. */
    void (*keepalive)(void *arg, const struct sockaddr_storage *local,
                      const struct sockaddr_storage *remote);
    /* Data plane: a Child SA is ready (both directions), or must go. Optional. */
    int (*child_up)(void *arg, const struct ike_sa *sa, const struct child_sa *c);
    void (*child_down)(void *arg, const struct child_sa *c);
    /* An installed Child SA now belongs to IKE SA sa (an IKE rekey moved it), or sa itself
     * moved (MOBIKE): its ESP goes by sa's addresses and NAT state from now on
     * (ike_sa_dp_path). Optional. */
    void (*child_moved)(void *arg, const struct ike_sa *sa, const struct child_sa *c);
    /* An IKE SA reached ESTABLISHED, or is gone. Optional. */
    void (*ike_up)(void *arg, const struct ike_sa *sa);
    void (*ike_down)(void *arg, const struct ike_sa *sa);
    /* An IKE SA ended before it was established; why is a short text, valid during the call
     * (what the log line says). Optional. */
    void (*ike_failed)(void *arg, const struct ike_sa *sa, const char *why);
};

/* Why an incoming datagram was dropped; counted per reason (hikectl stats). */
enum ike_drop {
    IKE_DROP_HEADER,     /* unparsable IKE header */
    IKE_DROP_VERSION,    /* major version not 2 */
    IKE_DROP_NO_SA,      /* no IKE SA with that SPI */
    IKE_DROP_MSGID,      /* message ID outside the window */
    IKE_DROP_DECODE,     /* payload syntax */
    IKE_DROP_ICV,        /* integrity check failed */
    IKE_DROP_UNEXPECTED, /* exchange or payload not valid here */
    IKE_DROP_COOKIE,     /* IKE_SA_INIT without a valid cookie under load */
    /* Unauthenticated traffic (RFC 7296 2.6, RFC 8019). */
    IKE_DROP_TOO_BIG,      /* datagram over daemon.max_packet */
    IKE_DROP_HALF_OPEN,    /* IKE_SA_INIT over half_open_max or half_open_per_address */
    IKE_DROP_RESEND_LIMIT, /* a retransmitted request within the resend interval */
    IKE_DROP__COUNT
};
const char *ike_drop_name(enum ike_drop d);

struct ike_stats {
    uint64_t rx, tx;
    uint64_t retransmits;      /* our requests sent again */
    uint64_t cached_responses; /* retransmitted requests answered from cache */
    uint64_t exchanges_init, exchanges_auth, exchanges_create, exchanges_info;
    uint64_t ike_up, ike_failed, child_up;
    uint64_t child_install_failed; /* negotiated, but the data plane refused it: deleted */
    uint64_t auth_failures;
    uint64_t dpd_sent, dpd_dead, keepalives;
    uint64_t reassembled; /* messages put together from fragments (RFC 7383) */
    /* Requests of authenticated peers refused at a limit (max_children, max_ike_sas,
     * max_leases). */
    uint64_t refused_children, refused_ike_sas, refused_leases;
    /* RFC 7791: clones made (either role) and the peer's clone requests refused (NO_ADDITIONAL_SAS
     * at max_clones or max_ike_sas, TEMPORARY_FAILURE while rekeyed or deleted). */
    uint64_t clones, refused_clones;
    uint64_t drops[IKE_DROP__COUNT];
};

struct ike_engine {
    const struct hk_crypto *crypto;
    const struct hk_log *log;
    const struct hk_config *cfg;
    struct ike_engine_ops ops;

    struct hk_u64map sa_by_spi;    /* our SPI -> struct ike_sa */
    struct hk_u64map sa_by_id;     /* id -> struct ike_sa */
    struct hk_u64map half_open;    /* responder: keyed hash(SPIi, address, port) -> ike_sa (2.1) */
    struct hk_u64map child_by_id;  /* id -> struct child_sa */
    struct hk_u64map child_by_spi; /* inbound SPI -> struct child_sa */
    struct hk_u64map peer_ids;     /* hash(peer identity) -> IKE SAs counted (conn_match.h) */
    struct hk_u64map families;     /* clone family id -> IKE SAs counted (x_clone.c, RFC 7791) */
    struct hk_timerq timers;
    struct ike_conn_creds **creds; /* per connection, loaded on first use (ike/creds.h) */
    size_t ncreds;
    struct hk_ippool **pools; /* virtual address pools of the configuration (ike/pool.h) */
    size_t npools;
    uint64_t next_id;
    unsigned nhalf_open;     /* entries in half_open */
    uint64_t half_open_salt; /* secret: a peer cannot aim its key at another's entry */
    /* Half-open SAs per peer: IPv4 address [0], IPv6 /64 prefix [1] -> count (malloc'd
     * unsigned). An entry goes with its last SA (engine_half_open_done); at most one per
     * half-open SA, so half_open_max bounds the table too. */
    struct hk_u64map half_open_peers[2];
    /* Cookies (2.6): the secret changes every IKE_COOKIE_ROTATE_MS, lazily when a cookie is
     * made or checked; one made with the previous secret is accepted until the next change.
     * The first octet of a cookie names its secret. */
    uint8_t cookie_secret[32];
    uint8_t cookie_secret_old[32];
    uint8_t cookie_version; /* of cookie_secret; cookie_secret_old has version - 1 */
    bool cookie_have_old;
    uint64_t cookie_rotated_ms; /* 0: not yet started */
    /* Log lines for dropped datagrams: a token bucket, so a storm writes a bounded number of
     * lines; stats.drops has every one. */
    uint32_t drop_log_tokens;
    uint64_t drop_log_ms;         /* last refill */
    uint64_t drop_log_suppressed; /* lines not written since the last one */
    /* A digest context kept for the NAT-D hashes (4 per IKE SA, public inputs only): making
     * and freeing one per hash cost more than the hash. */
    EVP_MD_CTX *natd_md;
    struct ike_stats stats;
};

int ike_engine_init(struct ike_engine *e, const struct hk_crypto *crypto, const struct hk_log *log,
                    const struct hk_config *cfg, const struct ike_engine_ops *ops);
/* A new configuration: SAs keep their connection names; cached credentials are reloaded. */
void ike_engine_set_config(struct ike_engine *e, const struct hk_config *cfg);
/* Frees every SA (no messages are sent: see ike_engine_shutdown). */
void ike_engine_free(struct ike_engine *e);

/* One received IKE datagram (non-ESP marker already stripped). Never fails: bad input is
 * counted in stats and logged. */
void ike_engine_recv(struct ike_engine *e, const struct sockaddr_storage *local,
                     const struct sockaddr_storage *remote, const uint8_t *buf, size_t len);
/* Runs every timer that is due; returns the next deadline (UINT64_MAX: none). */
uint64_t ike_engine_tick(struct ike_engine *e);

/* Commands. initiate starts an IKE SA (and its children) for a configured connection. */
int ike_engine_initiate(struct ike_engine *e, const char *conn, uint64_t *ike_id);
/*
 * initiate, with the local address and port the SA uses chosen by the caller instead of by the
 * connection and ops.local_addr (a load generator spreads its SAs over many ports). The port
 * stays when a NAT is detected: only the peer's port moves to natt_port (2.23), so the caller's
 * transport adds the non-ESP marker by the peer's port. An SA that fails in here has been
 * reported through ops.ike_failed before this returns the error.
 */
int ike_engine_initiate_from(struct ike_engine *e, const char *conn,
                             const struct sockaddr_storage *local, uint64_t *ike_id);
/* Deletes an IKE SA (INFORMATIONAL DELETE, 1.4.1) and its Child SAs. */
int ike_engine_terminate(struct ike_engine *e, uint64_t ike_id);
/*
 * Clones an IKE SA (RFC 7791): a CREATE_CHILD_SA that rekeys it with CLONE_IKE_SA; both SAs
 * stay, the Child SAs with the old one. *new_id (optional) is the new IKE SA's id when the
 * request went out at once, 0 when it waits for the SA's request window (queued). Refused:
 * HK_E_NOTFOUND; HK_E_STATE (not established, or being rekeyed or deleted); HK_E_CONFIG (the
 * connection has clone = false); HK_E_UNSUPPORTED (the peer did not announce
 * CLONE_IKE_SA_SUPPORTED); HK_E_OVERFLOW (the family holds 1 + max_clones IKE SAs); HK_E_AGAIN
 * (the peer answered NO_ADDITIONAL_SAS, and no IKE SA of the family has gone since).
 */
int ike_engine_clone(struct ike_engine *e, uint64_t ike_id, uint64_t *new_id);
/* Queue a rekey of an IKE SA (CREATE_CHILD_SA, 1.3.2) or of a Child SA (1.3.3). */
int ike_engine_rekey(struct ike_engine *e, uint64_t ike_id);
int ike_engine_rekey_child(struct ike_engine *e, uint64_t child_id);
/*
 * The selectors a trap policy for child index i of a connection covers (our address for
 * %dynamic, as an initiator would propose them); counts in nl and nr (at most max each).
 */
int ike_engine_trap_selectors(struct ike_engine *e, const char *conn, size_t child,
                              struct ike_ts *local, size_t *nl, struct ike_ts *remote, size_t *nr,
                              size_t max);
/*
 * MOBIKE (RFC 4555 3.5): moves an IKE SA we originally initiated, and with it its Child SAs,
 * to local (and remote, when not NULL) address: the ports stay. The peer is told with an
 * INFORMATIONAL UPDATE_SA_ADDRESSES from the new address. HK_E_NOTFOUND: no such SA;
 * HK_E_STATE: not established, or we are its original responder (only the initiator moves
 * an SA, 3.2); HK_E_UNSUPPORTED: MOBIKE was not negotiated; HK_E_INVALID: address families
 * differ.
 */
int ike_engine_migrate(struct ike_engine *e, uint64_t ike_id, const struct sockaddr_storage *local,
                       const struct sockaddr_storage *remote);
/* Deletes a Child SA (INFORMATIONAL DELETE, 1.4.1), e.g. at its hard volume limit. */
int ike_engine_delete_child(struct ike_engine *e, uint64_t child_id);
/* Traffic arrived through a Child SA: the peer is alive (DPD counts it, 2.4). */
void ike_engine_child_activity(struct ike_engine *e, uint64_t child_id);
/* Sends DELETE for every established IKE SA (SIGTERM). */
void ike_engine_shutdown(struct ike_engine *e);

struct ike_sa *ike_engine_sa(const struct ike_engine *e, uint64_t id);
/*
 * The IKE SAs, in no order: *pos starts at 0, NULL ends the walk. Nothing may create or free
 * an SA during a walk (collect ids first, then act on them).
 */
struct ike_sa *ike_engine_next_sa(const struct ike_engine *e, size_t *pos);
size_t ike_engine_sa_count(const struct ike_engine *e);
size_t ike_engine_child_count(const struct ike_engine *e);
struct child_sa *ike_engine_child(const struct ike_engine *e, uint64_t id);

#endif
