#include "crypto/ke.h"
#include "common/err.h"
#include "crypto/alg.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <stdlib.h>
#include <string.h>

/*
 * MODP private exponent length in bits. Group 14 gives about 112 bits of strength (RFC 3526
 * 8 estimates 110-160); a 256-bit exponent is well above twice that and keeps modexp cheap.
 */
#define MODP_PRIV_BITS 256

enum ke_kind { KE_MODP, KE_ECP, KE_X25519 };

struct ke_group {
    uint16_t id;
    enum ke_kind kind;
    const char *keytype; /* EVP_PKEY algorithm */
    const char *name;    /* OpenSSL group name; NULL for X25519 */
    int nid;             /* curve NID for ECP (test-only constructor) */
    size_t pub_len;
    size_t shared_len;
};

static const struct ke_group groups[] = {
    {HK_KE_MODP2048, KE_MODP, "DH", "modp_2048", NID_undef, 256, 256},
    {HK_KE_ECP256, KE_ECP, "EC", "P-256", NID_X9_62_prime256v1, 64, 32},
    {HK_KE_ECP384, KE_ECP, "EC", "P-384", NID_secp384r1, 96, 48},
    {HK_KE_CURVE25519, KE_X25519, "X25519", NULL, NID_undef, 32, 32},
};

struct hk_ke {
    const struct hk_crypto *c;
    const struct ke_group *g;
    EVP_PKEY *pkey;
    uint8_t pub[HK_KE_MAX_PUBLIC]; /* wire form, computed once */
};

static const struct ke_group *find_group(uint16_t id)
{
    for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
        if (groups[i].id == id)
            return &groups[i];
    }
    return NULL;
}

bool hk_ke_supported(uint16_t group)
{
    return find_group(group) != NULL;
}

size_t hk_ke_public_len(uint16_t group)
{
    const struct ke_group *g = find_group(group);
    return g ? g->pub_len : 0;
}

size_t hk_ke_shared_len(uint16_t group)
{
    const struct ke_group *g = find_group(group);
    return g ? g->shared_len : 0;
}

uint16_t hk_ke_group(const struct hk_ke *k)
{
    return k->g->id;
}

void hk_ke_free(struct hk_ke *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey); /* providers clear private key material on free */
    free(k);
}

/* Caches the public value in wire form: the part of a KE payload we send. */
static int export_public(struct hk_ke *k)
{
    const struct ke_group *g = k->g;
    switch (g->kind) {
    case KE_X25519: {
        size_t n = g->pub_len;
        if (!EVP_PKEY_get_raw_public_key(k->pkey, k->pub, &n) || n != g->pub_len)
            return HK_E_CRYPTO;
        return HK_OK;
    }
    case KE_ECP: {
        /* OpenSSL gives 0x04 | x | y; RFC 5903 7 sends x | y. */
        uint8_t pt[1 + HK_KE_MAX_PUBLIC];
        size_t n = 0;
        if (!EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof(pt),
                                             &n) ||
            n != 1 + g->pub_len || pt[0] != POINT_CONVERSION_UNCOMPRESSED)
            return HK_E_CRYPTO;
        memcpy(k->pub, pt + 1, g->pub_len);
        return HK_OK;
    }
    case KE_MODP: {
        /* RFC 7296 3.4: zero-padded on the left to the length of the modulus. */
        BIGNUM *y = NULL;
        if (!EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_PUB_KEY, &y))
            return HK_E_CRYPTO;
        int ok = BN_bn2binpad(y, k->pub, (int)g->pub_len) == (int)g->pub_len;
        BN_free(y);
        return ok ? HK_OK : HK_E_CRYPTO;
    }
    }
    return HK_E_CRYPTO;
}

