/*
 * The record of the exchange we initiated (struct ike_xchg in sa.h): while each kind of
 * request is out, the SA's record names that kind, its message ID and the ids it concerns;
 * once the response has been handled it is empty (or names the next exchange the response
 * started, such as the Delete of a rekeyed SA). A rekey by the peer that crosses ours is
 * recorded in the peer's record (2.8.1, 2.8.2). Packets are delivered one at a time, so the
 * records are seen between request and response.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define PSK "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const char *conf(bool alice, const char *esp, const char *children)
{
    static char b[2][4096];
    char *o = b[alice];
    snprintf(o, 4096,
             "connections = { gw = {\n"
             "  local_addrs = \"%s\"; remote_addrs = \"%s\";\n"
             "  local = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  remote = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  psk = \"" PSK "\"; dpd_delay = \"10s\"; rekey_time = 0;\n"
             "  children = { lan = { local_ts = \"%s\"; remote_ts = \"%s\"; esp = [%s]; }; %s };\n"
             "}; };\n",
             alice ? "192.0.2.1" : "192.0.2.2", alice ? "192.0.2.2" : "192.0.2.1",
             alice ? "alice" : "bob", alice ? "bob" : "alice",
             alice ? "10.1.0.0/16" : "10.2.0.0/16", alice ? "10.2.0.0/16" : "10.1.0.0/16", esp,
             children);
    return o;
}

struct pair {
    struct h_world *w;
    struct h_peer *a, *b;
};

/* Delivers the first queued packet only (what it causes stays queued). */
static void deliver_one(struct h_world *w)
{
    assert_true(w->npkts > 0);
    struct h_pkt k = w->pkts[0];
    memmove(&w->pkts[0], &w->pkts[1], (w->npkts - 1) * sizeof(k));
    w->npkts--;
    for (size_t i = 0; i < w->npeers; i++) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)&w->peers[i].addr,
                                 *y = (const struct sockaddr_in *)&k.dst;
        if (x->sin_addr.s_addr == y->sin_addr.s_addr)
            ike_engine_recv(&w->peers[i].engine, &k.dst, &k.src, k.buf, k.len);
    }
    free(k.buf);
}

/* The request is out: our record names kind with the request's message ID. */
static void assert_out(const struct ike_sa *sa, enum ike_xchg_kind kind)
{
    assert_non_null(sa);
    assert_string_equal(ike_xchg_kind_name(sa->xchg.kind), ike_xchg_kind_name(kind));
    assert_true(sa->out.npkts > 0);
    assert_int_equal(sa->out.exchange, ike_xchg_exchange(kind));
    assert_int_equal(sa->xchg.msg_id, sa->out.msg_id);
    assert_int_equal(sa->xchg.msg_id + 1, sa->req_next);
}

static void assert_empty(const struct ike_sa *sa)
{
    assert_non_null(sa);
    assert_int_equal(sa->xchg.kind, IKE_XCHG_NONE);
    assert_int_equal(sa->out.npkts, 0);
    assert_int_equal(sa->xchg.child_id, 0);
    assert_int_equal(sa->xchg.old_child_id, 0);
    assert_int_equal(sa->xchg.new_sa_id, 0);
    assert_null(sa->xchg.ke);
    assert_null(sa->xchg.nonce.p);
}

/* Request to the peer, its response back. */
static void round_trip(struct h_world *w)
{
    assert_int_equal(w->npkts, 1);
    deliver_one(w);
    assert_int_equal(w->npkts, 1);
    deliver_one(w);
}

static struct pair up(const char *esp, const char *children_a, const char *children_b)
{
    struct pair p;
    p.w = h_world_new();
    p.a = h_peer_add(p.w, "alice", "192.0.2.1", conf(true, esp, children_a));
    p.b = h_peer_add(p.w, "bob", "192.0.2.2", conf(false, esp, children_b));
    assert_int_equal(ike_engine_initiate(&p.a->engine, "gw", NULL), 0);
    h_run(p.w);
    assert_non_null(h_only_sa(p.a));
    assert_int_equal(h_only_sa(p.a)->state, IKE_SA_ESTABLISHED);
    assert_empty(h_only_sa(p.a));
    assert_empty(h_only_sa(p.b));
    return p;
}

