/*
 * Payloads with a small fixed part followed by opaque data: KE (RFC 7296 3.4),
 * IDi/IDr (3.5), CERT/CERTREQ (3.6, 3.7), AUTH (3.8), Nonce (3.9), Vendor ID
 * (3.12), EAP (3.16).
 */
#include "ike/codec/codec_internal.h"

#define NONCE_MIN 16
#define NONCE_MAX 256
#define EAP_HDR   4 /* Code, Identifier, Length */

enum { EAP_REQUEST = 1, EAP_RESPONSE = 2, EAP_SUCCESS = 3, EAP_FAILURE = 4 };

static int need(const struct hk_cbs *b, size_t n, const char *what, struct hk_diag *d)
{
    if (hk_cbs_len(b) >= n)
        return HK_OK;
    hk_diag_set(d, "short %s payload: %zu < %zu", what, hk_cbs_len(b) + IKE_GENERIC_HDR_LEN,
                n + IKE_GENERIC_HDR_LEN);
    return HK_E_SHORT;
}

int ike_ke_decode(struct hk_cbs *b, struct ike_pl_ke *ke, struct hk_diag *d)
{
    int rc = need(b, 4, "KE", d);
    if (rc)
        return rc;
    hk_cbs_get_u16(b, &ke->group);
    hk_cbs_copy_bytes(b, ke->reserved, sizeof(ke->reserved));
    ike_view_rest(b, &ke->data);
    if (ke->data.len == 0) {
        hk_diag_set(d, "KE payload (group %u) without key exchange data", ke->group);
        return HK_E_SYNTAX;
    }
    return HK_OK;
}

int ike_ke_encode(const struct ike_pl_ke *ke, struct hk_cbb *out)
{
    hk_cbb_add_u16(out, ke->group);
    hk_cbb_add_bytes(out, ke->reserved, sizeof(ke->reserved));
    return ike_view_put(out, &ke->data);
}

int ike_id_decode(struct hk_cbs *b, struct ike_pl_id *id, struct hk_diag *d)
{
    int rc = need(b, 4, "ID", d);
    if (rc)
        return rc;
    hk_cbs_get_u8(b, &id->type);
    hk_cbs_copy_bytes(b, id->reserved, sizeof(id->reserved));
    ike_view_rest(b, &id->data);
    if (id->data.len == 0) {
        hk_diag_set(d, "ID payload (type %u) without identification data", id->type);
        return HK_E_SYNTAX;
    }
    return HK_OK;
}

int ike_id_encode(const struct ike_pl_id *id, struct hk_cbb *out)
{
    hk_cbb_add_u8(out, id->type);
    hk_cbb_add_bytes(out, id->reserved, sizeof(id->reserved));
    return ike_view_put(out, &id->data);
}

int ike_cert_decode(struct hk_cbs *b, struct ike_pl_cert *cert, struct hk_diag *d)
{
    int rc = need(b, 1, "CERT", d);
    if (rc)
        return rc;
    hk_cbs_get_u8(b, &cert->encoding);
    ike_view_rest(b, &cert->data); /* an empty CERTREQ authority list is legal */
    return HK_OK;
}

int ike_cert_encode(const struct ike_pl_cert *cert, struct hk_cbb *out)
{
    hk_cbb_add_u8(out, cert->encoding);
    return ike_view_put(out, &cert->data);
}

int ike_auth_decode(struct hk_cbs *b, struct ike_pl_auth *auth, struct hk_diag *d)
{
    int rc = need(b, 4, "AUTH", d);
    if (rc)
        return rc;
    hk_cbs_get_u8(b, &auth->method);
    hk_cbs_copy_bytes(b, auth->reserved, sizeof(auth->reserved));
    ike_view_rest(b, &auth->data);
    return HK_OK;
}

int ike_auth_encode(const struct ike_pl_auth *auth, struct hk_cbb *out)
{
    hk_cbb_add_u8(out, auth->method);
    hk_cbb_add_bytes(out, auth->reserved, sizeof(auth->reserved));
    return ike_view_put(out, &auth->data);
}

int ike_nonce_decode(struct hk_cbs *b, struct ike_pl_nonce *nonce, struct hk_diag *d)
{
    ike_view_rest(b, &nonce->data);
    /* RFC 7296 3.9: the Nonce Data MUST be 16..256 octets. */
    if (nonce->data.len < NONCE_MIN || nonce->data.len > NONCE_MAX) {
        hk_diag_set(d, "Nonce length %zu outside %d..%d", nonce->data.len, NONCE_MIN, NONCE_MAX);
        return HK_E_SYNTAX;
    }
    return HK_OK;
}

int ike_nonce_encode(const struct ike_pl_nonce *nonce, struct hk_cbb *out)
{
    return ike_view_put(out, &nonce->data);
}

int ike_vendor_decode(struct hk_cbs *b, struct ike_pl_vendor *v, struct hk_diag *d)
{
    (void)d;
    ike_view_rest(b, &v->id);
    return HK_OK;
}

int ike_vendor_encode(const struct ike_pl_vendor *v, struct hk_cbb *out)
{
    return ike_view_put(out, &v->id);
}

int ike_eap_decode(struct hk_cbs *b, struct ike_pl_eap *eap, struct hk_diag *d)
{
    struct hk_cbs c = *b;
    uint8_t code;
    uint16_t len;
    int rc = need(b, EAP_HDR, "EAP", d);
    if (rc)
        return rc;
    hk_cbs_get_u8(&c, &code);
    hk_cbs_skip(&c, 1);
    hk_cbs_get_u16(&c, &len);
    /* RFC 7296 3.16: the EAP Length MUST be four less than the Payload Length. */
    if (len != hk_cbs_len(b)) {
        hk_diag_set(d, "EAP length %u != %zu", len, hk_cbs_len(b));
        return HK_E_LENGTH;
    }
    /* Type is present only in Request/Response; Success/Failure are exactly four octets. */
    if ((code == EAP_REQUEST || code == EAP_RESPONSE) && len < EAP_HDR + 1) {
        hk_diag_set(d, "EAP code %u without type: length %u < %d", code, len, EAP_HDR + 1);
        return HK_E_SHORT;
    }
    if ((code == EAP_SUCCESS || code == EAP_FAILURE) && len != EAP_HDR) {
        hk_diag_set(d, "EAP code %u length %u != %d", code, len, EAP_HDR);
        return HK_E_LENGTH;
    }
    ike_view_rest(b, &eap->msg);
    return HK_OK;
}

int ike_eap_encode(const struct ike_pl_eap *eap, struct hk_cbb *out)
{
    return ike_view_put(out, &eap->msg);
}
