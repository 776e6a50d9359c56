/*
 * CREATE_CHILD_SA (RFC 7296 1.3): a new Child SA and a Child SA rekey (1.3.3), both roles,
 * with the simultaneous-rekey rule of 2.8.1. The IKE SA rekey (1.3.2) is x_rekey_ike.c's.
 */
#include "ike/engine_internal.h"

#include "common/err.h"
#include "common/secret.h"
#include "crypto/kdf.h"
#include "ike/codec/notify.h"
#include "ike/conn_match.h"
#include "ike/ts.h"

#include <stdalign.h>
#include <stddef.h>
#include <string.h>

/* A fresh nonce and, for a KE group, a fresh key pair: the initiator's part. */
int x_create_begin(struct ike_engine *e, struct ike_sa *sa, uint8_t kind, uint16_t group,
                   uint8_t *pub, size_t *publen)
{
    uint8_t nonce[IKE_NONCE_LEN];
    int rc = hk_crypto_random(e->crypto, nonce, sizeof(nonce));
    x_xchg_end(e, sa);
    if (!rc)
        rc = ike_bytes_set(&sa->xchg.nonce, nonce, sizeof(nonce));
    *publen = 0;
    if (!rc && group) {
        *publen = hk_ke_public_len(group);
        if (!*publen || *publen > 512)
            return HK_E_UNSUPPORTED;
        rc = hk_ke_new(e->crypto, group, &sa->xchg.ke);
        if (!rc)
            rc = hk_ke_public(sa->xchg.ke, pub, *publen);
    }
    if (!rc)
        sa->xchg.kind = kind;
    return rc;
}

void x_xchg_end(struct ike_engine *e, struct ike_sa *sa)
{
    struct ike_xchg *x = &sa->xchg;
    if (x->kind == IKE_XCHG_CREATE_CHILD || x->kind == IKE_XCHG_REKEY_CHILD ||
        x->kind == IKE_XCHG_REKEY_IKE || x->kind == IKE_XCHG_CLONE) {
        struct child_sa *c = x->child_id ? ike_engine_child(e, x->child_id) : NULL;
        if (c && c->state == CHILD_SA_CREATING)
            engine_delete_child(e, sa, c);
        struct ike_sa *ns = x->new_sa_id ? ike_engine_sa(e, x->new_sa_id) : NULL;
        if (ns && ns->state == IKE_SA_INIT_SENT)
            engine_delete_sa(e, ns, "IKE rekey abandoned");
    }
    hk_ke_free(x->ke);
    ike_bytes_clear(&x->nonce);
    memset(x, 0, sizeof(*x));
}

/* Our rekey of old is out (2.8.1 applies to a rekey of it by the peer). */
static bool rekeying(const struct ike_sa *sa, const struct child_sa *old)
{
    return sa->xchg.kind == IKE_XCHG_REKEY_CHILD && sa->xchg.old_child_id == old->id;
}

void x_peer_rekey_note(struct ike_sa *sa, enum ike_xchg_kind kind, uint32_t msg_id,
                       uint64_t new_sa_id, uint64_t new_child_id, uint64_t old_child_id,
                       const struct ike_bytes *ni, const struct ike_bytes *nr)
{
    struct ike_xchg *px = &sa->peer_xchg;
    const struct ike_bytes *low = engine_lower_nonce(ni, nr);
    px->kind = (uint8_t)kind;
    px->msg_id = msg_id;
    px->new_sa_id = new_sa_id;
    px->child_id = new_child_id;
    px->old_child_id = old_child_id;
    ike_bytes_set(&px->nonce, low->p, low->len); /* out of memory: the old nonce stays */
}

struct ike_sa *x_peer_rekey_sa(struct ike_engine *e, const struct ike_sa *sa)
{
    const struct ike_xchg *px = &sa->peer_xchg;
    return px->kind == IKE_XCHG_REKEY_IKE && px->new_sa_id ? ike_engine_sa(e, px->new_sa_id) : NULL;
}

/* ---- Child SAs, initiator ---- */

