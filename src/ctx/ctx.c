/* IKE and IPsec SA contexts: ownership and the checks every context passes (ctx.h). */
#include "ctx/ctx.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/err.h"
#include "crypto/kdf.h"

const char *hk_ctx_keys_mode_name(uint8_t mode)
{
    switch (mode) {
    case HK_CTX_KEYS_DH:
        return "dh";
    case HK_CTX_KEYS_SKEYSEED:
        return "skeyseed";
    case HK_CTX_KEYS_SK:
        return "sk";
    }
    return "?";
}

static void bytes_clear(struct hk_ctx_bytes *b)
{
    free(b->p);
    b->p = NULL;
    b->len = 0;
}

int hk_ctx_bytes_set(struct hk_ctx_bytes *b, const uint8_t *p, size_t len)
{
    bytes_clear(b);
    if (len == 0)
        return HK_OK;
    b->p = malloc(len);
    if (!b->p)
        return HK_E_NOMEM;
    memcpy(b->p, p, len);
    b->len = len;
    return HK_OK;
}

void hk_ctx_child_free(struct hk_ctx_child *c)
{
    hk_secret_free(&c->encr_ir);
    hk_secret_free(&c->integ_ir);
    hk_secret_free(&c->encr_ri);
    hk_secret_free(&c->integ_ri);
    /* The replay window and counters are not keys, but the whole record goes. */
    hk_wipe(c, sizeof(*c));
}

void hk_ctx_ike_free(struct hk_ctx_ike *ctx)
{
    struct hk_ctx_ike_keys *k = &ctx->keys;
    bytes_clear(&k->ni);
    bytes_clear(&k->nr);
    bytes_clear(&k->peer_ke);
    hk_secret_free(&k->dh_private);
    hk_secret_free(&k->skeyseed);
    hk_secret_free(&k->sk_d);
    hk_secret_free(&k->sk_ai);
    hk_secret_free(&k->sk_ar);
    hk_secret_free(&k->sk_ei);
    hk_secret_free(&k->sk_er);
    hk_secret_free(&k->sk_pi);
    hk_secret_free(&k->sk_pr);
    bytes_clear(&ctx->local_id.data);
    bytes_clear(&ctx->peer_id.data);
    for (size_t i = 0; i < ctx->nchildren; i++)
        hk_ctx_child_free(&ctx->children[i]);
    free(ctx->children);
    for (size_t i = 0; i < ctx->resp.npkts; i++)
        bytes_clear(&ctx->resp.pkts[i]);
    free(ctx->resp.pkts);
    for (size_t i = 0; i < ctx->nvids; i++)
        bytes_clear(&ctx->vids[i]);
    free(ctx->vids);
    memset(ctx, 0, sizeof(*ctx));
}

struct hk_ctx_child *hk_ctx_add_child(struct hk_ctx_ike *ctx)
{
    if (ctx->nchildren >= HK_CTX_MAX_CHILDREN)
        return NULL;
    struct hk_ctx_child *n = realloc(ctx->children, (ctx->nchildren + 1) * sizeof(*n));
    if (!n)
        return NULL;
    ctx->children = n;
    struct hk_ctx_child *c = &n[ctx->nchildren++];
    memset(c, 0, sizeof(*c));
    return c;
}

static size_t slen(const struct hk_secret *s)
{
    return s ? s->len : 0;
}

static int bad(struct hk_diag *d, const char *what, const char *name)
{
    hk_diag_set(d, "context: %s: %s", name, what);
    return HK_E_SYNTAX;
}

static int check_addr(const struct hk_ctx_addr *a, bool port_ok, const char *name,
                      struct hk_diag *d)
{
    if (a->af != AF_INET && a->af != AF_INET6)
        return bad(d, "not an IPv4 or IPv6 address", name);
    if (a->af == AF_INET) {
        static const uint8_t zero[12];
        if (memcmp(a->addr + 4, zero, sizeof(zero)) != 0)
            return bad(d, "IPv4 address with octets past 4", name);
    }
    if (!port_ok && a->port != 0)
        return bad(d, "port where none belongs", name);
    return HK_OK;
}

/* A key where the transform fixes its length must have that length; an algorithm this node
 * does not know is taken as it comes (within the bound). */
static int check_key(const struct hk_secret *k, size_t want, bool present, const char *name,
                     struct hk_diag *d)
{
    if (!present)
        return k ? bad(d, "key the transforms do not use", name) : HK_OK;
    if (!k || k->len == 0)
        return bad(d, "missing key", name);
    if (k->len > HK_CTX_MAX_KEY_LEN)
        return bad(d, "key too long", name);
    if (want && k->len != want)
        return bad(d, "key length does not fit the transform", name);
    return HK_OK;
}

static int check_nonce(const struct hk_ctx_bytes *n, bool need, const char *name, struct hk_diag *d)
{
    if (n->len == 0)
        return need ? bad(d, "missing for this key mode", name) : HK_OK;
    if (n->len < HK_CTX_NONCE_MIN || n->len > HK_CTX_NONCE_MAX)
        return bad(d, "nonce length outside 16..256 (RFC 7296 2.10)", name);
    return HK_OK;
}

