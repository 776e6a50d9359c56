/*
 * Two (or more) IKE engines in one process over a fake network with a fake clock.
 * Packets are queued, not delivered, until the test runs the network, so a test can
 * drop, duplicate or inspect any of them. Deterministic apart from key material.
 */
#ifndef HIKE_TESTS_EXCHANGE_HARNESS_H
#define HIKE_TESTS_EXCHANGE_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "config/config.h"
#include "crypto/crypto.h"
#include "ike/engine.h"

#define H_MAX_PEERS 4
#define H_MAX_PKTS  256

struct h_pkt {
    int from;
    struct sockaddr_storage src, dst;
    uint8_t *buf;
    size_t len;
};

struct h_child_event {
    int peer;
    bool up;
    uint32_t spi_in, spi_out;
};

struct h_world;

struct h_peer {
    struct h_world *w;
    int idx;
    char name[16];
    struct sockaddr_storage addr; /* port 500 */
    /* More addresses packets are delivered to (a second interface: MOBIKE). */
    struct sockaddr_storage extra[2];
    size_t nextra;
    struct hk_config *cfg;
    struct hk_log log;
    struct ike_engine engine;
    int ike_up, ike_down, child_up, child_down, keepalives;
    int child_up_fail; /* the next this many ops.child_up calls fail (a data plane refusing) */
    int child_moved;   /* ops.child_moved calls for the Child SA's new IKE SA */
    int ike_failed;
    char failed_why[96]; /* the reason of the last ike_failed */
};

struct h_world {
    struct hk_crypto crypto;
    uint64_t now;
    size_t npeers;
    struct h_peer peers[H_MAX_PEERS];
    size_t npkts;
    struct h_pkt pkts[H_MAX_PKTS];
    uint64_t delivered, dropped;
    /* Filter: return false to drop a packet (it is counted and freed). */
    bool (*filter)(struct h_world *w, struct h_pkt *p, void *arg);
    void *filter_arg;
};

struct h_world *h_world_new(void);
void h_world_free(struct h_world *w);
/* Adds a peer at the given IPv4 address with a config text; asserts it loads. */
struct h_peer *h_peer_add(struct h_world *w, const char *name, const char *ip, const char *conf);
/* Gives a peer one more IPv4 address that packets reach it at. */
void h_peer_add_addr(struct h_peer *p, const char *ip);
/* Delivers queued packets (and any they cause) until none are left; returns how many. */
size_t h_run(struct h_world *w);
/* Advances the clock to the next timer of any engine (at most until limit), runs it and the
 * network; returns false when no timer is due before limit. */
bool h_step_time(struct h_world *w, uint64_t limit);
/* Runs network and timers until quiet or the clock reaches limit. */
void h_settle(struct h_world *w, uint64_t limit);
/* The only IKE SA of a peer, or NULL (asserts there are not several). */
struct ike_sa *h_only_sa(struct h_peer *p);
struct child_sa *h_only_child(struct h_peer *p);

#endif
