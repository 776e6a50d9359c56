/*
 * Proposal strings of hiked.conf ("aes256gcm16-prfsha256-x25519", "aes128-sha256-esn") parsed
 * into the IKEv2 transform IDs of src/crypto/alg.h, and back. The syntax is in docs/config.md:
 * algorithm keywords joined by '-', in any order; the order of keywords of one transform type
 * is the order of preference.
 */
#ifndef HIKE_CONFIG_PROPOSAL_H
#define HIKE_CONFIG_PROPOSAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Protocol IDs of RFC 7296 3.3.1. */
enum hk_proposal_proto {
    HK_PROPOSAL_IKE = 1,
    HK_PROPOSAL_ESP = 3,
};

/* Most algorithms of one transform type in one proposal. */
#define HK_PROPOSAL_MAX_ALGS 8

struct hk_encr_conf {
    uint16_t id;       /* enum hk_encr_id */
    uint16_t key_bits; /* Key Length attribute; 0 = none (ChaCha20-Poly1305, RFC 7634 2) */
};

struct hk_proposal_conf {
    int proto; /* enum hk_proposal_proto */
    uint8_t nencr, nprf, ninteg, nke, nesn;
    struct hk_encr_conf encr[HK_PROPOSAL_MAX_ALGS];
    uint16_t prf[HK_PROPOSAL_MAX_ALGS];   /* enum hk_prf_id; IKE only */
    uint16_t integ[HK_PROPOSAL_MAX_ALGS]; /* enum hk_integ_id; none with AEAD ciphers */
    uint16_t ke[HK_PROPOSAL_MAX_ALGS];    /* enum hk_ke_id; ESP: optional (PFS) */
    uint8_t esn[2];                       /* enum hk_esn_id; ESP only */
};

/*
 * Parses one proposal for proto (HK_PROPOSAL_IKE or HK_PROPOSAL_ESP). The result is complete:
 * an IKE proposal has encr, prf, ke and (unless AEAD) integ; when no prf keyword is given the
 * PRFs follow the integrity algorithms (sha256 -> prfsha256). An ESP proposal without esn or
 * noesn gets noesn. Returns 0 or HK_E_CONFIG with a message in err.
 */
int hk_proposal_parse(const char *s, int proto, struct hk_proposal_conf *out, char *err,
                      size_t errlen);

/* Canonical text: encr, integ, prf, ke, esn keywords in that order; prf always written for IKE,
 * esn omitted for ESP when it is only noesn. parse(format(p)) == p. 0 or HK_E_OVERFLOW. */
int hk_proposal_format(const struct hk_proposal_conf *p, char *buf, size_t len);

/* Whether the proposal's ciphers are AEAD (GCM, ChaCha20-Poly1305). */
bool hk_proposal_is_aead(const struct hk_proposal_conf *p);

/* Room for any hk_proposal_format output. */
#define HK_PROPOSAL_STRLEN 512

#endif
