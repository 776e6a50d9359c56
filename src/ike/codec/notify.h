/*
 * Notify message types (RFC 7296 3.10.1 and the extensions hike implements),
 * with their names for logs.
 */
#ifndef HIKE_IKE_CODEC_NOTIFY_H
#define HIKE_IKE_CODEC_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

enum ike_notify_type {
    /* Error types (RFC 7296 3.10.1). */
    IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD = 1,
    IKE_N_INVALID_IKE_SPI = 4,
    IKE_N_INVALID_MAJOR_VERSION = 5,
    IKE_N_INVALID_SYNTAX = 7,
    IKE_N_INVALID_MESSAGE_ID = 9,
    IKE_N_INVALID_SPI = 11,
    IKE_N_NO_PROPOSAL_CHOSEN = 14,
    IKE_N_INVALID_KE_PAYLOAD = 17,
    IKE_N_AUTHENTICATION_FAILED = 24,
    IKE_N_SINGLE_PAIR_REQUIRED = 34,
    IKE_N_NO_ADDITIONAL_SAS = 35,
    IKE_N_INTERNAL_ADDRESS_FAILURE = 36,
    IKE_N_FAILED_CP_REQUIRED = 37,
    IKE_N_TS_UNACCEPTABLE = 38,
    IKE_N_INVALID_SELECTORS = 39,
    IKE_N_TEMPORARY_FAILURE = 43,
    IKE_N_CHILD_SA_NOT_FOUND = 44,

    /* Status types (RFC 7296 3.10.1). */
    IKE_N_INITIAL_CONTACT = 16384,
    IKE_N_SET_WINDOW_SIZE = 16385,
    IKE_N_ADDITIONAL_TS_POSSIBLE = 16386,
    IKE_N_IPCOMP_SUPPORTED = 16387,
    IKE_N_NAT_DETECTION_SOURCE_IP = 16388,
    IKE_N_NAT_DETECTION_DESTINATION_IP = 16389,
    IKE_N_COOKIE = 16390,
    IKE_N_USE_TRANSPORT_MODE = 16391,
    IKE_N_HTTP_CERT_LOOKUP_SUPPORTED = 16392,
    IKE_N_REKEY_SA = 16393,
    IKE_N_ESP_TFC_PADDING_NOT_SUPPORTED = 16394,
    IKE_N_NON_FIRST_FRAGMENTS_ALSO = 16395,

    /* MOBIKE (RFC 4555). */
    IKE_N_MOBIKE_SUPPORTED = 16396,
    IKE_N_ADDITIONAL_IP4_ADDRESS = 16397,
    IKE_N_ADDITIONAL_IP6_ADDRESS = 16398,
    IKE_N_NO_ADDITIONAL_ADDRESSES = 16399,
    IKE_N_UPDATE_SA_ADDRESSES = 16400,
    IKE_N_COOKIE2 = 16401,
    IKE_N_NO_NATS_ALLOWED = 16402,

    /* Redirect (RFC 5685). */
    IKE_N_REDIRECT_SUPPORTED = 16406,
    IKE_N_REDIRECT = 16407,
    IKE_N_REDIRECTED_FROM = 16408,

    /* Childless IKE SA (RFC 6023). */
    IKE_N_CHILDLESS_IKEV2_SUPPORTED = 16418,

    /* Message ID and replay counter sync (RFC 6311). */
    IKE_N_IKEV2_MESSAGE_ID_SYNC_SUPPORTED = 16420,
    IKE_N_IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED = 16421,
    IKE_N_IKEV2_MESSAGE_ID_SYNC = 16422,
    IKE_N_IPSEC_REPLAY_COUNTER_SYNC = 16423,

    /* Fragmentation (RFC 7383), signature hash algorithms (RFC 7427). */
    IKE_N_IKEV2_FRAGMENTATION_SUPPORTED = 16430,
    IKE_N_SIGNATURE_HASH_ALGORITHMS = 16431,

    /* IKE SA cloning (RFC 7791). */
    IKE_N_CLONE_IKE_SA_SUPPORTED = 16432,
    IKE_N_CLONE_IKE_SA = 16433,

    /*
     * Child SA hand-over (draft-hand-over-child-sas): IANA has assigned no value, so
     * this is a private-use status type (40960..65535). It is the default only; the
     * value will become configurable so that both peers can agree on another one.
     */
    IKE_N_HAND_OVER_CHILD_SAS_DEFAULT = 49152,
};

/* RFC 7296 3.10.1: 0..16383 are errors, 16384..65535 status. */
#define IKE_N_STATUS_MIN         16384
#define IKE_N_PRIVATE_ERROR_MIN  8192  /* 8192..16383: private-use errors */
#define IKE_N_PRIVATE_STATUS_MIN 40960 /* 40960..65535: private-use status */

/* "NO_PROPOSAL_CHOSEN", ...; "PRIVATE_ERROR", "PRIVATE_STATUS" or "UNKNOWN" for others. */
const char *ike_notify_name(uint16_t type);
/* True for error types (< 16384). */
bool ike_notify_is_error(uint16_t type);

#endif
