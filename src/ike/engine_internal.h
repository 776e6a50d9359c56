/* Shared between the engine core and the exchange modules; not for callers of the engine. */
#ifndef HIKE_IKE_ENGINE_INTERNAL_H
#define HIKE_IKE_ENGINE_INTERNAL_H

#include "ike/codec/notify.h"
#include "ike/engine.h"

/* Stack room for the payloads an exchange builds (proposals, CP, selectors) before they are
 * encoded: hk_arena_init_buf, with the heap past it. */
#define IKE_BUILD_ARENA 1024

/* Our nonces (2.10: at least half the PRF's key size; 256 bits covers every PRF we offer). */
#define IKE_NONCE_LEN 32

/* An ESP SPI as the 4 octets of SA, Notify and Delete payloads (network order). */
static inline uint32_t ike_spi32(const uint8_t p[4])
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void ike_spi32_put(uint32_t spi, uint8_t out[4])
{
    out[0] = (uint8_t)(spi >> 24), out[1] = (uint8_t)(spi >> 16);
    out[2] = (uint8_t)(spi >> 8), out[3] = (uint8_t)spi;
}

/* Timer kinds (index into ike_sa.timer_gen). */
enum ike_timer_kind {
    IKE_TIMER_RETRANSMIT = 0,
    IKE_TIMER_HALF_OPEN = 1,
    IKE_TIMER_DELETE = 2,    /* a rekeyed SA the peer did not delete: we do (2.18) */
    IKE_TIMER_DPD = 3,       /* liveness check after silence (2.4) */
    IKE_TIMER_KEEPALIVE = 4, /* NAT keepalive (RFC 3948 4) */
    IKE_TIMER_REKEY = 5,     /* IKE SA rekey (2.8) */
    IKE_TIMER_EXPIRE = 6,    /* IKE SA hard lifetime */
    IKE_TIMER_CLONE = 7,     /* a clone retried after TEMPORARY_FAILURE (RFC 7791 5.3) */
};

/* How long a rekeyed IKE SA waits for the rekey initiator's DELETE (2.18) before deleting it
 * itself: room for that DELETE's retransmissions. */
#define IKE_REKEYED_GRACE_MS 30000

/* Child SA timers (index into child_sa.timer_gen; the owner is the child's id). */
enum child_timer_kind {
    CHILD_TIMER_REKEY = 0,
    CHILD_TIMER_EXPIRE = 1,
};

/* After IKE_SA_INIT: move to the NAT-T port when a NAT is in the path (2.23). */
void engine_float_natt(struct ike_engine *e, struct ike_sa *sa);
/* When an SA becomes established: arm DPD and keepalive timers as configured. */
/* Tells ops.ike_failed once, unless ops.ike_up was told: engine_delete_sa does it too. */
void engine_sa_failed(struct ike_engine *e, struct ike_sa *sa, const char *why);
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
 * Requests go through engine_request.
 */
int engine_send(struct ike_engine *e, struct ike_sa *sa, bool response, uint32_t msg_id,
                uint8_t exchange, const struct ike_payload *pl, size_t n);
/* A request with the next message ID, in the exchange type of kind: once it is out,
 * sa->xchg names kind and its message ID (the caller adds the ids it concerns). */
int engine_request(struct ike_engine *e, struct ike_sa *sa, enum ike_xchg_kind kind,
                   const struct ike_payload *pl, size_t n);
/* An unprotected answer without SA state (COOKIE, INVALID_KE_PAYLOAD, NO_PROPOSAL_CHOSEN). */
void engine_send_stateless(struct ike_engine *e, const struct ike_rx *rx, uint16_t notify,
                           const uint8_t *data, size_t len);
/* The datagrams of a message as they are (a cached response, a retransmission). */
void engine_send_pkts(struct ike_engine *e, struct ike_sa *sa, const struct ike_sent *s);
void engine_send_pkts_to(struct ike_engine *e, const struct sockaddr_storage *local,
                         const struct sockaddr_storage *remote, const struct ike_sent *s);
