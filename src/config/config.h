/*
 * hiked.conf as plain records. The loader (config.c) reads the file with libconfig, checks
 * every setting (unknown names, types, ranges, cross-references), applies the defaults below
 * and hands back one struct hk_config that owns all its memory; nothing of libconfig leaks
 * out. docs/config.md is the reference for the file; keep the two in step.
 */
#ifndef HIKE_CONFIG_CONFIG_H
#define HIKE_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/secret.h"
#include "config/id_conf.h"
#include "config/proposal.h"
#include "config/ts_conf.h"

/* Defaults (docs/config.md lists them too). Times in seconds unless marked. */
#define HK_CONF_PORT                  500
#define HK_CONF_NATT_PORT             4500
#define HK_CONF_CONTROL_SOCKET        "/run/hike/hiked.ctl"
#define HK_CONF_COOKIE_THRESHOLD      100 /* half-open IKE SAs before cookies are demanded */
#define HK_CONF_RETRANSMIT_TIMEOUT_MS 1000
#define HK_CONF_RETRANSMIT_TRIES      5
#define HK_CONF_HALF_OPEN_TIMEOUT     30
/* Unauthenticated traffic (RFC 7296 2.6, RFC 8019). */
#define HK_CONF_HALF_OPEN_MAX         10000  /* half-open IKE SAs in all */
#define HK_CONF_HALF_OPEN_PER_ADDRESS 5      /* per IPv4 address or IPv6 /64 */
#define HK_CONF_MAX_PACKET            10000  /* octets of an IKE datagram */
#define HK_CONF_HAND_OVER_NOTIFY      49152  /* private-use status notify (draft hand-over) */
#define HK_CONF_FWMARK                0x484b /* "HK": marks hiked's own sockets */
#define HK_CONF_ROUTE_TABLE           0x484b /* routes of transport-mode peers */
#define HK_CONF_NAME_MAX              32     /* daemon.user, daemon.group (useradd's limit) */
#define HK_CONF_IKE_REKEY_TIME        (4 * 3600)
#define HK_CONF_CHILD_REKEY_TIME      3600
#define HK_CONF_DPD_DELAY             30
#define HK_CONF_REPLAY_WINDOW         1024
#define HK_CONF_MAX_LIFETIME          (366 * 24 * 3600)
#define HK_CONF_MAX_REPLAY_WINDOW     65536
/* Limits an authenticated peer cannot exceed, and its certificate policy (0 = no limit). */
#define HK_CONF_MAX_CHILDREN 64 /* Child SAs per IKE SA */
#define HK_CONF_MAX_IKE_SAS  64 /* IKE SAs per peer identity */
#define HK_CONF_MAX_CLONES   16 /* clones per clone family (RFC 7791) */
#define HK_CONF_MAX_LEASES   64 /* virtual addresses per peer identity, in each pool */
#define HK_CONF_MIN_RSA_BITS 2048
#define HK_CONF_MIN_EC_BITS  256
/* remote.eku purposes (the same bits as HK_X509_EKU_* of crypto/x509.h). */
#define HK_EKU_CONF_SERVER_AUTH 0x1u
#define HK_EKU_CONF_CLIENT_AUTH 0x2u
#define HK_EKU_CONF_IPSEC_IKE   0x4u
#define HK_EKU_CONF_ANY_EKU     0x8u /* anyExtendedKeyUsage */
#define HK_EKU_CONF_IKE         0xfu /* "ike": all four */
/* Default proposals, in order of preference. */
#define HK_CONF_IKE_PROPOSALS                                                                      \
    "aes256gcm16-prfsha256-x25519-ecp256", "chacha20poly1305-prfsha256-x25519-ecp256",             \
        "aes128-sha256-x25519-ecp256-modp2048"
#define HK_CONF_ESP_PROPOSALS "aes256gcm16", "chacha20poly1305", "aes128-sha256"

enum hk_auth_conf {
    HK_AUTH_CONF_PSK = 1,    /* pre-shared key (RFC 7296 2.15) */
    HK_AUTH_CONF_PUBKEY = 2, /* X.509 certificate and its RSA or ECDSA key */
};

enum hk_sig_conf {
    HK_SIG_CONF_RFC7427 = 0, /* Digital Signature auth method 14 (RFC 7427) */
    HK_SIG_CONF_CLASSIC = 1, /* RSA (1) or ECDSA (9/10/11) auth methods of RFC 7296/4754 */
};

enum hk_start_action {
    HK_START_NONE = 0,  /* wait for the peer or for hikectl */
    HK_START_TRAP = 1,  /* install policies; traffic that matches starts the SA */
    HK_START_START = 2, /* initiate at load */
};

/* What to do with a child when DPD finds the peer dead, or when the peer closes it. */
enum hk_sa_action {
    HK_ACTION_CLEAR = 0,   /* remove it */
    HK_ACTION_TRAP = 1,    /* remove it and install a trap policy */
    HK_ACTION_RESTART = 2, /* initiate it again */
};

