/*
 * Unauthenticated traffic (RFC 7296 2.1, 2.6, 2.21.1; RFC 8019): what a peer without keys can
 * make a responder hold, send and log. Each test fails without the limit it names.
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

#include "common/arena.h"
#include "common/cbb.h"
#include "harness.h"
#include "ike/codec/msg.h"
#include "ike/codec/notify.h"

#define PSK "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const char *alice_conf(void)
{
    return "connections = { gw = {\n"
           "  local_addrs = \"192.0.2.1\"; remote_addrs = \"192.0.2.2\";\n"
           "  local = { auth = \"psk\"; id = \"alice.example.net\"; };\n"
           "  remote = { auth = \"psk\"; id = \"bob.example.net\"; };\n"
           "  psk = \"" PSK "\";\n"
           "  children = { lan = { local_ts = \"10.1.0.0/16\"; remote_ts = \"10.2.0.0/16\"; }; };\n"
           "}; };\n";
}

/* Bob answers anyone; daemon is the text of his daemon section. */
static const char *bob_conf(const char *daemon)
{
    static char b[2048];
    snprintf(b, sizeof(b),
             "daemon = { %s };\n"
             "connections = { gw = {\n"
             "  remote_addrs = \"%%any\";\n"
             "  local = { auth = \"psk\"; id = \"bob.example.net\"; };\n"
             "  remote = { auth = \"psk\"; id = \"alice.example.net\"; };\n"
             "  psk = \"" PSK "\";\n"
             "  children = { lan = { local_ts = \"10.2.0.0/16\"; remote_ts = \"10.1.0.0/16\"; "
             "}; };\n"
             "}; };\n",
             daemon);
    return b;
}

struct world {
    struct h_world *w;
    struct h_peer *a, *b;
};

static struct world world(const char *bob_daemon)
{
    struct world x;
    x.w = h_world_new();
    x.a = h_peer_add(x.w, "alice", "192.0.2.1", alice_conf());
    x.b = h_peer_add(x.w, "bob", "192.0.2.2", bob_conf(bob_daemon));
    return x;
}

static void drop_queue(struct h_world *w)
{
    for (size_t i = 0; i < w->npkts; i++)
        free(w->pkts[i].buf);
    w->npkts = 0;
}

/* Alice's IKE_SA_INIT request, taken off the wire (nothing delivered). */
struct init_req {
    uint8_t buf[2048];
    size_t len;
    struct sockaddr_storage src, dst;
};

static void take_init(struct world *x, struct init_req *r)
{
    assert_int_equal(ike_engine_initiate(&x->a->engine, "gw", NULL), 0);
    assert_int_equal(x->w->npkts, 1);
    struct h_pkt *k = &x->w->pkts[0];
    assert_true(k->len <= sizeof(r->buf));
    memcpy(r->buf, k->buf, k->len);
    r->len = k->len;
    r->src = k->src;
    r->dst = k->dst;
    drop_queue(x->w);
}

static struct sockaddr_storage v4(const char *ip, uint16_t port)
{
    struct sockaddr_storage s = {0};
    struct sockaddr_in *in = (struct sockaddr_in *)&s;
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    assert_int_equal(inet_pton(AF_INET, ip, &in->sin_addr), 1);
    return s;
}

/* The request as another initiator would send it: another SPIi. */
static void set_spi(struct init_req *r, uint32_t n)
{
    r->buf[4] = (uint8_t)(n >> 24), r->buf[5] = (uint8_t)(n >> 16);
    r->buf[6] = (uint8_t)(n >> 8), r->buf[7] = (uint8_t)n;
}

/* ---- 1. size and half-open limits ---- */

