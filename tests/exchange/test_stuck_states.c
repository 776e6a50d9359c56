/*
 * States nothing would ever end (found by fuzz_post_auth): an IKE SA told to terminate while
 * an exchange of its own was in flight sat in DELETING with no DELETE sent; an IKE SA rekeyed
 * by the peer whose DELETE never came sat in REKEYED for ever. Both must end, on both sides.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "ike/codec/msg.h"

#define PSK "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const char *conf(bool alice)
{
    static char b[2][2048];
    snprintf(b[alice], sizeof(b[0]),
             "connections = { gw = {\n"
             "  local_addrs = \"%s\"; remote_addrs = \"%s\";\n"
             "  local = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  remote = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  psk = \"" PSK "\";\n"
             "  children = { lan = { local_ts = \"%s\"; remote_ts = \"%s\"; }; };\n"
             "}; };\n",
             alice ? "192.0.2.1" : "192.0.2.2", alice ? "192.0.2.2" : "192.0.2.1",
             alice ? "alice" : "bob", alice ? "bob" : "alice",
             alice ? "10.1.0.0/16" : "10.2.0.0/16", alice ? "10.2.0.0/16" : "10.1.0.0/16");
    return b[alice];
}

static struct h_world *pair_up(struct h_peer **a, struct h_peer **b)
{
    struct h_world *w = h_world_new();
    *a = h_peer_add(w, "alice", "192.0.2.1", conf(true));
    *b = h_peer_add(w, "bob", "192.0.2.2", conf(false));
    assert_int_equal(ike_engine_initiate(&(*a)->engine, "gw", NULL), 0);
    h_run(w);
    assert_int_equal(h_only_sa(*a)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(h_only_sa(*b)->state, IKE_SA_ESTABLISHED);
    return w;
}

static void drop_queued(struct h_world *w)
{
    for (size_t i = 0; i < w->npkts; i++)
        free(w->pkts[i].buf);
    w->npkts = 0;
}

/* Terminate with a Child SA rekey out: the DELETE goes once the window is free. */
static void terminate_while_request_out(void **s)
{
    (void)s;
    struct h_peer *a, *b;
    struct h_world *w = pair_up(&a, &b);
    assert_int_equal(ike_engine_rekey_child(&a->engine, h_only_child(a)->id), 0);
    assert_int_equal(w->npkts, 1); /* the CREATE_CHILD_SA request, not delivered yet */
    assert_int_equal(ike_engine_terminate(&a->engine, h_only_sa(a)->id), 0);
    assert_int_equal(h_only_sa(a)->state, IKE_SA_ESTABLISHED); /* nothing sent yet */
    h_settle(w, w->now + 60000);
    assert_null(h_only_sa(a));
    assert_null(h_only_sa(b));
    assert_int_equal(a->ike_down, 1);
    assert_int_equal(b->ike_down, 1);
    h_world_free(w);
}

/* The same when the peer never answers the request in flight: the SA ends with the
 * retransmissions, not in DELETING for ever. */
static void terminate_while_request_unanswered(void **s)
{
    (void)s;
    struct h_peer *a, *b;
    struct h_world *w = pair_up(&a, &b);
    assert_int_equal(ike_engine_rekey_child(&a->engine, h_only_child(a)->id), 0);
    assert_int_equal(ike_engine_terminate(&a->engine, h_only_sa(a)->id), 0);
    for (int i = 0; i < 100 && h_only_sa(a); i++) {
        drop_queued(w); /* bob is gone from the network */
        if (!h_step_time(w, w->now + 600000))
            break;
    }
    drop_queued(w);
    assert_null(h_only_sa(a));
    h_world_free(w);
}

/* Drops alice's INFORMATIONAL requests on the old IKE SA (SPIi in arg): the DELETE of the SA
 * she rekeyed never arrives. */
static bool no_info_from_alice(struct h_world *w, struct h_pkt *k, void *arg)
{
    (void)w;
    return !(k->from == 0 && k->len >= IKE_HDR_LEN && k->buf[18] == IKE_INFORMATIONAL &&
             !(k->buf[19] & IKE_FLAG_RESPONSE) && !memcmp(k->buf, arg, IKE_SPI_LEN));
}

static void rekeyed_sa_never_deleted_by_peer(void **s)
{
    (void)s;
    struct h_peer *a, *b;
    struct h_world *w = pair_up(&a, &b);
    uint64_t old_b = h_only_sa(b)->id;
    uint8_t old_spi[IKE_SPI_LEN];
    memcpy(old_spi, h_only_sa(a)->spi_i, IKE_SPI_LEN);
    w->filter = no_info_from_alice;
    w->filter_arg = old_spi;
    assert_int_equal(ike_engine_rekey(&a->engine, h_only_sa(a)->id), 0);
    h_run(w);
    struct ike_sa *ob = ike_engine_sa(&b->engine, old_b);
    assert_non_null(ob);
    assert_int_equal(ob->state, IKE_SA_REKEYED);
    /* Past the grace period bob deletes it himself; alice answers from her DELETING SA. */
    h_settle(w, w->now + 200000);
    assert_null(ike_engine_sa(&b->engine, old_b));
    assert_int_equal(hk_u64map_count(&b->engine.sa_by_id), 1);
    assert_int_equal(h_only_sa(b)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(h_only_child(b)->ike_id, h_only_sa(b)->id);
    w->filter = NULL;
    h_world_free(w);
}

/* A Child SA the data plane refuses is not INSTALLED: it is deleted, the peer told (1.4.1),
 * and the IKE SA stays, on either side of the exchange that made it. */
static void child_refused_by_data_plane(void **s)
{
    (void)s;
    for (int side = 0; side < 2; side++) {
        struct h_world *w = h_world_new();
        struct h_peer *a = h_peer_add(w, "alice", "192.0.2.1", conf(true));
        struct h_peer *b = h_peer_add(w, "bob", "192.0.2.2", conf(false));
        struct h_peer *refuser = side ? b : a, *other = side ? a : b;
        refuser->child_up_fail = 1;
        assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
        h_run(w);
        assert_int_equal(h_only_sa(a)->state, IKE_SA_ESTABLISHED);
        assert_int_equal(h_only_sa(b)->state, IKE_SA_ESTABLISHED);
        assert_null(h_only_child(a));
        assert_null(h_only_child(b));
        assert_int_equal(refuser->engine.stats.child_install_failed, 1);
        assert_int_equal(refuser->engine.stats.child_up, 0);
        assert_int_equal(other->child_down, 1); /* installed there, then deleted */
        /* The IKE SA goes on working. */
        assert_int_equal(ike_engine_rekey(&a->engine, h_only_sa(a)->id), 0);
        h_settle(w, w->now + 10000);
        assert_int_equal(h_only_sa(a)->state, IKE_SA_ESTABLISHED);
        h_world_free(w);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(terminate_while_request_out),
        cmocka_unit_test(terminate_while_request_unanswered),
        cmocka_unit_test(rekeyed_sa_never_deleted_by_peer),
        cmocka_unit_test(child_refused_by_data_plane),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
