/*
 * Protecting and unprotecting whole IKE messages: the SK payload (RFC 7296 3.14,
 * RFC 5282) and the SKF fragment payload (RFC 7383 2.5). This is where the codec
 * meets the SK cipher; the exchange layer sees only inner payloads.
 */
#ifndef HIKE_IKE_SK_MSG_H
#define HIKE_IKE_SK_MSG_H

#include "crypto/sk_cipher.h"
#include "ike/codec/msg.h"

/*
 * Builds a message whose only payload is SK{inner}: header fields from hdr
 * (next payload and length are computed), inner payloads encoded, padded, sealed
 * with a fresh random IV. The result is appended to out.
 */
int ike_sk_seal(struct hk_sk_cipher *c, const struct ike_hdr *hdr, const struct ike_payload *inner,
                size_t n, struct hk_cbb *out);

/*
 * As ike_sk_seal, but the whole plaintext is given as octets: payloads | padding | pad
 * length, encrypted exactly as given (plen a multiple of the cipher's block length), with
 * first_inner as the SK payload's Next Payload. A test's way to protect a payload chain,
 * or a padding, that the encoder would never write.
 */
int ike_sk_seal_raw(struct hk_sk_cipher *c, const struct ike_hdr *hdr, uint8_t first_inner,
                    const uint8_t *plain, size_t plen, struct hk_cbb *out);

/*
 * Verifies and decrypts the SK payload of msg, which was decoded from buf by
 * ike_msg_decode (buf is decrypted in place), strips the padding and appends the
 * inner payloads to msg. HK_E_AUTH on an ICV failure (the caller drops the message
 * silently, RFC 7296 2.21.2), HK_E_PADDING / HK_E_LENGTH on a bad layout.
 */
int ike_sk_open(struct hk_sk_cipher *c, uint8_t *buf, size_t len, struct ike_msg *msg,
                struct hk_arena *a, struct hk_diag *d);

/*
 * The first half of ike_sk_open: verifies and decrypts in place; *inner gets the inner
 * payloads, still encoded, without padding (the SK payload's first_inner names the
 * first). HK_E_AUTH when the ICV fails; HK_E_PADDING is the only error that comes
 * after a good ICV (the message is authentic but malformed, 2.21.3); every other error
 * comes before the ICV is checked.
 */
int ike_sk_decrypt(struct hk_sk_cipher *c, uint8_t *buf, size_t len, const struct ike_msg *msg,
                   struct ike_view *inner, struct hk_diag *d);

/* Fragment messages built by ike_skf_seal. */
struct ike_frags {
    size_t n;
    struct hk_cbb *msgs; /* n complete IKE messages, each ready to send */
};
void ike_frags_free(struct ike_frags *f);

/*
 * RFC 7383 2.5: splits the inner content into chunks so that each fragment message
 * is at most max_len octets, and protects each as SKF{chunk}. Fails with
 * HK_E_OVERFLOW when max_len leaves no room for content or more than 65535
 * fragments would be needed.
 */
int ike_skf_seal(struct hk_sk_cipher *c, const struct ike_hdr *hdr, const struct ike_payload *inner,
                 size_t n, size_t max_len, struct ike_frags *out);

/*
 * Verifies and decrypts the SKF payload of one fragment message (decoded from buf,
 * decrypted in place). *chunk points into buf at the fragment's original content.
 * Errors as for ike_sk_decrypt.
 */
int ike_skf_open(struct hk_sk_cipher *c, uint8_t *buf, size_t len, const struct ike_msg *msg,
                 struct ike_view *chunk, struct hk_diag *d);

#endif
