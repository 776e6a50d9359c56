/* Encrypted payload SK (RFC 7296 3.14) and Encrypted Fragment SKF (RFC 7383 2.5). */
#include "ike/codec/codec_internal.h"

int ike_sk_decode(struct hk_cbs *b, uint8_t first_inner, struct ike_pl_sk *sk, struct hk_diag *d)
{
    (void)d; /* IV, padding and ICV sizes depend on the negotiated algorithms */
    sk->first_inner = first_inner;
    ike_view_rest(b, &sk->body);
    return HK_OK;
}

int ike_sk_encode(const struct ike_pl_sk *sk, struct hk_cbb *out)
{
    return ike_view_put(out, &sk->body);
}

int ike_skf_decode(struct hk_cbs *b, uint8_t first_inner, struct ike_pl_skf *skf, struct hk_diag *d)
{
    if (hk_cbs_len(b) < 4) {
        hk_diag_set(d, "short SKF payload: %zu < 8", hk_cbs_len(b) + IKE_GENERIC_HDR_LEN);
        return HK_E_SHORT;
    }
    skf->first_inner = first_inner;
    hk_cbs_get_u16(b, &skf->frag_num);
    hk_cbs_get_u16(b, &skf->total_frags);
    /* RFC 7383 2.5: 1 <= Fragment Number <= Total Fragments. */
    if (skf->frag_num == 0 || skf->total_frags == 0 || skf->frag_num > skf->total_frags) {
        hk_diag_set(d, "SKF fragment %u of %u", skf->frag_num, skf->total_frags);
        return HK_E_SYNTAX;
    }
    /* RFC 7383 2.5: Next Payload MUST be zero in all fragments but the first. */
    if (skf->frag_num != 1 && first_inner != IKE_PL_NONE) {
        hk_diag_set(d, "SKF fragment %u names inner payload %u", skf->frag_num, first_inner);
        return HK_E_SYNTAX;
    }
    ike_view_rest(b, &skf->body);
    return HK_OK;
}

int ike_skf_encode(const struct ike_pl_skf *skf, struct hk_cbb *out)
{
    hk_cbb_add_u16(out, skf->frag_num);
    hk_cbb_add_u16(out, skf->total_frags);
    return ike_view_put(out, &skf->body);
}