/* The debug log line of a message sent or received (payload types only, never keys). */
void engine_log_msg(struct ike_engine *e, const struct ike_sa *sa, const char *dir, uint8_t x,
                    bool response, uint32_t id, const struct ike_payload *pl, size_t n,
                    size_t npkts);
/* The retransmission timer: the request again with back-off, or the SA ends (2.4). */
void engine_retransmit(struct ike_engine *e, struct ike_sa *sa);

/* Responder's half-open IKE SAs, keyed by the initiator's SPI and address (2.1, 2.6). */
int engine_half_open_add(struct ike_engine *e, struct ike_sa *sa);
struct ike_sa *engine_half_open_find(struct ike_engine *e, const uint8_t spi_i[8],
                                     const struct sockaddr_storage *remote);
void engine_half_open_done(struct ike_engine *e, struct ike_sa *sa);
/* Whether one more half-open SA from remote is within daemon.half_open_max and
 * half_open_per_address (RFC 8019 4.1); a refusal is counted and logged. */
bool engine_half_open_admit(struct ike_engine *e, const struct sockaddr_storage *remote);

/* Child SA table. */
struct child_sa *engine_new_child(struct ike_engine *e, struct ike_sa *sa, const char *name);
void engine_delete_child(struct ike_engine *e, struct ike_sa *sa, struct child_sa *c);
uint32_t engine_alloc_spi(struct ike_engine *e);

/* Address helpers. */
void engine_addr_bytes(const struct sockaddr_storage *a, const uint8_t **ip, size_t *iplen,
                       uint16_t *port);
char *engine_addr_str(const struct sockaddr_storage *a, char *buf, size_t len);

/* Keys and ciphers of an IKE SA from its SKEYSEED (2.14, 2.18). */
int engine_ike_keys(struct ike_engine *e, struct ike_sa *sa, const struct hk_secret *skeyseed);
void engine_set_alg(struct ike_sa *sa, const struct ike_chosen *c);
/* Child SA KEYMAT (2.17) with the exchange's nonces, ni the exchange initiator's. */
int engine_child_keys(struct ike_engine *e, const struct ike_sa *sa, struct child_sa *c,
                      const uint8_t *g_ir, size_t glen, const struct ike_bytes *ni,
                      const struct ike_bytes *nr);
/* INSTALLED, data plane, timers, log. */
void engine_child_installed(struct ike_engine *e, struct ike_sa *sa, struct child_sa *c);
/* Every Child SA of from now belongs to to (IKE rekey 2.8, hand-over). */
void engine_move_children(struct ike_engine *e, struct ike_sa *from, struct ike_sa *to);
void engine_arm_child(struct ike_engine *e, struct child_sa *c, enum child_timer_kind kind,
                      uint64_t when);
/* Work that waits for the request window, run as soon as it is free. */
void engine_queue(struct ike_engine *e, struct ike_sa *sa, enum ike_task task, uint64_t arg);
/* Queues without running: for work that must wait until the message being handled is
 * answered (the engine runs the queue after each message). */
void engine_queue_add(struct ike_engine *e, struct ike_sa *sa, enum ike_task task, uint64_t arg);
void engine_run_tasks(struct ike_engine *e, struct ike_sa *sa);
/* Octet-wise comparison of 2.8.1; the lower of two nonces. */
const struct ike_bytes *engine_lower_nonce(const struct ike_bytes *a, const struct ike_bytes *b);
int engine_nonce_cmp(const struct ike_bytes *a, const struct ike_bytes *b);

/* Virtual addresses (vip.c). */
int engine_pools_sync(struct ike_engine *e);
void engine_pools_free(struct ike_engine *e);
/* Responder: leases for a CFG_REQUEST; HK_E_NOTFOUND when no address could be had. */
int engine_vip_assign(struct ike_engine *e, struct ike_sa *sa, const struct hk_conn *conn,
                      const struct ike_pl_cp *req, struct hk_arena *a, struct ike_pl_cp *reply);
