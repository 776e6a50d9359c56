/* IKE_AUTH (RFC 7296 1.2, 2.15) with the first Child SA (1.2, 2.9, 2.17). */
#include "ike/engine_internal.h"

#include "common/err.h"
#include "common/secret.h"
#include "crypto/auth.h"
#include "crypto/kdf.h"
#include "ike/codec/notify.h"
#include "ike/conn_match.h"
#include "ike/ts.h"

#include <string.h>

/* The signed octets of 2.15 for one side: its IKE_SA_INIT message, the other's nonce,
 * prf(SK_p, RestOfIDPayload). */
static int auth_octets(struct ike_engine *e, const struct ike_sa *sa, bool of_initiator,
                       const uint8_t *id_body, size_t idlen, struct hk_cbb *out)
{
    const struct ike_bytes *msg = of_initiator ? &sa->init_req : &sa->init_resp;
    const struct ike_bytes *nonce = of_initiator ? &sa->nr : &sa->ni;
    const struct hk_secret *skp = of_initiator ? sa->keys.sk_pi : sa->keys.sk_pr;
    return hk_auth_octets(e->crypto, sa->alg.prf, msg->p, msg->len, nonce->p, nonce->len, skp->data,
                          skp->len, id_body, idlen, out);
}

/* Our AUTH payload data (PSK only in this version; certificates come with their slice). */
static int make_auth(struct ike_engine *e, const struct ike_sa *sa, const struct hk_conn *conn,
                     const uint8_t *id_body, size_t idlen, uint8_t *out, size_t *outlen,
                     uint8_t *method)
{
    if (conn->local.auth != HK_AUTH_CONF_PSK || !conn->psk) {
        hk_err(e->log, "connection %s: only pre-shared key authentication is implemented",
               conn->name);
        return HK_E_UNSUPPORTED;
    }
    struct hk_cbb oct;
    hk_cbb_init(&oct, 1024, 0);
    int rc = auth_octets(e, sa, sa->initiator, id_body, idlen, &oct);
    if (!rc)
        rc = hk_auth_psk_compute(e->crypto, sa->alg.prf, conn->psk->data, conn->psk->len, oct.buf,
                                 oct.len, out, outlen);
    hk_cbb_free(&oct);
    *method = IKE_AUTH_SHARED_KEY;
    return rc;
}

/* Checks the peer's AUTH over its ID payload; HK_E_AUTH when it does not verify. */
static int check_auth(struct ike_engine *e, const struct ike_sa *sa, const struct hk_conn *conn,
                      const struct ike_pl_id *id, const struct ike_pl_auth *auth)
{
    if (conn->remote.auth != HK_AUTH_CONF_PSK || auth->method != IKE_AUTH_SHARED_KEY || !conn->psk)
        return HK_E_AUTH;
    uint8_t body[4 + 1024];
    if (id->data.len > sizeof(body) - 4)
        return HK_E_AUTH;
    body[0] = id->type;
    memcpy(body + 1, id->reserved, 3);
    memcpy(body + 4, id->data.p, id->data.len);
    struct hk_cbb oct;
    hk_cbb_init(&oct, 1024, 0);
    int rc = auth_octets(e, sa, !sa->initiator, body, 4 + id->data.len, &oct);
    if (!rc)
        rc = hk_auth_psk_verify(e->crypto, sa->alg.prf, conn->psk->data, conn->psk->len, oct.buf,
                                oct.len, auth->data.p, auth->data.len);
    hk_cbb_free(&oct);
    return rc;
}

static void established(struct ike_engine *e, struct ike_sa *sa)
{
    char name[40], peer[64];
    if (ike_sa_set_state(sa, IKE_SA_ESTABLISHED, e->log))
        return;
    sa->established_ms = engine_now(e);
    /* The IKE_SA_INIT messages have been signed; nonces stay for Child SA keys (2.17). */
    ike_bytes_clear(&sa->init_req);
    ike_bytes_clear(&sa->init_resp);
    e->stats.ike_up++;
    engine_sa_established(e, sa);
    if (e->ops.ike_up)
        e->ops.ike_up(e->ops.arg, sa);
    hk_info(e->log, "IKE SA %s [%s] established with %s", ike_sa_name(sa, name, sizeof(name)),
            sa->conn, engine_addr_str(&sa->remote, peer, sizeof(peer)));
}

/* ---- initiator ---- */

