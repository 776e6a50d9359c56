/*
 * The context encoding (docs/context.md): CBOR (RFC 8949) maps keyed by small integers, keys
 * in ascending order, the level of each parameter given by its key's range:
 *   1..31 mandatory (absent: rejected; unknown: rejected, a newer format),
 *   32..63 optional (absent: accepted; unknown: skipped),
 *   64.. vendor (unknown: skipped).
 * libcbor writes the item heads (cbor_encode_*) and reads them one at a time
 * (cbor_stream_decode): no tree is built, so an input declaring a huge count allocates
 * nothing, and every count is checked against the octets left before it is used.
 */
#include <cbor.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/err.h"
#include "ctx/ctx.h"

#define LVL_OPTIONAL 32
#define LVL_VENDOR   64
#define MAX_DEPTH    8  /* nesting of an unknown item being skipped */
#define MAX_ENTRIES  64 /* entries of one map */

enum ike_key {
    K_FORMAT = 1,
    K_IKE_VERSION,
    K_INITIATOR,
    K_LOCAL,
    K_REMOTE,
    K_SPI_I,
    K_SPI_R,
    K_MSGID_OUT,
    K_MSGID_IN,
    K_WINDOW,
    K_ALG,
    K_KEYS,
    K_EXT,
    K_NAT_LOCAL,
    K_NAT_REMOTE,
    K_LOCAL_ID,
    K_PEER_ID,
    K_LOCAL_AUTH,
    K_PEER_AUTH,
    K_CONN,
    K_CHILDREN,
    K_RESP = LVL_OPTIONAL,
    K_LIFE,
    K_VIDS,
    K_MOBIKE_ADDRS,
    K_VIPS,
    K_DPD,
    K_CLONE_FAMILY,
    K_CHILDLESS_OFFERED = LVL_VENDOR,
};
static const char *const ike_names[LVL_OPTIONAL] = {
    [K_FORMAT] = "format",
    [K_IKE_VERSION] = "ike_version",
    [K_INITIATOR] = "initiator",
    [K_LOCAL] = "local",
    [K_REMOTE] = "remote",
    [K_SPI_I] = "spi_i",
    [K_SPI_R] = "spi_r",
    [K_MSGID_OUT] = "msgid_out",
    [K_MSGID_IN] = "msgid_in",
    [K_WINDOW] = "window",
    [K_ALG] = "alg",
    [K_KEYS] = "keys",
    [K_EXT] = "ext",
    [K_NAT_LOCAL] = "nat_local",
    [K_NAT_REMOTE] = "nat_remote",
    [K_LOCAL_ID] = "local_id",
    [K_PEER_ID] = "peer_id",
    [K_LOCAL_AUTH] = "local_auth",
    [K_PEER_AUTH] = "peer_auth",
    [K_CONN] = "conn",
    [K_CHILDREN] = "children",
};
#define IKE_MANDATORY 0x3ffffeu /* keys 1..21 */

enum keys_key {
    KK_MODE = 1,
    KK_NI,
    KK_NR,
    KK_DH_PRIVATE,
    KK_PEER_KE,
    KK_SKEYSEED,
    KK_SK_D,
    KK_SK_AI,
    KK_SK_AR,
    KK_SK_EI,
    KK_SK_ER,
    KK_SK_PI,
    KK_SK_PR,
};
static const char *const keys_names[LVL_OPTIONAL] = {[KK_MODE] = "mode",
                                                     [KK_NI] = "keys.ni",
                                                     [KK_NR] = "keys.nr",
                                                     [KK_DH_PRIVATE] = "keys.dh_private",
                                                     [KK_PEER_KE] = "keys.peer_ke",
                                                     [KK_SKEYSEED] = "keys.skeyseed",
                                                     [KK_SK_D] = "keys.sk_d",
                                                     [KK_SK_AI] = "keys.sk_ai",
                                                     [KK_SK_AR] = "keys.sk_ar",
                                                     [KK_SK_EI] = "keys.sk_ei",
                                                     [KK_SK_ER] = "keys.sk_er",
                                                     [KK_SK_PI] = "keys.sk_pi",
                                                     [KK_SK_PR] = "keys.sk_pr"};
#define KEYS_MANDATORY 0x2u /* the rest is by mode (hk_ctx_ike_check) */

enum child_key {
    C_LOCAL = 1,
    C_REMOTE,
    C_UDP_ENCAP,
    C_SPI_IN,
    C_SPI_OUT,
    C_PROTOCOL,
    C_MODE,
    C_IPCOMP,
    C_SEQ,
    C_REPLAY,
    C_LIMITS,
    C_USAGE,
    C_PATH_MTU,
    C_TS_LOCAL,
    C_TS_REMOTE,
    C_ALG,
    C_INITIATOR,
    C_KEYMAT,
    C_NAME = LVL_OPTIONAL,
    C_AGE,
    C_FLOW_ID = LVL_VENDOR,
};
static const char *const child_names[LVL_OPTIONAL] = {
    [C_LOCAL] = "local",       [C_REMOTE] = "remote",       [C_UDP_ENCAP] = "udp_encap",
    [C_SPI_IN] = "spi_in",     [C_SPI_OUT] = "spi_out",     [C_PROTOCOL] = "protocol",
    [C_MODE] = "mode",         [C_IPCOMP] = "ipcomp",       [C_SEQ] = "seq",
    [C_REPLAY] = "replay",     [C_LIMITS] = "limits",       [C_USAGE] = "usage",
    [C_PATH_MTU] = "path_mtu", [C_TS_LOCAL] = "ts_local",   [C_TS_REMOTE] = "ts_remote",
    [C_ALG] = "alg",           [C_INITIATOR] = "initiator", [C_KEYMAT] = "keymat",
};
#define CHILD_MANDATORY 0x7fffeu /* keys 1..18 */

enum { MODE_TUNNEL = 1, MODE_TRANSPORT = 2 };
enum { FIRED_SOFT_IN = 1, FIRED_HARD_IN = 2, FIRED_SOFT_OUT = 4, FIRED_HARD_OUT = 8 };

/* ------------------------------------------------------------------ writer */

/* p NULL: only counts (the first pass sizes the output). */
struct w {
    uint8_t *p;
    size_t len, cap;
};

static void w_raw(struct w *w, const void *p, size_t n)
{
    if (w->p && n) {
        if (n > w->cap - w->len) {
            w->len = SIZE_MAX / 2; /* cannot happen: the first pass sized it */
            return;
        }
        memcpy(w->p + w->len, p, n);
    }
    w->len += n;
}

