#include "crypto/sk_cipher.h"
#include "crypto/alg.h"
#include "common/err.h"
#include "common/secret.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define SALT_LEN    4  /* RFC 5282 7.1, RFC 7634 2 */
#define AEAD_IV_LEN 8  /* RFC 5282 3.1, RFC 7634 2 */
#define AEAD_ICV    16 /* ENCR_AES_GCM_16, Poly1305 tag */
#define CBC_BLOCK   16 /* RFC 3602 2.2: IV is one block */
#define MAX_MD      64

#define MAX_KEY 32

struct hk_sk_cipher {
    int aead;
    size_t iv_len, block, icv_len;
    uint8_t salt[SALT_LEN];
    /* Keyed on first use: an SA's outbound object only seals and its inbound one only
     * opens, so the other context (about 1.1 KiB of OpenSSL state) is never made. CBC needs
     * separate schedules per direction. hk_sk_cipher_idle frees them again; the keys stay. */
    const EVP_CIPHER *cipher;
    uint8_t key[MAX_KEY];
    EVP_CIPHER_CTX *enc, *dec;
    /* CBC only: the HMAC and its key (NULL for an AEAD); the context is keyed on first use. */
    EVP_MAC *hmac;
    const char *digest;
    struct hk_secret *ikey;
    EVP_MAC_CTX *mac;
    struct hk_rng *rng; /* the creating struct hk_crypto's, for IVs */
};

static int cipher_ctx(const EVP_CIPHER *cipher, const uint8_t *key, const uint8_t *iv, int enc,
                      int pad_off, EVP_CIPHER_CTX **out)
{
    EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
    if (!x)
        return HK_E_NOMEM;
    if (!EVP_CipherInit_ex2(x, cipher, key, iv, enc, NULL) ||
        (pad_off && !EVP_CIPHER_CTX_set_padding(x, 0))) {
        EVP_CIPHER_CTX_free(x);
        return HK_E_CRYPTO;
    }
    *out = x;
    return HK_OK;
}

static const EVP_MD *integ_md(const struct hk_crypto *c, uint16_t integ, size_t *icv)
{
    /* RFC 4868 2.1: output truncated to half the hash length. */
    switch (integ) {
    case HK_AUTH_HMAC_SHA2_256_128:
        *icv = 16;
        return c->sha256;
    case HK_AUTH_HMAC_SHA2_384_192:
        *icv = 24;
        return c->sha384;
    case HK_AUTH_HMAC_SHA2_512_256:
        *icv = 32;
        return c->sha512;
    }
    return NULL;
}

static int pick_cipher(const struct hk_crypto *c, uint16_t encr, uint16_t key_bits, uint16_t integ,
                       const EVP_CIPHER **cipher, int *aead)
{
    switch (encr) {
    case HK_ENCR_AES_GCM_16:
        *aead = 1;
        if (key_bits == 128)
            *cipher = c->aes128_gcm;
        else if (key_bits == 256)
            *cipher = c->aes256_gcm;
        else if (key_bits == 192)
            return HK_E_UNSUPPORTED;
        else
            return HK_E_INVALID;
        break;
    case HK_ENCR_CHACHA20_POLY1305:
        *aead = 1;
        if (key_bits != 0 && key_bits != 256) /* RFC 7634 2: fixed 256-bit key */
            return HK_E_INVALID;
        *cipher = c->chacha20_poly1305;
        break;
    case HK_ENCR_AES_CBC:
        *aead = 0;
        if (key_bits == 128)
            *cipher = c->aes128_cbc;
        else if (key_bits == 192)
            *cipher = c->aes192_cbc;
        else if (key_bits == 256)
            *cipher = c->aes256_cbc;
        else
            return HK_E_INVALID;
        break;
    default:
        return HK_E_UNSUPPORTED;
    }
    /* RFC 5282 8 / RFC 7634 4: no integrity transform with an AEAD; CBC needs one. */
    if (*aead && integ != HK_AUTH_NONE)
        return HK_E_INVALID;
    if (!*aead && integ == HK_AUTH_NONE)
        return HK_E_INVALID;
    return HK_OK;
}

