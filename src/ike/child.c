/* What every exchange that makes SAs shares: keys, installation, timers, owner changes. */
#include "ike/engine_internal.h"

#include "common/err.h"
#include "common/secret.h"
#include "crypto/kdf.h"
#include "ike/ts.h"

#include <stdlib.h>
#include <string.h>

void engine_set_alg(struct ike_sa *sa, const struct ike_chosen *c)
{
    sa->chosen = *c;
    sa->alg = (struct hk_ike_alg){.encr = c->encr,
                                  .encr_key_bits = c->encr_key_bits,
                                  .prf = c->prf,
                                  .integ = c->integ,
                                  .ke = c->ke};
}

int engine_ike_keys(struct ike_engine *e, struct ike_sa *sa, const struct hk_secret *skeyseed)
{
    int rc = hk_ike_keys_derive(e->crypto, &sa->alg, skeyseed, sa->ni.p, sa->ni.len, sa->nr.p,
                                sa->nr.len, sa->spi_i, sa->spi_r, &sa->keys);
    if (rc)
        return rc;
    const struct hk_ike_keys *k = &sa->keys;
    struct hk_secret *eo = sa->initiator ? k->sk_ei : k->sk_er;
    struct hk_secret *ao = sa->initiator ? k->sk_ai : k->sk_ar;
    struct hk_secret *ein = sa->initiator ? k->sk_er : k->sk_ei;
    struct hk_secret *ain = sa->initiator ? k->sk_ar : k->sk_ai;
    rc = hk_sk_cipher_new(e->crypto, sa->alg.encr, sa->alg.encr_key_bits, sa->alg.integ, eo->data,
                          eo->len, ao ? ao->data : NULL, ao ? ao->len : 0, &sa->sk_out);
    if (!rc)
        rc = hk_sk_cipher_new(e->crypto, sa->alg.encr, sa->alg.encr_key_bits, sa->alg.integ,
                              ein->data, ein->len, ain ? ain->data : NULL, ain ? ain->len : 0,
                              &sa->sk_in);
    return rc;
}

int engine_child_keys(struct ike_engine *e, const struct ike_sa *sa, struct child_sa *c,
                      const uint8_t *g_ir, size_t glen, const struct ike_bytes *ni,
                      const struct ike_bytes *nr)
{
    size_t elen = hk_encr_key_len(c->chosen.encr, c->chosen.encr_key_bits);
    size_t ilen = hk_integ_key_len(c->chosen.integ);
    struct hk_secret *keymat = NULL;
    if (!elen)
        return HK_E_UNSUPPORTED;
    int rc = hk_child_keymat(e->crypto, sa->alg.prf, sa->keys.sk_d, g_ir, glen, ni->p, ni->len,
                             nr->p, nr->len, hk_child_keymat_len(elen, ilen), &keymat);
    if (!rc)
        rc = hk_child_keys_split(keymat, elen, ilen, &c->keys);
    hk_secret_free(&keymat);
    return rc;
}

void engine_arm_child(struct ike_engine *e, struct child_sa *c, enum child_timer_kind kind,
                      uint64_t when)
{
    struct hk_timer t = {.when = when, .owner = c->id, .kind = kind, .gen = ++c->timer_gen[kind]};
    if (hk_timerq_add(&e->timers, &t))
        hk_err(e->log, "out of memory arming a timer");
}

/* A random part of jitter seconds, so both ends do not rekey at once (2.8.1). */
static uint64_t jitter_ms(const struct ike_engine *e, uint32_t jitter)
{
    uint32_t r = 0;
    if (!jitter)
        return 0;
    hk_crypto_random(e->crypto, &r, sizeof(r));
    return (uint64_t)(r % (jitter * 1000u));
}

