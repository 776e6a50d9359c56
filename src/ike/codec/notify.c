/* Notify payload (RFC 7296 3.10) and the notify type registry (3.10.1). */
#include "ike/codec/notify.h"
#include "ike/codec/codec_internal.h"

#define NOTIFY_FIXED_LEN 4 /* Protocol ID, SPI Size, Notify Message Type */

const char *ike_notify_name(uint16_t type)
{
    switch (type) {
    case IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD:
        return "UNSUPPORTED_CRITICAL_PAYLOAD";
    case IKE_N_INVALID_IKE_SPI:
        return "INVALID_IKE_SPI";
    case IKE_N_INVALID_MAJOR_VERSION:
        return "INVALID_MAJOR_VERSION";
    case IKE_N_INVALID_SYNTAX:
        return "INVALID_SYNTAX";
    case IKE_N_INVALID_MESSAGE_ID:
        return "INVALID_MESSAGE_ID";
    case IKE_N_INVALID_SPI:
        return "INVALID_SPI";
    case IKE_N_NO_PROPOSAL_CHOSEN:
        return "NO_PROPOSAL_CHOSEN";
    case IKE_N_INVALID_KE_PAYLOAD:
        return "INVALID_KE_PAYLOAD";
    case IKE_N_AUTHENTICATION_FAILED:
        return "AUTHENTICATION_FAILED";
    case IKE_N_SINGLE_PAIR_REQUIRED:
        return "SINGLE_PAIR_REQUIRED";
    case IKE_N_NO_ADDITIONAL_SAS:
        return "NO_ADDITIONAL_SAS";
    case IKE_N_INTERNAL_ADDRESS_FAILURE:
        return "INTERNAL_ADDRESS_FAILURE";
    case IKE_N_FAILED_CP_REQUIRED:
        return "FAILED_CP_REQUIRED";
    case IKE_N_TS_UNACCEPTABLE:
        return "TS_UNACCEPTABLE";
    case IKE_N_INVALID_SELECTORS:
        return "INVALID_SELECTORS";
    case IKE_N_TEMPORARY_FAILURE:
        return "TEMPORARY_FAILURE";
    case IKE_N_CHILD_SA_NOT_FOUND:
        return "CHILD_SA_NOT_FOUND";
    case IKE_N_INITIAL_CONTACT:
        return "INITIAL_CONTACT";
    case IKE_N_SET_WINDOW_SIZE:
        return "SET_WINDOW_SIZE";
    case IKE_N_ADDITIONAL_TS_POSSIBLE:
        return "ADDITIONAL_TS_POSSIBLE";
    case IKE_N_IPCOMP_SUPPORTED:
        return "IPCOMP_SUPPORTED";
    case IKE_N_NAT_DETECTION_SOURCE_IP:
        return "NAT_DETECTION_SOURCE_IP";
    case IKE_N_NAT_DETECTION_DESTINATION_IP:
        return "NAT_DETECTION_DESTINATION_IP";
    case IKE_N_COOKIE:
        return "COOKIE";
    case IKE_N_USE_TRANSPORT_MODE:
        return "USE_TRANSPORT_MODE";
    case IKE_N_HTTP_CERT_LOOKUP_SUPPORTED:
        return "HTTP_CERT_LOOKUP_SUPPORTED";
    case IKE_N_REKEY_SA:
        return "REKEY_SA";
    case IKE_N_ESP_TFC_PADDING_NOT_SUPPORTED:
        return "ESP_TFC_PADDING_NOT_SUPPORTED";
    case IKE_N_NON_FIRST_FRAGMENTS_ALSO:
        return "NON_FIRST_FRAGMENTS_ALSO";
    case IKE_N_MOBIKE_SUPPORTED:
        return "MOBIKE_SUPPORTED";
    case IKE_N_ADDITIONAL_IP4_ADDRESS:
        return "ADDITIONAL_IP4_ADDRESS";
    case IKE_N_ADDITIONAL_IP6_ADDRESS:
        return "ADDITIONAL_IP6_ADDRESS";
    case IKE_N_NO_ADDITIONAL_ADDRESSES:
        return "NO_ADDITIONAL_ADDRESSES";
    case IKE_N_UPDATE_SA_ADDRESSES:
        return "UPDATE_SA_ADDRESSES";
    case IKE_N_COOKIE2:
        return "COOKIE2";
    case IKE_N_NO_NATS_ALLOWED:
        return "NO_NATS_ALLOWED";
    case IKE_N_REDIRECT_SUPPORTED:
        return "REDIRECT_SUPPORTED";
    case IKE_N_REDIRECT:
        return "REDIRECT";
    case IKE_N_REDIRECTED_FROM:
        return "REDIRECTED_FROM";
    case IKE_N_CHILDLESS_IKEV2_SUPPORTED:
        return "CHILDLESS_IKEV2_SUPPORTED";
    case IKE_N_IKEV2_MESSAGE_ID_SYNC_SUPPORTED:
        return "IKEV2_MESSAGE_ID_SYNC_SUPPORTED";
    case IKE_N_IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED:
        return "IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED";
    case IKE_N_IKEV2_MESSAGE_ID_SYNC:
        return "IKEV2_MESSAGE_ID_SYNC";
    case IKE_N_IPSEC_REPLAY_COUNTER_SYNC:
        return "IPSEC_REPLAY_COUNTER_SYNC";
    case IKE_N_IKEV2_FRAGMENTATION_SUPPORTED:
        return "IKEV2_FRAGMENTATION_SUPPORTED";
    case IKE_N_SIGNATURE_HASH_ALGORITHMS:
        return "SIGNATURE_HASH_ALGORITHMS";
    case IKE_N_CLONE_IKE_SA_SUPPORTED:
        return "CLONE_IKE_SA_SUPPORTED";
    case IKE_N_CLONE_IKE_SA:
        return "CLONE_IKE_SA";
    /* The default private-use value; a configured other value is named by the caller. */
    case IKE_N_HAND_OVER_CHILD_SAS_DEFAULT:
        return "HAND_OVER_CHILD_SAS";
    }
    if (type >= IKE_N_PRIVATE_ERROR_MIN && type < IKE_N_STATUS_MIN)
        return "PRIVATE_ERROR";
    if (type >= IKE_N_PRIVATE_STATUS_MIN)
        return "PRIVATE_STATUS";
    return "UNKNOWN";
}

