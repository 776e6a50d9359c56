/*
 * IKE SA cloning (RFC 7791): CLONE_IKE_SA_SUPPORTED in IKE_AUTH (5.1), the clone exchange
 * in both roles (5.2), clone families, and the refusals of 5.3 with the initiator's retry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "harness.h"
#include "ike/engine_internal.h"

#define PSK "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const char *conf(bool alice, const char *extra)
{
    static char b[2][4096];
    char *o = b[alice];
    snprintf(o, 4096,
             "connections = { gw = {\n"
             "  local_addrs = \"%s\"; remote_addrs = \"%s\";\n"
             "  local = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  remote = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  psk = \"" PSK "\"; %s\n"
             "  children = { lan = { local_ts = \"%s\"; remote_ts = \"%s\"; esp = "
             "[\"aes256gcm16\"]; }; };\n"
             "}; };\n",
             alice ? "192.0.2.1" : "192.0.2.2", alice ? "192.0.2.2" : "192.0.2.1",
             alice ? "alice" : "bob", alice ? "bob" : "alice", extra,
             alice ? "10.1.0.0/16" : "10.2.0.0/16", alice ? "10.2.0.0/16" : "10.1.0.0/16");
    return o;
}

struct pair {
    struct h_world *w;
    struct h_peer *a, *b;
    uint64_t sa, sb; /* the first IKE SA on each side */
};