enum { MT_UINT, MT_BYTES, MT_TEXT, MT_ARRAY, MT_MAP };

static void w_head(struct w *w, int mt, uint64_t v)
{
    unsigned char t[9];
    size_t n = 0;
    switch (mt) {
    case MT_UINT:
        n = cbor_encode_uint(v, t, sizeof(t));
        break;
    case MT_BYTES:
        n = cbor_encode_bytestring_start(v, t, sizeof(t));
        break;
    case MT_TEXT:
        n = cbor_encode_string_start(v, t, sizeof(t));
        break;
    case MT_ARRAY:
        n = cbor_encode_array_start(v, t, sizeof(t));
        break;
    case MT_MAP:
        n = cbor_encode_map_start(v, t, sizeof(t));
        break;
    }
    w_raw(w, t, n);
}

static void w_uint(struct w *w, uint64_t v)
{
    w_head(w, MT_UINT, v);
}
static void w_bool(struct w *w, bool b)
{
    unsigned char t[1];
    w_raw(w, t, cbor_encode_bool(b, t, sizeof(t)));
}
static void w_bytes(struct w *w, const uint8_t *p, size_t n)
{
    w_head(w, MT_BYTES, n);
    w_raw(w, p, n);
}
static void w_secret(struct w *w, const struct hk_secret *s)
{
    w_bytes(w, s ? s->data : NULL, s ? s->len : 0);
}
static void w_text(struct w *w, const char *s)
{
    size_t n = strlen(s);
    w_head(w, MT_TEXT, n);
    w_raw(w, s, n);
}
static void w_addr(struct w *w, const struct hk_ctx_addr *a)
{
    w_head(w, MT_ARRAY, 2);
    w_bytes(w, a->addr, a->af == AF_INET ? 4 : 16);
    w_uint(w, a->port);
}
static void w_id(struct w *w, const struct hk_ctx_id *id)
{
    w_head(w, MT_ARRAY, 2);
    w_uint(w, id->type);
    w_bytes(w, id->data.p, id->data.len);
}
static void w_ts(struct w *w, const struct ike_ts *ts, size_t n)
{
    w_head(w, MT_ARRAY, n);
    for (size_t i = 0; i < n; i++) {
        size_t al = ts[i].type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;
        w_head(w, MT_ARRAY, 6);
        w_uint(w, ts[i].type);
        w_uint(w, ts[i].ip_proto);
        w_uint(w, ts[i].start_port);
        w_uint(w, ts[i].end_port);
        w_bytes(w, ts[i].start_addr, al);
        w_bytes(w, ts[i].end_addr, al);
    }
}

static void w_child(struct w *w, const struct hk_ctx_child *c)
{
    size_t n = 18 + (c->name[0] != 0) + c->has_age + c->has_flow_id;
    const struct hk_esp_state *e = &c->esp;
    w_head(w, MT_MAP, n);
    w_uint(w, C_LOCAL);
    w_addr(w, &c->local);
    w_uint(w, C_REMOTE);
    w_addr(w, &c->remote);
    w_uint(w, C_UDP_ENCAP);
    w_bool(w, c->udp_encap);
    w_uint(w, C_SPI_IN);
    w_uint(w, c->spi_in);
    w_uint(w, C_SPI_OUT);
    w_uint(w, c->spi_out);
    w_uint(w, C_PROTOCOL);
    w_uint(w, c->protocol);
    w_uint(w, C_MODE);
    w_uint(w, c->transport ? MODE_TRANSPORT : MODE_TUNNEL);
    w_uint(w, C_IPCOMP);
    w_head(w, MT_ARRAY, 4);
    w_bool(w, c->ipcomp);
    w_uint(w, c->cpi_in);
    w_uint(w, c->cpi_out);
    w_uint(w, c->ipcomp_alg);
    w_uint(w, C_SEQ);
    w_head(w, MT_ARRAY, 3);
    w_uint(w, e->seq_out);
    w_bool(w, e->esn);
    w_bool(w, c->seq_no_rollover);
    w_uint(w, C_REPLAY);
    w_head(w, MT_ARRAY, 3);
    w_uint(w, e->replay_window);
    w_uint(w, e->replay_top);
    size_t words = e->replay_window / 64;
    w_head(w, MT_BYTES, words * 8);
    for (size_t i = 0; i < words; i++) {
        uint8_t be[8];
        for (int j = 0; j < 8; j++)
            be[j] = (uint8_t)(e->replay_bits[i] >> (56 - 8 * j));
        w_raw(w, be, 8);
    }
    w_uint(w, C_LIMITS);
    w_head(w, MT_ARRAY, 6);
    w_uint(w, c->soft_bytes);
    w_uint(w, c->hard_bytes);
    w_uint(w, c->soft_packets);
    w_uint(w, c->hard_packets);
    w_uint(w, c->rekey_in_ms);
    w_uint(w, c->expire_in_ms);
    w_uint(w, C_USAGE);
    w_head(w, MT_ARRAY, 5);
    w_uint(w, e->bytes_in);
    w_uint(w, e->packets_in);
    w_uint(w, e->bytes_out);
    w_uint(w, e->packets_out);
    w_uint(w, (e->soft_in ? FIRED_SOFT_IN : 0) | (e->hard_in ? FIRED_HARD_IN : 0) |
                  (e->soft_out ? FIRED_SOFT_OUT : 0) | (e->hard_out ? FIRED_HARD_OUT : 0));
    w_uint(w, C_PATH_MTU);
    w_uint(w, c->path_mtu);
    w_uint(w, C_TS_LOCAL);
    w_ts(w, c->ts_local, c->nts_local);
    w_uint(w, C_TS_REMOTE);
    w_ts(w, c->ts_remote, c->nts_remote);
    w_uint(w, C_ALG);
    w_head(w, MT_ARRAY, 5);
    w_uint(w, c->alg.encr);
    w_uint(w, c->alg.encr_key_bits);
    w_uint(w, c->alg.integ);
    w_uint(w, c->alg.integ_key_bits);
    w_uint(w, c->alg.ke);
    w_uint(w, C_INITIATOR);
    w_bool(w, c->initiator);
    w_uint(w, C_KEYMAT);
    w_head(w, MT_ARRAY, 4);
    w_secret(w, c->encr_ir);
    w_secret(w, c->integ_ir);
    w_secret(w, c->encr_ri);
    w_secret(w, c->integ_ri);
    if (c->name[0]) {
        w_uint(w, C_NAME);
        w_text(w, c->name);
    }
    if (c->has_age) {
        w_uint(w, C_AGE);
        w_uint(w, c->age_ms);
    }
    if (c->has_flow_id) {
        w_uint(w, C_FLOW_ID);
        w_uint(w, c->flow_id);
    }
}