/* A datagram over daemon.max_packet is refused before it is decoded or kept. */
static void datagram_over_max_packet(void **s)
{
    (void)s;
    struct world x = world("max_packet = 1500;");
    struct ike_engine *e = &x.b->engine;
    struct init_req r;
    take_init(&x, &r);
    /* Alice's request with 1300 octets of vendor ID after it: a valid IKE_SA_INIT. */
    static uint8_t big[1600];
    struct hk_arena ar;
    struct ike_msg m;
    struct hk_diag d = {0};
    hk_arena_init(&ar, 1 << 16);
    memcpy(big, r.buf, r.len);
    assert_int_equal(ike_msg_decode(big, r.len, &m, &ar, &d), 0);
    struct ike_payload pl[16];
    assert_true(m.npayloads < 15);
    memcpy(pl, m.payloads, m.npayloads * sizeof(pl[0]));
    static uint8_t vid[1300];
    memset(vid, 0x5a, sizeof(vid));
    pl[m.npayloads] =
        (struct ike_payload){.type = IKE_PL_VENDOR, .u.vendor.id = {vid, sizeof(vid)}};
    struct ike_msg m2 = {.hdr = m.hdr, .npayloads = m.npayloads + 1, .payloads = pl};
    struct hk_cbb b;
    assert_int_equal(hk_cbb_init(&b, 2048, 0), 0);
    assert_int_equal(ike_msg_encode(&m2, &b), 0);
    assert_true(b.len > 1500);

    ike_engine_recv(e, &r.dst, &r.src, b.buf, b.len);
    assert_int_equal(e->stats.drops[IKE_DROP_TOO_BIG], 1);
    assert_int_equal(e->nhalf_open, 0);
    assert_int_equal(x.w->npkts, 0); /* no answer */
    /* The same request without the vendor ID is answered. */
    ike_engine_recv(e, &r.dst, &r.src, r.buf, r.len);
    assert_int_equal(e->nhalf_open, 1);
    assert_int_equal(x.w->npkts, 1);
    hk_cbb_free(&b);
    hk_arena_free(&ar);
    drop_queue(x.w);
    h_world_free(x.w);
}

/* Five half-open SAs per address by default, then nothing more from it until one goes; other
 * addresses are not affected, and the count's entry goes with the last SA. */
static void half_open_per_address(void **s)
{
    (void)s;
    struct world x = world("");
    struct ike_engine *e = &x.b->engine;
    struct init_req r;
    take_init(&x, &r);
    for (uint32_t i = 0; i < 8; i++) {
        set_spi(&r, 0x1000 + i);
        struct sockaddr_storage from = v4("198.51.100.7", (uint16_t)(1000 + i));
        ike_engine_recv(e, &r.dst, &from, r.buf, r.len);
    }
    assert_int_equal(e->nhalf_open, HK_CONF_HALF_OPEN_PER_ADDRESS);
    assert_int_equal(e->stats.drops[IKE_DROP_HALF_OPEN], 8 - HK_CONF_HALF_OPEN_PER_ADDRESS);
    assert_int_equal(x.w->npkts, HK_CONF_HALF_OPEN_PER_ADDRESS); /* the refused get nothing */
    assert_int_equal(hk_u64map_count(&e->half_open_peers[0]), 1);
    /* Another address is still served. */
    set_spi(&r, 0x2000);
    struct sockaddr_storage other = v4("198.51.100.8", 500);
    ike_engine_recv(e, &r.dst, &other, r.buf, r.len);
    assert_int_equal(e->nhalf_open, HK_CONF_HALF_OPEN_PER_ADDRESS + 1);
    assert_int_equal(hk_u64map_count(&e->half_open_peers[0]), 2);
    drop_queue(x.w);
    /* The half-open timeout takes them all, and every per-address entry with them. */
    h_settle(x.w, x.w->now + 60000);
    assert_int_equal(e->nhalf_open, 0);
    assert_int_equal(hk_u64map_count(&e->half_open_peers[0]), 0);
    /* Room again for the first address. */
    set_spi(&r, 0x3000);
    struct sockaddr_storage again = v4("198.51.100.7", 2000);
    ike_engine_recv(e, &r.dst, &again, r.buf, r.len);
    assert_int_equal(e->nhalf_open, 1);
    drop_queue(x.w);
    h_world_free(x.w);
}

/* daemon.half_open_max bounds them in all, whatever the addresses. */
static void half_open_max(void **s)
{
    (void)s;
    struct world x = world("half_open_max = 3; half_open_per_address = 0;");
    struct ike_engine *e = &x.b->engine;
    struct init_req r;
    take_init(&x, &r);
    char ip[32];
    for (uint32_t i = 0; i < 6; i++) {
        set_spi(&r, 0x1000 + i);
        snprintf(ip, sizeof(ip), "198.51.100.%u", 10 + i);
        struct sockaddr_storage from = v4(ip, 500);
        ike_engine_recv(e, &r.dst, &from, r.buf, r.len);
    }
    assert_int_equal(e->nhalf_open, 3);
    assert_int_equal(e->stats.drops[IKE_DROP_HALF_OPEN], 3);
    assert_int_equal(hk_u64map_count(&e->half_open_peers[0]), 3);
    drop_queue(x.w);
    h_world_free(x.w);
}

