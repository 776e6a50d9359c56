/*
 * IKE_AUTH without a piggy-backed Child SA (RFC 6023 3) and error notifies in IKE_AUTH
 * (RFC 7296 2.21.2, 2.21.3): a responder that announced CHILDLESS_IKEV2_SUPPORTED takes a
 * childless request from an initiator that did not announce it (as libreswan sends them),
 * one that did not announce it refuses the request with INVALID_SYNTAX alone and keeps no
 * SA; a response with AUTHENTICATION_FAILED, INVALID_SYNTAX or UNSUPPORTED_CRITICAL_PAYLOAD
 * leaves the initiator without an SA, while errors about the Child SA or the CP request
 * leave the IKE SA up (a childless request whose CP fails is told INTERNAL_ADDRESS_FAILURE);
 * an initiator does not send a childless request to a responder that did not announce it.
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
#include "ike/codec/notify.h"
#include "ike/sk_msg.h"

#define PSK   "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define ALICE "192.0.2.1"
#define BOB   "192.0.2.2"

/* A site-to-site peer; daemon: extra daemon settings; child: whether it has a child. */
static const char *conf(const char *daemon, const char *me, bool child)
{
    static char buf[4][2048];
    static int k;
    char *b = buf[k++ % 4];
    bool alice = !strcmp(me, ALICE);
    snprintf(b, 2048,
             "daemon = { %s };\n"
             "connections = { gw = {\n"
             "  local_addrs = \"%s\"; remote_addrs = \"%s\";\n"
             "  local = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  remote = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  psk = \"" PSK "\";\n"
             "  %s\n"
             "}; };\n",
             daemon, me, alice ? BOB : ALICE, alice ? "alice" : "bob", alice ? "bob" : "alice",
             !child  ? ""
             : alice ? "children = { lan = { local_ts = \"10.1.0.0/16\"; remote_ts = "
                       "\"10.2.0.0/16\"; }; };"
                     : "children = { lan = { local_ts = \"10.2.0.0/16\"; remote_ts = "
                       "\"10.1.0.0/16\"; }; };");
    return b;
}

/* Rewrites IKE_AUTH messages in flight (re-protected with the sender's keys) and notes what
 * the peers sent. */
struct rw {
    struct h_peer *a, *b;
    /* Payload types removed from alice's IKE_AUTH request. */
    uint8_t strip_req[4];
    /* bob's IKE_AUTH response: the notify added (0: none); child_only: SA, TSi and TSr replaced
     * by it, as a responder that refuses the Child SA answers. */
    uint16_t add_resp;
    bool child_only;
    /* Seen. */
    bool init_req_childless; /* alice's IKE_SA_INIT request announced RFC 6023 */
    int auth_reqs, auth_resps;
    size_t resp_npl;
    uint8_t resp_pl[16];      /* payload types of bob's (unmodified) response */
    uint16_t resp_notify[16]; /* and their notify types (0 for other payloads) */
    int after_resp;           /* packets alice sent after bob's IKE_AUTH response */
};

static bool in(const uint8_t *set, size_t n, uint8_t t)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] && set[i] == t)
            return true;
    return false;
}

static bool rewrite(struct h_world *w, struct h_pkt *k, void *arg)
{
    (void)w;
    struct rw *r = arg;
    if (k->len <= 19)
        return true;
    bool response = k->buf[19] & IKE_FLAG_RESPONSE;
    if (r->auth_resps && k->from == r->a->idx)
        r->after_resp++;
    struct hk_arena a;
    struct ike_msg m;
    struct hk_diag d = {0};
    hk_arena_init(&a, 1 << 16);
    uint8_t *copy = malloc(k->len);
    memcpy(copy, k->buf, k->len);
    assert_int_equal(ike_msg_decode(copy, k->len, &m, &a, &d), 0);
    if (k->buf[18] == IKE_SA_INIT && !response) {
        r->init_req_childless = ike_msg_find_notify(&m, IKE_N_CHILDLESS_IKEV2_SUPPORTED) != NULL;
    } else if (k->buf[18] == IKE_AUTH) {
        /* The reader's keys open it; the writer's seal the rewritten one. */
        struct ike_sa *reader = h_only_sa(response ? r->a : r->b);
        assert_int_equal(ike_sk_open(reader->sk_in, copy, k->len, &m, &a, &d), 0);
        struct ike_payload pl[32];
        size_t n = 0;
        bool changed = false;
        if (response) {
            r->auth_resps++;
            r->resp_npl = 0;
            for (size_t i = 1; i < m.npayloads && r->resp_npl < 16; i++) {
                r->resp_pl[r->resp_npl] = m.payloads[i].type;
                r->resp_notify[r->resp_npl++] =
                    m.payloads[i].type == IKE_PL_NOTIFY ? m.payloads[i].u.notify.type : 0;
            }
            for (size_t i = 1; i < m.npayloads && n < 31; i++) {
                uint8_t t = m.payloads[i].type;
                if (r->add_resp && r->child_only &&
                    (t == IKE_PL_SA || t == IKE_PL_TSI || t == IKE_PL_TSR))
                    continue;
                pl[n++] = m.payloads[i];
            }
            if (r->add_resp) {
                pl[n++] = (struct ike_payload){.type = IKE_PL_NOTIFY, .u.notify.type = r->add_resp};
                changed = true;
            }
        } else {
            r->auth_reqs++;
            for (size_t i = 1; i < m.npayloads && n < 32; i++) {
                if (in(r->strip_req, sizeof(r->strip_req), m.payloads[i].type)) {
                    changed = true;
                    continue;
                }
                pl[n++] = m.payloads[i];
            }
        }
        if (changed) {
            struct ike_sa *writer = h_only_sa(response ? r->b : r->a);
            struct hk_cbb out;
            hk_cbb_init(&out, 0, 0);
            assert_int_equal(ike_sk_seal(writer->sk_out, &m.hdr, pl, n, &out), 0);
            free(k->buf);
            k->buf = hk_cbb_detach(&out, &k->len);
        }
    }
    free(copy);
    hk_arena_free(&a);
    return true;
}

