/* Notify payload (RFC 7296 3.10) and the notify type registry (3.10.1). */
#include "ike/codec/notify.h"
#include "ike/codec/codec_internal.h"

#define NOTIFY_FIXED_LEN 4 /* Protocol ID, SPI Size, Notify Message Type */

/* Every type of the IANA registry hike may meet, named as the registry names it. */
#define NAME(x)                                                                                    \
    case IKE_N_##x:                                                                                \
        return #x

const char *ike_notify_name(uint16_t type)
{
    switch (type) {
        NAME(UNSUPPORTED_CRITICAL_PAYLOAD);
        NAME(INVALID_IKE_SPI);
        NAME(INVALID_MAJOR_VERSION);
        NAME(INVALID_SYNTAX);
        NAME(INVALID_MESSAGE_ID);
        NAME(INVALID_SPI);
        NAME(NO_PROPOSAL_CHOSEN);
        NAME(INVALID_KE_PAYLOAD);
        NAME(AUTHENTICATION_FAILED);
        NAME(SINGLE_PAIR_REQUIRED);
        NAME(NO_ADDITIONAL_SAS);
        NAME(INTERNAL_ADDRESS_FAILURE);
        NAME(FAILED_CP_REQUIRED);
        NAME(TS_UNACCEPTABLE);
        NAME(INVALID_SELECTORS);
        NAME(UNACCEPTABLE_ADDRESSES);
        NAME(UNEXPECTED_NAT_DETECTED);
        NAME(TEMPORARY_FAILURE);
        NAME(CHILD_SA_NOT_FOUND);
        NAME(INITIAL_CONTACT);
        NAME(SET_WINDOW_SIZE);
        NAME(ADDITIONAL_TS_POSSIBLE);
        NAME(IPCOMP_SUPPORTED);
        NAME(NAT_DETECTION_SOURCE_IP);
        NAME(NAT_DETECTION_DESTINATION_IP);
        NAME(COOKIE);
        NAME(USE_TRANSPORT_MODE);
        NAME(HTTP_CERT_LOOKUP_SUPPORTED);
        NAME(REKEY_SA);
        NAME(ESP_TFC_PADDING_NOT_SUPPORTED);
        NAME(NON_FIRST_FRAGMENTS_ALSO);
        NAME(MOBIKE_SUPPORTED);
        NAME(ADDITIONAL_IP4_ADDRESS);
        NAME(ADDITIONAL_IP6_ADDRESS);
        NAME(NO_ADDITIONAL_ADDRESSES);
        NAME(UPDATE_SA_ADDRESSES);
        NAME(COOKIE2);
        NAME(NO_NATS_ALLOWED);
        NAME(AUTH_LIFETIME);
        NAME(MULTIPLE_AUTH_SUPPORTED);
        NAME(ANOTHER_AUTH_FOLLOWS);
        NAME(REDIRECT_SUPPORTED);
        NAME(REDIRECT);
        NAME(REDIRECTED_FROM);
        NAME(TICKET_LT_OPAQUE);
        NAME(TICKET_REQUEST);
        NAME(TICKET_ACK);
        NAME(TICKET_NACK);
        NAME(TICKET_OPAQUE);
        NAME(LINK_ID);
        NAME(USE_WESP_MODE);
        NAME(ROHC_SUPPORTED);
        NAME(EAP_ONLY_AUTHENTICATION);
        NAME(CHILDLESS_IKEV2_SUPPORTED);
        NAME(QUICK_CRASH_DETECTION);
        NAME(IKEV2_MESSAGE_ID_SYNC_SUPPORTED);
        NAME(IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED);
        NAME(IKEV2_MESSAGE_ID_SYNC);
        NAME(IPSEC_REPLAY_COUNTER_SYNC);
        NAME(SECURE_PASSWORD_METHODS);
        NAME(PSK_PERSIST);
        NAME(PSK_CONFIRM);
        NAME(ERX_SUPPORTED);
        NAME(IFOM_CAPABILITY);
        NAME(SENDER_REQUEST_ID);
        NAME(IKEV2_FRAGMENTATION_SUPPORTED);
        NAME(SIGNATURE_HASH_ALGORITHMS);
        NAME(CLONE_IKE_SA_SUPPORTED);
        NAME(CLONE_IKE_SA);
        NAME(PUZZLE);
        NAME(USE_PPK);
        NAME(PPK_IDENTITY);
        NAME(NO_PPK_AUTH);
        NAME(INTERMEDIATE_EXCHANGE_SUPPORTED);
        NAME(IP4_ALLOWED);
        NAME(IP6_ALLOWED);
        NAME(ADDITIONAL_KEY_EXCHANGE);
        NAME(USE_AGGFRAG);
        NAME(SUPPORTED_AUTH_METHODS);
        NAME(SA_RESOURCE_INFO);
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

#undef NAME

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
