#include "crypto/crypto.h"
#include "common/err.h"
#include "crypto/hmac.h"
#include "crypto/ke.h"

#include <openssl/rand.h>
#include <limits.h>
#include <string.h>

int hk_crypto_init(struct hk_crypto *c)
{
    memset(c, 0, sizeof(*c));
    OSSL_LIB_CTX *l = c->libctx;
    c->hmac = EVP_MAC_fetch(l, "HMAC", NULL);
    c->sha1 = EVP_MD_fetch(l, "SHA1", NULL);
    c->sha256 = EVP_MD_fetch(l, "SHA256", NULL);
    c->sha384 = EVP_MD_fetch(l, "SHA384", NULL);
    c->sha512 = EVP_MD_fetch(l, "SHA512", NULL);
    c->aes128_gcm = EVP_CIPHER_fetch(l, "AES-128-GCM", NULL);
    c->aes256_gcm = EVP_CIPHER_fetch(l, "AES-256-GCM", NULL);
    c->aes128_cbc = EVP_CIPHER_fetch(l, "AES-128-CBC", NULL);
    c->aes192_cbc = EVP_CIPHER_fetch(l, "AES-192-CBC", NULL);
    c->aes256_cbc = EVP_CIPHER_fetch(l, "AES-256-CBC", NULL);
    c->chacha20_poly1305 = EVP_CIPHER_fetch(l, "ChaCha20-Poly1305", NULL);
    if (!c->hmac || !c->sha1 || !c->sha256 || !c->sha384 || !c->sha512 || !c->aes128_gcm ||
        !c->aes256_gcm || !c->aes128_cbc || !c->aes192_cbc || !c->aes256_cbc ||
        !c->chacha20_poly1305 || hk_rng_new(l, false, &c->rng) ||
        hk_rng_new(l, true, &c->rng_priv) || hk_hmac_prefetch(c) || hk_ke_prefetch(c)) {
        hk_crypto_free(c);
        return HK_E_CRYPTO;
    }
    return HK_OK;
}

void hk_crypto_free(struct hk_crypto *c)
{
    hk_ke_prefetch_free(c);
    hk_hmac_prefetch_free(c);
    hk_rng_free(c->rng);
    hk_rng_free(c->rng_priv);
    EVP_MAC_free(c->hmac);
    EVP_MD_free(c->sha1);
    EVP_MD_free(c->sha256);
    EVP_MD_free(c->sha384);
    EVP_MD_free(c->sha512);
    EVP_CIPHER_free(c->aes128_gcm);
    EVP_CIPHER_free(c->aes256_gcm);
    EVP_CIPHER_free(c->aes128_cbc);
    EVP_CIPHER_free(c->aes192_cbc);
    EVP_CIPHER_free(c->aes256_cbc);
    EVP_CIPHER_free(c->chacha20_poly1305);
    memset(c, 0, sizeof(*c));
}

const EVP_MD *hk_crypto_md_by_len(const struct hk_crypto *c, size_t len)
{
    switch (len) {
    case 32:
        return c->sha256;
    case 48:
        return c->sha384;
    case 64:
        return c->sha512;
    }
    return NULL;
}

const char *hk_crypto_md_name(const EVP_MD *md)
{
    return EVP_MD_get0_name(md);
}

int hk_random(void *buf, size_t len)
{
    if (len > INT_MAX)
        return HK_E_INVALID;
    return RAND_bytes(buf, (int)len) == 1 ? HK_OK : HK_E_CRYPTO;
}

int hk_crypto_random(const struct hk_crypto *c, void *buf, size_t len)
{
    return hk_rng_bytes(c->rng, buf, len);
}

void hk_crypto_after_fork(const struct hk_crypto *c)
{
    hk_rng_reset(c->rng);
    hk_rng_reset(c->rng_priv);
}
