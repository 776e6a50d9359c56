/*
 * A small world for the engine fuzz targets: IKE engines with a fake clock and a fake
 * network that only records what each engine sends, so a target decides per datagram what
 * is delivered, from which address and port, how often and in which order. Engine
 * invariants (tables pointing at live SAs, the half-open count) are checked by fw_check.
 * No cmocka here: a broken invariant aborts, which libFuzzer reports as a crash.
 */
#ifndef HIKE_TESTS_FUZZ_FW_WORLD_H
#define HIKE_TESTS_FUZZ_FW_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/log.h"
#include "config/config.h"
#include "crypto/crypto.h"
#include "ike/engine.h"

#define FW_MAX_PEERS 3
#define FW_POOL      64 /* datagrams remembered per peer (a ring) */

struct fw_pkt {
    struct sockaddr_storage src, dst;
    uint8_t *buf;
    size_t len;
};

struct fw_world;

struct fw_peer {
    struct fw_world *w;
    struct sockaddr_storage addr; /* port 500 */
    struct hk_config *cfg;
    struct hk_log log;
    struct ike_engine e;
    bool up;                /* e initialised (and freed with the world) */
    struct ike_engine *eng; /* the engine driven: &e, or one the target owns (fw_peer_shell) */
    /* Everything the engine sent, newest last: sent counts all, the ring keeps FW_POOL. */
    struct fw_pkt pool[FW_POOL];
    size_t sent;
    size_t pumped; /* sent datagrams already delivered by fw_pump */
    unsigned ike_up, ike_down, ike_failed, child_up, child_down;
};

struct fw_world {
    uint64_t now;
    size_t npeers;
    struct fw_peer peers[FW_MAX_PEERS];
};

/* One struct hk_crypto per process: fetching the algorithms per input would dominate. */
const struct hk_crypto *fw_crypto(void);

void fw_world_init(struct fw_world *w);
/* Frees the engines and the recorded datagrams. */
void fw_world_free(struct fw_world *w);
/* A peer at ip (IPv4, port 500; other addresses may be IPv6) running conf; aborts when the
 * configuration is refused. */
struct fw_peer *fw_peer_add(struct fw_world *w, const char *ip, const char *conf);

/* A peer at ip whose engine eng the caller sets up with the callbacks of fw_ops (and frees):
 * for an engine embedded in another structure, such as hiked's. */
struct fw_peer *fw_peer_shell(struct fw_world *w, const char *ip, struct ike_engine *eng);
void fw_ops(struct fw_peer *p, struct ike_engine_ops *ops);

void fw_addr(struct sockaddr_storage *ss, const char *ip, uint16_t port);
uint16_t fw_port(const struct sockaddr_storage *ss);
void fw_set_port(struct sockaddr_storage *ss, uint16_t port);

/* The k-th newest datagram a peer sent (0: the last one), or NULL when there is none. */
const struct fw_pkt *fw_sent(const struct fw_peer *p, size_t k);
/* Delivers buf to peer `to` with the given addresses (dst is the receiver's local one). */
void fw_deliver(struct fw_peer *to, const struct sockaddr_storage *src,
                const struct sockaddr_storage *dst, const uint8_t *buf, size_t len);
/* Delivers every datagram not yet pumped, as addressed, to the peer owning its destination
 * address, until no more are sent (at most rounds rounds). */
void fw_pump(struct fw_world *w, unsigned rounds);
/* Moves the clock by ms, running every engine's timers as they fall due (no delivery). */
void fw_advance(struct fw_world *w, uint64_t ms);

/* Checks the engine's tables; aborts with a message naming the broken invariant. */
void fw_check(const struct ike_engine *e);
/* After a shutdown and a long quiet time: no SA, child, half-open entry or lease is left. */
void fw_check_empty(const struct ike_engine *e);

#endif
