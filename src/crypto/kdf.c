#include "crypto/kdf.h"
#include "common/err.h"
#include "crypto/alg.h"
#include "crypto/prf.h"

#include <string.h>

/* RFC 7296 2.10: nonces are at most 256 octets. */
#define NONCE_MAX 256

bool hk_encr_is_aead(uint16_t encr)
{
    return encr == HK_ENCR_AES_GCM_16 || encr == HK_ENCR_CHACHA20_POLY1305;
}

size_t hk_encr_key_len(uint16_t encr, uint16_t key_bits)
{
    switch (encr) {
    case HK_ENCR_AES_CBC:
        if (key_bits == 128 || key_bits == 192 || key_bits == 256)
            return key_bits / 8;
        return 0;
    case HK_ENCR_AES_GCM_16:
        if (key_bits == 128 || key_bits == 256)
            return key_bits / 8 + 4; /* RFC 4106 8.1: key then 4-octet salt */
        return 0;
    case HK_ENCR_CHACHA20_POLY1305:
        /* RFC 7634 4: no Key Length attribute; the key is always 256 bits. */
        return key_bits == 0 || key_bits == 256 ? 32 + 4 : 0;
    }
    return 0;
}

size_t hk_integ_key_len(uint16_t integ)
{
    switch (integ) {
    case HK_AUTH_HMAC_SHA2_256_128:
        return 32;
    case HK_AUTH_HMAC_SHA2_384_192:
        return 48;
    case HK_AUTH_HMAC_SHA2_512_256:
        return 64;
    }
    return 0;
}

/* A fresh secret holding prf(key, seg...). */
static int prf_secret(const struct hk_crypto *c, uint16_t prf, const uint8_t *key, size_t klen,
                      const struct hk_prf_seg *seg, size_t nseg, struct hk_secret **out)
{
    size_t hlen = hk_prf_out_len(prf);
    if (!hlen)
        return HK_E_UNSUPPORTED;
    struct hk_secret *s = hk_secret_new(hlen);
    if (!s)
        return HK_E_NOMEM;
    int r = hk_prf_segs(c, prf, key, klen, seg, nseg, s->data);
    if (r) {
        hk_secret_free(&s);
        return r;
    }
    *out = s;
    return HK_OK;
}

int hk_skeyseed(const struct hk_crypto *c, uint16_t prf, const uint8_t *ni, size_t nilen,
                const uint8_t *nr, size_t nrlen, const uint8_t *g_ir, size_t glen,
                struct hk_secret **out)
{
    *out = NULL;
    if (nilen > NONCE_MAX || nrlen > NONCE_MAX || (!ni && nilen) || (!nr && nrlen) ||
        (!g_ir && glen))
        return HK_E_INVALID;
    /* HMAC PRFs take all of Ni | Nr as the key (only the AES PRFs truncate, 2.14). */
    uint8_t key[2 * NONCE_MAX];
    if (nilen)
        memcpy(key, ni, nilen);
    if (nrlen)
        memcpy(key + nilen, nr, nrlen);
    const struct hk_prf_seg seg = {g_ir, glen};
    int r = prf_secret(c, prf, key, nilen + nrlen, &seg, 1, out);
    hk_wipe(key, nilen + nrlen);
    return r;
}

int hk_skeyseed_rekey(const struct hk_crypto *c, uint16_t old_prf, const struct hk_secret *sk_d_old,
                      const uint8_t *g_ir_new, size_t glen, const uint8_t *ni, size_t nilen,
                      const uint8_t *nr, size_t nrlen, struct hk_secret **out)
{
    *out = NULL;
    /* RFC 7296 2.18: a rekey MUST include a new Diffie-Hellman exchange. */
    if (!sk_d_old || !g_ir_new || !glen || (!ni && nilen) || (!nr && nrlen))
        return HK_E_INVALID;
    const struct hk_prf_seg seg[] = {{g_ir_new, glen}, {ni, nilen}, {nr, nrlen}};
    return prf_secret(c, old_prf, sk_d_old->data, sk_d_old->len, seg, 3, out);
}

void hk_ike_keys_free(struct hk_ike_keys *k)
{
    if (!k)
        return;
    hk_secret_free(&k->sk_d);
    hk_secret_free(&k->sk_ai);
    hk_secret_free(&k->sk_ar);
    hk_secret_free(&k->sk_ei);
    hk_secret_free(&k->sk_er);
    hk_secret_free(&k->sk_pi);
    hk_secret_free(&k->sk_pr);
}

struct key_part {
    struct hk_secret **dst;
    size_t len;
};

/* Cuts stream into parts in order; a part of length 0 stays NULL. */
static int split_stream(const uint8_t *stream, const struct key_part *part, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!part[i].len)
            continue;
        *part[i].dst = hk_secret_dup(stream, part[i].len);
        if (!*part[i].dst)
            return HK_E_NOMEM;
        stream += part[i].len;
    }
    return HK_OK;
}

