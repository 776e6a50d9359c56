/* Proposal strings: every algorithm, orders, completion, errors, format(parse(x)). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "crypto/alg.h"
#include "config/proposal.h"

static struct hk_proposal_conf parse_ok(const char *s, int proto)
{
    struct hk_proposal_conf p;
    char err[160];
    if (hk_proposal_parse(s, proto, &p, err, sizeof(err)) != 0)
        fail_msg("'%s': %s", s, err);
    return p;
}

static void every_algorithm(void **state)
{
    (void)state;
    static const struct {
        const char *kw;
        uint16_t id, bits;
    } encr[] = {
        {"aes128", HK_ENCR_AES_CBC, 128},
        {"aes192", HK_ENCR_AES_CBC, 192},
        {"aes256", HK_ENCR_AES_CBC, 256},
        {"aes128gcm16", HK_ENCR_AES_GCM_16, 128},
        {"aes256gcm16", HK_ENCR_AES_GCM_16, 256},
        {"aes128gcm", HK_ENCR_AES_GCM_16, 128},
        {"aes256gcm", HK_ENCR_AES_GCM_16, 256},
        {"chacha20poly1305", HK_ENCR_CHACHA20_POLY1305, 0},
    };
    char s[128];
    for (size_t i = 0; i < sizeof(encr) / sizeof(encr[0]); i++) {
        bool aead = encr[i].id != HK_ENCR_AES_CBC;
        snprintf(s, sizeof(s), "%s%s-prfsha256-ecp256", encr[i].kw, aead ? "" : "-sha256");
        struct hk_proposal_conf p = parse_ok(s, HK_PROPOSAL_IKE);
        assert_int_equal(p.nencr, 1);
        assert_int_equal(p.encr[0].id, encr[i].id);
        assert_int_equal(p.encr[0].key_bits, encr[i].bits);
        assert_int_equal(hk_proposal_is_aead(&p), aead);
        assert_int_equal(p.ninteg, aead ? 0 : 1);
        snprintf(s, sizeof(s), "%s%s", encr[i].kw, aead ? "" : "-sha256");
        p = parse_ok(s, HK_PROPOSAL_ESP);
        assert_int_equal(p.encr[0].id, encr[i].id);
        assert_int_equal(p.encr[0].key_bits, encr[i].bits);
    }

    static const struct {
        const char *kw;
        uint16_t id;
    } prf[] = {{"prfsha256", HK_PRF_HMAC_SHA2_256},
               {"prfsha384", HK_PRF_HMAC_SHA2_384},
               {"prfsha512", HK_PRF_HMAC_SHA2_512}},
      integ[] = {{"sha256", HK_AUTH_HMAC_SHA2_256_128},
                 {"sha384", HK_AUTH_HMAC_SHA2_384_192},
                 {"sha512", HK_AUTH_HMAC_SHA2_512_256}},
      ke[] = {{"modp2048", HK_KE_MODP2048},
              {"ecp256", HK_KE_ECP256},
              {"ecp384", HK_KE_ECP384},
              {"x25519", HK_KE_CURVE25519},
              {"curve25519", HK_KE_CURVE25519}};
    for (size_t i = 0; i < 3; i++) {
        snprintf(s, sizeof(s), "aes256gcm16-%s-x25519", prf[i].kw);
        struct hk_proposal_conf p = parse_ok(s, HK_PROPOSAL_IKE);
        assert_int_equal(p.nprf, 1);
        assert_int_equal(p.prf[0], prf[i].id);

        snprintf(s, sizeof(s), "aes128-%s-x25519", integ[i].kw);
        p = parse_ok(s, HK_PROPOSAL_IKE);
        assert_int_equal(p.ninteg, 1);
        assert_int_equal(p.integ[0], integ[i].id);
        assert_int_equal(p.nprf, 1); /* the PRF follows the integrity hash */
        assert_int_equal(p.prf[0], prf[i].id);

        snprintf(s, sizeof(s), "aes128-%s", integ[i].kw);
        p = parse_ok(s, HK_PROPOSAL_ESP);
        assert_int_equal(p.integ[0], integ[i].id);
        assert_int_equal(p.nprf, 0);
        assert_int_equal(p.nke, 0);
    }
    for (size_t i = 0; i < sizeof(ke) / sizeof(ke[0]); i++) {
        snprintf(s, sizeof(s), "aes256gcm16-prfsha384-%s", ke[i].kw);
        struct hk_proposal_conf p = parse_ok(s, HK_PROPOSAL_IKE);
        assert_int_equal(p.nke, 1);
        assert_int_equal(p.ke[0], ke[i].id);
        snprintf(s, sizeof(s), "aes256gcm16-%s", ke[i].kw); /* PFS for ESP */
        p = parse_ok(s, HK_PROPOSAL_ESP);
        assert_int_equal(p.ke[0], ke[i].id);
    }

    struct hk_proposal_conf p = parse_ok("aes256gcm16-esn", HK_PROPOSAL_ESP);
    assert_int_equal(p.nesn, 1);
    assert_int_equal(p.esn[0], HK_ESN_YES);
    p = parse_ok("aes256gcm16-noesn", HK_PROPOSAL_ESP);
    assert_int_equal(p.nesn, 1);
    assert_int_equal(p.esn[0], HK_ESN_NO);
    p = parse_ok("aes256gcm16", HK_PROPOSAL_ESP); /* default: no ESN */
    assert_int_equal(p.nesn, 1);
    assert_int_equal(p.esn[0], HK_ESN_NO);
    p = parse_ok("noesn-aes256gcm16-esn", HK_PROPOSAL_ESP);
    assert_int_equal(p.nesn, 2);
    assert_int_equal(p.esn[0], HK_ESN_NO);
    assert_int_equal(p.esn[1], HK_ESN_YES);
    assert_int_equal(p.proto, HK_PROPOSAL_ESP);
}

