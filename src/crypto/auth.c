#include "crypto/auth.h"
#include "crypto/alg.h"
#include "crypto/prf.h"
#include "common/err.h"
#include "common/secret.h"

#include <stdlib.h>
#include <string.h>

/* RFC 7296 2.15: 17 ASCII characters, no NUL. */
static const uint8_t key_pad[] = {'K', 'e', 'y', ' ', 'P', 'a', 'd', ' ', 'f',
                                  'o', 'r', ' ', 'I', 'K', 'E', 'v', '2'};

/* prf(key, data) into out (HK_AUTH_PSK_MAX octets of room); *outlen gets the PRF size. */
static int auth_prf(const struct hk_crypto *c, uint16_t prf, const uint8_t *key, size_t klen,
                    const uint8_t *data, size_t dlen, uint8_t *out, size_t *outlen)
{
    *outlen = hk_prf_out_len(prf);
    if (!*outlen || *outlen > HK_AUTH_PSK_MAX)
        return HK_E_UNSUPPORTED;
    return hk_prf(c, prf, key, klen, data, dlen, out);
}

int hk_auth_octets(const struct hk_crypto *c, uint16_t prf, const uint8_t *real_msg, size_t mlen,
                   const uint8_t *peer_nonce, size_t nlen, const uint8_t *sk_p, size_t sklen,
                   const uint8_t *id_body, size_t idlen, struct hk_cbb *out)
{
    if (!hk_prf_out_len(prf))
        return HK_E_UNSUPPORTED;
    /* RestOfIDPayload is at least ID Type | RESERVED (RFC 7296 3.5). */
    if (!real_msg || !mlen || !peer_nonce || !nlen || !sk_p || !sklen || !id_body || idlen < 4)
        return HK_E_INVALID;
    uint8_t mac[HK_AUTH_PSK_MAX];
    size_t maclen;
    size_t start = out->len;
    int rc = auth_prf(c, prf, sk_p, sklen, id_body, idlen, mac, &maclen);
    if (rc)
        return rc;
    hk_cbb_add_bytes(out, real_msg, mlen);
    hk_cbb_add_bytes(out, peer_nonce, nlen);
    hk_cbb_add_bytes(out, mac, maclen);
    if ((rc = hk_cbb_err(out)))
        hk_cbb_truncate(out, start);
    return rc;
}

struct hk_psk_pad {
    uint16_t prf;  /* 0: empty */
    size_t psklen; /* s holds the PSK, then prf(PSK, key_pad) */
    struct hk_secret *s;
};

int hk_auth_prefetch(struct hk_crypto *c)
{
    c->psk_pad = calloc(1, sizeof(*c->psk_pad));
    return c->psk_pad ? HK_OK : HK_E_NOMEM;
}

void hk_auth_prefetch_free(struct hk_crypto *c)
{
    if (!c->psk_pad)
        return;
    hk_secret_free(&c->psk_pad->s);
    free(c->psk_pad);
    c->psk_pad = NULL;
}

/*
 * prf(psk, "Key Pad for IKEv2") into out (*outlen: the PRF size), from c's remembered one
 * when it was made from the same PSK with the same PRF. The PSKs are compared in constant
 * time; their lengths are not secret.
 */
static int psk_pad_key(const struct hk_crypto *c, uint16_t prf, const uint8_t *psk, size_t psklen,
                       uint8_t *out, size_t *outlen)
{
    struct hk_psk_pad *m = c->psk_pad;
    size_t hlen = hk_prf_out_len(prf);
    if (m && m->s && m->prf == prf && m->psklen == psklen &&
        !hk_memeq_ct(m->s->data, psk, psklen)) {
        memcpy(out, m->s->data + psklen, hlen);
        *outlen = hlen;
        return HK_OK;
    }
    int rc = auth_prf(c, prf, psk, psklen, key_pad, sizeof(key_pad), out, outlen);
    if (rc || !m || psklen > SIZE_MAX - hlen)
        return rc;
    /* Remember this one in place of the last; out of memory only means no shortcut. */
    hk_secret_free(&m->s);
    m->prf = 0;
    if ((m->s = hk_secret_concat(psk, psklen, out, hlen))) {
        m->prf = prf;
        m->psklen = psklen;
    }
    return HK_OK;
}

int hk_auth_psk_compute(const struct hk_crypto *c, uint16_t prf, const uint8_t *psk, size_t psklen,
                        const uint8_t *octets, size_t olen, uint8_t *out, size_t *outlen)
{
    if (!hk_prf_out_len(prf))
        return HK_E_UNSUPPORTED;
    if (!psk || !psklen || !octets || !olen)
        return HK_E_INVALID;
    if (*outlen < hk_prf_out_len(prf))
        return HK_E_OVERFLOW;
    uint8_t padkey[HK_AUTH_PSK_MAX], res[HK_AUTH_PSK_MAX];
    size_t padlen, reslen;
    int rc = psk_pad_key(c, prf, psk, psklen, padkey, &padlen);
    if (!rc)
        rc = auth_prf(c, prf, padkey, padlen, octets, olen, res, &reslen);
    if (!rc) {
        memcpy(out, res, reslen);
        *outlen = reslen;
    }
    hk_wipe(padkey, sizeof(padkey));
    hk_wipe(res, sizeof(res));
    return rc;
}

int hk_auth_psk_verify(const struct hk_crypto *c, uint16_t prf, const uint8_t *psk, size_t psklen,
                       const uint8_t *octets, size_t olen, const uint8_t *auth, size_t alen)
{
    uint8_t want[HK_AUTH_PSK_MAX];
    size_t wlen = sizeof(want);
    int rc = hk_auth_psk_compute(c, prf, psk, psklen, octets, olen, want, &wlen);
    if (!rc && (!auth || alen != wlen || hk_memeq_ct(want, auth, wlen)))
        rc = HK_E_AUTH; /* the length is public; only the value is compared in constant time */
    hk_wipe(want, sizeof(want));
    return rc;
}
