/*
 * SA contexts (src/ctx, docs/context.md): every parameter through the encoding and back in
 * each key mode, the levels (a missing mandatory parameter named, a missing optional one
 * accepted, unknown vendor and optional keys skipped, an unknown mandatory key refused), and
 * hostile inputs (truncated, oversized, bit-flipped, indefinite, duplicate keys, trailing
 * octets, wrong types). Contexts are edited as CBOR trees with libcbor.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cbor.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/err.h"
#include "crypto/alg.h"
#include "crypto/crypto.h"
#include "crypto/ke.h"
#include "crypto/kdf.h"
#include "ctx/ctx.h"

/* Linked with -Wl,--wrap=hk_secret_free (CMakeLists.txt): every secret freed is recorded. */
void __real_hk_secret_free(struct hk_secret **s);
static const void *freed[256];
static size_t nfreed;
void __wrap_hk_secret_free(struct hk_secret **s)
{
    if (s && *s && nfreed < sizeof(freed) / sizeof(freed[0]))
        freed[nfreed++] = *s;
    __real_hk_secret_free(s);
}

/* ---------------------------------------------------------------- filling */

static uint8_t fill_seed;
static void fill(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(++fill_seed * 7 + 1);
}
static struct hk_secret *secret(size_t n)
{
    struct hk_secret *s = hk_secret_new(n);
    assert_non_null(s);
    fill(s->data, n);
    return s;
}
static void bytes(struct hk_ctx_bytes *b, size_t n)
{
    uint8_t tmp[HK_CTX_MAX_KE_LEN];
    assert_true(n <= sizeof(tmp));
    fill(tmp, n);
    assert_int_equal(hk_ctx_bytes_set(b, tmp, n), HK_OK);
}
static void addr(struct hk_ctx_addr *a, bool v6, uint16_t port)
{
    memset(a, 0, sizeof(*a));
    a->af = v6 ? AF_INET6 : AF_INET;
    fill(a->addr, v6 ? 16 : 4);
    a->port = port;
}

static void fill_child(struct hk_ctx_child *c, bool aead, bool small)
{
    static uint32_t n;
    n++;
    addr(&c->local, false, 4500);
    addr(&c->remote, false, (uint16_t)(4501 + n));
    c->udp_encap = true;
    c->spi_in = 0xc0010000u + n;
    c->spi_out = 0xd0020000u + n;
    c->protocol = 3;
    c->transport = n % 2;
    c->ipcomp = true;
    c->cpi_in = (uint16_t)(0x4000 + n);
    c->cpi_out = (uint16_t)(0x5000 + n);
    c->ipcomp_alg = 2;
    c->esp.esn = true;
    c->esp.seq_out = 0x100000000ull + 77 * n;
    c->esp.replay_window = small ? 64 : 256;
    c->esp.replay_top = 0x200000000ull + 5 * n;
    for (size_t i = 0; i < c->esp.replay_window / 64; i++)
        c->esp.replay_bits[i] = 0x0123456789abcdefull * (i + n);
    c->esp.bytes_in = 1001 + n;
    c->esp.packets_in = 11 + n;
    c->esp.bytes_out = 2002 + n;
    c->esp.packets_out = 22 + n;
    c->esp.soft_in = true;
    c->esp.hard_out = true;
    c->seq_no_rollover = true;
    c->soft_bytes = 1u << 20;
    c->hard_bytes = 1u << 21;
    c->soft_packets = 1000;
    c->hard_packets = 2000;
    c->rekey_in_ms = 3000 + n;
    c->expire_in_ms = 4000 + n;
    c->path_mtu = 1400 + n;
    c->nts_local = small ? 1 : 2;
    c->nts_remote = small ? 1 : 3;
    for (size_t i = 0; i < HK_CTX_MAX_TS; i++) {
        struct ike_ts *t[2] = {&c->ts_local[i], &c->ts_remote[i]};
        for (int j = 0; j < 2; j++) {
            bool v6 = (i + j) % 2;
            t[j]->type = v6 ? IKE_TS_IPV6_ADDR_RANGE : IKE_TS_IPV4_ADDR_RANGE;
            t[j]->ip_proto = (uint8_t)(6 + i + j);
            t[j]->start_port = (uint16_t)(100 + i);
            t[j]->end_port = (uint16_t)(200 + j);
            fill(t[j]->start_addr, v6 ? 16 : 4);
            fill(t[j]->end_addr, v6 ? 16 : 4);
        }
    }
    c->alg.encr = aead ? HK_ENCR_AES_GCM_16 : HK_ENCR_AES_CBC;
    c->alg.encr_key_bits = aead ? 256 : 128;
    c->alg.integ = aead ? 0 : HK_AUTH_HMAC_SHA2_256_128;
    c->alg.integ_key_bits = aead ? 0 : 256;
    c->alg.ke = aead ? 0 : 31;
    c->initiator = n % 2;
    size_t ek = hk_encr_key_len(c->alg.encr, c->alg.encr_key_bits);
    size_t ik = hk_integ_key_len(c->alg.integ);
    c->encr_ir = secret(ek);
    c->encr_ri = secret(ek);
    if (ik) {
        c->integ_ir = secret(ik);
        c->integ_ri = secret(ik);
    }
    snprintf(c->name, sizeof(c->name), "child-%u", n);
    c->has_age = true;
    c->age_ms = 555 + n;
    c->has_flow_id = true;
    c->flow_id = 9 + n;
}

/* Every parameter set, with the keys of the given mode. small: one child, little else (for
 * the every-bit test). */
