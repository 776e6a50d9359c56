/*
 * NETLINK_XFRM requests (<linux/xfrm.h>) built with libmnl into a caller buffer: ESP SAs
 * (XFRM_MSG_NEWSA / DELSA / GETSA) and policies (XFRM_MSG_NEWPOLICY / DELPOLICY). Pure
 * functions: no socket, no allocation. Every function checks the room left before it
 * writes, so a buffer too small gives HK_E_OVERFLOW, never an overrun; on any error the
 * buffer is wiped (a half-built NEWSA holds keys).
 *
 * A NEWSA buffer holds keys: the caller wipes it (hk_wipe) once the request is sent.
 */
#ifndef HIKE_ESP_XFRM_MSG_H
#define HIKE_ESP_XFRM_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h> /* before <linux/xfrm.h>: glibc's definitions win */
#include <linux/xfrm.h>

#include "esp/xfrm_sel.h"

/* Room for any request built here (the largest is a NEWSA with a 4096-packet window). */
#define HK_XFRM_MSG_MAX 2048
/* The widest replay window the kernel takes (XFRMA_REPLAY_ESN_MAX: 128 words of bitmap). */
#define HK_XFRM_MAX_WINDOW 4096u
/* Windows up to this size fit the legacy one-word field of xfrm_usersa_info. */
#define HK_XFRM_LEGACY_WINDOW 32u

/* The kernel's names for hike's ESP transforms (RFC 4106, RFC 7634, RFC 3602, RFC 4868). */
#define HK_XFRM_ALG_GCM    "rfc4106(gcm(aes))"
#define HK_XFRM_ALG_CHACHA "rfc7539esp(chacha20,poly1305)"
#define HK_XFRM_ALG_CBC    "cbc(aes)"
#define HK_XFRM_ALG_SHA256 "hmac(sha256)"
#define HK_XFRM_ALG_SHA384 "hmac(sha384)"
#define HK_XFRM_ALG_SHA512 "hmac(sha512)"

/*
 * The counters an SA continues from when it moved here from another owner (another process
 * or node): the kernel takes them with the SA (XFRMA_REPLAY_ESN_VAL, XFRMA_LTIME_VAL), so
 * that no sequence number is used twice and no replayed packet is taken.
 */
struct hk_xfrm_sa_state {
    uint64_t oseq;           /* outbound: the last sequence number used */
    uint64_t top;            /* inbound: the highest authenticated sequence number */
    const uint64_t *bits;    /* inbound window: bit j = top - j received (hk_replay_export); NULL:
                                none */
    uint32_t nbits;          /* bits valid in bits (the exporter's window) */
    uint64_t bytes, packets; /* used so far in this SA's direction */
};

/* One direction of an ESP SA. */
struct hk_xfrm_sa {
    int family;               /* of the outer addresses: AF_INET or AF_INET6 */
    uint8_t src[16], dst[16]; /* outer addresses: sender and receiver of the ESP packets */
    uint32_t spi;             /* host order */
    uint32_t reqid;           /* ties the SA to its policies' template */
    bool tunnel;              /* XFRM_MODE_TUNNEL, else XFRM_MODE_TRANSPORT */
    /* crypto/alg.h transform IDs as negotiated; integ HK_AUTH_NONE with an AEAD. ekey holds
     * an AEAD's 4-octet salt last, as the kernel wants it. */
    uint16_t encr, encr_key_bits, integ;
    const uint8_t *ekey, *ikey;
    size_t eklen, iklen;
    bool esn;
    /* Packets; at most HK_XFRM_MAX_WINDOW. With ESN the kernel needs at least 1. */
    uint32_t replay_window;
    /* RFC 3948 UDP encapsulation: ports of this SA's ESP packets (sender, receiver). */
    bool encap;
    uint16_t encap_sport, encap_dport;
    /* Volume limits; 0 = none. Time limits are the IKE engine's, never the kernel's. */
    uint64_t soft_bytes, hard_bytes, soft_packets, hard_packets;
    const struct hk_xfrm_sa_state *state; /* NULL: a fresh SA */
};

/* An SA's identity in DELSA and GETSA. */
struct hk_xfrm_sa_id {
    int family;
    uint8_t src[16], dst[16];
    uint32_t spi; /* host order */
};

/* One policy: a selector, a direction and the template of the SA it requires. */
struct hk_xfrm_policy {
    struct hk_xfrm_sel sel; /* as seen in dir (in and fwd: remote -> local) */
    uint8_t dir;            /* XFRM_POLICY_IN, _OUT or _FWD */
    uint32_t priority;
    /* Template: outer family and addresses of the SA (tunnel endpoints), reqid, mode. */
    int family;
    uint8_t tsrc[16], tdst[16];
    uint32_t reqid;
    bool tunnel;
};

/*
 * Each builder writes one request with sequence number seq into buf (cap octets) and sets
 * *len to its length. HK_E_OVERFLOW: buf too small; HK_E_INVALID: a bad argument (family,
 * key length not matching the transform, window too wide); HK_E_UNSUPPORTED: a transform
 * without a kernel name here.
 */
int hk_xfrm_newsa(uint8_t *buf, size_t cap, uint32_t seq, const struct hk_xfrm_sa *sa, size_t *len);
int hk_xfrm_delsa(uint8_t *buf, size_t cap, uint32_t seq, const struct hk_xfrm_sa_id *id,
                  size_t *len);
/* Asks for one SA (no ACK flag: the answer is the SA itself, or an error). */
int hk_xfrm_getsa(uint8_t *buf, size_t cap, uint32_t seq, const struct hk_xfrm_sa_id *id,
                  size_t *len);
int hk_xfrm_newpolicy(uint8_t *buf, size_t cap, uint32_t seq, const struct hk_xfrm_policy *p,
                      size_t *len);
int hk_xfrm_delpolicy(uint8_t *buf, size_t cap, uint32_t seq, const struct hk_xfrm_policy *p,
                      size_t *len);

/* Where a policy's SA template moves (new outer addresses and encapsulation). */
struct hk_xfrm_move {
    int family;
    uint8_t src[16], dst[16];
    bool encap;
    uint16_t encap_sport, encap_dport;
};

/*
 * XFRM_MSG_UPDSA: the same SA (daddr, SPI) with new encapsulation ports or limits; the kernel
 * keeps its keys and counters. Outer addresses do not change this way: see hk_xfrm_migrate.
 */
int hk_xfrm_updsa(uint8_t *buf, size_t cap, uint32_t seq, const struct hk_xfrm_sa *sa, size_t *len);
/*
 * XFRM_MSG_MIGRATE: policy p (selector, direction, template with the old outer addresses)
 * and the SAs of its template move to the addresses of to (MOBIKE, hand-over), keeping keys
 * and counters. Needs a kernel with CONFIG_XFRM_MIGRATE.
 */
int hk_xfrm_migrate(uint8_t *buf, size_t cap, uint32_t seq, const struct hk_xfrm_policy *p,
                    const struct hk_xfrm_move *to, size_t *len);

/*
 * A per-socket policy that lets the socket's traffic bypass IPsec in dir (XFRM_POLICY_IN
 * or _OUT): IKE packets must never be caught by the SAs they negotiate. Fills out for
 * setsockopt(IP_XFRM_POLICY / IPV6_XFRM_POLICY).
 */
void hk_xfrm_bypass(uint8_t dir, struct xfrm_userpolicy_info *out);

#endif
