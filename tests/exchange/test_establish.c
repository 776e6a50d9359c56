/*
 * IKE_SA_INIT + IKE_AUTH between two engines: the happy path and every error path
 * of the first exchanges (RFC 7296 1.2, 2.1, 2.6, 2.7, 2.9, 2.15), lost and
 * duplicated messages, and DELETE by each side (1.4.1).
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

#define PSK "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

/* A site-to-site pair; %s slots: daemon extras, IKE proposals, ESP proposals, psk, TS. */
static char *conf(const char *daemon, const char *me, const char *peer, const char *ike,
                  const char *esp, const char *psk, const char *lts, const char *rts)
{
    static char buf[4][2048];
    static int k;
    char *b = buf[k++ % 4];
    snprintf(b, 2048,
             "daemon = { %s };\n"
             "connections = { gw = {\n"
             "  local_addrs = \"%s\"; remote_addrs = \"%s\";\n"
             "  local = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  remote = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  psk = \"%s\";\n"
             "  ike = [%s];\n"
             "  children = { lan = { local_ts = \"%s\"; remote_ts = \"%s\"; esp = [%s]; }; };\n"
             "}; };\n",
             daemon, me, peer, strcmp(me, "192.0.2.1") ? "bob" : "alice",
             strcmp(me, "192.0.2.1") ? "alice" : "bob", psk, ike, lts, rts, esp);
    return b;
}

#define ALICE "192.0.2.1"
#define BOB   "192.0.2.2"
#define IKE   "\"aes256gcm16-prfsha256-x25519\""
#define ESP   "\"aes256gcm16\""

struct pair {
    struct h_world *w;
    struct h_peer *a, *b;
};

static struct pair pair_new(const char *a_daemon, const char *a_ike, const char *a_esp,
                            const char *a_psk, const char *b_daemon, const char *b_ike,
                            const char *b_esp, const char *b_psk, const char *b_lts)
{
    struct pair p;
    p.w = h_world_new();
    p.a = h_peer_add(p.w, "alice", ALICE,
                     conf(a_daemon, ALICE, BOB, a_ike, a_esp, a_psk, "10.1.0.0/16", "10.2.0.0/16"));
    p.b = h_peer_add(p.w, "bob", BOB,
                     conf(b_daemon, BOB, ALICE, b_ike, b_esp, b_psk, b_lts, "10.1.0.0/16"));
    return p;
}

static struct pair default_pair(void)
{
    return pair_new("", IKE, ESP, PSK, "", IKE, ESP, PSK, "10.2.0.0/16");
}

static void initiate(struct pair *p)
{
    uint64_t id;
    assert_int_equal(ike_engine_initiate(&p->a->engine, "gw", &id), 0);
    h_settle(p->w, p->w->now + 60000);
}

/* Both sides hold one established IKE SA with one installed child, keys crossed. */
static void assert_up(struct pair *p)
{
    struct ike_sa *sa = h_only_sa(p->a), *sb = h_only_sa(p->b);
    assert_non_null(sa);
    assert_non_null(sb);
    assert_int_equal(sa->state, IKE_SA_ESTABLISHED);
    assert_int_equal(sb->state, IKE_SA_ESTABLISHED);
    assert_memory_equal(sa->spi_i, sb->spi_i, 8);
    assert_memory_equal(sa->spi_r, sb->spi_r, 8);
    assert_true(sa->initiator && !sb->initiator);
    struct child_sa *ca = h_only_child(p->a), *cb = h_only_child(p->b);
    assert_non_null(ca);
    assert_non_null(cb);
    assert_int_equal(ca->state, CHILD_SA_INSTALLED);
    assert_int_equal(cb->state, CHILD_SA_INSTALLED);
    assert_int_equal(ca->spi_in, cb->spi_out);
    assert_int_equal(ca->spi_out, cb->spi_in);
    assert_int_equal(ca->keys.encr_ir->len, 36); /* AES-256 key + 4-octet salt */
    assert_memory_equal(ca->keys.encr_ir->data, cb->keys.encr_ir->data, 36);
    assert_memory_equal(ca->keys.encr_ri->data, cb->keys.encr_ri->data, 36);
    assert_memory_not_equal(ca->keys.encr_ir->data, ca->keys.encr_ri->data, 36);
    assert_int_equal(p->a->child_up, 1);
    assert_int_equal(p->b->child_up, 1);
    assert_int_equal(p->a->ike_up, 1);
    assert_int_equal(p->b->ike_up, 1);
}

