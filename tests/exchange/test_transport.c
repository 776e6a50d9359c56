/*
 * USE_TRANSPORT_MODE (RFC 7296 1.3.1, 2.23.1): the initiator asks for transport mode when its
 * child is configured so, in IKE_AUTH and in CREATE_CHILD_SA; the responder accepts when its
 * child is configured for transport mode and declines otherwise (the SA would be tunnel mode,
 * which the initiator then refuses and deletes); a Child SA rekey keeps the mode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define PSK "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* Host-to-host children (selectors default to the endpoints' addresses). */
static const char *conf(bool alice, const char *children)
{
    static char b[2][4096];
    char *o = b[alice];
    snprintf(o, 4096,
             "connections = { gw = {\n"
             "  local_addrs = \"%s\"; remote_addrs = \"%s\";\n"
             "  local = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  remote = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  psk = \"" PSK "\";\n"
             "  children = { %s };\n"
             "}; };\n",
             alice ? "192.0.2.1" : "192.0.2.2", alice ? "192.0.2.2" : "192.0.2.1",
             alice ? "alice" : "bob", alice ? "bob" : "alice", children);
    return o;
}

#define TRANSPORT "host = { mode = \"transport\"; };"
#define TUNNEL    "host = { mode = \"tunnel\"; };"

struct pair {
    struct h_world *w;
    struct h_peer *a, *b;
};

static struct pair up(const char *children_a, const char *children_b)
{
    struct pair p;
    p.w = h_world_new();
    p.a = h_peer_add(p.w, "alice", "192.0.2.1", conf(true, children_a));
    p.b = h_peer_add(p.w, "bob", "192.0.2.2", conf(false, children_b));
    assert_int_equal(ike_engine_initiate(&p.a->engine, "gw", NULL), 0);
    h_settle(p.w, p.w->now + 5000);
    assert_non_null(h_only_sa(p.a));
    assert_int_equal(h_only_sa(p.a)->state, IKE_SA_ESTABLISHED);
    return p;
}

/* One installed child each side, halves of one pair, in transport mode iff transport. */
static void one_pair(struct pair *p, bool transport)
{
    struct child_sa *ca = h_only_child(p->a), *cb = h_only_child(p->b);
    assert_non_null(ca);
    assert_non_null(cb);
    assert_int_equal(ca->state, CHILD_SA_INSTALLED);
    assert_int_equal(cb->state, CHILD_SA_INSTALLED);
    assert_int_equal(ca->spi_in, cb->spi_out);
    assert_int_equal(ca->transport, transport);
    assert_int_equal(cb->transport, transport);
    /* Host to host: one address per side, the IKE endpoints (RFC 7296 2.23.1). */
    assert_int_equal(ca->nts_local, 1);
    assert_int_equal(ca->nts_remote, 1);
    uint8_t a4[4] = {192, 0, 2, 1}, b4[4] = {192, 0, 2, 2};
    assert_memory_equal(ca->ts_local[0].start_addr, a4, 4);
    assert_memory_equal(ca->ts_local[0].end_addr, a4, 4);
    assert_memory_equal(ca->ts_remote[0].start_addr, b4, 4);
    assert_memory_equal(cb->ts_local[0].start_addr, b4, 4);
}

static void both_transport(void **s)
{
    (void)s;
    struct pair p = up(TRANSPORT, TRANSPORT);
    one_pair(&p, true);
    h_world_free(p.w);
}