static struct h_world *pair(struct rw *r, const char *a_daemon, bool a_child, const char *b_daemon,
                            bool b_child)
{
    struct h_world *w = h_world_new();
    r->a = h_peer_add(w, "alice", ALICE, conf(a_daemon, ALICE, a_child));
    r->b = h_peer_add(w, "bob", BOB, conf(b_daemon, BOB, b_child));
    w->filter = rewrite;
    w->filter_arg = r;
    return w;
}

static void run(struct h_world *w, struct rw *r)
{
    assert_int_equal(ike_engine_initiate(&r->a->engine, "gw", NULL), 0);
    h_settle(w, w->now + 60000);
}

static bool resp_has(const struct rw *r, uint8_t type)
{
    return in(r->resp_pl, r->resp_npl, type);
}

static bool resp_has_error(const struct rw *r)
{
    for (size_t i = 0; i < r->resp_npl; i++)
        if (r->resp_notify[i] && ike_notify_is_error(r->resp_notify[i]))
            return true;
    return false;
}

/*
 * RFC 6023 3: alice has daemon.childless off, so she does not announce support; her request
 * loses SA, TSi and TSr on the way (as a peer that leaves the notify out sends it). bob
 * announced support: he MUST process it and answer IDr and AUTH only.
 */
static void childless_request_from_silent_initiator(void **s)
{
    (void)s;
    struct rw r = {.strip_req = {IKE_PL_SA, IKE_PL_TSI, IKE_PL_TSR}};
    struct h_world *w = pair(&r, "childless = false;", true, "", true);
    run(w, &r);
    assert_false(r.init_req_childless);
    assert_int_equal(r.auth_reqs, 1);
    assert_int_equal(r.auth_resps, 1);
    assert_true(resp_has(&r, IKE_PL_IDR));
    assert_true(resp_has(&r, IKE_PL_AUTH));
    assert_false(resp_has(&r, IKE_PL_SA));
    assert_false(resp_has(&r, IKE_PL_TSI));
    assert_false(resp_has(&r, IKE_PL_TSR));
    assert_false(resp_has_error(&r));
    assert_int_equal(h_only_sa(r.a)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(h_only_sa(r.b)->state, IKE_SA_ESTABLISHED);
    assert_null(h_only_child(r.b));
    assert_int_equal(r.a->ike_up + r.b->ike_up, 2);
    assert_int_equal(r.b->child_up, 0);
    h_world_free(w);
}

/*
 * RFC 6023 3 and RFC 7296 1.2: bob did not announce support (daemon.childless off), so a
 * request without SA, TSi and TSr lacks what 1.2 requires: INVALID_SYNTAX alone (2.21.2), and
 * neither side keeps an IKE SA (2.21.3). Likewise a request with only part of them.
 */
static void malformed_requests_refused(void **s)
{
    (void)s;
    const struct {
        const char *b_daemon;
        uint8_t strip[4];
    } t[] = {
        {"childless = false;", {IKE_PL_SA, IKE_PL_TSI, IKE_PL_TSR}},
        {"", {IKE_PL_TSR}},
        {"", {IKE_PL_SA}},
        {"childless = false;", {IKE_PL_TSI, IKE_PL_TSR}},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        print_message("case %zu\n", i);
        struct rw r = {0};
        memcpy(r.strip_req, t[i].strip, sizeof(r.strip_req));
        struct h_world *w = pair(&r, "childless = false;", true, t[i].b_daemon, true);
        run(w, &r);
        assert_int_equal(r.auth_resps, 1);
        assert_int_equal(r.resp_npl, 1);
        assert_int_equal(r.resp_notify[0], IKE_N_INVALID_SYNTAX);
        assert_null(h_only_sa(r.a));
        assert_null(h_only_sa(r.b));
        assert_int_equal(r.a->ike_up + r.b->ike_up, 0);
        assert_int_equal(r.a->ike_failed, 1);
        assert_int_equal(r.b->ike_failed, 1);
        assert_int_equal(r.b->engine.stats.auth_failures, 0); /* AUTH was not looked at */
        h_world_free(w);
    }
}

/*
 * 2.21.2: in bob's IKE_AUTH response, AUTHENTICATION_FAILED, INVALID_SYNTAX and
 * UNSUPPORTED_CRITICAL_PAYLOAD mean there is no IKE SA, even beside a valid IDr and AUTH;
 * alice ends hers without an INFORMATIONAL. Errors about the Child SA or the CP request
 * (sent instead of SA, TSi, TSr) leave the IKE SA up without the child.
 */
static void error_notifies_in_response(void **s)
{
    (void)s;
    const struct {
        uint16_t notify;
        bool fatal;
    } t[] = {
        {IKE_N_INVALID_SYNTAX, true},
        {IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD, true},
        {IKE_N_AUTHENTICATION_FAILED, true},
        {IKE_N_TS_UNACCEPTABLE, false},
        {IKE_N_NO_PROPOSAL_CHOSEN, false},
        {IKE_N_SINGLE_PAIR_REQUIRED, false},
        {IKE_N_INTERNAL_ADDRESS_FAILURE, false},
        {IKE_N_FAILED_CP_REQUIRED, false},
        {IKE_N_TEMPORARY_FAILURE, false},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        print_message("%s\n", ike_notify_name(t[i].notify));
        struct rw r = {.add_resp = t[i].notify, .child_only = !t[i].fatal};
        struct h_world *w = pair(&r, "", true, "", true);
        run(w, &r);
        assert_int_equal(r.auth_resps, 1);
        assert_true(resp_has(&r, IKE_PL_IDR) && resp_has(&r, IKE_PL_AUTH));
        assert_null(h_only_child(r.a));
        assert_int_equal(r.a->child_up, 0);
        if (t[i].fatal) {
            assert_null(h_only_sa(r.a));
            assert_int_equal(r.a->ike_up, 0);
            assert_int_equal(r.a->ike_failed, 1);
            assert_int_equal(r.after_resp, 0); /* no Delete: 2.21.2 */
        } else {
            assert_non_null(h_only_sa(r.a));
            assert_int_equal(h_only_sa(r.a)->state, IKE_SA_ESTABLISHED);
            assert_int_equal(r.a->ike_up, 1);
            assert_int_equal(r.a->ike_failed, 0);
        }
        h_world_free(w);
    }
}

/* RFC 6023 3: an initiator MUST NOT send a childless request to a responder that did not
 * announce support; alice's connection has no child, bob has childless off. */
static void no_childless_request_unless_announced(void **s)
{
    (void)s;
    struct rw r = {0};
    struct h_world *w = pair(&r, "", false, "childless = false;", true);
    run(w, &r);
    assert_true(r.init_req_childless);
    assert_int_equal(r.auth_reqs, 0);
    assert_null(h_only_sa(r.a));
    assert_int_equal(r.a->ike_failed, 1);
    assert_int_equal(r.a->ike_up + r.b->ike_up, 0);
    h_world_free(w);
}

/*
 * 3.15.4 in a childless exchange: alice asks for an IPv6 address, bob's pool has IPv4 only.
 * bob answers IDr, AUTH and INTERNAL_ADDRESS_FAILURE, and the IKE SA is up on both sides.
 */
static void childless_cp_failure_is_told(void **s)
{
    (void)s;
    struct rw r = {0};
    struct h_world *w = h_world_new();
    r.a = h_peer_add(w, "alice", ALICE,
                     "connections = { gw = { local_addrs = \"" ALICE "\"; remote_addrs = \"" BOB
                     "\";\n"
                     "  local = { auth = \"psk\"; id = \"alice.example.net\"; };\n"
                     "  remote = { auth = \"psk\"; id = \"bob.example.net\"; };\n"
                     "  psk = \"" PSK "\"; request_vip = \"ipv6\"; }; };\n");
    r.b = h_peer_add(w, "bob", BOB,
                     "pools = { v4 = { addrs = \"10.99.0.0/24\"; }; };\n"
                     "connections = { gw = { local_addrs = \"" BOB "\"; remote_addrs = \"" ALICE
                     "\";\n"
                     "  pools = [\"v4\"];\n"
                     "  local = { auth = \"psk\"; id = \"bob.example.net\"; };\n"
                     "  remote = { auth = \"psk\"; id = \"alice.example.net\"; };\n"
                     "  psk = \"" PSK "\"; }; };\n");
    w->filter = rewrite;
    w->filter_arg = &r;
    run(w, &r);
    assert_int_equal(r.auth_resps, 1);
    assert_true(resp_has(&r, IKE_PL_IDR) && resp_has(&r, IKE_PL_AUTH));
    bool told = false;
    for (size_t i = 0; i < r.resp_npl; i++)
        told |= r.resp_notify[i] == IKE_N_INTERNAL_ADDRESS_FAILURE;
    assert_true(told);
    assert_int_equal(h_only_sa(r.a)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(h_only_sa(r.b)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(h_only_sa(r.a)->nvip, 0);
    h_world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(childless_request_from_silent_initiator),
        cmocka_unit_test(malformed_requests_refused),
        cmocka_unit_test(error_notifies_in_response),
        cmocka_unit_test(no_childless_request_unless_announced),
        cmocka_unit_test(childless_cp_failure_is_told),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
