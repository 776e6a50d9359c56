/*
 * Configuration payload and virtual addresses (RFC 7296 2.19, 3.15): the initiator
 * asks, the responder leases from a pool and narrows the selectors to the address,
 * a returning identity gets its address back, IPv6, and an empty pool answered with
 * INTERNAL_ADDRESS_FAILURE (3.15.4) while the IKE SA stays up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define PSK "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const char *client(const char *name, const char *ip, const char *vip)
{
    static char b[4][2048];
    static int k;
    char *o = b[k++ % 4];
    snprintf(o, 2048,
             "connections = { gw = {\n"
             "  local_addrs = \"%s\"; remote_addrs = \"192.0.2.2\";\n"
             "  local = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  remote = { auth = \"psk\"; id = \"gw.example.net\"; };\n"
             "  psk = \"" PSK "\"; request_vip = \"%s\";\n"
             "  children = { all = { remote_ts = [\"10.2.0.0/16\", \"fd00:2::/64\"]; }; };\n"
             "}; };\n",
             ip, name, vip);
    return o;
}

static const char *gateway(const char *pool4)
{
    static char b[2048];
    snprintf(b, sizeof(b),
             "pools = { v4 = { addrs = \"%s\"; dns = [\"10.99.0.53\"]; };\n"
             "          v6 = { addrs = \"fd00:99::/120\"; }; };\n"
             "connections = { rw = {\n"
             "  remote_addrs = \"%%any\"; pools = [\"v4\", \"v6\"];\n"
             "  local = { auth = \"psk\"; id = \"gw.example.net\"; };\n"
             "  remote = { auth = \"psk\"; id = \"%%any\"; };\n"
             "  psk = \"" PSK "\";\n"
             "  children = { all = { local_ts = [\"10.2.0.0/16\", \"fd00:2::/64\"]; }; };\n"
             "}; };\n",
             pool4);
    return b;
}

static char *ip_str(const struct hk_ip *ip, char *buf)
{
    return (char *)inet_ntop(ip->family, ip->addr, buf, INET6_ADDRSTRLEN);
}

static void vip4_assigned_and_narrowed(void **s)
{
    (void)s;
    struct h_world *w = h_world_new();
    struct h_peer *a = h_peer_add(w, "alice", "192.0.2.1", client("alice", "192.0.2.1", "ipv4"));
    struct h_peer *g = h_peer_add(w, "gw", "192.0.2.2", gateway("10.99.0.0/24"));
    char t[INET6_ADDRSTRLEN];
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_settle(w, w->now + 10000);
    struct ike_sa *sa = h_only_sa(a), *sg = h_only_sa(g);
    assert_int_equal(sa->state, IKE_SA_ESTABLISHED);
    assert_int_equal(sa->nvip, 1);
    assert_int_equal(sg->nvip, 1);
    assert_string_equal(ip_str(&sa->vip[0], t), "10.99.0.1");
    assert_memory_equal(&sa->vip[0], &sg->vip[0], sizeof(sa->vip[0]));
    /* The child carries the virtual address, narrowed by the gateway (2.9). */
    struct child_sa *ca = h_only_child(a), *cg = h_only_child(g);
    assert_non_null(ca);
    assert_non_null(cg);
    assert_int_equal(ca->nts_local, 1);
    assert_memory_equal(ca->ts_local[0].start_addr, sa->vip[0].addr, 4);
    assert_memory_equal(ca->ts_local[0].end_addr, sa->vip[0].addr, 4);
    assert_memory_equal(cg->ts_remote[0].start_addr, sa->vip[0].addr, 4);
    assert_int_equal(cg->nts_remote, 1); /* the client: its one IPv4 virtual address */
    assert_int_equal(cg->nts_local, 2);  /* both of the gateway's networks were asked for */

    /* Gone and back: the same identity gets the same address (2.19). */
    assert_int_equal(ike_engine_terminate(&a->engine, sa->id), 0);
    h_settle(w, w->now + 10000);
    assert_null(h_only_sa(g));
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_settle(w, w->now + 10000);
    assert_string_equal(ip_str(&h_only_sa(a)->vip[0], t), "10.99.0.1");
    h_world_free(w);
}

static void vip4_and_vip6(void **s)
{
    (void)s;
    struct h_world *w = h_world_new();
    struct h_peer *a = h_peer_add(w, "alice", "192.0.2.1", client("alice", "192.0.2.1", "both"));
    struct h_peer *g = h_peer_add(w, "gw", "192.0.2.2", gateway("10.99.0.0/24"));
    char t[INET6_ADDRSTRLEN];
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_settle(w, w->now + 10000);
    struct ike_sa *sa = h_only_sa(a);
    assert_int_equal(sa->nvip, 2);
    assert_string_equal(ip_str(&sa->vip[0], t), "10.99.0.1");
    assert_string_equal(ip_str(&sa->vip[1], t), "fd00:99::1");
    assert_non_null(h_only_child(a));
    (void)g;
    h_world_free(w);
}

static void pool_exhausted(void **s)
{
    (void)s;
    struct h_world *w = h_world_new();
    struct h_peer *a = h_peer_add(w, "alice", "192.0.2.1", client("alice", "192.0.2.1", "ipv4"));
    struct h_peer *g = h_peer_add(w, "gw", "192.0.2.2", gateway("10.99.0.7-10.99.0.7"));
    struct h_peer *c = h_peer_add(w, "carol", "192.0.2.3", client("carol", "192.0.2.3", "ipv4"));
    char t[INET6_ADDRSTRLEN];
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_settle(w, w->now + 10000);
    assert_string_equal(ip_str(&h_only_sa(a)->vip[0], t), "10.99.0.7");
    assert_int_equal(ike_engine_initiate(&c->engine, "gw", NULL), 0);
    h_settle(w, w->now + 10000);
    /* 3.15.4: carol's IKE SA is up, without an address and without a child. */
    struct ike_sa *sc = h_only_sa(c);
    assert_int_equal(sc->state, IKE_SA_ESTABLISHED);
    assert_int_equal(sc->nvip, 0);
    assert_null(h_only_child(c));
    assert_int_equal(hk_u64map_count(&g->engine.sa_by_id), 2);
    assert_int_equal(hk_u64map_count(&g->engine.child_by_id), 1);
    h_world_free(w);
}

/* An IKE rekey keeps the lease: the address moves with the children. */
static void vip_survives_ike_rekey(void **s)
{
    (void)s;
    struct h_world *w = h_world_new();
    struct h_peer *a = h_peer_add(w, "alice", "192.0.2.1", client("alice", "192.0.2.1", "ipv4"));
    struct h_peer *g = h_peer_add(w, "gw", "192.0.2.2", gateway("10.99.0.0/24"));
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_settle(w, w->now + 10000);
    assert_int_equal(ike_engine_rekey(&g->engine, h_only_sa(g)->id), 0);
    h_settle(w, w->now + 10000);
    assert_int_equal(h_only_sa(g)->nvip, 1);
    assert_int_equal(h_only_sa(a)->nvip, 1);
    h_world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vip4_assigned_and_narrowed),
        cmocka_unit_test(vip4_and_vip6),
        cmocka_unit_test(pool_exhausted),
        cmocka_unit_test(vip_survives_ike_rekey),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
