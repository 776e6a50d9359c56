/* IKE header (RFC 7296 3.1). */
#include "ike/codec/codec_internal.h"

int ike_hdr_decode(const uint8_t *buf, size_t len, struct ike_hdr *hdr, struct hk_diag *d)
{
    struct hk_cbs c;
    if (!buf && len)
        return HK_E_INVALID;
    if (len < IKE_HDR_LEN) {
        hk_diag_set(d, "short message: %zu < %d", len, IKE_HDR_LEN);
        return HK_E_SHORT;
    }
    hk_cbs_init(&c, buf, len);
    hk_cbs_copy_bytes(&c, hdr->spi_i, IKE_SPI_LEN);
    hk_cbs_copy_bytes(&c, hdr->spi_r, IKE_SPI_LEN);
    hk_cbs_get_u8(&c, &hdr->next_payload);
    hk_cbs_get_u8(&c, &hdr->version);
    hk_cbs_get_u8(&c, &hdr->exchange);
    hk_cbs_get_u8(&c, &hdr->flags);
    hk_cbs_get_u32(&c, &hdr->msg_id);
    hk_cbs_get_u32(&c, &hdr->length);

    unsigned major = hdr->version >> 4;
    /* RFC 7296 3.1: a higher major version MUST be rejected with INVALID_MAJOR_VERSION. */
    if (major > IKE_MAJOR_VERSION) {
        hk_diag_set(d, "major version %u > %d", major, IKE_MAJOR_VERSION);
        return HK_E_UNSUPPORTED;
    }
    if (major < IKE_MAJOR_VERSION) {
        hk_diag_set(d, "major version %u is not IKEv2", major);
        return HK_E_SYNTAX;
    }
    if (hdr->length < IKE_HDR_LEN) {
        hk_diag_set(d, "header length %u < %d", hdr->length, IKE_HDR_LEN);
        return HK_E_LENGTH;
    }
    return HK_OK;
}

int ike_hdr_encode(const struct ike_hdr *hdr, uint8_t first, struct hk_cbb *out, size_t *len_pos)
{
    hk_cbb_add_bytes(out, hdr->spi_i, IKE_SPI_LEN);
    hk_cbb_add_bytes(out, hdr->spi_r, IKE_SPI_LEN);
    hk_cbb_add_u8(out, first);
    hk_cbb_add_u8(out, hdr->version);
    hk_cbb_add_u8(out, hdr->exchange);
    hk_cbb_add_u8(out, hdr->flags);
    hk_cbb_add_u32(out, hdr->msg_id);
    return hk_cbb_reserve(out, len_pos, 4);
}
