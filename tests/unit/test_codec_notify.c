/* Notify registry: values from RFC 7296 3.10.1 and the extension RFCs, names, classes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ike/codec/notify.h"

static const struct {
    uint16_t value;
    uint16_t constant;
    const char *name;
} registry[] = {
    {1, IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD, "UNSUPPORTED_CRITICAL_PAYLOAD"},
    {4, IKE_N_INVALID_IKE_SPI, "INVALID_IKE_SPI"},
    {5, IKE_N_INVALID_MAJOR_VERSION, "INVALID_MAJOR_VERSION"},
    {7, IKE_N_INVALID_SYNTAX, "INVALID_SYNTAX"},
    {9, IKE_N_INVALID_MESSAGE_ID, "INVALID_MESSAGE_ID"},
    {11, IKE_N_INVALID_SPI, "INVALID_SPI"},
    {14, IKE_N_NO_PROPOSAL_CHOSEN, "NO_PROPOSAL_CHOSEN"},
    {17, IKE_N_INVALID_KE_PAYLOAD, "INVALID_KE_PAYLOAD"},
    {24, IKE_N_AUTHENTICATION_FAILED, "AUTHENTICATION_FAILED"},
    {34, IKE_N_SINGLE_PAIR_REQUIRED, "SINGLE_PAIR_REQUIRED"},
    {35, IKE_N_NO_ADDITIONAL_SAS, "NO_ADDITIONAL_SAS"},
    {36, IKE_N_INTERNAL_ADDRESS_FAILURE, "INTERNAL_ADDRESS_FAILURE"},
    {37, IKE_N_FAILED_CP_REQUIRED, "FAILED_CP_REQUIRED"},
    {38, IKE_N_TS_UNACCEPTABLE, "TS_UNACCEPTABLE"},
    {39, IKE_N_INVALID_SELECTORS, "INVALID_SELECTORS"},
    {40, IKE_N_UNACCEPTABLE_ADDRESSES, "UNACCEPTABLE_ADDRESSES"},
    {41, IKE_N_UNEXPECTED_NAT_DETECTED, "UNEXPECTED_NAT_DETECTED"},
    {43, IKE_N_TEMPORARY_FAILURE, "TEMPORARY_FAILURE"},
    {44, IKE_N_CHILD_SA_NOT_FOUND, "CHILD_SA_NOT_FOUND"},
    {16384, IKE_N_INITIAL_CONTACT, "INITIAL_CONTACT"},
    {16385, IKE_N_SET_WINDOW_SIZE, "SET_WINDOW_SIZE"},
    {16386, IKE_N_ADDITIONAL_TS_POSSIBLE, "ADDITIONAL_TS_POSSIBLE"},
    {16387, IKE_N_IPCOMP_SUPPORTED, "IPCOMP_SUPPORTED"},
    {16388, IKE_N_NAT_DETECTION_SOURCE_IP, "NAT_DETECTION_SOURCE_IP"},
    {16389, IKE_N_NAT_DETECTION_DESTINATION_IP, "NAT_DETECTION_DESTINATION_IP"},
    {16390, IKE_N_COOKIE, "COOKIE"},
    {16391, IKE_N_USE_TRANSPORT_MODE, "USE_TRANSPORT_MODE"},
    {16392, IKE_N_HTTP_CERT_LOOKUP_SUPPORTED, "HTTP_CERT_LOOKUP_SUPPORTED"},
    {16393, IKE_N_REKEY_SA, "REKEY_SA"},
    {16394, IKE_N_ESP_TFC_PADDING_NOT_SUPPORTED, "ESP_TFC_PADDING_NOT_SUPPORTED"},
    {16395, IKE_N_NON_FIRST_FRAGMENTS_ALSO, "NON_FIRST_FRAGMENTS_ALSO"},
    {16396, IKE_N_MOBIKE_SUPPORTED, "MOBIKE_SUPPORTED"},
    {16397, IKE_N_ADDITIONAL_IP4_ADDRESS, "ADDITIONAL_IP4_ADDRESS"},
    {16398, IKE_N_ADDITIONAL_IP6_ADDRESS, "ADDITIONAL_IP6_ADDRESS"},
    {16399, IKE_N_NO_ADDITIONAL_ADDRESSES, "NO_ADDITIONAL_ADDRESSES"},
    {16400, IKE_N_UPDATE_SA_ADDRESSES, "UPDATE_SA_ADDRESSES"},
    {16401, IKE_N_COOKIE2, "COOKIE2"},
    {16402, IKE_N_NO_NATS_ALLOWED, "NO_NATS_ALLOWED"},
    {16403, IKE_N_AUTH_LIFETIME, "AUTH_LIFETIME"},
    {16404, IKE_N_MULTIPLE_AUTH_SUPPORTED, "MULTIPLE_AUTH_SUPPORTED"},
    {16405, IKE_N_ANOTHER_AUTH_FOLLOWS, "ANOTHER_AUTH_FOLLOWS"},
    {16406, IKE_N_REDIRECT_SUPPORTED, "REDIRECT_SUPPORTED"},
    {16407, IKE_N_REDIRECT, "REDIRECT"},
    {16408, IKE_N_REDIRECTED_FROM, "REDIRECTED_FROM"},
    {16409, IKE_N_TICKET_LT_OPAQUE, "TICKET_LT_OPAQUE"},
    {16410, IKE_N_TICKET_REQUEST, "TICKET_REQUEST"},
    {16411, IKE_N_TICKET_ACK, "TICKET_ACK"},
    {16412, IKE_N_TICKET_NACK, "TICKET_NACK"},
    {16413, IKE_N_TICKET_OPAQUE, "TICKET_OPAQUE"},
    {16414, IKE_N_LINK_ID, "LINK_ID"},
    {16415, IKE_N_USE_WESP_MODE, "USE_WESP_MODE"},
    {16416, IKE_N_ROHC_SUPPORTED, "ROHC_SUPPORTED"},
    {16417, IKE_N_EAP_ONLY_AUTHENTICATION, "EAP_ONLY_AUTHENTICATION"},
    {16418, IKE_N_CHILDLESS_IKEV2_SUPPORTED, "CHILDLESS_IKEV2_SUPPORTED"},
    {16419, IKE_N_QUICK_CRASH_DETECTION, "QUICK_CRASH_DETECTION"},
    {16420, IKE_N_IKEV2_MESSAGE_ID_SYNC_SUPPORTED, "IKEV2_MESSAGE_ID_SYNC_SUPPORTED"},
    {16421, IKE_N_IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED, "IPSEC_REPLAY_COUNTER_SYNC_SUPPORTED"},
    {16422, IKE_N_IKEV2_MESSAGE_ID_SYNC, "IKEV2_MESSAGE_ID_SYNC"},
    {16423, IKE_N_IPSEC_REPLAY_COUNTER_SYNC, "IPSEC_REPLAY_COUNTER_SYNC"},
    {16424, IKE_N_SECURE_PASSWORD_METHODS, "SECURE_PASSWORD_METHODS"},
    {16425, IKE_N_PSK_PERSIST, "PSK_PERSIST"},
    {16426, IKE_N_PSK_CONFIRM, "PSK_CONFIRM"},
    {16427, IKE_N_ERX_SUPPORTED, "ERX_SUPPORTED"},
    {16428, IKE_N_IFOM_CAPABILITY, "IFOM_CAPABILITY"},
    {16429, IKE_N_SENDER_REQUEST_ID, "SENDER_REQUEST_ID"},
    {16430, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, "IKEV2_FRAGMENTATION_SUPPORTED"},
    {16431, IKE_N_SIGNATURE_HASH_ALGORITHMS, "SIGNATURE_HASH_ALGORITHMS"},
    {16432, IKE_N_CLONE_IKE_SA_SUPPORTED, "CLONE_IKE_SA_SUPPORTED"},
    {16433, IKE_N_CLONE_IKE_SA, "CLONE_IKE_SA"},
    {16434, IKE_N_PUZZLE, "PUZZLE"},
    {16435, IKE_N_USE_PPK, "USE_PPK"},
    {16436, IKE_N_PPK_IDENTITY, "PPK_IDENTITY"},
    {16437, IKE_N_NO_PPK_AUTH, "NO_PPK_AUTH"},
    {16438, IKE_N_INTERMEDIATE_EXCHANGE_SUPPORTED, "INTERMEDIATE_EXCHANGE_SUPPORTED"},
    {16439, IKE_N_IP4_ALLOWED, "IP4_ALLOWED"},
    {16440, IKE_N_IP6_ALLOWED, "IP6_ALLOWED"},
    {16441, IKE_N_ADDITIONAL_KEY_EXCHANGE, "ADDITIONAL_KEY_EXCHANGE"},
    {16442, IKE_N_USE_AGGFRAG, "USE_AGGFRAG"},
    {16443, IKE_N_SUPPORTED_AUTH_METHODS, "SUPPORTED_AUTH_METHODS"},
    {16444, IKE_N_SA_RESOURCE_INFO, "SA_RESOURCE_INFO"},
    {49152, IKE_N_HAND_OVER_CHILD_SAS_DEFAULT, "HAND_OVER_CHILD_SAS"},
};

static void values_and_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(registry) / sizeof(registry[0]); i++) {
        assert_int_equal(registry[i].constant, registry[i].value);
        assert_string_equal(ike_notify_name(registry[i].value), registry[i].name);
        assert_int_equal(ike_notify_is_error(registry[i].value), registry[i].value < 16384);
    }
}

/* The IANA status types 16384..16444 are one block without gaps: every one has its name
 * (MULTIPLE_AUTH_SUPPORTED, EAP_ONLY_AUTHENTICATION and others were UNKNOWN in the log). */