/* IKE_SA_INIT, IKE_AUTH, then the connection's second child with CREATE_CHILD_SA (1.3.1). */
static void setup_and_create_child(void **s)
{
    (void)s;
    struct h_world *w = h_world_new();
    const char *ca = "dns = { local_ts = \"10.1.0.53/32[udp/53]\"; remote_ts = \"10.2.0.0/16\"; };";
    const char *cb = "dns = { local_ts = \"10.2.0.0/16\"; remote_ts = \"10.1.0.0/24\"; };";
    struct h_peer *a = h_peer_add(w, "alice", "192.0.2.1", conf(true, "\"aes256gcm16\"", ca));
    struct h_peer *b = h_peer_add(w, "bob", "192.0.2.2", conf(false, "\"aes256gcm16\"", cb));
    uint64_t id;
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", &id), 0);
    struct ike_sa *sa = ike_engine_sa(&a->engine, id);
    assert_out(sa, IKE_XCHG_SA_INIT);
    assert_int_equal(sa->xchg.msg_id, 0);
    round_trip(w);
    assert_out(sa, IKE_XCHG_AUTH);
    assert_int_equal(sa->xchg.msg_id, 1);
    round_trip(w);
    /* IKE_AUTH answered: the first child is up, and the second child's request is out. */
    assert_int_equal(sa->state, IKE_SA_ESTABLISHED);
    assert_out(sa, IKE_XCHG_CREATE_CHILD);
    assert_int_equal(sa->xchg.msg_id, 2);
    struct child_sa *c = ike_engine_child(&a->engine, sa->xchg.child_id);
    assert_non_null(c);
    assert_string_equal(c->name, "dns");
    assert_int_equal(c->state, CHILD_SA_CREATING);
    assert_int_equal(sa->xchg.old_child_id, 0);
    assert_int_equal(sa->xchg.new_sa_id, 0);
    assert_int_equal(sa->xchg.nonce.len, 32);
    assert_null(sa->xchg.ke); /* no PFS group */
    round_trip(w);
    assert_int_equal(c->state, CHILD_SA_INSTALLED);
    assert_empty(sa);
    assert_int_equal(w->npkts, 0);
    assert_int_equal(b->child_up, 2);
    h_world_free(w);
}

/* 1.3.3 with PFS; the response starts the Delete of the old child (1.4.1). */
static void rekey_child(void **s)
{
    (void)s;
    struct pair p = up("\"aes256gcm16-x25519\"", "", "");
    struct ike_sa *sa = h_only_sa(p.a);
    uint64_t old = h_only_child(p.a)->id;
    assert_int_equal(ike_engine_rekey_child(&p.a->engine, old), 0);
    assert_out(sa, IKE_XCHG_REKEY_CHILD);
    assert_int_equal(sa->xchg.old_child_id, old);
    struct child_sa *c = ike_engine_child(&p.a->engine, sa->xchg.child_id);
    assert_non_null(c);
    assert_int_not_equal(c->id, old);
    assert_int_equal(c->state, CHILD_SA_CREATING);
    assert_non_null(sa->xchg.ke);
    assert_int_equal(sa->xchg.nonce.len, 32);
    assert_int_equal(sa->xchg.new_sa_id, 0);
    round_trip(p.w);
    assert_int_equal(c->state, CHILD_SA_INSTALLED);
    /* The answer ended the rekey; the next request of ours deletes the old child. */
    assert_out(sa, IKE_XCHG_DELETE_CHILD);
    assert_int_equal(sa->xchg.child_id, old);
    assert_int_equal(sa->xchg.old_child_id, 0);
    assert_null(sa->xchg.ke);
    assert_null(sa->xchg.nonce.p);
    round_trip(p.w);
    assert_empty(sa);
    assert_null(ike_engine_child(&p.a->engine, old));
    assert_int_equal(h_only_child(p.a)->id, c->id);
    h_world_free(p.w);
}

