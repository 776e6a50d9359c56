/* The IKE SA's SK_* from any of the context's three key modes (ctx.h). */
#include "common/err.h"
#include "crypto/ke.h"
#include "ctx/ctx.h"

static int dup(const struct hk_secret *s, struct hk_secret **out)
{
    if (!s)
        return HK_OK;
    *out = hk_secret_dup(s->data, s->len);
    return *out ? HK_OK : HK_E_NOMEM;
}

int hk_ctx_ike_sk(const struct hk_crypto *c, const struct hk_ctx_ike *ctx, struct hk_ike_keys *out)
{
    const struct hk_ctx_ike_keys *k = &ctx->keys;
    struct hk_ike_alg alg = {.encr = ctx->alg.encr,
                             .encr_key_bits = ctx->alg.encr_key_bits,
                             .prf = ctx->alg.prf,
                             .integ = ctx->alg.integ,
                             .ke = ctx->alg.ke};
    struct hk_ke *ke = NULL;
    struct hk_secret *g_ir = NULL, *seed = NULL;
    int rc = HK_OK;
    *out = (struct hk_ike_keys){0};
    switch (k->mode) {
    case HK_CTX_KEYS_SK:
        if ((rc = dup(k->sk_d, &out->sk_d)) < 0 || (rc = dup(k->sk_ai, &out->sk_ai)) < 0 ||
            (rc = dup(k->sk_ar, &out->sk_ar)) < 0 || (rc = dup(k->sk_ei, &out->sk_ei)) < 0 ||
            (rc = dup(k->sk_er, &out->sk_er)) < 0 || (rc = dup(k->sk_pi, &out->sk_pi)) < 0 ||
            (rc = dup(k->sk_pr, &out->sk_pr)) < 0)
            goto out;
        break;
    case HK_CTX_KEYS_DH:
        if (!k->dh_private) {
            rc = HK_E_INVALID;
            goto out;
        }
        if ((rc = hk_ke_new_from_private(c, alg.ke, k->dh_private->data, k->dh_private->len, &ke)) <
                0 ||
            (rc = hk_ke_derive(ke, k->peer_ke.p, k->peer_ke.len, &g_ir)) < 0 ||
            (rc = hk_skeyseed(c, alg.prf, k->ni.p, k->ni.len, k->nr.p, k->nr.len, g_ir->data,
                              g_ir->len, &seed)) < 0)
            goto out;
        rc = hk_ike_keys_derive(c, &alg, seed, k->ni.p, k->ni.len, k->nr.p, k->nr.len, ctx->spi_i,
                                ctx->spi_r, out);
        break;
    case HK_CTX_KEYS_SKEYSEED:
        if (!k->skeyseed) {
            rc = HK_E_INVALID;
            goto out;
        }
        rc = hk_ike_keys_derive(c, &alg, k->skeyseed, k->ni.p, k->ni.len, k->nr.p, k->nr.len,
                                ctx->spi_i, ctx->spi_r, out);
        break;
    default:
        rc = HK_E_INVALID;
        break;
    }
out:
    if (rc < 0)
        hk_ike_keys_free(out);
    hk_ke_free(ke);
    hk_secret_free(&g_ir);
    hk_secret_free(&seed);
    return rc;
}
