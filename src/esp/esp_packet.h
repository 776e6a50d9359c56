/*
 * ESP packet protection (RFC 4303) for one direction of one IPsec SA: the packet
 * layout, padding, IVs and ICV placement, over the transforms the IKE side also uses:
 * AES-GCM-16 (RFC 4106), ChaCha20-Poly1305 (RFC 7634), both through hk_sk_cipher, and
 * AES-CBC (RFC 3602) with HMAC-SHA2 (RFC 4868), done here because with ESN the ICV
 * input ends with the high sequence bits (RFC 4303 2.2.1, 3.3.2.1), which
 * hk_sk_cipher's aad | iv | ciphertext MAC cannot express.
 *
 *   SPI(4) | Seq(4, low 32 bits) | IV | E(payload | TFC pad | pad | pad len | NH) | ICV
 *
 * Anti-replay and sequence number inference are the caller's (the SA's replay window):
 * encap is told the 64-bit sequence number to send, decap the 64-bit number the window
 * inferred from the low 32 bits on the wire (RFC 4303 A2.2).
 *
 * The per-packet path allocates nothing: contexts are keyed once at init, encap writes
 * into the caller's buffer, decap decrypts in place. (One exception below this code: with
 * AES-CBC, OpenSSL 3.0's HMAC allocates a digest context on each re-init and final; the
 * AEADs allocate nothing at all. test_esp_packet counts OpenSSL's allocations.)
 * One object is not thread-safe.
 */
#ifndef HIKE_ESP_ESP_PACKET_H
#define HIKE_ESP_ESP_PACKET_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "crypto/sk_cipher.h"

#define HK_ESP_HDR_LEN     8  /* SPI + sequence number (RFC 4303 2) */
#define HK_ESP_NH_IPV4     4  /* tunnel mode, inner IPv4 */
#define HK_ESP_NH_IPV6     41 /* tunnel mode, inner IPv6 */
#define HK_ESP_NH_NONE     59 /* "no next header": a TFC dummy packet (RFC 4303 2.6) */
#define HK_ESP_MAX_IV_LEN  16
#define HK_ESP_MAX_ICV_LEN 32

/* One direction of an ESP SA: fill with hk_esp_sa_crypto_init, release with _clear. */
struct hk_esp_sa_crypto {
    uint32_t spi;  /* host order */
    bool esn;      /* extended (64-bit) sequence numbers negotiated */
    bool iv_spent; /* see iv_next */
    /* at most 16, 16 and 32: octets are enough (one of these per SA and direction) */
    uint8_t iv_len, align, icv_len;
    struct hk_sk_cipher *aead; /* AES-GCM-16, ChaCha20-Poly1305; NULL for CBC */
    /* AES-CBC + HMAC-SHA2: cipher contexts and the MAC, keyed once. */
    EVP_CIPHER_CTX *cbc_enc, *cbc_dec;
    EVP_MAC_CTX *mac;
    /*
     * CBC IVs come from crypto's buffered source (hk_crypto_random): RAND_bytes per packet
     * would cost OpenSSL 3.0's getpid() system call each time. The init's c; NULL for an
     * AEAD.
     */
    const struct hk_crypto *crypto;
    /*
     * AEAD IVs (RFC 4106 8.1 allows a counter): hk_esp_encap uses max(iv_next, seq), then
     * iv_next = that + 1. The IV therefore never repeats under the key, and equals the
     * sequence number in normal operation, so a new owner that jumps the sequence number
     * after a take-over also jumps the IV. iv_spent: UINT64_MAX was used, no IV is left.
     */
    uint64_t iv_next;
};

/*
 * encr/key_bits/integ: crypto/alg.h IDs as negotiated (integ HK_AUTH_NONE with an AEAD).
 * ekey: hk_encr_key_len octets (an AEAD's 4-octet salt last); ikey: hk_integ_key_len
 * octets, or NULL/0 with an AEAD. The keys are copied into OpenSSL contexts; the caller
 * may wipe its copies. With AES-CBC, encap draws IVs from c: c must outlive sa and be used
 * by sa's thread only. HK_E_INVALID / HK_E_UNSUPPORTED as hk_sk_cipher_new.
 */
int hk_esp_sa_crypto_init(struct hk_esp_sa_crypto *sa, const struct hk_crypto *c, uint32_t spi,
                          bool esn, uint16_t encr, uint16_t key_bits, uint16_t integ,
                          const uint8_t *ekey, size_t eklen, const uint8_t *ikey, size_t iklen);
