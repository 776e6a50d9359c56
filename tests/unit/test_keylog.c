/*
 * Wireshark key log lines from SAs with known keys: exact ikev2_decryption_table and
 * esp_sa records for each algorithm hike maps, key orientation, refusals, the file.
 * tshark_decrypt.sh checks that tshark really decrypts with such lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/secret.h"
#include "crypto/alg.h"
#include "ike/keylog.h"
#include "ike/sa.h"

/* A key of n octets: first, first+1, ... */
static struct hk_secret *key(size_t n, uint8_t first)
{
    struct hk_secret *s = hk_secret_new(n);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        s->data[i] = (uint8_t)(first + i);
    return s;
}

static void ike_setup(struct ike_sa *sa, uint16_t encr, uint16_t bits, uint16_t integ)
{
    memset(sa, 0, sizeof(*sa));
    static const uint8_t si[8] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};
    static const uint8_t sr[8] = {0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10};
    memcpy(sa->spi_i, si, 8);
    memcpy(sa->spi_r, sr, 8);
    sa->alg = (struct hk_ike_alg){
        .encr = encr, .encr_key_bits = bits, .prf = HK_PRF_HMAC_SHA2_256, .integ = integ};
    size_t el = hk_encr_key_len(encr, bits), il = hk_integ_key_len(integ);
    sa->keys.sk_ei = key(el, 0x10);
    sa->keys.sk_er = key(el, 0x40);
    if (il) {
        sa->keys.sk_ai = key(il, 0x80);
        sa->keys.sk_ar = key(il, 0xc0);
    }
}

static void ike_gcm256(void **state)
{
    (void)state;
    struct ike_sa sa;
    char buf[HK_KEYLOG_MAXLINE];
    ike_setup(&sa, HK_ENCR_AES_GCM_16, 256, HK_AUTH_NONE);
    assert_int_equal(hk_keylog_ike_line(&sa, buf, sizeof(buf)), 0);
    /* 36-octet keys: 32 key + 4 salt (RFC 5282 7.1); no integrity keys. */
    assert_string_equal(buf, "0123456789abcdef,fedcba9876543210,"
                             "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
                             "30313233,"
                             "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
                             "60616263,"
                             "\"AES-GCM-256 with 16 octet ICV [RFC5282]\",,,\"NONE [RFC4306]\"\n");
    hk_ike_keys_free(&sa.keys);
}

