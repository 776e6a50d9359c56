/*
 * IKE SA and IPsec SA contexts (draft-plmrs-ipsecme-ipsec-ikev2-context-definition-01): what
 * another process or cluster node needs to carry an IKEv2 session on, as plain values. No
 * engine types and no pointers into engine records: a context owns its bytes, and every key
 * is an hk_secret, wiped when the context is freed. The engine fills one from its records
 * and builds records from one; this layer only holds, checks, encodes and decodes them.
 *
 * The encoding (hk_ctx_encode / hk_ctx_decode) is CBOR, versioned, with each parameter's
 * level (mandatory, optional, vendor) in its key: docs/context.md.
 */
#ifndef HIKE_CTX_CTX_H
#define HIKE_CTX_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/diag.h"
#include "common/secret.h"
#include "common/ts.h"
#include "crypto/kdf.h"
#include "esp/esp_state.h"

#define HK_CTX_VERSION 1

/* Bounds: a context may come from the network, so every count and length has one. */
#define HK_CTX_MAX_LEN       (4u << 20) /* one encoded context */
#define HK_CTX_MAX_CHILDREN  64         /* Child SAs of one IKE SA */
#define HK_CTX_MAX_TS        8          /* selectors per side (the engine's CHILD_MAX_TS) */
#define HK_CTX_MAX_ADDRS     16         /* MOBIKE additional addresses */
#define HK_CTX_MAX_VIPS      2          /* virtual addresses (one per family) */
#define HK_CTX_MAX_VIDS      16         /* Vendor ID payloads */
#define HK_CTX_MAX_VID_LEN   256        /* one Vendor ID */
#define HK_CTX_MAX_ID_LEN    2048       /* identification data (a DER DN can be long) */
#define HK_CTX_MAX_KEY_LEN   128        /* one SK_* or KEYMAT key, SKEYSEED */
#define HK_CTX_MAX_KE_LEN    4096       /* DH / KEM private value, the peer's KE data */
#define HK_CTX_NONCE_MIN     16         /* RFC 7296 2.10 */
#define HK_CTX_NONCE_MAX     256        /* RFC 7296 2.10 */
#define HK_CTX_MAX_RESP_PKTS 32         /* fragments of the cached response */
#define HK_CTX_MAX_PKT_LEN   65535      /* one datagram */
#define HK_CTX_NAME_MAX      64         /* connection / child names, with the NUL */
#define HK_CTX_POOL_MAX      32         /* address pool names, with the NUL */
#define HK_CTX_REQ_TAIL      16         /* the engine's IKE_REQ_TAIL */

/* The draft's three ways to carry the IKE keys (section 5). */
enum hk_ctx_keys_mode {
    HK_CTX_KEYS_DH = 1,       /* our DH private value, the peer's KE data, Ni, Nr */
    HK_CTX_KEYS_SKEYSEED = 2, /* SKEYSEED, Ni, Nr */
    HK_CTX_KEYS_SK = 3,       /* SK_d, SK_ai, SK_ar, SK_ei, SK_er [, SK_pi, SK_pr] */
};
const char *hk_ctx_keys_mode_name(uint8_t mode);

/* Extensions in force, the same bits as the engine's enum ike_ext. */
enum hk_ctx_ext {
    HK_CTX_EXT_FRAGMENTATION = 1u << 0, /* RFC 7383 */
    HK_CTX_EXT_CHILDLESS = 1u << 1,     /* RFC 6023 */
    HK_CTX_EXT_MOBIKE = 1u << 2,        /* RFC 4555 */
    HK_CTX_EXT_REDIRECT = 1u << 3,      /* RFC 5685 */
    HK_CTX_EXT_MSGID_SYNC = 1u << 4,    /* RFC 6311 */
    HK_CTX_EXT_CLONE = 1u << 5,         /* RFC 7791 */
    HK_CTX_EXT_SIG_HASH = 1u << 6,      /* RFC 7427 */
};
#define HK_CTX_EXT_ALL 0x7fu

/* An IP address, with a port where one matters (0 otherwise). */
struct hk_ctx_addr {
    uint8_t af; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    uint16_t port;
};

struct hk_ctx_bytes {
    uint8_t *p;
    size_t len;
};

struct hk_ctx_id {
    uint8_t type; /* IKE_ID_* (RFC 7296 3.5) */
    struct hk_ctx_bytes data;
};