static void fill_ike(struct hk_ctx_ike *c, uint8_t mode, bool small)
{
    memset(c, 0, sizeof(*c));
    c->version = 2;
    c->initiator = true;
    addr(&c->local, false, 500);
    addr(&c->remote, true, 4500);
    fill(c->spi_i, 8);
    fill(c->spi_r, 8);
    c->req_next = 7;
    c->peer_req_next = 9;
    c->window = 1;
    c->alg = (struct hk_ctx_alg){.encr = HK_ENCR_AES_CBC,
                                 .encr_key_bits = 256,
                                 .integ = HK_AUTH_HMAC_SHA2_256_128,
                                 .integ_key_bits = 256,
                                 .prf = HK_PRF_HMAC_SHA2_256,
                                 .ke = 31};
    struct hk_ctx_ike_keys *k = &c->keys;
    k->mode = mode;
    bytes(&k->ni, 32);
    bytes(&k->nr, 48);
    if (mode == HK_CTX_KEYS_DH) {
        k->dh_private = secret(32);
        bytes(&k->peer_ke, 32);
    } else if (mode == HK_CTX_KEYS_SKEYSEED) {
        k->skeyseed = secret(32);
    } else {
        k->sk_d = secret(32);
        k->sk_ai = secret(32);
        k->sk_ar = secret(32);
        k->sk_ei = secret(32);
        k->sk_er = secret(32);
        k->sk_pi = secret(32);
        k->sk_pr = secret(32);
    }
    c->ext = HK_CTX_EXT_MOBIKE | HK_CTX_EXT_FRAGMENTATION | HK_CTX_EXT_MSGID_SYNC |
             HK_CTX_EXT_CHILDLESS | HK_CTX_EXT_CLONE;
    c->nat_local = true;
    c->nat_remote = false;
    c->local_id.type = 2;
    bytes(&c->local_id.data, 11);
    c->peer_id.type = 3;
    bytes(&c->peer_id.data, 17);
    c->local_auth = 2;
    c->peer_auth = 14;
    snprintf(c->conn, sizeof(c->conn), "roadwarriors");
    size_t nch = small ? 1 : 3;
    for (size_t i = 0; i < nch; i++)
        fill_child(hk_ctx_add_child(c), i % 2 == 0, small);
    if (small)
        return;
    c->resp.msg_id = 8;
    c->resp.exchange = 37;
    c->resp.req_len = 333;
    fill(c->resp.req_tail, sizeof(c->resp.req_tail));
    c->resp.npkts = 2;
    c->resp.pkts = calloc(2, sizeof(*c->resp.pkts));
    assert_non_null(c->resp.pkts);
    bytes(&c->resp.pkts[0], 300);
    bytes(&c->resp.pkts[1], 120);
    c->has_life = true;
    c->life = (struct hk_ctx_ike_life){
        .age_ms = 123456, .rekey_in_ms = 1000, .reauth_in_ms = 2000, .expire_in_ms = 3000};
    c->nvids = 2;
    c->vids = calloc(2, sizeof(*c->vids));
    assert_non_null(c->vids);
    bytes(&c->vids[0], 16);
    bytes(&c->vids[1], 20);
    c->naddrs = 3;
    for (size_t i = 0; i < 3; i++)
        addr(&c->addrs[i], i == 1, 0);
    c->nvips = 2;
    addr(&c->vips[0].addr, false, 0);
    snprintf(c->vips[0].pool, sizeof(c->vips[0].pool), "pool4");
    addr(&c->vips[1].addr, true, 0);
    snprintf(c->vips[1].pool, sizeof(c->vips[1].pool), "pool6");
    c->has_dpd = true;
    c->last_in_age_ms = 4321;
    c->has_clone_family = true;
    c->clone_family = 0xfeedfacecafebeefull;
    c->childless_offered = true;
}

/* ---------------------------------------------------------------- comparing */

static void same_bytes(const struct hk_ctx_bytes *a, const struct hk_ctx_bytes *b, const char *n)
{
    if (a->len != b->len || (a->len && memcmp(a->p, b->p, a->len) != 0))
        fail_msg("%s differs", n);
}
static void same_secret(const struct hk_secret *a, const struct hk_secret *b, const char *n)
{
    if (!a != !b || (a && (a->len != b->len || memcmp(a->data, b->data, a->len) != 0)))
        fail_msg("%s differs", n);
}
static void same_addr(const struct hk_ctx_addr *a, const struct hk_ctx_addr *b, const char *n)
{
    if (a->af != b->af || a->port != b->port || memcmp(a->addr, b->addr, 16) != 0)
        fail_msg("%s differs", n);
}
#define SAME(a, b, f)                                                                              \
    do {                                                                                           \
        if ((a)->f != (b)->f)                                                                      \
            fail_msg(#f " differs: %llu != %llu", (unsigned long long)(a)->f,                      \
                     (unsigned long long)(b)->f);                                                  \
    } while (0)

static void same_alg(const struct hk_ctx_alg *a, const struct hk_ctx_alg *b)
{
    SAME(a, b, encr);
    SAME(a, b, encr_key_bits);
    SAME(a, b, integ);
    SAME(a, b, integ_key_bits);
    SAME(a, b, prf);
    SAME(a, b, ke);
}

static void same_child(const struct hk_ctx_child *a, const struct hk_ctx_child *b)
{
    same_addr(&a->local, &b->local, "child.local");
    same_addr(&a->remote, &b->remote, "child.remote");
    SAME(a, b, udp_encap);
    SAME(a, b, spi_in);
    SAME(a, b, spi_out);
    SAME(a, b, protocol);
    SAME(a, b, transport);
    SAME(a, b, ipcomp);
    SAME(a, b, cpi_in);
    SAME(a, b, cpi_out);
    SAME(a, b, ipcomp_alg);
    SAME(a, b, esp.esn);
    SAME(a, b, esp.seq_out);
    SAME(a, b, esp.replay_top);
    SAME(a, b, esp.replay_window);
    assert_memory_equal(a->esp.replay_bits, b->esp.replay_bits, sizeof(a->esp.replay_bits));
    SAME(a, b, esp.bytes_in);
    SAME(a, b, esp.packets_in);
    SAME(a, b, esp.bytes_out);
    SAME(a, b, esp.packets_out);
    SAME(a, b, esp.soft_in);
    SAME(a, b, esp.hard_in);
    SAME(a, b, esp.soft_out);
    SAME(a, b, esp.hard_out);
    SAME(a, b, seq_no_rollover);
    SAME(a, b, soft_bytes);
    SAME(a, b, hard_bytes);
    SAME(a, b, soft_packets);
    SAME(a, b, hard_packets);
    SAME(a, b, rekey_in_ms);
    SAME(a, b, expire_in_ms);
    SAME(a, b, path_mtu);
    SAME(a, b, nts_local);
    SAME(a, b, nts_remote);
    assert_memory_equal(a->ts_local, b->ts_local, a->nts_local * sizeof(struct ike_ts));
    assert_memory_equal(a->ts_remote, b->ts_remote, a->nts_remote * sizeof(struct ike_ts));
    same_alg(&a->alg, &b->alg);
    SAME(a, b, initiator);
    same_secret(a->encr_ir, b->encr_ir, "encr_ir");
    same_secret(a->integ_ir, b->integ_ir, "integ_ir");
    same_secret(a->encr_ri, b->encr_ri, "encr_ri");
    same_secret(a->integ_ri, b->integ_ri, "integ_ri");
    assert_string_equal(a->name, b->name);
    SAME(a, b, has_age);
    SAME(a, b, age_ms);
    SAME(a, b, has_flow_id);
    SAME(a, b, flow_id);
}