static int child_request(struct ike_engine *e, struct ike_sa *sa, const struct hk_child_conf *cc,
                         struct child_sa *c, struct child_sa *old)
{
    uint8_t pub[512], old_spi[4];
    size_t publen;
    uint16_t group = cc->nesp && cc->esp[0].nke ? cc->esp[0].ke[0] : 0; /* PFS (1.3.1) */
    int rc = x_create_begin(e, sa, old ? IKE_XCHG_REKEY_CHILD : IKE_XCHG_CREATE_CHILD, group, pub,
                            &publen);
    if (rc)
        return rc;
    sa->xchg.child_id = c->id;
    sa->xchg.old_child_id = old ? old->id : 0;
    struct hk_arena a;
    alignas(max_align_t) uint8_t abuf[IKE_BUILD_ARENA];
    struct ike_payload pl[8];
    size_t n = 0;
    hk_arena_init_buf(&a, 0, abuf, sizeof(abuf));
    if (old) {
        /* 1.3.3: REKEY_SA names the SA being rekeyed by our inbound SPI. */
        ike_spi32_put(old->spi_in, old_spi);
        pl[n++] = (struct ike_payload){
            .type = IKE_PL_NOTIFY,
            .u.notify = {.protocol = IKE_PROTO_ESP, .spi = {old_spi, 4}, .type = IKE_N_REKEY_SA}};
    }
    rc = child_nego_add_sa(cc, c, false, &a, pl, &n);
    pl[n++] = (struct ike_payload){.type = IKE_PL_NONCE,
                                   .u.nonce.data = {sa->xchg.nonce.p, sa->xchg.nonce.len}};
    if (group)
        pl[n++] = (struct ike_payload){.type = IKE_PL_KE,
                                       .u.ke = {.group = group, .data = {pub, publen}}};
    child_nego_add_ts(c, pl, &n);
    if (!rc)
        rc = engine_request(e, sa, sa->xchg.kind, pl, n);
    hk_arena_free(&a);
    if (rc) {
        x_xchg_end(e, sa);
        return rc;
    }
    e->stats.exchanges_create++;
    return HK_OK;
}

int x_create_child_start(struct ike_engine *e, struct ike_sa *sa, size_t child_conf)
{
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    if (!conn || child_conf >= conn->nchildren)
        return HK_E_NOTFOUND;
    const struct hk_child_conf *cc = &conn->children[child_conf];
    struct child_sa *c = child_nego_new(e, sa, conn, cc);
    if (!c)
        return HK_E_NOMEM;
    hk_info(e->log, "IKE SA [%s]: creating Child SA %s", sa->conn, cc->name);
    return child_request(e, sa, cc, c, NULL);
}

int x_rekey_child_start(struct ike_engine *e, struct ike_sa *sa, struct child_sa *old)
{
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    const struct hk_child_conf *cc = conn ? hk_conn_find_child(conn, old->name) : NULL;
    if (!cc)
        return HK_E_NOTFOUND;
    struct child_sa *c = engine_new_child(e, sa, old->name);
    if (!c)
        return HK_E_NOMEM;
    c->initiator = true;
    c->transport = old->transport;
    if (child_sa_set_ts(c, old->ts_local, old->nts_local, old->ts_remote, old->nts_remote)) {
        engine_delete_child(e, sa, c);
        return HK_E_NOMEM;
    }
    hk_info(e->log, "IKE SA [%s]: rekeying Child SA %s %08x/%08x", sa->conn, old->name, old->spi_in,
            old->spi_out);
    return child_request(e, sa, cc, c, old);
}

