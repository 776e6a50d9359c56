/*
 * IKE SA authentication (RFC 7296 2.15): the octets each side signs or MACs, and the
 * pre-shared key AUTH value. Signatures are in crypto/sig.h.
 */
#ifndef HIKE_CRYPTO_AUTH_H
#define HIKE_CRYPTO_AUTH_H

#include "common/cbb.h"
#include "crypto/crypto.h"

#include <stddef.h>
#include <stdint.h>

/* The largest PSK AUTH value (HMAC-SHA2-512). */
#define HK_AUTH_PSK_MAX 64

/*
 * Appends the signed octets RealMessage | NonceOfPeer | prf(SK_p, RestOfIDPayload) to out.
 * prf: HK_PRF_HMAC_SHA2_*; real_msg: the whole IKE_SA_INIT message this side sent, from the
 * first SPI octet (no non-ESP marker); peer_nonce: the peer's Nonce Data; sk_p: SK_pi or
 * SK_pr of the signer; id_body: ID Type | RESERVED(3) | Identification Data of the signer.
 */
int hk_auth_octets(const struct hk_crypto *c, uint16_t prf, const uint8_t *real_msg, size_t mlen,
                   const uint8_t *peer_nonce, size_t nlen, const uint8_t *sk_p, size_t sklen,
                   const uint8_t *id_body, size_t idlen, struct hk_cbb *out);

/*
 * AUTH = prf(prf(Shared Secret, "Key Pad for IKEv2"), octets) (RFC 7296 2.15).
 * *outlen: on input the room in out, on output the AUTH length (the PRF output length);
 * HK_E_OVERFLOW when out is too small (HK_AUTH_PSK_MAX always suffices).
 */
int hk_auth_psk_compute(const struct hk_crypto *c, uint16_t prf, const uint8_t *psk, size_t psklen,
                        const uint8_t *octets, size_t olen, uint8_t *out, size_t *outlen);
/*
 * prf(Shared Secret, "Key Pad for IKEv2") (RFC 7296 2.15): it depends on the PSK and the PRF
 * only, so a caller may keep it (as a secret) for every SA of a connection.
 * hk_prf_out_len(prf) octets into out.
 */
int hk_auth_psk_pad(const struct hk_crypto *c, uint16_t prf, const uint8_t *psk, size_t psklen,
                    uint8_t *out);
/*
 * AUTH = prf(pad, RealMessage | NonceOfPeer | prf(SK_p, RestOfIDPayload)) with pad from
 * hk_auth_psk_pad: hk_auth_psk_compute of hk_auth_octets, without building the octets.
 * *outlen as for hk_auth_psk_compute.
 */
int hk_auth_psk_from_pad(const struct hk_crypto *c, uint16_t prf, const uint8_t *pad, size_t padlen,
                         const uint8_t *real_msg, size_t mlen, const uint8_t *peer_nonce,
                         size_t nlen, const uint8_t *sk_p, size_t sklen, const uint8_t *id_body,
                         size_t idlen, uint8_t *out, size_t *outlen);
/* 0 when auth is the PSK AUTH value for octets, HK_E_AUTH otherwise (constant time). */
int hk_auth_psk_verify(const struct hk_crypto *c, uint16_t prf, const uint8_t *psk, size_t psklen,
                       const uint8_t *octets, size_t olen, const uint8_t *auth, size_t alen);

#endif
