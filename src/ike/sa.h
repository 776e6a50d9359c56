/*
 * IKE SA and Child SA records. Plain data wherever possible, so that an SA can be
 * cloned (RFC 7791), its Child SAs handed to another IKE SA, and the whole state
 * serialised into a context for another cluster node. Derived objects (ciphers,
 * the KE private key) are rebuilt from the keys and never serialised.
 */
#ifndef HIKE_IKE_SA_H
#define HIKE_IKE_SA_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "crypto/kdf.h"
#include "crypto/ke.h"
#include "crypto/sk_cipher.h"
#include "ike/codec/msg.h"
#include "config/config.h"
#include "config/ts_conf.h"
#include "esp/esp_state.h"
#include "ike/proposal.h"

/* Owned byte string (messages, nonces, identities). */
struct ike_bytes {
    uint8_t *p;
    size_t len;
};
int ike_bytes_set(struct ike_bytes *b, const uint8_t *p, size_t len);
void ike_bytes_clear(struct ike_bytes *b);

enum ike_sa_state {
    IKE_SA_INIT_SENT,   /* initiator: IKE_SA_INIT request out */
    IKE_SA_INIT_RCVD,   /* responder: IKE_SA_INIT answered, waiting for IKE_AUTH */
    IKE_SA_AUTH_SENT,   /* initiator: IKE_AUTH request out */
    IKE_SA_ESTABLISHED, /* authenticated both ways */
    IKE_SA_REKEYED,     /* superseded by a new IKE SA; waits for its DELETE */
    IKE_SA_DELETING,    /* our DELETE is out */
    IKE_SA_DEAD,        /* to be freed */
};
const char *ike_sa_state_name(enum ike_sa_state s);

/* Extensions the peer announced (and we support). */
enum ike_ext {
    IKE_EXT_FRAGMENTATION = 1u << 0, /* RFC 7383 */
    IKE_EXT_CHILDLESS = 1u << 1,     /* RFC 6023 */
    IKE_EXT_MOBIKE = 1u << 2,        /* RFC 4555 */
    IKE_EXT_REDIRECT = 1u << 3,      /* RFC 5685 */
    IKE_EXT_MSGID_SYNC = 1u << 4,    /* RFC 6311 */
    IKE_EXT_CLONE = 1u << 5,         /* RFC 7791 */
    IKE_EXT_SIG_HASH = 1u << 6,      /* RFC 7427 SIGNATURE_HASH_ALGORITHMS */
};

/* Octets at the end of a request kept to recognise its retransmission: the whole ICV of
 * every integrity algorithm we have (16 for AES-GCM-16 and HMAC-SHA2-256-128, 12 for
 * HMAC-SHA1-96, plus ciphertext). */
#define IKE_REQ_TAIL 16

/* An IKE message we sent, kept for retransmission or as the cached response (2.1). */
struct ike_sent {
    uint32_t msg_id;
    uint8_t exchange;
    size_t npkts; /* > 1 when fragmented */
    /* One allocation: the npkts entries, then the packets they point to, each at its exact
     * length (kept for an SA's life as its cached response: no spare room). */
    struct ike_bytes *pkts;
    unsigned tries;
    uint64_t next_ms; /* next retransmission */
};
/* s (empty) takes copies of n encoded packets; HK_E_NOMEM leaves it empty. */
int ike_sent_set(struct ike_sent *s, const struct hk_cbb *msgs, size_t n);
void ike_sent_clear(struct ike_sent *s);

/* Fragments of one message being put back together (RFC 7383 2.6). */
struct ike_frag_in {
    uint32_t msg_id;
    bool response;
    uint16_t total; /* 0: nothing collected */
    uint16_t have;
    uint8_t first_inner;
    size_t bytes;
    struct ike_bytes *part; /* total entries, by fragment number - 1 */
};
void ike_frag_in_clear(struct ike_frag_in *f);

struct ike_id {
    uint8_t type; /* IKE_ID_* */
    struct ike_bytes data;
};

/* What an exchange in flight is for (hand-over, re-authentication and RFC 6311 sync are to
 * be new kinds). */
