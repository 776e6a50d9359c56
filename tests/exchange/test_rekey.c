/*
 * CREATE_CHILD_SA: more Child SAs, Child SA rekey and IKE SA rekey started by each
 * side (RFC 7296 1.3), children moving to the new IKE SA (2.18), rekeys by
 * lifetime, and simultaneous rekeys of a child (2.8.1) and of the IKE SA (2.8.2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "crypto/alg.h"
#include "crypto/sk_cipher.h"
#include "harness.h"

#define PSK "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const char *conf(bool alice, const char *conn_extra, const char *esp, const char *children)
{
    static char b[2][4096];
    char *o = b[alice];
    snprintf(o, 4096,
             "connections = { gw = {\n"
             "  local_addrs = \"%s\"; remote_addrs = \"%s\";\n"
             "  local = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  remote = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  psk = \"" PSK "\"; %s\n"
             "  children = { lan = { local_ts = \"%s\"; remote_ts = \"%s\"; esp = [%s]; }; %s };\n"
             "}; };\n",
             alice ? "192.0.2.1" : "192.0.2.2", alice ? "192.0.2.2" : "192.0.2.1",
             alice ? "alice" : "bob", alice ? "bob" : "alice", conn_extra,
             alice ? "10.1.0.0/16" : "10.2.0.0/16", alice ? "10.2.0.0/16" : "10.1.0.0/16", esp,
             children);
    return o;
}

struct pair {
    struct h_world *w;
    struct h_peer *a, *b;
};

static struct pair up(const char *extra, const char *esp, const char *children_a,
                      const char *children_b)
{
    struct pair p;
    p.w = h_world_new();
    p.a = h_peer_add(p.w, "alice", "192.0.2.1", conf(true, extra, esp, children_a));
    p.b = h_peer_add(p.w, "bob", "192.0.2.2", conf(false, extra, esp, children_b));
    assert_int_equal(ike_engine_initiate(&p.a->engine, "gw", NULL), 0);
    h_run(p.w);
    assert_non_null(h_only_sa(p.a));
    assert_int_equal(h_only_sa(p.a)->state, IKE_SA_ESTABLISHED);
    return p;
}

static struct pair default_up(void)
{
    return up("", "\"aes256gcm16\"", "", "");
}

/* Exactly one child each side, the two halves of one pair, owned by the only IKE SA. */
static void one_child_pair(struct pair *p)
{
    struct child_sa *ca = h_only_child(p->a), *cb = h_only_child(p->b);
    assert_non_null(ca);
    assert_non_null(cb);
    assert_int_equal(ca->state, CHILD_SA_INSTALLED);
    assert_int_equal(cb->state, CHILD_SA_INSTALLED);
    assert_int_equal(ca->spi_in, cb->spi_out);
    assert_int_equal(ca->spi_out, cb->spi_in);
    assert_memory_equal(ca->keys.encr_ir->data, cb->keys.encr_ir->data, ca->keys.encr_ir->len);
    assert_memory_equal(ca->keys.encr_ri->data, cb->keys.encr_ri->data, ca->keys.encr_ri->len);
    /* Selectors (owned, sized to what was negotiated) mirror each other, also after a
     * rekey copied them from the old child. */
    assert_int_equal(ca->nts_local, 1);
    assert_int_equal(ca->nts_local, cb->nts_remote);
    assert_int_equal(ca->nts_remote, cb->nts_local);
    assert_memory_equal(ca->ts_local, cb->ts_remote, ca->nts_local * sizeof(*ca->ts_local));
    assert_memory_equal(ca->ts_remote, cb->ts_local, ca->nts_remote * sizeof(*ca->ts_remote));
    struct ike_sa *sa = h_only_sa(p->a), *sb = h_only_sa(p->b);
    assert_int_equal(ca->ike_id, sa->id);
    assert_int_equal(cb->ike_id, sb->id);
    assert_int_equal(sa->nchildren, 1);
    assert_int_equal(sb->nchildren, 1);
    assert_memory_equal(sa->spi_i, sb->spi_i, 8);
    assert_memory_equal(sa->spi_r, sb->spi_r, 8);
}

static void child_rekey_initiator(void **s)
{
    (void)s;
    struct pair p = default_up();
    uint32_t old = h_only_child(p.a)->spi_in;
    assert_int_equal(ike_engine_rekey_child(&p.a->engine, h_only_child(p.a)->id), 0);
    h_settle(p.w, p.w->now + 10000);
    one_child_pair(&p);
    assert_int_not_equal(h_only_child(p.a)->spi_in, old);
    assert_int_equal(p.a->child_up, 2);
    assert_int_equal(p.b->child_up, 2);
    assert_int_equal(p.a->child_down, 1);
    assert_int_equal(p.b->child_down, 1);
    h_world_free(p.w);
}