int x_auth_start(struct ike_engine *e, struct ike_sa *sa)
{
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    if (!conn)
        return HK_E_NOTFOUND;
    struct hk_cbb idb;
    uint8_t auth[HK_AUTH_PSK_MAX];
    size_t alen = sizeof(auth);
    uint8_t method;
    struct hk_arena a;
    struct ike_payload pl[10];
    size_t n = 0;
    hk_cbb_init(&idb, 64, 0);
    hk_arena_init(&a, 0);
    int rc = conn_local_id(conn, &sa->local, &idb);
    if (!rc)
        rc = make_auth(e, sa, conn, idb.buf, idb.len, auth, &alen, &method);
    if (rc)
        goto out;
    pl[n++] = (struct ike_payload){
        .type = IKE_PL_IDI, .u.id = {.type = idb.buf[0], .data = {idb.buf + 4, idb.len - 4}}};
    if (conn->remote.id.type != HK_ID_ANY && conn->remote.id.type != HK_ID_AUTO)
        pl[n++] =
            (struct ike_payload){.type = IKE_PL_IDR,
                                 .u.id = {.type = (uint8_t)conn->remote.id.type,
                                          .data = {conn->remote.id.data, conn->remote.id.len}}};
    pl[n++] = (struct ike_payload){.type = IKE_PL_AUTH,
                                   .u.auth = {.method = method, .data = {auth, alen}}};
    pl[n++] = (struct ike_payload){.type = IKE_PL_NOTIFY, .u.notify.type = IKE_N_INITIAL_CONTACT};

    /* The first child rides along (1.2); without children, a childless SA (RFC 6023). */
    if (conn->nchildren) {
        const struct hk_child_conf *cc = &conn->children[0];
        struct child_sa *c = engine_new_child(e, sa, cc->name);
        if (!c) {
            rc = HK_E_NOMEM;
            goto out;
        }
        c->initiator = true;
        c->transport = cc->mode == HK_MODE_TRANSPORT;
        c->nts_local = conn_ts(cc->local_ts, cc->nlocal_ts, &sa->local, c->ts_local, CHILD_MAX_TS);
        c->nts_remote =
            conn_ts(cc->remote_ts, cc->nremote_ts, &sa->remote, c->ts_remote, CHILD_MAX_TS);
        uint8_t *spi = hk_arena_alloc(&a, 4);
        if (!spi) {
            rc = HK_E_NOMEM;
            goto out;
        }
        spi[0] = (uint8_t)(c->spi_in >> 24), spi[1] = (uint8_t)(c->spi_in >> 16);
        spi[2] = (uint8_t)(c->spi_in >> 8), spi[3] = (uint8_t)c->spi_in;
        pl[n] = (struct ike_payload){.type = IKE_PL_SA};
        if ((rc = ike_sa_build(cc->esp, cc->nesp, IKE_PROTO_ESP, spi, 4, true, &a, &pl[n++].u.sa)))
            goto out;
        pl[n++] = (struct ike_payload){.type = IKE_PL_TSI,
                                       .u.ts = {.nts = c->nts_local, .ts = c->ts_local}};
        pl[n++] = (struct ike_payload){.type = IKE_PL_TSR,
                                       .u.ts = {.nts = c->nts_remote, .ts = c->ts_remote}};
        if (c->transport)
            pl[n++] = (struct ike_payload){.type = IKE_PL_NOTIFY,
                                           .u.notify.type = IKE_N_USE_TRANSPORT_MODE};
    }
    if ((rc = ike_sa_set_state(sa, IKE_SA_AUTH_SENT, e->log)) ||
        (rc = engine_request(e, sa, IKE_AUTH, pl, n)))
        goto out;
    e->stats.exchanges_auth++;
out:
    hk_wipe(auth, sizeof(auth));
    hk_cbb_free(&idb);
    hk_arena_free(&a);
    return rc;
}

static const struct ike_payload *find(const struct ike_msg *m, uint8_t type)
{
    size_t from = 0;
    return ike_msg_find(m, type, &from);
}