/* A whole set-up still works within the limits, and leaves no count behind. */
static void established_leaves_no_count(void **s)
{
    (void)s;
    struct world x = world("half_open_per_address = 1;");
    for (int i = 0; i < 3; i++) {
        uint64_t id;
        assert_int_equal(ike_engine_initiate(&x.a->engine, "gw", &id), 0);
        h_run(x.w);
        assert_non_null(ike_engine_sa(&x.a->engine, id));
        assert_int_equal(x.b->engine.nhalf_open, 0);
        assert_int_equal(hk_u64map_count(&x.b->engine.half_open_peers[0]), 0);
    }
    assert_int_equal(x.b->engine.stats.drops[IKE_DROP_HALF_OPEN], 0);
    h_world_free(x.w);
}

/* ---- 2. retransmissions are no amplifier ---- */

/* A cached IKE_SA_INIT response goes out again only for a copy of the request, and not more
 * than once per resend interval. A bare header with the right SPIi (28 octets, for a response
 * of hundreds) gets nothing. */
static void init_resend_only_for_same_request(void **s)
{
    (void)s;
    struct world x = world("");
    struct ike_engine *e = &x.b->engine;
    struct init_req r;
    take_init(&x, &r);
    ike_engine_recv(e, &r.dst, &r.src, r.buf, r.len);
    assert_int_equal(x.w->npkts, 1);
    size_t resp_len = x.w->pkts[0].len;
    assert_true(resp_len > 200);
    drop_queue(x.w);
    uint64_t tx = e->stats.tx;

    /* The header alone, its length field saying 28. */
    uint8_t bare[IKE_HDR_LEN];
    memcpy(bare, r.buf, IKE_HDR_LEN);
    bare[16] = 0; /* no next payload */
    bare[24] = bare[25] = bare[26] = 0, bare[27] = IKE_HDR_LEN;
    ike_engine_recv(e, &r.dst, &r.src, bare, sizeof(bare));
    /* The request with one octet changed (its nonce, say). */
    r.buf[r.len - 1] ^= 1;
    ike_engine_recv(e, &r.dst, &r.src, r.buf, r.len);
    r.buf[r.len - 1] ^= 1;
    assert_int_equal(e->stats.tx, tx);
    assert_int_equal(e->stats.cached_responses, 0);
    assert_int_equal(e->stats.drops[IKE_DROP_MSGID], 2);

    /* The real retransmission is answered, once per interval. */
    ike_engine_recv(e, &r.dst, &r.src, r.buf, r.len);
    assert_int_equal(e->stats.tx, tx + 1);
    for (int i = 0; i < 10; i++)
        ike_engine_recv(e, &r.dst, &r.src, r.buf, r.len);
    assert_int_equal(e->stats.tx, tx + 1);
    assert_int_equal(e->stats.drops[IKE_DROP_RESEND_LIMIT], 10);
    x.w->now += 1000;
    ike_engine_recv(e, &r.dst, &r.src, r.buf, r.len);
    assert_int_equal(e->stats.tx, tx + 2);
    assert_int_equal(e->stats.cached_responses, 2);
    drop_queue(x.w);
    h_world_free(x.w);
}

/* The same for a retransmitted IKE_AUTH: only its copy, at a bounded rate. */
struct keep_auth {
    uint8_t buf[2048];
    size_t len;
    struct sockaddr_storage src, dst;
};

static bool keep_auth_req(struct h_world *w, struct h_pkt *k, void *arg)
{
    (void)w;
    struct keep_auth *c = arg;
    if (k->len >= IKE_HDR_LEN && k->buf[18] == IKE_AUTH && !(k->buf[19] & IKE_FLAG_RESPONSE) &&
        k->len <= sizeof(c->buf)) {
        memcpy(c->buf, k->buf, k->len);
        c->len = k->len;
        c->src = k->src;
        c->dst = k->dst;
    }
    return true;
}

static void auth_resend_rate_limited(void **s)
{
    (void)s;
    struct world x = world("");
    struct keep_auth c = {0};
    x.w->filter = keep_auth_req;
    x.w->filter_arg = &c;
    assert_int_equal(ike_engine_initiate(&x.a->engine, "gw", NULL), 0);
    h_run(x.w);
    x.w->filter = NULL;
    assert_true(c.len > 0);
    struct ike_engine *e = &x.b->engine;
    uint64_t tx = e->stats.tx;
    for (int i = 0; i < 5; i++)
        ike_engine_recv(e, &c.dst, &c.src, c.buf, c.len);
    assert_int_equal(e->stats.tx, tx + 1);
    assert_int_equal(e->stats.drops[IKE_DROP_RESEND_LIMIT], 4);
    drop_queue(x.w);
    h_world_free(x.w);
}

