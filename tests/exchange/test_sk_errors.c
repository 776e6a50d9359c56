/*
 * RFC 7296 2.21 inside SK: one test per row of docs/protocol-decisions.md ("Errors inside
 * SK"). Alice and Bob hold an established IKE SA. A request made by hand (a payload chain
 * built with the codec, then bent where the row says) is sealed with Alice's keys under her
 * next message ID and given to Bob; his answer is opened with Alice's keys. Each test checks
 * the notify Bob answers with, under the request's message ID, and what becomes of his IKE
 * SA: deleted (INVALID_SYNTAX, 2.21.3), or kept with its window moved on, so that the same
 * request again is answered from the cache (2.1). The exchanges of the last tests run
 * between both engines: what the initiator does with such answers and with responses it
 * cannot use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ke.h"
#include "harness.h"
#include "ike/codec/msg.h"
#include "ike/codec/notify.h"
#include "ike/proposal.h"
#include "ike/sk_msg.h"

#define PSK   "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define ALICE "192.0.2.1"
#define BOB   "192.0.2.2"
#define ESP   "aes256gcm16"
#define PFS   "aes256gcm16-x25519"

static const char *conf(bool alice, const char *esp)
{
    static char buf[2][2048];
    char *b = buf[alice];
    snprintf(b, sizeof(buf[0]),
             "connections = { gw = {\n"
             "  local_addrs = \"%s\"; remote_addrs = \"%s\";\n"
             "  local = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  remote = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  psk = \"" PSK "\";\n"
             "  ike = [\"aes256gcm16-prfsha256-x25519\"];\n"
             "  children = { lan = { local_ts = \"%s\"; remote_ts = \"%s\"; esp = [\"%s\"]; }; };\n"
             "}; };\n",
             alice ? ALICE : BOB, alice ? BOB : ALICE, alice ? "alice" : "bob",
             alice ? "bob" : "alice", alice ? "10.1.0.0/16" : "10.2.0.0/16",
             alice ? "10.2.0.0/16" : "10.1.0.0/16", esp);
    return b;
}

struct pair {
    struct h_world *w;
    struct h_peer *a, *b;
};

static struct pair pair_new(const char *esp)
{
    struct pair p = {.w = h_world_new()};
    p.a = h_peer_add(p.w, "alice", ALICE, conf(true, esp));
    p.b = h_peer_add(p.w, "bob", BOB, conf(false, esp));
    return p;
}

static struct pair up(const char *esp)
{
    struct pair p = pair_new(esp);
    assert_int_equal(ike_engine_initiate(&p.a->engine, "gw", NULL), 0);
    h_settle(p.w, p.w->now + 10000);
    assert_non_null(h_only_sa(p.a));
    assert_non_null(h_only_sa(p.b));
    assert_int_equal(h_only_sa(p.a)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(h_only_sa(p.b)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(p.a->child_up, 1);
    assert_int_equal(p.b->child_up, 1);
    assert_int_equal(p.w->npkts, 0);
    return p;
}

/* ---- requests made by hand ---- */

/* The plaintext of SK: the payload chain, first the type of its first payload. */
struct chain {
    uint8_t first;
    uint8_t b[1024];
    size_t n;
};

static void encode(struct chain *c, const struct ike_payload *pl, size_t n)
{
    struct hk_cbb b;
    hk_cbb_init(&b, 0, 0);
    assert_int_equal(ike_payloads_encode(pl, n, &c->first, &b), 0);
    assert_true(b.len <= sizeof(c->b));
    if (b.len)
        memcpy(c->b, b.buf, b.len);
    c->n = b.len;
    hk_cbb_free(&b);
}

/* Offset of the k-th payload's generic header, walking the lengths as written. */
static size_t at(const struct chain *c, size_t k)
{
    size_t off = 0;
    for (size_t i = 0; i < k; i++)
        off += (size_t)(c->b[off + 2] << 8 | c->b[off + 3]);
    assert_true(off + 4 <= c->n);
    return off;
}