static void child_rekey_responder(void **s)
{
    (void)s;
    struct pair p = default_up();
    uint32_t old = h_only_child(p.b)->spi_in;
    assert_int_equal(ike_engine_rekey_child(&p.b->engine, h_only_child(p.b)->id), 0);
    h_settle(p.w, p.w->now + 10000);
    one_child_pair(&p);
    assert_int_not_equal(h_only_child(p.b)->spi_in, old);
    assert_int_equal(p.a->child_down, 1);
    assert_int_equal(p.b->child_down, 1);
    h_world_free(p.w);
}

static void child_rekey_pfs(void **s)
{
    (void)s;
    struct pair p = up("", "\"aes256gcm16-x25519\"", "", "");
    one_child_pair(&p);
    assert_int_equal(ike_engine_rekey_child(&p.a->engine, h_only_child(p.a)->id), 0);
    h_settle(p.w, p.w->now + 10000);
    one_child_pair(&p);
    assert_int_equal(h_only_child(p.a)->chosen.ke, 31);
    h_world_free(p.w);
}

/* Between exchanges neither side keeps SK cipher contexts, only the keys (ike_sa_idle). */
static void contexts_idle(struct pair *p)
{
    struct ike_sa *sa = h_only_sa(p->a), *sb = h_only_sa(p->b);
    assert_true(hk_sk_cipher_is_idle(sa->sk_out) && hk_sk_cipher_is_idle(sa->sk_in));
    assert_true(hk_sk_cipher_is_idle(sb->sk_out) && hk_sk_cipher_is_idle(sb->sk_in));
}

static void ike_rekey(struct pair *p, struct h_peer *who)
{
    struct ike_sa *old = h_only_sa(who);
    uint8_t spi_i[8];
    memcpy(spi_i, old->spi_i, 8);
    uint32_t child_spi = h_only_child(p->a)->spi_in;
    contexts_idle(p);
    assert_int_equal(ike_engine_rekey(&who->engine, old->id), 0);
    h_settle(p->w, p->w->now + 10000);
    one_child_pair(p);
    contexts_idle(p);
    struct ike_sa *sa = h_only_sa(p->a);
    assert_memory_not_equal(sa->spi_i, spi_i, 8);
    assert_int_equal(sa->state, IKE_SA_ESTABLISHED);
    /* 2.18: the children move, they are not rekeyed; the data plane is told on both sides. */
    assert_int_equal(h_only_child(p->a)->spi_in, child_spi);
    assert_int_equal(p->a->child_down, 0);
    assert_int_equal(p->a->child_moved, 1);
    assert_int_equal(p->b->child_moved, 1);
    assert_int_equal(h_only_child(p->a)->ike_id, sa->id);
    /* The new SA works: its own message IDs, a child rekey through it, then DELETE. */
    assert_int_equal(ike_engine_rekey_child(&p->a->engine, h_only_child(p->a)->id), 0);
    h_settle(p->w, p->w->now + 10000);
    one_child_pair(p);
    contexts_idle(p);
    assert_int_equal(ike_engine_terminate(&p->b->engine, h_only_sa(p->b)->id), 0);
    h_settle(p->w, p->w->now + 10000);
    assert_null(h_only_sa(p->a));
    assert_null(h_only_sa(p->b));
}

static void ike_rekey_initiator(void **s)
{
    (void)s;
    struct pair p = default_up();
    bool initiator_before = h_only_sa(p.a)->initiator;
    ike_rekey(&p, p.a);
    (void)initiator_before;
    h_world_free(p.w);
}

/* The same with AES-CBC + HMAC for SK, whose HMAC context is dropped and rebuilt too. */
static void ike_rekey_cbc(void **s)
{
    (void)s;
    struct pair p = up("ike = [\"aes128-sha256-x25519\"];", "\"aes256gcm16\"", "", "");
    assert_int_equal(h_only_sa(p.a)->alg.encr, HK_ENCR_AES_CBC);
    ike_rekey(&p, p.b);
    h_world_free(p.w);
}

