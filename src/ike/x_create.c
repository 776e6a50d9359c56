/*
 * CREATE_CHILD_SA (RFC 7296 1.3): a new Child SA, a Child SA rekey (1.3.3) and an
 * IKE SA rekey (1.3.2, 2.18), both roles, with the simultaneous-rekey rules of
 * 2.8.1 and 2.8.2.
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

static const struct ike_payload *find(const struct ike_msg *m, uint8_t type)
{
    size_t from = 0;
    return ike_msg_find(m, type, &from);
}

static uint16_t first_error(const struct ike_msg *m)
{
    for (size_t i = 0; i < m->npayloads; i++)
        if (m->payloads[i].type == IKE_PL_NOTIFY &&
            ike_notify_is_error(m->payloads[i].u.notify.type))
            return m->payloads[i].u.notify.type;
    return 0;
}

/* A fresh nonce and, for a KE group, a fresh key pair: the initiator's part. */
static int begin(struct ike_engine *e, struct ike_sa *sa, uint8_t kind, uint16_t group,
                 uint8_t *pub, size_t *publen)
{
    uint8_t nonce[IKE_NONCE_LEN];
    int rc = hk_crypto_random(e->crypto, nonce, sizeof(nonce));
    x_create_abort(e, sa);
    if (!rc)
        rc = ike_bytes_set(&sa->create.nonce, nonce, sizeof(nonce));
    *publen = 0;
    if (!rc && group) {
        *publen = hk_ke_public_len(group);
        if (!*publen || *publen > 512)
            return HK_E_UNSUPPORTED;
        rc = hk_ke_new(e->crypto, group, &sa->create.ke);
        if (!rc)
            rc = hk_ke_public(sa->create.ke, pub, *publen);
    }
    if (!rc)
        sa->create.kind = kind;
    return rc;
}

void x_create_abort(struct ike_engine *e, struct ike_sa *sa)
{
    struct child_sa *c = sa->create.child_id ? ike_engine_child(e, sa->create.child_id) : NULL;
    if (c && c->state == CHILD_SA_CREATING)
        engine_delete_child(e, sa, c);
    struct child_sa *old = ike_engine_child(e, sa->create.old_child_id);
    if (old)
        old->rekeying = false;
    struct ike_sa *ns = sa->create.new_sa_id ? ike_engine_sa(e, sa->create.new_sa_id) : NULL;
    if (ns && ns->state == IKE_SA_INIT_SENT)
        engine_delete_sa(e, ns, "IKE rekey abandoned");
    hk_ke_free(sa->create.ke);
    ike_bytes_clear(&sa->create.nonce);
    memset(&sa->create, 0, sizeof(sa->create));
}

/* ---- Child SAs, initiator ---- */