static int check_keys(const struct hk_ctx_ike *ctx, struct hk_diag *d)
{
    const struct hk_ctx_ike_keys *k = &ctx->keys;
    bool dh = k->mode == HK_CTX_KEYS_DH, seed = k->mode == HK_CTX_KEYS_SKEYSEED;
    bool sk = k->mode == HK_CTX_KEYS_SK;
    if (!dh && !seed && !sk)
        return bad(d, "unknown key mode", "keys.mode");
    int rc;
    if ((rc = check_nonce(&k->ni, !sk, "keys.ni", d)) < 0 ||
        (rc = check_nonce(&k->nr, !sk, "keys.nr", d)) < 0)
        return rc;
    if (dh) {
        if (!k->dh_private || k->dh_private->len == 0 || k->dh_private->len > HK_CTX_MAX_KE_LEN)
            return bad(d, "missing or too long", "keys.dh_private");
        if (k->peer_ke.len == 0 || k->peer_ke.len > HK_CTX_MAX_KE_LEN)
            return bad(d, "missing or too long", "keys.peer_ke");
    } else if (k->dh_private || k->peer_ke.len) {
        return bad(d, "only in key mode dh", "keys.dh_private");
    }
    if (seed) {
        if ((rc = check_key(k->skeyseed, 0, true, "keys.skeyseed", d)) < 0)
            return rc;
    } else if (k->skeyseed) {
        return bad(d, "only in key mode skeyseed", "keys.skeyseed");
    }
    if (!sk) {
        if (k->sk_d || k->sk_ai || k->sk_ar || k->sk_ei || k->sk_er || k->sk_pi || k->sk_pr)
            return bad(d, "only in key mode sk", "keys.sk_*");
        return HK_OK;
    }
    bool aead = hk_encr_is_aead(ctx->alg.encr);
    size_t ek = hk_encr_key_len(ctx->alg.encr, ctx->alg.encr_key_bits);
    size_t ik = hk_integ_key_len(ctx->alg.integ);
    bool integ = !aead && ctx->alg.integ != 0;
    if ((rc = check_key(k->sk_d, 0, true, "keys.sk_d", d)) < 0 ||
        (rc = check_key(k->sk_ai, ik, integ, "keys.sk_ai", d)) < 0 ||
        (rc = check_key(k->sk_ar, ik, integ, "keys.sk_ar", d)) < 0 ||
        (rc = check_key(k->sk_ei, ek, true, "keys.sk_ei", d)) < 0 ||
        (rc = check_key(k->sk_er, ek, true, "keys.sk_er", d)) < 0)
        return rc;
    /* SK_pi and SK_pr may be left out (the draft, section 5), but not one without the other. */
    if (!k->sk_pi != !k->sk_pr)
        return bad(d, "one of SK_pi/SK_pr without the other", "keys.sk_pi");
    if (k->sk_pi && ((rc = check_key(k->sk_pi, slen(k->sk_d), true, "keys.sk_pi", d)) < 0 ||
                     (rc = check_key(k->sk_pr, slen(k->sk_d), true, "keys.sk_pr", d)) < 0))
        return rc;
    return HK_OK;
}

static int check_ts(const struct ike_ts *ts, size_t n, const char *name, struct hk_diag *d)
{
    if (n > HK_CTX_MAX_TS)
        return bad(d, "too many selectors", name);
    for (size_t i = 0; i < n; i++) {
        if (ts[i].type != IKE_TS_IPV4_ADDR_RANGE && ts[i].type != IKE_TS_IPV6_ADDR_RANGE)
            return bad(d, "selector type not 7 or 8", name);
        if (ts[i].type == IKE_TS_IPV4_ADDR_RANGE) {
            static const uint8_t zero[12];
            if (memcmp(ts[i].start_addr + 4, zero, 12) || memcmp(ts[i].end_addr + 4, zero, 12))
                return bad(d, "IPv4 selector with octets past 4", name);
        }
    }
    return HK_OK;
}