/* The negotiated transforms (RFC 7296 3.3.2 numbers). */
struct hk_ctx_alg {
    uint16_t encr, encr_key_bits; /* key bits: the Key Length attribute, 0 when absent */
    uint16_t integ, integ_key_bits;
    uint16_t prf; /* IKE SA only */
    uint16_t ke;  /* IKE SA: its group; Child SA: the PFS group, 0 without */
};

struct hk_ctx_ike_keys {
    uint8_t mode;                    /* enum hk_ctx_keys_mode */
    struct hk_ctx_bytes ni, nr;      /* DH and SKEYSEED: mandatory; SK: optional */
    struct hk_secret *dh_private;    /* DH */
    struct hk_ctx_bytes peer_ke;     /* DH: the peer's KE data (public) */
    struct hk_secret *skeyseed;      /* SKEYSEED */
    struct hk_secret *sk_d;          /* SK */
    struct hk_secret *sk_ai, *sk_ar; /* SK: NULL with an AEAD cipher */
    struct hk_secret *sk_ei, *sk_er; /* SK: salt included for AEAD */
    struct hk_secret *sk_pi, *sk_pr; /* SK: optional (authentication only) */
};

/* Our last response, for a retransmitted request after a move (RFC 7296 2.1). */
struct hk_ctx_resp {
    uint32_t msg_id;
    uint8_t exchange;
    uint32_t req_len; /* the request it answers: its length and last octets (0: none) */
    uint8_t req_tail[HK_CTX_REQ_TAIL];
    size_t npkts; /* > 1 when fragmented; 0: no cached response */
    struct hk_ctx_bytes *pkts;
};

struct hk_ctx_vip {
    struct hk_ctx_addr addr;    /* port 0 */
    char pool[HK_CTX_POOL_MAX]; /* responder: the pool it was leased from; "" otherwise */
};

/*
 * Times are not absolute (another node has another clock): ages are milliseconds before the
 * export, deadlines milliseconds after it; 0 in a deadline: none.
 */
struct hk_ctx_ike_life {
    uint64_t age_ms; /* since the SA was established */
    uint64_t rekey_in_ms, reauth_in_ms, expire_in_ms;
};

/* One IPsec SA pair (one Child SA): section 7 of the draft. */
struct hk_ctx_child {
    /* ---- mandatory ---- */
    struct hk_ctx_addr local, remote; /* outer addresses with ports */
    bool udp_encap;                   /* RFC 3948 */
    uint32_t spi_in, spi_out;
    uint8_t protocol; /* IKE protocol ID: 3 ESP, 2 AH */
    bool transport;   /* mode: transport, else tunnel */
    bool ipcomp;      /* IPComp (RFC 3173); the CPIs and algorithm only when set */
    uint16_t cpi_in, cpi_out;
    uint8_t ipcomp_alg;
    /* Sequence numbers, replay window and use so far: the data plane's own record. */
    struct hk_esp_state esp;
    bool seq_no_rollover; /* the SN overflow flag (RFC 4301 4.4.2.1): rekey, never cycle */
    uint64_t soft_bytes, hard_bytes, soft_packets, hard_packets; /* 0: none */
    uint64_t rekey_in_ms, expire_in_ms;                          /* 0: none */
    uint32_t path_mtu;                                           /* 0: unknown */
    size_t nts_local, nts_remote;
    struct ike_ts ts_local[HK_CTX_MAX_TS], ts_remote[HK_CTX_MAX_TS];
    struct hk_ctx_alg alg; /* no prf */
    bool initiator;        /* we initiated the exchange that made it: orients KEYMAT (2.17) */
    /* KEYMAT split as RFC 7296 2.17: initiator to responder, and back. */
    struct hk_secret *encr_ir, *integ_ir, *encr_ri, *integ_ri; /* integ NULL with AEAD */
    /* ---- optional ---- */
    char name[HK_CTX_NAME_MAX]; /* the child's configuration name, "" if none */
    bool has_age;
    uint64_t age_ms;
    /* ---- vendor (hike) ---- */
    bool has_flow_id;
    uint32_t flow_id; /* the packet processing unit (worker) that carries it */
};