int hk_sk_cipher_new(const struct hk_crypto *c, uint16_t encr, uint16_t key_bits, uint16_t integ,
                     const uint8_t *ekey, size_t eklen, const uint8_t *ikey, size_t iklen,
                     struct hk_sk_cipher **out)
{
    const EVP_CIPHER *cipher = NULL;
    const EVP_MD *md = NULL;
    int aead = 0;
    size_t icv = 0;
    *out = NULL;
    int rc = pick_cipher(c, encr, key_bits, integ, &cipher, &aead);
    if (rc)
        return rc;
    if (!aead) {
        md = integ_md(c, integ, &icv);
        if (!md)
            return HK_E_UNSUPPORTED;
    }
    size_t klen = (size_t)EVP_CIPHER_get_key_length(cipher);
    if (!ekey || eklen != klen + (aead ? SALT_LEN : 0) || klen > MAX_KEY)
        return HK_E_INVALID;
    if (aead ? iklen != 0 : (!ikey || iklen != (size_t)EVP_MD_get_size(md)))
        return HK_E_INVALID;

    struct hk_sk_cipher *s = calloc(1, sizeof(*s));
    if (!s)
        return HK_E_NOMEM;
    s->aead = aead;
    s->iv_len = aead ? AEAD_IV_LEN : CBC_BLOCK;
    s->block = aead ? 1 : CBC_BLOCK;
    s->icv_len = aead ? AEAD_ICV : icv;
    if (aead)
        memcpy(s->salt, ekey + klen, SALT_LEN);
    s->cipher = cipher;
    s->rng = c->rng;
    memcpy(s->key, ekey, klen);
    if (!aead) {
        s->hmac = c->hmac;
        s->digest = EVP_MD_get0_name(md);
        s->ikey = hk_secret_dup(ikey, iklen);
        if (!s->ikey)
            rc = HK_E_NOMEM;
    }
    if (rc) {
        hk_sk_cipher_free(s);
        return rc;
    }
    *out = s;
    return HK_OK;
}

void hk_sk_cipher_free(struct hk_sk_cipher *s)
{
    if (!s)
        return;
    hk_sk_cipher_idle(s);
    hk_secret_free(&s->ikey);
    hk_wipe(s, sizeof(*s));
    free(s);
}

void hk_sk_cipher_idle(struct hk_sk_cipher *s)
{
    if (!s)
        return;
    /* The OpenSSL contexts cleanse their key schedules when freed. */
    EVP_CIPHER_CTX_free(s->enc);
    EVP_CIPHER_CTX_free(s->dec);
    EVP_MAC_CTX_free(s->mac);
    s->enc = s->dec = NULL;
    s->mac = NULL;
}

bool hk_sk_cipher_is_idle(const struct hk_sk_cipher *s)
{
    return !s->enc && !s->dec && !s->mac;
}

size_t hk_sk_cipher_iv_len(const struct hk_sk_cipher *s)
{
    return s->iv_len;
}

int hk_sk_cipher_new_iv(struct hk_sk_cipher *s, uint8_t *iv)
{
    return hk_rng_bytes(s->rng, iv, s->iv_len);
}

size_t hk_sk_cipher_block_len(const struct hk_sk_cipher *s)
{
    return s->block;
}

size_t hk_sk_cipher_icv_len(const struct hk_sk_cipher *s)
{
    return s->icv_len;
}

/*
 * The context of one direction, set to the per-message IV (for an AEAD the nonce salt | iv):
 * keyed with it in one init when first needed, else only the IV changes.
 */
static EVP_CIPHER_CTX *ctx_for(struct hk_sk_cipher *s, int enc, const uint8_t *iv)
{
    EVP_CIPHER_CTX **x = enc ? &s->enc : &s->dec;
    uint8_t nonce[SALT_LEN + AEAD_IV_LEN];
    const uint8_t *n = iv;
    if (s->aead) {
        memcpy(nonce, s->salt, SALT_LEN); /* RFC 5282 4, RFC 7634 2 */
        memcpy(nonce + SALT_LEN, iv, AEAD_IV_LEN);
        n = nonce;
    }
    if (!*x)
        return cipher_ctx(s->cipher, s->key, n, enc, !s->aead, x) ? NULL : *x;
    return EVP_CipherInit_ex2(*x, NULL, NULL, n, enc, NULL) ? *x : NULL;
}

/* One pass over aad (AEAD only) and data, in place. */
static int run(EVP_CIPHER_CTX *x, const uint8_t *aad, size_t aadlen, uint8_t *data, size_t len)
{
    int outl;
    if (aadlen > INT_MAX || len > INT_MAX)
        return HK_E_LENGTH;
    if (aadlen && !EVP_CipherUpdate(x, NULL, &outl, aad, (int)aadlen))
        return HK_E_CRYPTO;
    if (len && (!EVP_CipherUpdate(x, data, &outl, data, (int)len) || (size_t)outl != len))
        return HK_E_CRYPTO;
    return HK_OK;
}

