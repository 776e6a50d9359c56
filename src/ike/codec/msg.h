/*
 * IKEv2 message model (RFC 7296 section 3, RFC 7383 SKF).
 *
 * Decoding is pure: it reads a buffer through a bounded cursor and builds a
 * message whose variable fields are views into that buffer (no copies), with
 * arrays allocated from a caller-owned arena. The buffer and the arena must
 * outlive the message. Encoding writes the same structure back;
 * encode(decode(x)) == x for every valid x, including unknown payloads and
 * critical bits, so nothing is lost on the way through.
 */
#ifndef HIKE_IKE_CODEC_MSG_H
#define HIKE_IKE_CODEC_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/cbb.h"
#include "common/diag.h"
#include "common/ts.h"

#define IKE_HDR_LEN         28
#define IKE_GENERIC_HDR_LEN 4
#define IKE_SPI_LEN         8
#define IKE_MAJOR_VERSION   2
/* Decoders refuse more than this many payloads/substructures in one container. */
#define IKE_MAX_ITEMS 256

/* RFC 7296 3.2 payload types. */
enum ike_payload_type {
    IKE_PL_NONE = 0,
    IKE_PL_SA = 33,
    IKE_PL_KE = 34,
    IKE_PL_IDI = 35,
    IKE_PL_IDR = 36,
    IKE_PL_CERT = 37,
    IKE_PL_CERTREQ = 38,
    IKE_PL_AUTH = 39,
    IKE_PL_NONCE = 40,
    IKE_PL_NOTIFY = 41,
    IKE_PL_DELETE = 42,
    IKE_PL_VENDOR = 43,
    IKE_PL_TSI = 44,
    IKE_PL_TSR = 45,
    IKE_PL_SK = 46,
    IKE_PL_CP = 47,
    IKE_PL_EAP = 48,
    IKE_PL_SKF = 53, /* RFC 7383 */
};

/* RFC 7296 3.1 exchange types (and RFC 7383's use of them). */
enum ike_exchange_type {
    IKE_SA_INIT = 34,
    IKE_AUTH = 35,
    IKE_CREATE_CHILD_SA = 36,
    IKE_INFORMATIONAL = 37,
    IKE_SESSION_RESUME = 38,
};

/* RFC 7296 3.1 header flags. */
#define IKE_FLAG_INITIATOR 0x08
#define IKE_FLAG_VERSION   0x10
#define IKE_FLAG_RESPONSE  0x20
/* RFC 7296 3.2: critical bit in the generic payload header. */
#define IKE_PL_CRITICAL 0x80

/* A non-owning view of bytes inside the decoded buffer (or of the caller's data when encoding). */
struct ike_view {
    const uint8_t *p;
    size_t len;
};

struct ike_hdr {
    uint8_t spi_i[IKE_SPI_LEN];
    uint8_t spi_r[IKE_SPI_LEN];
    uint8_t next_payload; /* filled by the decoder; the encoder computes it */
    uint8_t version;      /* major << 4 | minor; 0x20 for IKEv2 */
    uint8_t exchange;
    uint8_t flags;
    uint32_t msg_id;
    uint32_t length; /* filled by the decoder; the encoder computes it */
};

/* RFC 7296 3.3.5: a transform attribute, TV (short) or TLV. */
#define IKE_ATTR_KEY_LENGTH 14
#define IKE_ATTR_MAX        4 /* per transform; more is refused as INVALID_SYNTAX */
struct ike_attr {
    uint16_t type; /* without the AF bit */
    bool tv;       /* AF=1: value holds the data */
    uint16_t value;
    struct ike_view data; /* for TLV */
};

/* RFC 7296 3.3.2 transform types. */
enum ike_transform_type {
    IKE_TRANS_ENCR = 1,
    IKE_TRANS_PRF = 2,
    IKE_TRANS_INTEG = 3,
    IKE_TRANS_KE = 4, /* "D-H" in RFC 7296 */
    IKE_TRANS_ESN = 5,
};

struct ike_transform {
    uint8_t type;
    uint16_t id;
    uint8_t reserved[2]; /* the two RESERVED octets, ignored on receipt, kept for round trips */
    uint8_t nattrs;
    struct ike_attr attrs[IKE_ATTR_MAX];
};

/* RFC 7296 3.3.1 protocol IDs. */
enum ike_protocol_id {
    IKE_PROTO_IKE = 1,
    IKE_PROTO_AH = 2,
    IKE_PROTO_ESP = 3,
};

struct ike_proposal {
    uint8_t num;
    uint8_t protocol;
    uint8_t reserved;    /* ignored on receipt, kept for round trips */
    struct ike_view spi; /* 0, 4 or 8 octets */
    size_t ntransforms;
    struct ike_transform *transforms;
};

struct ike_pl_sa {
    size_t nproposals;
    struct ike_proposal *proposals;
};