static void established_with_child(void **s)
{
    (void)s;
    struct pair p = default_pair();
    initiate(&p);
    assert_up(&p);
    /* Narrowed selectors: alice's side 10.1/16, bob's 10.2/16. */
    struct child_sa *ca = h_only_child(p.a);
    assert_int_equal(ca->nts_local, 1);
    assert_int_equal(ca->ts_local[0].start_addr[1], 1);
    assert_int_equal(ca->ts_remote[0].start_addr[1], 2);
    assert_int_equal(p.w->dropped, 0);
    assert_int_equal(p.a->engine.stats.retransmits, 0);
    h_world_free(p.w);
}

static void cbc_and_chacha(void **s)
{
    (void)s;
    const char *ikes[] = {"\"aes128-sha256-ecp256\"", "\"chacha20poly1305-prfsha384-x25519\"",
                          "\"aes256-sha512-modp2048\""};
    const char *esps[] = {"\"aes128-sha256\"", "\"chacha20poly1305\"", "\"aes256-sha384-esn\""};
    for (int i = 0; i < 3; i++) {
        struct pair p =
            pair_new("", ikes[i], esps[i], PSK, "", ikes[i], esps[i], PSK, "10.2.0.0/16");
        initiate(&p);
        struct ike_sa *sa = h_only_sa(p.a);
        assert_non_null(sa);
        assert_int_equal(sa->state, IKE_SA_ESTABLISHED);
        struct child_sa *ca = h_only_child(p.a), *cb = h_only_child(p.b);
        assert_non_null(ca);
        assert_non_null(cb);
        assert_int_equal(ca->spi_in, cb->spi_out);
        h_world_free(p.w);
    }
}

/* 1.2: the responder wants another group; the initiator retries with it. */
static void invalid_ke_retry(void **s)
{
    (void)s;
    struct pair p = pair_new("", "\"aes256gcm16-prfsha256-x25519-ecp256\"", ESP, PSK, "",
                             "\"aes256gcm16-prfsha256-ecp256\"", ESP, PSK, "10.2.0.0/16");
    initiate(&p);
    assert_up(&p);
    assert_int_equal(h_only_sa(p.a)->alg.ke, 19);
    h_world_free(p.w);
}

/* 2.6: with the threshold at 0 every IKE_SA_INIT must carry our cookie. */
static void cookie_demanded(void **s)
{
    (void)s;
    struct pair p =
        pair_new("", IKE, ESP, PSK, "cookie_threshold = 0;", IKE, ESP, PSK, "10.2.0.0/16");
    initiate(&p);
    assert_up(&p);
    assert_int_equal(p.b->engine.stats.drops[IKE_DROP_COOKIE], 1);
    h_world_free(p.w);
}

static void no_proposal_chosen(void **s)
{
    (void)s;
    struct pair p = pair_new("", "\"aes128-sha256-ecp256\"", ESP, PSK, "",
                             "\"aes256gcm16-prfsha512-ecp384\"", ESP, PSK, "10.2.0.0/16");
    initiate(&p);
    /* 2.21.1: the unprotected NO_PROPOSAL_CHOSEN ends the SA when the retransmissions do. */
    assert_non_null(h_only_sa(p.a));
    h_settle(p.w, p.w->now + 120000);
    assert_null(h_only_sa(p.a));
    assert_null(h_only_sa(p.b));
    assert_int_equal(p.a->engine.stats.ike_failed, 1);
    assert_int_equal(p.a->ike_up, 0);
    h_world_free(p.w);
}