enum ike_xchg_kind {
    IKE_XCHG_NONE = 0,
    IKE_XCHG_SA_INIT,      /* IKE_SA_INIT (1.2; its KE and nonces are the SA's set-up) */
    IKE_XCHG_AUTH,         /* IKE_AUTH (1.2) */
    IKE_XCHG_CREATE_CHILD, /* CREATE_CHILD_SA: a new Child SA (1.3.1) */
    IKE_XCHG_REKEY_CHILD,  /* CREATE_CHILD_SA: a Child SA rekey (1.3.3) */
    IKE_XCHG_REKEY_IKE,    /* CREATE_CHILD_SA: the IKE SA rekey (1.3.2) */
    IKE_XCHG_DELETE_CHILD, /* INFORMATIONAL: Delete of a Child SA (1.4.1) */
    IKE_XCHG_DELETE_IKE,   /* INFORMATIONAL: Delete of the IKE SA (1.4.1) */
    IKE_XCHG_INFO,         /* INFORMATIONAL: liveness check (2.4) or other */
    IKE_XCHG_CLONE,        /* CREATE_CHILD_SA: an IKE SA rekey with CLONE_IKE_SA (RFC 7791) */
    /* MOBIKE (RFC 4555): our UPDATE_SA_ADDRESSES (3.5), and a return routability check of
     * the peer's new address (3.7); both carry COOKIE2 (ike_sa.cookie2). */
    IKE_XCHG_UPDATE_ADDRESSES,
    IKE_XCHG_ROUTABILITY,
};
#define IKE_XCHG_KIND_LAST IKE_XCHG_ROUTABILITY
#define IKE_PEER_ADDRS_MAX 8 /* ike_sa.peer_addrs */
#define IKE_OUR_ADDRS_MAX  4 /* ADDITIONAL_*_ADDRESS notifies we send in one message */
const char *ike_xchg_kind_name(enum ike_xchg_kind k);
/* The exchange type (IKE_SA_INIT...) a kind is carried in. */
uint8_t ike_xchg_exchange(enum ike_xchg_kind k);

/*
 * One exchange in flight: ours (ike_sa.xchg), or the peer's where it matters past its own
 * request and response (ike_sa.peer_xchg). Ours is set when its request goes out
 * (engine_request) and ended when its response has been handled or the exchange is given up
 * (x_xchg_end). The request's packets stay in ike_sa.out: they are transport (retransmission,
 * fragments, the message-ID window), and an IKE_SA_INIT retried with a cookie replaces them
 * within one exchange.
 */
struct ike_xchg {
    uint8_t kind;           /* enum ike_xchg_kind; IKE_XCHG_NONE: none */
    uint32_t msg_id;        /* of its request */
    uint64_t child_id;      /* the Child SA made (CREATE/REKEY_CHILD) or deleted (DELETE_CHILD) */
    uint64_t old_child_id;  /* the Child SA a REKEY_CHILD replaces */
    uint64_t new_sa_id;     /* the IKE SA a REKEY_IKE or CLONE makes, still in INIT_SENT */
    struct hk_ke *ke;       /* our key pair of a CREATE_CHILD_SA (PFS or IKE rekey) */
    struct ike_bytes nonce; /* our Ni of a CREATE_CHILD_SA */
};

/*
 * One IKE SA. The fields are in four groups: the session (what another process or node needs
 * to continue it: a context export carries these), the set-up material (IKE_SA_INIT to
 * IKE_AUTH only), the exchanges in flight, and this engine's bookkeeping (derived objects,
 * table keys, timers, what its user was told), which never leaves the node.
 */
struct ike_sa {
    /* ---- the session ---- */
    uint64_t id; /* engine handle, never reused (a node gives its own on import) */
    uint8_t spi_i[IKE_SPI_LEN];
    uint8_t spi_r[IKE_SPI_LEN];
    bool initiator; /* original initiator: sets the I flag (2.2) */
    enum ike_sa_state state;
    char conn[64]; /* connection name from the config */