static void orders_and_lists(void **state)
{
    (void)state;
    /* Keywords of different types in any order; one type's order is the preference. */
    struct hk_proposal_conf a =
        parse_ok("x25519-sha384-aes256-prfsha512-ecp256-aes128-sha256", HK_PROPOSAL_IKE);
    assert_int_equal(a.proto, HK_PROPOSAL_IKE);
    assert_int_equal(a.nencr, 2);
    assert_int_equal(a.encr[0].key_bits, 256);
    assert_int_equal(a.encr[1].key_bits, 128);
    assert_int_equal(a.ninteg, 2);
    assert_int_equal(a.integ[0], HK_AUTH_HMAC_SHA2_384_192);
    assert_int_equal(a.integ[1], HK_AUTH_HMAC_SHA2_256_128);
    assert_int_equal(a.nprf, 1); /* given explicitly: nothing derived */
    assert_int_equal(a.prf[0], HK_PRF_HMAC_SHA2_512);
    assert_int_equal(a.nke, 2);
    assert_int_equal(a.ke[0], HK_KE_CURVE25519);
    assert_int_equal(a.ke[1], HK_KE_ECP256);

    struct hk_proposal_conf b = parse_ok("aes128-sha512-sha256-sha384-modp2048", HK_PROPOSAL_IKE);
    assert_int_equal(b.nprf, 3);
    assert_int_equal(b.prf[0], HK_PRF_HMAC_SHA2_512);
    assert_int_equal(b.prf[1], HK_PRF_HMAC_SHA2_256);
    assert_int_equal(b.prf[2], HK_PRF_HMAC_SHA2_384);

    /* Case does not matter; aliases are the same algorithm. */
    struct hk_proposal_conf c = parse_ok("AES256GCM-PrfSha256-Curve25519", HK_PROPOSAL_IKE);
    struct hk_proposal_conf d = parse_ok("aes256gcm16-prfsha256-x25519", HK_PROPOSAL_IKE);
    assert_memory_equal(&c, &d, sizeof(c));

    struct hk_proposal_conf e =
        parse_ok("aes256gcm16-aes128gcm16-chacha20poly1305-x25519", HK_PROPOSAL_ESP);
    assert_int_equal(e.nencr, 3);
    assert_int_equal(e.encr[2].id, HK_ENCR_CHACHA20_POLY1305);
}