/* The HMAC context, keyed when first needed. */
static int mac_ctx(struct hk_sk_cipher *s)
{
    if (s->mac)
        return HK_OK;
    OSSL_PARAM p[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)s->digest, 0),
                      OSSL_PARAM_construct_end()};
    s->mac = EVP_MAC_CTX_new(s->hmac);
    if (!s->mac)
        return HK_E_NOMEM;
    if (!EVP_MAC_init(s->mac, s->ikey->data, s->ikey->len, p)) {
        EVP_MAC_CTX_free(s->mac);
        s->mac = NULL;
        return HK_E_CRYPTO;
    }
    return HK_OK;
}

/* Truncated HMAC over aad | iv | ciphertext (RFC 7296 3.14, RFC 4868 2.1). */
static int cbc_mac(struct hk_sk_cipher *s, const uint8_t *aad, size_t aadlen, const uint8_t *iv,
                   const uint8_t *ct, size_t len, uint8_t *mac)
{
    size_t ml;
    int rc = mac_ctx(s);
    if (rc)
        return rc;
    if (!EVP_MAC_init(s->mac, NULL, 0, NULL) || !EVP_MAC_update(s->mac, aad, aadlen) ||
        !EVP_MAC_update(s->mac, iv, s->iv_len) || !EVP_MAC_update(s->mac, ct, len) ||
        !EVP_MAC_final(s->mac, mac, &ml, MAX_MD) || ml < s->icv_len)
        return HK_E_CRYPTO;
    return HK_OK;
}

int hk_sk_cipher_seal(struct hk_sk_cipher *s, const uint8_t *aad, size_t aadlen, const uint8_t *iv,
                      uint8_t *data, size_t len, uint8_t *icv)
{
    uint8_t tail[CBC_BLOCK]; /* Final writes nothing here: no padding, no buffered block */
    int outl, rc;
    if (len % s->block)
        return HK_E_LENGTH;
    if (!ctx_for(s, 1, iv))
        return HK_E_CRYPTO;
    if (s->aead) {
        OSSL_PARAM p[] = {
            OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, icv, s->icv_len),
            OSSL_PARAM_construct_end()};
        if ((rc = run(s->enc, aad, aadlen, data, len)))
            return rc;
        if (!EVP_CipherFinal_ex(s->enc, tail, &outl) || !EVP_CIPHER_CTX_get_params(s->enc, p))
            return HK_E_CRYPTO;
        return HK_OK;
    }
    uint8_t mac[MAX_MD];
    if ((rc = run(s->enc, NULL, 0, data, len)))
        return rc;
    if (!EVP_CipherFinal_ex(s->enc, tail, &outl))
        return HK_E_CRYPTO;
    if ((rc = cbc_mac(s, aad, aadlen, iv, data, len, mac)))
        return rc;
    memcpy(icv, mac, s->icv_len);
    return HK_OK;
}

int hk_sk_cipher_open(struct hk_sk_cipher *s, const uint8_t *aad, size_t aadlen, const uint8_t *iv,
                      uint8_t *data, size_t len, const uint8_t *icv)
{
    uint8_t tail[CBC_BLOCK];
    int outl, rc;
    if (len % s->block)
        return HK_E_LENGTH;
    if (!s->aead) {
        /* Verify before decrypting, in constant time (RFC 7296 3.14). */
        uint8_t mac[MAX_MD];
        if ((rc = cbc_mac(s, aad, aadlen, iv, data, len, mac)))
            return rc;
        if (hk_memeq_ct(mac, icv, s->icv_len))
            return HK_E_AUTH;
    }
    if (!ctx_for(s, 0, iv))
        return HK_E_CRYPTO;
    if (s->aead) {
        OSSL_PARAM p[] = {
            OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, (void *)icv, s->icv_len),
            OSSL_PARAM_construct_end()};
        if (!EVP_CIPHER_CTX_set_params(s->dec, p))
            return HK_E_CRYPTO;
    }
    if ((rc = run(s->dec, s->aead ? aad : NULL, s->aead ? aadlen : 0, data, len)))
        return rc;
    /* For an AEAD, Final is where OpenSSL compares the tag (constant time). */
    if (!EVP_CipherFinal_ex(s->dec, tail, &outl)) {
        if (!s->aead)
            return HK_E_CRYPTO;
        hk_wipe(data, len); /* never hand out unauthenticated plaintext */
        return HK_E_AUTH;
    }
    return HK_OK;
}
