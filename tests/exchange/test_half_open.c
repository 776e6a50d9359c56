/*
 * The responder's half-open table (RFC 7296 2.1, 2.6) when the initiator floats to the NAT-T
 * port between IKE_SA_INIT and IKE_AUTH (2.23). The entry was keyed by the address and port of
 * IKE_SA_INIT and looked up again by the SA's present (floated) ones, so it was never removed:
 * it dangled once the SA was freed (a replayed IKE_SA_INIT then reached freed memory) and the
 * half-open count leaked one per floated SA.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ike/codec/msg.h"

#define PSK       "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define WRONG_PSK "0xffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

static const char *alice_conf(const char *psk)
{
    static char b[2048];
    snprintf(b, sizeof(b),
             "connections = { gw = {\n"
             "  local_addrs = \"192.0.2.1\"; remote_addrs = \"192.0.2.2\"; encap = true;\n"
             "  local = { auth = \"psk\"; id = \"alice.example.net\"; };\n"
             "  remote = { auth = \"psk\"; id = \"bob.example.net\"; };\n"
             "  psk = \"%s\";\n"
             "  children = { lan = { local_ts = \"10.1.0.0/16\"; remote_ts = \"10.2.0.0/16\"; "
             "}; };\n"
             "}; };\n",
             psk);
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

/* Keeps a copy of the last IKE_SA_INIT request seen on the wire, with its addresses. */
struct capture {
    uint8_t buf[2048];
    size_t len;
    struct sockaddr_storage src, dst;
};

static bool capture_init(struct h_world *w, struct h_pkt *k, void *arg)
{
    (void)w;
    struct capture *c = arg;
    if (k->len >= IKE_HDR_LEN && k->buf[18] == IKE_SA_INIT && !(k->buf[19] & IKE_FLAG_RESPONSE) &&
        k->len <= sizeof(c->buf)) {
        memcpy(c->buf, k->buf, k->len);
        c->len = k->len;
        c->src = k->src;
        c->dst = k->dst;
    }
    return true;
}

/* What every test checks after each step: the count is the table, and every entry is a live,
 * still half-open SA of the engine. */
static void assert_half_open_sound(struct ike_engine *e)
{
    assert_int_equal(e->nhalf_open, hk_u64map_count(&e->half_open));
    size_t pos = 0;
    uint64_t key;
    struct ike_sa *sa;
    while ((sa = hk_u64map_next(&e->half_open, &pos, &key))) {
        bool live = false;
        size_t p2 = 0;
        struct ike_sa *x;
        while ((x = hk_u64map_next(&e->sa_by_id, &p2, NULL)))
            live |= x == sa;
        assert_true(live);
        assert_true(sa->half_open);
        assert_true(sa->half_open_key == key);
    }
}

/* Float, failed AUTH, then the same IKE_SA_INIT replayed from the original address:500, 20
 * times: each is a new half-open SA (the old one is gone), never the freed one's response. */
static void float_failed_auth_replayed_init(void **s)
{
    (void)s;
    struct h_world *w = h_world_new();
    struct h_peer *a = h_peer_add(w, "alice", "192.0.2.1", alice_conf(WRONG_PSK));
    struct h_peer *b = h_peer_add(w, "bob", "192.0.2.2", bob_conf());
    struct capture cap = {0};
    w->filter = capture_init;
    w->filter_arg = &cap;
    for (int round = 0; round < 20; round++) {
        uint64_t id;
        assert_int_equal(ike_engine_initiate(&a->engine, "gw", &id), 0);
        h_run(w);
        assert_int_equal(port_of(&cap.src), 500);
        /* Bob refused the floated IKE_AUTH; alice saw AUTHENTICATION_FAILED. */
        assert_null(ike_engine_sa(&a->engine, id));
        assert_int_equal(hk_u64map_count(&b->engine.sa_by_id), (size_t)round);
        assert_half_open_sound(&b->engine);

        /* The replay: a fresh half-open SA, answered with a new IKE_SA_INIT response. */
        size_t before = w->npkts;
        ike_engine_recv(&b->engine, &cap.dst, &cap.src, cap.buf, cap.len);
        assert_int_equal(w->npkts, before + 1);
        assert_int_equal(b->engine.nhalf_open, (unsigned)round + 1);
        assert_half_open_sound(&b->engine);
        /* Its retransmission is answered from that SA's cache, not a new one. */
        ike_engine_recv(&b->engine, &cap.dst, &cap.src, cap.buf, cap.len);
        assert_int_equal(w->npkts, before + 2);
        assert_int_equal(b->engine.nhalf_open, (unsigned)round + 1);
        w->filter = NULL;
        for (size_t i = 0; i < w->npkts; i++)
            free(w->pkts[i].buf);
        w->npkts = 0; /* alice has no SA for those responses: drop them unseen */
        w->filter = capture_init;
    }
    /* The half-open timeout takes the replayed ones; nothing is left counted. */
    h_settle(w, w->now + 120000);
    assert_int_equal(b->engine.nhalf_open, 0);
    assert_half_open_sound(&b->engine);
    assert_int_equal(hk_u64map_count(&b->engine.sa_by_id), 0);
    h_world_free(w);
}