/* Offset of the last payload (the one whose Next Payload is 0). */
static size_t last(const struct chain *c)
{
    size_t off = 0;
    while (c->b[off] != IKE_PL_NONE)
        off += (size_t)(c->b[off + 2] << 8 | c->b[off + 3]);
    return off;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void append(struct chain *c, const uint8_t *p, size_t n)
{
    assert_true(c->n + n <= sizeof(c->b));
    memcpy(c->b + c->n, p, n);
    c->n += n;
}

enum base {
    B_INFO,  /* INFORMATIONAL: V, N(private status) */
    B_CHILD, /* CREATE_CHILD_SA for a new Child SA: SA, Ni, TSi, TSr (and KEi with PFS) */
    B_REKEY, /* CREATE_CHILD_SA rekeying the IKE SA: SA, Ni, KEi */
};

struct row {
    const char *name;
    const char *esp; /* the configuration's ESP proposal; NULL: ESP */
    enum base base;
    /* Changes the payloads before they are encoded (pl has room for 8); data that must
     * live until then is static in the function. */
    void (*tweak)(struct ike_payload *pl, size_t *n);
    /* Changes the encoded chain. */
    void (*patch)(struct chain *c);
    bool bad_pad;    /* a pad length octet larger than the content */
    uint16_t answer; /* the notify in Bob's answer; 0: an answer without error */
    bool fatal;      /* Bob's IKE SA is gone */
};

/* The payloads of a row's request, tweaked, in pl[8] (*n of them); a holds their arrays. */
static void make(struct pair *p, const struct row *r, uint8_t *exchange, struct ike_payload *pl,
                 size_t *np, struct hk_arena *arena)
{
    static uint8_t nonce[32], esp_spi[4] = {0x11, 0x22, 0x33, 0x44};
    static uint8_t ike_spi[8] = {1, 2, 3, 4, 5, 6, 7, 8}, pub[32], vid[] = "hike test";
    static struct ike_ts tsi[2], tsr[2];
    size_t n = 0;
    const struct hk_conn *conn = hk_config_find_conn(p->a->cfg, "gw");
    const struct hk_child_conf *cc = &conn->children[0];
    struct child_sa *ca = h_only_child(p->a);
    struct hk_ke *ke = NULL;
    memset(pl, 0, 8 * sizeof(*pl));
    memset(nonce, 0x5a, sizeof(nonce));
    switch (r->base) {
    case B_INFO:
        *exchange = IKE_INFORMATIONAL;
        pl[n++] = (struct ike_payload){.type = IKE_PL_VENDOR, .u.vendor.id = {vid, 9}};
        pl[n++] = (struct ike_payload){.type = IKE_PL_NOTIFY, .u.notify.type = 40960};
        break;
    case B_CHILD:
        *exchange = IKE_CREATE_CHILD_SA;
        pl[n].type = IKE_PL_SA;
        assert_int_equal(
            ike_sa_build(cc->esp, cc->nesp, IKE_PROTO_ESP, esp_spi, 4, false, arena, &pl[n++].u.sa),
            0);
        pl[n++] = (struct ike_payload){.type = IKE_PL_NONCE, .u.nonce.data = {nonce, 32}};
        if (cc->esp[0].nke) {
            assert_int_equal(hk_ke_new(&p->w->crypto, 31, &ke), 0);
            assert_int_equal(hk_ke_public(ke, pub, sizeof(pub)), 0);
            pl[n++] = (struct ike_payload){.type = IKE_PL_KE,
                                           .u.ke = {.group = 31, .data = {pub, sizeof(pub)}}};
        }
        memcpy(tsi, ca->ts_local, sizeof(tsi[0]));
        memcpy(tsr, ca->ts_remote, sizeof(tsr[0]));
        pl[n++] = (struct ike_payload){.type = IKE_PL_TSI, .u.ts = {.nts = 1, .ts = tsi}};
        pl[n++] = (struct ike_payload){.type = IKE_PL_TSR, .u.ts = {.nts = 1, .ts = tsr}};
        break;
    case B_REKEY:
        *exchange = IKE_CREATE_CHILD_SA;
        pl[n].type = IKE_PL_SA;
        assert_int_equal(ike_sa_build(conn->ike, conn->nike, IKE_PROTO_IKE, ike_spi, 8, false,
                                      arena, &pl[n++].u.sa),
                         0);
        pl[n++] = (struct ike_payload){.type = IKE_PL_NONCE, .u.nonce.data = {nonce, 32}};
        assert_int_equal(hk_ke_new(&p->w->crypto, 31, &ke), 0);
        assert_int_equal(hk_ke_public(ke, pub, sizeof(pub)), 0);
        pl[n++] = (struct ike_payload){.type = IKE_PL_KE,
                                       .u.ke = {.group = 31, .data = {pub, sizeof(pub)}}};
        break;
    }
    hk_ke_free(ke);
    if (r->tweak)
        r->tweak(pl, &n);
    *np = n;
}

/* The request of a row, encoded; *exchange its exchange type. */
static void build(struct pair *p, const struct row *r, uint8_t *exchange, struct chain *c)
{
    struct hk_arena a;
    struct ike_payload pl[8];
    size_t n;
    hk_arena_init(&a, 1 << 16);
    make(p, r, exchange, pl, &n, &a);
    encode(c, pl, n);
    if (r->patch)
        r->patch(c);
    hk_arena_free(&a);
}

/* SK{chain} under Alice's keys and her next message ID, as she would send it. */
static uint8_t *seal(struct pair *p, uint8_t exchange, const struct chain *c, bool bad_pad,
                     uint32_t *msg_id, size_t *len)
{
    struct ike_sa *sa = h_only_sa(p->a);
    struct ike_hdr h = {.version = 0x20, .exchange = exchange, .flags = IKE_FLAG_INITIATOR};
    uint8_t plain[1100];
    size_t block = hk_sk_cipher_block_len(sa->sk_out), n = c->n;
    size_t pad = block > 1 ? (block - (n + 1) % block) % block : 0;
    memcpy(h.spi_i, sa->spi_i, 8);
    memcpy(h.spi_r, sa->spi_r, 8);
    h.msg_id = *msg_id = sa->req_next++;
    memcpy(plain, c->b, n);
    memset(plain + n, 0, pad);
    n += pad;
    plain[n++] = bad_pad ? 0xff : (uint8_t)pad; /* 3.14: 255 + 1 octets are not there */
    struct hk_cbb out;
    hk_cbb_init(&out, 0, 0);
    assert_int_equal(ike_sk_seal_raw(sa->sk_out, &h, c->first, plain, n, &out), 0);
    return hk_cbb_detach(&out, len);
}

/* What Bob sent back, opened with Alice's keys. */
struct answer {
    size_t npkts;
    uint8_t exchange;
    uint32_t msg_id;
    size_t npayloads; /* inside SK */
    uint16_t notify;  /* the first notify's type, 0 when none */
    uint8_t notify_data[4];
    size_t notify_len;
};

static struct answer to_bob(struct pair *p, const uint8_t *msg, size_t len)
{
    struct answer ans = {0};
    size_t before = p->w->npkts;
    ike_engine_recv(&p->b->engine, &p->b->addr, &p->a->addr, msg, len);
    for (size_t i = before; i < p->w->npkts; i++) {
        struct h_pkt *k = &p->w->pkts[i];
        struct hk_arena a;
        struct ike_msg m;
        struct hk_diag d = {0};
        uint8_t *copy = malloc(k->len);
        assert_int_equal(k->from, p->b->idx);
        memcpy(copy, k->buf, k->len);
        hk_arena_init(&a, 1 << 16);
        assert_int_equal(ike_msg_decode(copy, k->len, &m, &a, &d), 0);
        assert_true(m.hdr.flags & IKE_FLAG_RESPONSE);
        assert_int_equal(ike_sk_open(h_only_sa(p->a)->sk_in, copy, k->len, &m, &a, &d), 0);
        ans.npkts++;
        ans.exchange = m.hdr.exchange;
        ans.msg_id = m.hdr.msg_id;
        ans.npayloads = m.npayloads - 1;
        for (size_t j = 1; j < m.npayloads && !ans.notify; j++)
            if (m.payloads[j].type == IKE_PL_NOTIFY) {
                ans.notify = m.payloads[j].u.notify.type;
                ans.notify_len = m.payloads[j].u.notify.data.len;
                if (ans.notify_len && ans.notify_len <= sizeof(ans.notify_data))
                    memcpy(ans.notify_data, m.payloads[j].u.notify.data.p, ans.notify_len);
            }
        hk_arena_free(&a);
        free(copy);
        free(k->buf);
    }
    p->w->npkts = before;
    return ans;
}

static void run_row(void **state)
{
    const struct row *r = *state;
    struct pair p = up(r->esp ? r->esp : ESP);
    struct ike_sa *sb = h_only_sa(p.b);
    uint64_t sb_id = sb->id, child_b = h_only_child(p.b)->id;
    uint32_t window = sb->peer_req_next, msg_id;
    uint8_t exchange;
    struct chain c;
    size_t len;
    build(&p, r, &exchange, &c);
    uint8_t *msg = seal(&p, exchange, &c, r->bad_pad, &msg_id, &len);
    assert_int_equal(msg_id, window);

    struct answer ans = to_bob(&p, msg, len);
    assert_int_equal(ans.npkts, 1);
    assert_int_equal(ans.exchange, exchange);
    assert_int_equal(ans.msg_id, msg_id);
    if (ans.notify != r->answer)
        fail_msg("%s: answered %s, want %s", r->name, ike_notify_name(ans.notify),
                 ike_notify_name(r->answer));
    if (r->answer && r->answer != IKE_N_INVALID_KE_PAYLOAD)
        assert_int_equal(ans.npayloads, 1); /* the notify alone */
    if (r->answer == IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD) {
        assert_int_equal(ans.notify_len, 1); /* 2.5: the payload type */
        assert_int_equal(ans.notify_data[0], 200);
    }

    if (r->fatal) {
        /* 2.21.3: gone, children and all, without a Delete. */
        assert_null(ike_engine_sa(&p.b->engine, sb_id));
        assert_null(h_only_sa(p.b));
        assert_int_equal(p.b->ike_down, 1);
        assert_int_equal(p.b->child_down, 1);
        /* The same request again finds no SA, and no answer. */
        uint64_t no_sa = p.b->engine.stats.drops[IKE_DROP_NO_SA];
        assert_int_equal(to_bob(&p, msg, len).npkts, 0);
        assert_int_equal(p.b->engine.stats.drops[IKE_DROP_NO_SA], no_sa + 1);
    } else {
        sb = ike_engine_sa(&p.b->engine, sb_id);
        assert_non_null(sb);
        assert_int_equal(sb->peer_req_next, window + 1);
        assert_int_equal(p.b->ike_down, 0);
        /* 2.1: the same request again is answered from the cache, not processed again. */
        uint64_t cached = p.b->engine.stats.cached_responses;
        struct answer again = to_bob(&p, msg, len);
        assert_int_equal(again.npkts, 1);
        assert_int_equal(again.msg_id, msg_id);
        assert_int_equal(again.notify, r->answer);
        assert_int_equal(p.b->engine.stats.cached_responses, cached + 1);
        if (r->answer) {
            /* Refused, and the IKE SA carries the next exchange: Bob rekeys his child. */
            assert_int_equal(sb->state, IKE_SA_ESTABLISHED);
            assert_int_equal(ike_engine_rekey_child(&p.b->engine, child_b), 0);
            h_settle(p.w, p.w->now + 10000);
            assert_int_equal(p.a->child_up, 2);
            assert_int_equal(p.a->ike_down + p.b->ike_down, 0);
        }
    }
    free(msg);
    h_world_free(p.w);
}

/* ---- the rows ---- */

/* Framing of the chain (3.2, 3.14). */
static void p_len_below_header(struct chain *c)
{
    put16(c->b + at(c, 0) + 2, 3);
}
static void p_len_overrun(struct chain *c)
{
    size_t off = last(c);
    put16(c->b + off + 2, (uint16_t)(c->n - off + 1));
}
static void p_next_missing(struct chain *c)
{
    c->b[last(c)] = IKE_PL_NONCE; /* names a payload that is not there */
}
static void p_trailing(struct chain *c)
{
    append(c, (const uint8_t[]){0, 0, 0, 0}, 4);
}
static void p_no_first(struct chain *c)
{
    c->first = IKE_PL_NONE; /* SK says "nothing inside", but there is */
}
static void p_sk_inside(struct chain *c)
{
    c->b[last(c)] = IKE_PL_SK;
    append(c, (const uint8_t[]){0, 0, 0, 8, 1, 2, 3, 4}, 8);
}
static void p_skf_inside(struct chain *c)
{
    c->b[last(c)] = IKE_PL_SKF;
    append(c, (const uint8_t[]){0, 0, 0, 12, 0, 1, 0, 1, 1, 2, 3, 4}, 12);
}

/* Notify, Delete, CP (3.10, 3.11, 3.15): the second payload of B_INFO replaced. */
static void t_notify_spi_3(struct ike_payload *pl, size_t *n)
{
    (void)n;
    static const uint8_t spi[3] = {1, 2, 3};
    pl[1].u.notify = (struct ike_pl_notify){.protocol = 3, .spi = {spi, 3}, .type = 40960};
}
static void t_notify_spi_4(struct ike_payload *pl, size_t *n)
{
    (void)n;
    static const uint8_t spi[4] = {1, 2, 3, 4};
    pl[1].u.notify = (struct ike_pl_notify){.protocol = 3, .spi = {spi, 4}, .type = 40960};
}
static void p_notify_spi_overrun(struct chain *c)
{
    c->b[at(c, 1) + 5] = 8; /* SPI Size 8, 4 octets there */
}
static void t_delete(struct ike_payload *pl, uint8_t protocol, uint8_t spi_size, uint16_t nspis,
                     size_t len)
{
    static const uint8_t spis[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    pl[1] = (struct ike_payload){
        .type = IKE_PL_DELETE,
        .u.del = {.protocol = protocol, .spi_size = spi_size, .nspis = nspis, .spis = {spis, len}}};
}
static void t_delete_esp_spi_8(struct ike_payload *pl, size_t *n)
{
    (void)n;
    t_delete(pl, IKE_PROTO_ESP, 8, 1, 8);
}
static void t_delete_ike_spi_4(struct ike_payload *pl, size_t *n)
{
    (void)n;
    t_delete(pl, IKE_PROTO_IKE, 4, 1, 4);
}
static void t_delete_count_overrun(struct ike_payload *pl, size_t *n)
{
    (void)n;
    t_delete(pl, IKE_PROTO_ESP, 4, 2, 4);
}
static void t_cp(struct ike_payload *pl, size_t *n)
{
    (void)n;
    static const uint8_t zero[4];
    static struct ike_cfg_attr at = {.type = IKE_CFG_INTERNAL_IP4_ADDRESS, .value = {zero, 4}};
    pl[1] = (struct ike_payload){.type = IKE_PL_CP,
                                 .u.cp = {.cfg_type = IKE_CFG_REQUEST, .nattrs = 1, .attrs = &at}};
}
static void p_cp_attr_overrun(struct chain *c)
{
    put16(c->b + at(c, 1) + 4 + 4 + 2, 8); /* attribute length 8, 4 octets there */
}
static void t_unknown(struct ike_payload *pl, size_t *n, bool critical)
{
    static const uint8_t body[4] = {1, 2, 3, 4}; /* lives until the chain is encoded */
    pl[(*n)++] =
        (struct ike_payload){.type = 200, .critical = critical, .u.unknown.body = {body, 4}};
}
static void t_unknown_critical(struct ike_payload *pl, size_t *n)
{
    t_unknown(pl, n, true);
}
static void t_unknown_noncritical(struct ike_payload *pl, size_t *n)
{
    t_unknown(pl, n, false);
}
static void t_empty(struct ike_payload *pl, size_t *n)
{
    (void)pl;
    *n = 0;
}

/* CREATE_CHILD_SA for a Child SA: pl = SA, Ni, TSi, TSr (3.3, 3.9, 3.13). */
static void drop_pl(struct ike_payload *pl, size_t *n, uint8_t type)
{
    for (size_t i = 0; i < *n; i++)
        if (pl[i].type == type) {
            memmove(&pl[i], &pl[i + 1], (*n - i - 1) * sizeof(*pl));
            (*n)--;
            return;
        }
    fail_msg("no payload %u to drop", type);
}
static struct ike_payload *find_pl(struct ike_payload *pl, size_t n, uint8_t type)
{
    for (size_t i = 0; i < n; i++)
        if (pl[i].type == type)
            return &pl[i];
    fail_msg("no payload %u", type);
    return NULL;
}
static void t_nonce_empty(struct ike_payload *pl, size_t *n)
{
    find_pl(pl, *n, IKE_PL_NONCE)->u.nonce.data.len = 0;
}
static void t_nonce_8(struct ike_payload *pl, size_t *n)
{
    find_pl(pl, *n, IKE_PL_NONCE)->u.nonce.data.len = 8;
}
static void t_no_nonce(struct ike_payload *pl, size_t *n)
{
    drop_pl(pl, n, IKE_PL_NONCE);
}
static void t_no_sa(struct ike_payload *pl, size_t *n)
{
    drop_pl(pl, n, IKE_PL_SA);
}
static void t_no_tsr(struct ike_payload *pl, size_t *n)
{
    drop_pl(pl, n, IKE_PL_TSR);
}
static void t_no_ke(struct ike_payload *pl, size_t *n)
{
    drop_pl(pl, n, IKE_PL_KE);
}
static void t_ts_none(struct ike_payload *pl, size_t *n)
{
    find_pl(pl, *n, IKE_PL_TSI)->u.ts.nts = 0;
}
static void t_tsi_ports(struct ike_payload *pl, size_t n, uint16_t start, uint16_t end)
{
    struct ike_ts *t = find_pl(pl, n, IKE_PL_TSI)->u.ts.ts;
    t->ip_proto = 6;
    t->start_port = start;
    t->end_port = end;
}
static void t_ts_ports_reversed(struct ike_payload *pl, size_t *n)
{
    t_tsi_ports(pl, *n, 2000, 1000);
}
static void t_ts_ports_opaque(struct ike_payload *pl, size_t *n)
{
    t_tsi_ports(pl, *n, 65535, 0);
}
/* B_CHILD without PFS: TSi is payload 2. */
static void p_ts_count_overrun(struct chain *c)
{
    assert_int_equal(c->b[at(c, 2) + 4], 1);
    c->b[at(c, 2) + 4] = 2;
}
static void p_ts_length(struct chain *c)
{
    put16(c->b + at(c, 2) + 8 + 2, 32); /* an IPv4 selector is 16 octets */
}
static void p_ts_type_9(struct chain *c)
{
    c->b[at(c, 2) + 8] = 9; /* framed as before, of a type hike does not know */
}
/* SA payload of B_CHILD: proposal at +4, its SPI at +12, transform 1 at +16, whose first
 * attribute (the AES-GCM key length, TV) is at +24. */
static void p_proposal_overrun(struct chain *c)
{
    size_t sa = at(c, 0);
    put16(c->b + sa + 4 + 2, (uint16_t)((c->b[sa + 6] << 8 | c->b[sa + 7]) + 8));
}
static void p_transform_overrun(struct chain *c)
{
    put16(c->b + at(c, 0) + 16 + 2, 0xff);
}
static void p_attr_overrun(struct chain *c)
{
    size_t off = at(c, 0) + 24;
    assert_int_equal(c->b[off], 0x80); /* AF=1, type 14 */
    c->b[off] = 0;                     /* TLV now: "length" 256 */
}
static void t_esp_spi_8(struct ike_payload *pl, size_t *n)
{
    static const uint8_t spi[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    find_pl(pl, *n, IKE_PL_SA)->u.sa.proposals[0].spi = (struct ike_view){spi, 8};
}
static void t_ike_spi_4(struct ike_payload *pl, size_t *n)
{
    static const uint8_t spi[4] = {1, 2, 3, 4};
    find_pl(pl, *n, IKE_PL_SA)->u.sa.proposals[0].spi = (struct ike_view){spi, 4};
}
static void t_ike_spi_0(struct ike_payload *pl, size_t *n)
{
    find_pl(pl, *n, IKE_PL_SA)->u.sa.proposals[0].spi = (struct ike_view){NULL, 0};
}
static void t_proposal_num_2(struct ike_payload *pl, size_t *n)
{
    find_pl(pl, *n, IKE_PL_SA)->u.sa.proposals[0].num = 2;
}
static void t_protocol_7(struct ike_payload *pl, size_t *n)
{
    find_pl(pl, *n, IKE_PL_SA)->u.sa.proposals[0].protocol = 7;
}
static void t_ke_short(struct ike_payload *pl, size_t *n)
{
    find_pl(pl, *n, IKE_PL_KE)->u.ke.data.len = 31; /* X25519 is 32 octets (3.4) */
}
static void t_ke_empty(struct ike_payload *pl, size_t *n)
{
    find_pl(pl, *n, IKE_PL_KE)->u.ke.data.len = 0;
}
static void t_ke_zero(struct ike_payload *pl, size_t *n)
{
    static const uint8_t zero[32];
    find_pl(pl, *n, IKE_PL_KE)->u.ke.data = (struct ike_view){zero, 32}; /* RFC 7748 6.1 */
}
static void t_ke_group_19(struct ike_payload *pl, size_t *n)
{
    static uint8_t p256[64];
    memset(p256, 7, sizeof(p256));
    find_pl(pl, *n, IKE_PL_KE)->u.ke = (struct ike_pl_ke){.group = 19, .data = {p256, 64}};
}

#define SYNTAX IKE_N_INVALID_SYNTAX
static const struct row rows[] = {
    /* Controls: the requests unbent are answered without error. */
    {"info_control", NULL, B_INFO, NULL, NULL, false, 0, false},
    {"info_empty", NULL, B_INFO, t_empty, NULL, false, 0, false},
    {"child_control", NULL, B_CHILD, NULL, NULL, false, 0, false},
    {"pfs_control", PFS, B_CHILD, NULL, NULL, false, 0, false},
    {"unknown_noncritical", NULL, B_INFO, t_unknown_noncritical, NULL, false, 0, false},
    {"ts_ports_opaque", NULL, B_CHILD, t_ts_ports_opaque, NULL, false, 0, false},
    /* The chain. */
    {"len_below_header", NULL, B_INFO, NULL, p_len_below_header, false, SYNTAX, true},
    {"len_overrun", NULL, B_INFO, NULL, p_len_overrun, false, SYNTAX, true},
    {"next_missing", NULL, B_INFO, NULL, p_next_missing, false, SYNTAX, true},
    {"trailing_octets", NULL, B_INFO, NULL, p_trailing, false, SYNTAX, true},
    {"content_without_first", NULL, B_INFO, NULL, p_no_first, false, SYNTAX, true},
    {"sk_inside_sk", NULL, B_INFO, NULL, p_sk_inside, false, SYNTAX, true},
    {"skf_inside_sk", NULL, B_INFO, NULL, p_skf_inside, false, SYNTAX, true},
    {"pad_length_overrun", NULL, B_INFO, NULL, NULL, true, SYNTAX, true},
    {"unknown_critical", NULL, B_INFO, t_unknown_critical, NULL, false,
     IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD, false},
    /* Notify, Delete, CP. */
    {"notify_spi_size_3", NULL, B_INFO, t_notify_spi_3, NULL, false, SYNTAX, true},
    {"notify_spi_overrun", NULL, B_INFO, t_notify_spi_4, p_notify_spi_overrun, false, SYNTAX, true},
    {"delete_esp_spi_8", NULL, B_INFO, t_delete_esp_spi_8, NULL, false, SYNTAX, true},
    {"delete_ike_spi_4", NULL, B_INFO, t_delete_ike_spi_4, NULL, false, SYNTAX, true},
    {"delete_count_overrun", NULL, B_INFO, t_delete_count_overrun, NULL, false, SYNTAX, true},
    {"cp_attr_overrun", NULL, B_INFO, t_cp, p_cp_attr_overrun, false, SYNTAX, true},
    /* CREATE_CHILD_SA for a Child SA. */
    {"nonce_empty", NULL, B_CHILD, t_nonce_empty, NULL, false, SYNTAX, true},
    {"nonce_8", NULL, B_CHILD, t_nonce_8, NULL, false, SYNTAX, true},
    {"nonce_missing", NULL, B_CHILD, t_no_nonce, NULL, false, SYNTAX, true},
    {"sa_missing", NULL, B_CHILD, t_no_sa, NULL, false, SYNTAX, true},
    {"tsr_missing", NULL, B_CHILD, t_no_tsr, NULL, false, SYNTAX, true},
    {"ts_none", NULL, B_CHILD, t_ts_none, NULL, false, SYNTAX, true},
    {"ts_count_overrun", NULL, B_CHILD, NULL, p_ts_count_overrun, false, SYNTAX, true},
    {"ts_length", NULL, B_CHILD, NULL, p_ts_length, false, SYNTAX, true},
    {"ts_unknown_type", NULL, B_CHILD, NULL, p_ts_type_9, false, IKE_N_TS_UNACCEPTABLE, false},
    {"ts_ports_reversed", NULL, B_CHILD, t_ts_ports_reversed, NULL, false, IKE_N_TS_UNACCEPTABLE,
     false},
    {"proposal_overrun", NULL, B_CHILD, NULL, p_proposal_overrun, false, SYNTAX, true},
    {"transform_overrun", NULL, B_CHILD, NULL, p_transform_overrun, false, SYNTAX, true},
    {"attribute_overrun", NULL, B_CHILD, NULL, p_attr_overrun, false, SYNTAX, true},
    {"proposal_number_2", NULL, B_CHILD, t_proposal_num_2, NULL, false, 0, false},
    {"esp_spi_8", NULL, B_CHILD, t_esp_spi_8, NULL, false, SYNTAX, true},
    {"protocol_unknown", NULL, B_CHILD, t_protocol_7, NULL, false, IKE_N_NO_PROPOSAL_CHOSEN, false},
    {"pfs_ke_short", PFS, B_CHILD, t_ke_short, NULL, false, SYNTAX, true},
    {"pfs_ke_missing", PFS, B_CHILD, t_no_ke, NULL, false, IKE_N_INVALID_KE_PAYLOAD, false},
    /* CREATE_CHILD_SA rekeying the IKE SA. */
    {"rekey_ke_missing", NULL, B_REKEY, t_no_ke, NULL, false, SYNTAX, true},
    {"rekey_ke_empty", NULL, B_REKEY, t_ke_empty, NULL, false, SYNTAX, true},
    {"rekey_ke_short", NULL, B_REKEY, t_ke_short, NULL, false, SYNTAX, true},
    {"rekey_ke_zero", NULL, B_REKEY, t_ke_zero, NULL, false, SYNTAX, true},
    {"rekey_ke_group", NULL, B_REKEY, t_ke_group_19, NULL, false, IKE_N_INVALID_KE_PAYLOAD, false},
    {"rekey_nonce_missing", NULL, B_REKEY, t_no_nonce, NULL, false, SYNTAX, true},
    {"rekey_spi_4", NULL, B_REKEY, t_ike_spi_4, NULL, false, SYNTAX, true},
    {"rekey_spi_0", NULL, B_REKEY, t_ike_spi_0, NULL, false, SYNTAX, true},
};
#undef SYNTAX

/* ---- unauthenticated input is never answered ---- */

/* 2.21.2, 2.21.4: a request whose ICV fails is dropped: no answer, the window stays. */
static void bad_icv_not_answered(void **s)
{
    (void)s;
    struct pair p = up(ESP);
    const struct row r = {"bad_icv", NULL, B_INFO, NULL, p_trailing, false, 0, false};
    uint8_t exchange;
    uint32_t msg_id;
    struct chain c;
    size_t len;
    build(&p, &r, &exchange, &c);
    uint8_t *msg = seal(&p, exchange, &c, false, &msg_id, &len);
    msg[len - 1] ^= 1;
    uint32_t window = h_only_sa(p.b)->peer_req_next;
    assert_int_equal(to_bob(&p, msg, len).npkts, 0);
    assert_int_equal(p.b->engine.stats.drops[IKE_DROP_ICV], 1);
    assert_int_equal(h_only_sa(p.b)->peer_req_next, window);
    assert_int_equal(h_only_sa(p.b)->state, IKE_SA_ESTABLISHED);
    free(msg);
    h_world_free(p.w);
}

/* 3.1: an IKE_SA_INIT request with a zero initiator SPI is dropped, counted, unanswered. */
static void zero_spi_init_dropped(void **s)
{
    (void)s;
    struct pair p = pair_new(ESP);
    assert_int_equal(ike_engine_initiate(&p.a->engine, "gw", NULL), 0);
    assert_int_equal(p.w->npkts, 1);
    struct h_pkt k = p.w->pkts[0];
    p.w->npkts = 0;
    memset(k.buf, 0, 8);
    ike_engine_recv(&p.b->engine, &k.dst, &k.src, k.buf, k.len);
    assert_int_equal(p.w->npkts, 0);
    assert_int_equal(p.b->engine.stats.drops[IKE_DROP_HEADER], 1);
    assert_null(h_only_sa(p.b));
    assert_int_equal(p.b->engine.nhalf_open, 0);
    free(k.buf);
    h_world_free(p.w);
}

/* RFC 7383: a request sent in fragments (SKF) is decoded once reassembled, after every
 * fragment's ICV verified; what does not parse then is answered as for SK. */
static void fragmented(bool bent)
{
    struct pair p = up(ESP);
    const struct row r = {"fragmented", NULL,  B_CHILD, bent ? t_nonce_8 : NULL,
                          NULL,         false, 0,       false};
    struct ike_sa *sa = h_only_sa(p.a);
    assert_true(h_only_sa(p.b)->ext & IKE_EXT_FRAGMENTATION);
    struct hk_arena a;
    struct ike_payload pl[8];
    size_t n;
    uint8_t exchange;
    hk_arena_init(&a, 1 << 16);
    make(&p, &r, &exchange, pl, &n, &a);
    struct ike_hdr h = {.version = 0x20,
                        .exchange = exchange,
                        .flags = IKE_FLAG_INITIATOR,
                        .msg_id = sa->req_next++};
    memcpy(h.spi_i, sa->spi_i, 8);
    memcpy(h.spi_r, sa->spi_r, 8);
    struct ike_frags f;
    assert_int_equal(ike_skf_seal(sa->sk_out, &h, pl, n, 100, &f), 0);
    hk_arena_free(&a);
    assert_true(f.n > 2);
    struct answer ans = {0};
    for (size_t i = 0; i < f.n; i++) {
        ans = to_bob(&p, f.msgs[i].buf, f.msgs[i].len);
        assert_int_equal(ans.npkts, i + 1 == f.n); /* answered once the last one is in */
    }
    assert_int_equal(p.b->engine.stats.reassembled, 1);
    assert_int_equal(ans.msg_id, h.msg_id);
    if (bent) {
        assert_int_equal(ans.notify, IKE_N_INVALID_SYNTAX);
        assert_null(h_only_sa(p.b));
        assert_int_equal(p.b->ike_down, 1);
    } else {
        assert_int_equal(ans.notify, 0);
        assert_int_equal(p.b->child_up, 2);
        /* RFC 7383 2.6.1: fragment 1 again brings the cached answer. */
        assert_int_equal(to_bob(&p, f.msgs[0].buf, f.msgs[0].len).npkts, 1);
        assert_int_equal(p.b->child_up, 2);
    }
    ike_frags_free(&f);
    h_world_free(p.w);
}

static void fragmented_control(void **s)
{
    (void)s;
    fragmented(false);
}

static void fragmented_nonce_8(void **s)
{
    (void)s;
    fragmented(true);
}

/* ---- both engines: what the initiator does with the answers ---- */

/* Rewrites protected messages in flight: re-sealed with the sender's keys after edit()
 * changed their plaintext chain. */
struct rewrite {
    struct pair *p;
    uint8_t exchange;
    bool response;
    void (*edit)(struct chain *c);
    int done;
    uint16_t answer;      /* the first notify of the answer to the rewritten message */
    int info_deletes_ike; /* INFORMATIONAL requests with D(IKE) seen */
    int info_with_syntax; /* ... with N(INVALID_SYNTAX) */
};

static bool rewrite_filter(struct h_world *w, struct h_pkt *k, void *arg)
{
    (void)w;
    struct rewrite *rw = arg;
    if (k->len <= IKE_HDR_LEN)
        return true;
    bool from_a = k->from == rw->p->a->idx, response = k->buf[19] & IKE_FLAG_RESPONSE;
    struct ike_sa *reader = h_only_sa(from_a ? rw->p->b : rw->p->a);
    struct ike_sa *writer = h_only_sa(from_a ? rw->p->a : rw->p->b);
    if (!reader || !reader->sk_in || k->buf[18] == IKE_SA_INIT)
        return true;
    struct hk_arena a;
    struct ike_msg m;
    struct hk_diag d = {0};
    struct ike_view inner;
    uint8_t *copy = malloc(k->len);
    memcpy(copy, k->buf, k->len);
    hk_arena_init(&a, 1 << 16);
    if (ike_msg_decode(copy, k->len, &m, &a, &d) ||
        ike_sk_decrypt(reader->sk_in, copy, k->len, &m, &inner, &d))
        goto out;
    struct chain c = {.first = m.payloads[m.npayloads - 1].u.sk.first_inner};
    memcpy(c.b, inner.p, inner.len);
    c.n = inner.len;
    if (ike_payloads_decode(c.first, c.b, c.n, &m, &a, &d) == 0) {
        for (size_t i = 1; i < m.npayloads; i++) {
            const struct ike_payload *pl = &m.payloads[i];
            if (response && rw->done == 1 && !rw->answer && pl->type == IKE_PL_NOTIFY)
                rw->answer = pl->u.notify.type;
            if (!response && m.hdr.exchange == IKE_INFORMATIONAL && pl->type == IKE_PL_DELETE &&
                pl->u.del.protocol == IKE_PROTO_IKE)
                rw->info_deletes_ike++;
            if (!response && m.hdr.exchange == IKE_INFORMATIONAL && pl->type == IKE_PL_NOTIFY &&
                pl->u.notify.type == IKE_N_INVALID_SYNTAX)
                rw->info_with_syntax++;
        }
        if (response && rw->done == 1)
            rw->done = 2;
    }
    if (m.hdr.exchange != rw->exchange || response != rw->response || rw->done || !writer)
        goto out;
    rw->done = 1;
    rw->edit(&c);
    uint8_t plain[1100];
    size_t block = hk_sk_cipher_block_len(writer->sk_out), n = c.n;
    size_t pad = block > 1 ? (block - (n + 1) % block) % block : 0;
    memcpy(plain, c.b, n);
    memset(plain + n, 0, pad);
    n += pad;
    plain[n++] = (uint8_t)pad;
    struct hk_cbb out;
    hk_cbb_init(&out, 0, 0);
    assert_int_equal(ike_sk_seal_raw(writer->sk_out, &m.hdr, c.first, plain, n, &out), 0);
    free(k->buf);
    k->buf = hk_cbb_detach(&out, &k->len);
out:
    hk_arena_free(&a);
    free(copy);
    return true;
}

/* Takes payload `type` out of a chain, keeping the chaining right. */
static void remove_payload(struct chain *c, uint8_t type)
{
    size_t off = 0, prev_next = SIZE_MAX; /* where the Next Payload naming this one is */
    uint8_t cur = c->first;
    while (cur != IKE_PL_NONE) {
        size_t len = (size_t)(c->b[off + 2] << 8 | c->b[off + 3]);
        if (cur == type) {
            uint8_t next = c->b[off];
            if (prev_next == SIZE_MAX)
                c->first = next;
            else
                c->b[prev_next] = next;
            memmove(c->b + off, c->b + off + len, c->n - off - len);
            c->n -= len;
            return;
        }
        prev_next = off;
        cur = c->b[off];
        off += len;
    }
    fail_msg("no payload %u in the chain", type);
}

static void e_no_nonce(struct chain *c)
{
    remove_payload(c, IKE_PL_NONCE);
}

static void e_trailing(struct chain *c)
{
    append(c, (const uint8_t[]){0, 0, 0, 0}, 4);
}

static void e_unknown_critical(struct chain *c)
{
    c->b[last(c)] = 200;
    append(c, (const uint8_t[]){0, IKE_PL_CRITICAL, 0, 4}, 4);
}

static void e_ke_short(struct chain *c)
{
    /* The KE payload of an IKE rekey response: one octet of its data goes. */
    size_t off = 0;
    uint8_t cur = c->first;
    while (cur != IKE_PL_KE) {
        cur = c->b[off];
        off += (size_t)(c->b[off + 2] << 8 | c->b[off + 3]);
    }
    size_t len = (size_t)(c->b[off + 2] << 8 | c->b[off + 3]);
    put16(c->b + off + 2, (uint16_t)(len - 1));
    memmove(c->b + off + len - 1, c->b + off + len, c->n - off - len);
    c->n--;
}

/* 2.21.3 both ways: Alice's Child SA rekey reaches Bob without its Nonce; Bob answers
 * INVALID_SYNTAX and deletes the IKE SA, Alice deletes hers on that answer. */
static void invalid_syntax_answer_ends_both(void **s)
{
    (void)s;
    struct pair p = up(ESP);
    struct rewrite rw = {.p = &p, .exchange = IKE_CREATE_CHILD_SA, .edit = e_no_nonce};
    p.w->filter = rewrite_filter;
    p.w->filter_arg = &rw;
    assert_int_equal(ike_engine_rekey_child(&p.a->engine, h_only_child(p.a)->id), 0);
    h_settle(p.w, p.w->now + 60000);
    assert_int_equal(rw.done, 2);
    assert_int_equal(rw.answer, IKE_N_INVALID_SYNTAX);
    assert_null(h_only_sa(p.a));
    assert_null(h_only_sa(p.b));
    assert_int_equal(p.a->ike_down, 1);
    assert_int_equal(p.b->ike_down, 1);
    assert_int_equal(rw.info_deletes_ike, 0); /* no Delete needed */
    assert_int_equal(p.a->engine.stats.retransmits, 0);
    h_world_free(p.w);
}

/* 2.21: a response that does not parse is not answered, but Alice cannot finish the
 * exchange: she closes the IKE SA with a Delete, and Bob, who believed it up, lets go. */
static void malformed_response_closes_with_delete(void **s)
{
    (void)s;
    struct pair p = up(ESP);
    struct rewrite rw = {
        .p = &p, .exchange = IKE_CREATE_CHILD_SA, .response = true, .edit = e_trailing};
    p.w->filter = rewrite_filter;
    p.w->filter_arg = &rw;
    assert_int_equal(ike_engine_rekey_child(&p.a->engine, h_only_child(p.a)->id), 0);
    h_settle(p.w, p.w->now + 60000);
    assert_int_not_equal(rw.done, 0);
    assert_int_equal(p.a->engine.stats.drops[IKE_DROP_DECODE], 1);
    assert_int_equal(rw.info_deletes_ike, 1);
    assert_int_equal(rw.info_with_syntax, 0); /* 2.21.3: no error notify in a request */
    assert_null(h_only_sa(p.a));
    assert_null(h_only_sa(p.b));
    assert_int_equal(p.a->ike_down, 1);
    assert_int_equal(p.b->ike_down, 1);
    assert_int_equal(p.a->engine.stats.retransmits, 0);
    h_world_free(p.w);
}

/* Holds back the first message of an exchange, one direction, for a test to bend. */
struct capture {
    uint8_t exchange;
    bool response;
    struct h_pkt pkt;
};

static bool capture_filter(struct h_world *w, struct h_pkt *k, void *arg)
{
    (void)w;
    struct capture *cap = arg;
    if (cap->pkt.buf || k->len <= IKE_HDR_LEN || k->buf[18] != cap->exchange ||
        !(k->buf[19] & IKE_FLAG_RESPONSE) != !cap->response)
        return true;
    cap->pkt = *k;
    cap->pkt.buf = malloc(k->len);
    memcpy(cap->pkt.buf, k->buf, k->len);
    return false;
}

/* RFC 6989 2: an invalid KE value in the IKE rekey response: Alice deletes the IKE SA with
 * a Delete of her own at once. */
static void rekey_response_bad_ke(void **s)
{
    (void)s;
    struct pair p = up(ESP);
    struct capture cap = {.exchange = IKE_CREATE_CHILD_SA, .response = true};
    uint64_t old_a = h_only_sa(p.a)->id, old_b = h_only_sa(p.b)->id;
    p.w->filter = capture_filter;
    p.w->filter_arg = &cap;
    assert_int_equal(ike_engine_rekey(&p.a->engine, h_only_sa(p.a)->id), 0);
    h_run(p.w);
    assert_non_null(cap.pkt.buf);
    p.w->filter = NULL;
    uint64_t new_a = ike_engine_sa(&p.a->engine, old_a)->xchg.new_sa_id;
    /* Bob made his new SA and answered under the old one's keys: bend the KE there. */
    struct ike_sa *sa_b = ike_engine_sa(&p.b->engine, old_b);
    assert_non_null(sa_b);
    struct h_pkt *k = &cap.pkt;
    struct hk_arena a;
    struct ike_msg m;
    struct hk_diag d = {0};
    struct ike_view inner;
    uint8_t *copy = malloc(k->len);
    memcpy(copy, k->buf, k->len);
    hk_arena_init(&a, 1 << 16);
    assert_int_equal(ike_msg_decode(copy, k->len, &m, &a, &d), 0);
    assert_int_equal(
        ike_sk_decrypt(ike_engine_sa(&p.a->engine, old_a)->sk_in, copy, k->len, &m, &inner, &d), 0);
    struct chain c = {.first = m.payloads[m.npayloads - 1].u.sk.first_inner};
    memcpy(c.b, inner.p, inner.len);
    c.n = inner.len;
    e_ke_short(&c);
    uint8_t plain[1100];
    memcpy(plain, c.b, c.n);
    assert_int_equal(hk_sk_cipher_block_len(sa_b->sk_out), 1); /* GCM: no padding */
    plain[c.n] = 0;
    struct hk_cbb out;
    hk_cbb_init(&out, 0, 0);
    assert_int_equal(ike_sk_seal_raw(sa_b->sk_out, &m.hdr, c.first, plain, c.n + 1, &out), 0);
    size_t len;
    uint8_t *bent = hk_cbb_detach(&out, &len);
    hk_arena_free(&a);
    free(copy);
    ike_engine_recv(&p.a->engine, &k->dst, &k->src, bent, len);
    free(bent);
    free(k->buf);
    /* Her new SA is gone at once, the old one waits for the answer to her Delete. */
    assert_int_not_equal(new_a, 0);
    assert_null(ike_engine_sa(&p.a->engine, new_a));
    assert_int_equal(ike_engine_sa(&p.a->engine, old_a)->state, IKE_SA_DELETING);
    h_settle(p.w, p.w->now + 60000);
    /* Alice: no IKE SA, the new one never made; Bob: the old SA deleted by her Delete. His
     * new one cannot be told from a rekey that worked (1.3.2 ends with the same Delete): it
     * stays until his liveness checks or lifetime end it. */
    assert_null(h_only_sa(p.a));
    assert_null(ike_engine_sa(&p.b->engine, old_b));
    assert_int_equal(p.a->ike_up, 1);
    assert_int_equal(p.a->ike_down, 1);
    assert_int_equal(p.a->engine.stats.retransmits, 0);
    h_world_free(p.w);
}

/* 2.21.2: an IKE_AUTH request that does not parse gets INVALID_SYNTAX; no IKE SA on
 * either side, Bob's half-open count back to 0. */
static void ike_auth_malformed(void **s)
{
    (void)s;
    struct pair p = pair_new(ESP);
    struct rewrite rw = {.p = &p, .exchange = IKE_AUTH, .edit = e_trailing};
    p.w->filter = rewrite_filter;
    p.w->filter_arg = &rw;
    assert_int_equal(ike_engine_initiate(&p.a->engine, "gw", NULL), 0);
    h_run(p.w); /* no time passes: Bob lets go at once, not when the half-open SA expires */
    assert_int_equal(rw.answer, IKE_N_INVALID_SYNTAX);
    assert_null(h_only_sa(p.a));
    assert_null(h_only_sa(p.b));
    assert_int_equal(p.a->ike_up + p.b->ike_up, 0);
    assert_int_equal(p.a->ike_failed, 1);
    assert_int_equal(p.b->ike_failed, 1);
    assert_int_equal(p.b->engine.nhalf_open, 0);
    assert_int_equal(p.a->engine.stats.retransmits, 0);
    h_world_free(p.w);
}

/* 2.21.2: an unknown critical payload in IKE_AUTH: UNSUPPORTED_CRITICAL_PAYLOAD, and the
 * IKE SA is not created on either side. */
static void ike_auth_unsupported_critical(void **s)
{
    (void)s;
    struct pair p = pair_new(ESP);
    struct rewrite rw = {.p = &p, .exchange = IKE_AUTH, .edit = e_unknown_critical};
    p.w->filter = rewrite_filter;
    p.w->filter_arg = &rw;
    assert_int_equal(ike_engine_initiate(&p.a->engine, "gw", NULL), 0);
    h_run(p.w); /* no time passes: Bob lets go at once, not when the half-open SA expires */
    assert_int_equal(rw.answer, IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD);
    assert_null(h_only_sa(p.a));
    assert_null(h_only_sa(p.b));
    assert_int_equal(p.a->ike_up + p.b->ike_up, 0);
    assert_int_equal(p.b->engine.nhalf_open, 0);
    h_world_free(p.w);
}

int main(void)
{
    enum { NROWS = sizeof(rows) / sizeof(rows[0]) };
    struct CMUnitTest tests[NROWS + 9];
    size_t n = 0;
    for (size_t i = 0; i < NROWS; i++)
        tests[n++] = (struct CMUnitTest){
            .name = rows[i].name, .test_func = run_row, .initial_state = (void *)&rows[i]};
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(bad_icv_not_answered);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(zero_spi_init_dropped);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(fragmented_control);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(fragmented_nonce_8);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(invalid_syntax_answer_ends_both);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(malformed_response_closes_with_delete);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(rekey_response_bad_ke);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(ike_auth_malformed);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test(ike_auth_unsupported_critical);
    return _cmocka_run_group_tests("sk_errors", tests, n, NULL, NULL);
}