static void w_keys(struct w *w, const struct hk_ctx_ike_keys *k)
{
    const struct hk_secret *sec[] = {k->dh_private, NULL,     k->skeyseed, k->sk_d,  k->sk_ai,
                                     k->sk_ar,      k->sk_ei, k->sk_er,    k->sk_pi, k->sk_pr};
    size_t n = 1 + (k->ni.len != 0) + (k->nr.len != 0) + (k->peer_ke.len != 0);
    for (size_t i = 0; i < sizeof(sec) / sizeof(sec[0]); i++)
        n += sec[i] != NULL;
    w_head(w, MT_MAP, n);
    w_uint(w, KK_MODE);
    w_uint(w, k->mode);
    if (k->ni.len) {
        w_uint(w, KK_NI);
        w_bytes(w, k->ni.p, k->ni.len);
    }
    if (k->nr.len) {
        w_uint(w, KK_NR);
        w_bytes(w, k->nr.p, k->nr.len);
    }
    /* sec[] is in key order from KK_DH_PRIVATE; its slot 1 is KK_PEER_KE (public bytes). */
    for (size_t i = 0; i < sizeof(sec) / sizeof(sec[0]); i++) {
        if (i == 1 && k->peer_ke.len) {
            w_uint(w, KK_PEER_KE);
            w_bytes(w, k->peer_ke.p, k->peer_ke.len);
        }
        if (sec[i]) {
            w_uint(w, KK_DH_PRIVATE + i);
            w_secret(w, sec[i]);
        }
    }
}

static void w_ike(struct w *w, const struct hk_ctx_ike *c)
{
    const struct hk_ctx_resp *r = &c->resp;
    size_t n = 21 + (r->npkts != 0) + c->has_life + (c->nvids != 0) + (c->naddrs != 0) +
               (c->nvips != 0) + c->has_dpd + c->has_clone_family + c->childless_offered;
    w_head(w, MT_MAP, n);
    w_uint(w, K_FORMAT);
    w_uint(w, HK_CTX_VERSION);
    w_uint(w, K_IKE_VERSION);
    w_uint(w, c->version);
    w_uint(w, K_INITIATOR);
    w_bool(w, c->initiator);
    w_uint(w, K_LOCAL);
    w_addr(w, &c->local);
    w_uint(w, K_REMOTE);
    w_addr(w, &c->remote);
    w_uint(w, K_SPI_I);
    w_bytes(w, c->spi_i, 8);
    w_uint(w, K_SPI_R);
    w_bytes(w, c->spi_r, 8);
    w_uint(w, K_MSGID_OUT);
    w_uint(w, c->req_next);
    w_uint(w, K_MSGID_IN);
    w_uint(w, c->peer_req_next);
    w_uint(w, K_WINDOW);
    w_uint(w, c->window);
    w_uint(w, K_ALG);
    w_head(w, MT_ARRAY, 6);
    w_uint(w, c->alg.encr);
    w_uint(w, c->alg.encr_key_bits);
    w_uint(w, c->alg.integ);
    w_uint(w, c->alg.integ_key_bits);
    w_uint(w, c->alg.prf);
    w_uint(w, c->alg.ke);
    w_uint(w, K_KEYS);
    w_keys(w, &c->keys);
    w_uint(w, K_EXT);
    w_uint(w, c->ext);
    w_uint(w, K_NAT_LOCAL);
    w_bool(w, c->nat_local);
    w_uint(w, K_NAT_REMOTE);
    w_bool(w, c->nat_remote);
    w_uint(w, K_LOCAL_ID);
    w_id(w, &c->local_id);
    w_uint(w, K_PEER_ID);
    w_id(w, &c->peer_id);
    w_uint(w, K_LOCAL_AUTH);
    w_uint(w, c->local_auth);
    w_uint(w, K_PEER_AUTH);
    w_uint(w, c->peer_auth);
    w_uint(w, K_CONN);
    w_text(w, c->conn);
    w_uint(w, K_CHILDREN);
    w_head(w, MT_ARRAY, c->nchildren);
    for (size_t i = 0; i < c->nchildren; i++)
        w_child(w, &c->children[i]);
    if (r->npkts) {
        w_uint(w, K_RESP);
        w_head(w, MT_ARRAY, 5);
        w_uint(w, r->msg_id);
        w_uint(w, r->exchange);
        w_uint(w, r->req_len);
        w_bytes(w, r->req_tail, sizeof(r->req_tail));
        w_head(w, MT_ARRAY, r->npkts);
        for (size_t i = 0; i < r->npkts; i++)
            w_bytes(w, r->pkts[i].p, r->pkts[i].len);
    }
    if (c->has_life) {
        w_uint(w, K_LIFE);
        w_head(w, MT_ARRAY, 4);
        w_uint(w, c->life.age_ms);
        w_uint(w, c->life.rekey_in_ms);
        w_uint(w, c->life.reauth_in_ms);
        w_uint(w, c->life.expire_in_ms);
    }
    if (c->nvids) {
        w_uint(w, K_VIDS);
        w_head(w, MT_ARRAY, c->nvids);
        for (size_t i = 0; i < c->nvids; i++)
            w_bytes(w, c->vids[i].p, c->vids[i].len);
    }
    if (c->naddrs) {
        w_uint(w, K_MOBIKE_ADDRS);
        w_head(w, MT_ARRAY, c->naddrs);
        for (size_t i = 0; i < c->naddrs; i++)
            w_addr(w, &c->addrs[i]);
    }
    if (c->nvips) {
        w_uint(w, K_VIPS);
        w_head(w, MT_ARRAY, c->nvips);
        for (size_t i = 0; i < c->nvips; i++) {
            w_head(w, MT_ARRAY, 2);
            w_addr(w, &c->vips[i].addr);
            w_text(w, c->vips[i].pool);
        }
    }
    if (c->has_dpd) {
        w_uint(w, K_DPD);
        w_uint(w, c->last_in_age_ms);
    }
    if (c->has_clone_family) {
        w_uint(w, K_CLONE_FAMILY);
        w_uint(w, c->clone_family);
    }
    if (c->childless_offered) {
        w_uint(w, K_CHILDLESS_OFFERED);
        w_bool(w, true);
    }
}