/* 2.8.1: of two rekeys of one child, the one with the lowest of the four nonces goes. */
static void child_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx)
{
    const struct ike_msg *m = &rx->msg;
    struct child_sa *c = ike_engine_child(e, sa->xchg.child_id);
    struct child_sa *old = ike_engine_child(e, sa->xchg.old_child_id);
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    const struct hk_child_conf *cc = conn && c ? hk_conn_find_child(conn, c->name) : NULL;
    const struct ike_payload *sap = x_find(m, IKE_PL_SA), *np = x_find(m, IKE_PL_NONCE),
                             *kep = x_find(m, IKE_PL_KE), *tsi = x_find(m, IKE_PL_TSI),
                             *tsr = x_find(m, IKE_PL_TSR);
    uint16_t err = x_first_error(m);
    const char *why = NULL;
    struct hk_secret *g_ir = NULL;
    struct ike_bytes nr = {0};
    int ke_rc = HK_OK;
    if (!c || !cc)
        why = "the Child SA or its configuration is gone";
    else if (err == IKE_N_CHILD_SA_NOT_FOUND && old)
        why = "peer already rekeyed it (2.8.1)";
    else if (err)
        why = ike_notify_name(err);
    else if (!sap || !np || !tsi || !tsr)
        why = "response without SA, Nonce or TS";
    else if ((why = child_nego_check_sa(cc, c, sap, false)))
        ; /* why is set */
    else if (c->chosen.ke &&
             (!kep || kep->u.ke.group != c->chosen.ke || !sa->xchg.ke ||
              (ke_rc = hk_ke_derive(sa->xchg.ke, kep->u.ke.data.p, kep->u.ke.data.len, &g_ir))))
        why = "bad or missing KE in the response";
    else if ((why = child_nego_check_ts(c, m, tsi, tsr)))
        ; /* why is set */
    else if (ike_bytes_set(&nr, np->u.nonce.data.p, np->u.nonce.data.len) ||
             engine_child_keys(e, sa, c, g_ir ? g_ir->data : NULL, g_ir ? g_ir->len : 0,
                               &sa->xchg.nonce, &nr))
        why = "cannot derive keys";
    else if (child_sa_set_ts(c, tsi->u.ts.ts, tsi->u.ts.nts, tsr->u.ts.ts, tsr->u.ts.nts))
        why = "out of memory";
    hk_secret_free(&g_ir);
    if (why) {
        hk_info(e->log, "IKE SA [%s]: CREATE_CHILD_SA for %s failed: %s", sa->conn,
                c ? c->name : "?", why);
        ike_bytes_clear(&nr);
        /* 1.3.1: without an error the responder made its half (in tunnel mode, when it
         * declined transport): an SA we cannot accept, we MUST delete. */
        if (ke_rc == HK_E_PEER_KE) {
            /* RFC 6989 2: an invalid KE in a response ends the IKE SA, with a Delete. */
            x_info_abandon_ike(e, sa, "invalid KE value in a CREATE_CHILD_SA response");
            return;
        }
        if (c && cc && !err && sap) {
            sa->xchg.child_id = 0; /* the DELETE's now, not x_xchg_end's */
            engine_queue(e, sa, IKE_TASK_DELETE_CHILD, c->id);
        }
        x_xchg_end(e, sa);
        return;
    }
    c->spi_out = ike_spi32(c->chosen.spi);
    engine_child_installed(e, sa, c);
    if (old) {
        const struct ike_bytes *ours = engine_lower_nonce(&sa->xchg.nonce, &nr);
        const struct ike_xchg *px = &sa->peer_xchg;
        if (px->kind == IKE_XCHG_REKEY_CHILD && px->old_child_id == old->id &&
            engine_nonce_cmp(ours, &px->nonce) < 0) {
            /* Ours holds the lowest nonce: ours is the redundant one, we close it; the peer,
             * whose rekey survives, deletes the old SA. */
            hk_info(e->log, "Child SA %s: simultaneous rekey, ours is redundant", c->name);
            engine_queue(e, sa, IKE_TASK_DELETE_CHILD, c->id);
        } else {
            child_sa_set_state(old, CHILD_SA_REKEYED, e->log);
            engine_queue(e, sa, IKE_TASK_DELETE_CHILD, old->id);
        }
    }
    ike_bytes_clear(&nr);
    sa->xchg.child_id = 0; /* installed: not x_xchg_end's to delete */
    sa->xchg.old_child_id = 0;
    x_xchg_end(e, sa);
}