/* Float, success, delete, many times: the half-open count returns to 0 every time (it leaked
 * one per floated SA, so that after cookie_threshold of them every new peer got a COOKIE). */
static void float_success_delete_leaves_nothing(void **s)
{
    (void)s;
    struct h_world *w = h_world_new();
    struct h_peer *a = h_peer_add(w, "alice", "192.0.2.1", alice_conf(PSK));
    struct h_peer *b = h_peer_add(w, "bob", "192.0.2.2", bob_conf());
    for (int round = 0; round < 10; round++) {
        uint64_t id;
        assert_int_equal(ike_engine_initiate(&a->engine, "gw", &id), 0);
        h_run(w);
        struct ike_sa *sb = h_only_sa(b);
        assert_non_null(sb);
        assert_int_equal(sb->state, IKE_SA_ESTABLISHED);
        assert_int_equal(port_of(&sb->remote), 4500);
        assert_int_equal(b->engine.nhalf_open, 0);
        assert_half_open_sound(&b->engine);
        assert_int_equal(ike_engine_terminate(&a->engine, id), 0);
        h_run(w);
        assert_null(h_only_sa(b));
        assert_int_equal(b->engine.nhalf_open, 0);
    }
    assert_int_equal(b->engine.stats.drops[IKE_DROP_COOKIE], 0);
    h_world_free(w);
}

/* The same SPIi from another port is another initiator (the key is the whole triple): it
 * gets its own half-open SA, and each retransmission is answered by its own SA. */
static void same_spi_other_port_is_another_sa(void **s)
{
    (void)s;
    struct h_world *w = h_world_new();
    struct h_peer *a = h_peer_add(w, "alice", "192.0.2.1", alice_conf(PSK));
    struct h_peer *b = h_peer_add(w, "bob", "192.0.2.2", bob_conf());
    struct capture cap = {0};
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    /* Alice's request, taken off the wire and given to bob by hand. */
    assert_int_equal(w->npkts, 1);
    capture_init(w, &w->pkts[0], &cap);
    for (size_t i = 0; i < w->npkts; i++)
        free(w->pkts[i].buf);
    w->npkts = 0;
    ike_engine_recv(&b->engine, &cap.dst, &cap.src, cap.buf, cap.len);
    assert_int_equal(b->engine.nhalf_open, 1);
    struct sockaddr_storage other = cap.src;
    ((struct sockaddr_in *)&other)->sin_port = htons(501);
    ike_engine_recv(&b->engine, &cap.dst, &other, cap.buf, cap.len);
    assert_int_equal(b->engine.nhalf_open, 2);
    assert_half_open_sound(&b->engine);
    uint64_t cached = b->engine.stats.cached_responses;
    ike_engine_recv(&b->engine, &cap.dst, &other, cap.buf, cap.len);
    ike_engine_recv(&b->engine, &cap.dst, &cap.src, cap.buf, cap.len);
    assert_int_equal(b->engine.stats.cached_responses, cached + 2);
    assert_int_equal(b->engine.nhalf_open, 2);
    for (size_t i = 0; i < w->npkts; i++)
        free(w->pkts[i].buf);
    w->npkts = 0;
    h_world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_failed_auth_replayed_init),
        cmocka_unit_test(float_success_delete_leaves_nothing),
        cmocka_unit_test(same_spi_other_port_is_another_sa),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
