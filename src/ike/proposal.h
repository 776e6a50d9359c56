/*
 * SA proposals (RFC 7296 2.7, 3.3): building the SA payload we offer from the
 * configured proposals, choosing one proposal from a peer's offer, and checking
 * that a responder's choice is one we offered.
 */
#ifndef HIKE_IKE_PROPOSAL_H
#define HIKE_IKE_PROPOSAL_H

#include <stdbool.h>

#include "common/arena.h"
#include "config/proposal.h"
#include "ike/codec/msg.h"

/* The transforms of one accepted proposal. 0 where a type is absent. */
struct ike_chosen {
    uint8_t num;      /* proposal number as offered */
    uint8_t protocol; /* IKE_PROTO_IKE or IKE_PROTO_ESP */
    uint8_t spi_len;
    uint8_t spi[8]; /* the offerer's SPI (ESP: 4 octets; IKE rekey: 8) */
    uint16_t encr, encr_key_bits, prf, integ, ke;
    uint8_t esn; /* HK_ESN_NO or HK_ESN_YES */
};

/*
 * Builds an SA payload from configured proposals, numbered from 1, each with the
 * given SPI (spi_len 0 in IKE_SA_INIT, 4 for ESP, 8 for an IKE rekey). With no_ke,
 * KE transforms are left out (the Child SA of IKE_AUTH has none, 1.2).
 */
int ike_sa_build(const struct hk_proposal_conf *conf, size_t n, uint8_t protocol,
                 const uint8_t *spi, size_t spi_len, bool no_ke, struct hk_arena *a,
                 struct ike_pl_sa *out);

/* A one-proposal SA payload carrying what was chosen (the responder's answer). */
int ike_sa_build_chosen(const struct ike_chosen *c, const uint8_t *spi, size_t spi_len,
                        struct hk_arena *a, struct ike_pl_sa *out);

/*
 * The responder's choice (2.7): the first of the peer's proposals of the given
 * protocol for which every transform type can be matched by one configured
 * proposal, taking per type the peer's first acceptable transform. With ignore_ke,
 * KE transforms do not have to match (IKE_AUTH). HK_E_NOTFOUND when nothing fits
 * (NO_PROPOSAL_CHOSEN).
 */
int ike_sa_choose(const struct ike_pl_sa *offer, const struct hk_proposal_conf *conf, size_t n,
                  uint8_t protocol, bool ignore_ke, struct ike_chosen *out);

/*
 * The initiator's check of a response: exactly one proposal, with one transform per
 * type, and that set acceptable to our configuration. HK_E_SYNTAX otherwise.
 */
int ike_sa_check_reply(const struct ike_pl_sa *reply, const struct hk_proposal_conf *conf, size_t n,
                       uint8_t protocol, bool ignore_ke, struct ike_chosen *out);

/* True when the configured proposals allow KE group g (for INVALID_KE_PAYLOAD, 1.2). */
bool ike_conf_allows_ke(const struct hk_proposal_conf *conf, size_t n, uint16_t g);

/* "AES_GCM_16_256/PRF_HMAC_SHA2_256/CURVE_25519" style text for logs and hikectl. */
char *ike_chosen_format(const struct ike_chosen *c, char *buf, size_t len);

#endif
