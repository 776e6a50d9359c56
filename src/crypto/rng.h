/*
 * A buffered random source: a few KiB from OpenSSL's DRBG at a time, handed out in small
 * draws (SPIs, nonces, IVs, private keys). OpenSSL 3.0 pays a fixed cost on every
 * RAND_bytes call, a getpid() system call among it (its fork check), which costs more
 * than producing the 8 or 32 octets asked for; one refill spreads that over many draws.
 *
 * The buffer is secret memory (common/secret.h): each draw wipes the octets it hands out,
 * so an octet is given once and never stays behind, and free wipes the rest.
 *
 * Fork: a child made by fork() would get a copy of the unused octets and hand out the same
 * values as its parent. OpenSSL reseeds its own DRBG in a child; this buffer cannot know.
 * hiked does not fork after start. A process that forks and keeps using crypto in the
 * child must call hk_rng_reset (hk_crypto_after_fork) in the child before its next draw.
 *
 * One source is not thread-safe, like the struct hk_crypto that holds it.
 */
#ifndef HIKE_CRYPTO_RNG_H
#define HIKE_CRYPTO_RNG_H

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>

/* Octets fetched per refill. */
#define HK_RNG_BUF 4096
/* Draws above this go straight to OpenSSL: buffering them would save nothing. */
#define HK_RNG_MAX_DRAW 256

struct hk_rng;

/*
 * A source over libctx's DRBG (NULL: the default context). priv: draw from OpenSSL's
 * private DRBG (RAND_priv_bytes_ex), meant for private keys; else the public one, for
 * values sent on the wire. Keeping the two apart follows OpenSSL's own split.
 */
int hk_rng_new(OSSL_LIB_CTX *libctx, bool priv, struct hk_rng **out);
/* Wipes the buffer and frees; NULL is fine. */
void hk_rng_free(struct hk_rng *r);
/* Fills buf with len random octets; HK_E_CRYPTO when OpenSSL's DRBG fails. */
int hk_rng_bytes(struct hk_rng *r, void *buf, size_t len);
/* Wipes and drops the buffered octets: the next draw refills. For a child after fork().
 * NULL is fine. */
void hk_rng_reset(struct hk_rng *r);
/* Octets left in the buffer (tests). */
size_t hk_rng_avail(const struct hk_rng *r);
/* The whole buffer, HK_RNG_BUF octets, used and unused (tests: consumed octets are zero). */
const unsigned char *hk_rng_buffer(const struct hk_rng *r);

#endif