enum hk_ipsec_mode {
    HK_MODE_TUNNEL = 0,
    HK_MODE_TRANSPORT = 1,
};

/* One entry of local_addrs / remote_addrs. */
enum hk_addr_kind {
    HK_ADDR_ANY = 0,   /* "%any" */
    HK_ADDR_RANGE = 1, /* an address (start == end), a CIDR block or a range */
    HK_ADDR_HOST = 2,  /* a DNS name, resolved by the daemon when it needs the address */
};
struct hk_addr_conf {
    enum hk_addr_kind kind;
    struct hk_ip_range range; /* HK_ADDR_RANGE */
    char *host;               /* HK_ADDR_HOST */
};

struct hk_local_auth_conf {
    enum hk_auth_conf auth;
    struct hk_id_conf id; /* HK_ID_AUTO when not set */
    char *cert;           /* pubkey: PEM or DER certificate file (our end entity) */
    char *key;            /* pubkey: PEM private key file (RSA or ECDSA) */
    char **certs;         /* pubkey: intermediate CA certificates we send along */
    size_t ncerts;
    enum hk_sig_conf signature; /* pubkey */
};

struct hk_remote_auth_conf {
    enum hk_auth_conf auth;
    struct hk_id_conf id; /* HK_ID_ANY when not set */
    char **ca;            /* pubkey: trust anchor files */
    size_t nca;
    char *cert; /* pubkey: optional, the peer's certificate pinned */
    /* pubkey: policy for the peer's certificate and AUTH (ike/auth_cert.h). */
    enum hk_sig_conf signature; /* HK_SIG_CONF_CLASSIC also accepts method 1 (SHA-1) */
    unsigned eku;               /* HK_EKU_CONF_* purposes accepted; 0 with eku_any */
    bool eku_any;               /* "any": extended key usage not checked */
    uint16_t min_rsa_bits, min_ec_bits;
};

/* Soft (rekey) and hard (life) limits; 0 = no limit of that kind. */
struct hk_child_lifetime {
    uint32_t rekey_time, life_time, rekey_jitter; /* seconds */
    uint64_t rekey_bytes, life_bytes;
    uint64_t rekey_packets, life_packets;
};

struct hk_child_conf {
    char *name;
    struct hk_ts_conf *local_ts; /* never empty: [%dynamic] by default */
    size_t nlocal_ts;
    struct hk_ts_conf *remote_ts;
    size_t nremote_ts;
    struct hk_proposal_conf *esp; /* never empty */
    size_t nesp;
    enum hk_ipsec_mode mode;
    struct hk_child_lifetime lifetime;
    enum hk_start_action start_action;
    enum hk_sa_action dpd_action;
    enum hk_sa_action close_action;
    uint32_t replay_window; /* packets; 0 disables replay protection */
};

/*
 * The IKE key material an IKE SA of a connection keeps beyond what it uses, so that its
 * context can carry it in the context draft's three ways: the derived SK_* keys (always kept),
 * also SKEYSEED, or also our Diffie-Hellman private value with the peer's KE value. Only
 * SAs made by IKE_SA_INIT keep the last two (a rekeyed SA's SKEYSEED also needs the old SK_d).
 */
enum hk_context_keys {
    HK_CONTEXT_KEYS_DERIVED = 0,
    HK_CONTEXT_KEYS_SKEYSEED = 1,
    HK_CONTEXT_KEYS_DH = 2,
};

struct hk_conn {
    char *name;
    struct hk_addr_conf *local_addrs; /* never empty: [%any] by default */
    size_t nlocal_addrs;
    struct hk_addr_conf *remote_addrs;
    size_t nremote_addrs;
    uint16_t local_port, remote_port;
    struct hk_local_auth_conf local;
    struct hk_remote_auth_conf remote;
    struct hk_secret *psk;        /* set exactly when a side uses psk; never print it */
    struct hk_proposal_conf *ike; /* never empty */
    size_t nike;
    uint32_t rekey_time;   /* IKE SA rekey; 0 = never */
    uint32_t reauth_time;  /* re-authentication (new IKE_AUTH); 0 = never */
    uint32_t life_time;    /* hard limit: the IKE SA is deleted; 0 = none */
    uint32_t rekey_jitter; /* up to this much is subtracted at random from rekey/reauth time */
    uint32_t dpd_delay;    /* liveness check after this much silence; 0 = off */
    enum hk_start_action start_action; /* childless connections: for the IKE SA itself */
    enum hk_sa_action dpd_action;      /* defaults for the children */
    enum hk_sa_action close_action;
    bool request_vip4, request_vip6; /* initiator: ask for virtual addresses (CFG_REQUEST) */
    char **pools;                    /* responder: pools to assign virtual addresses from */
    size_t npools;
    bool mobike;
    bool fragmentation;                /* RFC 7383; defaults to the daemon setting */
    bool encap;                        /* force UDP encapsulation (RFC 3948) even without NAT */
    enum hk_context_keys context_keys; /* which key material an IKE SA keeps for export */
    /* Limits of an authenticated peer; 0 = none. */
    uint32_t max_children; /* Child SAs per IKE SA (NO_ADDITIONAL_SAS past it) */
    uint32_t max_ike_sas;  /* IKE SAs per peer identity (AUTHENTICATION_FAILED past it) */
    uint32_t max_leases;   /* virtual addresses per identity and pool (INTERNAL_ADDRESS_FAILURE) */
    /* RFC 7791: announce CLONE_IKE_SA_SUPPORTED; clones a family may hold besides its first
     * IKE SA (NO_ADDITIONAL_SAS past it; 0 = no limit). */
    bool clone;
    uint32_t max_clones;
    struct hk_child_conf *children;
    size_t nchildren;
};

