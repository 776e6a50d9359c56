/*
 * Virtual addresses (2.19) after an IKE SA rekey that the gateway starts. The rekey's
 * initiator becomes the new IKE SA's original initiator (2.18), so on the gateway the SA that
 * holds the client's lease now has the I flag, and on the client the SA with its assigned
 * address does not. Found by fuzz_post_auth (a lease outlived every IKE SA): which side leased
 * an address must not be read from the initiator flag.
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
#include "ike/engine_internal.h"
#include "ike/pool.h"

#define PSK "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const char *client(const char *name, const char *ip)
{
    static char b[4][2048];
    static int k;
    char *o = b[k++ % 4];
    snprintf(o, 2048,
             "connections = { gw = {\n"
             "  local_addrs = \"%s\"; remote_addrs = \"192.0.2.2\";\n"
             "  local = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  remote = { auth = \"psk\"; id = \"gw.example.net\"; };\n"
             "  psk = \"" PSK "\"; request_vip = \"ipv4\";\n"
             "  children = { all = { remote_ts = \"10.2.0.0/16\"; }; };\n"
             "}; };\n",
             ip, name);
    return o;
}

/* One address in the pool: whoever has it, nobody else gets one. */
static const char gateway[] = "pools = { v4 = { addrs = \"10.99.0.7-10.99.0.7\"; }; };\n"
                              "connections = { rw = {\n"
                              "  remote_addrs = \"%any\"; pools = [\"v4\"];\n"
                              "  local = { auth = \"psk\"; id = \"gw.example.net\"; };\n"
                              "  remote = { auth = \"psk\"; id = \"%any\"; };\n"
                              "  psk = \"" PSK "\";\n"
                              "  children = { all = { local_ts = \"10.2.0.0/16\"; }; };\n"
                              "}; };\n";

static const uint8_t vip7[4] = {10, 99, 0, 7};

/* Alice leaves after the gateway rekeyed her IKE SA: her address goes back to the pool and
 * carol gets it. */
static void lease_returned_after_gateway_rekey(void **s)
{
    (void)s;
    struct h_world *w = h_world_new();
    struct h_peer *a = h_peer_add(w, "alice", "192.0.2.1", client("alice", "192.0.2.1"));
    struct h_peer *g = h_peer_add(w, "gw", "192.0.2.2", gateway);
    struct h_peer *c = h_peer_add(w, "carol", "192.0.2.3", client("carol", "192.0.2.3"));
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_settle(w, w->now + 10000);
    assert_int_equal(ike_engine_rekey(&g->engine, h_only_sa(g)->id), 0);
    h_settle(w, w->now + 10000);
    struct ike_sa *sg = h_only_sa(g);
    assert_int_equal(sg->nvip, 1);
    assert_true(sg->initiator); /* 2.18: the rekey's initiator */
    assert_int_equal(ike_engine_terminate(&a->engine, h_only_sa(a)->id), 0);
    h_settle(w, w->now + 10000);
    assert_null(h_only_sa(g));
    assert_int_equal(g->engine.npools, 1);
    assert_int_equal(hk_ippool_in_use(g->engine.pools[0]), 0);
    assert_int_equal(ike_engine_initiate(&c->engine, "gw", NULL), 0);
    h_settle(w, w->now + 10000);
    struct ike_sa *sc = h_only_sa(c);
    assert_int_equal(sc->state, IKE_SA_ESTABLISHED);
    assert_int_equal(sc->nvip, 1);
    assert_memory_equal(sc->vip[0].addr, vip7, 4);
    h_world_free(w);
}

/* Child SAs rekeyed or made after the gateway's IKE rekey still have the client's virtual
 * address as the client's selector, on both sides, not its physical address. */
static void child_after_gateway_rekey_keeps_vip(void **s)
{
    (void)s;
    struct h_world *w = h_world_new();
    struct h_peer *a = h_peer_add(w, "alice", "192.0.2.1", client("alice", "192.0.2.1"));
    struct h_peer *g = h_peer_add(w, "gw", "192.0.2.2", gateway);
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_settle(w, w->now + 10000);
    assert_int_equal(ike_engine_rekey(&g->engine, h_only_sa(g)->id), 0);
    h_settle(w, w->now + 10000);
    assert_false(h_only_sa(a)->initiator);
    /* Alice rekeys her child, then the gateway does. */
    assert_int_equal(ike_engine_rekey_child(&a->engine, h_only_child(a)->id), 0);
    h_settle(w, w->now + 10000);
    struct child_sa *ca = h_only_child(a), *cg = h_only_child(g);
    assert_non_null(ca);
    assert_non_null(cg);
    assert_int_equal(ca->nts_local, 1);
    assert_memory_equal(ca->ts_local[0].start_addr, vip7, 4);
    assert_memory_equal(ca->ts_local[0].end_addr, vip7, 4);
    assert_int_equal(cg->nts_remote, 1);
    assert_memory_equal(cg->ts_remote[0].start_addr, vip7, 4);
    assert_int_equal(ike_engine_rekey_child(&g->engine, cg->id), 0);
    h_settle(w, w->now + 10000);
    ca = h_only_child(a);
    cg = h_only_child(g);
    assert_non_null(ca);
    assert_non_null(cg);
    assert_memory_equal(ca->ts_local[0].start_addr, vip7, 4);
    assert_memory_equal(cg->ts_remote[0].start_addr, vip7, 4);
    assert_memory_equal(cg->ts_remote[0].end_addr, vip7, 4);
    /* A new Child SA on the rekeyed IKE SA (CREATE_CHILD_SA, 1.3.1) proposes and gets the
     * virtual address too. */
    size_t before = hk_u64map_count(&a->engine.child_by_id);
    engine_queue(&a->engine, h_only_sa(a), IKE_TASK_NEW_CHILD, 0);
    h_settle(w, w->now + 10000);
    assert_int_equal(hk_u64map_count(&a->engine.child_by_id), before + 1);
    size_t pos = 0;
    struct child_sa *c;
    while ((c = hk_u64map_next(&a->engine.child_by_id, &pos, NULL))) {
        assert_int_equal(c->nts_local, 1);
        assert_memory_equal(c->ts_local[0].start_addr, vip7, 4);
        assert_memory_equal(c->ts_local[0].end_addr, vip7, 4);
    }
    pos = 0;
    while ((c = hk_u64map_next(&g->engine.child_by_id, &pos, NULL))) {
        assert_int_equal(c->nts_remote, 1);
        assert_memory_equal(c->ts_remote[0].start_addr, vip7, 4);
    }
    h_world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lease_returned_after_gateway_rekey),
        cmocka_unit_test(child_after_gateway_rekey_keeps_vip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