/* 1.3.2: the new IKE SA waits in INIT_SENT; the response starts the old SA's Delete. */
static void rekey_ike(void **s)
{
    (void)s;
    struct pair p = up("\"aes256gcm16\"", "", "");
    struct ike_sa *sa = h_only_sa(p.a);
    uint64_t old_id = sa->id;
    assert_int_equal(ike_engine_rekey(&p.a->engine, sa->id), 0);
    assert_out(sa, IKE_XCHG_REKEY_IKE);
    struct ike_sa *ns = ike_engine_sa(&p.a->engine, sa->xchg.new_sa_id);
    assert_non_null(ns);
    assert_int_not_equal(ns->id, sa->id);
    assert_int_equal(ns->state, IKE_SA_INIT_SENT);
    assert_non_null(sa->xchg.ke);
    assert_int_equal(sa->xchg.nonce.len, 32);
    assert_int_equal(sa->xchg.child_id, 0);
    assert_int_equal(sa->xchg.old_child_id, 0);
    round_trip(p.w);
    assert_int_equal(ns->state, IKE_SA_ESTABLISHED);
    assert_empty(ns);
    assert_int_equal(sa->state, IKE_SA_DELETING);
    assert_out(sa, IKE_XCHG_DELETE_IKE);
    assert_int_equal(sa->xchg.new_sa_id, 0);
    assert_null(sa->xchg.ke);
    round_trip(p.w);
    assert_null(ike_engine_sa(&p.a->engine, old_id));
    assert_ptr_equal(h_only_sa(p.a), ns);
    assert_int_equal(h_only_child(p.a)->ike_id, ns->id);
    h_world_free(p.w);
}

static void delete_child(void **s)
{
    (void)s;
    struct pair p = up("\"aes256gcm16\"", "", "");
    struct ike_sa *sa = h_only_sa(p.a);
    uint64_t cid = h_only_child(p.a)->id;
    assert_int_equal(ike_engine_delete_child(&p.a->engine, cid), 0);
    assert_out(sa, IKE_XCHG_DELETE_CHILD);
    assert_int_equal(sa->xchg.child_id, cid);
    assert_int_equal(ike_engine_child(&p.a->engine, cid)->state, CHILD_SA_DELETING);
    round_trip(p.w);
    assert_empty(sa);
    assert_null(ike_engine_child(&p.a->engine, cid));
    assert_int_equal(sa->state, IKE_SA_ESTABLISHED);
    h_world_free(p.w);
}

static void delete_ike(void **s)
{
    (void)s;
    struct pair p = up("\"aes256gcm16\"", "", "");
    struct ike_sa *sa = h_only_sa(p.a);
    assert_int_equal(ike_engine_terminate(&p.a->engine, sa->id), 0);
    assert_out(sa, IKE_XCHG_DELETE_IKE);
    assert_int_equal(sa->state, IKE_SA_DELETING);
    assert_int_equal(sa->xchg.child_id, 0);
    round_trip(p.w);
    /* The answer ended the SA, and its record with it. */
    assert_null(h_only_sa(p.a));
    assert_null(h_only_sa(p.b));
    h_world_free(p.w);
}

/* 2.4: the liveness check is an INFORMATIONAL that deletes nothing. */
static void dpd(void **s)
{
    (void)s;
    struct pair p = up("\"aes256gcm16\"", "", "");
    struct ike_sa *sa = h_only_sa(p.a);
    uint64_t cid = h_only_child(p.a)->id;
    p.w->now += 11000;
    ike_engine_tick(&p.a->engine);
    assert_int_equal(p.a->engine.stats.dpd_sent, 1);
    assert_out(sa, IKE_XCHG_INFO);
    assert_int_equal(sa->xchg.child_id, 0);
    round_trip(p.w);
    assert_empty(sa);
    assert_int_equal(sa->state, IKE_SA_ESTABLISHED);
    assert_non_null(ike_engine_child(&p.a->engine, cid));
    h_world_free(p.w);
}