/* Initiator: the addresses of a CFG_REPLY. */
int engine_vip_take(struct ike_engine *e, struct ike_sa *sa, const struct ike_pl_cp *cp);
void engine_vip_release(struct ike_engine *e, struct ike_sa *sa);
/* True when sa's virtual addresses are leases from our pools (we are the gateway), false
 * when they were assigned to us or there are none. */
bool engine_vip_leased(const struct ike_sa *sa);
void engine_vip_sockaddr(const struct hk_ip *ip, struct sockaddr_storage *out);

/* Exchanges. */
/* The first payload of a type in a message, or NULL. */
static inline const struct ike_payload *x_find(const struct ike_msg *m, uint8_t type)
{
    size_t from = 0;
    return ike_msg_find(m, type, &from);
}

/* The type of the first error notify in a message (3.10.1), or 0. */
static inline uint16_t x_first_error(const struct ike_msg *m)
{
    for (size_t i = 0; i < m->npayloads; i++)
        if (m->payloads[i].type == IKE_PL_NOTIFY &&
            ike_notify_is_error(m->payloads[i].u.notify.type))
            return m->payloads[i].u.notify.type;
    return 0;
}

int x_init_start(struct ike_engine *e, struct ike_sa *sa);
void x_init_on_request(struct ike_engine *e, struct ike_rx *rx);
void x_init_on_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx);
void x_init_half_open_expired(struct ike_engine *e, struct ike_sa *sa);
/* Initiator: true when an IKE_SA_INIT response is an unprotected error to wait past (2.21.1). */
bool x_init_ignore_error(struct ike_engine *e, struct ike_sa *sa, const struct ike_rx *rx);

int x_auth_start(struct ike_engine *e, struct ike_sa *sa);
/* Appends a CERTREQ for the connection's trust anchors at pl[*n] when the peer is
 * authenticated by certificate. */
void x_auth_add_certreq(struct ike_engine *e, const struct hk_conn *conn, struct hk_arena *a,
                        struct ike_payload *pl, size_t *n);
void x_auth_on_request(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx);
void x_auth_on_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx);

int x_create_child_start(struct ike_engine *e, struct ike_sa *sa, size_t child_conf);
int x_rekey_child_start(struct ike_engine *e, struct ike_sa *sa, struct child_sa *old);
void x_create_on_request(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx);
void x_create_on_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx);
/* Ends sa->xchg, the record of our exchange, when its response has been handled or it is
 * given up. A CREATE_CHILD_SA that did not complete leaves nothing half made: the Child SA
 * still CREATING, the new IKE SA still in INIT_SENT (ids the handler zeroes once they are
 * done go untouched). */
void x_xchg_end(struct ike_engine *e, struct ike_sa *sa);
/* Initiator of a CREATE_CHILD_SA: a fresh nonce and, for a KE group, a fresh key pair
 * (pub has room for 512 octets); sa->xchg.kind becomes kind. */
int x_create_begin(struct ike_engine *e, struct ike_sa *sa, uint8_t kind, uint16_t group,
                   uint8_t *pub, size_t *publen);
/* Responder of a rekey that crossed ours (2.8.1, 2.8.2): sa->peer_xchg becomes kind with the
 * peer's message ID, the SA we made (new_sa_id or new_child_id, replacing old_child_id) and
 * the lower of the exchange's nonces ni and nr. */
void x_peer_rekey_note(struct ike_sa *sa, enum ike_xchg_kind kind, uint32_t msg_id,
                       uint64_t new_sa_id, uint64_t new_child_id, uint64_t old_child_id,
                       const struct ike_bytes *ni, const struct ike_bytes *nr);
/* The SA the peer's crossing rekey of sa made (2.8.2), or NULL. */
struct ike_sa *x_peer_rekey_sa(struct ike_engine *e, const struct ike_sa *sa);
/* Responder: a CREATE_CHILD_SA request refused with one error notify. */
void x_create_respond_error(struct ike_engine *e, struct ike_sa *sa, uint32_t msg_id, uint16_t type,
                            const uint8_t *data, size_t len);
