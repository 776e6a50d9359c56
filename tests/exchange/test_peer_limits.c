/*
 * Limits an authenticated peer cannot exceed (docs/config.md): Child SAs per IKE SA
 * (NO_ADDITIONAL_SAS, RFC 7296 1.3), IKE SAs per peer identity (AUTHENTICATION_FAILED,
 * 2.21.2) and virtual addresses per identity (INTERNAL_ADDRESS_FAILURE, 3.15.4). Rekeys
 * replace and never count as new.
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

/* A road warrior (any address of 192.0.2.0/24) with identity id, asking for vip. */
static const char *client(const char *ip, const char *id, const char *vip, const char *children)
{
    static char b[4][2048];
    static int k;
    char *o = b[k++ % 4];
    snprintf(o, 2048,
             "connections = { gw = {\n"
             "  local_addrs = \"%s\"; remote_addrs = \"192.0.2.2\";\n"
             "  local = { auth = \"psk\"; id = \"%s\"; };\n"
             "  remote = { auth = \"psk\"; id = \"gw.example.net\"; };\n"
             "  psk = \"" PSK "\"; request_vip = \"%s\";\n"
             "  children = { %s };\n"
             "}; };\n",
             ip, id, vip, children);
    return o;
}

static const char *gateway(const char *limits, const char *children)
{
    static char b[2048];
    snprintf(b, sizeof(b),
             "pools = { v4 = { addrs = \"10.99.0.0/24\"; }; };\n"
             "connections = { rw = {\n"
             "  remote_addrs = \"%%any\"; pools = [\"v4\"]; %s\n"
             "  local = { auth = \"psk\"; id = \"gw.example.net\"; };\n"
             "  remote = { auth = \"psk\"; id = \"%%any\"; };\n"
             "  psk = \"" PSK "\";\n"
             "  children = { %s };\n"
             "}; };\n",
             limits, children);
    return b;
}

#define ONE_CHILD "net = { local_ts = \"10.1.0.0/16\"; remote_ts = \"10.2.0.0/16\"; };"
#define GW_CHILD  "net = { local_ts = \"10.2.0.0/16\"; remote_ts = \"10.1.0.0/16\"; };"

static size_t nsas(struct h_peer *p)
{
    return hk_u64map_count(&p->engine.sa_by_id);
}

static size_t live_children(struct h_peer *p)
{
    size_t n = 0, pos = 0;
    struct child_sa *c;
    while ((c = hk_u64map_next(&p->engine.child_by_id, &pos, NULL)))
        n += c->state == CHILD_SA_INSTALLED;
    return n;
}

