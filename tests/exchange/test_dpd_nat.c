/*
 * NAT traversal (RFC 7296 2.23: detection, float to 4500, answering the NAT's
 * address, keepalives) and dead peer detection (2.4) with dpd_action restart.
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

static const char *alice_conf(const char *extra)
{
    static char b[2048];
    snprintf(
        b, sizeof(b),
        "connections = { gw = {\n"
        "  local_addrs = \"192.0.2.1\"; remote_addrs = \"192.0.2.2\";\n"
        "  local = { auth = \"psk\"; id = \"alice.example.net\"; };\n"
        "  remote = { auth = \"psk\"; id = \"bob.example.net\"; };\n"
        "  psk = \"" PSK "\"; %s\n"
        "  children = { lan = { local_ts = \"10.1.0.0/16\"; remote_ts = \"10.2.0.0/16\"; }; };\n"
        "}; };\n",
        extra);
    return b;
}

static const char *bob_conf(void)
{
    return "connections = { gw = {\n"
           "  remote_addrs = \"%any\";\n"
           "  local = { auth = \"psk\"; id = \"bob.example.net\"; };\n"
           "  remote = { auth = \"psk\"; id = \"alice.example.net\"; };\n"
           "  psk = \"" PSK "\";\n"
           "  children = { lan = { local_ts = \"10.2.0.0/16\"; remote_ts = \"10.1.0.0/16\"; }; };\n"
           "}; };\n";
}

static uint16_t port_of(const struct sockaddr_storage *a)
{
    return ntohs(((const struct sockaddr_in *)a)->sin_port);
}

/* A NAT in front of alice: 192.0.2.1:P <-> 203.0.113.1:P+10000. */
static bool nat(struct h_world *w, struct h_pkt *k, void *arg)
{
    (void)w, (void)arg;
    struct sockaddr_in *src = (struct sockaddr_in *)&k->src, *dst = (struct sockaddr_in *)&k->dst;
    if (src->sin_addr.s_addr == inet_addr("192.0.2.1")) {
        src->sin_addr.s_addr = inet_addr("203.0.113.1");
        src->sin_port = htons((uint16_t)(ntohs(src->sin_port) + 10000));
    } else if (dst->sin_addr.s_addr == inet_addr("203.0.113.1")) {
        dst->sin_addr.s_addr = inet_addr("192.0.2.1");
        dst->sin_port = htons((uint16_t)(ntohs(dst->sin_port) - 10000));
    }
    return true;
}

static void nat_detected_and_floated(void **s)
{
    (void)s;
    struct h_world *w = h_world_new();
    struct h_peer *a = h_peer_add(w, "alice", "192.0.2.1", alice_conf(""));
    struct h_peer *b = h_peer_add(w, "bob", "192.0.2.2", bob_conf());
    w->filter = nat;
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_run(w);
    struct ike_sa *sa = h_only_sa(a), *sb = h_only_sa(b);
    assert_int_equal(sa->state, IKE_SA_ESTABLISHED);
    assert_int_equal(sb->state, IKE_SA_ESTABLISHED);
    assert_true(sa->nat_local && !sa->nat_remote);
    assert_true(sb->nat_remote && !sb->nat_local);
    assert_int_equal(port_of(&sa->local), 4500);
    assert_int_equal(port_of(&sa->remote), 4500);
    /* Bob answers the NAT's mapping of alice's 4500. */
    assert_int_equal(port_of(&sb->remote), 14500);
    assert_int_equal(((struct sockaddr_in *)&sb->remote)->sin_addr.s_addr,
                     inet_addr("203.0.113.1"));
    assert_int_equal(a->child_up, 1);
    assert_int_equal(b->child_up, 1);
    /* Keepalives from the side behind the NAT only (RFC 3948 4). */
    h_settle(w, w->now + 61000);
    assert_true(a->keepalives >= 2);
    assert_int_equal(b->keepalives, 0);
    /* Bob can reach alice through the mapping: a DELETE from him completes. */
    assert_int_equal(ike_engine_terminate(&b->engine, sb->id), 0);
    h_settle(w, w->now + 10000);
    assert_null(h_only_sa(a));
    assert_null(h_only_sa(b));
    h_world_free(w);
}