/* Responder's KE: our key pair for group g and the shared secret with the peer's value. */
int x_create_respond_ke(struct ike_engine *e, uint16_t g, const struct ike_payload *kep,
                        uint8_t *pub, size_t *publen, struct hk_secret **g_ir);

/* The Child SA negotiation (child_nego.c), shared by IKE_AUTH and CREATE_CHILD_SA; ike_auth
 * says which (its proposals carry no KE, 1.2). Initiator: a new Child SA of configuration cc
 * with its selectors (NULL when out of memory), then its SA payload (our offer, or as
 * responder the one proposal chosen, with our inbound SPI) and TSi, TSr and
 * USE_TRANSPORT_MODE at pl[*n]. */
struct child_sa *child_nego_new(struct ike_engine *e, struct ike_sa *sa, const struct hk_conn *conn,
                                const struct hk_child_conf *cc);
int child_nego_add_sa(const struct hk_child_conf *cc, const struct child_sa *c, bool ike_auth,
                      struct hk_arena *a, struct ike_payload *pl, size_t *n);
void child_nego_add_ts(struct child_sa *c, struct ike_payload *pl, size_t *n);
/* Initiator's check of the reply: the responder's proposal (into c->chosen), its selectors
 * (within ours) and mode. NULL when good, else why not. */
const char *child_nego_check_sa(const struct hk_child_conf *cc, struct child_sa *c,
                                const struct ike_payload *sap, bool ike_auth);
const char *child_nego_check_ts(const struct child_sa *c, const struct ike_msg *m,
                                const struct ike_payload *tsi, const struct ike_payload *tsr);
/* Responder's choice (2.7, 2.9): the first child configuration of conn (named only, unless
 * NULL) with an ESP proposal, KE group (not in IKE_AUTH) and narrowed selectors for the offer
 * in m. NULL with *err the notify to answer (INVALID_KE_PAYLOAD: ch->chosen.ke is wanted). */
struct child_choice {
    struct ike_chosen chosen;
    struct ike_ts ts_l[CHILD_MAX_TS], ts_r[CHILD_MAX_TS];
    size_t nl, nr;
    bool transport; /* the initiator asked for transport mode */
};
const struct hk_child_conf *child_nego_choose(const struct ike_sa *sa, const struct hk_conn *conn,
                                              const struct ike_msg *m, bool ike_auth,
                                              const char *only, struct child_choice *ch,
                                              uint16_t *err);
/* The choice made the Child SA's: proposal, mode, outbound SPI, selectors. */
int child_nego_apply(struct child_sa *c, const struct hk_child_conf *cc,
                     const struct child_choice *ch);

/* IKE SA rekey (x_rekey_ike.c, 1.3.2, 2.18): its CREATE_CHILD_SA request, the answer to the
 * peer's (sap proposes IKE), and the response to ours (sa->xchg.kind IKE_XCHG_REKEY_IKE). */
int x_rekey_ike_start(struct ike_engine *e, struct ike_sa *sa);
void x_rekey_ike_on_request(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx,
                            const struct hk_conn *conn);
void x_rekey_ike_on_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx);

/* Cloning (RFC 7791): x_clone.c, with the exchange in x_rekey_ike.c. */
/* Initiator of a clone of sa; *new_id the new SA's id. */
int x_clone_start(struct ike_engine *e, struct ike_sa *sa, uint64_t *new_id);
/* IKE_AUTH: N(CLONE_IKE_SA_SUPPORTED) at pl[*n] when the connection allows cloning; the peer's
 * in m makes the SA cloneable (IKE_EXT_CLONE) when ours was sent too (5.1). */