int hk_ctx_encode(const struct hk_ctx_ike *ctx, struct hk_secret **out, struct hk_diag *d)
{
    *out = NULL;
    if (hk_ctx_ike_check(ctx, d) < 0)
        return HK_E_INVALID;
    struct w w = {0};
    w_ike(&w, ctx);
    if (w.len > HK_CTX_MAX_LEN) {
        hk_diag_set(d, "context: %zu octets, more than %u", w.len, HK_CTX_MAX_LEN);
        return HK_E_OVERFLOW;
    }
    struct hk_secret *s = hk_secret_new(w.len);
    if (!s)
        return HK_E_NOMEM;
    w = (struct w){.p = s->data, .cap = s->len};
    w_ike(&w, ctx);
    if (w.len != s->len) { /* both passes write the same items */
        hk_secret_free(&s);
        return HK_E_INVALID;
    }
    *out = s;
    return HK_OK;
}

/* ------------------------------------------------------------------ reader */

enum it_type {
    IT_NONE,
    IT_UINT,
    IT_NEG,
    IT_BYTES,
    IT_TEXT,
    IT_ARRAY,
    IT_MAP,
    IT_BOOL,
    IT_TAG,
    IT_INDEF,
    IT_OTHER
};

struct it {
    uint8_t t;
    uint64_t u;
    const uint8_t *s;
    size_t n;
    bool b;
};

struct rd {
    const uint8_t *p;
    size_t len, off;
    struct hk_diag *d;
    const char *where; /* "", "child 3 " */
};

static void cb_u8(void *c, uint8_t v)
{
    *(struct it *)c = (struct it){.t = IT_UINT, .u = v};
}
static void cb_u16(void *c, uint16_t v)
{
    *(struct it *)c = (struct it){.t = IT_UINT, .u = v};
}
static void cb_u32(void *c, uint32_t v)
{
    *(struct it *)c = (struct it){.t = IT_UINT, .u = v};
}
static void cb_u64(void *c, uint64_t v)
{
    *(struct it *)c = (struct it){.t = IT_UINT, .u = v};
}
static void cb_n8(void *c, uint8_t v)
{
    (void)v, ((struct it *)c)->t = IT_NEG;
}
static void cb_n16(void *c, uint16_t v)
{
    (void)v, ((struct it *)c)->t = IT_NEG;
}
static void cb_n32(void *c, uint32_t v)
{
    (void)v, ((struct it *)c)->t = IT_NEG;
}
static void cb_n64(void *c, uint64_t v)
{
    (void)v, ((struct it *)c)->t = IT_NEG;
}
static void cb_bytes(void *c, cbor_data p, size_t n)
{
    *(struct it *)c = (struct it){.t = IT_BYTES, .s = p, .n = n};
}
static void cb_text(void *c, cbor_data p, size_t n)
{
    *(struct it *)c = (struct it){.t = IT_TEXT, .s = p, .n = n};
}
static void cb_indef(void *c)
{
    ((struct it *)c)->t = IT_INDEF;
}
static void cb_other(void *c)
{
    ((struct it *)c)->t = IT_OTHER;
}
static void cb_array(void *c, size_t n)
{
    *(struct it *)c = (struct it){.t = IT_ARRAY, .u = n};
}
static void cb_map(void *c, size_t n)
{
    *(struct it *)c = (struct it){.t = IT_MAP, .u = n};
}
static void cb_tag(void *c, uint64_t v)
{
    (void)v, ((struct it *)c)->t = IT_TAG;
}
static void cb_f(void *c, float v)
{
    (void)v, ((struct it *)c)->t = IT_OTHER;
}
static void cb_d(void *c, double v)
{
    (void)v, ((struct it *)c)->t = IT_OTHER;
}
static void cb_bool(void *c, bool v)
{
    *(struct it *)c = (struct it){.t = IT_BOOL, .b = v};
}

static const struct cbor_callbacks cbs = {
    .uint8 = cb_u8,
    .uint16 = cb_u16,
    .uint32 = cb_u32,
    .uint64 = cb_u64,
    .negint8 = cb_n8,
    .negint16 = cb_n16,
    .negint32 = cb_n32,
    .negint64 = cb_n64,
    .byte_string_start = cb_indef,
    .byte_string = cb_bytes,
    .string = cb_text,
    .string_start = cb_indef,
    .indef_array_start = cb_indef,
    .array_start = cb_array,
    .indef_map_start = cb_indef,
    .map_start = cb_map,
    .tag = cb_tag,
    .float2 = cb_f,
    .float4 = cb_f,
    .float8 = cb_d,
    .undefined = cb_other,
    .null = cb_other,
    .boolean = cb_bool,
    .indef_break = cb_indef,
};

/* One item head (a whole string); counts of arrays and maps checked against what is left. */
static int rd_next(struct rd *r, struct it *it, const char *name)
{
    if (r->off >= r->len) {
        hk_diag_set(r->d, "context: %s%s: truncated", r->where, name);
        return HK_E_SHORT;
    }
    *it = (struct it){0};
    struct cbor_decoder_result res = cbor_stream_decode(r->p + r->off, r->len - r->off, &cbs, it);
    if (res.status == CBOR_DECODER_NEDATA) {
        hk_diag_set(r->d, "context: %s%s: truncated", r->where, name);
        return HK_E_SHORT;
    }
    if (res.status != CBOR_DECODER_FINISHED || it->t == IT_NONE || res.read == 0 ||
        res.read > r->len - r->off) {
        hk_diag_set(r->d, "context: %s%s: malformed CBOR", r->where, name);
        return HK_E_SYNTAX;
    }
    r->off += res.read;
    if (it->t == IT_INDEF) {
        hk_diag_set(r->d, "context: %s%s: indefinite-length item", r->where, name);
        return HK_E_SYNTAX;
    }
    size_t left = r->len - r->off;
    if ((it->t == IT_ARRAY && it->u > left) || (it->t == IT_MAP && it->u > left / 2)) {
        hk_diag_set(r->d, "context: %s%s: count %llu past the input", r->where, name,
                    (unsigned long long)it->u);
        return HK_E_LENGTH;
    }
    return HK_OK;
}

static int wrong_type(struct rd *r, const char *name)
{
    hk_diag_set(r->d, "context: %s%s: wrong type", r->where, name);
    return HK_E_SYNTAX;
}