static void ike_rekey_responder(void **s)
{
    (void)s;
    struct pair p = default_up();
    struct ike_sa *sb = h_only_sa(p.b);
    assert_false(sb->initiator);
    assert_int_equal(ike_engine_rekey(&p.b->engine, sb->id), 0);
    h_settle(p.w, p.w->now + 10000);
    one_child_pair(&p);
    /* The rekey's initiator is the new SA's original initiator (2.18). */
    assert_true(h_only_sa(p.b)->initiator);
    assert_false(h_only_sa(p.a)->initiator);
    h_world_free(p.w);
}

/* 1.3.1: the connection's second child comes with CREATE_CHILD_SA after IKE_AUTH. */
static void second_child(void **s)
{
    (void)s;
    const char *ca = "dns = { local_ts = \"10.1.0.53/32[udp/53]\"; remote_ts = \"10.2.0.0/16\"; };";
    const char *cb = "dns = { local_ts = \"10.2.0.0/16\"; remote_ts = \"10.1.0.0/24\"; };";
    struct pair p = up("", "\"aes256gcm16\"", ca, cb);
    h_settle(p.w, p.w->now + 1000);
    assert_int_equal(hk_u64map_count(&p.a->engine.child_by_id), 2);
    assert_int_equal(hk_u64map_count(&p.b->engine.child_by_id), 2);
    assert_int_equal(p.a->child_up, 2);
    assert_int_equal(p.b->child_up, 2);
    h_world_free(p.w);
}

/* Lifetimes: child rekey after 30 s, IKE rekey after 60 s, without any command. */
static void rekey_by_lifetime(void **s)
{
    (void)s;
    struct pair p = up("rekey_time = \"60s\"; rekey_jitter = 0;", "\"aes256gcm16\"", "", "");
    /* The child's rekey time is set per child; use the engine command path for it too. */
    uint8_t spi_i[8];
    memcpy(spi_i, h_only_sa(p.a)->spi_i, 8);
    h_settle(p.w, p.w->now + 100000);
    struct ike_sa *sa = h_only_sa(p.a);
    assert_non_null(sa);
    assert_memory_not_equal(sa->spi_i, spi_i, 8);
    one_child_pair(&p);
    h_world_free(p.w);
}

static void simultaneous_child_rekey(void **s)
{
    (void)s;
    struct pair p = default_up();
    /* Both start before either message is delivered. */
    assert_int_equal(ike_engine_rekey_child(&p.a->engine, h_only_child(p.a)->id), 0);
    assert_int_equal(ike_engine_rekey_child(&p.b->engine, h_only_child(p.b)->id), 0);
    h_settle(p.w, p.w->now + 20000);
    one_child_pair(&p);
    /* Two new pairs were made, one redundant, and the old one: two of three removed. */
    assert_int_equal(p.a->child_up, 3);
    assert_int_equal(p.a->child_down, 2);
    assert_int_equal(p.b->child_down, 2);
    h_world_free(p.w);
}

static void simultaneous_ike_rekey(void **s)
{
    (void)s;
    struct pair p = default_up();
    uint32_t child_spi = h_only_child(p.a)->spi_in;
    assert_int_equal(ike_engine_rekey(&p.a->engine, h_only_sa(p.a)->id), 0);
    assert_int_equal(ike_engine_rekey(&p.b->engine, h_only_sa(p.b)->id), 0);
    h_settle(p.w, p.w->now + 20000);
    one_child_pair(&p);
    assert_int_equal(h_only_child(p.a)->spi_in, child_spi);
    assert_int_equal(h_only_child(p.a)->ike_id, h_only_sa(p.a)->id);
    assert_true(p.a->child_moved >= 1 && p.b->child_moved >= 1);
    assert_int_equal(p.a->ike_up, 3);
    assert_int_equal(p.a->ike_down, 2);
    assert_int_equal(p.b->ike_down, 2);
    /* The survivor works. */
    assert_int_equal(ike_engine_rekey_child(&p.a->engine, h_only_child(p.a)->id), 0);
    h_settle(p.w, p.w->now + 10000);
    one_child_pair(&p);
    h_world_free(p.w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(child_rekey_initiator),  cmocka_unit_test(child_rekey_responder),
        cmocka_unit_test(child_rekey_pfs),        cmocka_unit_test(ike_rekey_initiator),
        cmocka_unit_test(ike_rekey_responder),    cmocka_unit_test(second_child),
        cmocka_unit_test(rekey_by_lifetime),      cmocka_unit_test(simultaneous_child_rekey),
        cmocka_unit_test(simultaneous_ike_rekey), cmocka_unit_test(ike_rekey_cbc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
