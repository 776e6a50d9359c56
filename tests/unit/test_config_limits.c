/*
 * hiked.conf: the limits of an authenticated peer (max_children, max_ike_sas, max_leases) and
 * the peer's certificate policy (remote.signature, eku, min_rsa_bits, min_ec_bits): defaults,
 * values and errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "config/config.h"

/* A pubkey connection with extra connection settings and extra remote settings. */
static int load(const char *conn_extra, const char *remote_extra, const char *local_sig,
                struct hk_config **cfg, char *err, size_t errlen)
{
    char text[2048];
    snprintf(text, sizeof(text),
             "connections = { c = {\n"
             "  local = { auth = \"pubkey\"; cert = \"a.pem\"; key = \"a.key\"; %s };\n"
             "  remote = { auth = \"pubkey\"; ca = \"ca.pem\"; %s };\n"
             "  %s\n"
             "  children = { x = {}; };\n"
             "}; };\n",
             local_sig, remote_extra, conn_extra);
    *cfg = NULL;
    return hk_config_load_string(text, cfg, err, errlen);
}

static const struct hk_conn *conn_ok(const char *conn_extra, const char *remote_extra,
                                     const char *local_sig, struct hk_config **cfg)
{
    char err[256];
    if (load(conn_extra, remote_extra, local_sig, cfg, err, sizeof(err)))
        fail_msg("unexpected error: %s", err);
    return &(*cfg)->conns[0];
}

static void defaults(void **s)
{
    (void)s;
    struct hk_config *cfg;
    const struct hk_conn *c = conn_ok("", "", "", &cfg);
    assert_int_equal(c->max_children, 64);
    assert_int_equal(c->max_ike_sas, 64);
    assert_int_equal(c->max_leases, 64);
    assert_int_equal(c->remote.signature, HK_SIG_CONF_RFC7427);
    assert_int_equal(c->remote.eku, HK_EKU_CONF_IKE);
    assert_false(c->remote.eku_any);
    assert_int_equal(c->remote.min_rsa_bits, 2048);
    assert_int_equal(c->remote.min_ec_bits, 256);
    hk_config_free(cfg);
    /* remote.signature follows local.signature unless set. */
    c = conn_ok("", "", "signature = \"classic\";", &cfg);
    assert_int_equal(c->remote.signature, HK_SIG_CONF_CLASSIC);
    hk_config_free(cfg);
    c = conn_ok("", "signature = \"rfc7427\";", "signature = \"classic\";", &cfg);
    assert_int_equal(c->remote.signature, HK_SIG_CONF_RFC7427);
    hk_config_free(cfg);
}

static void values(void **s)
{
    (void)s;
    struct hk_config *cfg;
    const struct hk_conn *c =
        conn_ok("max_children = 2; max_ike_sas = 0; max_leases = 1;",
                "signature = \"classic\"; eku = [\"ipsecIKE\", \"clientAuth\"]; "
                "min_rsa_bits = 3072; min_ec_bits = 384;",
                "", &cfg);
    assert_int_equal(c->max_children, 2);
    assert_int_equal(c->max_ike_sas, 0);
    assert_int_equal(c->max_leases, 1);
    assert_int_equal(c->remote.signature, HK_SIG_CONF_CLASSIC);
    assert_int_equal(c->remote.eku, HK_EKU_CONF_IPSEC_IKE | HK_EKU_CONF_CLIENT_AUTH);
    assert_int_equal(c->remote.min_rsa_bits, 3072);
    assert_int_equal(c->remote.min_ec_bits, 384);
    hk_config_free(cfg);
    c = conn_ok("", "eku = \"any\";", "", &cfg);
    assert_true(c->remote.eku_any);
    hk_config_free(cfg);
    c = conn_ok("", "eku = \"ike\";", "", &cfg);
    assert_false(c->remote.eku_any);
    assert_int_equal(c->remote.eku, HK_EKU_CONF_IKE);
    hk_config_free(cfg);
}

static void errors(void **s)
{
    (void)s;
    static const struct {
        const char *conn, *remote, *want;
    } bad[] = {
        {"max_children = -1;", "", "max_children"},
        {"", "eku = \"emailProtection\";", "unknown purpose 'emailProtection'"},
        {"", "eku = [\"any\", \"serverAuth\"];", "\"any\" cannot be combined"},
        {"", "min_rsa_bits = 512;", "min_rsa_bits"},
        {"", "min_ec_bits = 1024;", "min_ec_bits"},
        {"", "signature = \"sha1\";", "signature"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct hk_config *cfg;
        char err[256] = "";
        assert_int_equal(load(bad[i].conn, bad[i].remote, "", &cfg, err, sizeof(err)), HK_E_CONFIG);
        if (!strstr(err, bad[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, err, bad[i].want);
    }
    /* The certificate policy is for pubkey peers only. */
    struct hk_config *cfg;
    char err[256];
    assert_int_equal(
        hk_config_load_string("connections = { c = { psk = \"k\"; local = { auth = \"psk\"; };\n"
                              "  remote = { auth = \"psk\"; eku = \"any\"; };\n"
                              "  children = { x = {}; }; }; };",
                              &cfg, err, sizeof(err)),
        HK_E_CONFIG);
    assert_non_null(strstr(err, "only with auth = \"pubkey\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(values),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