static int rd_uint(struct rd *r, uint64_t max, uint64_t *v, const char *name)
{
    struct it it;
    int rc = rd_next(r, &it, name);
    if (rc < 0)
        return rc;
    if (it.t != IT_UINT)
        return wrong_type(r, name);
    if (it.u > max) {
        hk_diag_set(r->d, "context: %s%s: %llu out of range", r->where, name,
                    (unsigned long long)it.u);
        return HK_E_SYNTAX;
    }
    *v = it.u;
    return HK_OK;
}

#define RD_U(r, max, dst, name)                                                                    \
    do {                                                                                           \
        uint64_t v_;                                                                               \
        if ((rc = rd_uint(r, max, &v_, name)) < 0)                                                 \
            return rc;                                                                             \
        (dst) = v_;                                                                                \
    } while (0)

static int rd_bool(struct rd *r, bool *b, const char *name)
{
    struct it it;
    int rc = rd_next(r, &it, name);
    if (rc < 0)
        return rc;
    if (it.t != IT_BOOL)
        return wrong_type(r, name);
    *b = it.b;
    return HK_OK;
}

static int rd_bstr(struct rd *r, size_t min, size_t max, const uint8_t **p, size_t *n,
                   const char *name)
{
    struct it it;
    int rc = rd_next(r, &it, name);
    if (rc < 0)
        return rc;
    if (it.t != IT_BYTES)
        return wrong_type(r, name);
    if (it.n < min || it.n > max) {
        hk_diag_set(r->d, "context: %s%s: length %zu outside %zu..%zu", r->where, name, it.n, min,
                    max);
        return HK_E_LENGTH;
    }
    *p = it.s;
    *n = it.n;
    return HK_OK;
}

static int rd_owned(struct rd *r, size_t min, size_t max, struct hk_ctx_bytes *b, const char *name)
{
    const uint8_t *p;
    size_t n;
    int rc = rd_bstr(r, min, max, &p, &n, name);
    return rc < 0 ? rc : hk_ctx_bytes_set(b, p, n);
}

/* An empty string is an absent key (a KEYMAT slot the transforms do not use). */
static int rd_secret(struct rd *r, size_t min, size_t max, struct hk_secret **s, const char *name)
{
    const uint8_t *p;
    size_t n;
    int rc = rd_bstr(r, min, max, &p, &n, name);
    if (rc < 0)
        return rc;
    hk_secret_free(s);
    if (n == 0)
        return HK_OK;
    *s = hk_secret_dup(p, n);
    return *s ? HK_OK : HK_E_NOMEM;
}

static int rd_text(struct rd *r, char *buf, size_t cap, const char *name)
{
    struct it it;
    int rc = rd_next(r, &it, name);
    if (rc < 0)
        return rc;
    if (it.t != IT_TEXT)
        return wrong_type(r, name);
    if (it.n >= cap || memchr(it.s, 0, it.n)) {
        hk_diag_set(r->d, "context: %s%s: too long or holds a NUL", r->where, name);
        return HK_E_LENGTH;
    }
    memcpy(buf, it.s, it.n);
    buf[it.n] = 0;
    return HK_OK;
}

static int rd_array(struct rd *r, size_t min, size_t max, size_t *n, const char *name)
{
    struct it it;
    int rc = rd_next(r, &it, name);
    if (rc < 0)
        return rc;
    if (it.t != IT_ARRAY)
        return wrong_type(r, name);
    if (it.u < min || it.u > max) {
        hk_diag_set(r->d, "context: %s%s: %llu entries, not %zu..%zu", r->where, name,
                    (unsigned long long)it.u, min, max);
        return HK_E_LENGTH;
    }
    *n = it.u;
    return HK_OK;
}

static int rd_map(struct rd *r, size_t *n, const char *name)
{
    struct it it;
    int rc = rd_next(r, &it, name);
    if (rc < 0)
        return rc;
    if (it.t != IT_MAP)
        return wrong_type(r, name);
    if (it.u > MAX_ENTRIES) {
        hk_diag_set(r->d, "context: %s%s: %llu entries", r->where, name, (unsigned long long)it.u);
        return HK_E_LENGTH;
    }
    *n = it.u;
    return HK_OK;
}

/* Any well-formed item of a kind the format uses, nested at most MAX_DEPTH deep. */
static int rd_skip(struct rd *r, unsigned depth, const char *name)
{
    struct it it;
    int rc = rd_next(r, &it, name);
    if (rc < 0)
        return rc;
    if (it.t == IT_TAG || it.t == IT_OTHER || it.t == IT_NEG)
        return wrong_type(r, name);
    if (it.t != IT_ARRAY && it.t != IT_MAP)
        return HK_OK;
    if (depth >= MAX_DEPTH) {
        hk_diag_set(r->d, "context: %s%s: nested too deep", r->where, name);
        return HK_E_SYNTAX;
    }
    uint64_t items = it.t == IT_MAP ? it.u * 2 : it.u;
    for (uint64_t i = 0; i < items; i++)
        if ((rc = rd_skip(r, depth + 1, name)) < 0)
            return rc;
    return HK_OK;
}

/*
 * The next key of a map: a uint above the previous one (ascending order makes a repeated key
 * an error without a table).
 */
static int rd_key(struct rd *r, bool first, uint64_t *prev, uint64_t *key, const char *map)
{
    int rc = rd_uint(r, UINT32_MAX, key, map);
    if (rc < 0)
        return rc;
    if (!first && *key <= *prev) {
        hk_diag_set(r->d, "context: %s%s: key %llu repeated or out of order", r->where, map,
                    (unsigned long long)*key);
        return HK_E_SYNTAX;
    }
    *prev = *key;
    return HK_OK;
}

/* A key this reader does not know: its range says what to do. */
static int rd_unknown(struct rd *r, uint64_t key, const char *map)
{
    if (key < LVL_OPTIONAL) {
        hk_diag_set(r->d, "context: %s%s: unknown mandatory parameter %llu (a newer format?)",
                    r->where, map, (unsigned long long)key);
        return HK_E_SYNTAX;
    }
    return rd_skip(r, 0, map);
}

static int need(struct rd *r, uint32_t seen, uint32_t mandatory, const char *const *names,
                const char *map)
{
    for (unsigned k = 1; k < LVL_OPTIONAL; k++) {
        if ((mandatory >> k & 1) && !(seen >> k & 1)) {
            hk_diag_set(r->d, "context: %smissing mandatory parameter %s%s", r->where, map,
                        names[k]);
            return HK_E_SYNTAX;
        }
    }
    return HK_OK;
}

