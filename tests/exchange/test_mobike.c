/*
 * MOBIKE (RFC 4555): MOBIKE_SUPPORTED in IKE_AUTH (3.2), and the move to port 4500 that
 * comes with it (3.3).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define PSK "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const char *alice_conf(bool mobike)
{
    static char b[2048];
    snprintf(
        b, sizeof(b),
        "connections = { gw = {\n"
        "  local_addrs = \"192.0.2.1\"; remote_addrs = \"192.0.2.2\";\n"
        "  local = { auth = \"psk\"; id = \"alice.example.net\"; };\n"
        "  remote = { auth = \"psk\"; id = \"bob.example.net\"; };\n"
        "  psk = \"" PSK "\"; mobike = %s;\n"
        "  children = { lan = { local_ts = \"10.1.0.0/16\"; remote_ts = \"10.2.0.0/16\"; }; };\n"
        "}; };\n",
        mobike ? "true" : "false");
    return b;
}

static const char *bob_conf(bool mobike)
{
    static char b[2048];
    snprintf(
        b, sizeof(b),
        "connections = { gw = {\n"
        "  remote_addrs = \"%%any\";\n"
        "  local = { auth = \"psk\"; id = \"bob.example.net\"; };\n"
        "  remote = { auth = \"psk\"; id = \"alice.example.net\"; };\n"
        "  psk = \"" PSK "\"; mobike = %s;\n"
        "  children = { lan = { local_ts = \"10.2.0.0/16\"; remote_ts = \"10.1.0.0/16\"; }; };\n"
        "}; };\n",
        mobike ? "true" : "false");
    return b;
}

static uint16_t port_of(const struct sockaddr_storage *a)
{
    return ntohs(((const struct sockaddr_in *)a)->sin_port);
}

/* Which notifies the IKE_AUTH messages carried: counted by a network filter that cannot
 * decrypt, so the engines' own view (sa->ext) is what is checked. */
static void negotiate(bool a_mobike, bool b_mobike, struct h_world **wp, struct h_peer **ap,
                      struct h_peer **bp)
{
    struct h_world *w = h_world_new();
    struct h_peer *a = h_peer_add(w, "alice", "192.0.2.1", alice_conf(a_mobike));
    struct h_peer *b = h_peer_add(w, "bob", "192.0.2.2", bob_conf(b_mobike));
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_run(w);
    assert_int_equal(h_only_sa(a)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(h_only_sa(b)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(a->child_up, 1);
    assert_int_equal(b->child_up, 1);
    *wp = w, *ap = a, *bp = b;
}

static void both_announce(void **s)
{
    (void)s;
    struct h_world *w;
    struct h_peer *a, *b;
    negotiate(true, true, &w, &a, &b);
    struct ike_sa *sa = h_only_sa(a), *sb = h_only_sa(b);
    assert_true(sa->ext & IKE_EXT_MOBIKE);
    assert_true(sb->ext & IKE_EXT_MOBIKE);
    /* 3.3: on port 4500 from IKE_AUTH on, without a NAT; the responder follows. */
    assert_false(sa->nat_local || sa->nat_remote);
    assert_int_equal(port_of(&sa->local), 4500);
    assert_int_equal(port_of(&sa->remote), 4500);
    assert_int_equal(port_of(&sb->local), 4500);
    assert_int_equal(port_of(&sb->remote), 4500);
    h_world_free(w);
}

static void only_initiator(void **s)
{
    (void)s;
    struct h_world *w;
    struct h_peer *a, *b;
    negotiate(true, false, &w, &a, &b);
    assert_false(h_only_sa(a)->ext & IKE_EXT_MOBIKE);
    assert_false(h_only_sa(b)->ext & IKE_EXT_MOBIKE);
    h_world_free(w);
}

static void only_responder(void **s)
{
    (void)s;
    struct h_world *w;
    struct h_peer *a, *b;
    negotiate(false, true, &w, &a, &b);
    assert_false(h_only_sa(a)->ext & IKE_EXT_MOBIKE);
    assert_false(h_only_sa(b)->ext & IKE_EXT_MOBIKE);
    /* Without MOBIKE on the initiator, no NAT: IKE stays on 500. */
    assert_int_equal(port_of(&h_only_sa(a)->local), 500);
    h_world_free(w);
}

static void neither(void **s)
{
    (void)s;
    struct h_world *w;
    struct h_peer *a, *b;
    negotiate(false, false, &w, &a, &b);
    assert_false(h_only_sa(a)->ext & IKE_EXT_MOBIKE);
    assert_false(h_only_sa(b)->ext & IKE_EXT_MOBIKE);
    h_world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_announce),
        cmocka_unit_test(only_initiator),
        cmocka_unit_test(only_responder),
        cmocka_unit_test(neither),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
