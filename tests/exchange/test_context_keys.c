/*
 * The key material an IKE SA keeps for a context export (connection setting context_keys):
 * by default only the derived SK_* keys; with "skeyseed" also SKEYSEED; with "dh" also our
 * Diffie-Hellman private value and the peer's KE value. What is kept must rebuild the SA's
 * keys: the DH value gives SKEYSEED again (RFC 7296 2.14), SKEYSEED gives SK_d again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "crypto/kdf.h"
#include "crypto/ke.h"
#include "harness.h"

#define PSK "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const char *conf(bool alice, const char *keys)
{
    static char b[2][2048];
    snprintf(b[alice], sizeof(b[0]),
             "connections = { gw = {\n"
             "  local_addrs = \"%s\"; remote_addrs = \"%s\"; %s\n"
             "  local = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  remote = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  psk = \"" PSK "\";\n"
             "  children = { lan = { local_ts = \"%s\"; remote_ts = \"%s\"; }; };\n"
             "}; };\n",
             alice ? "192.0.2.1" : "192.0.2.2", alice ? "192.0.2.2" : "192.0.2.1", keys,
             alice ? "alice" : "bob", alice ? "bob" : "alice",
             alice ? "10.1.0.0/16" : "10.2.0.0/16", alice ? "10.2.0.0/16" : "10.1.0.0/16");
    return b[alice];
}

static struct h_world *up(const char *keys_a, const char *keys_b, struct h_peer **a,
                          struct h_peer **b)
{
    struct h_world *w = h_world_new();
    *a = h_peer_add(w, "alice", "192.0.2.1", conf(true, keys_a));
    *b = h_peer_add(w, "bob", "192.0.2.2", conf(false, keys_b));
    assert_int_equal(ike_engine_initiate(&(*a)->engine, "gw", NULL), 0);
    h_run(w);
    assert_int_equal(h_only_sa(*a)->state, IKE_SA_ESTABLISHED);
    return w;
}

static void secrets_equal(const struct hk_secret *x, const struct hk_secret *y)
{
    assert_non_null(x);
    assert_non_null(y);
    assert_int_equal(x->len, y->len);
    assert_memory_equal(x->data, y->data, x->len);
}

/* SKEYSEED gives the SA's SK_* again (the draft's second way to carry IKE keys). */
static void skeyseed_rebuilds_keys(const struct hk_crypto *c, const struct ike_sa *sa)
{
    struct hk_ike_keys k = {0};
    assert_int_equal(hk_ike_keys_derive(c, &sa->alg, sa->skeyseed, sa->ni.p, sa->ni.len, sa->nr.p,
                                        sa->nr.len, sa->spi_i, sa->spi_r, &k),
                     0);
    secrets_equal(k.sk_d, sa->keys.sk_d);
    secrets_equal(k.sk_ei, sa->keys.sk_ei);
    secrets_equal(k.sk_pr, sa->keys.sk_pr);
    hk_ike_keys_free(&k);
}

static void derived_only_by_default(void **s)
{
    (void)s;
    struct h_peer *a, *b;
    struct h_world *w = up("", "", &a, &b);
    struct ike_sa *sa = h_only_sa(a), *sb = h_only_sa(b);
    assert_null(sa->skeyseed);
    assert_null(sa->dh_private);
    assert_int_equal(sa->peer_ke.len, 0);
    assert_null(sb->skeyseed);
    assert_null(sb->dh_private);
    assert_non_null(sa->keys.sk_d);
    h_world_free(w);
}

static void skeyseed_kept(void **s)
{
    (void)s;
    struct h_peer *a, *b;
    struct h_world *w = up("context_keys = \"skeyseed\";", "context_keys = \"skeyseed\";", &a, &b);
    struct ike_sa *sa = h_only_sa(a), *sb = h_only_sa(b);
    secrets_equal(sa->skeyseed, sb->skeyseed);
    assert_null(sa->dh_private);
    skeyseed_rebuilds_keys(&w->crypto, sa);
    skeyseed_rebuilds_keys(&w->crypto, sb);
    h_world_free(w);
}

/* Our DH private value and the peer's KE value give SKEYSEED again (the first way). */
static void dh_kept(void **s)
{
    (void)s;
    struct h_peer *a, *b;
    struct h_world *w = up("context_keys = \"dh\";", "", &a, &b);
    struct ike_sa *sa = h_only_sa(a), *sb = h_only_sa(b);
    assert_null(sb->skeyseed); /* bob keeps what his connection says */
    assert_non_null(sa->dh_private);
    assert_true(sa->peer_ke.len > 0);
    struct hk_ke *k;
    struct hk_secret *g_ir, *skeyseed;
    assert_int_equal(hk_ke_new_from_private(&w->crypto, sa->alg.ke, sa->dh_private->data,
                                            sa->dh_private->len, &k),
                     0);
    assert_int_equal(hk_ke_derive(k, sa->peer_ke.p, sa->peer_ke.len, &g_ir), 0);
    assert_int_equal(hk_skeyseed(&w->crypto, sa->alg.prf, sa->ni.p, sa->ni.len, sa->nr.p,
                                 sa->nr.len, g_ir->data, g_ir->len, &skeyseed),
                     0);
    secrets_equal(skeyseed, sa->skeyseed);
    skeyseed_rebuilds_keys(&w->crypto, sa);
    hk_secret_free(&g_ir);
    hk_secret_free(&skeyseed);
    hk_ke_free(k);
    h_world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(derived_only_by_default),
        cmocka_unit_test(skeyseed_kept),
        cmocka_unit_test(dh_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