/* 2.8.1: the peer's rekey of a child crosses ours: Bob, answering it, records it. */
static void crossing_child_rekeys(void **s)
{
    (void)s;
    struct pair p = up("\"aes256gcm16\"", "", "");
    struct ike_sa *sb = h_only_sa(p.b);
    uint64_t old_b = h_only_child(p.b)->id;
    assert_int_equal(sb->peer_xchg.kind, IKE_XCHG_NONE);
    assert_int_equal(ike_engine_rekey_child(&p.a->engine, h_only_child(p.a)->id), 0);
    assert_int_equal(ike_engine_rekey_child(&p.b->engine, old_b), 0);
    assert_out(sb, IKE_XCHG_REKEY_CHILD);
    uint32_t a_req = h_only_sa(p.a)->xchg.msg_id;
    assert_int_equal(p.w->npkts, 2);
    deliver_one(p.w); /* Alice's request reaches Bob, whose own is out */
    assert_int_equal(sb->peer_xchg.kind, IKE_XCHG_REKEY_CHILD);
    assert_int_equal(sb->peer_xchg.msg_id, a_req);
    assert_int_equal(sb->peer_xchg.old_child_id, old_b);
    struct child_sa *made = ike_engine_child(&p.b->engine, sb->peer_xchg.child_id);
    assert_non_null(made);
    assert_int_equal(made->state, CHILD_SA_INSTALLED);
    assert_int_equal(sb->peer_xchg.nonce.len, 32);
    assert_null(sb->peer_xchg.ke);
    /* Ours is still out, unchanged. */
    assert_out(sb, IKE_XCHG_REKEY_CHILD);
    assert_int_equal(sb->xchg.old_child_id, old_b);
    h_settle(p.w, p.w->now + 10000);
    assert_empty(h_only_sa(p.a));
    assert_empty(h_only_sa(p.b));
    struct child_sa *ca = h_only_child(p.a), *cb = h_only_child(p.b);
    assert_int_equal(ca->spi_in, cb->spi_out);
    assert_int_equal(ca->spi_out, cb->spi_in);
    h_world_free(p.w);
}

/* 2.8.2: the same for the IKE SA: Bob records the SA he made answering Alice. */
static void crossing_ike_rekeys(void **s)
{
    (void)s;
    struct pair p = up("\"aes256gcm16\"", "", "");
    struct ike_sa *sb = h_only_sa(p.b);
    uint64_t b_id = sb->id;
    assert_int_equal(ike_engine_rekey(&p.a->engine, h_only_sa(p.a)->id), 0);
    assert_int_equal(ike_engine_rekey(&p.b->engine, sb->id), 0);
    assert_out(sb, IKE_XCHG_REKEY_IKE);
    uint64_t ours = sb->xchg.new_sa_id;
    deliver_one(p.w);
    assert_int_equal(sb->peer_xchg.kind, IKE_XCHG_REKEY_IKE);
    struct ike_sa *made = ike_engine_sa(&p.b->engine, sb->peer_xchg.new_sa_id);
    assert_non_null(made);
    assert_int_not_equal(made->id, ours);
    assert_int_equal(made->state, IKE_SA_ESTABLISHED);
    assert_int_equal(sb->peer_xchg.child_id, 0);
    assert_int_equal(sb->peer_xchg.nonce.len, 32);
    assert_out(sb, IKE_XCHG_REKEY_IKE);
    assert_int_equal(sb->xchg.new_sa_id, ours);
    h_settle(p.w, p.w->now + 10000);
    assert_null(ike_engine_sa(&p.b->engine, b_id));
    assert_empty(h_only_sa(p.a));
    assert_empty(h_only_sa(p.b));
    assert_memory_equal(h_only_sa(p.a)->spi_i, h_only_sa(p.b)->spi_i, 8);
    h_world_free(p.w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(setup_and_create_child),
        cmocka_unit_test(rekey_child),
        cmocka_unit_test(rekey_ike),
        cmocka_unit_test(delete_child),
        cmocka_unit_test(delete_ike),
        cmocka_unit_test(dpd),
        cmocka_unit_test(crossing_child_rekeys),
        cmocka_unit_test(crossing_ike_rekeys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
