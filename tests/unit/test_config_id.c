/* Identities of hiked.conf: type detection, prefixes, key IDs, RFC 4514 DNs to DER. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "config/id_conf.h"

static struct hk_id_conf id_ok(const char *s)
{
    struct hk_id_conf id;
    char err[160];
    if (hk_id_parse(s, &id, err, sizeof(err)) != 0)
        fail_msg("'%s': %s", s, err);
    return id;
}

static void types(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        enum hk_id_type type;
        const char *text;
        size_t len;
    } cases[] = {
        {"192.0.2.1", HK_ID_IPV4, "192.0.2.1", 4},
        {"2001:db8::1", HK_ID_IPV6, "2001:db8::1", 16},
        {"vpn.example.com", HK_ID_FQDN, "vpn.example.com", 15},
        {"alice@example.com", HK_ID_RFC822, "alice@example.com", 17},
        {"CN=gw", HK_ID_DN, "CN=gw", 0},
        {"%any", HK_ID_ANY, "%any", 0},
        {"fqdn:192.0.2.1", HK_ID_FQDN, "192.0.2.1", 9}, /* a prefix overrides detection */
        {"FQDN:host", HK_ID_FQDN, "host", 4},
        {"email:@example.com", HK_ID_RFC822, "@example.com", 12},
        {"rfc822:a@b", HK_ID_RFC822, "a@b", 3},
        {"ipv4:10.0.0.1", HK_ID_IPV4, "10.0.0.1", 4},
        {"ipv6:::1", HK_ID_IPV6, "::1", 16},
        {"keyid:0a0B", HK_ID_KEY_ID, "0a0B", 2},
        {"keyid:01:02:03", HK_ID_KEY_ID, "01:02:03", 3},
        {"dn:O=x", HK_ID_DN, "O=x", 0},
        {"host:name", HK_ID_FQDN, "host:name", 9}, /* not a known prefix */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hk_id_conf id = id_ok(cases[i].in);
        assert_int_equal(id.type, cases[i].type);
        assert_string_equal(id.text, cases[i].text);
        if (cases[i].len)
            assert_int_equal(id.len, cases[i].len);
        hk_id_conf_free(&id);
        assert_int_equal(id.type, HK_ID_AUTO);
        assert_null(id.text);
    }

    struct hk_id_conf id = id_ok("192.0.2.1");
    const uint8_t v4[] = {192, 0, 2, 1};
    assert_memory_equal(id.data, v4, 4);
    struct hk_id_conf copy;
    assert_int_equal(hk_id_conf_copy(&copy, &id), 0);
    assert_int_equal(copy.type, id.type);
    assert_int_equal(copy.len, id.len);
    assert_memory_equal(copy.data, id.data, id.len);
    assert_string_equal(copy.text, id.text);
    assert_ptr_not_equal(copy.data, id.data);
    hk_id_conf_free(&copy);
    hk_id_conf_free(&id);

    id = id_ok("keyid:de:ad:BE:ef");
    const uint8_t kid[] = {0xde, 0xad, 0xbe, 0xef};
    assert_int_equal(id.len, 4);
    assert_memory_equal(id.data, kid, 4);
    hk_id_conf_free(&id);
    id = id_ok("alice@example.com");
    assert_memory_equal(id.data, "alice@example.com", 17);
    hk_id_conf_free(&id);

    assert_string_equal(hk_id_type_name(HK_ID_DN), "dn");
    assert_string_equal(hk_id_type_name(HK_ID_RFC822), "email");
    assert_string_equal(hk_id_type_name(HK_ID_ANY), "%any");
    assert_string_equal(hk_id_type_name(HK_ID_AUTO), "auto");
}

/* What OpenSSL's own RFC 2253 printer makes of a DER name. */
static void der_to_rfc2253(const uint8_t *der, size_t len, char *out, size_t outlen)
{
    const unsigned char *p = der;
    X509_NAME *name = d2i_X509_NAME(NULL, &p, (long)len);
    assert_non_null(name);
    assert_ptr_equal(p, der + len);
    BIO *bio = BIO_new(BIO_s_mem());
    assert_true(X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0);
    int n = BIO_read(bio, out, (int)outlen - 1);
    out[n > 0 ? n : 0] = '\0';
    BIO_free(bio);
    X509_NAME_free(name);
}