static struct pair up(const char *extra_a, const char *extra_b)
{
    struct pair p;
    p.w = h_world_new();
    p.a = h_peer_add(p.w, "alice", "192.0.2.1", conf(true, extra_a));
    p.b = h_peer_add(p.w, "bob", "192.0.2.2", conf(false, extra_b));
    assert_int_equal(ike_engine_initiate(&p.a->engine, "gw", NULL), 0);
    h_run(p.w);
    assert_int_equal(h_only_sa(p.a)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(h_only_sa(p.b)->state, IKE_SA_ESTABLISHED);
    p.sa = h_only_sa(p.a)->id;
    p.sb = h_only_sa(p.b)->id;
    return p;
}

static size_t count_sas(struct h_peer *p, enum ike_sa_state st)
{
    size_t n = 0, pos = 0;
    struct ike_sa *sa;
    while ((sa = ike_engine_next_sa(&p->engine, &pos)))
        n += sa->state == st;
    return n;
}

/* The peer's SA with the same SPIs as sa. */
static struct ike_sa *twin(struct h_peer *p, const struct ike_sa *sa)
{
    size_t pos = 0;
    struct ike_sa *k;
    while ((k = ike_engine_next_sa(&p->engine, &pos)))
        if (!memcmp(k->spi_i, sa->spi_i, 8) && !memcmp(k->spi_r, sa->spi_r, 8))
            return k;
    return NULL;
}

/* ---- 5.1: negotiation ---- */

static void negotiated_both(void **s)
{
    (void)s;
    struct pair p = up("", "");
    assert_true(h_only_sa(p.a)->ext & IKE_EXT_CLONE);
    assert_true(h_only_sa(p.b)->ext & IKE_EXT_CLONE);
    h_world_free(p.w);
}

static void negotiated_one_side(void **s)
{
    (void)s;
    /* Only the responder allows cloning, then only the initiator: neither SA may be cloned,
     * and the command says why on each side. */
    for (int k = 0; k < 2; k++) {
        struct pair p = k ? up("clone = false;", "") : up("", "clone = false;");
        struct h_peer *off = k ? p.a : p.b, *on = k ? p.b : p.a;
        assert_false(h_only_sa(p.a)->ext & IKE_EXT_CLONE);
        assert_false(h_only_sa(p.b)->ext & IKE_EXT_CLONE);
        assert_int_equal(ike_engine_clone(&on->engine, h_only_sa(on)->id, NULL), HK_E_UNSUPPORTED);
        assert_int_equal(ike_engine_clone(&off->engine, h_only_sa(off)->id, NULL), HK_E_CONFIG);
        h_settle(p.w, p.w->now + 5000);
        assert_int_equal(count_sas(p.a, IKE_SA_ESTABLISHED), 1);
        h_world_free(p.w);
    }
}

static void negotiated_neither(void **s)
{
    (void)s;
    struct pair p = up("clone = false;", "clone = false;");
    assert_false(h_only_sa(p.a)->ext & IKE_EXT_CLONE);
    assert_false(h_only_sa(p.b)->ext & IKE_EXT_CLONE);
    assert_int_equal(ike_engine_clone(&p.a->engine, p.sa, NULL), HK_E_CONFIG);
    h_world_free(p.w);
}

/* ---- 5.2: the clone ---- */

/* sa's clone on one side: both SAs up, the Child SA still on the parent, one family. */
static struct ike_sa *clone_ok(struct pair *p, struct h_peer *who, uint64_t parent)
{
    int clones_a = (int)p->a->engine.stats.clones, clones_b = (int)p->b->engine.stats.clones;
    uint64_t nid = 0;
    assert_int_equal(ike_engine_clone(&who->engine, parent, &nid), 0);
    assert_int_not_equal(nid, 0);
    h_settle(p->w, p->w->now + 5000);
    struct ike_sa *old = ike_engine_sa(&who->engine, parent),
                  *ns = ike_engine_sa(&who->engine, nid);
    assert_non_null(old);
    assert_non_null(ns);
    assert_int_equal(old->state, IKE_SA_ESTABLISHED);
    assert_int_equal(ns->state, IKE_SA_ESTABLISHED);
    assert_int_equal((int)p->a->engine.stats.clones, clones_a + 1);
    assert_int_equal((int)p->b->engine.stats.clones, clones_b + 1);
    /* The peer's twin: same SPIs and keys (2.18 from the parent's SK_d), not the parent's. */
    struct ike_sa *peer = twin(who == p->a ? p->b : p->a, ns);
    assert_non_null(peer);
    assert_int_equal(peer->state, IKE_SA_ESTABLISHED);
    assert_int_equal(ns->keys.sk_d->len, peer->keys.sk_d->len);
    assert_memory_equal(ns->keys.sk_d->data, peer->keys.sk_d->data, ns->keys.sk_d->len);
    assert_memory_not_equal(ns->keys.sk_d->data, old->keys.sk_d->data, ns->keys.sk_d->len);
    assert_true(ns->ext & IKE_EXT_CLONE); /* a clone may be cloned again */
    assert_int_equal(ns->family, old->family);
    assert_int_equal(ns->family_start_ms, old->family_start_ms);
    assert_int_equal(ns->nchildren, 0);
    assert_int_equal(peer->nchildren, 0);
    assert_int_equal(ns->peer_id.data.len, old->peer_id.data.len);
    return ns;
}

static void assert_child_on(struct h_peer *p, uint64_t ike_id)
{
    struct child_sa *c = h_only_child(p);
    assert_non_null(c);
    assert_int_equal(c->state, CHILD_SA_INSTALLED);
    assert_int_equal(c->ike_id, ike_id);
}

/* A liveness check (2.4) over an SA: answered, the SA stays. */
static void dpd_over(struct pair *p, struct h_peer *who, uint64_t id)
{
    struct h_peer *other = who == p->a ? p->b : p->a;
    uint64_t before = other->engine.stats.exchanges_info;
    struct ike_sa *sa = ike_engine_sa(&who->engine, id);
    assert_int_equal(engine_request(&who->engine, sa, IKE_XCHG_INFO, NULL, 0), 0);
    h_run(p->w);
    sa = ike_engine_sa(&who->engine, id);
    assert_non_null(sa);
    assert_int_equal(sa->out.npkts, 0);
    assert_int_equal(sa->xchg.kind, IKE_XCHG_NONE);
    assert_int_equal(other->engine.stats.exchanges_info, before + 1);
}

static void clone_by(struct h_peer *(*pick)(struct pair *))
{
    struct pair p = up("", "");
    struct h_peer *who = pick(&p);
    uint64_t parent = who == p.a ? p.sa : p.sb;
    uint32_t child_spi = h_only_child(p.a)->spi_in;
    struct ike_sa *ns = clone_ok(&p, who, parent);
    uint64_t nid = ns->id;
    assert_int_equal(count_sas(p.a, IKE_SA_ESTABLISHED), 2);
    assert_int_equal(count_sas(p.b, IKE_SA_ESTABLISHED), 2);
    /* 5.2: the Child SA stays with the parent, untouched, on both sides. */
    assert_child_on(p.a, p.sa);
    assert_child_on(p.b, p.sb);
    assert_int_equal(h_only_child(p.a)->spi_in, child_spi);
    assert_int_equal(p.a->child_moved + p.b->child_moved, 0);
    assert_int_equal(p.a->child_down + p.b->child_down, 0);
    /* Both SAs work on their own: a liveness check over each, a child rekey over the parent. */
    dpd_over(&p, who, parent);
    dpd_over(&p, who, nid);
    assert_int_equal(ike_engine_rekey_child(&p.a->engine, h_only_child(p.a)->id), 0);
    h_settle(p.w, p.w->now + 5000);
    assert_child_on(p.a, p.sa);
    assert_child_on(p.b, p.sb);
    assert_int_not_equal(h_only_child(p.a)->spi_in, child_spi);
    /* A Child SA made over the clone belongs to the clone (Appendix A.3). */
    engine_queue(&who->engine, ike_engine_sa(&who->engine, nid), IKE_TASK_NEW_CHILD, 0);
    h_settle(p.w, p.w->now + 5000);
    assert_int_equal(ike_engine_child_count(&p.a->engine), 2);
    assert_int_equal(ike_engine_sa(&who->engine, nid)->nchildren, 1);
    assert_int_equal(ike_engine_sa(&who->engine, parent)->nchildren, 1);
    assert_int_equal(p.a->ike_up, 2);
    assert_int_equal(p.b->ike_up, 2);
    h_world_free(p.w);
}

static struct h_peer *pick_a(struct pair *p)
{
    return p->a;
}

static struct h_peer *pick_b(struct pair *p)
{
    return p->b;
}

static void clone_initiator(void **s)
{
    (void)s;
    clone_by(pick_a);
}

/* The original responder clones: the clone's initiator flag is its own (2.18). */
static void clone_responder(void **s)
{
    (void)s;
    clone_by(pick_b);
}

static void clone_of_clone(void **s)
{
    (void)s;
    struct pair p = up("", "");
    struct ike_sa *c1 = clone_ok(&p, p.a, p.sa);
    uint64_t id1 = c1->id;
    struct ike_sa *c2 = clone_ok(&p, p.b, twin(p.b, c1)->id);
    assert_int_equal(count_sas(p.a, IKE_SA_ESTABLISHED), 3);
    assert_int_equal(count_sas(p.b, IKE_SA_ESTABLISHED), 3);
    assert_int_equal(c2->family, p.sb);
    assert_int_equal(twin(p.a, c2)->family, p.sa);
    assert_int_equal(ike_engine_sa(&p.a->engine, id1)->family, p.sa);
    assert_child_on(p.a, p.sa);
    dpd_over(&p, p.a, twin(p.a, c2)->id);
    h_world_free(p.w);
}

/* 5.1: an SA without the extension is not cloned; the request is the IKE rekey it also is. */
static void clone_notify_ignored_without_extension(void **s)
{
    (void)s;
    struct pair p = up("", "clone = false;");
    struct ike_sa *sa = h_only_sa(p.a);
    sa->ext |= IKE_EXT_CLONE; /* alice believes it negotiated; bob did not */
    assert_int_equal(ike_engine_clone(&p.a->engine, p.sa, NULL), 0);
    h_run(p.w);
    /* bob rekeyed: its Child SA moved to the new SA, the old one waits for its DELETE. */
    struct ike_sa *old = ike_engine_sa(&p.b->engine, p.sb);
    assert_non_null(old);
    assert_int_equal(old->state, IKE_SA_REKEYED);
    assert_int_equal(old->nchildren, 0);
    assert_int_equal(p.b->child_moved, 1);
    assert_int_equal(p.b->engine.stats.clones, 0);
    assert_int_not_equal(h_only_child(p.b)->ike_id, p.sb);
    h_world_free(p.w);
}

/* 5.2: CLONE_IKE_SA in any other message is ignored (here an INFORMATIONAL request). */
static void clone_notify_ignored_elsewhere(void **s)
{
    (void)s;
    struct pair p = up("", "");
    struct ike_payload n = {.type = IKE_PL_NOTIFY, .u.notify.type = IKE_N_CLONE_IKE_SA};
    assert_int_equal(engine_request(&p.a->engine, h_only_sa(p.a), IKE_XCHG_INFO, &n, 1), 0);
    h_run(p.w);
    assert_int_equal(h_only_sa(p.a)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(h_only_sa(p.b)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(p.b->engine.stats.clones, 0);
    h_world_free(p.w);
}

/* 5.2: ... nor in a CREATE_CHILD_SA for a Child SA: the Child SA is made, no IKE SA. */
static void clone_notify_ignored_in_child_request(void **s)
{
    (void)s;
    struct pair p = up("", "");
    struct ike_engine *e = &p.a->engine;
    struct ike_sa *sa = h_only_sa(p.a);
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, "gw");
    const struct hk_child_conf *cc = &conn->children[0];
    struct child_sa *c = child_nego_new(e, sa, conn, cc);
    assert_non_null(c);
    uint8_t pub[512];
    size_t publen, n = 0;
    assert_int_equal(x_create_begin(e, sa, IKE_XCHG_CREATE_CHILD, 0, pub, &publen), 0);
    sa->xchg.child_id = c->id;
    struct hk_arena a;
    alignas(max_align_t) uint8_t abuf[IKE_BUILD_ARENA];
    struct ike_payload pl[8];
    hk_arena_init_buf(&a, 0, abuf, sizeof(abuf));
    pl[n++] = (struct ike_payload){.type = IKE_PL_NOTIFY, .u.notify.type = IKE_N_CLONE_IKE_SA};
    assert_int_equal(child_nego_add_sa(cc, c, false, &a, pl, &n), 0);
    pl[n++] = (struct ike_payload){.type = IKE_PL_NONCE,
                                   .u.nonce.data = {sa->xchg.nonce.p, sa->xchg.nonce.len}};
    child_nego_add_ts(c, pl, &n);
    assert_int_equal(engine_request(e, sa, IKE_XCHG_CREATE_CHILD, pl, n), 0);
    hk_arena_free(&a);
    h_run(p.w);
    assert_int_equal(count_sas(p.a, IKE_SA_ESTABLISHED), 1);
    assert_int_equal(count_sas(p.b, IKE_SA_ESTABLISHED), 1);
    assert_int_equal(p.b->engine.stats.clones, 0);
    assert_int_equal(ike_engine_child_count(&p.a->engine), 2);
    assert_int_equal(ike_engine_child_count(&p.b->engine), 2);
    assert_int_equal(c->state, CHILD_SA_INSTALLED);
    h_world_free(p.w);
}

/* Section 8: deleting the original leaves its clone working. */
static void delete_original(void **s)
{
    (void)s;
    struct pair p = up("", "");
    uint64_t nid = clone_ok(&p, p.a, p.sa)->id;
    assert_int_equal(ike_engine_terminate(&p.a->engine, p.sa), 0);
    h_settle(p.w, p.w->now + 5000);
    struct ike_sa *c = h_only_sa(p.a);
    assert_non_null(c);
    assert_int_equal(c->id, nid);
    assert_int_equal(c->state, IKE_SA_ESTABLISHED);
    assert_int_equal(h_only_sa(p.b)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(c->family, p.sa); /* the family outlives its first SA */
    assert_int_equal(ike_engine_child_count(&p.a->engine), 0); /* the children went with it */
    dpd_over(&p, p.a, nid);
    engine_queue(&p.a->engine, c, IKE_TASK_NEW_CHILD, 0);
    h_settle(p.w, p.w->now + 5000);
    assert_child_on(p.a, nid);
    assert_child_on(p.b, h_only_sa(p.b)->id);
    h_world_free(p.w);
}

/* Both sides clone at once: two independent clones, nothing refused. */
static void simultaneous_clones(void **s)
{
    (void)s;
    struct pair p = up("", "");
    assert_int_equal(ike_engine_clone(&p.a->engine, p.sa, NULL), 0);
    assert_int_equal(ike_engine_clone(&p.b->engine, p.sb, NULL), 0);
    h_settle(p.w, p.w->now + 5000);
    assert_int_equal(count_sas(p.a, IKE_SA_ESTABLISHED), 3);
    assert_int_equal(count_sas(p.b, IKE_SA_ESTABLISHED), 3);
    assert_int_equal(p.a->engine.stats.clones, 2);
    assert_int_equal(p.a->engine.stats.refused_clones + p.b->engine.stats.refused_clones, 0);
    assert_child_on(p.a, p.sa);
    h_world_free(p.w);
}

/* A clone crossing a new Child SA of the same IKE SA: both answered as usual (a clone moves no
 * Child SA, so 2.25.1's TEMPORARY_FAILURE for an IKE rekey does not apply). */
static void clone_crossing_new_child(void **s)
{
    (void)s;
    struct pair p = up("", "");
    engine_queue(&p.a->engine, h_only_sa(p.a), IKE_TASK_NEW_CHILD, 0);
    assert_int_equal(ike_engine_clone(&p.b->engine, p.sb, NULL), 0);
    h_settle(p.w, p.w->now + 5000);
    assert_int_equal(count_sas(p.a, IKE_SA_ESTABLISHED), 2);
    assert_int_equal(p.b->engine.stats.clones, 1);
    assert_int_equal(p.a->engine.stats.refused_clones, 0);
    assert_int_equal(ike_engine_sa(&p.a->engine, p.sa)->nchildren, 2);
    assert_int_equal(ike_engine_sa(&p.b->engine, p.sb)->nchildren, 2);
    h_world_free(p.w);
}

/* ---- 5.3: refusals ---- */

/* NO_ADDITIONAL_SAS at max_clones: no retry, the command refuses, until one of the family goes. */
static void no_additional_sas_at_max_clones(void **s)
{
    (void)s;
    struct pair p = up("", "max_clones = 1;");
    uint64_t c1 = clone_ok(&p, p.a, p.sa)->id;
    uint64_t nid = 1;
    assert_int_equal(ike_engine_clone(&p.a->engine, p.sa, &nid), 0);
    assert_int_not_equal(nid, 0);
    h_settle(p.w, p.w->now + 300000); /* long past every retry a TEMPORARY_FAILURE would get */
    assert_int_equal(count_sas(p.a, IKE_SA_ESTABLISHED), 2);
    assert_int_equal(count_sas(p.b, IKE_SA_ESTABLISHED), 2);
    assert_null(ike_engine_sa(&p.a->engine, nid)); /* the half-made SA went */
    assert_int_equal(p.b->engine.stats.refused_clones, 1);
    /* Blocked for the whole family, from any of its SAs. */
    assert_int_equal(ike_engine_clone(&p.a->engine, p.sa, NULL), HK_E_AGAIN);
    assert_int_equal(ike_engine_clone(&p.a->engine, c1, NULL), HK_E_AGAIN);
    /* bob's own side sees its limit without asking. */
    assert_int_equal(ike_engine_clone(&p.b->engine, p.sb, NULL), HK_E_OVERFLOW);
    /* A rekey of the family's first SA replaces it: no SA is gone, still blocked. */
    assert_int_equal(ike_engine_rekey(&p.a->engine, p.sa), 0);
    h_settle(p.w, p.w->now + 5000);
    assert_null(ike_engine_sa(&p.a->engine, p.sa));
    uint64_t first = 0;
    size_t pos = 0;
    struct ike_sa *k;
    while ((k = ike_engine_next_sa(&p.a->engine, &pos)))
        if (k->id != c1)
            first = k->id;
    assert_int_equal(ike_engine_sa(&p.a->engine, first)->family, p.sa);
    assert_int_equal(ike_engine_clone(&p.a->engine, first, NULL), HK_E_AGAIN);
    /* One of the family goes: cloning is allowed again, and works. */
    assert_int_equal(ike_engine_terminate(&p.a->engine, c1), 0);
    h_settle(p.w, p.w->now + 5000);
    clone_ok(&p, p.a, first);
    assert_int_equal(count_sas(p.b, IKE_SA_ESTABLISHED), 2);
    h_world_free(p.w);
}

/* Section 8: clones count against max_ike_sas of the peer's identity. */
static void no_additional_sas_at_max_ike_sas(void **s)
{
    (void)s;
    struct pair p = up("", "max_ike_sas = 2;");
    clone_ok(&p, p.a, p.sa);
    assert_int_equal(ike_engine_clone(&p.a->engine, p.sa, NULL), 0);
    h_settle(p.w, p.w->now + 5000);
    assert_int_equal(count_sas(p.b, IKE_SA_ESTABLISHED), 2);
    assert_int_equal(p.b->engine.stats.refused_clones, 1);
    assert_int_equal(ike_engine_clone(&p.a->engine, p.sa, NULL), HK_E_AGAIN);
    h_world_free(p.w);
}

/*
 * A clone crossing the peer's rekey of the same SA (RFC 7791 5.3, RFC 7296 2.25): the rekeying
 * side answers the clone TEMPORARY_FAILURE (the SA is about to go), the cloning side answers the
 * rekey as usual. The rekey completes, and the clone is retried after a wait from the rekeyed
 * SA's successor.
 */
static void clone_crossing_rekey(struct h_peer *(*cloner)(struct pair *))
{
    struct pair p = up("", "");
    struct h_peer *c = cloner(&p), *r = c == p.a ? p.b : p.a;
    uint64_t cid = c == p.a ? p.sa : p.sb, rid = c == p.a ? p.sb : p.sa;
    uint32_t child_spi = h_only_child(p.a)->spi_in;
    assert_int_equal(ike_engine_clone(&c->engine, cid, NULL), 0);
    assert_int_equal(ike_engine_rekey(&r->engine, rid), 0);
    h_run(p.w);
    /* The rekey won: the old SA is gone on both sides, its successor holds the child. */
    assert_null(ike_engine_sa(&c->engine, cid));
    assert_null(ike_engine_sa(&r->engine, rid));
    assert_int_equal(r->engine.stats.refused_clones, 1);
    assert_int_equal(count_sas(c, IKE_SA_ESTABLISHED), 1);
    struct ike_sa *succ = h_only_sa(c);
    assert_int_equal(succ->clone_tries, 1); /* the retry waits on the successor */
    assert_int_equal(c->engine.stats.clones, 0);
    /* Not at once (2.25: MUST wait): nothing before the first back-off. */
    h_settle(p.w, p.w->now + 4000);
    assert_int_equal(c->engine.stats.clones, 0);
    h_settle(p.w, p.w->now + 10000);
    assert_int_equal(c->engine.stats.clones, 1);
    assert_int_equal(r->engine.stats.clones, 1);
    assert_int_equal(count_sas(c, IKE_SA_ESTABLISHED), 2);
    assert_int_equal(count_sas(r, IKE_SA_ESTABLISHED), 2);
    /* The child moved once, with the rekey, and stays with the rekeyed SA. */
    assert_int_equal(h_only_child(p.a)->spi_in, child_spi);
    struct ike_sa *owner = ike_engine_sa(&p.a->engine, h_only_child(p.a)->ike_id);
    assert_non_null(owner);
    assert_int_equal(owner->state, IKE_SA_ESTABLISHED);
    assert_int_equal(owner->family, p.sa);
    size_t pos = 0;
    struct ike_sa *k;
    while ((k = ike_engine_next_sa(&p.a->engine, &pos)))
        assert_int_equal(k->family, p.sa); /* the rekey and the clone stay in the family */
    h_world_free(p.w);
}

static void clone_crossing_rekey_initiator(void **s)
{
    (void)s;
    clone_crossing_rekey(pick_a);
}

static void clone_crossing_rekey_responder(void **s)
{
    (void)s;
    clone_crossing_rekey(pick_b);
}

/* TEMPORARY_FAILURE while the responder deletes the SA (5.3): its DELETE is out. */
static void temporary_failure_while_deleting(void **s)
{
    (void)s;
    struct pair p = up("", "");
    clone_ok(&p, p.a, p.sa);
    assert_int_equal(ike_engine_clone(&p.a->engine, p.sa, NULL), 0);
    assert_int_equal(ike_engine_terminate(&p.b->engine, p.sb), 0);
    h_run(p.w);
    assert_int_equal(p.b->engine.stats.refused_clones, 1);
    assert_null(ike_engine_sa(&p.a->engine, p.sa));
    /* The clone goes on from the family's remaining SA after the wait. */
    h_settle(p.w, p.w->now + 20000);
    assert_int_equal(count_sas(p.a, IKE_SA_ESTABLISHED), 2);
    assert_int_equal(count_sas(p.b, IKE_SA_ESTABLISHED), 2);
    h_world_free(p.w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(negotiated_both),
        cmocka_unit_test(negotiated_one_side),
        cmocka_unit_test(negotiated_neither),
        cmocka_unit_test(clone_initiator),
        cmocka_unit_test(clone_responder),
        cmocka_unit_test(clone_of_clone),
        cmocka_unit_test(clone_notify_ignored_without_extension),
        cmocka_unit_test(clone_notify_ignored_elsewhere),
        cmocka_unit_test(clone_notify_ignored_in_child_request),
        cmocka_unit_test(delete_original),
        cmocka_unit_test(simultaneous_clones),
        cmocka_unit_test(clone_crossing_new_child),
        cmocka_unit_test(no_additional_sas_at_max_clones),
        cmocka_unit_test(no_additional_sas_at_max_ike_sas),
        cmocka_unit_test(clone_crossing_rekey_initiator),
        cmocka_unit_test(clone_crossing_rekey_responder),
        cmocka_unit_test(temporary_failure_while_deleting),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