static int rd_addr(struct rd *r, struct hk_ctx_addr *a, const char *name)
{
    size_t n;
    const uint8_t *p;
    int rc;
    if ((rc = rd_array(r, 2, 2, &n, name)) < 0 || (rc = rd_bstr(r, 4, 16, &p, &n, name)) < 0)
        return rc;
    if (n != 4 && n != 16) {
        hk_diag_set(r->d, "context: %s%s: address of %zu octets", r->where, name, n);
        return HK_E_LENGTH;
    }
    memset(a, 0, sizeof(*a));
    a->af = n == 4 ? AF_INET : AF_INET6;
    memcpy(a->addr, p, n);
    RD_U(r, UINT16_MAX, a->port, name);
    return HK_OK;
}

static int rd_id(struct rd *r, struct hk_ctx_id *id, const char *name)
{
    size_t n;
    int rc;
    if ((rc = rd_array(r, 2, 2, &n, name)) < 0)
        return rc;
    RD_U(r, UINT8_MAX, id->type, name);
    return rd_owned(r, 0, HK_CTX_MAX_ID_LEN, &id->data, name);
}

static int rd_ts(struct rd *r, struct ike_ts *ts, size_t *nts, const char *name)
{
    int rc;
    if ((rc = rd_array(r, 0, HK_CTX_MAX_TS, nts, name)) < 0)
        return rc;
    for (size_t i = 0; i < *nts; i++) {
        size_t n, al;
        const uint8_t *p;
        struct ike_ts *t = &ts[i];
        memset(t, 0, sizeof(*t));
        if ((rc = rd_array(r, 6, 6, &n, name)) < 0)
            return rc;
        RD_U(r, UINT8_MAX, t->type, name);
        RD_U(r, UINT8_MAX, t->ip_proto, name);
        RD_U(r, UINT16_MAX, t->start_port, name);
        RD_U(r, UINT16_MAX, t->end_port, name);
        al = t->type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;
        if ((rc = rd_bstr(r, al, al, &p, &n, name)) < 0)
            return rc;
        memcpy(t->start_addr, p, n);
        if ((rc = rd_bstr(r, al, al, &p, &n, name)) < 0)
            return rc;
        memcpy(t->end_addr, p, n);
    }
    return HK_OK;
}

static int rd_child(struct rd *r, struct hk_ctx_child *c)
{
    size_t n, m;
    uint64_t prev = 0, key, v;
    uint32_t seen = 0;
    int rc;
    struct hk_esp_state *e = &c->esp;
    if ((rc = rd_map(r, &n, "child")) < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if ((rc = rd_key(r, i == 0, &prev, &key, "child")) < 0)
            return rc;
        const char *name = key < LVL_OPTIONAL && child_names[key] ? child_names[key] : "child";
        switch (key) {
        case C_LOCAL:
            rc = rd_addr(r, &c->local, name);
            break;
        case C_REMOTE:
            rc = rd_addr(r, &c->remote, name);
            break;
        case C_UDP_ENCAP:
            rc = rd_bool(r, &c->udp_encap, name);
            break;
        case C_SPI_IN:
            RD_U(r, UINT32_MAX, c->spi_in, name);
            break;
        case C_SPI_OUT:
            RD_U(r, UINT32_MAX, c->spi_out, name);
            break;
        case C_PROTOCOL:
            RD_U(r, UINT8_MAX, c->protocol, name);
            break;
        case C_MODE:
            if ((rc = rd_uint(r, MODE_TRANSPORT, &v, name)) == 0 && v == 0)
                rc = wrong_type(r, name);
            c->transport = v == MODE_TRANSPORT;
            break;
        case C_IPCOMP:
            if ((rc = rd_array(r, 4, 4, &m, name)) < 0 || (rc = rd_bool(r, &c->ipcomp, name)) < 0)
                return rc;
            RD_U(r, UINT16_MAX, c->cpi_in, name);
            RD_U(r, UINT16_MAX, c->cpi_out, name);
            RD_U(r, UINT8_MAX, c->ipcomp_alg, name);
            break;
        case C_SEQ:
            if ((rc = rd_array(r, 3, 3, &m, name)) < 0)
                return rc;
            RD_U(r, UINT64_MAX, e->seq_out, name);
            if ((rc = rd_bool(r, &e->esn, name)) < 0 ||
                (rc = rd_bool(r, &c->seq_no_rollover, name)) < 0)
                return rc;
            break;
        case C_REPLAY: {
            const uint8_t *p;
            if ((rc = rd_array(r, 3, 3, &m, name)) < 0)
                return rc;
            RD_U(r, HK_REPLAY_MAX_SIZE, e->replay_window, name);
            if (e->replay_window % 64) {
                hk_diag_set(r->d, "context: %s%s: window not a multiple of 64", r->where, name);
                return HK_E_SYNTAX;
            }
            RD_U(r, UINT64_MAX, e->replay_top, name);
            size_t bl = e->replay_window / 8;
            if ((rc = rd_bstr(r, bl, bl, &p, &m, name)) < 0)
                return rc;
            for (size_t w = 0; w < bl / 8; w++) {
                uint64_t x = 0;
                for (int j = 0; j < 8; j++)
                    x = x << 8 | p[w * 8 + j];
                e->replay_bits[w] = x;
            }
            break;
        }
        case C_LIMITS:
            if ((rc = rd_array(r, 6, 6, &m, name)) < 0)
                return rc;
            RD_U(r, UINT64_MAX, c->soft_bytes, name);
            RD_U(r, UINT64_MAX, c->hard_bytes, name);
            RD_U(r, UINT64_MAX, c->soft_packets, name);
            RD_U(r, UINT64_MAX, c->hard_packets, name);
            RD_U(r, UINT64_MAX, c->rekey_in_ms, name);
            RD_U(r, UINT64_MAX, c->expire_in_ms, name);
            break;
        case C_USAGE:
            if ((rc = rd_array(r, 5, 5, &m, name)) < 0)
                return rc;
            RD_U(r, UINT64_MAX, e->bytes_in, name);
            RD_U(r, UINT64_MAX, e->packets_in, name);
            RD_U(r, UINT64_MAX, e->bytes_out, name);
            RD_U(r, UINT64_MAX, e->packets_out, name);
            RD_U(r, 15, v, name);
            e->soft_in = v & FIRED_SOFT_IN;
            e->hard_in = v & FIRED_HARD_IN;
            e->soft_out = v & FIRED_SOFT_OUT;
            e->hard_out = v & FIRED_HARD_OUT;
            break;
        case C_PATH_MTU:
            RD_U(r, UINT32_MAX, c->path_mtu, name);
            break;
        case C_TS_LOCAL:
            rc = rd_ts(r, c->ts_local, &c->nts_local, name);
            break;
        case C_TS_REMOTE:
            rc = rd_ts(r, c->ts_remote, &c->nts_remote, name);
            break;
        case C_ALG:
            if ((rc = rd_array(r, 5, 5, &m, name)) < 0)
                return rc;
            RD_U(r, UINT16_MAX, c->alg.encr, name);
            RD_U(r, UINT16_MAX, c->alg.encr_key_bits, name);
            RD_U(r, UINT16_MAX, c->alg.integ, name);
            RD_U(r, UINT16_MAX, c->alg.integ_key_bits, name);
            RD_U(r, UINT16_MAX, c->alg.ke, name);
            break;
        case C_INITIATOR:
            rc = rd_bool(r, &c->initiator, name);
            break;
        case C_KEYMAT:
            if ((rc = rd_array(r, 4, 4, &m, name)) < 0 ||
                (rc = rd_secret(r, 0, HK_CTX_MAX_KEY_LEN, &c->encr_ir, name)) < 0 ||
                (rc = rd_secret(r, 0, HK_CTX_MAX_KEY_LEN, &c->integ_ir, name)) < 0 ||
                (rc = rd_secret(r, 0, HK_CTX_MAX_KEY_LEN, &c->encr_ri, name)) < 0 ||
                (rc = rd_secret(r, 0, HK_CTX_MAX_KEY_LEN, &c->integ_ri, name)) < 0)
                return rc;
            break;
        case C_NAME:
            rc = rd_text(r, c->name, sizeof(c->name), "name");
            break;
        case C_AGE:
            RD_U(r, UINT64_MAX, c->age_ms, "age");
            c->has_age = true;
            break;
        case C_FLOW_ID:
            RD_U(r, UINT32_MAX, c->flow_id, "flow_id");
            c->has_flow_id = true;
            break;
        default:
            rc = rd_unknown(r, key, "child");
            break;
        }
        if (rc < 0)
            return rc;
        if (key < LVL_OPTIONAL)
            seen |= 1u << key;
    }
    return need(r, seen, CHILD_MANDATORY, child_names, "");
}

