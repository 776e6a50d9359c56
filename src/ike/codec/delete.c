/* Delete payload (RFC 7296 3.11). */
#include "ike/codec/codec_internal.h"

int ike_delete_decode(struct hk_cbs *b, struct ike_pl_delete *del, struct hk_diag *d)
{
    if (hk_cbs_len(b) < 4) {
        hk_diag_set(d, "short D payload: %zu < 8", hk_cbs_len(b) + IKE_GENERIC_HDR_LEN);
        return HK_E_SHORT;
    }
    hk_cbs_get_u8(b, &del->protocol);
    hk_cbs_get_u8(b, &del->spi_size);
    hk_cbs_get_u16(b, &del->nspis);
    /* RFC 7296 3.11: the IKE SA is deleted with SPI size 0 and no SPIs; AH/ESP use 4. */
    if (del->protocol == IKE_PROTO_IKE && (del->spi_size != 0 || del->nspis != 0)) {
        hk_diag_set(d, "D(IKE) with SPI size %u and %u SPIs, want 0 and 0", del->spi_size,
                    del->nspis);
        return HK_E_SYNTAX;
    }
    if ((del->protocol == IKE_PROTO_AH || del->protocol == IKE_PROTO_ESP) && del->spi_size != 4) {
        hk_diag_set(d, "D(protocol %u) SPI size %u != 4", del->protocol, del->spi_size);
        return HK_E_SYNTAX;
    }
    size_t want = (size_t)del->spi_size * del->nspis;
    if (want != hk_cbs_len(b)) {
        hk_diag_set(d, "D: %u SPIs of %u octets = %zu != %zu", del->nspis, del->spi_size, want,
                    hk_cbs_len(b));
        return HK_E_LENGTH;
    }
    ike_view_rest(b, &del->spis);
    return HK_OK;
}

int ike_delete_encode(const struct ike_pl_delete *del, struct hk_cbb *out)
{
    hk_cbb_add_u8(out, del->protocol);
    hk_cbb_add_u8(out, del->spi_size);
    hk_cbb_add_u16(out, del->nspis);
    return ike_view_put(out, &del->spis);
}