void engine_child_installed(struct ike_engine *e, struct ike_sa *sa, struct child_sa *c)
{
    char l[96], r[96];
    if (child_sa_set_state(c, CHILD_SA_INSTALLED, e->log))
        return;
    const struct hk_conn *cn = hk_config_find_conn(e->cfg, sa->conn);
    const struct hk_child_conf *ccf = cn ? hk_conn_find_child(cn, c->name) : NULL;
    if (ccf) {
        c->rekey_bytes = ccf->lifetime.rekey_bytes;
        c->life_bytes = ccf->lifetime.life_bytes;
        c->rekey_packets = ccf->lifetime.rekey_packets;
        c->life_packets = ccf->lifetime.life_packets;
        c->replay_window = ccf->replay_window;
    } else {
        c->replay_window = HK_CONF_REPLAY_WINDOW;
    }
    if (e->ops.child_up && e->ops.child_up(e->ops.arg, sa, c)) {
        /* The peer has it, we cannot carry it: it is not INSTALLED, and the peer is told with a
         * DELETE (1.4.1) once the exchange that made it is answered. */
        hk_err(e->log, "Child SA %s %08x/%08x: the data plane refused it; deleting it", c->name,
               c->spi_in, c->spi_out);
        e->stats.child_install_failed++;
        child_sa_set_state(c, CHILD_SA_DELETING, e->log);
        engine_queue_add(e, sa, IKE_TASK_DELETE_CHILD, c->id);
        return;
    }
    e->stats.child_up++;
    hk_info(e->log, "Child SA %s %08x/%08x established: %s === %s%s", c->name, c->spi_in,
            c->spi_out, ike_ts_format(&c->ts_local[0], l, sizeof(l)),
            ike_ts_format(&c->ts_remote[0], r, sizeof(r)), c->transport ? " (transport)" : "");
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    const struct hk_child_conf *cc = conn ? hk_conn_find_child(conn, c->name) : NULL;
    if (!cc)
        return;
    uint64_t now = engine_now(e);
    const struct hk_child_lifetime *lt = &cc->lifetime;
    if (lt->rekey_time) {
        uint64_t t = (uint64_t)lt->rekey_time * 1000, j = jitter_ms(e, lt->rekey_jitter);
        engine_arm_child(e, c, CHILD_TIMER_REKEY, now + (t > j ? t - j : t));
    }
    if (lt->life_time)
        engine_arm_child(e, c, CHILD_TIMER_EXPIRE, now + (uint64_t)lt->life_time * 1000);
}

void engine_move_children(struct ike_engine *e, struct ike_sa *from, struct ike_sa *to)
{
    char a[40], b[40];
    size_t n = from->nchildren;
    if (n && !to->nchildren) {
        /* The usual case (an IKE rekey's new SA has none): the list changes hands. */
        free(to->children);
        to->children = from->children;
        to->nchildren = n;
        from->children = NULL;
        from->nchildren = 0;
    } else if (n) {
        uint64_t *all = realloc(to->children, (to->nchildren + n) * sizeof(*all));
        if (!all) {
            /* All or none: they stay with from and go with it, told to the data plane. */
            hk_err(e->log, "IKE SA %s: out of memory moving %zu Child SAs to %s",
                   ike_sa_name(from, a, 40), n, ike_sa_name(to, b, 40));
            return;
        }
        memcpy(all + to->nchildren, from->children, n * sizeof(*all));
        to->children = all;
        to->nchildren += n;
        from->nchildren = 0;
    }
    /* The data plane follows the Child SAs to their new IKE SA's addresses and NAT state. */
    for (size_t i = to->nchildren - n; i < to->nchildren; i++) {
        struct child_sa *c = ike_engine_child(e, to->children[i]);
        if (!c)
            continue;
        c->ike_id = to->id;
        if (e->ops.child_moved && (c->state == CHILD_SA_INSTALLED || c->state == CHILD_SA_REKEYED))
            e->ops.child_moved(e->ops.arg, to, c);
    }
    /* Virtual addresses belong to the session, not to one IKE SA: they move too. */
    if (from->nvip && !to->nvip) {
        to->nvip = from->nvip;
        memcpy(to->vip, from->vip, sizeof(to->vip));
        memcpy(to->vip_pool, from->vip_pool, sizeof(to->vip_pool));
        from->nvip = 0;
    }
    if (n)
        hk_info(e->log, "%zu Child SAs move from IKE SA %s to %s", n, ike_sa_name(from, a, 40),
                ike_sa_name(to, b, 40));
}

int engine_nonce_cmp(const struct ike_bytes *a, const struct ike_bytes *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->p, b->p, n) : 0;
    if (c)
        return c;
    /* 2.8.1: "If you reach the end of one nonce, that nonce is the lower one." */
    return a->len < b->len ? -1 : a->len > b->len;
}

const struct ike_bytes *engine_lower_nonce(const struct ike_bytes *a, const struct ike_bytes *b)
{
    return engine_nonce_cmp(a, b) <= 0 ? a : b;
}