static void responder_declines(void **s)
{
    (void)s;
    /* 1.3.1: bob declines; alice wants transport only, so she refuses the tunnel-mode SA
     * and deletes it: no child is left on either side, the IKE SA stays. */
    struct pair p = up(TRANSPORT, TUNNEL);
    assert_null(h_only_child(p.a));
    assert_null(h_only_child(p.b));
    assert_int_equal(h_only_sa(p.b)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(p.a->child_up, 0);
    h_world_free(p.w);
}

static void initiator_asks_tunnel(void **s)
{
    (void)s;
    /* No USE_TRANSPORT_MODE in the request: tunnel mode, whatever the responder prefers. */
    struct pair p = up(TUNNEL, TRANSPORT);
    one_pair(&p, false);
    h_world_free(p.w);
}

static void rekey_keeps_transport(void **s)
{
    (void)s;
    struct pair p = up(TRANSPORT, TRANSPORT);
    for (int side = 0; side < 2; side++) {
        struct h_peer *who = side ? p.b : p.a;
        uint32_t old = h_only_child(who)->spi_in;
        assert_int_equal(ike_engine_rekey_child(&who->engine, h_only_child(who)->id), 0);
        h_settle(p.w, p.w->now + 10000);
        one_pair(&p, true);
        assert_int_not_equal(h_only_child(who)->spi_in, old);
    }
    /* And across an IKE SA rekey the children move over unchanged. */
    assert_int_equal(ike_engine_rekey(&p.a->engine, h_only_sa(p.a)->id), 0);
    h_settle(p.w, p.w->now + 10000);
    one_pair(&p, true);
    h_world_free(p.w);
}

static void create_child_transport(void **s)
{
    (void)s;
    /* The second child comes by CREATE_CHILD_SA (1.3.1), with the notify there too. */
    const char *two = "first = { local_ts = \"192.0.2.1[udp]\"; remote_ts = \"192.0.2.2[udp]\"; "
                      "mode = \"transport\"; };" TRANSPORT;
    const char *two_b = "first = { local_ts = \"192.0.2.2[udp]\"; remote_ts = \"192.0.2.1[udp]\"; "
                        "mode = \"transport\"; };" TRANSPORT;
    struct pair p = up(two, two_b);
    assert_int_equal(hk_u64map_count(&p.a->engine.child_by_id), 2);
    assert_int_equal(hk_u64map_count(&p.b->engine.child_by_id), 2);
    size_t pos = 0;
    struct child_sa *c;
    while ((c = hk_u64map_next(&p.b->engine.child_by_id, &pos, NULL))) {
        assert_int_equal(c->state, CHILD_SA_INSTALLED);
        assert_true(c->transport);
    }
    pos = 0;
    while ((c = hk_u64map_next(&p.a->engine.child_by_id, &pos, NULL)))
        assert_true(c->transport);
    h_world_free(p.w);
}

static void create_child_declined(void **s)
{
    (void)s;
    /* Bob's second child is tunnel mode: he declines in CREATE_CHILD_SA; alice must delete
     * the tunnel-mode SA he made (1.3.1). The first child (transport) stays on both. */
    /* Distinct proposals, so that bob picks his "udp" child for the second request. */
    const char *two = "host = { mode = \"transport\"; esp = [\"aes256gcm16\"]; };"
                      "udp = { local_ts = \"192.0.2.1[udp]\"; remote_ts = \"192.0.2.2[udp]\"; "
                      "mode = \"transport\"; esp = [\"chacha20poly1305\"]; };";
    const char *two_b = "host = { mode = \"transport\"; esp = [\"aes256gcm16\"]; };"
                        "udp = { local_ts = \"192.0.2.2[udp]\"; remote_ts = \"192.0.2.1[udp]\"; "
                        "esp = [\"chacha20poly1305\"]; };";
    struct pair p = up(two, two_b);
    one_pair(&p, true);
    assert_string_equal(h_only_child(p.a)->name, "host");
    assert_string_equal(h_only_child(p.b)->name, "host");
    assert_int_equal(p.b->child_up, 2);
    assert_int_equal(p.b->child_down, 1);
    h_world_free(p.w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_transport),         cmocka_unit_test(responder_declines),
        cmocka_unit_test(initiator_asks_tunnel),  cmocka_unit_test(rekey_keeps_transport),
        cmocka_unit_test(create_child_transport), cmocka_unit_test(create_child_declined),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