static void errors(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        int proto;
        const char *want;
    } cases[] = {
        {"aes999-sha256-ecp256", HK_PROPOSAL_IKE, "unknown algorithm 'aes999'"},
        {"aes128-sha1-ecp256", HK_PROPOSAL_IKE, "unknown algorithm 'sha1'"},
        {"3des-sha256-ecp256", HK_PROPOSAL_IKE, "unknown algorithm '3des'"},
        {"aes128-sha256-modp1024", HK_PROPOSAL_IKE, "unknown algorithm 'modp1024'"},
        {"aes192gcm16", HK_PROPOSAL_ESP, "unknown algorithm 'aes192gcm16'"},
        {"aes128 -sha256", HK_PROPOSAL_ESP, "unknown algorithm 'aes128 '"},
        {"", HK_PROPOSAL_IKE, "empty proposal"},
        {"aes128--sha256", HK_PROPOSAL_ESP, "'aes128--sha256': empty algorithm name"},
        {"aes128-sha256-", HK_PROPOSAL_ESP, "empty algorithm name"},
        {"-aes128-sha256", HK_PROPOSAL_ESP, "empty algorithm name"},
        {"aes128-sha256", HK_PROPOSAL_IKE, "'aes128-sha256': no key exchange group"},
        {"sha256-prfsha256-ecp256", HK_PROPOSAL_IKE, "no encryption algorithm"},
        {"aes128-ecp256", HK_PROPOSAL_IKE, "'aes128-ecp256': no integrity algorithm"},
        {"aes128-prfsha256-ecp256", HK_PROPOSAL_IKE, "no integrity algorithm"},
        {"aes128", HK_PROPOSAL_ESP, "'aes128': no integrity algorithm"},
        {"aes256gcm16-x25519", HK_PROPOSAL_IKE, "no PRF (an AEAD proposal needs one"},
        {"aes256gcm16-sha256-prfsha256-x25519", HK_PROPOSAL_IKE,
         "AEAD ciphers take no integrity algorithm"},
        {"aes256gcm16-sha256", HK_PROPOSAL_ESP, "AEAD ciphers take no integrity algorithm"},
        {"chacha20poly1305-sha512", HK_PROPOSAL_ESP, "AEAD ciphers take no integrity algorithm"},
        {"aes256-aes256gcm16-sha256", HK_PROPOSAL_ESP,
         "'aes256gcm16': AEAD and non-AEAD ciphers cannot share a proposal"},
        {"aes128gcm16-aes128-prfsha256-x25519", HK_PROPOSAL_IKE,
         "AEAD and non-AEAD ciphers cannot share a proposal"},
        {"aes128-sha256-prfsha256", HK_PROPOSAL_ESP, "'prfsha256': ESP proposals have no PRF"},
        {"aes128-sha256-ecp256-esn", HK_PROPOSAL_IKE, "'esn': ESN is an ESP option, not IKE"},
        {"aes128-sha256-ecp256-noesn", HK_PROPOSAL_IKE, "ESN is an ESP option"},
        {"aes128-sha256-sha256-ecp256", HK_PROPOSAL_IKE, "'sha256' listed twice"},
        {"aes128-aes128-sha256", HK_PROPOSAL_ESP, "'aes128' listed twice"},
        {"aes128gcm-aes128gcm16", HK_PROPOSAL_ESP, "listed twice"},
        {"aes128gcm16-x25519-curve25519", HK_PROPOSAL_ESP, "listed twice"},
        {"aes128gcm16-esn-esn", HK_PROPOSAL_ESP, "'esn' listed twice"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct hk_proposal_conf p;
        char err[160] = "";
        int rc = hk_proposal_parse(cases[i].s, cases[i].proto, &p, err, sizeof(err));
        if (rc != HK_E_CONFIG || !strstr(err, cases[i].want))
            fail_msg("'%s': rc %d, got \"%s\", want \"%s\"", cases[i].s, rc, err, cases[i].want);
    }
    struct hk_proposal_conf p;
    char longer[400];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(hk_proposal_parse(longer, HK_PROPOSAL_ESP, &p, NULL, 0), HK_E_CONFIG);
    assert_int_equal(hk_proposal_parse("aes128-sha256", 2 /* AH */, &p, NULL, 0), HK_E_INVALID);
}

static void round_trip(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int proto;
        const char *canonical;
    } cases[] = {
        {"aes256gcm16-prfsha256-x25519", HK_PROPOSAL_IKE, "aes256gcm16-prfsha256-x25519"},
        {"aes128-sha256-ecp256", HK_PROPOSAL_IKE, "aes128-sha256-prfsha256-ecp256"},
        {"x25519-sha384-aes256-prfsha512-ecp256-aes128-sha256", HK_PROPOSAL_IKE,
         "aes256-aes128-sha384-sha256-prfsha512-x25519-ecp256"},
        {"AES128GCM-chacha20poly1305-PRFSHA384-curve25519-modp2048", HK_PROPOSAL_IKE,
         "aes128gcm16-chacha20poly1305-prfsha384-x25519-modp2048"},
        {"aes192-sha512-ecp384", HK_PROPOSAL_IKE, "aes192-sha512-prfsha512-ecp384"},
        {"aes256gcm16-esn", HK_PROPOSAL_ESP, "aes256gcm16-esn"},
        {"chacha20poly1305", HK_PROPOSAL_ESP, "chacha20poly1305"},
        {"chacha20poly1305-noesn", HK_PROPOSAL_ESP, "chacha20poly1305"},
        {"esn-noesn-aes128-sha256-ecp256", HK_PROPOSAL_ESP, "aes128-sha256-ecp256-esn-noesn"},
        {"aes256-aes192-sha384-sha512", HK_PROPOSAL_ESP, "aes256-aes192-sha384-sha512"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char buf[HK_PROPOSAL_STRLEN];
        struct hk_proposal_conf p = parse_ok(cases[i].in, cases[i].proto);
        assert_int_equal(hk_proposal_format(&p, buf, sizeof(buf)), 0);
        assert_string_equal(buf, cases[i].canonical);
        struct hk_proposal_conf q = parse_ok(buf, cases[i].proto);
        assert_memory_equal(&p, &q, sizeof(p)); /* parse(format(p)) == p */
    }

    /* Too small a buffer is reported, never overrun. */
    char small[8];
    struct hk_proposal_conf p = parse_ok("aes256gcm16-prfsha256-x25519", HK_PROPOSAL_IKE);
    memset(small, 'x', sizeof(small));
    assert_int_equal(hk_proposal_format(&p, small, sizeof(small)), HK_E_OVERFLOW);
    assert_true(memchr(small, '\0', sizeof(small)) != NULL);
    assert_int_equal(hk_proposal_format(&p, small, 0), HK_E_OVERFLOW);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_algorithm),
        cmocka_unit_test(orders_and_lists),
        cmocka_unit_test(errors),
        cmocka_unit_test(round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