void x_create_on_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx)
{
    if (sa->xchg.kind == IKE_XCHG_REKEY_IKE || sa->xchg.kind == IKE_XCHG_CLONE)
        x_rekey_ike_on_response(e, sa, rx);
    else if (sa->xchg.kind == IKE_XCHG_CREATE_CHILD || sa->xchg.kind == IKE_XCHG_REKEY_CHILD)
        child_response(e, sa, rx);
    else
        x_xchg_end(e, sa);
}

/* ---- responder ---- */

void x_create_respond_error(struct ike_engine *e, struct ike_sa *sa, uint32_t msg_id, uint16_t type,
                            const uint8_t *data, size_t len)
{
    struct ike_payload pl = {.type = IKE_PL_NOTIFY,
                             .u.notify = {.type = type, .data = {data, len}}};
    hk_info(e->log, "IKE SA [%s]: CREATE_CHILD_SA refused: %s", sa->conn, ike_notify_name(type));
    engine_send(e, sa, true, msg_id, IKE_CREATE_CHILD_SA, &pl, 1);
    /* 2.21.3: INVALID_SYNTAX is fatal in both peers; the IKE SA goes without a Delete. */
    if (type == IKE_N_INVALID_SYNTAX)
        engine_delete_sa(e, sa, "malformed CREATE_CHILD_SA request (INVALID_SYNTAX)");
}

/* Responder's KE: our key pair for group g and the shared secret with the peer's value. */
int x_create_respond_ke(struct ike_engine *e, uint16_t g, const struct ike_payload *kep,
                        uint8_t *pub, size_t *publen, struct hk_secret **g_ir)
{
    struct hk_ke *ke = NULL;
    *publen = hk_ke_public_len(g);
    int rc = *publen && *publen <= 512 ? hk_ke_new(e->crypto, g, &ke) : HK_E_UNSUPPORTED;
    if (!rc)
        rc = hk_ke_public(ke, pub, *publen);
    if (!rc)
        rc = hk_ke_derive(ke, kep->u.ke.data.p, kep->u.ke.data.len, g_ir);
    hk_ke_free(ke);
    return rc;
}