/* Takes ownership of pkey. */
static int ke_wrap(const struct hk_crypto *c, const struct ke_group *g, EVP_PKEY *pkey,
                   struct hk_ke **out)
{
    if (!pkey)
        return HK_E_CRYPTO;
    struct hk_ke *k = calloc(1, sizeof(*k));
    if (!k) {
        EVP_PKEY_free(pkey);
        return HK_E_NOMEM;
    }
    k->c = c;
    k->g = g;
    k->pkey = pkey;
    int r = export_public(k);
    if (r) {
        hk_ke_free(k);
        return r;
    }
    *out = k;
    return HK_OK;
}

/* A context ready to generate keys of g, or NULL. */
static EVP_PKEY_CTX *keygen_ctx(OSSL_LIB_CTX *l, const struct ke_group *g)
{
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(l, g->keytype, NULL);
    if (!pctx || EVP_PKEY_keygen_init(pctx) <= 0)
        goto fail;
    if (g->name) {
        int priv_bits = MODP_PRIV_BITS;
        OSSL_PARAM p[3];
        size_t n = 0;
        p[n++] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)g->name, 0);
        if (g->kind == KE_MODP)
            p[n++] = OSSL_PARAM_construct_int(OSSL_PKEY_PARAM_DH_PRIV_LEN, &priv_bits);
        p[n] = OSSL_PARAM_construct_end();
        if (EVP_PKEY_CTX_set_params(pctx, p) <= 0)
            goto fail;
    }
    return pctx;
fail:
    EVP_PKEY_CTX_free(pctx);
    return NULL;
}

static EVP_PKEY_CTX *import_ctx(OSSL_LIB_CTX *l, const struct ke_group *g)
{
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(l, g->keytype, NULL);
    if (pctx && EVP_PKEY_fromdata_init(pctx) > 0)
        return pctx;
    EVP_PKEY_CTX_free(pctx);
    return NULL;
}

/* X25519 key from an import context and one parameter (private or public key). */
static EVP_PKEY *x25519_import(EVP_PKEY_CTX *imp, const char *param, const uint8_t *v,
                               int selection)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM p[] = {OSSL_PARAM_construct_octet_string(param, (void *)v, 32),
                      OSSL_PARAM_construct_end()};
    if (EVP_PKEY_fromdata(imp, &pkey, selection, p) <= 0)
        return NULL;
    return pkey;
}

_Static_assert(sizeof(groups) / sizeof(groups[0]) == HK_CRYPTO_KE_GROUPS, "ke_gen size");

int hk_ke_prefetch(struct hk_crypto *c)
{
    /* Any valid public value will do until the first peer's replaces it: the base point. */
    static const uint8_t base[32] = {9};
    for (size_t i = 0; i < HK_CRYPTO_KE_GROUPS; i++) {
        if (!(c->ke_gen[i] = keygen_ctx(c->libctx, &groups[i])) ||
            !(c->ke_import[i] = import_ctx(c->libctx, &groups[i])))
            goto fail;
        if (groups[i].kind == KE_X25519 &&
            !(c->x25519_peer = x25519_import(c->ke_import[i], OSSL_PKEY_PARAM_PUB_KEY, base,
                                             EVP_PKEY_PUBLIC_KEY)))
            goto fail;
    }
    return HK_OK;
fail:
    hk_ke_prefetch_free(c);
    return HK_E_CRYPTO;
}

void hk_ke_prefetch_free(struct hk_crypto *c)
{
    for (size_t i = 0; i < HK_CRYPTO_KE_GROUPS; i++) {
        EVP_PKEY_CTX_free(c->ke_gen[i]);
        EVP_PKEY_CTX_free(c->ke_import[i]);
        c->ke_gen[i] = c->ke_import[i] = NULL;
    }
    EVP_PKEY_free(c->x25519_peer);
    c->x25519_peer = NULL;
}

/*
 * An X25519 key pair from 32 private octets (RFC 7748 5: any 32 random octets; the
 * function clamps them). The import computes the public value, the same fixed-base
 * multiplication key generation does.
 */