static void same_ike(const struct hk_ctx_ike *a, const struct hk_ctx_ike *b)
{
    SAME(a, b, version);
    SAME(a, b, initiator);
    same_addr(&a->local, &b->local, "local");
    same_addr(&a->remote, &b->remote, "remote");
    assert_memory_equal(a->spi_i, b->spi_i, 8);
    assert_memory_equal(a->spi_r, b->spi_r, 8);
    SAME(a, b, req_next);
    SAME(a, b, peer_req_next);
    SAME(a, b, window);
    same_alg(&a->alg, &b->alg);
    SAME(a, b, keys.mode);
    same_bytes(&a->keys.ni, &b->keys.ni, "ni");
    same_bytes(&a->keys.nr, &b->keys.nr, "nr");
    same_secret(a->keys.dh_private, b->keys.dh_private, "dh_private");
    same_bytes(&a->keys.peer_ke, &b->keys.peer_ke, "peer_ke");
    same_secret(a->keys.skeyseed, b->keys.skeyseed, "skeyseed");
    same_secret(a->keys.sk_d, b->keys.sk_d, "sk_d");
    same_secret(a->keys.sk_ai, b->keys.sk_ai, "sk_ai");
    same_secret(a->keys.sk_ar, b->keys.sk_ar, "sk_ar");
    same_secret(a->keys.sk_ei, b->keys.sk_ei, "sk_ei");
    same_secret(a->keys.sk_er, b->keys.sk_er, "sk_er");
    same_secret(a->keys.sk_pi, b->keys.sk_pi, "sk_pi");
    same_secret(a->keys.sk_pr, b->keys.sk_pr, "sk_pr");
    SAME(a, b, ext);
    SAME(a, b, nat_local);
    SAME(a, b, nat_remote);
    SAME(a, b, local_id.type);
    same_bytes(&a->local_id.data, &b->local_id.data, "local_id");
    SAME(a, b, peer_id.type);
    same_bytes(&a->peer_id.data, &b->peer_id.data, "peer_id");
    SAME(a, b, local_auth);
    SAME(a, b, peer_auth);
    assert_string_equal(a->conn, b->conn);
    SAME(a, b, nchildren);
    for (size_t i = 0; i < a->nchildren; i++)
        same_child(&a->children[i], &b->children[i]);
    SAME(a, b, resp.msg_id);
    SAME(a, b, resp.exchange);
    SAME(a, b, resp.req_len);
    assert_memory_equal(a->resp.req_tail, b->resp.req_tail, HK_CTX_REQ_TAIL);
    SAME(a, b, resp.npkts);
    for (size_t i = 0; i < a->resp.npkts; i++)
        same_bytes(&a->resp.pkts[i], &b->resp.pkts[i], "resp.pkts");
    SAME(a, b, has_life);
    SAME(a, b, life.age_ms);
    SAME(a, b, life.rekey_in_ms);
    SAME(a, b, life.reauth_in_ms);
    SAME(a, b, life.expire_in_ms);
    SAME(a, b, nvids);
    for (size_t i = 0; i < a->nvids; i++)
        same_bytes(&a->vids[i], &b->vids[i], "vids");
    SAME(a, b, naddrs);
    for (size_t i = 0; i < a->naddrs; i++)
        same_addr(&a->addrs[i], &b->addrs[i], "mobike_addrs");
    SAME(a, b, nvips);
    for (size_t i = 0; i < a->nvips; i++) {
        same_addr(&a->vips[i].addr, &b->vips[i].addr, "vips");
        assert_string_equal(a->vips[i].pool, b->vips[i].pool);
    }
    SAME(a, b, has_dpd);
    SAME(a, b, last_in_age_ms);
    SAME(a, b, has_clone_family);
    SAME(a, b, clone_family);
    SAME(a, b, childless_offered);
}

/* ---------------------------------------------------------------- helpers */

static struct hk_secret *encode(const struct hk_ctx_ike *c)
{
    struct hk_secret *out = NULL;
    struct hk_diag d = {0};
    int rc = hk_ctx_encode(c, &out, &d);
    if (rc != HK_OK)
        fail_msg("encode: %d %s", rc, hk_diag_msg(&d));
    return out;
}

/* Decodes and expects rc; on an error, that diag holds want. */
static void decode_expect(const uint8_t *p, size_t n, int rc, const char *want)
{
    struct hk_ctx_ike c;
    struct hk_diag d = {0};
    int got = hk_ctx_decode(p, n, &c, &d);
    if (got != rc || (want && !strstr(hk_diag_msg(&d), want)))
        fail_msg("decode: %d (want %d), \"%s\" (want \"%s\")", got, rc, hk_diag_msg(&d),
                 want ? want : "");
    if (got == HK_OK)
        hk_ctx_ike_free(&c);
}

static void roundtrip(uint8_t mode, bool pi)
{
    struct hk_ctx_ike a, b;
    fill_ike(&a, mode, false);
    if (!pi) {
        hk_secret_free(&a.keys.sk_pi);
        hk_secret_free(&a.keys.sk_pr);
    }
    struct hk_secret *enc = encode(&a);
    struct hk_diag d = {0};
    assert_int_equal(hk_ctx_decode(enc->data, enc->len, &b, &d), HK_OK);
    same_ike(&a, &b);
    /* And the decoded one encodes to the same octets. */
    struct hk_secret *again = encode(&b);
    assert_int_equal(again->len, enc->len);
    assert_memory_equal(again->data, enc->data, enc->len);
    hk_secret_free(&again);
    hk_secret_free(&enc);
    hk_ctx_ike_free(&a);
    hk_ctx_ike_free(&b);
}