static void wrong_psk(void **s)
{
    (void)s;
    struct pair p = pair_new("", IKE, ESP, PSK, "", IKE, ESP,
                             "0x0000000000000000000000000000000000000000000000000000000000000001",
                             "10.2.0.0/16");
    initiate(&p);
    assert_null(h_only_sa(p.a));
    assert_null(h_only_sa(p.b));
    assert_int_equal(p.b->engine.stats.auth_failures, 1);
    assert_int_equal(p.a->engine.stats.auth_failures, 1); /* told AUTHENTICATION_FAILED */
    assert_int_equal(p.a->child_up + p.b->child_up, 0);
    h_world_free(p.w);
}

/* 1.2: an unacceptable child does not fail the IKE SA. */
static void ts_unacceptable(void **s)
{
    (void)s;
    struct pair p = pair_new("", IKE, ESP, PSK, "", IKE, ESP, PSK, "10.9.0.0/16");
    initiate(&p);
    assert_int_equal(h_only_sa(p.a)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(h_only_sa(p.b)->state, IKE_SA_ESTABLISHED);
    assert_null(h_only_child(p.a));
    assert_null(h_only_child(p.b));
    h_world_free(p.w);
}

static void esp_no_proposal(void **s)
{
    (void)s;
    struct pair p = pair_new("", IKE, "\"aes128-sha256\"", PSK, "", IKE, "\"chacha20poly1305\"",
                             PSK, "10.2.0.0/16");
    initiate(&p);
    assert_int_equal(h_only_sa(p.a)->state, IKE_SA_ESTABLISHED);
    assert_null(h_only_child(p.a));
    assert_null(h_only_child(p.b));
    h_world_free(p.w);
}

/* Drops the first packet whose exchange is *(uint8_t *)arg and sent by peer 0. */
static bool drop_first(struct h_world *w, struct h_pkt *k, void *arg)
{
    (void)w;
    int *want = arg;
    if (*want && k->len > 18 && k->buf[18] == *want && k->from == 0) {
        *want = 0;
        return false;
    }
    return true;
}

/* 2.1: a lost request is retransmitted. */
static void lost_request_retransmitted(void **s)
{
    (void)s;
    struct pair p = default_pair();
    int want = IKE_AUTH;
    p.w->filter = drop_first;
    p.w->filter_arg = &want;
    initiate(&p);
    assert_up(&p);
    assert_int_equal(p.w->dropped, 1);
    assert_int_equal(p.a->engine.stats.retransmits, 1);
    h_world_free(p.w);
}

/* Duplicates every IKE_AUTH request once. */
static bool duplicate_auth(struct h_world *w, struct h_pkt *k, void *arg)
{
    int *left = arg;
    if (*left && k->len > 19 && k->buf[18] == IKE_AUTH && !(k->buf[19] & IKE_FLAG_RESPONSE)) {
        (*left)--;
        struct h_pkt *d = &w->pkts[w->npkts++];
        *d = *k;
        d->buf = malloc(k->len);
        memcpy(d->buf, k->buf, k->len);
    }
    return true;
}

/* 2.1: a duplicated request is answered from the response cache, not processed twice. */
static void duplicate_request_cached(void **s)
{
    (void)s;
    struct pair p = default_pair();
    int left = 1;
    p.w->filter = duplicate_auth;
    p.w->filter_arg = &left;
    initiate(&p);
    assert_up(&p);
    assert_int_equal(p.b->engine.stats.cached_responses, 1);
    /* Alice got the response twice: the second is not for an outstanding request. */
    assert_int_equal(p.a->engine.stats.drops[IKE_DROP_MSGID], 1);
    /* The cache needs no cipher: Bob had dropped his contexts after the first answer. */
    assert_true(hk_sk_cipher_is_idle(h_only_sa(p.b)->sk_out));
    h_world_free(p.w);
}

/* A responder that never answers: retransmissions, then the SA is given up. */
static bool drop_all(struct h_world *w, struct h_pkt *k, void *arg)
{
    (void)w, (void)k, (void)arg;
    return false;
}

static void peer_dead_gives_up(void **s)
{
    (void)s;
    struct pair p = default_pair();
    p.w->filter = drop_all;
    uint64_t id;
    assert_int_equal(ike_engine_initiate(&p.a->engine, "gw", &id), 0);
    h_settle(p.w, p.w->now + 600000);
    assert_null(h_only_sa(p.a));
    assert_int_equal(p.a->engine.stats.retransmits, 5); /* the default retransmit_tries */
    assert_int_equal(p.a->engine.stats.ike_failed, 1);
    h_world_free(p.w);
}

static void delete_by(struct pair *p, struct h_peer *who)
{
    struct ike_sa *sa = h_only_sa(who);
    assert_int_equal(ike_engine_terminate(&who->engine, sa->id), 0);
    h_settle(p->w, p->w->now + 60000);
    assert_null(h_only_sa(p->a));
    assert_null(h_only_sa(p->b));
    assert_null(h_only_child(p->a));
    assert_null(h_only_child(p->b));
    assert_int_equal(p->a->child_down, 1);
    assert_int_equal(p->b->child_down, 1);
    assert_int_equal(p->a->ike_down, 1);
    assert_int_equal(p->b->ike_down, 1);
}

static void delete_by_initiator(void **s)
{
    (void)s;
    struct pair p = default_pair();
    initiate(&p);
    assert_up(&p);
    delete_by(&p, p.a);
    h_world_free(p.w);
}

static void delete_by_responder(void **s)
{
    (void)s;
    struct pair p = default_pair();
    initiate(&p);
    assert_up(&p);
    delete_by(&p, p.b);
    h_world_free(p.w);
}

/* A half-open SA on the responder expires when IKE_AUTH never comes. */
static bool drop_auth(struct h_world *w, struct h_pkt *k, void *arg)
{
    (void)w, (void)arg;
    return !(k->len > 18 && k->buf[18] == IKE_AUTH);
}

static void half_open_expires(void **s)
{
    (void)s;
    struct pair p = default_pair();
    p.w->filter = drop_auth;
    uint64_t id;
    assert_int_equal(ike_engine_initiate(&p.a->engine, "gw", &id), 0);
    h_run(p.w);
    assert_non_null(h_only_sa(p.b));
    assert_int_equal(p.b->engine.nhalf_open, 1);
    h_settle(p.w, p.w->now + 600000);
    assert_null(h_only_sa(p.b));
    assert_int_equal(p.b->engine.nhalf_open, 0);
    h_world_free(p.w);
}

/* Bob's only queued answer to a hand-made first message, decoded; the notify type it carries. */
static uint16_t answer_to(struct pair *p, const uint8_t *buf, size_t len, struct hk_arena *a,
                          struct ike_msg *m)
{
    struct h_pkt *k = &p->w->pkts[0];
    ike_engine_recv(&p->b->engine, &k->dst, &k->src, buf, len);
    assert_int_equal(p->w->npkts, 2); /* alice's request still queued, bob's answer */
    struct hk_diag d = {0};
    /* The decoded views must outlive the queued packet, which is freed below. */
    uint8_t *keep = hk_arena_alloc(a, p->w->pkts[1].len);
    memcpy(keep, p->w->pkts[1].buf, p->w->pkts[1].len);
    assert_int_equal(ike_msg_decode(keep, p->w->pkts[1].len, m, a, &d), 0);
    assert_int_equal(m->npayloads, 1);
    assert_int_equal(m->payloads[0].type, IKE_PL_NOTIFY);
    free(p->w->pkts[1].buf);
    p->w->npkts = 1;
    return m->payloads[0].u.notify.type;
}

/* 2.5: a higher major version gets INVALID_MAJOR_VERSION with ours; an unknown critical
 * payload gets UNSUPPORTED_CRITICAL_PAYLOAD naming its type; neither leaves state. */
static void version_and_critical(void **s)
{
    (void)s;
    struct pair p = default_pair();
    assert_int_equal(ike_engine_initiate(&p.a->engine, "gw", NULL), 0);
    assert_int_equal(p.w->npkts, 1);
    struct h_pkt *req = &p.w->pkts[0];
    uint8_t *v3 = malloc(req->len);
    memcpy(v3, req->buf, req->len);
    v3[17] = 0x30;
    struct hk_arena a;
    struct ike_msg m;
    hk_arena_init(&a, 1 << 16);
    assert_int_equal(answer_to(&p, v3, req->len, &a, &m), 5 /* INVALID_MAJOR_VERSION */);
    assert_int_equal(m.hdr.version, 0x20);
    free(v3);

    /* Alice's request with an unknown critical payload (type 200) appended. */
    struct ike_msg orig;
    struct hk_diag d = {0};
    assert_int_equal(ike_msg_decode(req->buf, req->len, &orig, &a, &d), 0);
    struct ike_payload *pl = hk_arena_calloc(&a, orig.npayloads + 1, sizeof(*pl));
    memcpy(pl, orig.payloads, orig.npayloads * sizeof(*pl));
    static const uint8_t body[4] = {1, 2, 3, 4};
    pl[orig.npayloads] =
        (struct ike_payload){.type = 200, .critical = true, .u.unknown.body = {body, 4}};
    orig.payloads = pl;
    orig.npayloads++;
    struct hk_cbb out;
    hk_cbb_init(&out, 0, 0);
    assert_int_equal(ike_msg_encode(&orig, &out), 0);
    assert_int_equal(answer_to(&p, out.buf, out.len, &a, &m), 1 /* UNSUPPORTED_CRITICAL */);
    assert_int_equal(m.payloads[0].u.notify.data.len, 1);
    assert_int_equal(m.payloads[0].u.notify.data.p[0], 200);
    assert_null(h_only_sa(p.b));
    hk_cbb_free(&out);
    hk_arena_free(&a);
    /* The untouched request still works. */
    h_settle(p.w, p.w->now + 10000);
    assert_up(&p);
    h_world_free(p.w);
}

/* Unprotected IKE_SA_INIT messages carrying an established SA's SPIs change nothing. */
static void forged_init_for_existing_sa(void **s)
{
    (void)s;
    struct pair p = default_pair();
    assert_int_equal(ike_engine_initiate(&p.a->engine, "gw", NULL), 0);
    struct h_pkt first = p.w->pkts[0];
    uint8_t *copy = malloc(first.len);
    memcpy(copy, first.buf, first.len);
    h_settle(p.w, p.w->now + 10000);
    assert_up(&p);
    struct ike_sa *sb = h_only_sa(p.b), *sa = h_only_sa(p.a);
    uint32_t in_b = sb->peer_req_next, in_a = sa->peer_req_next;
    memcpy(copy + 8, sb->spi_r, 8);
    for (uint32_t id = 0; id < 4; id++) {
        for (int resp = 0; resp < 2; resp++) {
            copy[19] = (uint8_t)((resp ? IKE_FLAG_RESPONSE : 0) | IKE_FLAG_INITIATOR);
            copy[23] = (uint8_t)id;
            ike_engine_recv(&p.b->engine, &first.dst, &first.src, copy, first.len);
            copy[19] = (uint8_t)(resp ? IKE_FLAG_RESPONSE : 0); /* as if from the responder */
            ike_engine_recv(&p.a->engine, &first.src, &first.dst, copy, first.len);
        }
    }
    assert_int_equal(sb->peer_req_next, in_b);
    assert_int_equal(sa->peer_req_next, in_a);
    assert_true(p.b->engine.stats.drops[IKE_DROP_UNEXPECTED] >= 8);
    free(copy);
    /* The SA still works both ways. */
    assert_int_equal(ike_engine_rekey_child(&p.b->engine, h_only_child(p.b)->id), 0);
    h_settle(p.w, p.w->now + 10000);
    assert_int_equal(p.a->child_up, 2);
    h_world_free(p.w);
}

/* Rewrites alice's IKE_AUTH request without its AUTH payload (re-protected with her keys)
 * and notes the notify bob answers with. */
struct strip {
    struct pair *p;
    uint16_t answer;
};

static bool strip_auth(struct h_world *w, struct h_pkt *k, void *arg)
{
    (void)w;
    struct strip *st = arg;
    if (k->len <= 19 || k->buf[18] != IKE_AUTH)
        return true;
    bool response = k->buf[19] & IKE_FLAG_RESPONSE;
    struct ike_sa *reader = h_only_sa(response ? st->p->a : st->p->b);
    struct hk_arena a;
    struct ike_msg m;
    struct hk_diag d = {0};
    hk_arena_init(&a, 1 << 16);
    uint8_t *copy = malloc(k->len);
    memcpy(copy, k->buf, k->len);
    assert_int_equal(ike_msg_decode(copy, k->len, &m, &a, &d), 0);
    assert_int_equal(ike_sk_open(reader->sk_in, copy, k->len, &m, &a, &d), 0);
    if (response) {
        st->answer = m.npayloads > 1 && m.payloads[1].type == IKE_PL_NOTIFY
                         ? m.payloads[1].u.notify.type
                         : 0;
    } else {
        struct ike_payload inner[32];
        size_t n = 0;
        for (size_t i = 1; i < m.npayloads && n < 32; i++)
            if (m.payloads[i].type != IKE_PL_AUTH)
                inner[n++] = m.payloads[i];
        struct hk_cbb out;
        hk_cbb_init(&out, 0, 0);
        assert_int_equal(ike_sk_seal(h_only_sa(st->p->a)->sk_out, &m.hdr, inner, n, &out), 0);
        free(k->buf);
        k->buf = hk_cbb_detach(&out, &k->len);
    }
    free(copy);
    hk_arena_free(&a);
    return true;
}

/* 1.2: an IKE_AUTH request without AUTH is answered INVALID_SYNTAX; neither side keeps an SA. */
static void invalid_syntax(void **s)
{
    (void)s;
    struct pair p = default_pair();
    struct strip st = {.p = &p};
    p.w->filter = strip_auth;
    p.w->filter_arg = &st;
    initiate(&p);
    assert_int_equal(st.answer, IKE_N_INVALID_SYNTAX);
    assert_null(h_only_sa(p.a));
    assert_null(h_only_sa(p.b));
    assert_int_equal(p.a->ike_up + p.b->ike_up, 0);
    h_world_free(p.w);
}

/* RFC 6023: with no children configured and both sides willing, an IKE SA alone. */
static void childless(void **s)
{
    (void)s;
    const char *conf_fmt =
        "daemon = { childless = true; };\n"
        "connections = { gw = { local_addrs = \"%s\"; remote_addrs = \"%s\";\n"
        "  local = { auth = \"psk\"; id = \"%s\"; }; remote = { auth = \"psk\"; id = \"%s\"; };\n"
        "  psk = \"" PSK "\"; }; };\n";
    char ca[1024], cb[1024];
    snprintf(ca, sizeof(ca), conf_fmt, ALICE, BOB, "alice.example.net", "bob.example.net");
    snprintf(cb, sizeof(cb), conf_fmt, BOB, ALICE, "bob.example.net", "alice.example.net");
    struct h_world *w = h_world_new();
    struct h_peer *a = h_peer_add(w, "alice", ALICE, ca);
    struct h_peer *b = h_peer_add(w, "bob", BOB, cb);
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_settle(w, w->now + 10000);
    assert_int_equal(h_only_sa(a)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(h_only_sa(b)->state, IKE_SA_ESTABLISHED);
    assert_true(h_only_sa(b)->ext & IKE_EXT_CHILDLESS);
    assert_null(h_only_child(a));
    assert_null(h_only_child(b));
    h_world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(established_with_child),
        cmocka_unit_test(cbc_and_chacha),
        cmocka_unit_test(invalid_ke_retry),
        cmocka_unit_test(cookie_demanded),
        cmocka_unit_test(no_proposal_chosen),
        cmocka_unit_test(wrong_psk),
        cmocka_unit_test(ts_unacceptable),
        cmocka_unit_test(esp_no_proposal),
        cmocka_unit_test(lost_request_retransmitted),
        cmocka_unit_test(duplicate_request_cached),
        cmocka_unit_test(peer_dead_gives_up),
        cmocka_unit_test(delete_by_initiator),
        cmocka_unit_test(delete_by_responder),
        cmocka_unit_test(half_open_expires),
        cmocka_unit_test(version_and_critical),
        cmocka_unit_test(childless),
        cmocka_unit_test(forged_init_for_existing_sa),
        cmocka_unit_test(invalid_syntax),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