static int x25519_from_private(const struct hk_crypto *c, const struct ke_group *g,
                               const uint8_t priv[32], struct hk_ke **out)
{
    EVP_PKEY_CTX *imp = c->ke_import[g - groups];
    if (!imp)
        return HK_E_CRYPTO; /* hk_crypto_init failed or was not called */
    return ke_wrap(c, g, x25519_import(imp, OSSL_PKEY_PARAM_PRIV_KEY, priv, EVP_PKEY_KEYPAIR), out);
}

int hk_ke_new(const struct hk_crypto *c, uint16_t group, struct hk_ke **out)
{
    *out = NULL;
    const struct ke_group *g = find_group(group);
    if (!g)
        return HK_E_UNSUPPORTED;
    if (g->kind == KE_X25519) {
        /*
         * Our own private octets rather than EVP_PKEY_generate: the same key from the same
         * kind of DRBG output (OpenSSL's private DRBG, buffered), without a DRBG call and
         * the generation set-up per key.
         */
        uint8_t priv[32];
        int r = hk_rng_bytes(c->rng_priv, priv, sizeof(priv));
        if (!r)
            r = x25519_from_private(c, g, priv, out);
        hk_wipe(priv, sizeof(priv));
        return r;
    }
    EVP_PKEY_CTX *pctx = c->ke_gen[g - groups];
    if (!pctx)
        return HK_E_CRYPTO; /* hk_crypto_init failed or was not called */
    EVP_PKEY *pkey = NULL;
    if (EVP_PKEY_generate(pctx, &pkey) <= 0)
        pkey = NULL;
    return ke_wrap(c, g, pkey, out);
}

/* Builds a key of g from an OSSL_PARAM_BLD's parameters (group name added here). */
static EVP_PKEY *from_params(const struct hk_crypto *c, const struct ke_group *g,
                             OSSL_PARAM_BLD *bld, int selection)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *p = NULL;
    EVP_PKEY_CTX *imp = c->ke_import[g - groups];
    if (!imp || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, g->name, 0) ||
        !(p = OSSL_PARAM_BLD_to_param(bld)) || EVP_PKEY_fromdata(imp, &pkey, selection, p) <= 0)
        pkey = NULL;
    OSSL_PARAM_free(p);
    return pkey;
}

/* Test-only: the public value of private d, so the key pair can be imported whole. */
static int modp_public(const struct hk_crypto *c, const struct ke_group *g, const BIGNUM *d,
                       BIGNUM **y)
{
    int r = HK_E_CRYPTO;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *params = bld ? from_params(c, g, bld, EVP_PKEY_KEY_PARAMETERS) : NULL;
    BIGNUM *p = NULL, *gen = NULL;
    BN_CTX *bn = BN_CTX_new_ex(c->libctx);
    *y = BN_new();
    if (params && bn && *y && EVP_PKEY_get_bn_param(params, OSSL_PKEY_PARAM_FFC_P, &p) &&
        EVP_PKEY_get_bn_param(params, OSSL_PKEY_PARAM_FFC_G, &gen) && BN_mod_exp(*y, gen, d, p, bn))
        r = HK_OK;
    BN_free(p);
    BN_free(gen);
    BN_CTX_free(bn);
    EVP_PKEY_free(params);
    OSSL_PARAM_BLD_free(bld);
    return r;
}

static int ecp_public(const struct hk_crypto *c, const struct ke_group *g, const BIGNUM *d,
                      uint8_t *pt, size_t ptlen)
{
    int r = HK_E_CRYPTO;
    EC_GROUP *grp = EC_GROUP_new_by_curve_name_ex(c->libctx, NULL, g->nid);
    EC_POINT *q = grp ? EC_POINT_new(grp) : NULL;
    BN_CTX *bn = BN_CTX_new_ex(c->libctx);
    if (q && bn && EC_POINT_mul(grp, q, d, NULL, NULL, bn) &&
        EC_POINT_point2oct(grp, q, POINT_CONVERSION_UNCOMPRESSED, pt, ptlen, bn) == ptlen)
        r = HK_OK;
    EC_POINT_free(q);
    EC_GROUP_free(grp);
    BN_CTX_free(bn);
    return r;
}