static void children_per_ike_sa(void **s)
{
    (void)s;
    struct h_world *w = h_world_new();
    /* Three children on one IKE SA: the first with IKE_AUTH, two by CREATE_CHILD_SA. */
    struct h_peer *a =
        h_peer_add(w, "alice", "192.0.2.1",
                   client("192.0.2.1", "alice.example.net", "none",
                          "c1 = { local_ts = \"10.1.1.0/24\"; remote_ts = \"10.2.0.0/16\"; };"
                          "c2 = { local_ts = \"10.1.2.0/24\"; remote_ts = \"10.2.0.0/16\"; };"
                          "c3 = { local_ts = \"10.1.3.0/24\"; remote_ts = \"10.2.0.0/16\"; };"));
    struct h_peer *g = h_peer_add(w, "gw", "192.0.2.2", gateway("max_children = 2;", GW_CHILD));
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_settle(w, w->now + 10000);
    /* The third is refused with NO_ADDITIONAL_SAS; the IKE SA and two children stay. */
    assert_int_equal(h_only_sa(a)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(g->child_up, 2);
    assert_int_equal(a->child_up, 2);
    assert_int_equal(live_children(a), 2);
    assert_int_equal(live_children(g), 2);
    assert_int_equal(g->engine.stats.refused_children, 1);

    /* At the limit, a rekey of a child replaces it: not refused. */
    struct ike_sa *sa = h_only_sa(a);
    uint64_t first = 0;
    for (size_t i = 0; i < sa->nchildren && !first; i++)
        if (ike_engine_child(&a->engine, sa->children[i])->state == CHILD_SA_INSTALLED)
            first = sa->children[i];
    assert_int_equal(ike_engine_rekey_child(&a->engine, first), 0);
    h_settle(w, w->now + 10000);
    assert_int_equal(a->child_up, 3);
    assert_int_equal(g->child_up, 3);
    assert_int_equal(live_children(g), 2);
    assert_int_equal(g->engine.stats.refused_children, 1);
    /* And so does a rekey of the IKE SA, which takes the children along. */
    assert_int_equal(ike_engine_rekey(&a->engine, h_only_sa(a)->id), 0);
    h_settle(w, w->now + 10000);
    assert_int_equal(h_only_sa(g)->nchildren, 2);
    assert_int_equal(live_children(g), 2);
    assert_int_equal(g->engine.stats.refused_children, 1);
    h_world_free(w);
}

static void ike_sas_per_identity(void **s)
{
    (void)s;
    struct h_world *w = h_world_new();
    struct h_peer *a = h_peer_add(w, "alice", "192.0.2.1",
                                  client("192.0.2.1", "road.example.net", "none", ONE_CHILD));
    /* Another device with the same identity, and someone else. */
    struct h_peer *b = h_peer_add(w, "alice2", "192.0.2.3",
                                  client("192.0.2.3", "road.example.net", "none", ONE_CHILD));
    struct h_peer *c = h_peer_add(w, "carol", "192.0.2.4",
                                  client("192.0.2.4", "carol.example.net", "none", ONE_CHILD));
    struct h_peer *g = h_peer_add(w, "gw", "192.0.2.2", gateway("max_ike_sas = 2;", GW_CHILD));
    uint64_t id1;
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", &id1), 0);
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_settle(w, w->now + 10000);
    assert_int_equal(nsas(g), 2);
    /* A third IKE SA of the identity, from another address: AUTHENTICATION_FAILED. */
    assert_int_equal(ike_engine_initiate(&b->engine, "gw", NULL), 0);
    h_settle(w, w->now + 10000);
    assert_int_equal(nsas(g), 2);
    assert_int_equal(nsas(b), 0);
    assert_int_equal(b->ike_failed, 1);
    assert_int_equal(g->engine.stats.refused_ike_sas, 1);
    assert_int_equal(g->engine.stats.auth_failures, 1);
    /* Another identity is not affected. */
    assert_int_equal(ike_engine_initiate(&c->engine, "gw", NULL), 0);
    h_settle(w, w->now + 10000);
    assert_int_equal(nsas(g), 3);

    /* At the limit, an IKE SA rekey replaces: not refused, still two counted after it. */
    assert_int_equal(ike_engine_rekey(&a->engine, id1), 0);
    h_settle(w, w->now + 10000);
    assert_int_equal(nsas(a), 2);
    assert_int_equal(nsas(g), 3);
    assert_int_equal(g->engine.stats.refused_ike_sas, 1);
    assert_int_equal(b->ike_failed, 1);
    assert_int_equal(ike_engine_initiate(&b->engine, "gw", NULL), 0);
    h_settle(w, w->now + 10000);
    assert_int_equal(g->engine.stats.refused_ike_sas, 2);

    /* One of them gone: the identity may have another. */
    size_t pos = 0;
    struct ike_sa *sa = hk_u64map_next(&a->engine.sa_by_id, &pos, NULL);
    assert_int_equal(ike_engine_terminate(&a->engine, sa->id), 0);
    h_settle(w, w->now + 10000);
    assert_int_equal(nsas(g), 2);
    assert_int_equal(ike_engine_initiate(&b->engine, "gw", NULL), 0);
    h_settle(w, w->now + 10000);
    assert_int_equal(nsas(b), 1);
    assert_int_equal(nsas(g), 3);
    assert_int_equal(g->engine.stats.refused_ike_sas, 2);
    h_world_free(w);
}

static void leases_per_identity(void **s)
{
    (void)s;
    struct h_world *w = h_world_new();
    const char *child = "net = { remote_ts = \"10.2.0.0/16\"; };";
    struct h_peer *a =
        h_peer_add(w, "alice", "192.0.2.1", client("192.0.2.1", "road.example.net", "ipv4", child));
    struct h_peer *b = h_peer_add(w, "alice2", "192.0.2.3",
                                  client("192.0.2.3", "road.example.net", "ipv4", child));
    struct h_peer *c = h_peer_add(w, "carol", "192.0.2.4",
                                  client("192.0.2.4", "carol.example.net", "ipv4", child));
    struct h_peer *g = h_peer_add(
        w, "gw", "192.0.2.2", gateway("max_leases = 1;", "net = { local_ts = \"10.2.0.0/16\"; };"));
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_settle(w, w->now + 10000);
    assert_int_equal(h_only_sa(a)->nvip, 1);
    /* The same identity again: its IKE SA comes up, without an address and so without a child
     * (3.15.4). */
    assert_int_equal(ike_engine_initiate(&b->engine, "gw", NULL), 0);
    h_settle(w, w->now + 10000);
    struct ike_sa *sb = h_only_sa(b);
    assert_non_null(sb);
    assert_int_equal(sb->state, IKE_SA_ESTABLISHED);
    assert_int_equal(sb->nvip, 0);
    assert_int_equal(b->child_up, 0);
    assert_int_equal(g->engine.stats.refused_leases, 1);
    /* Someone else still gets one. */
    assert_int_equal(ike_engine_initiate(&c->engine, "gw", NULL), 0);
    h_settle(w, w->now + 10000);
    assert_int_equal(h_only_sa(c)->nvip, 1);

    /* The lease returned, the identity gets one again. */
    assert_int_equal(ike_engine_terminate(&a->engine, h_only_sa(a)->id), 0);
    assert_int_equal(ike_engine_terminate(&b->engine, h_only_sa(b)->id), 0);
    h_settle(w, w->now + 10000);
    assert_int_equal(ike_engine_initiate(&b->engine, "gw", NULL), 0);
    h_settle(w, w->now + 10000);
    assert_int_equal(h_only_sa(b)->nvip, 1);
    assert_int_equal(b->child_up, 1);
    assert_int_equal(g->engine.stats.refused_leases, 1);
    h_world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(children_per_ike_sa),
        cmocka_unit_test(ike_sas_per_identity),
        cmocka_unit_test(leases_per_identity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