/* One IKE SA: section 6 of the draft, and what the engine needs past it. */
struct hk_ctx_ike {
    /* ---- mandatory ---- */
    uint8_t version; /* IKE major version: 2 */
    bool initiator;  /* original initiator */
    struct hk_ctx_addr local, remote;
    uint8_t spi_i[8], spi_r[8];
    uint32_t req_next;      /* message ID of our next request */
    uint32_t peer_req_next; /* message ID we expect of the peer's next request */
    uint32_t window;        /* message ID window (2.3): hike uses 1 */
    struct hk_ctx_alg alg;
    struct hk_ctx_ike_keys keys;
    uint32_t ext; /* enum hk_ctx_ext */
    bool nat_local, nat_remote;
    struct hk_ctx_id local_id, peer_id;
    uint8_t local_auth, peer_auth; /* AUTH methods */
    char conn[HK_CTX_NAME_MAX];    /* credentials: the connection that holds them */
    size_t nchildren;
    struct hk_ctx_child *children;
    /* ---- optional ---- */
    struct hk_ctx_resp resp;
    bool has_life;
    struct hk_ctx_ike_life life;
    size_t nvids;
    struct hk_ctx_bytes *vids;
    size_t naddrs; /* MOBIKE: the peer's additional addresses (port 0) */
    struct hk_ctx_addr addrs[HK_CTX_MAX_ADDRS];
    size_t nvips;
    struct hk_ctx_vip vips[HK_CTX_MAX_VIPS];
    bool has_dpd;
    uint64_t last_in_age_ms; /* DPD: since the peer was last heard */
    bool has_clone_family;
    uint64_t clone_family; /* RFC 7791: SAs cloned from one another share it */
    /* ---- vendor (hike) ---- */
    bool childless_offered; /* we sent CHILDLESS_IKEV2_SUPPORTED (RFC 6023 3) */
};

/* Wipes and frees everything ctx owns and zeroes it; ctx itself is the caller's. */
void hk_ctx_ike_free(struct hk_ctx_ike *ctx);
void hk_ctx_child_free(struct hk_ctx_child *c);
/* Sets an owned byte string (copies p); HK_E_NOMEM leaves b empty. */
int hk_ctx_bytes_set(struct hk_ctx_bytes *b, const uint8_t *p, size_t len);
/* Adds a Child SA slot (zeroed) and returns it, or NULL (out of memory, or at the bound). */
struct hk_ctx_child *hk_ctx_add_child(struct hk_ctx_ike *ctx);

/*
 * The checks a decoded context passes, for a context built in memory too: every bound, the
 * key mode's keys present with lengths fitting the transforms, the replay window sane.
 * 0 or HK_E_SYNTAX with the reason in d.
 */
int hk_ctx_ike_check(const struct hk_ctx_ike *ctx, struct hk_diag *d);

/*
 * Encodes ctx (checked first: HK_E_INVALID with d set) into *out, a new secret (it carries
 * keys: wiped when freed). HK_E_NOMEM, HK_E_OVERFLOW past HK_CTX_MAX_LEN.
 */
int hk_ctx_encode(const struct hk_ctx_ike *ctx, struct hk_secret **out, struct hk_diag *d);
/*
 * Decodes exactly len octets into out (zeroed first; freed again on failure). HK_E_SHORT
 * (truncated), HK_E_LENGTH (a count or length past its bound or the input),
 * HK_E_SYNTAX (wrong type, indefinite length, duplicate or unordered key, trailing octets,
 * a mandatory parameter missing or unknown, a failed check), HK_E_UNSUPPORTED (another
 * format version), HK_E_NOMEM. d names the parameter.
 */
int hk_ctx_decode(const uint8_t *p, size_t len, struct hk_ctx_ike *out, struct hk_diag *d);

/*
 * The SK_* of the IKE SA from whichever key mode the context carries (the draft's section 5):
 * dh recomputes g^ir from our private value and the peer's KE data, then SKEYSEED (RFC 7296
 * 2.14); skeyseed runs prf+; sk copies. All three give the same keys. dh and skeyseed hold
 * only for an IKE SA made by IKE_SA_INIT: a rekeyed SA's SKEYSEED needs the old SK_d too
 * (2.18), so such an SA is exported in mode sk. out (empty) is freed again on failure.
 */
struct hk_crypto;
int hk_ctx_ike_sk(const struct hk_crypto *c, const struct hk_ctx_ike *ctx, struct hk_ike_keys *out);

#endif