int hk_ke_private(const struct hk_ke *k, struct hk_secret **out)
{
    *out = NULL;
    const struct ke_group *g = k->g;
    size_t len = g->kind == KE_MODP ? g->pub_len : g->shared_len;
    struct hk_secret *s = hk_secret_new(len);
    if (!s)
        return HK_E_NOMEM;
    int r = HK_E_CRYPTO;
    if (g->kind == KE_X25519) {
        size_t n = len;
        if (EVP_PKEY_get_raw_private_key(k->pkey, s->data, &n) == 1 && n == len)
            r = HK_OK;
    } else {
        BIGNUM *d = NULL;
        if (EVP_PKEY_get_bn_param(k->pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1 &&
            BN_bn2binpad(d, s->data, (int)len) == (int)len)
            r = HK_OK;
        BN_clear_free(d);
    }
    if (r)
        hk_secret_free(&s);
    *out = s;
    return r;
}

int hk_ke_new_from_private(const struct hk_crypto *c, uint16_t group, const uint8_t *priv,
                           size_t len, struct hk_ke **out)
{
    *out = NULL;
    const struct ke_group *g = find_group(group);
    if (!g)
        return HK_E_UNSUPPORTED;
    if (!priv || !len || len > (g->kind == KE_MODP ? g->pub_len : g->shared_len) ||
        (g->kind != KE_MODP && len != g->shared_len))
        return HK_E_INVALID;
    if (g->kind == KE_X25519)
        return x25519_from_private(c, g, priv, out);

    int r = HK_E_CRYPTO;
    EVP_PKEY *pkey = NULL;
    BIGNUM *d = BN_secure_new(), *y = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    uint8_t pt[1 + HK_KE_MAX_PUBLIC];
    if (!d || !bld || !BN_bin2bn(priv, (int)len, d) || BN_is_zero(d))
        goto done;
    if (g->kind == KE_MODP) {
        if (modp_public(c, g, d, &y) || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y))
            goto done;
    } else {
        if (ecp_public(c, g, d, pt, 1 + g->pub_len) ||
            !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + g->pub_len))
            goto done;
    }
    if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d))
        goto done;
    pkey = from_params(c, g, bld, EVP_PKEY_KEYPAIR);
    r = HK_OK;
done:
    BN_clear_free(d);
    BN_free(y);
    OSSL_PARAM_BLD_free(bld); /* BLD copies of d are in secure memory and cleared */
    if (r)
        return r;
    return ke_wrap(c, g, pkey, out);
}

int hk_ke_public(const struct hk_ke *k, uint8_t *out, size_t len)
{
    if (!out || len != k->g->pub_len)
        return HK_E_INVALID;
    memcpy(out, k->pub, len);
    return HK_OK;
}

/*
 * The peer's public key as an EVP_PKEY, validated as RFC 6989 asks: MODP 1 < y < p-1
 * (2.1), ECP point on the curve with coordinates below p (2.3). OpenSSL's "quick" public
 * check is exactly that (SP 800-56A partial validation); the full check would add a
 * costly order test that RFC 6989 does not need for safe primes, prime-order curves and
 * single-use private keys.
 */