static void status_block_has_no_gaps(void **state)
{
    (void)state;
    for (unsigned v = 16384; v <= 16444; v++)
        assert_string_not_equal(ike_notify_name((uint16_t)v), "UNKNOWN");
    assert_string_equal(ike_notify_name(16404), "MULTIPLE_AUTH_SUPPORTED");
    assert_string_equal(ike_notify_name(16417), "EAP_ONLY_AUTHENTICATION");
    assert_string_equal(ike_notify_name(16434), "PUZZLE");
    assert_string_equal(ike_notify_name(40), "UNACCEPTABLE_ADDRESSES");
}

static void classes_and_ranges(void **state)
{
    (void)state;
    assert_true(ike_notify_is_error(0));
    assert_true(ike_notify_is_error(16383));
    assert_false(ike_notify_is_error(16384));
    assert_false(ike_notify_is_error(65535));
    assert_string_equal(ike_notify_name(0), "UNKNOWN");
    assert_string_equal(ike_notify_name(2), "UNKNOWN");
    assert_string_equal(ike_notify_name(8191), "UNKNOWN");
    assert_string_equal(ike_notify_name(8192), "PRIVATE_ERROR");
    assert_string_equal(ike_notify_name(16383), "PRIVATE_ERROR");
    assert_string_equal(ike_notify_name(30000), "UNKNOWN");
    assert_string_equal(ike_notify_name(40959), "UNKNOWN");
    assert_string_equal(ike_notify_name(40960), "PRIVATE_STATUS");
    assert_string_equal(ike_notify_name(65535), "PRIVATE_STATUS");
    /* The hand-over default lies in the private-use status range. */
    assert_true(IKE_N_HAND_OVER_CHILD_SAS_DEFAULT >= IKE_N_PRIVATE_STATUS_MIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(values_and_names),
        cmocka_unit_test(status_block_has_no_gaps),
        cmocka_unit_test(classes_and_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