static int child_request(struct ike_engine *e, struct ike_sa *sa, const struct hk_child_conf *cc,
                         struct child_sa *c, struct child_sa *old)
{
    uint8_t pub[512], spi[4], old_spi[4];
    size_t publen;
    uint16_t group = cc->nesp && cc->esp[0].nke ? cc->esp[0].ke[0] : 0; /* PFS (1.3.1) */
    int rc = begin(e, sa, old ? IKE_REKEY_CHILD : IKE_CREATE_CHILD, group, pub, &publen);
    if (rc)
        return rc;
    sa->create.child_id = c->id;
    sa->create.old_child_id = old ? old->id : 0;
    struct hk_arena a;
    alignas(max_align_t) uint8_t abuf[IKE_BUILD_ARENA];
    struct ike_payload pl[8];
    size_t n = 0;
    hk_arena_init_buf(&a, 0, abuf, sizeof(abuf));
    ike_spi32_put(c->spi_in, spi);
    if (old) {
        /* 1.3.3: REKEY_SA names the SA being rekeyed by our inbound SPI. */
        ike_spi32_put(old->spi_in, old_spi);
        pl[n++] = (struct ike_payload){
            .type = IKE_PL_NOTIFY,
            .u.notify = {.protocol = IKE_PROTO_ESP, .spi = {old_spi, 4}, .type = IKE_N_REKEY_SA}};
    }
    pl[n] = (struct ike_payload){.type = IKE_PL_SA};
    rc = ike_sa_build(cc->esp, cc->nesp, IKE_PROTO_ESP, spi, 4, false, &a, &pl[n++].u.sa);
    pl[n++] = (struct ike_payload){.type = IKE_PL_NONCE,
                                   .u.nonce.data = {sa->create.nonce.p, sa->create.nonce.len}};
    if (group)
        pl[n++] = (struct ike_payload){.type = IKE_PL_KE,
                                       .u.ke = {.group = group, .data = {pub, publen}}};
    pl[n++] =
        (struct ike_payload){.type = IKE_PL_TSI, .u.ts = {.nts = c->nts_local, .ts = c->ts_local}};
    pl[n++] = (struct ike_payload){.type = IKE_PL_TSR,
                                   .u.ts = {.nts = c->nts_remote, .ts = c->ts_remote}};
    if (c->transport)
        pl[n++] =
            (struct ike_payload){.type = IKE_PL_NOTIFY, .u.notify.type = IKE_N_USE_TRANSPORT_MODE};
    if (!rc)
        rc = engine_request(e, sa, IKE_CREATE_CHILD_SA, pl, n);
    hk_arena_free(&a);
    if (rc) {
        x_create_abort(e, sa);
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
    struct child_sa *c = engine_new_child(e, sa, cc->name);
    if (!c)
        return HK_E_NOMEM;
    c->initiator = true;
    c->transport = cc->mode == HK_MODE_TRANSPORT;
    struct ike_ts tl[CHILD_MAX_TS], tr[CHILD_MAX_TS];
    size_t nl = sa_ts_local(sa, conn, cc, tl, CHILD_MAX_TS);
    size_t nr = sa_ts_remote(sa, cc, tr, CHILD_MAX_TS);
    if (child_sa_set_ts(c, tl, nl, tr, nr)) {
        engine_delete_child(e, sa, c);
        return HK_E_NOMEM;
    }
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
    old->rekeying = true;
    hk_info(e->log, "IKE SA [%s]: rekeying Child SA %s %08x/%08x", sa->conn, old->name, old->spi_in,
            old->spi_out);
    return child_request(e, sa, cc, c, old);
}

/* 2.8.1: of two rekeys of one child, the one with the lowest of the four nonces goes. */
static void child_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx)
{
    const struct ike_msg *m = &rx->msg;
    struct child_sa *c = ike_engine_child(e, sa->create.child_id);
    struct child_sa *old = ike_engine_child(e, sa->create.old_child_id);
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    const struct hk_child_conf *cc = conn && c ? hk_conn_find_child(conn, c->name) : NULL;
    const struct ike_payload *sap = find(m, IKE_PL_SA), *np = find(m, IKE_PL_NONCE),
                             *kep = find(m, IKE_PL_KE), *tsi = find(m, IKE_PL_TSI),
                             *tsr = find(m, IKE_PL_TSR);
    uint16_t err = first_error(m);
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
    else if (ike_sa_check_reply(&sap->u.sa, cc->esp, cc->nesp, IKE_PROTO_ESP, false, &c->chosen) ||
             c->chosen.spi_len != 4)
        why = "responder chose an ESP proposal we did not offer";
    else if (c->chosen.ke &&
             (!kep || kep->u.ke.group != c->chosen.ke || !sa->create.ke ||
              (ke_rc = hk_ke_derive(sa->create.ke, kep->u.ke.data.p, kep->u.ke.data.len, &g_ir))))
        why = "bad or missing KE in the response";
    else if (tsi->u.ts.nts > CHILD_MAX_TS || tsr->u.ts.nts > CHILD_MAX_TS ||
             !ike_ts_all_within(tsi->u.ts.ts, tsi->u.ts.nts, c->ts_local, c->nts_local) ||
             !ike_ts_all_within(tsr->u.ts.ts, tsr->u.ts.nts, c->ts_remote, c->nts_remote))
        why = "responder's traffic selectors are not within ours";
    else if (c->transport && !ike_msg_find_notify(m, IKE_N_USE_TRANSPORT_MODE))
        why = "responder refused transport mode";
    else if (ike_bytes_set(&nr, np->u.nonce.data.p, np->u.nonce.data.len) ||
             engine_child_keys(e, sa, c, g_ir ? g_ir->data : NULL, g_ir ? g_ir->len : 0,
                               &sa->create.nonce, &nr))
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
            sa->create.child_id = 0; /* the DELETE's now, not the abort's */
            engine_queue(e, sa, IKE_TASK_DELETE_CHILD, c->id);
        }
        x_create_abort(e, sa);
        return;
    }
    c->spi_out = ike_spi32(c->chosen.spi);
    engine_child_installed(e, sa, c);
    if (old) {
        old->rekeying = false;
        const struct ike_bytes *ours = engine_lower_nonce(&sa->create.nonce, &nr);
        if (old->peer_rekey_child && engine_nonce_cmp(ours, &old->peer_rekey_nonce) < 0) {
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
    sa->create.child_id = 0; /* installed: not the abort's to delete */
    sa->create.old_child_id = 0;
    x_create_abort(e, sa);
}

/* ---- IKE SA rekey, initiator ---- */

int x_rekey_ike_start(struct ike_engine *e, struct ike_sa *sa)
{
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    if (!conn)
        return HK_E_NOTFOUND;
    uint8_t pub[512];
    size_t publen;
    /* The group in use is acceptable to both; offer it first (avoids INVALID_KE). */
    int rc = begin(e, sa, IKE_REKEY_IKE, sa->alg.ke, pub, &publen);
    if (rc)
        return rc;
    struct ike_sa *ns = engine_new_sa(e, true, sa->conn);
    if (!ns) {
        x_create_abort(e, sa);
        return HK_E_NOMEM;
    }
    sa->create.new_sa_id = ns->id;
    struct hk_arena a;
    alignas(max_align_t) uint8_t abuf[IKE_BUILD_ARENA];
    struct ike_payload pl[3];
    hk_arena_init_buf(&a, 0, abuf, sizeof(abuf));
    pl[0] = (struct ike_payload){.type = IKE_PL_SA};
    /* 3.3.1: in an IKE rekey, the SA payload carries the new SA's initiator SPI. */
    rc = ike_sa_build(conn->ike, conn->nike, IKE_PROTO_IKE, ns->spi_i, IKE_SPI_LEN, false, &a,
                      &pl[0].u.sa);
    pl[1] = (struct ike_payload){.type = IKE_PL_NONCE,
                                 .u.nonce.data = {sa->create.nonce.p, sa->create.nonce.len}};
    pl[2] = (struct ike_payload){.type = IKE_PL_KE,
                                 .u.ke = {.group = sa->alg.ke, .data = {pub, publen}}};
    if (!rc)
        rc = engine_request(e, sa, IKE_CREATE_CHILD_SA, pl, 3);
    hk_arena_free(&a);
    if (rc) {
        x_create_abort(e, sa);
        return rc;
    }
    e->stats.exchanges_create++;
    hk_info(e->log, "IKE SA [%s]: rekeying the IKE SA", sa->conn);
    return HK_OK;
}

/* The new IKE SA takes over from sa: keys from SKEYSEED (2.18), addresses, peer, timers. */
static int rekeyed_sa_setup(struct ike_engine *e, struct ike_sa *sa, struct ike_sa *ns,
                            const struct ike_chosen *c, const struct hk_secret *g_ir)
{
    struct hk_secret *skeyseed = NULL;
    engine_set_alg(ns, c);
    int rc = ike_sa_inherit(ns, sa);
    /* 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), with the old SA's PRF. */
    if (!rc)
        rc = hk_skeyseed_rekey(e->crypto, sa->alg.prf, sa->keys.sk_d, g_ir->data, g_ir->len,
                               ns->ni.p, ns->ni.len, ns->nr.p, ns->nr.len, &skeyseed);
    if (!rc)
        rc = engine_ike_keys(e, ns, skeyseed);
    hk_secret_free(&skeyseed);
    return rc;
}

static void new_sa_up(struct ike_engine *e, struct ike_sa *ns)
{
    char name[40];
    if (ike_sa_set_state(ns, IKE_SA_ESTABLISHED, e->log))
        return;
    ns->established_ms = engine_now(e);
    e->stats.ike_up++;
    engine_sa_established(e, ns);
    if (e->ops.ike_up)
        e->ops.ike_up(e->ops.arg, ns);
    hk_info(e->log, "IKE SA %s [%s] established by rekey", ike_sa_name(ns, name, sizeof(name)),
            ns->conn);
}

static void ike_rekey_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx)
{
    const struct ike_msg *m = &rx->msg;
    struct ike_sa *ns = ike_engine_sa(e, sa->create.new_sa_id);
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    const struct ike_payload *sap = find(m, IKE_PL_SA), *np = find(m, IKE_PL_NONCE),
                             *kep = find(m, IKE_PL_KE);
    struct ike_chosen c;
    struct hk_secret *g_ir = NULL;
    uint16_t err = first_error(m);
    const char *why = NULL;
    int ke_rc = HK_OK;
    if (!ns || !conn)
        why = "new IKE SA or connection gone";
    else if (err)
        why = ike_notify_name(err);
    else if (!sap || !np || !kep)
        why = "response without SA, Nonce or KE";
    else if (ike_sa_check_reply(&sap->u.sa, conn->ike, conn->nike, IKE_PROTO_IKE, false, &c) ||
             c.spi_len != IKE_SPI_LEN || kep->u.ke.group != c.ke || c.ke != sa->alg.ke)
        why = "responder chose a proposal we did not offer";
    else if ((ke_rc = hk_ke_derive(sa->create.ke, kep->u.ke.data.p, kep->u.ke.data.len, &g_ir)))
        why = "bad KE value";
    if (!why) {
        memcpy(ns->spi_r, c.spi, IKE_SPI_LEN);
        if (ike_bytes_set(&ns->ni, sa->create.nonce.p, sa->create.nonce.len) ||
            ike_bytes_set(&ns->nr, np->u.nonce.data.p, np->u.nonce.data.len) ||
            rekeyed_sa_setup(e, sa, ns, &c, g_ir))
            why = "cannot derive keys";
    }
    hk_secret_free(&g_ir);
    if (why) {
        hk_info(e->log, "IKE SA [%s]: IKE rekey failed: %s", sa->conn, why);
        if (ke_rc == HK_E_PEER_KE)
            x_info_abandon_ike(e, sa, "invalid KE value in the IKE rekey response"); /* 6989 2 */
        else
            x_create_abort(e, sa);
        return;
    }
    new_sa_up(e, ns);
    sa->create.new_sa_id = 0; /* established: not the abort's to delete */
    struct ike_sa *other = sa->peer_rekey_sa ? ike_engine_sa(e, sa->peer_rekey_sa) : NULL;
    const struct ike_bytes *ours = engine_lower_nonce(&ns->ni, &ns->nr);
    if (other && engine_nonce_cmp(ours, &sa->peer_rekey_nonce) < 0) {
        /* 2.8.2: ours has the lowest nonce: we delete it; the peer's new SA inherits. */
        hk_info(e->log, "IKE SA [%s]: simultaneous rekey, ours is redundant", sa->conn);
        engine_move_children(e, sa, other);
        engine_queue(e, ns, IKE_TASK_DELETE_IKE, 0);
    } else {
        engine_move_children(e, sa, ns);
        ike_sa_set_state(sa, IKE_SA_REKEYED, e->log);
        engine_queue(e, sa, IKE_TASK_DELETE_IKE, 0);
    }
    x_create_abort(e, sa);
}