static int rd_keys(struct rd *r, struct hk_ctx_ike_keys *k)
{
    size_t n;
    uint64_t prev = 0, key;
    uint32_t seen = 0;
    int rc;
    if ((rc = rd_map(r, &n, "keys")) < 0)
        return rc;
    struct hk_secret **sec[] = {&k->dh_private, NULL,      &k->skeyseed, &k->sk_d,  &k->sk_ai,
                                &k->sk_ar,      &k->sk_ei, &k->sk_er,    &k->sk_pi, &k->sk_pr};
    for (size_t i = 0; i < n; i++) {
        if ((rc = rd_key(r, i == 0, &prev, &key, "keys")) < 0)
            return rc;
        if (key == KK_MODE) {
            RD_U(r, UINT8_MAX, k->mode, "keys.mode");
        } else if (key == KK_NI) {
            rc = rd_owned(r, 1, HK_CTX_NONCE_MAX, &k->ni, "keys.ni");
        } else if (key == KK_NR) {
            rc = rd_owned(r, 1, HK_CTX_NONCE_MAX, &k->nr, "keys.nr");
        } else if (key == KK_PEER_KE) {
            rc = rd_owned(r, 1, HK_CTX_MAX_KE_LEN, &k->peer_ke, "keys.peer_ke");
        } else if (key == KK_DH_PRIVATE) {
            rc = rd_secret(r, 1, HK_CTX_MAX_KE_LEN, &k->dh_private, "keys.dh_private");
        } else if (key >= KK_SKEYSEED && key <= KK_SK_PR) {
            rc = rd_secret(r, 1, HK_CTX_MAX_KEY_LEN, sec[key - KK_DH_PRIVATE], keys_names[key]);
        } else {
            rc = rd_unknown(r, key, "keys");
        }
        if (rc < 0)
            return rc;
        if (key < LVL_OPTIONAL)
            seen |= 1u << key;
    }
    return need(r, seen, KEYS_MANDATORY, keys_names, "keys.");
}

