#include "esp/esp_packet.h"
#include "common/err.h"
#include "common/secret.h"
#include "crypto/alg.h"

#include <openssl/core_names.h>
#include <limits.h>
#include <string.h>

#define AEAD_ALIGN 4  /* RFC 4303 2.4: the ciphertext ends on a 4-octet boundary */
#define CBC_BLOCK  16 /* RFC 3602 2.4: IV and alignment are one AES block */
#define MAX_MD     64

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int cbc_init(struct hk_esp_sa_crypto *sa, const struct hk_crypto *c, uint16_t key_bits,
                    uint16_t integ, const uint8_t *ekey, size_t eklen, const uint8_t *ikey,
                    size_t iklen)
{
    const EVP_CIPHER *cipher;
    const EVP_MD *md;
    switch (key_bits) {
    case 128:
        cipher = c->aes128_cbc;
        break;
    case 192:
        cipher = c->aes192_cbc;
        break;
    case 256:
        cipher = c->aes256_cbc;
        break;
    default:
        return HK_E_INVALID;
    }
    /* RFC 4868 2.1: the HMAC output truncated to half the hash length. */
    switch (integ) {
    case HK_AUTH_HMAC_SHA2_256_128:
        md = c->sha256;
        break;
    case HK_AUTH_HMAC_SHA2_384_192:
        md = c->sha384;
        break;
    case HK_AUTH_HMAC_SHA2_512_256:
        md = c->sha512;
        break;
    case HK_AUTH_NONE:
        return HK_E_INVALID; /* ESP here always has integrity (RFC 8221 5) */
    default:
        return HK_E_UNSUPPORTED;
    }
    if (!ekey || eklen != (size_t)EVP_CIPHER_get_key_length(cipher) || !ikey ||
        iklen != (size_t)EVP_MD_get_size(md)) /* RFC 4868 2.1.1: key = hash length */
        return HK_E_INVALID;
    sa->iv_len = CBC_BLOCK;
    sa->crypto = c;
    sa->align = CBC_BLOCK;
    sa->icv_len = (uint8_t)(EVP_MD_get_size(md) / 2);

    sa->cbc_enc = EVP_CIPHER_CTX_new();
    sa->cbc_dec = EVP_CIPHER_CTX_new();
    sa->mac = EVP_MAC_CTX_new(c->hmac);
    if (!sa->cbc_enc || !sa->cbc_dec || !sa->mac)
        return HK_E_NOMEM;
    /* The padding is ESP's own (RFC 4303 2.4), so OpenSSL's is off. */
    if (!EVP_CipherInit_ex2(sa->cbc_enc, cipher, ekey, NULL, 1, NULL) ||
        !EVP_CIPHER_CTX_set_padding(sa->cbc_enc, 0) ||
        !EVP_CipherInit_ex2(sa->cbc_dec, cipher, ekey, NULL, 0, NULL) ||
        !EVP_CIPHER_CTX_set_padding(sa->cbc_dec, 0))
        return HK_E_CRYPTO;
    OSSL_PARAM p[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)EVP_MD_get0_name(md), 0),
        OSSL_PARAM_construct_end()};
    if (!EVP_MAC_init(sa->mac, ikey, iklen, p))
        return HK_E_CRYPTO;
    return HK_OK;
}

int hk_esp_sa_crypto_init(struct hk_esp_sa_crypto *sa, const struct hk_crypto *c, uint32_t spi,
                          bool esn, uint16_t encr, uint16_t key_bits, uint16_t integ,
                          const uint8_t *ekey, size_t eklen, const uint8_t *ikey, size_t iklen)
{
    int rc;
    if (!sa || !c)
        return HK_E_INVALID;
    memset(sa, 0, sizeof(*sa));
    sa->spi = spi;
    sa->esn = esn;
    sa->iv_next = 1; /* the first sequence number (RFC 4303 3.3.3) */
    if (encr == HK_ENCR_AES_CBC) {
        rc = cbc_init(sa, c, key_bits, integ, ekey, eklen, ikey, iklen);
    } else {
        rc = hk_sk_cipher_new(c, encr, key_bits, integ, ekey, eklen, ikey, iklen, &sa->aead);
        if (!rc) {
            sa->iv_len = (uint8_t)hk_sk_cipher_iv_len(sa->aead);
            sa->icv_len = (uint8_t)hk_sk_cipher_icv_len(sa->aead);
            sa->align = AEAD_ALIGN; /* RFC 4106 3, RFC 7634 3: no block alignment */
        }
    }
    if (rc)
        hk_esp_sa_crypto_clear(sa);
    return rc;
}

void hk_esp_sa_crypto_clear(struct hk_esp_sa_crypto *sa)
{
    if (!sa)
        return;
    hk_sk_cipher_free(sa->aead);
    EVP_CIPHER_CTX_free(sa->cbc_enc);
    EVP_CIPHER_CTX_free(sa->cbc_dec);
    EVP_MAC_CTX_free(sa->mac);
    hk_wipe(sa, sizeof(*sa));
}