static void roundtrip_dh(void **state)
{
    (void)state;
    roundtrip(HK_CTX_KEYS_DH, false);
}
static void roundtrip_skeyseed(void **state)
{
    (void)state;
    roundtrip(HK_CTX_KEYS_SKEYSEED, false);
}
static void roundtrip_sk(void **state)
{
    (void)state;
    roundtrip(HK_CTX_KEYS_SK, true);
    roundtrip(HK_CTX_KEYS_SK, false); /* SK_pi/SK_pr are optional */
}

/* Where an edit applies. */
enum at { AT_TOP, AT_KEYS, AT_CHILD0 };
#define KEY_KEYS     12
#define KEY_CHILDREN 21

static cbor_item_t *map_get(cbor_item_t *map, uint64_t key)
{
    struct cbor_pair *h = cbor_map_handle(map);
    for (size_t i = 0; i < cbor_map_size(map); i++)
        if (cbor_isa_uint(h[i].key) && cbor_get_int(h[i].key) == key)
            return h[i].value;
    return NULL;
}

static int pair_cmp(const void *x, const void *y)
{
    uint64_t a = cbor_get_int(((const struct cbor_pair *)x)->key);
    uint64_t b = cbor_get_int(((const struct cbor_pair *)y)->key);
    return a < b ? -1 : a > b;
}

/* A copy of map without drop (if not ~0) and with (add, val) if val, keys sorted. */
static cbor_item_t *map_edit(cbor_item_t *map, uint64_t drop, uint64_t add, cbor_item_t *val)
{
    size_t n = cbor_map_size(map);
    struct cbor_pair *h = cbor_map_handle(map), *p = calloc(n + 1, sizeof(*p));
    size_t m = 0;
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        if (cbor_get_int(h[i].key) != drop)
            p[m++] = h[i];
    cbor_item_t *k = NULL;
    if (val) {
        k = cbor_build_uint64(add);
        p[m++] = (struct cbor_pair){k, val};
    }
    qsort(p, m, sizeof(*p), pair_cmp);
    cbor_item_t *out = cbor_new_definite_map(m);
    for (size_t i = 0; i < m; i++)
        assert_true(cbor_map_add(out, p[i]));
    if (k)
        cbor_decref(&k);
    free(p);
    return out;
}

/* Encodes c, applies the edit at `at`, and returns the new octets (malloc). */
static uint8_t *edited(const struct hk_ctx_ike *c, enum at at, uint64_t drop, uint64_t add,
                       cbor_item_t *val, size_t *len)
{
    struct hk_secret *enc = encode(c);
    struct cbor_load_result res;
    cbor_item_t *root = cbor_load(enc->data, enc->len, &res);
    assert_non_null(root);
    hk_secret_free(&enc);
    if (at == AT_TOP) {
        cbor_item_t *n = map_edit(root, drop, add, val);
        cbor_decref(&root);
        root = n;
    } else if (at == AT_KEYS) {
        struct cbor_pair *h = cbor_map_handle(root);
        for (size_t i = 0; i < cbor_map_size(root); i++) {
            if (cbor_get_int(h[i].key) == KEY_KEYS) {
                cbor_item_t *n = map_edit(h[i].value, drop, add, val);
                cbor_decref(&h[i].value);
                h[i].value = n;
            }
        }
    } else {
        cbor_item_t *arr = map_get(root, KEY_CHILDREN);
        cbor_item_t *ch = cbor_array_get(arr, 0);
        cbor_item_t *n = map_edit(ch, drop, add, val);
        cbor_decref(&ch);
        assert_true(cbor_array_set(arr, 0, n));
        cbor_decref(&n);
    }
    if (val)
        cbor_decref(&val);
    unsigned char *buf = NULL;
    size_t cap = 0;
    *len = cbor_serialize_alloc(root, &buf, &cap);
    assert_true(*len > 0);
    cbor_decref(&root);
    return buf;
}

static void expect_edit(const struct hk_ctx_ike *c, enum at at, uint64_t drop, uint64_t add,
                        cbor_item_t *val, int rc, const char *want)
{
    size_t len;
    uint8_t *p = edited(c, at, drop, add, val, &len);
    decode_expect(p, len, rc, want);
    free(p);
}

/* ---------------------------------------------------------------- levels */