bool ike_notify_is_error(uint16_t type)
{
    return type < IKE_N_STATUS_MIN;
}

int ike_notify_decode(struct hk_cbs *b, struct ike_pl_notify *n, struct hk_diag *d)
{
    uint8_t spi_size;
    const uint8_t *spi;
    if (hk_cbs_len(b) < NOTIFY_FIXED_LEN) {
        hk_diag_set(d, "short N payload: %zu < %d", hk_cbs_len(b) + IKE_GENERIC_HDR_LEN,
                    NOTIFY_FIXED_LEN + IKE_GENERIC_HDR_LEN);
        return HK_E_SHORT;
    }
    hk_cbs_get_u8(b, &n->protocol);
    hk_cbs_get_u8(b, &spi_size);
    hk_cbs_get_u16(b, &n->type);
    /* RFC 7296 3.10: none for the IKE SA, else the protocol's SPI size (8 once used for IKE). */
    if (spi_size != 0 && spi_size != 4 && spi_size != IKE_SPI_LEN) {
        hk_diag_set(d, "N(%s) SPI size %u not 0, 4 or 8", ike_notify_name(n->type), spi_size);
        return HK_E_SYNTAX;
    }
    if (hk_cbs_get_bytes(b, &spi, spi_size)) {
        hk_diag_set(d, "N(%s) SPI size %u > %zu remaining", ike_notify_name(n->type), spi_size,
                    hk_cbs_len(b));
        return HK_E_LENGTH;
    }
    n->spi.p = spi;
    n->spi.len = spi_size;
    ike_view_rest(b, &n->data);
    return HK_OK;
}

int ike_notify_encode(const struct ike_pl_notify *n, struct hk_cbb *out)
{
    if (n->spi.len > UINT8_MAX)
        return HK_E_INVALID;
    hk_cbb_add_u8(out, n->protocol);
    hk_cbb_add_u8(out, (uint8_t)n->spi.len);
    hk_cbb_add_u16(out, n->type);
    int rc = ike_view_put(out, &n->spi);
    return rc ? rc : ike_view_put(out, &n->data);
}