static void ike_gcm128(void **state)
{
    (void)state;
    struct ike_sa sa;
    char buf[HK_KEYLOG_MAXLINE];
    ike_setup(&sa, HK_ENCR_AES_GCM_16, 128, HK_AUTH_NONE);
    assert_int_equal(hk_keylog_ike_line(&sa, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "0123456789abcdef,fedcba9876543210,"
                             "101112131415161718191a1b1c1d1e1f20212223,"
                             "404142434445464748494a4b4c4d4e4f50515253,"
                             "\"AES-GCM-128 with 16 octet ICV [RFC5282]\",,,\"NONE [RFC4306]\"\n");
    hk_ike_keys_free(&sa.keys);
}

static void ike_cbc256_sha256(void **state)
{
    (void)state;
    struct ike_sa sa;
    char buf[HK_KEYLOG_MAXLINE];
    ike_setup(&sa, HK_ENCR_AES_CBC, 256, HK_AUTH_HMAC_SHA2_256_128);
    assert_int_equal(hk_keylog_ike_line(&sa, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "0123456789abcdef,fedcba9876543210,"
                             "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f,"
                             "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f,"
                             "\"AES-CBC-256 [RFC3602]\","
                             "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f,"
                             "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf,"
                             "\"HMAC_SHA2_256_128 [RFC4868]\"\n");
    hk_ike_keys_free(&sa.keys);
}

static void ike_cbc128_sha384_sha512(void **state)
{
    (void)state;
    struct ike_sa sa;
    char buf[HK_KEYLOG_MAXLINE];
    ike_setup(&sa, HK_ENCR_AES_CBC, 128, HK_AUTH_HMAC_SHA2_384_192);
    assert_int_equal(hk_keylog_ike_line(&sa, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "0123456789abcdef,fedcba9876543210,"
                             "101112131415161718191a1b1c1d1e1f,"
                             "404142434445464748494a4b4c4d4e4f,"
                             "\"AES-CBC-128 [RFC3602]\","
                             "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
                             "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf,"
                             "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
                             "e0e1e2e3e4e5e6e7e8e9eaebecedeeef,"
                             "\"HMAC_SHA2_384_192 [RFC4868]\"\n");
    hk_ike_keys_free(&sa.keys);

    ike_setup(&sa, HK_ENCR_AES_CBC, 256, HK_AUTH_HMAC_SHA2_512_256);
    assert_int_equal(hk_keylog_ike_line(&sa, buf, sizeof(buf)), 0);
    /* 64-octet integrity keys (RFC 4868 2.1.1). */
    assert_non_null(strstr(buf, ",\"AES-CBC-256 [RFC3602]\",808182"));
    assert_non_null(strstr(buf, "bebf,c0c1")); /* SK_ai 0x80..0xbf, SK_ar 0xc0..0xff */
    assert_non_null(strstr(buf, "feff,\"HMAC_SHA2_512_256 [RFC4868]\"\n"));
    hk_ike_keys_free(&sa.keys);
}

static void ike_refusals(void **state)
{
    (void)state;
    struct ike_sa sa;
    char buf[HK_KEYLOG_MAXLINE];

    /* ChaCha20-Poly1305: Wireshark has no entry for it. */
    ike_setup(&sa, HK_ENCR_CHACHA20_POLY1305, 256, HK_AUTH_NONE);
    assert_int_equal(hk_keylog_ike_line(&sa, buf, sizeof(buf)), HK_E_UNSUPPORTED);
    assert_string_equal(buf, "");
    hk_ike_keys_free(&sa.keys);

    /* No keys yet (before IKE_SA_INIT completes). */
    memset(&sa, 0, sizeof(sa));
    sa.alg = (struct hk_ike_alg){.encr = HK_ENCR_AES_GCM_16, .encr_key_bits = 256};
    assert_int_equal(hk_keylog_ike_line(&sa, buf, sizeof(buf)), HK_E_STATE);

    /* Buffer one octet short of the line and its NUL. */
    ike_setup(&sa, HK_ENCR_AES_GCM_16, 128, HK_AUTH_NONE);
    assert_int_equal(hk_keylog_ike_line(&sa, buf, sizeof(buf)), 0);
    size_t need = strlen(buf) + 1;
    assert_int_equal(hk_keylog_ike_line(&sa, buf, need - 1), HK_E_OVERFLOW);
    assert_string_equal(buf, "");
    assert_int_equal(hk_keylog_ike_line(&sa, buf, need), 0);
    assert_int_equal(hk_keylog_ike_line(NULL, buf, need), HK_E_INVALID);
    hk_ike_keys_free(&sa.keys);
}

static void names(void **state)
{
    (void)state;
    assert_string_equal(hk_keylog_ike_encr_name(HK_ENCR_AES_CBC, 192), "AES-CBC-192 [RFC3602]");
    assert_null(hk_keylog_ike_encr_name(HK_ENCR_AES_CBC, 0));
    assert_null(hk_keylog_ike_encr_name(HK_ENCR_CHACHA20_POLY1305, 256));
    assert_null(hk_keylog_ike_integ_name(99));
    assert_string_equal(hk_keylog_esp_encr_name(HK_ENCR_AES_GCM_16, 128),
                        "AES-GCM with 16 octet ICV [RFC4106]");
    assert_string_equal(hk_keylog_esp_encr_name(HK_ENCR_AES_CBC, 256), "AES-CBC [RFC3602]");
    assert_null(hk_keylog_esp_encr_name(HK_ENCR_CHACHA20_POLY1305, 256));
    assert_string_equal(hk_keylog_esp_integ_name(HK_AUTH_NONE), "NULL");
    assert_string_equal(hk_keylog_esp_integ_name(HK_AUTH_HMAC_SHA2_384_192),
                        "HMAC-SHA-384-192 [RFC4868]");
    assert_string_equal(hk_keylog_esp_integ_name(HK_AUTH_HMAC_SHA2_512_256),
                        "HMAC-SHA-512-256 [RFC4868]");
}

static void child_setup(struct child_sa *c, uint16_t encr, uint16_t bits, uint16_t integ,
                        bool initiator)
{
    memset(c, 0, sizeof(*c));
    c->protocol = IKE_PROTO_ESP;
    c->spi_in = 0xc0ffee01;
    c->spi_out = 0x0000beef;
    c->initiator = initiator;
    c->chosen = (struct ike_chosen){
        .protocol = IKE_PROTO_ESP, .encr = encr, .encr_key_bits = bits, .integ = integ};
    size_t el = hk_encr_key_len(encr, bits), il = hk_integ_key_len(integ);
    c->keys.encr_ir = key(el, 0x10);
    c->keys.encr_ri = key(el, 0x50);
    if (il) {
        c->keys.integ_ir = key(il, 0x90);
        c->keys.integ_ri = key(il, 0xd0);
    }
}

static void sin4(struct sockaddr_storage *ss, const char *a, uint16_t port)
{
    struct sockaddr_in *s = (struct sockaddr_in *)ss;
    memset(ss, 0, sizeof(*ss));
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    assert_int_equal(inet_pton(AF_INET, a, &s->sin_addr), 1);
}

static void sin6(struct sockaddr_storage *ss, const char *a)
{
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
    memset(ss, 0, sizeof(*ss));
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(4500);
    assert_int_equal(inet_pton(AF_INET6, a, &s->sin6_addr), 1);
}

static void esp_gcm_initiator(void **state)
{
    (void)state;
    struct child_sa c;
    struct sockaddr_storage l, r;
    char buf[HK_KEYLOG_MAXLINE];
    child_setup(&c, HK_ENCR_AES_GCM_16, 128, HK_AUTH_NONE, true);
    sin4(&l, "192.0.2.1", 4500);
    sin4(&r, "198.51.100.7", 4500);
    assert_int_equal(hk_keylog_esp_lines(NULL, &c, &l, &r, buf, sizeof(buf)), 0);
    /* Outbound first (our SPI out, initiator-to-responder keys), then inbound. */
    assert_string_equal(buf, "\"IPv4\",\"192.0.2.1\",\"198.51.100.7\",\"0x0000beef\","
                             "\"AES-GCM with 16 octet ICV [RFC4106]\","
                             "\"0x101112131415161718191a1b1c1d1e1f20212223\",\"NULL\",\"\"\n"
                             "\"IPv4\",\"198.51.100.7\",\"192.0.2.1\",\"0xc0ffee01\","
                             "\"AES-GCM with 16 octet ICV [RFC4106]\","
                             "\"0x505152535455565758595a5b5c5d5e5f60616263\",\"NULL\",\"\"\n");
    hk_child_keys_free(&c.keys);
}

static void esp_cbc_responder_ipv6(void **state)
{
    (void)state;
    struct child_sa c;
    struct sockaddr_storage l, r;
    char buf[HK_KEYLOG_MAXLINE];
    child_setup(&c, HK_ENCR_AES_CBC, 128, HK_AUTH_HMAC_SHA2_256_128, false);
    sin6(&l, "2001:db8::1");
    sin6(&r, "2001:db8:1::2");
    assert_int_equal(hk_keylog_esp_lines(NULL, &c, &l, &r, buf, sizeof(buf)), 0);
    /* The responder sends with the responder-to-initiator keys. */
    assert_string_equal(buf,
                        "\"IPv6\",\"2001:db8::1\",\"2001:db8:1::2\",\"0x0000beef\","
                        "\"AES-CBC [RFC3602]\",\"0x505152535455565758595a5b5c5d5e5f\","
                        "\"HMAC-SHA-256-128 [RFC4868]\","
                        "\"0xd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef\"\n"
                        "\"IPv6\",\"2001:db8:1::2\",\"2001:db8::1\",\"0xc0ffee01\","
                        "\"AES-CBC [RFC3602]\",\"0x101112131415161718191a1b1c1d1e1f\","
                        "\"HMAC-SHA-256-128 [RFC4868]\","
                        "\"0x909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf\"\n");
    hk_child_keys_free(&c.keys);
}

static void esp_addresses_from_sa_and_refusals(void **state)
{
    (void)state;
    struct child_sa c;
    struct ike_sa sa;
    char buf[HK_KEYLOG_MAXLINE];
    memset(&sa, 0, sizeof(sa));
    sin4(&sa.local, "10.0.0.1", 500);
    sin4(&sa.remote, "10.0.0.2", 500);
    child_setup(&c, HK_ENCR_AES_GCM_16, 256, HK_AUTH_NONE, true);
    assert_int_equal(hk_keylog_esp_lines(&sa, &c, NULL, NULL, buf, sizeof(buf)), 0);
    assert_true(strncmp(buf, "\"IPv4\",\"10.0.0.1\",\"10.0.0.2\",\"0x0000beef\",", 42) == 0);
    assert_non_null(strstr(buf, "\n\"IPv4\",\"10.0.0.2\",\"10.0.0.1\",\"0xc0ffee01\","));

    /* Mixed families, no addresses, a short buffer. */
    struct sockaddr_storage v6;
    sin6(&v6, "2001:db8::1");
    assert_int_equal(hk_keylog_esp_lines(&sa, &c, &v6, NULL, buf, sizeof(buf)), HK_E_INVALID);
    assert_int_equal(hk_keylog_esp_lines(NULL, &c, NULL, NULL, buf, sizeof(buf)), HK_E_INVALID);
    assert_int_equal(hk_keylog_esp_lines(&sa, &c, NULL, NULL, buf, 100), HK_E_OVERFLOW);
    assert_string_equal(buf, "");
    hk_child_keys_free(&c.keys);

    child_setup(&c, HK_ENCR_CHACHA20_POLY1305, 256, HK_AUTH_NONE, true);
    assert_int_equal(hk_keylog_esp_lines(&sa, &c, NULL, NULL, buf, sizeof(buf)), HK_E_UNSUPPORTED);
    hk_child_keys_free(&c.keys);

    child_setup(&c, HK_ENCR_AES_CBC, 128, HK_AUTH_HMAC_SHA2_256_128, true);
    hk_secret_free(&c.keys.integ_ri);
    assert_int_equal(hk_keylog_esp_lines(&sa, &c, NULL, NULL, buf, sizeof(buf)), HK_E_STATE);
    hk_child_keys_free(&c.keys);
}

static void append_file(void **state)
{
    (void)state;
    const char *dir = getenv("HIKE_TEST_OUT");
    char path[512];
    snprintf(path, sizeof(path), "%s/keylog-%d.txt", dir ? dir : "/tmp", (int)getpid());
    unlink(path);
    mode_t old = umask(0);
    assert_int_equal(hk_keylog_append(path, "first\n"), 0);
    umask(old);
    assert_int_equal(hk_keylog_append(path, "second\n"), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char got[64] = {0};
    assert_int_equal(fread(got, 1, sizeof(got) - 1, f), 13);
    fclose(f);
    assert_string_equal(got, "first\nsecond\n");

    /* A symbolic link is not followed. */
    char link[540];
    snprintf(link, sizeof(link), "%s.lnk", path);
    unlink(link);
    assert_int_equal(symlink(path, link), 0);
    assert_int_equal(hk_keylog_append(link, "third\n"), HK_E_IO);
    unlink(link);
    unlink(path);
    assert_int_equal(hk_keylog_append("/nonexistent-dir/x", "x"), HK_E_IO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ike_gcm256),
        cmocka_unit_test(ike_gcm128),
        cmocka_unit_test(ike_cbc256_sha256),
        cmocka_unit_test(ike_cbc128_sha384_sha512),
        cmocka_unit_test(ike_refusals),
        cmocka_unit_test(names),
        cmocka_unit_test(esp_gcm_initiator),
        cmocka_unit_test(esp_cbc_responder_ipv6),
        cmocka_unit_test(esp_addresses_from_sa_and_refusals),
        cmocka_unit_test(append_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