/* ---- 3. cookies ---- */

/* Keeps bob's COOKIE answers from reaching alice until the test says so. */
struct held {
    struct h_pkt pkts[8];
    size_t n;
    bool hold;
};

static bool hold_cookies(struct h_world *w, struct h_pkt *k, void *arg)
{
    (void)w;
    struct held *h = arg;
    if (!h->hold || k->from != 1 || k->buf[18] != IKE_SA_INIT || k->len > 80)
        return true; /* a COOKIE answer is a header and one short notify */
    assert_true(h->n < 8);
    h->pkts[h->n] = *k;
    h->pkts[h->n].buf = malloc(k->len);
    memcpy(h->pkts[h->n].buf, k->buf, k->len);
    h->n++;
    return false;
}

static void release(struct world *x, struct held *h)
{
    for (size_t i = 0; i < h->n; i++) {
        ike_engine_recv(&x->a->engine, &h->pkts[i].dst, &h->pkts[i].src, h->pkts[i].buf,
                        h->pkts[i].len);
        free(h->pkts[i].buf);
    }
    h->n = 0;
}

/* A cookie made just before the secret changed is still taken; one two changes old is not,
 * and the new one carries another version octet (2.6). */
static void cookie_secret_rotates(void **s)
{
    (void)s;
    struct world x = world("cookie_threshold = 0;");
    struct held h = {.hold = true};
    x.w->filter = hold_cookies;
    x.w->filter_arg = &h;
    struct ike_engine *e = &x.b->engine;

    /* Within the grace period: one cookie round trip. */
    uint64_t id;
    assert_int_equal(ike_engine_initiate(&x.a->engine, "gw", &id), 0);
    h_run(x.w);
    assert_int_equal(h.n, 1);
    uint8_t v1 = h.pkts[0].buf[IKE_HDR_LEN + 8]; /* the notify's data, after 4+4 octets */
    x.w->now += 61000;                           /* the secret changes when next used */
    h.hold = false;
    release(&x, &h);
    h_run(x.w);
    assert_int_equal(e->stats.drops[IKE_DROP_COOKIE], 1);
    struct ike_sa *sa = ike_engine_sa(&x.a->engine, id);
    assert_non_null(sa);
    assert_int_equal(sa->state, IKE_SA_ESTABLISHED);

    /* Two changes later the old secret is gone: the cookie is refused, a new one (another
     * version) is handed out, and alice gets through with it. */
    h.hold = true;
    assert_int_equal(ike_engine_initiate(&x.a->engine, "gw", &id), 0);
    h_run(x.w);
    assert_int_equal(h.n, 1);
    x.w->now += 150000;
    h.hold = false;
    release(&x, &h);
    h_run(x.w);
    assert_int_equal(e->stats.drops[IKE_DROP_COOKIE], 3);
    sa = ike_engine_sa(&x.a->engine, id);
    assert_non_null(sa);
    assert_int_equal(sa->state, IKE_SA_ESTABLISHED);
    assert_int_not_equal(e->cookie_version, v1);
    h_world_free(x.w);
}

/* ---- 4. unprotected errors in the IKE_SA_INIT response ---- */

/* Someone on the path answers alice's IKE_SA_INIT with NO_PROPOSAL_CHOSEN before bob does:
 * alice keeps waiting (2.21.1), and bob's real answer makes the SA. */
static bool forge_refusal(struct h_world *w, struct h_pkt *k, void *arg)
{
    int *left = arg;
    if (*left && k->from == 0 && k->buf[18] == IKE_SA_INIT && !(k->buf[19] & IKE_FLAG_RESPONSE)) {
        (*left)--;
        struct ike_hdr h = {.version = 0x20, .exchange = IKE_SA_INIT, .flags = IKE_FLAG_RESPONSE};
        memcpy(h.spi_i, k->buf, IKE_SPI_LEN);
        struct ike_payload pl = {.type = IKE_PL_NOTIFY, .u.notify.type = IKE_N_NO_PROPOSAL_CHOSEN};
        struct ike_msg m = {.hdr = h, .npayloads = 1, .payloads = &pl};
        struct hk_cbb b;
        assert_int_equal(hk_cbb_init(&b, 64, 0), 0);
        assert_int_equal(ike_msg_encode(&m, &b), 0);
        ike_engine_recv(&w->peers[0].engine, &k->src, &k->dst, b.buf, b.len);
        hk_cbb_free(&b);
    }
    return true;
}