struct ike_pl_ke {
    uint16_t group;
    uint8_t reserved[2]; /* ignored on receipt, kept for round trips */
    struct ike_view data;
};

/* IDi / IDr (3.5). */
enum ike_id_type {
    IKE_ID_IPV4_ADDR = 1,
    IKE_ID_FQDN = 2,
    IKE_ID_RFC822_ADDR = 3,
    IKE_ID_IPV6_ADDR = 5,
    IKE_ID_DER_ASN1_DN = 9,
    IKE_ID_DER_ASN1_GN = 10,
    IKE_ID_KEY_ID = 11,
};
struct ike_pl_id {
    uint8_t type;
    uint8_t reserved[3]; /* kept for round trips; they are part of the AUTH octets (2.15) */
    struct ike_view data;
};

/* CERT / CERTREQ (3.6, 3.7). */
enum ike_cert_encoding {
    IKE_CERT_X509_SIG = 4,
    IKE_CERT_X509_CRL = 7,
    IKE_CERT_HASH_URL_X509 = 12,
    IKE_CERT_HASH_URL_BUNDLE = 13,
};
struct ike_pl_cert {
    uint8_t encoding;
    struct ike_view data;
};

/* AUTH (3.8). */
enum ike_auth_method {
    IKE_AUTH_RSA_SIG = 1,
    IKE_AUTH_SHARED_KEY = 2,
    IKE_AUTH_DSS_SIG = 3,
    IKE_AUTH_ECDSA_256 = 9,
    IKE_AUTH_ECDSA_384 = 10,
    IKE_AUTH_ECDSA_521 = 11,
    IKE_AUTH_DIGITAL_SIGNATURE = 14, /* RFC 7427 */
};
struct ike_pl_auth {
    uint8_t method;
    uint8_t reserved[3];
    struct ike_view data;
};

struct ike_pl_nonce {
    struct ike_view data; /* 16..256 octets (3.9), checked by the decoder */
};

struct ike_pl_notify {
    uint8_t protocol;
    struct ike_view spi; /* spi.len is the SPI Size field */
    uint16_t type;
    struct ike_view data;
};

struct ike_pl_delete {
    uint8_t protocol;
    uint8_t spi_size;
    uint16_t nspis;
    struct ike_view spis; /* nspis * spi_size octets */
};

struct ike_pl_vendor {
    struct ike_view id;
};

/* Traffic selectors (3.13.1): struct ike_ts is in common/ts.h. */
struct ike_pl_ts {
    uint8_t reserved[3];
    size_t nts;
    struct ike_ts *ts;
    /* Set by the decoder only when a selector has a type the model cannot hold: the
     * selectors as received, which the encoder then writes back unchanged. */
    struct ike_view raw;
};

/* SK (3.14): IV | encrypted payloads and padding | ICV, still protected. */
struct ike_pl_sk {
    uint8_t first_inner; /* Next Payload field: type of the first encrypted payload */
    struct ike_view body;
};

/* SKF (RFC 7383 2.5). */
struct ike_pl_skf {
    uint8_t first_inner; /* non-zero only in fragment 1 */
    uint16_t frag_num;
    uint16_t total_frags;
    struct ike_view body; /* IV | encrypted | ICV */
};

/* CP (3.15). */
enum ike_cfg_type {
    IKE_CFG_REQUEST = 1,
    IKE_CFG_REPLY = 2,
    IKE_CFG_SET = 3,
    IKE_CFG_ACK = 4,
};
enum ike_cfg_attr_type {
    IKE_CFG_INTERNAL_IP4_ADDRESS = 1,
    IKE_CFG_INTERNAL_IP4_NETMASK = 2,
    IKE_CFG_INTERNAL_IP4_DNS = 3,
    IKE_CFG_INTERNAL_IP4_NBNS = 4,
    IKE_CFG_INTERNAL_IP4_DHCP = 6,
    IKE_CFG_APPLICATION_VERSION = 7,
    IKE_CFG_INTERNAL_IP6_ADDRESS = 8,
    IKE_CFG_INTERNAL_IP6_DNS = 10,
    IKE_CFG_INTERNAL_IP6_DHCP = 12,
    IKE_CFG_INTERNAL_IP4_SUBNET = 13,
    IKE_CFG_SUPPORTED_ATTRIBUTES = 14,
    IKE_CFG_INTERNAL_IP6_SUBNET = 15,
};
struct ike_cfg_attr {
    uint16_t type; /* 15 bits, without the R bit */
    bool r_bit;    /* R: MUST be sent as zero, ignored on receipt (3.15.1); kept for round trips */
    struct ike_view value;
};
struct ike_pl_cp {
    uint8_t cfg_type;
    uint8_t reserved[3];
    size_t nattrs;
    struct ike_cfg_attr *attrs;
};

struct ike_pl_eap {
    struct ike_view msg; /* the whole EAP message: Code, Identifier, Length, Type, data */
};