void x_clone_add_supported(const struct hk_conn *conn, struct ike_payload *pl, size_t *n);
void x_clone_note_supported(struct ike_sa *sa, const struct hk_conn *conn, const struct ike_msg *m);
/* Responder: 0 when the peer may clone sa now, else the notify to refuse with (5.3). */
uint16_t x_clone_refusal(struct ike_engine *e, struct ike_sa *sa, const struct hk_conn *conn);
/* Initiator: the peer refused our clone of sa with err. */
void x_clone_refused(struct ike_engine *e, struct ike_sa *sa, uint16_t err);
/* Family bookkeeping: an SA established (family set, counted) and an SA going (uncounted; a
 * clone in flight or waiting to be retried moves to another IKE SA of the family). */
void x_clone_family_join(struct ike_engine *e, struct ike_sa *sa);
void x_clone_sa_gone(struct ike_engine *e, struct ike_sa *sa);
void x_clone_retry(struct ike_engine *e, struct ike_sa *sa);
void x_clone_families_free(struct ike_engine *e);

/* MOBIKE (x_mobike.c, RFC 4555). NAT-D hash (2.23) of address a with sa's SPIs, and NAT
 * state from a message's NAT-D notifies against sa->local and sa->remote (x_init.c). */
#define IKE_NATD_LEN 20
int x_natd_hash(const struct ike_engine *e, const struct ike_sa *sa,
                const struct sockaddr_storage *a, uint8_t out[IKE_NATD_LEN]);
void x_natd_check(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m);
/* What an INFORMATIONAL request's MOBIKE notifies add to its response, and what is to be done
 * once it is sent. */
struct x_mobike_resp {
    struct ike_payload pl[4];
    size_t n;
    uint8_t natd_src[IKE_NATD_LEN], natd_dst[IKE_NATD_LEN];
    bool moved; /* UPDATE_SA_ADDRESSES taken: the SA's addresses are the request's */
    bool check; /* ... and the peer's new address wants a return routability check */
};
/* Responder of an INFORMATIONAL request: UPDATE_SA_ADDRESSES (3.5), COOKIE2 (3.7) and NAT-D
 * (3.8); the payloads for the response go to r. */
void x_mobike_on_request(struct ike_engine *e, struct ike_sa *sa, const struct ike_rx *rx,
                         struct x_mobike_resp *r);
/* After that response went out: the Child SAs follow, or the check starts first. */
void x_mobike_after_response(struct ike_engine *e, struct ike_sa *sa,
                             const struct x_mobike_resp *r);
/* The answer to our UPDATE_SA_ADDRESSES or return routability check. */
void x_mobike_on_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx,
                          const struct ike_xchg *asked);
/* Appends our additional addresses (3.4): ADDITIONAL_IP4/6_ADDRESS for each single address
 * of the connection's local_addrs but the one sa uses (at most IKE_OUR_ADDRS_MAX), or
 * NO_ADDITIONAL_ADDRESSES; returns how many payloads. The data points into conn. */
size_t x_mobike_add_addrs(const struct ike_sa *sa, const struct hk_conn *conn,
                          struct ike_payload *pl);
/* The peer's list from a message that carries one (3.4, 3.6); else nothing changes. */
void x_mobike_note_addrs(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m);
/* Sends what MOBIKE has waiting (an update, a check) when the request window is free. */
void x_mobike_run(struct ike_engine *e, struct ike_sa *sa);

int x_info_delete_ike(struct ike_engine *e, struct ike_sa *sa);
int x_info_delete_child(struct ike_engine *e, struct ike_sa *sa, struct child_sa *c);
void x_info_on_request(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx);
/* asked: what our request was for (sa->xchg, ended before the call; ids only). */
void x_info_on_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx,
                        const struct ike_xchg *asked);
/* Ends an IKE SA whose exchange cannot complete: a response we cannot use (2.21, RFC 6989
 * 2). Forgets our request; an SA the peer believes up is closed with a Delete exchange,
 * any other goes at once. */
void x_info_abandon_ike(struct ike_engine *e, struct ike_sa *sa, const char *why);

#endif