static int peer_key(const struct hk_ke *k, const uint8_t *peer, EVP_PKEY **out)
{
    const struct ke_group *g = k->g;
    OSSL_LIB_CTX *l = k->c->libctx;
    *out = NULL;
    if (g->kind == KE_X25519) {
        /*
         * RFC 8031 3.2 / RFC 7748 5: any 32 octets; the top bit is masked by X25519. The
         * shared template key takes them (public data, kept until the next peer's): the
         * caller's reference lasts one derive, and struct hk_crypto is for one thread.
         */
        EVP_PKEY *t = k->c->x25519_peer;
        if (!t || !EVP_PKEY_set1_encoded_public_key(t, peer, g->pub_len) || !EVP_PKEY_up_ref(t))
            return HK_E_CRYPTO;
        *out = t;
        return HK_OK;
    }
    int r = HK_E_PEER_KE;
    BIGNUM *y = NULL;
    EVP_PKEY_CTX *vctx = NULL;
    uint8_t pt[1 + HK_KE_MAX_PUBLIC]; /* the builder keeps a pointer until to_param */
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    if (!bld)
        return HK_E_NOMEM;
    if (g->kind == KE_ECP) {
        pt[0] = POINT_CONVERSION_UNCOMPRESSED; /* RFC 5903 7: x | y carries no format octet */
        memcpy(pt + 1, peer, g->pub_len);
        if (!OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt, 1 + g->pub_len)) {
            r = HK_E_CRYPTO;
            goto done;
        }
    } else {
        y = BN_bin2bn(peer, (int)g->pub_len, NULL);
        if (!y || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y)) {
            r = HK_E_CRYPTO;
            goto done;
        }
    }
    /* Import fails for a point off the curve: that too is the peer's fault. */
    *out = from_params(k->c, g, bld, EVP_PKEY_PUBLIC_KEY);
    if (!*out)
        goto done;
    vctx = EVP_PKEY_CTX_new_from_pkey(l, *out, NULL);
    if (!vctx) {
        r = HK_E_NOMEM;
        goto done;
    }
    if (EVP_PKEY_public_check_quick(vctx) == 1)
        r = HK_OK;
done:
    EVP_PKEY_CTX_free(vctx);
    OSSL_PARAM_BLD_free(bld);
    BN_free(y);
    if (r) {
        EVP_PKEY_free(*out);
        *out = NULL;
    }
    return r;
}

static bool all_zero(const uint8_t *p, size_t len)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++)
        acc |= p[i];
    return acc == 0;
}

int hk_ke_derive(struct hk_ke *k, const uint8_t *peer, size_t len, struct hk_secret **shared)
{
    const struct ke_group *g = k->g;
    *shared = NULL;
    if (!peer || len != g->pub_len)
        return HK_E_PEER_KE; /* RFC 7296 3.4: length fixed by the group */
    EVP_PKEY *pk = NULL;
    EVP_PKEY_CTX *dctx = NULL;
    struct hk_secret *s = NULL;
    int r = peer_key(k, peer, &pk);
    if (r)
        goto done;
    r = HK_E_CRYPTO;
    dctx = EVP_PKEY_CTX_new_from_pkey(k->c->libctx, k->pkey, NULL);
    s = hk_secret_new(g->shared_len);
    if (!dctx || !s) {
        r = HK_E_NOMEM;
        goto done;
    }
    size_t n = s->len;
    if (EVP_PKEY_derive_init(dctx) <= 0 ||
        (g->kind == KE_MODP && EVP_PKEY_CTX_set_dh_pad(dctx, 1) <= 0) ||
        EVP_PKEY_derive_set_peer_ex(dctx, pk, 0) <= 0)
        goto done;
    if (EVP_PKEY_derive(dctx, s->data, &n) <= 0) {
        /* OpenSSL's X25519 fails exactly when the result is all zeros (RFC 7748 6.1). */
        if (g->kind == KE_X25519)
            r = HK_E_PEER_KE;
        goto done;
    }
    if (n != g->shared_len)
        goto done;
    /* RFC 7748 6.1 / RFC 8031 2: a low-order peer point gives all zeros; abort. */
    if (g->kind == KE_X25519 && all_zero(s->data, n)) {
        r = HK_E_PEER_KE;
        goto done;
    }
    *shared = s;
    s = NULL;
    r = HK_OK;
done:
    if (r == HK_E_PEER_KE)
        ERR_clear_error(); /* expected for hostile input; keep the queue for real faults */
    hk_secret_free(&s);
    EVP_PKEY_CTX_free(dctx);
    EVP_PKEY_free(pk);
    return r;
}