static void child_request_in(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx,
                             const struct hk_conn *conn)
{
    const struct ike_msg *m = &rx->msg;
    uint32_t id = m->hdr.msg_id;
    const struct ike_pl_notify *rk = ike_msg_find_notify(m, IKE_N_REKEY_SA);
    const struct ike_payload *np = x_find(m, IKE_PL_NONCE), *kep = x_find(m, IKE_PL_KE),
                             *tsi = x_find(m, IKE_PL_TSI), *tsr = x_find(m, IKE_PL_TSR);
    struct child_sa *old = NULL;
    if (sa->state != IKE_SA_ESTABLISHED) {
        x_create_respond_error(e, sa, id, IKE_N_TEMPORARY_FAILURE, NULL, 0);
        return;
    }
    if (!np || !tsi || !tsr) {
        x_create_respond_error(e, sa, id, IKE_N_INVALID_SYNTAX, NULL, 0);
        return;
    }
    if (rk) {
        /* The SPI in REKEY_SA is the peer's inbound one: our outbound (1.3.3). */
        for (size_t i = 0; rk->spi.len == 4 && i < sa->nchildren && !old; i++) {
            struct child_sa *k = ike_engine_child(e, sa->children[i]);
            if (k && k->spi_out == ike_spi32(rk->spi.p) && k->state == CHILD_SA_INSTALLED)
                old = k;
        }
        if (!old) {
            x_create_respond_error(e, sa, id, IKE_N_CHILD_SA_NOT_FOUND, NULL, 0);
            return;
        }
    } else if (conn->max_children && sa_live_children(e, sa) >= conn->max_children) {
        /* 1.3: unwilling to accept more Child SAs on this IKE SA (a rekey replaces one). */
        e->stats.refused_children++;
        x_create_respond_error(e, sa, id, IKE_N_NO_ADDITIONAL_SAS, NULL, 0);
        return;
    }
    uint16_t err;
    struct child_choice ch;
    const struct hk_child_conf *cc =
        child_nego_choose(sa, conn, m, false, old ? old->name : NULL, &ch, &err);
    if (!cc && err == IKE_N_INVALID_KE_PAYLOAD) {
        uint8_t g[2] = {(uint8_t)(ch.chosen.ke >> 8), (uint8_t)ch.chosen.ke};
        x_create_respond_error(e, sa, id, err, g, 2);
        return;
    }
    if (!cc) {
        x_create_respond_error(e, sa, id, err, NULL, 0);
        return;
    }
    uint8_t pub[512], nonce[IKE_NONCE_LEN];
    size_t publen = 0;
    struct hk_secret *g_ir = NULL;
    struct ike_bytes bni = {0}, bnr = {0};
    struct child_sa *c = engine_new_child(e, sa, cc->name);
    int rc = c ? HK_OK : HK_E_NOMEM;
    if (!rc && ch.chosen.ke)
        rc = x_create_respond_ke(e, ch.chosen.ke, kep, pub, &publen, &g_ir);
    if (!rc && !(rc = hk_crypto_random(e->crypto, nonce, sizeof(nonce))) &&
        !(rc = ike_bytes_set(&bni, np->u.nonce.data.p, np->u.nonce.data.len)) &&
        !(rc = ike_bytes_set(&bnr, nonce, sizeof(nonce)))) {
        if (!(rc = child_nego_apply(c, cc, &ch)))
            rc = engine_child_keys(e, sa, c, g_ir ? g_ir->data : NULL, g_ir ? g_ir->len : 0, &bni,
                                   &bnr);
    }
    hk_secret_free(&g_ir);
    struct hk_arena a;
    alignas(max_align_t) uint8_t abuf[IKE_BUILD_ARENA];
    struct ike_payload pl[6];
    size_t n = 0;
    hk_arena_init_buf(&a, 0, abuf, sizeof(abuf));
    if (!rc) {
        rc = child_nego_add_sa(cc, c, false, &a, pl, &n);
        pl[n++] =
            (struct ike_payload){.type = IKE_PL_NONCE, .u.nonce.data = {nonce, sizeof(nonce)}};
        if (ch.chosen.ke)
            pl[n++] = (struct ike_payload){.type = IKE_PL_KE,
                                           .u.ke = {.group = ch.chosen.ke, .data = {pub, publen}}};
        child_nego_add_ts(c, pl, &n);
    }
    if (!rc)
        rc = engine_send(e, sa, true, id, IKE_CREATE_CHILD_SA, pl, n);
    hk_arena_free(&a);
    if (rc) {
        if (c)
            engine_delete_child(e, sa, c);
        x_create_respond_error(e, sa, id,
                               rc == HK_E_PEER_KE ? IKE_N_INVALID_SYNTAX : IKE_N_TEMPORARY_FAILURE,
                               NULL, 0); /* as in the IKE rekey (RFC 6989 2) */
    } else {
        e->stats.exchanges_create++;
        engine_child_installed(e, sa, c);
        if (old && rekeying(sa, old)) {
            /* 2.8.1: we rekey it too; the nonces decide when our answer arrives. */
            x_peer_rekey_note(sa, IKE_XCHG_REKEY_CHILD, id, 0, c->id, old->id, &bni, &bnr);
        } else if (old) {
            child_sa_set_state(old, CHILD_SA_REKEYED, e->log); /* the peer deletes it */
        }
    }
    ike_bytes_clear(&bni);
    ike_bytes_clear(&bnr);
}

void x_create_on_request(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx)
{
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    const struct ike_payload *sap = x_find(&rx->msg, IKE_PL_SA);
    if (!conn) {
        x_create_respond_error(e, sa, rx->msg.hdr.msg_id, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);
        return;
    }
    if (!sap || !sap->u.sa.nproposals) {
        x_create_respond_error(e, sa, rx->msg.hdr.msg_id, IKE_N_INVALID_SYNTAX, NULL, 0);
        return;
    }
    if (sap->u.sa.proposals[0].protocol == IKE_PROTO_IKE)
        x_rekey_ike_on_request(e, sa, rx, conn);
    else
        child_request_in(e, sa, rx, conn);
}