static void dn_der(void **state)
{
    (void)state;
    /* The DER runs C, O, CN: the reverse of the string (RFC 4514 2.1). */
    uint8_t *der;
    size_t len;
    char err[160], printed[256];
    assert_int_equal(
        hk_dn_to_der("CN=gw.example.com,O=Example\\, Inc.,C=CH", &der, &len, err, sizeof(err)), 0);
    X509_NAME *want = X509_NAME_new();
    X509_NAME_add_entry_by_txt(want, "C", MBSTRING_UTF8, (const unsigned char *)"CH", -1, -1, 0);
    X509_NAME_add_entry_by_txt(want, "O", MBSTRING_UTF8, (const unsigned char *)"Example, Inc.", -1,
                               -1, 0);
    X509_NAME_add_entry_by_txt(want, "CN", MBSTRING_UTF8, (const unsigned char *)"gw.example.com",
                               -1, -1, 0);
    unsigned char *wder = NULL;
    int wlen = i2d_X509_NAME(want, &wder);
    assert_int_equal(len, (size_t)wlen);
    assert_memory_equal(der, wder, len);
    OPENSSL_free(wder);
    X509_NAME_free(want);
    der_to_rfc2253(der, len, printed, sizeof(printed));
    assert_string_equal(printed, "CN=gw.example.com,O=Example\\, Inc.,C=CH");
    free(der);

    /* Spaces around separators are not part of names or values; escaped ones are. */
    static const struct {
        const char *in, *rfc2253;
    } cases[] = {
        {"CN = moon , O = strongSwan , C = CH", "CN=moon,O=strongSwan,C=CH"},
        {"commonName=x,2.5.4.10=y", "CN=x,O=y"},
        {"CN=caf\\C3\\A9", "CN=caf\\C3\\A9"}, /* UTF-8 é, printed escaped by OpenSSL */
        {"CN=a\\+b\\=c\\;d", "CN=a\\+b=c\\;d"},
        {"CN=trail\\ ", "CN=trail\\ "},
        {"DC=example,DC=com", "DC=example,DC=com"},
        {"emailAddress=a@b.c,CN=x", "emailAddress=a@b.c,CN=x"},
        {"UID=alice+CN=Alice,O=x", NULL}, /* multi-valued RDN: checked below */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (hk_dn_to_der(cases[i].in, &der, &len, err, sizeof(err)) != 0)
            fail_msg("'%s': %s", cases[i].in, err);
        der_to_rfc2253(der, len, printed, sizeof(printed));
        if (cases[i].rfc2253)
            assert_string_equal(printed, cases[i].rfc2253);
        else {
            /* one RDN holding both, after O: DER sorts a SET's members itself */
            assert_true(strcmp(printed, "UID=alice+CN=Alice,O=x") == 0 ||
                        strcmp(printed, "CN=Alice+UID=alice,O=x") == 0);
        }
        free(der);
    }
}

static void errors(void **state)
{
    (void)state;
    static const struct {
        const char *s, *want;
    } cases[] = {
        {"", "empty identity"},
        {"fqdn:", "empty identity"},
        {"ipv4:2001:db8::1", "'2001:db8::1' is not an IPv4 address"},
        {"ipv6:10.0.0.1", "'10.0.0.1' is not an IPv6 address"},
        {"email:alice", "email identity 'alice' has no '@'"},
        {"fqdn:a b", "'a b' is not a valid FQDN identity"},
        {"keyid:0g", "key ID '0g' is not hex"},
        {"keyid:abc", "needs an even, non-zero number of hex digits"},
        {"keyid::", "needs an even, non-zero number of hex digits"},
        {"keyid:0:1", "is not hex"},
        {"dn:CN", "DN: expected 'attribute=value' at 'CN'"},
        {"dn:=x", "DN: expected 'attribute=value'"},
        {"CN=", "DN: empty value for 'CN'"},
        {"CN=a,", "DN: expected 'attribute=value'"},
        {"CN=a,,O=b", "DN: expected 'attribute=value'"},
        {"CN=a+", "DN: expected 'attribute=value'"},
        {"XX=y", "DN: unknown attribute 'XX'"},
        {"CN=#0403616263", "DN: '#' (BER-encoded) values are not supported"},
        {"CN=\"quoted\"", "DN: quoted values are not supported"},
        {"CN=a\\", "DN: backslash at the end"},
        {"C=CHE", "DN: invalid value for 'C'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hk_id_conf id;
        char err[160] = "";
        int rc = hk_id_parse(cases[i].s, &id, err, sizeof(err));
        if (rc != HK_E_CONFIG || !strstr(err, cases[i].want))
            fail_msg("'%s': rc %d, got \"%s\", want \"%s\"", cases[i].s, rc, err, cases[i].want);
        assert_null(id.data);
        assert_null(id.text);
    }
    char longer[400];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    struct hk_id_conf id;
    assert_int_equal(hk_id_parse(longer, &id, NULL, 0), HK_E_CONFIG);
    uint8_t *der;
    size_t len;
    assert_int_equal(hk_dn_to_der("CN=a,CN=a,CN=a,CN=a,CN=a,CN=a,CN=a,CN=a,CN=a,CN=a,CN=a,CN=a,"
                                  "CN=a,CN=a,CN=a,CN=a,CN=a,CN=a,CN=a,CN=a,CN=a,CN=a,CN=a,CN=a,"
                                  "CN=a,CN=a,CN=a,CN=a,CN=a,CN=a,CN=a,CN=a,CN=a",
                                  &der, &len, NULL, 0),
                     HK_E_CONFIG);
    assert_null(der);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(types),
        cmocka_unit_test(dn_der),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