void x_auth_on_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx)
{
    const struct ike_msg *m = &rx->msg;
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    if (!conn) {
        engine_delete_sa(e, sa, "connection removed");
        return;
    }
    if (ike_msg_find_notify(m, IKE_N_AUTHENTICATION_FAILED)) {
        e->stats.auth_failures++;
        engine_delete_sa(e, sa, "peer says AUTHENTICATION_FAILED");
        return;
    }
    const struct ike_payload *idr = find(m, IKE_PL_IDR), *auth = find(m, IKE_PL_AUTH);
    if (!idr || !auth) {
        engine_delete_sa(e, sa, "IKE_AUTH response without IDr or AUTH");
        return;
    }
    if (!conn_matches_id(conn, idr->u.id.type, idr->u.id.data.p, idr->u.id.data.len) ||
        check_auth(e, sa, conn, &idr->u.id, &auth->u.auth)) {
        e->stats.auth_failures++;
        engine_delete_sa(e, sa, "responder authentication failed");
        return;
    }
    ike_bytes_set(&sa->peer_id.data, idr->u.id.data.p, idr->u.id.data.len);
    sa->peer_id.type = idr->u.id.type;
    established(e, sa);
    /* Further children of the connection follow with CREATE_CHILD_SA (1.3.1). */
    for (size_t i = 1; i < conn->nchildren; i++)
        engine_queue(e, sa, IKE_TASK_NEW_CHILD, i);

    /* The child proposed with IKE_AUTH. A child error does not fail the IKE SA (1.2). */
    struct child_sa *c = sa->nchildren ? ike_engine_child(e, sa->children[0]) : NULL;
    if (!c || c->state != CHILD_SA_CREATING)
        return;
    const struct hk_child_conf *cc = hk_conn_find_child(conn, c->name);
    const struct ike_payload *sap = find(m, IKE_PL_SA), *tsi = find(m, IKE_PL_TSI),
                             *tsr = find(m, IKE_PL_TSR);
    uint16_t err = 0;
    for (size_t i = 0; i < m->npayloads && !err; i++)
        if (m->payloads[i].type == IKE_PL_NOTIFY &&
            ike_notify_is_error(m->payloads[i].u.notify.type))
            err = m->payloads[i].u.notify.type;
    const char *why = err ? ike_notify_name(err) : NULL;
    if (!why && (!cc || !sap || !tsi || !tsr))
        why = "no SA or TS payloads";
    if (!why &&
        (ike_sa_check_reply(&sap->u.sa, cc->esp, cc->nesp, IKE_PROTO_ESP, true, &c->chosen) ||
         c->chosen.spi_len != 4))
        why = "responder chose an ESP proposal we did not offer";
    if (!why && (!ike_ts_all_within(tsi->u.ts.ts, tsi->u.ts.nts, c->ts_local, c->nts_local) ||
                 !ike_ts_all_within(tsr->u.ts.ts, tsr->u.ts.nts, c->ts_remote, c->nts_remote) ||
                 tsi->u.ts.nts > CHILD_MAX_TS || tsr->u.ts.nts > CHILD_MAX_TS))
        why = "responder's traffic selectors are not within ours";
    if (!why && c->transport && !ike_msg_find_notify(m, IKE_N_USE_TRANSPORT_MODE))
        why = "responder refused transport mode";
    if (!why && engine_child_keys(e, sa, c, NULL, 0, &sa->ni, &sa->nr))
        why = "cannot derive keys";
    if (why) {
        hk_info(e->log, "IKE SA [%s]: child %s not established: %s", sa->conn, c->name, why);
        engine_delete_child(e, sa, c);
        return;
    }
    c->spi_out = (uint32_t)c->chosen.spi[0] << 24 | (uint32_t)c->chosen.spi[1] << 16 |
                 (uint32_t)c->chosen.spi[2] << 8 | c->chosen.spi[3];
    c->nts_local = tsi->u.ts.nts;
    memcpy(c->ts_local, tsi->u.ts.ts, c->nts_local * sizeof(struct ike_ts));
    c->nts_remote = tsr->u.ts.nts;
    memcpy(c->ts_remote, tsr->u.ts.ts, c->nts_remote * sizeof(struct ike_ts));
    engine_child_installed(e, sa, c);
}

/* ---- responder ---- */

