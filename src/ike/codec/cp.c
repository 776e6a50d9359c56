/* Configuration payload (RFC 7296 3.15). */
#include "ike/codec/codec_internal.h"

#define CP_ATTR_HDR_LEN 4
#define CP_ATTR_R       0x8000

/* Counts attributes by their lengths; checks each one fits. */
static int count_attrs(struct hk_cbs c, size_t *count, struct hk_diag *d)
{
    size_t n = 0;
    while (hk_cbs_len(&c)) {
        uint16_t type, len;
        if (n >= IKE_MAX_ITEMS) {
            hk_diag_set(d, "too many CP attributes: more than %d", IKE_MAX_ITEMS);
            return HK_E_SYNTAX;
        }
        if (hk_cbs_len(&c) < CP_ATTR_HDR_LEN) {
            hk_diag_set(d, "short CP attribute %zu: %zu < %d", n + 1, hk_cbs_len(&c),
                        CP_ATTR_HDR_LEN);
            return HK_E_SHORT;
        }
        hk_cbs_get_u16(&c, &type);
        hk_cbs_get_u16(&c, &len);
        if (hk_cbs_skip(&c, len)) {
            hk_diag_set(d, "CP attribute %u length %u > %zu remaining", type & (uint16_t)~CP_ATTR_R,
                        len, hk_cbs_len(&c));
            return HK_E_LENGTH;
        }
        n++;
    }
    *count = n;
    return HK_OK;
}

int ike_cp_decode(struct hk_cbs *b, struct ike_pl_cp *cp, struct hk_arena *a, struct hk_diag *d)
{
    size_t n;
    if (hk_cbs_len(b) < 4) {
        hk_diag_set(d, "short CP payload: %zu < 8", hk_cbs_len(b) + IKE_GENERIC_HDR_LEN);
        return HK_E_SHORT;
    }
    hk_cbs_get_u8(b, &cp->cfg_type);
    hk_cbs_copy_bytes(b, cp->reserved, sizeof(cp->reserved));
    int rc = count_attrs(*b, &n, d);
    if (rc)
        return rc;
    cp->nattrs = n;
    if (n == 0)
        return HK_OK; /* zero attributes are allowed (3.15) */
    cp->attrs = hk_arena_calloc(a, n, sizeof(*cp->attrs));
    if (!cp->attrs) {
        hk_diag_set(d, "arena refused %zu CP attributes", n);
        return HK_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        struct ike_cfg_attr *at = &cp->attrs[i];
        uint16_t type, len;
        hk_cbs_get_u16(b, &type);
        hk_cbs_get_u16(b, &len);
        at->type = type & (uint16_t)~CP_ATTR_R;
        at->r_bit = (type & CP_ATTR_R) != 0;
        at->value.p = hk_cbs_data(b);
        at->value.len = len;
        hk_cbs_skip(b, len); /* checked by count_attrs */
    }
    return HK_OK;
}

int ike_cp_encode(const struct ike_pl_cp *cp, struct hk_cbb *out)
{
    if (cp->nattrs && !cp->attrs)
        return HK_E_INVALID;
    hk_cbb_add_u8(out, cp->cfg_type);
    hk_cbb_add_bytes(out, cp->reserved, sizeof(cp->reserved));
    for (size_t i = 0; i < cp->nattrs; i++) {
        const struct ike_cfg_attr *at = &cp->attrs[i];
        if ((at->type & CP_ATTR_R) || at->value.len > UINT16_MAX)
            return HK_E_INVALID;
        hk_cbb_add_u16(out, (uint16_t)(at->type | (at->r_bit ? CP_ATTR_R : 0)));
        hk_cbb_add_u16(out, (uint16_t)at->value.len);
        int rc = ike_view_put(out, &at->value);
        if (rc)
            return rc;
    }
    return hk_cbb_err(out);
}