    /* Negotiated transforms and keys. */
    struct ike_chosen chosen;
    struct hk_ike_alg alg;
    struct hk_ike_keys keys;
    struct ike_bytes ni, nr; /* nonces: Child SA keys of IKE_AUTH (2.17) */
    /* Kept only as the connection's context_keys asks (config.h), for a context export:
     * SKEYSEED, or also our Diffie-Hellman private value and the peer's KE value. */
    struct hk_secret *skeyseed, *dh_private;
    struct ike_bytes peer_ke;

    /* Message IDs (2.3): window size 1 both ways. */
    uint32_t req_next;      /* ID of our next request */
    uint32_t peer_req_next; /* ID we expect of the peer's next request */
    struct ike_sent resp;   /* our last response, for a retransmitted request */
    /* The request resp answers, known by its length and last octets, which end in its ICV
     * (3.14): only its copy gets resp again. 0: none (or a fragmented request). */
    uint32_t resp_req_len;
    uint8_t resp_req_tail[IKE_REQ_TAIL];

    /* Addresses. local/remote as in use now; NAT state from NAT-D (2.23). */
    struct sockaddr_storage local, remote;
    bool nat_local, nat_remote;
    uint32_t ext; /* enum ike_ext */
    /* MOBIKE (RFC 4555). Initiator: our addresses changed and UPDATE_SA_ADDRESSES is still to
     * be sent (3.5 "pending_update"); a response to an earlier one is then ignored.
     * Responder: the peer's new address is not verified yet (3.7): the Child SAs keep their
     * path until our check is answered (rr_pending), and a check in flight when the address
     * moved again proves nothing (rr_again). */
    bool mobike_pending, rr_pending, rr_again;
    bool peer_natt; /* the peer sent NAT-D in IKE_SA_INIT: it does NAT traversal */
    /* The peer's additional addresses (RFC 4555 3.4, 3.6: ADDITIONAL_IP4/6_ADDRESS, the last
     * list it sent replaces the one before; NO_ADDITIONAL_ADDRESSES empties it). At most
     * IKE_PEER_ADDRS_MAX are kept, on the heap: most peers send none, and an SA is kept small
     * for the hundred thousand a gateway holds. */
    uint8_t npeer_addrs;
    struct hk_ip *peer_addrs;
    /* We sent CHILDLESS_IKEV2_SUPPORTED in our IKE_SA_INIT response (RFC 6023 3): a childless
     * IKE_AUTH request is then ours to accept, whatever the initiator announced. */
    bool childless_offered;

    /* The authentication this SA holds, as IKE_AUTH did it (2.15): both identities and both
     * AUTH methods (IKE_AUTH_*). A rekey, clone or export reads them here, not from a
     * configuration that may have changed since. */
    struct ike_id peer_id;
    struct ike_id local_id;
    uint8_t local_auth, peer_auth;
    /* Virtual addresses (2.19): as responder leased from a pool for the peer; as initiator
     * assigned to us. */
    uint8_t nvip;
    struct hk_ip vip[2];
    char vip_pool[2][32]; /* responder: the pool each lease came from */
    uint64_t created_ms, established_ms, last_in_ms;
    /* The clone family (RFC 7791): the id of the family's first IKE SA (the one IKE_AUTH
     * made) and when it was authenticated. Rekeys and clones inherit both; section 8 counts the
     * service from family_start_ms until the family's last IKE SA is gone. */
    uint64_t family, family_start_ms;
    /* When the SA is due for a rekey and when it expires, on the engine's clock (0: never):
     * the session's deadlines, from which another process or node re-arms its own timers. */
    uint64_t rekey_at_ms, expire_at_ms;

    /* Child SAs by id. Owner changes move an id from one list to another. */
    size_t nchildren;
    uint64_t *children;

    /* ---- set-up material: IKE_SA_INIT until IKE_AUTH is done (2.15) ---- */
    struct hk_ke *ke;
    struct ike_bytes init_req, init_resp;
    struct ike_bytes cookie; /* echoed in a retried IKE_SA_INIT (2.6) */
    unsigned ke_retries;     /* INVALID_KE_PAYLOAD retries */
    /* Initiator: an unprotected error notify answered our IKE_SA_INIT; we keep waiting for a
     * real response (2.21.1) and name it if none comes. 0: none. */
    uint16_t init_error;