/*
 * Linked with -Wl,--wrap=RAND_bytes (CMakeLists.txt): counts hike's direct RAND_bytes calls
 * (hk_random), which per SA should be none: OpenSSL 3.0 pays a getpid() system call in each,
 * where the engine's buffered source (hk_crypto_random) mostly pays nothing.
 */
int __real_RAND_bytes(unsigned char *buf, int num);
static size_t n_rand;
int __wrap_RAND_bytes(unsigned char *buf, int num)
{
    n_rand++;
    return __real_RAND_bytes(buf, num);
}

/*
 * encap = yes: UDP encapsulation without a NAT, by a NAT-D value that cannot match. Setting
 * up the SAs (random NAT-D, IKE and Child SA rekey jitter on by default) calls no RAND_bytes.
 */
static void forced_encapsulation(void **s)
{
    (void)s;
    struct h_world *w = h_world_new();
    struct h_peer *a = h_peer_add(w, "alice", "192.0.2.1", alice_conf("encap = true;"));
    struct h_peer *b = h_peer_add(w, "bob", "192.0.2.2", bob_conf());
    size_t rand0 = n_rand; /* after the engines' start-up draws */
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_run(w);
    struct ike_sa *sa = h_only_sa(a), *sb = h_only_sa(b);
    assert_int_equal(sb->state, IKE_SA_ESTABLISHED);
    assert_true(sb->nat_remote);
    assert_int_equal(port_of(&sa->local), 4500);
    assert_int_equal(port_of(&sb->local), 4500);
    assert_int_equal(a->child_up, 1);
    assert_int_equal(b->child_up, 1);
    assert_int_equal(n_rand, rand0);
    h_world_free(w);
}

static bool drop_all(struct h_world *w, struct h_pkt *k, void *arg)
{
    (void)w, (void)k;
    return !*(bool *)arg;
}

static void dpd_keeps_live_peer(void **s)
{
    (void)s;
    struct h_world *w = h_world_new();
    struct h_peer *a = h_peer_add(w, "alice", "192.0.2.1", alice_conf("dpd_delay = \"10s\";"));
    h_peer_add(w, "bob", "192.0.2.2", bob_conf());
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_settle(w, w->now + 35000);
    assert_true(a->engine.stats.dpd_sent >= 2);
    assert_int_equal(h_only_sa(a)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(a->engine.stats.dpd_dead, 0);
    h_world_free(w);
}

static void dpd_dead_peer_restart(void **s)
{
    (void)s;
    struct h_world *w = h_world_new();
    struct h_peer *a = h_peer_add(w, "alice", "192.0.2.1",
                                  alice_conf("dpd_delay = \"10s\"; dpd_action = \"restart\";"));
    struct h_peer *b = h_peer_add(w, "bob", "192.0.2.2", bob_conf());
    bool down = false;
    w->filter = drop_all;
    w->filter_arg = &down;
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_run(w);
    uint64_t first = h_only_sa(a)->id;
    down = true; /* the link dies */
    while (a->engine.stats.dpd_dead == 0 && h_step_time(w, w->now + 600000))
        ;
    assert_int_equal(a->engine.stats.dpd_dead, 1);
    assert_true(a->engine.stats.dpd_sent >= 1);
    /* restart: a new IKE SA is already being set up; once the link is back it comes up. */
    down = false;
    h_settle(w, w->now + 120000);
    struct ike_sa *sa = h_only_sa(a);
    assert_non_null(sa);
    assert_true(sa->id != first);
    assert_int_equal(sa->state, IKE_SA_ESTABLISHED);
    assert_int_equal(a->child_up, 2);
    (void)b;
    h_world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nat_detected_and_floated),
        cmocka_unit_test(forced_encapsulation),
        cmocka_unit_test(dpd_keeps_live_peer),
        cmocka_unit_test(dpd_dead_peer_restart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