/* A payload this codec does not know; kept so that it can be re-encoded. */
struct ike_pl_unknown {
    struct ike_view body;
};

struct ike_payload {
    uint8_t type;
    bool critical;
    /* The 7 RESERVED bits after C: ignored on receipt (3.2), kept for round trips. */
    uint8_t reserved;
    union {
        struct ike_pl_sa sa;
        struct ike_pl_ke ke;
        struct ike_pl_id id;
        struct ike_pl_cert cert; /* CERT and CERTREQ */
        struct ike_pl_auth auth;
        struct ike_pl_nonce nonce;
        struct ike_pl_notify notify;
        struct ike_pl_delete del;
        struct ike_pl_vendor vendor;
        struct ike_pl_ts ts; /* TSi and TSr */
        struct ike_pl_sk sk;
        struct ike_pl_skf skf;
        struct ike_pl_cp cp;
        struct ike_pl_eap eap;
        struct ike_pl_unknown unknown;
    } u;
};

struct ike_msg {
    struct ike_hdr hdr;
    size_t npayloads;
    struct ike_payload *payloads;
    /* Set when an unknown payload carries the critical bit (2.5): the exchange layer
     * answers UNSUPPORTED_CRITICAL_PAYLOAD with this type. 0 when none. */
    uint8_t unknown_critical;
};

/* ---- decoding ---- */

/*
 * Decodes the IKE header only (for dispatch before anything else). Checks len >= 28,
 * the major version and that the Length field is >= 28 (not that it equals len).
 * A major version above 2 gives HK_E_UNSUPPORTED with hdr filled in, so that the
 * caller can answer INVALID_MAJOR_VERSION (3.1, 2.5); below 2, HK_E_SYNTAX.
 */
int ike_hdr_decode(const uint8_t *buf, size_t len, struct ike_hdr *hdr, struct hk_diag *d);
/*
 * Writes the 28-octet header with first as its next payload and reserves the 4-octet
 * length at *len_pos, for a caller that lays out the payloads itself and fills the length
 * last (the SK payload is sealed in place, ike/sk_msg.c).
 */
int ike_hdr_encode(const struct ike_hdr *hdr, uint8_t first, struct hk_cbb *out, size_t *len_pos);

/*
 * Decodes a whole message: header and the payload chain up to and including an SK
 * or SKF payload, which must be last (3.14). The header's length must equal len.
 * Returns 0, or HK_E_SHORT / HK_E_LENGTH / HK_E_SYNTAX / HK_E_NOMEM with the reason in d;
 * HK_E_UNSUPPORTED for a major version above 2 (see ike_hdr_decode). A traffic selector
 * of a type other than 7 and 8 is kept with its type only (see struct ike_pl_ts).
 * An unknown critical payload is not an error here: see msg->unknown_critical.
 */
int ike_msg_decode(const uint8_t *buf, size_t len, struct ike_msg *msg, struct hk_arena *a,
                   struct hk_diag *d);

/*
 * Decodes a chain of payloads starting with type first (the decrypted content of SK)
 * and appends them to msg (which is unchanged on failure). An SK or SKF inside it is
 * refused. Errors as for ike_msg_decode.
 */
int ike_payloads_decode(uint8_t first, const uint8_t *buf, size_t len, struct ike_msg *msg,
                        struct hk_arena *a, struct hk_diag *d);

/* ---- encoding ---- */

/*
 * Encodes header and payloads. Next-payload fields and all lengths are computed;
 * hdr.next_payload and hdr.length are ignored. An SK/SKF payload, if present, must be
 * last; its body is written as given and its Next Payload is first_inner.
 * Other fields are written as given, unchecked (so tests can build malformed
 * messages); HK_E_INVALID when something cannot be represented (SK not last, payload
 * type 0, an SPI over 255 octets, ...), HK_E_OVERFLOW when a length exceeds its field
 * or the writer's limit. On HK_E_INVALID out is left as it was.
 */
int ike_msg_encode(const struct ike_msg *msg, struct hk_cbb *out);

/*
 * Encodes a payload chain without header (the plaintext of SK); *first gets the
 * type of the first payload (IKE_PL_NONE when n == 0).
 */
int ike_payloads_encode(const struct ike_payload *pl, size_t n, uint8_t *first, struct hk_cbb *out);

/* ---- helpers ---- */

/* First payload of a type at or after index *from (NULL when none); *from is advanced past it. */
const struct ike_payload *ike_msg_find(const struct ike_msg *msg, uint8_t type, size_t *from);
/* First notify of a given type, or NULL. */
const struct ike_pl_notify *ike_msg_find_notify(const struct ike_msg *msg, uint16_t type);

const char *ike_payload_name(uint8_t type); /* "SA", "KE", ..., "UNKNOWN" */
/* True for the payload types this codec decodes; others are kept in u.unknown. */
bool ike_payload_known(uint8_t type);
const char *ike_exchange_name(uint8_t type); /* "IKE_SA_INIT", ... */

#endif