/* The connection for an authenticated peer: addresses, identity and our IKE proposal. */
static const struct hk_conn *find_conn_for_id(struct ike_engine *e, const struct ike_sa *sa,
                                              const struct ike_pl_id *id)
{
    const struct hk_conn *first = hk_config_find_conn(e->cfg, sa->conn);
    if (first && conn_matches_id(first, id->type, id->data.p, id->data.len))
        return first;
    for (size_t i = 0; i < e->cfg->nconns; i++) {
        const struct hk_conn *k = &e->cfg->conns[i];
        struct ike_pl_sa offer;
        struct ike_chosen c;
        struct hk_arena a;
        hk_arena_init(&a, 0);
        bool ok = conn_matches_addrs(k, &sa->local, &sa->remote) &&
                  conn_matches_id(k, id->type, id->data.p, id->data.len) &&
                  !ike_sa_build_chosen(&sa->chosen, NULL, 0, &a, &offer) &&
                  !ike_sa_choose(&offer, k->ike, k->nike, IKE_PROTO_IKE, false, &c);
        hk_arena_free(&a);
        if (ok)
            return k;
    }
    return NULL;
}

/*
 * Picks the child configuration and builds the Child SA for the initiator's offer.
 * On failure *err is the notify to send instead (the IKE SA still comes up, 1.2).
 */
static struct child_sa *respond_child(struct ike_engine *e, struct ike_sa *sa,
                                      const struct hk_conn *conn, const struct ike_msg *m,
                                      uint16_t *err)
{
    const struct ike_payload *sap = find(m, IKE_PL_SA), *tsi = find(m, IKE_PL_TSI),
                             *tsr = find(m, IKE_PL_TSR);
    *err = IKE_N_INVALID_SYNTAX;
    if (!sap || !tsi || !tsr)
        return NULL;
    *err = IKE_N_NO_PROPOSAL_CHOSEN;
    bool want_transport = ike_msg_find_notify(m, IKE_N_USE_TRANSPORT_MODE) != NULL;
    for (size_t i = 0; i < conn->nchildren; i++) {
        const struct hk_child_conf *cc = &conn->children[i];
        struct ike_chosen chosen;
        if (ike_sa_choose(&sap->u.sa, cc->esp, cc->nesp, IKE_PROTO_ESP, true, &chosen) ||
            chosen.spi_len != 4)
            continue;
        *err = IKE_N_TS_UNACCEPTABLE;
        struct ike_ts lconf[CHILD_MAX_TS], rconf[CHILD_MAX_TS], li[CHILD_MAX_TS], ri[CHILD_MAX_TS];
        size_t nl = conn_ts(cc->local_ts, cc->nlocal_ts, &sa->local, lconf, CHILD_MAX_TS);
        size_t nr = conn_ts(cc->remote_ts, cc->nremote_ts, &sa->remote, rconf, CHILD_MAX_TS);
        /* TSi are the initiator's (our remote) side, TSr ours (2.9). */
        size_t ni = ike_ts_narrow(tsi->u.ts.ts, tsi->u.ts.nts, rconf, nr, ri, CHILD_MAX_TS);
        size_t nj = ike_ts_narrow(tsr->u.ts.ts, tsr->u.ts.nts, lconf, nl, li, CHILD_MAX_TS);
        if (!ni || !nj)
            continue;
        struct child_sa *c = engine_new_child(e, sa, cc->name);
        if (!c) {
            *err = IKE_N_TEMPORARY_FAILURE;
            return NULL;
        }
        c->chosen = chosen;
        c->transport = want_transport && cc->mode == HK_MODE_TRANSPORT;
        c->spi_out = (uint32_t)chosen.spi[0] << 24 | (uint32_t)chosen.spi[1] << 16 |
                     (uint32_t)chosen.spi[2] << 8 | chosen.spi[3];
        c->nts_local = nj;
        memcpy(c->ts_local, li, nj * sizeof(*li));
        c->nts_remote = ni;
        memcpy(c->ts_remote, ri, ni * sizeof(*ri));
        if (engine_child_keys(e, sa, c, NULL, 0, &sa->ni, &sa->nr)) {
            engine_delete_child(e, sa, c);
            *err = IKE_N_TEMPORARY_FAILURE;
            return NULL;
        }
        return c;
    }
    return NULL;
}

