/*
 * What the engine keeps or reuses to spare work per IKE SA, and that it never carries one
 * SA's or one configuration's data into another: the PSK key pad cached per connection
 * (rebuilt on reload, one per PRF), messages built on the stack and kept at their exact
 * length, and retransmitted requests known by their ICV (RFC 7296 2.1, 2.15).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "ike/codec/msg.h"
#include "ike/creds.h"
#include "ike/sa.h"

#define ALICE "192.0.2.1"
#define BOB   "192.0.2.2"
#define PSK1  "first-shared-secret-of-the-pair"
#define PSK2  "second-shared-secret-after-reload"

/* A site-to-site connection gw from me to peer with one child. */
static char *conf(const char *me, const char *peer, const char *psk, const char *ike,
                  const char *my_id)
{
    static char buf[4][2048];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, 2048,
             "connections = { gw = {\n"
             "  local_addrs = \"%s\"; remote_addrs = \"%s\";\n"
             "  local = { auth = \"psk\"; id = \"%s\"; };\n"
             "  remote = { auth = \"psk\"; };\n"
             "  psk = \"%s\";\n"
             "  ike = [\"%s\"]; dpd_delay = 0; rekey_time = 0;\n"
             "  children = { lan = { local_ts = \"10.%c.0.0/16\"; remote_ts = \"10.%c.0.0/16\";\n"
             "    esp = [\"aes256gcm16\"]; }; };\n"
             "}; };\n",
             me, peer, my_id, psk, ike, me[8], peer[8]);
    return b;
}

/* Alice and Bob on PSK1 with the IKE proposal ike, their identities a_id and b_id. */
static struct h_world *pair(const char *ike, const char *a_id, const char *b_id, struct h_peer **a,
                            struct h_peer **b)
{
    struct h_world *w = h_world_new();
    *a = h_peer_add(w, "alice", ALICE, conf(ALICE, BOB, PSK1, ike, a_id));
    *b = h_peer_add(w, "bob", BOB, conf(BOB, ALICE, PSK1, ike, b_id));
    return w;
}

static void reload(struct h_peer *p, const char *text)
{
    struct hk_config *n = NULL;
    char err[256] = "";
    assert_int_equal(hk_config_load_string(text, &n, err, sizeof(err)), 0);
    ike_engine_set_config(&p->engine, n);
    hk_config_free(p->cfg);
    p->cfg = n;
}

/* Alice brings an SA up with Bob; returns whether both hold it established. */
static bool establish(struct h_world *w, struct h_peer *a, struct h_peer *b)
{
    uint64_t id;
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", &id), 0);
    h_settle(w, w->now + 60000);
    struct ike_sa *sa = h_only_sa(a), *sb = h_only_sa(b);
    return sa && sb && sa->state == IKE_SA_ESTABLISHED && sb->state == IKE_SA_ESTABLISHED;
}

static void delete_all(struct h_world *w, struct h_peer *a)
{
    struct ike_sa *sa = h_only_sa(a);
    if (sa)
        assert_int_equal(ike_engine_terminate(&a->engine, sa->id), 0);
    h_settle(w, w->now + 60000);
}

static const struct ike_conn_creds *creds_of(struct h_peer *p)
{
    assert_int_equal(p->engine.ncreds, 1);
    return p->engine.creds[0];
}

/* The key pad is made once per connection and PRF, and a reload with another PSK makes a
 * new one: the old key never authenticates after the change. */
static void psk_pad_rebuilt_on_reload(void **s)
{
    (void)s;
    const char *ike = "aes256gcm16-prfsha256-x25519";
    struct h_peer *a, *b;
    struct h_world *w = pair(ike, "alice", "bob", &a, &b);
    assert_true(establish(w, a, b));
    const struct hk_secret *pad = creds_of(b)->psk_pad[0];
    assert_non_null(pad);
    assert_int_equal(pad->len, 32);
    uint8_t old_pad[32];
    memcpy(old_pad, pad->data, sizeof(old_pad));
    delete_all(w, a);
    assert_true(establish(w, a, b)); /* the second SA reuses it */
    assert_ptr_equal(creds_of(b)->psk_pad[0], pad);
    delete_all(w, a);

    /* Bob changes the PSK: his cache is gone with the old configuration... */
    reload(b, conf(BOB, ALICE, PSK2, ike, "bob"));
    assert_int_equal(b->engine.ncreds, 0);
    /* ...so Alice, still on the old key, is refused, */
    assert_false(establish(w, a, b));
    assert_int_equal(b->engine.stats.auth_failures, 1);
    assert_null(h_only_sa(b));
    h_settle(w, w->now + 600000);
    /* and gets in once she has the new one. */
    reload(a, conf(ALICE, BOB, PSK2, ike, "alice"));
    assert_true(establish(w, a, b));
    assert_memory_not_equal(creds_of(b)->psk_pad[0]->data, old_pad, sizeof(old_pad));
    assert_memory_equal(creds_of(b)->psk_pad[0]->data, creds_of(a)->psk_pad[0]->data, 32);
    h_world_free(w);
}