void x_create_on_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx)
{
    if (sa->create.kind == IKE_REKEY_IKE)
        ike_rekey_response(e, sa, rx);
    else if (sa->create.kind)
        child_response(e, sa, rx);
}

/* ---- responder ---- */

static void respond_error(struct ike_engine *e, struct ike_sa *sa, uint32_t msg_id, uint16_t type,
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
static int respond_ke(struct ike_engine *e, uint16_t g, const struct ike_payload *kep, uint8_t *pub,
                      size_t *publen, struct hk_secret **g_ir)
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

static void ike_rekey_request(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx,
                              const struct hk_conn *conn)
{
    const struct ike_msg *m = &rx->msg;
    uint32_t id = m->hdr.msg_id;
    const struct ike_payload *sap = find(m, IKE_PL_SA), *np = find(m, IKE_PL_NONCE),
                             *kep = find(m, IKE_PL_KE);
    struct ike_chosen c;
    if (sa->state != IKE_SA_ESTABLISHED || sa->create.kind == IKE_REKEY_CHILD ||
        sa->create.kind == IKE_CREATE_CHILD) {
        /* 2.8.2 (already rekeyed), and 2.25: not while we make a Child SA on it. */
        respond_error(e, sa, id, IKE_N_TEMPORARY_FAILURE, NULL, 0);
        return;
    }
    /* 1.3.2: SA, Ni and KEi are all required; 3.3.1: past IKE_SA_INIT an IKE proposal
     * carries the new SA's 8-octet SPI (the codec cannot tell 0 from 8 apart by context). */
    bool spi_ok = true;
    for (size_t i = 0; i < sap->u.sa.nproposals; i++)
        spi_ok &= sap->u.sa.proposals[i].protocol != IKE_PROTO_IKE ||
                  sap->u.sa.proposals[i].spi.len == IKE_SPI_LEN;
    if (!np || !kep || !spi_ok) {
        respond_error(e, sa, id, IKE_N_INVALID_SYNTAX, NULL, 0);
        return;
    }
    if (ike_sa_choose(&sap->u.sa, conn->ike, conn->nike, IKE_PROTO_IKE, false, &c) ||
        c.spi_len != IKE_SPI_LEN) {
        respond_error(e, sa, id, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);
        return;
    }
    if (kep->u.ke.group != c.ke) {
        uint8_t g[2] = {(uint8_t)(c.ke >> 8), (uint8_t)c.ke};
        respond_error(e, sa, id, IKE_N_INVALID_KE_PAYLOAD, g, 2);
        return;
    }
    uint8_t pub[512], nonce[IKE_NONCE_LEN];
    size_t publen;
    struct hk_secret *g_ir = NULL;
    struct ike_sa *ns = engine_new_sa(e, false, sa->conn);
    int rc = ns ? HK_OK : HK_E_NOMEM;
    if (!rc) {
        memcpy(ns->spi_i, c.spi, IKE_SPI_LEN);
        rc = respond_ke(e, c.ke, kep, pub, &publen, &g_ir);
    }
    if (!rc && !(rc = hk_crypto_random(e->crypto, nonce, sizeof(nonce))) &&
        !(rc = ike_bytes_set(&ns->ni, np->u.nonce.data.p, np->u.nonce.data.len)) &&
        !(rc = ike_bytes_set(&ns->nr, nonce, sizeof(nonce))))
        rc = rekeyed_sa_setup(e, sa, ns, &c, g_ir);
    hk_secret_free(&g_ir);
    if (rc) {
        if (ns)
            engine_delete_sa(e, ns, "IKE rekey failed");
        /* RFC 6989 2: a KE value that is no valid public value (3.4: of the group's length)
         * is the peer's error and permanent: INVALID_SYNTAX. Ours is temporary. */
        respond_error(e, sa, id,
                      rc == HK_E_PEER_KE ? IKE_N_INVALID_SYNTAX : IKE_N_TEMPORARY_FAILURE, NULL, 0);
        return;
    }
    struct hk_arena a;
    alignas(max_align_t) uint8_t abuf[IKE_BUILD_ARENA];
    struct ike_payload pl[3];
    hk_arena_init_buf(&a, 0, abuf, sizeof(abuf));
    pl[0] = (struct ike_payload){.type = IKE_PL_SA};
    rc = ike_sa_build_chosen(&c, ns->spi_r, IKE_SPI_LEN, &a, &pl[0].u.sa);
    pl[1] = (struct ike_payload){.type = IKE_PL_NONCE, .u.nonce.data = {nonce, sizeof(nonce)}};
    pl[2] = (struct ike_payload){.type = IKE_PL_KE, .u.ke = {.group = c.ke, .data = {pub, publen}}};
    if (!rc)
        rc = engine_send(e, sa, true, id, IKE_CREATE_CHILD_SA, pl, 3);
    hk_arena_free(&a);
    if (rc) {
        engine_delete_sa(e, ns, "cannot answer the IKE rekey");
        return;
    }
    e->stats.exchanges_create++;
    new_sa_up(e, ns);
    if (sa->create.kind == IKE_REKEY_IKE) {
        /* 2.8.2: both rekey; decide when our answer comes, keep the children until then. */
        sa->peer_rekey_sa = ns->id;
        ike_bytes_set(&sa->peer_rekey_nonce, engine_lower_nonce(&ns->ni, &ns->nr)->p,
                      engine_lower_nonce(&ns->ni, &ns->nr)->len);
        return;
    }
    engine_move_children(e, sa, ns);
    ike_sa_set_state(sa, IKE_SA_REKEYED, e->log); /* the peer deletes it (1.3.2) */
    /* If it never does (its DELETE lost for good), the old SA must not stay for ever. */
    engine_arm(e, sa, IKE_TIMER_DELETE, engine_now(e) + IKE_REKEYED_GRACE_MS);
}

static void child_request_in(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx,
                             const struct hk_conn *conn)
{
    const struct ike_msg *m = &rx->msg;
    uint32_t id = m->hdr.msg_id;
    const struct ike_pl_notify *rk = ike_msg_find_notify(m, IKE_N_REKEY_SA);
    const struct ike_payload *sap = find(m, IKE_PL_SA), *np = find(m, IKE_PL_NONCE),
                             *kep = find(m, IKE_PL_KE), *tsi = find(m, IKE_PL_TSI),
                             *tsr = find(m, IKE_PL_TSR);
    struct child_sa *old = NULL;
    if (sa->state != IKE_SA_ESTABLISHED) {
        respond_error(e, sa, id, IKE_N_TEMPORARY_FAILURE, NULL, 0);
        return;
    }
    if (!np || !tsi || !tsr) {
        respond_error(e, sa, id, IKE_N_INVALID_SYNTAX, NULL, 0);
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
            respond_error(e, sa, id, IKE_N_CHILD_SA_NOT_FOUND, NULL, 0);
            return;
        }
    } else if (conn->max_children && sa_live_children(e, sa) >= conn->max_children) {
        /* 1.3: unwilling to accept more Child SAs on this IKE SA (a rekey replaces one). */
        e->stats.refused_children++;
        respond_error(e, sa, id, IKE_N_NO_ADDITIONAL_SAS, NULL, 0);
        return;
    }
    uint16_t err = IKE_N_NO_PROPOSAL_CHOSEN;
    bool want_transport = ike_msg_find_notify(m, IKE_N_USE_TRANSPORT_MODE) != NULL;
    for (size_t i = 0; i < conn->nchildren; i++) {
        const struct hk_child_conf *cc = &conn->children[i];
        struct ike_chosen chosen;
        if (old && strcmp(cc->name, old->name))
            continue;
        if (ike_sa_choose(&sap->u.sa, cc->esp, cc->nesp, IKE_PROTO_ESP, false, &chosen) ||
            chosen.spi_len != 4)
            continue;
        if (chosen.ke && (!kep || kep->u.ke.group != chosen.ke)) {
            uint8_t g[2] = {(uint8_t)(chosen.ke >> 8), (uint8_t)chosen.ke};
            respond_error(e, sa, id, IKE_N_INVALID_KE_PAYLOAD, g, 2);
            return;
        }
        err = IKE_N_TS_UNACCEPTABLE;
        struct ike_ts li[CHILD_MAX_TS], ri[CHILD_MAX_TS];
        size_t ni, nj;
        if (!sa_ts_narrow(sa, conn, cc, &tsi->u.ts, &tsr->u.ts, li, &nj, ri, &ni))
            continue;

        uint8_t pub[512], nonce[IKE_NONCE_LEN], spi[4];
        size_t publen = 0;
        struct hk_secret *g_ir = NULL;
        struct ike_bytes bni = {0}, bnr = {0};
        struct child_sa *c = engine_new_child(e, sa, cc->name);
        int rc = c ? HK_OK : HK_E_NOMEM;
        if (!rc && chosen.ke)
            rc = respond_ke(e, chosen.ke, kep, pub, &publen, &g_ir);
        if (!rc && !(rc = hk_crypto_random(e->crypto, nonce, sizeof(nonce))) &&
            !(rc = ike_bytes_set(&bni, np->u.nonce.data.p, np->u.nonce.data.len)) &&
            !(rc = ike_bytes_set(&bnr, nonce, sizeof(nonce)))) {
            c->chosen = chosen;
            c->transport = want_transport && cc->mode == HK_MODE_TRANSPORT;
            c->spi_out = ike_spi32(chosen.spi);
            if (!(rc = child_sa_set_ts(c, li, nj, ri, ni)))
                rc = engine_child_keys(e, sa, c, g_ir ? g_ir->data : NULL, g_ir ? g_ir->len : 0,
                                       &bni, &bnr);
        }
        hk_secret_free(&g_ir);
        struct hk_arena a;
        alignas(max_align_t) uint8_t abuf[IKE_BUILD_ARENA];
        struct ike_payload pl[6];
        size_t n = 0;
        hk_arena_init_buf(&a, 0, abuf, sizeof(abuf));
        if (!rc) {
            ike_spi32_put(c->spi_in, spi);
            pl[n] = (struct ike_payload){.type = IKE_PL_SA};
            rc = ike_sa_build_chosen(&c->chosen, spi, 4, &a, &pl[n++].u.sa);
            pl[n++] =
                (struct ike_payload){.type = IKE_PL_NONCE, .u.nonce.data = {nonce, sizeof(nonce)}};
            if (chosen.ke)
                pl[n++] = (struct ike_payload){.type = IKE_PL_KE,
                                               .u.ke = {.group = chosen.ke, .data = {pub, publen}}};
            pl[n++] = (struct ike_payload){.type = IKE_PL_TSI,
                                           .u.ts = {.nts = c->nts_remote, .ts = c->ts_remote}};
            pl[n++] = (struct ike_payload){.type = IKE_PL_TSR,
                                           .u.ts = {.nts = c->nts_local, .ts = c->ts_local}};
            if (c->transport)
                pl[n++] = (struct ike_payload){.type = IKE_PL_NOTIFY,
                                               .u.notify.type = IKE_N_USE_TRANSPORT_MODE};
        }
        if (!rc)
            rc = engine_send(e, sa, true, id, IKE_CREATE_CHILD_SA, pl, n);
        hk_arena_free(&a);
        if (rc) {
            if (c)
                engine_delete_child(e, sa, c);
            respond_error(e, sa, id,
                          rc == HK_E_PEER_KE ? IKE_N_INVALID_SYNTAX : IKE_N_TEMPORARY_FAILURE, NULL,
                          0); /* as in the IKE rekey (RFC 6989 2) */
        } else {
            e->stats.exchanges_create++;
            engine_child_installed(e, sa, c);
            if (old && old->rekeying) {
                /* 2.8.1: we rekey it too; the nonces decide when our answer arrives. */
                old->peer_rekey_child = c->id;
                const struct ike_bytes *low = engine_lower_nonce(&bni, &bnr);
                ike_bytes_set(&old->peer_rekey_nonce, low->p, low->len);
            } else if (old) {
                child_sa_set_state(old, CHILD_SA_REKEYED, e->log); /* the peer deletes it */
            }
        }
        ike_bytes_clear(&bni);
        ike_bytes_clear(&bnr);
        return;
    }
    respond_error(e, sa, id, err, NULL, 0);
}

void x_create_on_request(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx)
{
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    const struct ike_payload *sap = find(&rx->msg, IKE_PL_SA);
    if (!conn) {
        respond_error(e, sa, rx->msg.hdr.msg_id, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);
        return;
    }
    if (!sap || !sap->u.sa.nproposals) {
        respond_error(e, sa, rx->msg.hdr.msg_id, IKE_N_INVALID_SYNTAX, NULL, 0);
        return;
    }
    if (sap->u.sa.proposals[0].protocol == IKE_PROTO_IKE)
        ike_rekey_request(e, sa, rx, conn);
    else
        child_request_in(e, sa, rx, conn);
}