static void missing_mandatory(void **state)
{
    (void)state;
    static const char *const top[] = {
        NULL,         "format",    "ike_version", "initiator",  "local",    "remote",
        "spi_i",      "spi_r",     "msgid_out",   "msgid_in",   "window",   "alg",
        "keys",       "ext",       "nat_local",   "nat_remote", "local_id", "peer_id",
        "local_auth", "peer_auth", "conn",        "children"};
    static const char *const child[] = {
        NULL,       "local",     "remote", "udp_encap", "spi_in", "spi_out", "protocol",
        "mode",     "ipcomp",    "seq",    "replay",    "limits", "usage",   "path_mtu",
        "ts_local", "ts_remote", "alg",    "initiator", "keymat"};
    struct hk_ctx_ike c;
    fill_ike(&c, HK_CTX_KEYS_SK, true);
    char want[96];
    for (uint64_t k = 1; k < sizeof(top) / sizeof(top[0]); k++) {
        snprintf(want, sizeof(want), "missing mandatory parameter %s", top[k]);
        expect_edit(&c, AT_TOP, k, 0, NULL, HK_E_SYNTAX, want);
    }
    for (uint64_t k = 1; k < sizeof(child) / sizeof(child[0]); k++) {
        snprintf(want, sizeof(want), "child 0: missing mandatory parameter %s", child[k]);
        expect_edit(&c, AT_CHILD0, k, 0, NULL, HK_E_SYNTAX, want);
    }
    expect_edit(&c, AT_KEYS, 1, 0, NULL, HK_E_SYNTAX, "missing mandatory parameter keys.mode");
    /* The keys each mode needs (keys map: 2 ni, 3 nr, 4 dh_private, 5 peer_ke, 6 skeyseed,
     * 7 sk_d, 8 sk_ai, 9 sk_ar, 10 sk_ei, 11 sk_er). */
    static const char *const sk[] = {"keys.sk_d", "keys.sk_ai", "keys.sk_ar", "keys.sk_ei",
                                     "keys.sk_er"};
    for (uint64_t k = 7; k <= 11; k++)
        expect_edit(&c, AT_KEYS, k, 0, NULL, HK_E_SYNTAX, sk[k - 7]);
    expect_edit(&c, AT_KEYS, 12, 0, NULL, HK_E_SYNTAX, "keys.sk_pi"); /* pi without pr */
    hk_ctx_ike_free(&c);
    fill_ike(&c, HK_CTX_KEYS_DH, true);
    static const char *const dh[] = {"keys.ni", "keys.nr", "keys.dh_private", "keys.peer_ke"};
    for (uint64_t k = 2; k <= 5; k++)
        expect_edit(&c, AT_KEYS, k, 0, NULL, HK_E_SYNTAX, dh[k - 2]);
    hk_ctx_ike_free(&c);
    fill_ike(&c, HK_CTX_KEYS_SKEYSEED, true);
    expect_edit(&c, AT_KEYS, 2, 0, NULL, HK_E_SYNTAX, "keys.ni");
    expect_edit(&c, AT_KEYS, 3, 0, NULL, HK_E_SYNTAX, "keys.nr");
    expect_edit(&c, AT_KEYS, 6, 0, NULL, HK_E_SYNTAX, "keys.skeyseed");
    hk_ctx_ike_free(&c);
}

/* Each optional parameter left out: accepted, and the field reads as absent. */
static void missing_optional(void **state)
{
    (void)state;
    struct hk_ctx_ike c, o;
    fill_ike(&c, HK_CTX_KEYS_SKEYSEED, false);
    for (uint64_t k = 32; k <= 38; k++) {
        size_t len;
        uint8_t *p = edited(&c, AT_TOP, k, 0, NULL, &len);
        struct hk_diag d = {0};
        assert_int_equal(hk_ctx_decode(p, len, &o, &d), HK_OK);
        switch (k) {
        case 32:
            assert_int_equal(o.resp.npkts, 0);
            break;
        case 33:
            assert_false(o.has_life);
            break;
        case 34:
            assert_int_equal(o.nvids, 0);
            break;
        case 35:
            assert_int_equal(o.naddrs, 0);
            break;
        case 36:
            assert_int_equal(o.nvips, 0);
            break;
        case 37:
            assert_false(o.has_dpd);
            break;
        case 38:
            assert_false(o.has_clone_family);
            break;
        }
        assert_int_equal(o.nchildren, c.nchildren); /* the rest is there */
        hk_ctx_ike_free(&o);
        free(p);
    }
    /* Optional keys of a Child SA, and SK_pi/SK_pr together. */
    size_t len;
    uint8_t *p = edited(&c, AT_CHILD0, 32, 0, NULL, &len);
    struct hk_diag d = {0};
    assert_int_equal(hk_ctx_decode(p, len, &o, &d), HK_OK);
    assert_string_equal(o.children[0].name, "");
    hk_ctx_ike_free(&o);
    free(p);
    p = edited(&c, AT_CHILD0, 33, 0, NULL, &len);
    assert_int_equal(hk_ctx_decode(p, len, &o, &d), HK_OK);
    assert_false(o.children[0].has_age);
    hk_ctx_ike_free(&o);
    free(p);
    hk_ctx_ike_free(&c);
}

static void unknown_keys(void **state)
{
    (void)state;
    struct hk_ctx_ike c, o;
    fill_ike(&c, HK_CTX_KEYS_SK, false);
    /* A vendor parameter of another implementation, nested: skipped, the rest intact. */
    uint64_t vendor_keys[] = {65, 1000, 40}; /* 40: an optional one of a newer format */
    for (size_t i = 0; i < 3; i++) {
        for (enum at at = AT_TOP; at <= AT_CHILD0; at++) {
            cbor_item_t *v = cbor_new_definite_array(2);
            assert_true(cbor_array_push(v, cbor_move(cbor_build_uint8(7))));
            cbor_item_t *m = cbor_new_definite_map(1);
            assert_true(cbor_map_add(m, (struct cbor_pair){cbor_move(cbor_build_uint8(1)),
                                                           cbor_move(cbor_build_bool(true))}));
            assert_true(cbor_array_push(v, cbor_move(m)));
            size_t len;
            uint8_t *p = edited(&c, at, ~0ull, vendor_keys[i], v, &len);
            struct hk_diag d = {0};
            if (hk_ctx_decode(p, len, &o, &d) != HK_OK)
                fail_msg("key %llu at %d: %s", (unsigned long long)vendor_keys[i], at,
                         hk_diag_msg(&d));
            same_ike(&c, &o);
            hk_ctx_ike_free(&o);
            free(p);
        }
    }
    /* An unknown mandatory parameter: a newer format this node cannot read. */
    expect_edit(&c, AT_TOP, ~0ull, 30, cbor_build_uint8(1), HK_E_SYNTAX,
                "unknown mandatory parameter 30");
    expect_edit(&c, AT_CHILD0, ~0ull, 31, cbor_build_uint8(1), HK_E_SYNTAX,
                "child 0: child: unknown mandatory parameter 31");
    expect_edit(&c, AT_KEYS, ~0ull, 20, cbor_build_uint8(1), HK_E_SYNTAX,
                "keys: unknown mandatory parameter 20");
    /* Another format version. */
    expect_edit(&c, AT_TOP, 1, 1, cbor_build_uint8(2), HK_E_UNSUPPORTED, "format version 2");
    hk_ctx_ike_free(&c);
}

/* ---------------------------------------------------------------- hostile input */