struct hk_pool {
    char *name;
    struct hk_ip_range range; /* the addresses handed out */
    struct hk_ip_range block; /* addrs as written (a CIDR pool's whole block): routed */
    struct hk_ip *dns;
    size_t ndns;
};

enum hk_dataplane_kind {
    HK_DATAPLANE_USERSPACE = 0, /* TUN + ESP in userspace (src/esp/dp_user.c) */
    HK_DATAPLANE_LOG = 1,       /* install nothing, log each Child SA */
    HK_DATAPLANE_XFRM = 2,      /* the kernel's ESP (src/esp/dp_xfrm.c); userspace if refused */
    HK_DATAPLANE_AUTO = 3,      /* XFRM when the kernel takes ESP SAs, else userspace */
};

struct hk_daemon_conf {
    struct hk_ip *listen; /* never empty: 0.0.0.0 and :: by default */
    size_t nlisten;
    uint16_t port;      /* IKE */
    uint16_t natt_port; /* IKE and ESP in UDP after NAT detection (RFC 3948) */
    int log_level;      /* enum hk_log_level */
    char *control_socket;
    uint32_t cookie_threshold; /* 0: always demand a cookie */
    uint32_t retransmit_timeout_ms;
    uint32_t retransmit_tries;
    uint32_t half_open_timeout;
    /* Unauthenticated traffic: 0 = no limit for the two counts. */
    uint32_t half_open_max;
    uint32_t half_open_per_address;
    uint32_t max_packet;
    char *keylog_dir;          /* NULL: off */
    uint16_t hand_over_notify; /* notify type of HAND_OVER_CHILD_SAS */
    bool fragmentation;
    bool childless; /* RFC 6023: accept and offer IKE SAs without a child */
    enum hk_dataplane_kind dataplane;
    char *tun_name;       /* NULL: the kernel picks (hike0, hike1, ...) */
    bool tun_offload;     /* large TCP packets through the TUN device (esp/gso.h) */
    uint32_t fwmark;      /* SO_MARK of hiked's sockets; the transport-mode rule skips it */
    uint32_t route_table; /* routing table of the transport-mode peers' routes */
    /* Privilege drop after start-up (src/daemon/privdrop.c); NULL user: hiked stays root. */
    char *user;
    char *group;              /* NULL: the user's primary group */
    char *user_at, *group_at; /* "FILE:LINE: daemon.user", for the daemon's messages */
};

struct hk_config {
    char *path; /* the file loaded, or NULL */
    struct hk_daemon_conf daemon;
    struct hk_conn *conns;
    size_t nconns;
    struct hk_pool *pools;
    size_t npools;
};

/*
 * Loads and checks a configuration. On success *out owns everything (free with
 * hk_config_free). On failure returns HK_E_CONFIG (or HK_E_NOMEM) with a one-line message in
 * err: "hiked.conf:12: connections.office.ike[0]: unknown algorithm 'aes999'". Relative file
 * names in the configuration (certificates, keys, @include) are taken from the directory of
 * path. No certificate or key file is opened here.
 */
int hk_config_load_file(const char *path, struct hk_config **out, char *err, size_t errlen);
/* The same from text (tests, hikectl check); messages name the file "<string>", and relative
 * file names stay relative. */
int hk_config_load_string(const char *text, struct hk_config **out, char *err, size_t errlen);
/* Wipes the PSKs and frees everything; NULL is fine. */
void hk_config_free(struct hk_config *cfg);
/* Wipes and frees every PSK now (conn->psk becomes NULL), for a daemon that has handed them
 * on; hk_config_free does it too. */
void hk_config_wipe_secrets(struct hk_config *cfg);

const struct hk_conn *hk_config_find_conn(const struct hk_config *cfg, const char *name);
const struct hk_pool *hk_config_find_pool(const struct hk_config *cfg, const char *name);
const struct hk_child_conf *hk_conn_find_child(const struct hk_conn *conn, const char *name);

const char *hk_start_action_name(enum hk_start_action a);
const char *hk_sa_action_name(enum hk_sa_action a);

#endif