    /* ---- exchanges in flight ---- */
    struct ike_sent out; /* our outstanding request (out.npkts == 0: none) */
    struct ike_frag_in frag;
    /* The exchange we initiated and await the answer to (window size 1, 2.3): what it is
     * for, as data, so a response is handled by what we asked, never guessed from state. */
    struct ike_xchg xchg;
    /* The peer's exchange that still matters after we answered it: its rekey of this IKE SA
     * (2.8.2) or of one of its Child SAs (2.8.1) that crossed ours of the same SA. kind, the
     * peer's message ID, the SA we made answering it (new_sa_id, or child_id replacing
     * old_child_id) and the lower nonce of that exchange (no ke). Our response decides which
     * rekey survives; the last such exchange is kept until the SA goes. */
    struct ike_xchg peer_xchg;
    /* The COOKIE2 of our outstanding MOBIKE request (RFC 4555 3.5, 3.7; 4.2.5: 8..64 octets):
     * one request at a time, so one field of the SA, not of every exchange record. */
    uint8_t cookie2[16];
    /* Work waiting for the request window (FIFO). */
    uint8_t ntasks;
    uint8_t task[8];
    uint64_t task_arg[8];

    /* ---- this engine's bookkeeping ---- */
    struct hk_sk_cipher *sk_out, *sk_in; /* built from keys when needed */
    bool local_fixed; /* initiator: the caller chose local (address and port); NAT-T keeps it */
    /* While a request is handled: where it came from and arrived at, where its response goes
     * (RFC 7296 2.11); NULL otherwise. */
    const struct sockaddr_storage *reply_local, *reply_remote;
    /* What the engine's user was told: ops.ike_up (its end is ops.ike_down), or already
     * ops.ike_failed (a failure closed with an INFORMATIONAL first, 2.21.2). */
    bool reported_up, reported_failed;
    bool peer_id_counted; /* counted in the engine's IKE SAs per identity (max_ike_sas) */
    bool family_counted;  /* counted in engine.families (max_clones) */
    /* Our clone of this SA (RFC 7791 5.3): TEMPORARY_FAILURE answers so far (the retry timer
     * backs off by them). */
    uint8_t clone_tries;
    uint32_t timer_gen[8]; /* per timer kind: an armed timer of an older generation is stale */
    /* Responder: the key under which the SA sits in the engine's half-open table, kept so that
     * the entry goes with the SA even after the peer's address or port moved (NAT-T float). */
    uint64_t half_open_key;
    bool half_open;
    /* ... and the entry it counts in engine.half_open_peers (by family index and key). */
    uint8_t half_open_peer_fam;
    uint64_t half_open_peer_key;
    /* Responder: when a cached response was last sent again; resends are rate-limited so a
     * replayed request cannot make us a traffic amplifier. */
    uint64_t resend_ms;
    /* Responder: the first fragment of the peer's request being reassembled (RFC 7383), known
     * like resp_req_len/resp_req_tail: a copy of it is the only fragment that gets the cached
     * response again (2.6.1). */
    uint32_t frag1_msg_id, frag1_len;
    uint8_t frag1_tail[IKE_REQ_TAIL];
    /* The datagram being looked at, when it claims to be fragment 1 of a new request: kept
     * as received (the decoder decrypts in place) until its ICV is checked. */
    uint32_t frag1_cand_len;
    uint8_t frag1_cand_tail[IKE_REQ_TAIL];
};

enum ike_task {
    IKE_TASK_NEW_CHILD = 1, /* arg: index of the child in the connection */
    IKE_TASK_REKEY_CHILD,   /* arg: child id */
    IKE_TASK_REKEY_IKE,
    IKE_TASK_DELETE_CHILD, /* arg: child id */
    IKE_TASK_DELETE_IKE,
    IKE_TASK_CLONE, /* RFC 7791 */
};