int hk_ike_keys_derive(const struct hk_crypto *c, const struct hk_ike_alg *alg,
                       const struct hk_secret *skeyseed, const uint8_t *ni, size_t nilen,
                       const uint8_t *nr, size_t nrlen, const uint8_t spi_i[8],
                       const uint8_t spi_r[8], struct hk_ike_keys *out)
{
    memset(out, 0, sizeof(*out));
    if (!skeyseed || (!ni && nilen) || (!nr && nrlen) || !spi_i || !spi_r)
        return HK_E_INVALID;
    size_t pk = hk_prf_key_len(alg->prf);
    size_t ek = hk_encr_key_len(alg->encr, alg->encr_key_bits);
    size_t ik = hk_integ_key_len(alg->integ);
    if (!pk || !ek)
        return HK_E_UNSUPPORTED;
    if (hk_encr_is_aead(alg->encr)) {
        /* RFC 5282 7.1: SK_ai and SK_ar have size zero; no integrity transform is used. */
        if (alg->integ != HK_AUTH_NONE)
            return HK_E_INVALID;
    } else if (!ik) {
        return alg->integ == HK_AUTH_NONE ? HK_E_INVALID : HK_E_UNSUPPORTED;
    }
    /* RFC 7296 2.13/2.14: SK_d, SK_pi and SK_pr take the PRF's preferred key size. */
    const struct key_part part[] = {
        {&out->sk_d, pk},  {&out->sk_ai, ik}, {&out->sk_ar, ik}, {&out->sk_ei, ek},
        {&out->sk_er, ek}, {&out->sk_pi, pk}, {&out->sk_pr, pk},
    };
    size_t total = 3 * pk + 2 * ik + 2 * ek;
    struct hk_secret *stream = hk_secret_new(total);
    if (!stream)
        return HK_E_NOMEM;
    const struct hk_prf_seg seed[] = {{ni, nilen}, {nr, nrlen}, {spi_i, 8}, {spi_r, 8}};
    int r =
        hk_prf_plus_segs(c, alg->prf, skeyseed->data, skeyseed->len, seed, 4, stream->data, total);
    if (!r)
        r = split_stream(stream->data, part, sizeof(part) / sizeof(part[0]));
    hk_secret_free(&stream);
    if (r)
        hk_ike_keys_free(out);
    return r;
}

int hk_child_keymat(const struct hk_crypto *c, uint16_t prf, const struct hk_secret *sk_d,
                    const uint8_t *g_ir, size_t glen, const uint8_t *ni, size_t nilen,
                    const uint8_t *nr, size_t nrlen, size_t len, struct hk_secret **out)
{
    *out = NULL;
    if (!sk_d || !len || (g_ir && !glen) || (!ni && nilen) || (!nr && nrlen))
        return HK_E_INVALID;
    if (!hk_prf_out_len(prf))
        return HK_E_UNSUPPORTED;
    struct hk_secret *k = hk_secret_new(len);
    if (!k)
        return HK_E_NOMEM;
    /* Without PFS the g^ir segment is empty: KEYMAT = prf+(SK_d, Ni | Nr). */
    const struct hk_prf_seg seed[] = {{g_ir, g_ir ? glen : 0}, {ni, nilen}, {nr, nrlen}};
    int r = hk_prf_plus_segs(c, prf, sk_d->data, sk_d->len, seed, 3, k->data, len);
    if (r) {
        hk_secret_free(&k);
        return r;
    }
    *out = k;
    return HK_OK;
}

size_t hk_child_keymat_len(size_t encr_len, size_t integ_len)
{
    return 2 * (encr_len + integ_len);
}

void hk_child_keys_free(struct hk_child_keys *k)
{
    if (!k)
        return;
    hk_secret_free(&k->encr_ir);
    hk_secret_free(&k->integ_ir);
    hk_secret_free(&k->encr_ri);
    hk_secret_free(&k->integ_ri);
}

int hk_child_keys_split(const struct hk_secret *keymat, size_t encr_len, size_t integ_len,
                        struct hk_child_keys *out)
{
    memset(out, 0, sizeof(*out));
    if (!keymat || (!encr_len && !integ_len) ||
        keymat->len != hk_child_keymat_len(encr_len, integ_len))
        return HK_E_INVALID;
    /* RFC 7296 2.17: initiator-to-responder SA first; encryption key, then integrity key. */
    const struct key_part part[] = {
        {&out->encr_ir, encr_len},
        {&out->integ_ir, integ_len},
        {&out->encr_ri, encr_len},
        {&out->integ_ri, integ_len},
    };
    int r = split_stream(keymat->data, part, sizeof(part) / sizeof(part[0]));
    if (r)
        hk_child_keys_free(out);
    return r;
}