void x_auth_on_request(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx)
{
    const struct ike_msg *m = &rx->msg;
    const struct ike_payload *idi = find(m, IKE_PL_IDI), *auth = find(m, IKE_PL_AUTH);
    uint32_t msg_id = m->hdr.msg_id;
    engine_disarm(sa, IKE_TIMER_HALF_OPEN);
    engine_half_open_done(e, sa);
    if (!idi || !auth) {
        struct ike_payload pl = {.type = IKE_PL_NOTIFY, .u.notify.type = IKE_N_INVALID_SYNTAX};
        engine_send(e, sa, true, msg_id, IKE_AUTH, &pl, 1);
        engine_delete_sa(e, sa, "IKE_AUTH request without IDi or AUTH");
        return;
    }
    const struct hk_conn *conn = find_conn_for_id(e, sa, &idi->u.id);
    if (!conn || check_auth(e, sa, conn, &idi->u.id, &auth->u.auth)) {
        /* 2.21.2: AUTHENTICATION_FAILED in the response, then the SA is gone. */
        struct ike_payload pl = {.type = IKE_PL_NOTIFY,
                                 .u.notify.type = IKE_N_AUTHENTICATION_FAILED};
        e->stats.auth_failures++;
        engine_send(e, sa, true, msg_id, IKE_AUTH, &pl, 1);
        engine_delete_sa(e, sa,
                         conn ? "initiator authentication failed"
                              : "no connection for the initiator's identity");
        return;
    }
    snprintf(sa->conn, sizeof(sa->conn), "%s", conn->name);
    ike_bytes_set(&sa->peer_id.data, idi->u.id.data.p, idi->u.id.data.len);
    sa->peer_id.type = idi->u.id.type;

    struct hk_cbb idb;
    uint8_t authv[HK_AUTH_PSK_MAX];
    size_t alen = sizeof(authv);
    uint8_t method;
    struct hk_arena a;
    struct ike_payload pl[8];
    size_t n = 0;
    hk_cbb_init(&idb, 64, 0);
    hk_arena_init(&a, 0);
    int rc = conn_local_id(conn, &sa->local, &idb);
    if (!rc)
        rc = make_auth(e, sa, conn, idb.buf, idb.len, authv, &alen, &method);
    if (rc) {
        struct ike_payload f = {.type = IKE_PL_NOTIFY,
                                .u.notify.type = IKE_N_AUTHENTICATION_FAILED};
        engine_send(e, sa, true, msg_id, IKE_AUTH, &f, 1);
        engine_delete_sa(e, sa, "cannot authenticate ourselves");
        goto out;
    }
    pl[n++] = (struct ike_payload){
        .type = IKE_PL_IDR, .u.id = {.type = idb.buf[0], .data = {idb.buf + 4, idb.len - 4}}};
    pl[n++] = (struct ike_payload){.type = IKE_PL_AUTH,
                                   .u.auth = {.method = method, .data = {authv, alen}}};
    struct child_sa *c = NULL;
    uint16_t child_err = 0;
    bool childless = !find(m, IKE_PL_SA) && (sa->ext & IKE_EXT_CHILDLESS);
    if (!childless)
        c = respond_child(e, sa, conn, m, &child_err);
    uint8_t spi[4];
    if (c) {
        spi[0] = (uint8_t)(c->spi_in >> 24), spi[1] = (uint8_t)(c->spi_in >> 16);
        spi[2] = (uint8_t)(c->spi_in >> 8), spi[3] = (uint8_t)c->spi_in;
        pl[n] = (struct ike_payload){.type = IKE_PL_SA};
        ike_sa_build_chosen(&c->chosen, spi, 4, &a, &pl[n++].u.sa);
        pl[n++] = (struct ike_payload){.type = IKE_PL_TSI,
                                       .u.ts = {.nts = c->nts_remote, .ts = c->ts_remote}};
        pl[n++] = (struct ike_payload){.type = IKE_PL_TSR,
                                       .u.ts = {.nts = c->nts_local, .ts = c->ts_local}};
        if (c->transport)
            pl[n++] = (struct ike_payload){.type = IKE_PL_NOTIFY,
                                           .u.notify.type = IKE_N_USE_TRANSPORT_MODE};
    } else if (!childless) {
        pl[n++] = (struct ike_payload){.type = IKE_PL_NOTIFY, .u.notify.type = child_err};
        hk_info(e->log, "IKE SA [%s]: no Child SA for the initiator's offer: %s", sa->conn,
                ike_notify_name(child_err));
    }
    rc = engine_send(e, sa, true, msg_id, IKE_AUTH, pl, n);
    if (rc) {
        engine_delete_sa(e, sa, hk_strerror(rc));
        goto out;
    }
    e->stats.exchanges_auth++;
    established(e, sa);
    if (c)
        engine_child_installed(e, sa, c);
out:
    hk_wipe(authv, sizeof(authv));
    hk_cbb_free(&idb);
    hk_arena_free(&a);
}