/* Another PRF, another pad (its own length), for the same PSK. */
static void psk_pad_per_prf(void **s)
{
    (void)s;
    const char *ike = "aes256gcm16-prfsha384-x25519";
    struct h_peer *a, *b;
    struct h_world *w = pair(ike, "alice", "bob", &a, &b);
    assert_true(establish(w, a, b));
    assert_null(creds_of(b)->psk_pad[0]);
    assert_non_null(creds_of(b)->psk_pad[1]);
    assert_int_equal(creds_of(b)->psk_pad[1]->len, 48);
    h_world_free(w);
}

static size_t hdr_len(const uint8_t *m)
{
    return (size_t)m[24] << 24 | (size_t)m[25] << 16 | (size_t)m[26] << 8 | m[27];
}

/* Messages are encoded in a scratch buffer and kept at their exact length; a second SA
 * with a longer identity (so longer messages) gets nothing of the first one's. */
static void messages_kept_at_exact_length(void **s)
{
    (void)s;
    const char *ike = "aes256gcm16-prfsha256-x25519";
    struct h_peer *a, *b;
    struct h_world *w = pair(ike, "a", "b", &a, &b);
    size_t first = 0;
    for (int round = 0; round < 2; round++) {
        assert_true(establish(w, a, b));
        struct ike_sa *sb = h_only_sa(b);
        assert_int_equal(sb->resp.npkts, 1);
        assert_int_equal(sb->resp.pkts[0].len, hdr_len(sb->resp.pkts[0].p));
        assert_int_equal(sb->resp.pkts[0].p[18], IKE_AUTH);
        if (round == 0) {
            first = sb->resp.pkts[0].len;
            delete_all(w, a);
            /* Longer identities for the second SA (2.15 signs them). */
            reload(a, conf(ALICE, BOB, PSK1, ike, "alice-with-a-much-longer-identity.example"));
            reload(b, conf(BOB, ALICE, PSK1, ike, "bob-with-a-much-longer-identity.example"));
        } else {
            assert_true(sb->resp.pkts[0].len > first);
        }
    }
    h_world_free(w);
}

/* Keeps a copy of Alice's IKE_AUTH request. */
static bool keep_auth_request(struct h_world *w, struct h_pkt *k, void *arg)
{
    struct h_pkt *keep = arg;
    if (k->from == 0 && k->len > IKE_HDR_LEN && k->buf[18] == IKE_AUTH &&
        !(k->buf[19] & IKE_FLAG_RESPONSE) && !keep->buf) {
        *keep = *k;
        keep->buf = malloc(k->len);
        memcpy(keep->buf, k->buf, k->len);
    }
    (void)w;
    return true;
}

/* A retransmitted request gets the cached response; one that is not a copy (another ICV,
 * another length) is dropped, before any decryption. */
static void retransmission_known_by_icv(void **s)
{
    (void)s;
    const char *ike = "aes256gcm16-prfsha256-x25519";
    struct h_peer *a, *b;
    struct h_world *w = pair(ike, "alice", "bob", &a, &b);
    struct h_pkt req = {0};
    w->filter = keep_auth_request;
    w->filter_arg = &req;
    assert_true(establish(w, a, b));
    assert_non_null(req.buf);
    w->filter = NULL;
    struct ike_engine *eb = &b->engine;
    uint64_t tx = eb->stats.tx;

    ike_engine_recv(eb, &req.dst, &req.src, req.buf, req.len);
    assert_int_equal(eb->stats.cached_responses, 1);
    assert_int_equal(eb->stats.tx, tx + 1);

    req.buf[req.len - 1] ^= 0x80; /* the ICV */
    ike_engine_recv(eb, &req.dst, &req.src, req.buf, req.len);
    req.buf[req.len - 1] ^= 0x80;
    assert_int_equal(eb->stats.drops[IKE_DROP_MSGID], 1);
    ike_engine_recv(eb, &req.dst, &req.src, req.buf, req.len - 1);
    assert_int_equal(eb->stats.drops[IKE_DROP_MSGID] + eb->stats.drops[IKE_DROP_HEADER], 2);
    assert_int_equal(eb->stats.cached_responses, 1);
    assert_int_equal(eb->stats.tx, tx + 1);
    free(req.buf);
    h_run(w);
    assert_non_null(h_only_sa(a));
    h_world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(psk_pad_rebuilt_on_reload),
        cmocka_unit_test(psk_pad_per_prf),
        cmocka_unit_test(messages_kept_at_exact_length),
        cmocka_unit_test(retransmission_known_by_icv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