size_t hk_esp_hdr_len(const struct hk_esp_sa_crypto *sa)
{
    return HK_ESP_HDR_LEN + sa->iv_len;
}

/* Ciphertext octets for body = payload + TFC padding + pad length + next header. */
static size_t ct_len(const struct hk_esp_sa_crypto *sa, size_t body)
{
    return body + (sa->align - body % sa->align) % sa->align;
}

size_t hk_esp_packet_len(const struct hk_esp_sa_crypto *sa, size_t plen, size_t tfc_pad)
{
    return hk_esp_hdr_len(sa) + ct_len(sa, plen + tfc_pad + 2) + sa->icv_len;
}

size_t hk_esp_max_payload(const struct hk_esp_sa_crypto *sa, size_t room)
{
    size_t fixed = hk_esp_hdr_len(sa) + sa->icv_len;
    if (room < fixed + sa->align)
        return 0;
    size_t ct = (room - fixed) / sa->align * sa->align; /* largest aligned ciphertext */
    return ct - 2;
}

int hk_esp_peek_spi(const uint8_t *pkt, size_t len, uint32_t *spi, uint32_t *seq_lo)
{
    if (!pkt || !spi || !seq_lo)
        return HK_E_INVALID;
    if (len < HK_ESP_HDR_LEN)
        return HK_E_SHORT;
    *spi = get32(pkt);
    *seq_lo = get32(pkt + 4);
    return HK_OK;
}

/* HMAC over SPI | seq | IV | ciphertext, then the ESN high bits if any (RFC 4303 3.3.2.1). */
static int cbc_icv(struct hk_esp_sa_crypto *sa, const uint8_t *pkt, size_t authlen, uint64_t seq,
                   uint8_t mac[MAX_MD])
{
    uint8_t hi[4];
    size_t ml;
    put32(hi, (uint32_t)(seq >> 32));
    if (!EVP_MAC_init(sa->mac, NULL, 0, NULL) || !EVP_MAC_update(sa->mac, pkt, authlen) ||
        (sa->esn && !EVP_MAC_update(sa->mac, hi, sizeof(hi))) ||
        !EVP_MAC_final(sa->mac, mac, &ml, MAX_MD) || ml < sa->icv_len)
        return HK_E_CRYPTO;
    return HK_OK;
}

/* AAD = SPI | seq low, or SPI | seq high | seq low with ESN (RFC 4106 5, RFC 7634 3). */
static size_t aead_aad(const struct hk_esp_sa_crypto *sa, uint32_t spi, uint64_t seq,
                       uint8_t aad[12])
{
    put32(aad, spi);
    if (!sa->esn) {
        put32(aad + 4, (uint32_t)seq);
        return 8;
    }
    put32(aad + 4, (uint32_t)(seq >> 32));
    put32(aad + 8, (uint32_t)seq);
    return 12;
}

/* A sequence number this SA can carry: never 0, 32 bits without ESN (RFC 4303 3.3.3). */
static bool seq_ok(const struct hk_esp_sa_crypto *sa, uint64_t seq)
{
    return seq != 0 && (sa->esn || seq <= UINT32_MAX);
}

int hk_esp_encap_iv(struct hk_esp_sa_crypto *sa, uint64_t seq, const uint8_t *iv,
                    uint8_t next_header, const uint8_t *payload, size_t plen, size_t tfc_pad,
                    uint8_t *out, size_t outcap, size_t *outlen)
{
    if (!sa || !iv || (!payload && plen) || !out || !outlen || !seq_ok(sa, seq))
        return HK_E_INVALID;
    if (plen > INT_MAX / 2 || tfc_pad > INT_MAX / 2)
        return HK_E_OVERFLOW;
    size_t hdr = hk_esp_hdr_len(sa);
    size_t body = plen + tfc_pad + 2;
    size_t ct = ct_len(sa, body);
    size_t total = hdr + ct + sa->icv_len;
    if (total > outcap)
        return HK_E_OVERFLOW;

    /* Plaintext first, so a payload anywhere in out is moved before the header lands. */
    uint8_t *p = out + hdr;
    if (plen && payload != p)
        memmove(p, payload, plen);
    memset(p + plen, 0, tfc_pad); /* RFC 4303 2.7: TFC padding, content unspecified */
    size_t padlen = ct - body;    /* < align <= 16, so it fits the octet */
    for (size_t i = 0; i < padlen; i++)
        p[plen + tfc_pad + i] = (uint8_t)(i + 1); /* RFC 4303 2.4: 1, 2, 3, ... */
    p[ct - 2] = (uint8_t)padlen;
    p[ct - 1] = next_header;
    put32(out, sa->spi);
    put32(out + 4, (uint32_t)seq); /* only the low 32 bits go on the wire (2.2.1) */
    memcpy(out + HK_ESP_HDR_LEN, iv, sa->iv_len);

    int rc;
    if (sa->aead) {
        uint8_t aad[12];
        size_t alen = aead_aad(sa, sa->spi, seq, aad);
        rc = hk_sk_cipher_seal(sa->aead, aad, alen, iv, p, ct, p + ct);
    } else {
        uint8_t mac[MAX_MD];
        int outl;
        if (!EVP_CipherInit_ex2(sa->cbc_enc, NULL, NULL, iv, 1, NULL) ||
            !EVP_CipherUpdate(sa->cbc_enc, p, &outl, p, (int)ct) || (size_t)outl != ct ||
            !EVP_CipherFinal_ex(sa->cbc_enc, mac, &outl)) /* writes nothing: no padding */
            rc = HK_E_CRYPTO;
        else
            rc = cbc_icv(sa, out, hdr + ct, seq, mac);
        if (!rc)
            memcpy(p + ct, mac, sa->icv_len);
        hk_wipe(mac, sizeof(mac));
    }
    if (rc)
        return rc;
    *outlen = total;
    return HK_OK;
}

