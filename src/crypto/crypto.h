/*
 * The crypto context: OpenSSL algorithm objects fetched once and shared by every
 * call, because an EVP fetch per operation costs more than the operation itself
 * for small inputs. One per daemon (or test); passed explicitly, never global.
 * Some members change as they are used, through a const pointer too (buffered random
 * octets, the HMAC contexts, the X25519 peer key): one thread at a time, and a forked
 * child that goes on using it calls hk_crypto_after_fork first.
 */
#ifndef HIKE_CRYPTO_CRYPTO_H
#define HIKE_CRYPTO_CRYPTO_H

#include <openssl/evp.h>

#include "crypto/rng.h"

#define HK_CRYPTO_KE_GROUPS 4
#define HK_CRYPTO_HMAC_MDS  3

struct hk_crypto {
    OSSL_LIB_CTX *libctx; /* NULL: OpenSSL's default context */
    EVP_MAC *hmac;
    EVP_MD *sha1;
    EVP_MD *sha256;
    EVP_MD *sha384;
    EVP_MD *sha512;
    EVP_CIPHER *aes128_gcm;
    EVP_CIPHER *aes256_gcm;
    EVP_CIPHER *aes128_cbc;
    EVP_CIPHER *aes192_cbc;
    EVP_CIPHER *aes256_cbc;
    EVP_CIPHER *chacha20_poly1305;
    /*
     * HMAC contexts for the PRFs (crypto/hmac.h), one per digest (SHA-256, -384, -512, in
     * that order), digest set once: keyed per PRF key, re-keyed with the empty key after.
     * Behind a pointer, like rng: one that cannot be cleared is replaced through a const c.
     */
    EVP_MAC_CTX **hmac_ctx;
    /*
     * Key generation contexts, one per key exchange group (ke.c's table order), set up
     * once: making one per key fetched the key manager by name. EVP_PKEY_generate
     * changes no state in them, but they are not for several threads at once.
     */
    EVP_PKEY_CTX *ke_gen[HK_CRYPTO_KE_GROUPS];
    /* Import contexts (EVP_PKEY_fromdata_init done), one per group, same order. */
    EVP_PKEY_CTX *ke_import[HK_CRYPTO_KE_GROUPS];
    /*
     * A public-only X25519 key that takes each peer's value in turn for the length of one
     * derive (EVP_PKEY_set1_encoded_public_key): a fresh key per peer cost a key manager
     * lookup by name and its names walked per import.
     */
    EVP_PKEY *x25519_peer;
    /*
     * Buffered random octets (crypto/rng.h): rng for values sent on the wire (SPIs,
     * nonces, IVs), rng_priv for private keys. Behind pointers, so drawing from them
     * through a const struct hk_crypto is allowed: the struct is still for one thread.
     */
    struct hk_rng *rng, *rng_priv;
};

/* Fetches every algorithm; HK_E_CRYPTO if one is missing from the provider. */
int hk_crypto_init(struct hk_crypto *c);
void hk_crypto_free(struct hk_crypto *c);

/* The digest for a hash size in octets (32, 48, 64), or NULL. */
const EVP_MD *hk_crypto_md_by_len(const struct hk_crypto *c, size_t len);
/* Name of the digest ("SHA256"...) for EVP_MAC parameters. */
const char *hk_crypto_md_name(const EVP_MD *md);

/* Fills buf with cryptographically strong random bytes, straight from OpenSSL. */
int hk_random(void *buf, size_t len);
/*
 * The same from c's buffered source (crypto/rng.h), for the values drawn per SA or per
 * message (SPIs, nonces, IVs): no OpenSSL call for most draws.
 */
int hk_crypto_random(const struct hk_crypto *c, void *buf, size_t len);
/* For a child process after fork() that goes on using c: drops the buffered octets the
 * parent also holds (crypto/rng.h). hiked does not fork. */
void hk_crypto_after_fork(const struct hk_crypto *c);

#endif