enum child_sa_state {
    CHILD_SA_CREATING,
    CHILD_SA_INSTALLED,
    CHILD_SA_REKEYED, /* superseded, kept until its DELETE completes */
    CHILD_SA_DELETING,
    CHILD_SA_DEAD,
};
const char *child_sa_state_name(enum child_sa_state s);

#define CHILD_MAX_TS 8 /* selectors per side we propose or accept */
struct child_sa {
    uint64_t id;
    uint64_t ike_id; /* owning IKE SA: the one field that changes on hand-over or rekey */
    char name[64];   /* child config name */
    enum child_sa_state state;
    uint8_t protocol; /* IKE_PROTO_ESP */
    bool transport;   /* transport mode (USE_TRANSPORT_MODE accepted) */
    uint32_t spi_in, spi_out;
    struct ike_chosen chosen;
    struct hk_child_keys keys; /* ir/ri as in 2.17; direction by ike initiator role */
    bool initiator;            /* we initiated the exchange that made it (orients keys) */
    /* Owned arrays sized to what was negotiated (usually one each), set only through
     * child_sa_set_ts; at most CHILD_MAX_TS each. */
    size_t nts_local, nts_remote;
    struct ike_ts *ts_local, *ts_remote;
    uint64_t created_ms;
    uint32_t timer_gen[4];
    /* Volume limits the data plane enforces (0 = none): soft starts a rekey, hard deletes. */
    uint64_t rekey_bytes, life_bytes, rekey_packets, life_packets;
    uint32_t replay_window; /* packets; 0: no replay protection (child config) */
};

struct hk_log;
/*
 * The one gate for IKE SA state changes: refuses a move the protocol does not allow
 * (HK_E_STATE, logged as an error) and logs every accepted one as "old -> new".
 */
int ike_sa_set_state(struct ike_sa *sa, enum ike_sa_state to, const struct hk_log *log);
int child_sa_set_state(struct child_sa *c, enum child_sa_state to, const struct hk_log *log);

/* "0123456789abcdef_fedcba9876543210" (SPIi_SPIr), for log lines. */
char *ike_sa_name(const struct ike_sa *sa, char *buf, size_t len);

/* Frees everything an SA owns and wipes its keys. */
void ike_sa_free(struct ike_sa *sa);
/*
 * Between exchanges (none of ours outstanding): frees the SK cipher contexts, about 2.3 KiB
 * an SA that an idle SA does not need. The keys stay; the next message rebuilds them.
 */
void ike_sa_idle(struct ike_sa *sa);
void child_sa_free(struct child_sa *c);

/*
 * Replaces a child's traffic selectors with copies of exactly nl and nr entries (the
 * inputs may be the child's own arrays). Entry 0 of each always exists (zeroed when the
 * count is 0), so log lines can show it. HK_E_NOMEM leaves the child as it was.
 */
/*
 * A new IKE SA that replaces or parallels sa (an IKE rekey, 2.18; a clone, RFC 7791; later an
 * import) takes over its session: addresses and NAT state, extensions, both identities and
 * AUTH methods, the clone family. Keys, SPIs, message IDs, timers and Child SAs are not copied.
 * HK_E_NOMEM leaves ns partly set (its owner frees it).
 */
int ike_sa_inherit(struct ike_sa *ns, const struct ike_sa *sa);
/* Wipes the key material beyond what keep asks for (a responder's connection may change at
 * IKE_AUTH). */
void ike_sa_trim_context_keys(struct ike_sa *sa, enum hk_context_keys keep);
/* Where the IKE SA's Child SAs send ESP now: its addresses, and UDP encapsulation (RFC 3948)
 * when a NAT is in the path or IKE has moved off port 500 (2.23). */
struct hk_dp_path ike_sa_dp_path(const struct ike_sa *sa);
int child_sa_set_ts(struct child_sa *c, const struct ike_ts *local, size_t nl,
                    const struct ike_ts *remote, size_t nr);

int ike_sa_add_child(struct ike_sa *sa, uint64_t child_id);
void ike_sa_remove_child(struct ike_sa *sa, uint64_t child_id);

#endif