static void forged_error_does_not_abort(void **s)
{
    (void)s;
    struct world x = world("");
    int left = 1;
    x.w->filter = forge_refusal;
    x.w->filter_arg = &left;
    uint64_t id;
    assert_int_equal(ike_engine_initiate(&x.a->engine, "gw", &id), 0);
    h_run(x.w);
    assert_int_equal(left, 0);
    struct ike_sa *sa = ike_engine_sa(&x.a->engine, id);
    assert_non_null(sa);
    assert_int_equal(sa->state, IKE_SA_ESTABLISHED);
    assert_int_equal(x.a->ike_failed, 0);
    assert_int_equal(x.a->engine.stats.drops[IKE_DROP_UNEXPECTED], 1);
    h_world_free(x.w);
}

/* With only the forged answer (bob unreachable), the SA ends when the retransmissions do, and
 * the notify is named as the reason. */
static bool only_forgery(struct h_world *w, struct h_pkt *k, void *arg)
{
    forge_refusal(w, k, arg);
    return k->from != 0; /* nothing of alice's reaches bob */
}

static void forged_error_then_timeout(void **s)
{
    (void)s;
    struct world x = world("");
    int left = 100;
    x.w->filter = only_forgery;
    x.w->filter_arg = &left;
    uint64_t id;
    assert_int_equal(ike_engine_initiate(&x.a->engine, "gw", &id), 0);
    h_run(x.w);
    assert_non_null(ike_engine_sa(&x.a->engine, id));
    h_settle(x.w, x.w->now + 120000);
    assert_null(ike_engine_sa(&x.a->engine, id));
    assert_int_equal(x.a->ike_failed, 1);
    assert_string_equal(x.a->failed_why, "NO_PROPOSAL_CHOSEN");
    assert_true(x.a->engine.stats.retransmits >= 1);
    h_world_free(x.w);
}

/* ---- 5. log lines ---- */

static unsigned drop_lines, suppressed_lines;

static void count_sink(void *arg, enum hk_log_level lvl, const char *line)
{
    (void)arg, (void)lvl;
    if (strstr(line, "dropped message from"))
        drop_lines++;
    if (strstr(line, "suppressed"))
        suppressed_lines++;
}

/* A storm of bad datagrams writes a bounded number of lines; the counters have them all. */
static void drop_log_rate_limited(void **s)
{
    (void)s;
    struct world x = world("");
    struct ike_engine *e = &x.b->engine;
    x.b->log.sink = count_sink;
    drop_lines = suppressed_lines = 0;
    uint8_t junk[40] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct sockaddr_storage from = v4("198.51.100.9", 500), to = v4("192.0.2.2", 500);
    for (int i = 0; i < 10000; i++)
        ike_engine_recv(e, &to, &from, junk, sizeof(junk));
    uint64_t drops = 0;
    for (int i = 0; i < IKE_DROP__COUNT; i++)
        drops += e->stats.drops[i];
    assert_int_equal(drops, 10000);
    assert_true(drop_lines >= 1);
    assert_true(drop_lines <= 20);
    assert_int_equal(suppressed_lines, 0);
    /* A second later: a summary of what was left out, then lines again, still bounded. */
    x.w->now += 1000;
    for (int i = 0; i < 10000; i++)
        ike_engine_recv(e, &to, &from, junk, sizeof(junk));
    assert_int_equal(suppressed_lines, 1);
    assert_true(drop_lines <= 40);
    h_world_free(x.w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(datagram_over_max_packet),
        cmocka_unit_test(half_open_per_address),
        cmocka_unit_test(half_open_max),
        cmocka_unit_test(established_leaves_no_count),
        cmocka_unit_test(init_resend_only_for_same_request),
        cmocka_unit_test(auth_resend_rate_limited),
        cmocka_unit_test(cookie_secret_rotates),
        cmocka_unit_test(forged_error_does_not_abort),
        cmocka_unit_test(forged_error_then_timeout),
        cmocka_unit_test(drop_log_rate_limited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