static int check_child(const struct hk_ctx_child *c, struct hk_diag *d)
{
    int rc;
    if ((rc = check_addr(&c->local, true, "child.local", d)) < 0 ||
        (rc = check_addr(&c->remote, true, "child.remote", d)) < 0)
        return rc;
    if (c->protocol != 2 && c->protocol != 3)
        return bad(d, "protocol neither AH (2) nor ESP (3)", "child.protocol");
    if (!c->ipcomp && (c->cpi_in || c->cpi_out || c->ipcomp_alg))
        return bad(d, "IPComp values without IPComp", "child.ipcomp");
    const struct hk_esp_state *e = &c->esp;
    if (e->replay_window % 64 || e->replay_window > HK_REPLAY_MAX_SIZE)
        return bad(d, "window not a multiple of 64 up to 65536", "child.replay");
    for (size_t i = e->replay_window / 64; i < HK_ESP_STATE_WORDS; i++)
        if (e->replay_bits[i])
            return bad(d, "bits past the window", "child.replay");
    if (!e->esn && (e->seq_out > UINT32_MAX || e->replay_top > UINT32_MAX))
        return bad(d, "64-bit sequence number without ESN", "child.seq");
    if ((rc = check_ts(c->ts_local, c->nts_local, "child.ts_local", d)) < 0 ||
        (rc = check_ts(c->ts_remote, c->nts_remote, "child.ts_remote", d)) < 0)
        return rc;
    if (c->protocol == 3 && c->alg.encr == 0)
        return bad(d, "ESP without an encryption transform", "child.alg");
    bool aead = hk_encr_is_aead(c->alg.encr);
    size_t ek = hk_encr_key_len(c->alg.encr, c->alg.encr_key_bits);
    size_t ik = hk_integ_key_len(c->alg.integ);
    bool integ = !aead && c->alg.integ != 0;
    bool encr = c->alg.encr != 0;
    if ((rc = check_key(c->encr_ir, ek, encr, "child.keymat.encr_ir", d)) < 0 ||
        (rc = check_key(c->integ_ir, ik, integ, "child.keymat.integ_ir", d)) < 0 ||
        (rc = check_key(c->encr_ri, ek, encr, "child.keymat.encr_ri", d)) < 0 ||
        (rc = check_key(c->integ_ri, ik, integ, "child.keymat.integ_ri", d)) < 0)
        return rc;
    if (memchr(c->name, 0, sizeof(c->name)) == NULL)
        return bad(d, "name not terminated", "child.name");
    return HK_OK;
}

int hk_ctx_ike_check(const struct hk_ctx_ike *ctx, struct hk_diag *d)
{
    int rc;
    if (ctx->version != 2)
        return bad(d, "IKE version other than 2", "version");
    if ((rc = check_addr(&ctx->local, true, "local", d)) < 0 ||
        (rc = check_addr(&ctx->remote, true, "remote", d)) < 0)
        return rc;
    if (ctx->window == 0)
        return bad(d, "message ID window of 0", "window");
    if (ctx->alg.encr == 0 || ctx->alg.prf == 0)
        return bad(d, "no encryption or PRF transform", "alg");
    if ((rc = check_keys(ctx, d)) < 0)
        return rc;
    if (ctx->ext & ~HK_CTX_EXT_ALL)
        return bad(d, "unknown extension bits", "ext");
    if (ctx->local_id.data.len > HK_CTX_MAX_ID_LEN || ctx->peer_id.data.len > HK_CTX_MAX_ID_LEN)
        return bad(d, "identification data too long", "local_id");
    if (memchr(ctx->conn, 0, sizeof(ctx->conn)) == NULL || ctx->conn[0] == 0)
        return bad(d, "empty or not terminated", "conn");
    if (ctx->nchildren > HK_CTX_MAX_CHILDREN || (ctx->nchildren && !ctx->children))
        return bad(d, "too many Child SAs", "children");
    for (size_t i = 0; i < ctx->nchildren; i++) {
        struct hk_diag cd = {0};
        if ((rc = check_child(&ctx->children[i], &cd)) < 0) {
            /* "context: child.replay: ..." -> "context: child 2: child.replay: ..." */
            hk_diag_set(d, "context: child %zu: %s", i, cd.msg + strlen("context: "));
            return rc;
        }
    }
    if (ctx->resp.npkts > HK_CTX_MAX_RESP_PKTS)
        return bad(d, "too many packets", "resp");
    for (size_t i = 0; i < ctx->resp.npkts; i++)
        if (ctx->resp.pkts[i].len == 0 || ctx->resp.pkts[i].len > HK_CTX_MAX_PKT_LEN)
            return bad(d, "empty or oversized packet", "resp");
    if (ctx->nvids > HK_CTX_MAX_VIDS)
        return bad(d, "too many", "vendor_ids");
    for (size_t i = 0; i < ctx->nvids; i++)
        if (ctx->vids[i].len == 0 || ctx->vids[i].len > HK_CTX_MAX_VID_LEN)
            return bad(d, "empty or too long", "vendor_ids");
    if (ctx->naddrs > HK_CTX_MAX_ADDRS)
        return bad(d, "too many", "mobike_addrs");
    for (size_t i = 0; i < ctx->naddrs; i++)
        if ((rc = check_addr(&ctx->addrs[i], false, "mobike_addrs", d)) < 0)
            return rc;
    if (ctx->nvips > HK_CTX_MAX_VIPS)
        return bad(d, "too many", "vips");
    for (size_t i = 0; i < ctx->nvips; i++) {
        if ((rc = check_addr(&ctx->vips[i].addr, false, "vips", d)) < 0)
            return rc;
        if (memchr(ctx->vips[i].pool, 0, sizeof(ctx->vips[i].pool)) == NULL)
            return bad(d, "pool name not terminated", "vips");
    }
    return HK_OK;
}