/* Frees the contexts (their key schedules are cleansed) and zeroes sa; a zeroed sa is fine. */
void hk_esp_sa_crypto_clear(struct hk_esp_sa_crypto *sa);

/* Octets before the payload in an ESP packet: SPI, sequence number and IV. */
size_t hk_esp_hdr_len(const struct hk_esp_sa_crypto *sa);
/* Exact length of the ESP packet hk_esp_encap writes for plen + tfc_pad payload octets. */
size_t hk_esp_packet_len(const struct hk_esp_sa_crypto *sa, size_t plen, size_t tfc_pad);
/*
 * The largest payload (inner packet for tunnel mode) whose ESP packet fits in room octets
 * (the path MTU minus the outer IP header, and minus 8 for UDP encapsulation, RFC 3948);
 * 0 when not even an empty payload fits.
 */
size_t hk_esp_max_payload(const struct hk_esp_sa_crypto *sa, size_t room);

/*
 * Reads the SPI and the low 32 bits of the sequence number (host order) of a received
 * packet, to find its SA and infer the 64-bit number. HK_E_SHORT under 8 octets.
 */
int hk_esp_peek_spi(const uint8_t *pkt, size_t len, uint32_t *spi, uint32_t *seq_lo);

/*
 * Builds SPI | seq(32) | IV | ciphertext | ICV into out (RFC 4303 2). The plaintext is
 * payload, tfc_pad zero octets of TFC padding (RFC 4303 2.7; 0 for none; tunnel mode only,
 * where the inner IP header gives the real length), then the minimum padding 1, 2, 3...
 * (2.4) that aligns the ciphertext to 4 octets (AEAD) or the 16-octet block (CBC), the pad
 * length and next_header (4 or 41 in tunnel mode, the upper-layer protocol in transport
 * mode, 59 for a dummy packet). With ESN the high 32 bits of seq are authenticated but not
 * sent (2.2.1). The IV: see iv_next for an AEAD; random for CBC (RFC 3602 2.4), drawn from
 * the buffered source of the c given to init.
 *
 * payload may already sit at out + hk_esp_hdr_len(sa) (zero copy) or anywhere else in out
 * (it is moved into place before anything else is written). *outlen = hk_esp_packet_len.
 * HK_E_OVERFLOW when outcap is too small or the AEAD IVs are used up, HK_E_INVALID for bad
 * arguments.
 */
int hk_esp_encap(struct hk_esp_sa_crypto *sa, uint64_t seq, uint8_t next_header,
                 const uint8_t *payload, size_t plen, size_t tfc_pad, uint8_t *out, size_t outcap,
                 size_t *outlen);
/*
 * As hk_esp_encap with the caller's IV (hk_sk_cipher_iv_len octets; 8 for an AEAD, 16 for
 * CBC) and iv_next untouched: for known-answer tests, and for callers that keep their own
 * IV discipline. The IV MUST never repeat under one AEAD key (RFC 4106 3.1).
 */
int hk_esp_encap_iv(struct hk_esp_sa_crypto *sa, uint64_t seq, const uint8_t *iv,
                    uint8_t next_header, const uint8_t *payload, size_t plen, size_t tfc_pad,
                    uint8_t *out, size_t outcap, size_t *outlen);

/*
 * Verifies and decrypts a received ESP packet in place. seq is the 64-bit sequence number
 * the caller's replay window inferred; its low 32 bits must equal the packet's (else
 * HK_E_INVALID). The SPI is authenticated as received, not compared with sa->spi: a
 * packet of another SA fails with HK_E_AUTH. Only after HK_OK may the caller update its replay
 * window (RFC 4303 3.4.3).
 *
 * Errors: HK_E_SHORT (shorter than header + IV + pad length/next header + ICV),
 * HK_E_LENGTH (ciphertext not aligned as the cipher needs), HK_E_AUTH (ICV mismatch;
 * nothing decrypted is exposed), HK_E_PADDING (authenticated, but the pad length overruns
 * the plaintext or the padding is not 1, 2, 3..., RFC 4303 2.4).
 *
 * On HK_OK, *payload and *plen point into pkt at the decrypted payload (with any TFC padding:
 * tunnel mode trims it by the inner IP length) and *next_header is the Next Header field.
 * *next_header == HK_ESP_NH_NONE (59) is a TFC dummy packet (RFC 4303 2.6): valid and
 * authenticated (so it counts for anti-replay), but the caller MUST drop it silently.
 */
int hk_esp_decap(struct hk_esp_sa_crypto *sa, uint64_t seq, uint8_t *pkt, size_t len,
                 const uint8_t **payload, size_t *plen, uint8_t *next_header);

#endif