static int rd_ike(struct rd *r, struct hk_ctx_ike *c)
{
    size_t n, m;
    uint64_t prev = 0, key, v;
    uint32_t seen = 0;
    int rc;
    if ((rc = rd_map(r, &n, "context")) < 0)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if ((rc = rd_key(r, i == 0, &prev, &key, "context")) < 0)
            return rc;
        /* The format version first (the lowest key): another version may mean other keys. */
        if (i == 0 && key != K_FORMAT) {
            hk_diag_set(r->d, "context: missing mandatory parameter format");
            return HK_E_SYNTAX;
        }
        const char *name = key < LVL_OPTIONAL && ike_names[key] ? ike_names[key] : "context";
        switch (key) {
        case K_FORMAT:
            RD_U(r, UINT32_MAX, v, name);
            if (v != HK_CTX_VERSION) {
                hk_diag_set(r->d, "context: format version %llu, this node reads %u",
                            (unsigned long long)v, HK_CTX_VERSION);
                return HK_E_UNSUPPORTED;
            }
            break;
        case K_IKE_VERSION:
            RD_U(r, UINT8_MAX, c->version, name);
            break;
        case K_INITIATOR:
            rc = rd_bool(r, &c->initiator, name);
            break;
        case K_LOCAL:
            rc = rd_addr(r, &c->local, name);
            break;
        case K_REMOTE:
            rc = rd_addr(r, &c->remote, name);
            break;
        case K_SPI_I:
        case K_SPI_R: {
            const uint8_t *p;
            if ((rc = rd_bstr(r, 8, 8, &p, &m, name)) < 0)
                return rc;
            memcpy(key == K_SPI_I ? c->spi_i : c->spi_r, p, 8);
            break;
        }
        case K_MSGID_OUT:
            RD_U(r, UINT32_MAX, c->req_next, name);
            break;
        case K_MSGID_IN:
            RD_U(r, UINT32_MAX, c->peer_req_next, name);
            break;
        case K_WINDOW:
            RD_U(r, UINT32_MAX, c->window, name);
            break;
        case K_ALG:
            if ((rc = rd_array(r, 6, 6, &m, name)) < 0)
                return rc;
            RD_U(r, UINT16_MAX, c->alg.encr, name);
            RD_U(r, UINT16_MAX, c->alg.encr_key_bits, name);
            RD_U(r, UINT16_MAX, c->alg.integ, name);
            RD_U(r, UINT16_MAX, c->alg.integ_key_bits, name);
            RD_U(r, UINT16_MAX, c->alg.prf, name);
            RD_U(r, UINT16_MAX, c->alg.ke, name);
            break;
        case K_KEYS:
            rc = rd_keys(r, &c->keys);
            break;
        case K_EXT:
            RD_U(r, UINT32_MAX, c->ext, name);
            break;
        case K_NAT_LOCAL:
            rc = rd_bool(r, &c->nat_local, name);
            break;
        case K_NAT_REMOTE:
            rc = rd_bool(r, &c->nat_remote, name);
            break;
        case K_LOCAL_ID:
            rc = rd_id(r, &c->local_id, name);
            break;
        case K_PEER_ID:
            rc = rd_id(r, &c->peer_id, name);
            break;
        case K_LOCAL_AUTH:
            RD_U(r, UINT8_MAX, c->local_auth, name);
            break;
        case K_PEER_AUTH:
            RD_U(r, UINT8_MAX, c->peer_auth, name);
            break;
        case K_CONN:
            rc = rd_text(r, c->conn, sizeof(c->conn), name);
            break;
        case K_CHILDREN: {
            char where[32];
            const char *outer = r->where;
            if ((rc = rd_array(r, 0, HK_CTX_MAX_CHILDREN, &m, name)) < 0)
                return rc;
            if (m && !(c->children = calloc(m, sizeof(*c->children))))
                return HK_E_NOMEM;
            for (size_t j = 0; j < m; j++) {
                c->nchildren = j + 1; /* so that a failure frees what was read */
                snprintf(where, sizeof(where), "child %zu: ", j);
                r->where = where;
                rc = rd_child(r, &c->children[j]);
                r->where = outer;
                if (rc < 0)
                    return rc;
            }
            break;
        }
        case K_RESP: {
            struct hk_ctx_resp *rs = &c->resp;
            const uint8_t *p;
            if ((rc = rd_array(r, 5, 5, &m, "resp")) < 0)
                return rc;
            RD_U(r, UINT32_MAX, rs->msg_id, "resp");
            RD_U(r, UINT8_MAX, rs->exchange, "resp");
            RD_U(r, UINT32_MAX, rs->req_len, "resp");
            if ((rc = rd_bstr(r, HK_CTX_REQ_TAIL, HK_CTX_REQ_TAIL, &p, &m, "resp")) < 0 ||
                (rc = rd_array(r, 1, HK_CTX_MAX_RESP_PKTS, &m, "resp")) < 0)
                return rc;
            memcpy(rs->req_tail, p, HK_CTX_REQ_TAIL);
            if (!(rs->pkts = calloc(m, sizeof(*rs->pkts))))
                return HK_E_NOMEM;
            for (size_t j = 0; j < m; j++) {
                rs->npkts = j + 1;
                if ((rc = rd_owned(r, 1, HK_CTX_MAX_PKT_LEN, &rs->pkts[j], "resp")) < 0)
                    return rc;
            }
            break;
        }
        case K_LIFE:
            if ((rc = rd_array(r, 4, 4, &m, "life")) < 0)
                return rc;
            RD_U(r, UINT64_MAX, c->life.age_ms, "life");
            RD_U(r, UINT64_MAX, c->life.rekey_in_ms, "life");
            RD_U(r, UINT64_MAX, c->life.reauth_in_ms, "life");
            RD_U(r, UINT64_MAX, c->life.expire_in_ms, "life");
            c->has_life = true;
            break;
        case K_VIDS:
            if ((rc = rd_array(r, 1, HK_CTX_MAX_VIDS, &m, "vendor_ids")) < 0)
                return rc;
            if (!(c->vids = calloc(m, sizeof(*c->vids))))
                return HK_E_NOMEM;
            for (size_t j = 0; j < m; j++) {
                c->nvids = j + 1;
                if ((rc = rd_owned(r, 1, HK_CTX_MAX_VID_LEN, &c->vids[j], "vendor_ids")) < 0)
                    return rc;
            }
            break;
        case K_MOBIKE_ADDRS:
            if ((rc = rd_array(r, 1, HK_CTX_MAX_ADDRS, &c->naddrs, "mobike_addrs")) < 0)
                return rc;
            for (size_t j = 0; j < c->naddrs; j++)
                if ((rc = rd_addr(r, &c->addrs[j], "mobike_addrs")) < 0)
                    return rc;
            break;
        case K_VIPS:
            if ((rc = rd_array(r, 1, HK_CTX_MAX_VIPS, &c->nvips, "vips")) < 0)
                return rc;
            for (size_t j = 0; j < c->nvips; j++)
                if ((rc = rd_array(r, 2, 2, &m, "vips")) < 0 ||
                    (rc = rd_addr(r, &c->vips[j].addr, "vips")) < 0 ||
                    (rc = rd_text(r, c->vips[j].pool, sizeof(c->vips[j].pool), "vips")) < 0)
                    return rc;
            break;
        case K_DPD:
            RD_U(r, UINT64_MAX, c->last_in_age_ms, "dpd");
            c->has_dpd = true;
            break;
        case K_CLONE_FAMILY:
            RD_U(r, UINT64_MAX, c->clone_family, "clone_family");
            c->has_clone_family = true;
            break;
        case K_CHILDLESS_OFFERED:
            rc = rd_bool(r, &c->childless_offered, "childless_offered");
            break;
        default:
            rc = rd_unknown(r, key, "context");
            break;
        }
        if (rc < 0)
            return rc;
        if (key < LVL_OPTIONAL)
            seen |= 1u << key;
    }
    return need(r, seen, IKE_MANDATORY, ike_names, "");
}

int hk_ctx_decode(const uint8_t *p, size_t len, struct hk_ctx_ike *out, struct hk_diag *d)
{
    memset(out, 0, sizeof(*out));
    if (len > HK_CTX_MAX_LEN) {
        hk_diag_set(d, "context: %zu octets, more than %u", len, HK_CTX_MAX_LEN);
        return HK_E_LENGTH;
    }
    struct rd r = {.p = p, .len = len, .d = d, .where = ""};
    int rc = rd_ike(&r, out);
    if (rc == HK_OK && r.off != r.len) {
        hk_diag_set(d, "context: %zu octets after the context", r.len - r.off);
        rc = HK_E_SYNTAX;
    }
    if (rc == HK_OK)
        rc = hk_ctx_ike_check(out, d);
    if (rc < 0)
        hk_ctx_ike_free(out);
    return rc;
}