int hk_esp_encap(struct hk_esp_sa_crypto *sa, uint64_t seq, uint8_t next_header,
                 const uint8_t *payload, size_t plen, size_t tfc_pad, uint8_t *out, size_t outcap,
                 size_t *outlen)
{
    uint8_t iv[HK_ESP_MAX_IV_LEN];
    if (!sa || !seq_ok(sa, seq))
        return HK_E_INVALID;
    if (!sa->aead) {
        /* RFC 3602 2.4: the CBC IV MUST be unpredictable: DRBG output, buffered. */
        int rc = hk_crypto_random(sa->crypto, iv, sa->iv_len);
        if (rc)
            return rc;
        return hk_esp_encap_iv(sa, seq, iv, next_header, payload, plen, tfc_pad, out, outcap,
                               outlen);
    }
    /* RFC 4106 3.1 / RFC 7634 2: the IV MUST NOT repeat under a key; a counter will do (8.1). */
    if (sa->iv_spent)
        return HK_E_OVERFLOW;
    uint64_t ctr = seq > sa->iv_next ? seq : sa->iv_next;
    put32(iv, (uint32_t)(ctr >> 32));
    put32(iv + 4, (uint32_t)ctr);
    int rc = hk_esp_encap_iv(sa, seq, iv, next_header, payload, plen, tfc_pad, out, outcap, outlen);
    /* Spend the IV even on failure: the packet may be half sealed in out. */
    if (ctr == UINT64_MAX)
        sa->iv_spent = true;
    else
        sa->iv_next = ctr + 1;
    return rc;
}

int hk_esp_decap(struct hk_esp_sa_crypto *sa, uint64_t seq, uint8_t *pkt, size_t len,
                 const uint8_t **payload, size_t *plen, uint8_t *next_header)
{
    if (!sa || !pkt || !payload || !plen || !next_header || !seq_ok(sa, seq))
        return HK_E_INVALID;
    size_t hdr = hk_esp_hdr_len(sa);
    if (len < hdr + 2 + sa->icv_len)
        return HK_E_SHORT;
    if (len > INT_MAX)
        return HK_E_LENGTH;
    size_t ct = len - hdr - sa->icv_len;
    if (ct % sa->align)
        return HK_E_LENGTH; /* RFC 4303 2.4 alignment, RFC 3602 3 block multiple */
    /*
     * The SPI is not compared with sa->spi: the ICV covers it as received, so a packet for
     * another SA fails with HK_E_AUTH like any other altered byte.
     */
    if (get32(pkt + 4) != (uint32_t)seq)
        return HK_E_INVALID; /* the caller's inference must start from these bits */

    uint8_t *iv = pkt + HK_ESP_HDR_LEN, *p = pkt + hdr, *icv = p + ct;
    int rc;
    if (sa->aead) {
        uint8_t aad[12];
        size_t alen = aead_aad(sa, get32(pkt), seq, aad); /* the SPI as received */
        rc = hk_sk_cipher_open(sa->aead, aad, alen, iv, p, ct, icv);
        if (rc)
            return rc;
    } else {
        /* RFC 4303 3.4.4: integrity first, decryption only for an authentic packet. */
        uint8_t mac[MAX_MD];
        int outl;
        if ((rc = cbc_icv(sa, pkt, hdr + ct, seq, mac)))
            return rc;
        if (hk_memeq_ct(mac, icv, sa->icv_len))
            return HK_E_AUTH;
        if (!EVP_CipherInit_ex2(sa->cbc_dec, NULL, NULL, iv, 0, NULL) ||
            !EVP_CipherUpdate(sa->cbc_dec, p, &outl, p, (int)ct) || (size_t)outl != ct ||
            !EVP_CipherFinal_ex(sa->cbc_dec, mac, &outl))
            return HK_E_CRYPTO;
    }

    /* RFC 4303 2.4: the receiver SHOULD check the padding; this one does. */
    size_t padlen = p[ct - 2];
    if (padlen + 2 > ct)
        return HK_E_PADDING;
    const uint8_t *pad = p + ct - 2 - padlen;
    unsigned bad = 0;
    for (size_t i = 0; i < padlen; i++)
        bad |= pad[i] ^ (uint8_t)(i + 1);
    if (bad)
        return HK_E_PADDING;
    *payload = p;
    *plen = ct - 2 - padlen;
    *next_header = p[ct - 1];
    return HK_OK;
}
