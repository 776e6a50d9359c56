/* Shared between the engine core and the exchange modules; not for callers of the engine. */
#ifndef HIKE_IKE_ENGINE_INTERNAL_H
#define HIKE_IKE_ENGINE_INTERNAL_H

#include "ike/engine.h"

/* Timer kinds (index into ike_sa.timer_gen). */
enum ike_timer_kind {
    IKE_TIMER_RETRANSMIT = 0,
    IKE_TIMER_HALF_OPEN = 1,
    IKE_TIMER_DELETE = 2,    /* give a dying SA time to deliver its DELETE */
    IKE_TIMER_DPD = 3,       /* liveness check after silence (2.4) */
    IKE_TIMER_KEEPALIVE = 4, /* NAT keepalive (RFC 3948 4) */
};

/* After IKE_SA_INIT: move to the NAT-T port when a NAT is in the path (2.23). */
void engine_float_natt(struct ike_engine *e, struct ike_sa *sa);
/* When an SA becomes established: arm DPD and keepalive timers as configured. */
void engine_sa_established(struct ike_engine *e, struct ike_sa *sa);

/* One received message, decoded, with its raw bytes (AUTH signs them, 2.15). */
struct ike_rx {
    const struct sockaddr_storage *local, *remote;
    const uint8_t *raw; /* as received (before in-place decryption) */
    size_t raw_len;
    struct ike_msg msg;
    struct hk_arena *arena;
};

uint64_t engine_now(struct ike_engine *e);
uint64_t engine_spi_key(const uint8_t spi[8]);
struct ike_sa *engine_new_sa(struct ike_engine *e, bool initiator, const char *conn);
/* Removes the SA and its children from every table, tells the owner, frees it. */
void engine_delete_sa(struct ike_engine *e, struct ike_sa *sa, const char *why);
void engine_arm(struct ike_engine *e, struct ike_sa *sa, enum ike_timer_kind kind, uint64_t when);
void engine_disarm(struct ike_sa *sa, enum ike_timer_kind kind);
void engine_drop(struct ike_engine *e, enum ike_drop why, const struct sockaddr_storage *from,
                 const char *detail);

/*
 * Encodes (and protects, once keys exist) a message of the SA and sends it. A request
 * becomes sa->out and is retransmitted until answered; a response becomes sa->resp.
 */
int engine_send(struct ike_engine *e, struct ike_sa *sa, bool response, uint32_t msg_id,
                uint8_t exchange, const struct ike_payload *pl, size_t n);
/* A request with the next message ID. */
int engine_request(struct ike_engine *e, struct ike_sa *sa, uint8_t exchange,
                   const struct ike_payload *pl, size_t n);
/* An unprotected answer without SA state (COOKIE, INVALID_KE_PAYLOAD, NO_PROPOSAL_CHOSEN). */
void engine_send_stateless(struct ike_engine *e, const struct ike_rx *rx, uint16_t notify,
                           const uint8_t *data, size_t len);

/* Responder's half-open IKE SAs, keyed by the initiator's SPI and address (2.1, 2.6). */
int engine_half_open_add(struct ike_engine *e, struct ike_sa *sa);
struct ike_sa *engine_half_open_find(struct ike_engine *e, const uint8_t spi_i[8],
                                     const struct sockaddr_storage *remote);
void engine_half_open_done(struct ike_engine *e, struct ike_sa *sa);

/* Child SA table. */
struct child_sa *engine_new_child(struct ike_engine *e, struct ike_sa *sa, const char *name);
void engine_delete_child(struct ike_engine *e, struct ike_sa *sa, struct child_sa *c);
uint32_t engine_alloc_spi(struct ike_engine *e);

/* Address helpers. */
void engine_addr_bytes(const struct sockaddr_storage *a, const uint8_t **ip, size_t *iplen,
                       uint16_t *port);
char *engine_addr_str(const struct sockaddr_storage *a, char *buf, size_t len);

/* Exchanges. */
int x_init_start(struct ike_engine *e, struct ike_sa *sa);
void x_init_on_request(struct ike_engine *e, struct ike_rx *rx);
void x_init_on_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx);
void x_init_half_open_expired(struct ike_engine *e, struct ike_sa *sa);

int x_auth_start(struct ike_engine *e, struct ike_sa *sa);
void x_auth_on_request(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx);
void x_auth_on_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx);

int x_info_delete_ike(struct ike_engine *e, struct ike_sa *sa);
void x_info_on_request(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx);
void x_info_on_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx);

#endif