static void truncated_every_prefix(void **state)
{
    (void)state;
    struct hk_ctx_ike c;
    fill_ike(&c, HK_CTX_KEYS_DH, false);
    struct hk_secret *enc = encode(&c);
    for (size_t n = 0; n < enc->len; n++) {
        /* A copy of exactly n octets, so ASan sees any read past the end. */
        uint8_t *p = malloc(n ? n : 1);
        memcpy(p, enc->data, n);
        struct hk_ctx_ike o;
        struct hk_diag d = {0};
        int rc = hk_ctx_decode(p, n, &o, &d);
        if (rc == HK_OK || !hk_diag_msg(&d)[0])
            fail_msg("prefix %zu of %zu: %d \"%s\"", n, enc->len, rc, hk_diag_msg(&d));
        free(p);
    }
    hk_secret_free(&enc);
    hk_ctx_ike_free(&c);
}

static void oversized(void **state)
{
    (void)state;
    struct hk_ctx_ike c;
    fill_ike(&c, HK_CTX_KEYS_SK, true);
    /* 65 Child SAs. */
    cbor_item_t *arr = cbor_new_definite_array(HK_CTX_MAX_CHILDREN + 1);
    for (size_t i = 0; i <= HK_CTX_MAX_CHILDREN; i++)
        assert_true(cbor_array_push(arr, cbor_move(cbor_build_uint8(0))));
    expect_edit(&c, AT_TOP, KEY_CHILDREN, KEY_CHILDREN, arr, HK_E_LENGTH, "children: 65 entries");
    /* 9 selectors. */
    arr = cbor_new_definite_array(HK_CTX_MAX_TS + 1);
    for (size_t i = 0; i <= HK_CTX_MAX_TS; i++)
        assert_true(cbor_array_push(arr, cbor_move(cbor_build_uint8(0))));
    expect_edit(&c, AT_CHILD0, 14, 14, arr, HK_E_LENGTH, "ts_local: 9 entries");
    /* An identity longer than the bound. */
    uint8_t big[HK_CTX_MAX_ID_LEN + 1] = {0};
    arr = cbor_new_definite_array(2);
    assert_true(cbor_array_push(arr, cbor_move(cbor_build_uint8(2))));
    assert_true(cbor_array_push(arr, cbor_move(cbor_build_bytestring(big, sizeof(big)))));
    expect_edit(&c, AT_TOP, 16, 16, arr, HK_E_LENGTH, "local_id: length 2049");
    /* A replay window past the largest. */
    arr = cbor_new_definite_array(3);
    assert_true(cbor_array_push(arr, cbor_move(cbor_build_uint32(HK_REPLAY_MAX_SIZE + 64))));
    assert_true(cbor_array_push(arr, cbor_move(cbor_build_uint8(0))));
    assert_true(cbor_array_push(arr, cbor_move(cbor_build_bytestring(big, 8))));
    expect_edit(&c, AT_CHILD0, 10, 10, arr, HK_E_SYNTAX, "replay: 65600 out of range");
    /* Counts that claim more than the input holds, before anything is allocated. */
    static const uint8_t huge_map[] = {0xbb, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    decode_expect(huge_map, sizeof(huge_map), HK_E_LENGTH, "past the input");
    static const uint8_t huge_bytes[] = {0xa1, 0x01, 0x5b, 0x7f, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 0xff, 0xff, 0x00};
    decode_expect(huge_bytes, sizeof(huge_bytes), HK_E_SHORT, "truncated");
    static const uint8_t wide_map[] = {0xb8, 0x41}; /* 65 entries */
    uint8_t wm[200] = {0};
    memcpy(wm, wide_map, 2);
    decode_expect(wm, sizeof(wm), HK_E_LENGTH, "65 entries");
    hk_ctx_ike_free(&c);
}

static void malformed(void **state)
{
    (void)state;
    struct hk_ctx_ike c;
    fill_ike(&c, HK_CTX_KEYS_SK, true);
    struct hk_secret *enc = encode(&c);
    size_t n = enc->len;
    uint8_t *p = malloc(n + 1);
    /* The top map as an indefinite-length map (0xbf ... 0xff). */
    memcpy(p, enc->data, n);
    assert_true(p[0] >= 0xa0 && p[0] < 0xb8);
    p[0] = 0xbf;
    p[n] = 0xff;
    decode_expect(p, n + 1, HK_E_SYNTAX, "indefinite-length");
    /* Trailing octets. */
    memcpy(p, enc->data, n);
    p[n] = 0x00;
    decode_expect(p, n + 1, HK_E_SYNTAX, "1 octets after the context");
    free(p);
    hk_secret_free(&enc);
    /* A repeated key and a wrong type. */
    expect_edit(&c, AT_TOP, ~0ull, 3, cbor_build_bool(false), HK_E_SYNTAX,
                "key 3 repeated or out of order");
    expect_edit(&c, AT_TOP, 3, 3, cbor_build_uint8(1), HK_E_SYNTAX, "initiator: wrong type");
    expect_edit(&c, AT_CHILD0, 4, 4, cbor_build_bool(true), HK_E_SYNTAX,
                "child 0: spi_in: wrong type");
    /* An indefinite-length byte string as a value (the SPI). */
    cbor_item_t *s = cbor_new_indefinite_bytestring();
    uint8_t spi[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_true(cbor_bytestring_add_chunk(s, cbor_move(cbor_build_bytestring(spi, 8))));
    expect_edit(&c, AT_TOP, 6, 6, s, HK_E_SYNTAX, "spi_i: indefinite-length");
    /* A key length that does not fit the transform. */
    uint8_t k[31] = {0};
    expect_edit(&c, AT_KEYS, 10, 10, cbor_build_bytestring(k, sizeof(k)), HK_E_SYNTAX,
                "keys.sk_ei: key length does not fit");
    /* A Child SA's check names the child. */
    uint8_t ek[35] = {0};
    cbor_item_t *km = cbor_new_definite_array(4);
    for (int i = 0; i < 4; i++)
        assert_true(
            cbor_array_push(km, cbor_move(cbor_build_bytestring(ek, i % 2 ? 0 : sizeof(ek)))));
    expect_edit(&c, AT_CHILD0, 18, 18, km, HK_E_SYNTAX,
                "context: child 0: child.keymat.encr_ir: key length does not fit");
    /* Tags and negative integers are no part of the format. */
    expect_edit(&c, AT_TOP, 13, 13, cbor_build_negint8(3), HK_E_SYNTAX, "ext: wrong type");
    /* An encoder refuses a context that would not decode, naming the parameter. */
    struct hk_secret *out = NULL;
    struct hk_diag d = {0};
    hk_secret_free(&c.keys.sk_d);
    assert_int_equal(hk_ctx_encode(&c, &out, &d), HK_E_INVALID);
    assert_null(out);
    assert_non_null(strstr(hk_diag_msg(&d), "keys.sk_d"));
    hk_ctx_ike_free(&c);
}

/* Every bit of a small context flipped in turn: rejected, or decoded to a context that passes
 * the checks and encodes again. */
static void bit_flips(void **state)
{
    (void)state;
    struct hk_ctx_ike c;
    fill_ike(&c, HK_CTX_KEYS_DH, true);
    struct hk_secret *enc = encode(&c);
    uint8_t *p = malloc(enc->len);
    size_t accepted = 0;
    for (size_t bit = 0; bit < enc->len * 8; bit++) {
        memcpy(p, enc->data, enc->len);
        p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        struct hk_ctx_ike o;
        struct hk_diag d = {0};
        int rc = hk_ctx_decode(p, enc->len, &o, &d);
        if (rc < 0) {
            assert_true(hk_diag_msg(&d)[0] != 0);
            continue;
        }
        accepted++;
        assert_int_equal(hk_ctx_ike_check(&o, &d), HK_OK);
        struct hk_secret *again = encode(&o);
        hk_secret_free(&again);
        hk_ctx_ike_free(&o);
    }
    /* Flips inside keys, SPIs and counters decode: the test saw both outcomes. */
    assert_true(accepted > 0 && accepted < enc->len * 8);
    free(p);
    hk_secret_free(&enc);
    hk_ctx_ike_free(&c);
}

/* ---------------------------------------------------------------- secrets */

static bool was_freed(const void *s)
{
    for (size_t i = 0; i < nfreed; i++)
        if (freed[i] == s)
            return true;
    return false;
}

static void collect(const struct hk_ctx_ike *c, const void **out, size_t *n)
{
    const struct hk_secret *k[] = {c->keys.dh_private, c->keys.skeyseed, c->keys.sk_d,
                                   c->keys.sk_ai,      c->keys.sk_ar,    c->keys.sk_ei,
                                   c->keys.sk_er,      c->keys.sk_pi,    c->keys.sk_pr};
    for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
        if (k[i])
            out[(*n)++] = k[i];
    for (size_t i = 0; i < c->nchildren; i++) {
        const struct hk_ctx_child *ch = &c->children[i];
        const struct hk_secret *km[] = {ch->encr_ir, ch->integ_ir, ch->encr_ri, ch->integ_ri};
        for (size_t j = 0; j < 4; j++)
            if (km[j])
                out[(*n)++] = km[j];
    }
}

/* A decoded context holds every key in an hk_secret, and freeing it goes through
 * hk_secret_free (which wipes) for each one. */
static void secrets_wiped(void **state)
{
    (void)state;
    for (uint8_t mode = HK_CTX_KEYS_DH; mode <= HK_CTX_KEYS_SK; mode++) {
        struct hk_ctx_ike c, o;
        fill_ike(&c, mode, false);
        struct hk_secret *enc = encode(&c);
        struct hk_diag d = {0};
        assert_int_equal(hk_ctx_decode(enc->data, enc->len, &o, &d), HK_OK);
        const void *held[64];
        size_t n = 0;
        collect(&o, held, &n);
        /* 3 children: 2 AEAD (2 keys each), 1 with integrity (4 keys). */
        size_t want = 8 + (mode == HK_CTX_KEYS_SK ? 7 : 1);
        assert_int_equal(n, want);
        nfreed = 0;
        hk_ctx_ike_free(&o);
        for (size_t i = 0; i < n; i++)
            assert_true(was_freed(held[i]));
        /* The encoding itself carries keys: it is an hk_secret too. */
        nfreed = 0;
        const void *e = enc;
        hk_secret_free(&enc);
        assert_true(was_freed(e));
        hk_ctx_ike_free(&c);
        /* Freed contexts are zeroed: nothing left to reach the keys through. */
        static const struct hk_ctx_ike zero;
        assert_memory_equal(&o, &zero, sizeof(zero));
    }
}

/* ---------------------------------------------------------------- key modes */

static void replace(struct hk_secret **dst, const struct hk_secret *src)
{
    hk_secret_free(dst);
    if (src)
        assert_non_null(*dst = hk_secret_dup(src->data, src->len));
}

/*
 * A real X25519 exchange and its SK_* as IKE_SA_INIT makes them; contexts carrying them in
 * each of the three modes, through the encoding, give back the same SK_* (and so the same
 * KEYMAT, which comes from SK_d and the nonces).
 */
static void keys_modes_agree(void **state)
{
    (void)state;
    struct hk_crypto cr;
    assert_int_equal(hk_crypto_init(&cr), HK_OK);
    struct hk_ctx_ike base;
    fill_ike(&base, HK_CTX_KEYS_SK, true);
    struct hk_ike_alg alg = {.encr = base.alg.encr,
                             .encr_key_bits = base.alg.encr_key_bits,
                             .prf = base.alg.prf,
                             .integ = base.alg.integ,
                             .ke = base.alg.ke};
    struct hk_ke *ours = NULL, *theirs = NULL;
    assert_int_equal(hk_ke_new(&cr, alg.ke, &ours), HK_OK);
    assert_int_equal(hk_ke_new(&cr, alg.ke, &theirs), HK_OK);
    uint8_t pub[32];
    assert_int_equal(hk_ke_public_len(alg.ke), sizeof(pub));
    assert_int_equal(hk_ke_public(theirs, pub, sizeof(pub)), HK_OK);
    struct hk_secret *g_ir = NULL, *seed = NULL, *priv = NULL;
    assert_int_equal(hk_ke_derive(ours, pub, sizeof(pub), &g_ir), HK_OK);
    const struct hk_ctx_ike_keys *bk = &base.keys;
    assert_int_equal(hk_skeyseed(&cr, alg.prf, bk->ni.p, bk->ni.len, bk->nr.p, bk->nr.len,
                                 g_ir->data, g_ir->len, &seed),
                     HK_OK);
    struct hk_ike_keys ref = {0};
    assert_int_equal(hk_ike_keys_derive(&cr, &alg, seed, bk->ni.p, bk->ni.len, bk->nr.p, bk->nr.len,
                                        base.spi_i, base.spi_r, &ref),
                     HK_OK);
    assert_int_equal(hk_ke_private(ours, &priv), HK_OK);

    for (uint8_t mode = HK_CTX_KEYS_DH; mode <= HK_CTX_KEYS_SK; mode++) {
        struct hk_ctx_ike c, o;
        fill_ike(&c, mode, true);
        memcpy(c.spi_i, base.spi_i, 8);
        memcpy(c.spi_r, base.spi_r, 8);
        assert_int_equal(hk_ctx_bytes_set(&c.keys.ni, bk->ni.p, bk->ni.len), HK_OK);
        assert_int_equal(hk_ctx_bytes_set(&c.keys.nr, bk->nr.p, bk->nr.len), HK_OK);
        if (mode == HK_CTX_KEYS_DH) {
            replace(&c.keys.dh_private, priv);
            assert_int_equal(hk_ctx_bytes_set(&c.keys.peer_ke, pub, sizeof(pub)), HK_OK);
        } else if (mode == HK_CTX_KEYS_SKEYSEED) {
            replace(&c.keys.skeyseed, seed);
        } else {
            replace(&c.keys.sk_d, ref.sk_d);
            replace(&c.keys.sk_ai, ref.sk_ai);
            replace(&c.keys.sk_ar, ref.sk_ar);
            replace(&c.keys.sk_ei, ref.sk_ei);
            replace(&c.keys.sk_er, ref.sk_er);
            replace(&c.keys.sk_pi, ref.sk_pi);
            replace(&c.keys.sk_pr, ref.sk_pr);
        }
        struct hk_secret *enc = encode(&c);
        struct hk_diag d = {0};
        assert_int_equal(hk_ctx_decode(enc->data, enc->len, &o, &d), HK_OK);
        struct hk_ike_keys got;
        assert_int_equal(hk_ctx_ike_sk(&cr, &o, &got), HK_OK);
        same_secret(got.sk_d, ref.sk_d, "sk_d");
        same_secret(got.sk_ai, ref.sk_ai, "sk_ai");
        same_secret(got.sk_ar, ref.sk_ar, "sk_ar");
        same_secret(got.sk_ei, ref.sk_ei, "sk_ei");
        same_secret(got.sk_er, ref.sk_er, "sk_er");
        same_secret(got.sk_pi, ref.sk_pi, "sk_pi");
        same_secret(got.sk_pr, ref.sk_pr, "sk_pr");
        assert_non_null(got.sk_d);
        assert_non_null(got.sk_ai);
        hk_ike_keys_free(&got);
        hk_secret_free(&enc);
        hk_ctx_ike_free(&o);
        hk_ctx_ike_free(&c);
    }
    /* A DH context whose peer KE is not the one the keys came from gives other keys. */
    struct hk_ctx_ike c;
    fill_ike(&c, HK_CTX_KEYS_DH, true);
    memcpy(c.spi_i, base.spi_i, 8);
    memcpy(c.spi_r, base.spi_r, 8);
    assert_int_equal(hk_ctx_bytes_set(&c.keys.ni, bk->ni.p, bk->ni.len), HK_OK);
    assert_int_equal(hk_ctx_bytes_set(&c.keys.nr, bk->nr.p, bk->nr.len), HK_OK);
    replace(&c.keys.dh_private, priv);
    pub[5] ^= 1;
    assert_int_equal(hk_ctx_bytes_set(&c.keys.peer_ke, pub, sizeof(pub)), HK_OK);
    struct hk_ike_keys got;
    if (hk_ctx_ike_sk(&cr, &c, &got) == HK_OK) {
        assert_memory_not_equal(got.sk_d->data, ref.sk_d->data, ref.sk_d->len);
        hk_ike_keys_free(&got);
    }
    hk_ctx_ike_free(&c);
    hk_ike_keys_free(&ref);
    hk_secret_free(&g_ir);
    hk_secret_free(&seed);
    hk_secret_free(&priv);
    hk_ke_free(ours);
    hk_ke_free(theirs);
    hk_ctx_ike_free(&base);
    hk_crypto_free(&cr);
}

/* HIKE_CTX_SEEDS=DIR build/test_ctx writes the fuzz seeds (tests/fuzz/corpus/ctx_decode/):
 * a full and a small context in each key mode. */
static int write_seeds(const char *dir)
{
    for (uint8_t mode = HK_CTX_KEYS_DH; mode <= HK_CTX_KEYS_SK; mode++) {
        for (int small = 0; small < 2; small++) {
            struct hk_ctx_ike c;
            fill_ike(&c, mode, small);
            struct hk_secret *enc = encode(&c);
            char path[512];
            snprintf(path, sizeof(path), "%s/%s%s", dir, hk_ctx_keys_mode_name(mode),
                     small ? "_small" : "");
            FILE *f = fopen(path, "wb");
            if (!f || fwrite(enc->data, 1, enc->len, f) != enc->len || fclose(f) != 0)
                return 1;
            hk_secret_free(&enc);
            hk_ctx_ike_free(&c);
        }
    }
    return 0;
}

int main(void)
{
    if (getenv("HIKE_CTX_SEEDS"))
        return write_seeds(getenv("HIKE_CTX_SEEDS"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip_dh),
        cmocka_unit_test(roundtrip_skeyseed),
        cmocka_unit_test(roundtrip_sk),
        cmocka_unit_test(missing_mandatory),
        cmocka_unit_test(missing_optional),
        cmocka_unit_test(unknown_keys),
        cmocka_unit_test(truncated_every_prefix),
        cmocka_unit_test(oversized),
        cmocka_unit_test(malformed),
        cmocka_unit_test(bit_flips),
        cmocka_unit_test(secrets_wiped),
        cmocka_unit_test(keys_modes_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
