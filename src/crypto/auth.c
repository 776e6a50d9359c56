#include "crypto/auth.h"
#include "crypto/alg.h"
#include "crypto/prf.h"
#include "common/err.h"
#include "common/secret.h"

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

/* prf(SK_p, RestOfIDPayload), the last part of the octets (RFC 7296 2.15). */
static int id_mac(const struct hk_crypto *c, uint16_t prf, const uint8_t *sk_p, size_t sklen,
                  const uint8_t *id_body, size_t idlen, uint8_t *mac, size_t *maclen)
{
    /* RestOfIDPayload is at least ID Type | RESERVED (RFC 7296 3.5). */
    if (!sk_p || !sklen || !id_body || idlen < 4)
        return HK_E_INVALID;
    return auth_prf(c, prf, sk_p, sklen, id_body, idlen, mac, maclen);
}

int hk_auth_octets(const struct hk_crypto *c, uint16_t prf, const uint8_t *real_msg, size_t mlen,
                   const uint8_t *peer_nonce, size_t nlen, const uint8_t *sk_p, size_t sklen,
                   const uint8_t *id_body, size_t idlen, struct hk_cbb *out)
{
    if (!hk_prf_out_len(prf))
        return HK_E_UNSUPPORTED;
    if (!real_msg || !mlen || !peer_nonce || !nlen)
        return HK_E_INVALID;
    uint8_t mac[HK_AUTH_PSK_MAX];
    size_t maclen;
    size_t start = out->len;
    int rc = id_mac(c, prf, sk_p, sklen, id_body, idlen, mac, &maclen);
    if (rc)
        return rc;
    hk_cbb_add_bytes(out, real_msg, mlen);
    hk_cbb_add_bytes(out, peer_nonce, nlen);
    hk_cbb_add_bytes(out, mac, maclen);
    if ((rc = hk_cbb_err(out)))
        hk_cbb_truncate(out, start);
    hk_wipe(mac, sizeof(mac));
    return rc;
}

int hk_auth_psk_pad(const struct hk_crypto *c, uint16_t prf, const uint8_t *psk, size_t psklen,
                    uint8_t *out)
{
    size_t len;
    if (!psk || !psklen)
        return HK_E_INVALID;
    return auth_prf(c, prf, psk, psklen, key_pad, sizeof(key_pad), out, &len);
}

int hk_auth_psk_from_pad(const struct hk_crypto *c, uint16_t prf, const uint8_t *pad, size_t padlen,
                         const uint8_t *real_msg, size_t mlen, const uint8_t *peer_nonce,
                         size_t nlen, const uint8_t *sk_p, size_t sklen, const uint8_t *id_body,
                         size_t idlen, uint8_t *out, size_t *outlen)
{
    size_t len = hk_prf_out_len(prf);
    if (!len || len > HK_AUTH_PSK_MAX)
        return HK_E_UNSUPPORTED;
    if (!pad || padlen != len || !real_msg || !mlen || !peer_nonce || !nlen)
        return HK_E_INVALID;
    if (*outlen < len)
        return HK_E_OVERFLOW;
    uint8_t mac[HK_AUTH_PSK_MAX];
    size_t maclen;
    int rc = id_mac(c, prf, sk_p, sklen, id_body, idlen, mac, &maclen);
    if (!rc) {
        /* The octets go to the PRF in pieces: no copy of the message (which can be long). */
        const struct hk_prf_seg oct[3] = {{real_msg, mlen}, {peer_nonce, nlen}, {mac, maclen}};
        rc = hk_prf_segs(c, prf, pad, padlen, oct, 3, out);
    }
    if (!rc)
        *outlen = len;
    hk_wipe(mac, sizeof(mac));
    return rc;
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
    size_t reslen;
    int rc = hk_auth_psk_pad(c, prf, psk, psklen, padkey);
    if (!rc)
        rc = auth_prf(c, prf, padkey, hk_prf_out_len(prf), octets, olen, res, &reslen);
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
