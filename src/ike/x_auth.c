/* IKE_AUTH (RFC 7296 1.2, 2.15) with the first Child SA (1.2, 2.9, 2.17). */
#include "ike/engine_internal.h"

#include "common/err.h"
#include "common/secret.h"
#include "crypto/auth.h"
#include "crypto/kdf.h"
#include "crypto/prf.h"
#include "ike/codec/notify.h"
#include "ike/auth_cert.h"
#include "ike/conn_match.h"
#include "ike/cp.h"
#include "ike/creds.h"
#include "ike/ts.h"

#include <stdio.h>
#include <stdalign.h>
#include <stddef.h>
#include <string.h>

/* Stack room for our ID payload body and AUTH value (a long identity or an RSA signature
 * moves to the heap). */
#define IKE_ID_SCRATCH   256
#define IKE_AUTH_SCRATCH 256

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

/* Our identity's ID payload body (2.15 RestOfIDPayload): with a certificate and no
 * configured identity, the certificate's subject DN. */
static int local_id(struct ike_engine *e, const struct ike_sa *sa, const struct hk_conn *conn,
                    struct hk_cbb *out)
{
    if (conn->local.auth == HK_AUTH_CONF_PUBKEY && conn->local.id.type == HK_ID_AUTO) {
        const struct ike_conn_creds *cr = ike_creds_get(e, conn);
        return cr && cr->cred ? auth_cert_id_body(cr->cred, out) : HK_E_CONFIG;
    }
    return conn_local_id(conn, &sa->local, out);
}

/*
 * The PSK AUTH value of one side (2.15): prf(prf(PSK, "Key Pad for IKEv2"), RealMessage |
 * NonceOfPeer | prf(SK_p, RestOfIDPayload)). The key pad is per connection (cached with its
 * credentials: creds.h).
 */
static int psk_auth(struct ike_engine *e, const struct ike_sa *sa, const struct hk_conn *conn,
                    bool of_initiator, const uint8_t *id_body, size_t idlen,
                    uint8_t out[HK_AUTH_PSK_MAX], size_t *outlen)
{
    const struct ike_bytes *msg = of_initiator ? &sa->init_req : &sa->init_resp;
    const struct ike_bytes *nonce = of_initiator ? &sa->nr : &sa->ni;
    const struct hk_secret *skp = of_initiator ? sa->keys.sk_pi : sa->keys.sk_pr;
    if (!conn->psk)
        return HK_E_CONFIG;
    if (!skp)
        return HK_E_INVALID;
    const struct hk_secret *pad = ike_creds_psk_pad(e, conn, sa->alg.prf);
    if (!pad)
        return HK_E_NOMEM;
    *outlen = HK_AUTH_PSK_MAX;
    return hk_auth_psk_from_pad(e->crypto, sa->alg.prf, pad->data, pad->len, msg->p, msg->len,
                                nonce->p, nonce->len, skp->data, skp->len, id_body, idlen, out,
                                outlen);
}

/* Our AUTH payload data into out: PSK (2.15) or a signature (RFC 7427, RFC 4754). */
static int make_auth(struct ike_engine *e, const struct ike_sa *sa, const struct hk_conn *conn,
                     const uint8_t *id_body, size_t idlen, struct hk_cbb *out, uint8_t *method)
{
    if (conn->local.auth == HK_AUTH_CONF_PSK) {
        uint8_t v[HK_AUTH_PSK_MAX];
        size_t vlen = 0;
        int rc = psk_auth(e, sa, conn, sa->initiator, id_body, idlen, v, &vlen);
        if (!rc)
            rc = hk_cbb_add_bytes(out, v, vlen);
        hk_wipe(v, sizeof(v));
        *method = IKE_AUTH_SHARED_KEY;
        return rc;
    }
    struct hk_cbb oct;
    char err[256] = "";
    hk_cbb_init(&oct, 1024, 0);
    int rc = auth_octets(e, sa, sa->initiator, id_body, idlen, &oct);
    if (!rc) {
        const struct ike_conn_creds *cr = ike_creds_get(e, conn);
        rc = cr && cr->cred
                 ? auth_cert_sign(e->crypto, cr->cred, conn->local.signature == HK_SIG_CONF_RFC7427,
                                  oct.buf, oct.len, method, out, err, sizeof(err))
                 : HK_E_CONFIG;
        if (rc)
            hk_err(e->log, "connection %s: cannot sign AUTH: %s", conn->name,
                   err[0] ? err : hk_strerror(rc));
    }
    hk_cbb_free_wipe(&oct);
    return rc;
}

/* 0 when auth is the peer's PSK AUTH value (compared in constant time), HK_E_AUTH if not. */
static int check_psk(struct ike_engine *e, const struct ike_sa *sa, const struct hk_conn *conn,
                     const uint8_t *id_body, size_t idlen, const struct ike_pl_auth *auth)
{
    uint8_t want[HK_AUTH_PSK_MAX];
    size_t wlen = 0;
    int rc = psk_auth(e, sa, conn, !sa->initiator, id_body, idlen, want, &wlen);
    /* the length is public; only the value is compared in constant time */
    if (!rc && (auth->data.len != wlen || hk_memeq_ct(want, auth->data.p, wlen)))
        rc = HK_E_AUTH;
    hk_wipe(want, sizeof(want));
    return rc;
}

/* Checks the peer's AUTH over its ID payload; HK_E_AUTH when it does not verify. */
static int check_auth(struct ike_engine *e, const struct ike_sa *sa, const struct hk_conn *conn,
                      const struct ike_msg *m, const struct ike_pl_id *id,
                      const struct ike_pl_auth *auth)
{
    uint8_t body[4 + 1024];
    char err[256] = "";
    if (id->data.len > sizeof(body) - 4)
        return HK_E_AUTH;
    body[0] = id->type;
    memcpy(body + 1, id->reserved, 3);
    memcpy(body + 4, id->data.p, id->data.len);
    int rc;
    if (conn->remote.auth == HK_AUTH_CONF_PSK) {
        rc = auth->method == IKE_AUTH_SHARED_KEY && conn->psk
                 ? check_psk(e, sa, conn, body, 4 + id->data.len, auth)
                 : HK_E_AUTH;
        if (rc)
            snprintf(err, sizeof(err), "%s",
                     auth->method == IKE_AUTH_SHARED_KEY ? "pre-shared key AUTH does not verify"
                                                         : "peer did not use a pre-shared key");
    } else {
        struct hk_cbb oct;
        hk_cbb_init(&oct, 1024, 0);
        rc = auth_octets(e, sa, !sa->initiator, body, 4 + id->data.len, &oct);
        if (!rc) {
            const struct ike_conn_creds *cr = ike_creds_get(e, conn);
            struct auth_cert_policy pol;
            conn_cert_policy(conn, &pol);
            rc = cr && (cr->trust || cr->pin)
                     ? auth_cert_verify(e->crypto, cr->trust, m, id, auth, oct.buf, oct.len,
                                        cr->pin, &pol, err, sizeof(err))
                     : HK_E_AUTH;
            if (!cr)
                snprintf(err, sizeof(err), "no trust anchors loaded");
        }
        hk_cbb_free(&oct);
    }
    if (rc) {
        char name[40];
        hk_info(e->log, "IKE SA %s [%s]: peer authentication failed: %s",
                ike_sa_name(sa, name, sizeof(name)), conn->name, err[0] ? err : hk_strerror(rc));
        return HK_E_AUTH;
    }
    return HK_OK;
}

/* CERT payloads of our chain at pl[*n] (room entries at most). */
static int add_certs(struct ike_engine *e, const struct hk_conn *conn, struct hk_arena *a,
                     struct ike_payload *pl, size_t room, size_t *n)
{
    if (conn->local.auth != HK_AUTH_CONF_PUBKEY)
        return HK_OK;
    const struct ike_conn_creds *cr = ike_creds_get(e, conn);
    return cr && cr->cred ? auth_cert_payloads(cr->cred, a, pl, room, n) : HK_E_CONFIG;
}

/*
 * Our side of IKE_AUTH, for either role: the ID payload (type IDi or IDr) and our CERT
 * chain appended at pl[*n] (keeping `keep` entries of pl free for what follows), and our
 * AUTH data into auth. idb holds the ID body the payload points into.
 */
static int our_identity(struct ike_engine *e, struct ike_sa *sa, const struct hk_conn *conn,
                        uint8_t id_payload, struct hk_cbb *idb, struct hk_cbb *auth,
                        uint8_t *method, struct hk_arena *a, struct ike_payload *pl, size_t cap,
                        size_t keep, size_t *n)
{
    int rc = local_id(e, sa, conn, idb);
    if (!rc)
        rc = make_auth(e, sa, conn, idb->buf, idb->len, auth, method);
    /* The SA keeps how it authenticated itself (its identity is fixed from here on). */
    if (!rc)
        rc = ike_bytes_set(&sa->local_id.data, idb->buf + 4, idb->len - 4);
    if (rc)
        return rc;
    sa->local_id.type = idb->buf[0];
    sa->local_auth = *method;
    pl[(*n)++] = (struct ike_payload){
        .type = id_payload, .u.id = {.type = idb->buf[0], .data = {idb->buf + 4, idb->len - 4}}};
    return add_certs(e, conn, a, pl, cap - keep, n);
}

/* The peer's identity and AUTH method, once its AUTH verified. */
static int note_peer(struct ike_sa *sa, const struct ike_pl_id *id, uint8_t method)
{
    int rc = ike_bytes_set(&sa->peer_id.data, id->data.p, id->data.len);
    if (!rc) {
        sa->peer_id.type = id->type;
        sa->peer_auth = method;
    }
    return rc;
}

/* A CERTREQ naming our trust anchors, when we authenticate the peer by certificate (1.2). */
void x_auth_add_certreq(struct ike_engine *e, const struct hk_conn *conn, struct hk_arena *a,
                        struct ike_payload *pl, size_t *n)
{
    if (conn->remote.auth != HK_AUTH_CONF_PUBKEY)
        return;
    const struct ike_conn_creds *cr = ike_creds_get(e, conn);
    if (cr && cr->trust && !auth_certreq_payload(cr->trust, a, &pl[*n]))
        (*n)++;
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
    /* A responder's connection may have changed at IKE_AUTH: keep only what it asks for. */
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    ike_sa_trim_context_keys(sa, conn ? conn->context_keys : HK_CONTEXT_KEYS_DERIVED);
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
    if (!conn->nchildren && !(sa->ext & IKE_EXT_CHILDLESS)) {
        /* RFC 6023 3: no childless request to a responder that did not announce support. */
        hk_warn(e->log,
                "IKE SA [%s]: the connection has no child, and the peer does not support "
                "childless IKE SAs (RFC 6023)",
                sa->conn);
        return HK_E_UNSUPPORTED;
    }
    struct hk_cbb idb, auth;
    uint8_t method;
    struct hk_arena a;
    alignas(max_align_t) uint8_t abuf[IKE_BUILD_ARENA];
    struct ike_payload pl[20 + IKE_OUR_ADDRS_MAX + AUTH_CERT_MAX_CERTS];
    size_t n = 0;
    uint8_t idbuf[IKE_ID_SCRATCH], authbuf[IKE_AUTH_SCRATCH];
    hk_cbb_init_buf(&idb, idbuf, sizeof(idbuf), 0);
    hk_cbb_init_buf(&auth, authbuf, sizeof(authbuf), 0);
    hk_arena_init_buf(&a, 0, abuf, sizeof(abuf));
    /* 1.2: IDi, [CERT,] then room kept for the rest, counted generously: [CERTREQ,] [IDr,]
     * AUTH, [CP,] INITIAL_CONTACT, CLONE_IKE_SA_SUPPORTED, MOBIKE_SUPPORTED and our addresses,
     * SA, TSi, TSr, [USE_TRANSPORT_MODE] and the notifies a child may add. */
    int rc = our_identity(e, sa, conn, IKE_PL_IDI, &idb, &auth, &method, &a, pl,
                          sizeof(pl) / sizeof(pl[0]), 16 + IKE_OUR_ADDRS_MAX, &n);
    if (rc)
        goto out;
    x_auth_add_certreq(e, conn, &a, pl, &n);
    if (conn->remote.id.type != HK_ID_ANY && conn->remote.id.type != HK_ID_AUTO)
        pl[n++] =
            (struct ike_payload){.type = IKE_PL_IDR,
                                 .u.id = {.type = (uint8_t)conn->remote.id.type,
                                          .data = {conn->remote.id.data, conn->remote.id.len}}};
    pl[n++] = (struct ike_payload){.type = IKE_PL_AUTH,
                                   .u.auth = {.method = method, .data = {auth.buf, auth.len}}};
    if (conn->request_vip4 || conn->request_vip6) {
        /* 2.19: CP(CFG_REQUEST) for our virtual address(es). */
        pl[n] = (struct ike_payload){.type = IKE_PL_CP};
        if ((rc = ike_cp_build_request(conn->request_vip4, conn->request_vip6, &a, &pl[n++].u.cp)))
            goto out;
    }
    pl[n++] = (struct ike_payload){.type = IKE_PL_NOTIFY, .u.notify.type = IKE_N_INITIAL_CONTACT};
    x_clone_add_supported(conn, pl, &n); /* RFC 7791 5.1 */
    if (conn->mobike) { /* RFC 4555 3.2: in the IKE_AUTH message with the SA payload */
        pl[n++] =
            (struct ike_payload){.type = IKE_PL_NOTIFY, .u.notify.type = IKE_N_MOBIKE_SUPPORTED};
        n += x_mobike_add_addrs(sa, conn, pl + n); /* 3.4 */
    }

    /* The first child rides along (1.2); without children, a childless SA (RFC 6023). */
    if (conn->nchildren) {
        const struct hk_child_conf *cc = &conn->children[0];
        struct child_sa *c = child_nego_new(e, sa, conn, cc);
        if (!c) {
            rc = HK_E_NOMEM;
            goto out;
        }
        if ((rc = child_nego_add_sa(cc, c, true, &a, pl, &n)))
            goto out;
        child_nego_add_ts(c, pl, &n);
    }
    if ((rc = ike_sa_set_state(sa, IKE_SA_AUTH_SENT, e->log)) ||
        (rc = engine_request(e, sa, IKE_XCHG_AUTH, pl, n)))
        goto out;
    e->stats.exchanges_auth++;
out:
    hk_cbb_free(&auth);
    hk_cbb_free(&idb);
    hk_arena_free(&a);
    return rc;
}

void x_auth_on_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx)
{
    const struct ike_msg *m = &rx->msg;
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    if (!conn) {
        engine_delete_sa(e, sa, "connection removed");
        return;
    }
    /* 2.21.2: in IKE_AUTH these three alone mean the responder did not create the IKE SA
     * (no Delete follows, 2.21.3 for INVALID_SYNTAX); any other error notify is about the
     * Child SA or the CP request, and the IKE SA is up if AUTH verifies. */
    static const uint16_t fatal[] = {IKE_N_AUTHENTICATION_FAILED, IKE_N_INVALID_SYNTAX,
                                     IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD};
    for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++) {
        if (!ike_msg_find_notify(m, fatal[i]))
            continue;
        char why[64];
        if (fatal[i] == IKE_N_AUTHENTICATION_FAILED)
            e->stats.auth_failures++;
        snprintf(why, sizeof(why), "peer says %s", ike_notify_name(fatal[i]));
        engine_delete_sa(e, sa, why);
        return;
    }
    const struct ike_payload *idr = x_find(m, IKE_PL_IDR), *auth = x_find(m, IKE_PL_AUTH);
    if (!idr || !auth) {
        engine_delete_sa(e, sa, "IKE_AUTH response without IDr or AUTH");
        return;
    }
    if (!conn_matches_id(conn, idr->u.id.type, idr->u.id.data.p, idr->u.id.data.len) ||
        check_auth(e, sa, conn, m, &idr->u.id, &auth->u.auth)) {
        e->stats.auth_failures++;
        /* 2.21.2: tell the responder in a separate INFORMATIONAL, and close the SA it
         * believes established; the SA goes when that is answered or given up. */
        struct ike_payload pl[2] = {
            {.type = IKE_PL_NOTIFY, .u.notify.type = IKE_N_AUTHENTICATION_FAILED},
            {.type = IKE_PL_DELETE, .u.del = {.protocol = IKE_PROTO_IKE}}};
        engine_sa_failed(e, sa, "responder authentication failed");
        if (ike_sa_set_state(sa, IKE_SA_DELETING, e->log) ||
            engine_request(e, sa, IKE_XCHG_DELETE_IKE, pl, 2))
            engine_delete_sa(e, sa, "responder authentication failed");
        return;
    }
    if (note_peer(sa, &idr->u.id, auth->u.auth.method)) {
        engine_delete_sa(e, sa, hk_strerror(HK_E_NOMEM));
        return;
    }
    const struct ike_payload *cp = x_find(m, IKE_PL_CP);
    if (cp && cp->u.cp.cfg_type == IKE_CFG_REPLY && engine_vip_take(e, sa, &cp->u.cp))
        hk_warn(e->log, "IKE SA [%s]: malformed configuration reply ignored", sa->conn);
    else if (!cp && (conn->request_vip4 || conn->request_vip6))
        hk_warn(e->log, "IKE SA [%s]: no virtual address assigned", sa->conn);
    x_clone_note_supported(sa, conn, m); /* RFC 7791 5.1 */
    if (conn->mobike && ike_msg_find_notify(m, IKE_N_MOBIKE_SUPPORTED)) {
        sa->ext |= IKE_EXT_MOBIKE; /* RFC 4555 3.2: both sent it */
        x_mobike_note_addrs(e, sa, m);
    }
    established(e, sa);
    /* Further children of the connection follow with CREATE_CHILD_SA (1.3.1). */
    for (size_t i = 1; i < conn->nchildren; i++)
        engine_queue(e, sa, IKE_TASK_NEW_CHILD, i);

    /* The child proposed with IKE_AUTH. A child error does not fail the IKE SA (1.2). */
    struct child_sa *c = sa->nchildren ? ike_engine_child(e, sa->children[0]) : NULL;
    if (!c || c->state != CHILD_SA_CREATING)
        return;
    const struct hk_child_conf *cc = hk_conn_find_child(conn, c->name);
    const struct ike_payload *sap = x_find(m, IKE_PL_SA), *tsi = x_find(m, IKE_PL_TSI),
                             *tsr = x_find(m, IKE_PL_TSR);
    uint16_t err = x_first_error(m);
    const char *why = err ? ike_notify_name(err) : NULL;
    if (!why && (!cc || !sap || !tsi || !tsr))
        why = "no SA or TS payloads";
    if (!why)
        why = child_nego_check_sa(cc, c, sap, true);
    if (!why)
        why = child_nego_check_ts(c, m, tsi, tsr);
    if (!why && engine_child_keys(e, sa, c, NULL, 0, &sa->ni, &sa->nr))
        why = "cannot derive keys";
    if (!why && child_sa_set_ts(c, tsi->u.ts.ts, tsi->u.ts.nts, tsr->u.ts.ts, tsr->u.ts.nts))
        why = "out of memory";
    if (why) {
        hk_info(e->log, "IKE SA [%s]: child %s not established: %s", sa->conn, c->name, why);
        /* 1.3.1: without an error the responder made its half (in tunnel mode, when it
         * declined transport): an SA we cannot accept, we MUST delete. */
        if (!err && sap)
            engine_queue(e, sa, IKE_TASK_DELETE_CHILD, c->id);
        else
            engine_delete_child(e, sa, c);
        return;
    }
    c->spi_out = ike_spi32(c->chosen.spi);
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
        alignas(max_align_t) uint8_t abuf[IKE_BUILD_ARENA];
        hk_arena_init_buf(&a, 0, abuf, sizeof(abuf));
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
    struct child_choice ch;
    const struct hk_child_conf *cc = child_nego_choose(sa, conn, m, true, NULL, &ch, err);
    if (!cc)
        return NULL;
    struct child_sa *c = engine_new_child(e, sa, cc->name);
    if (!c) {
        *err = IKE_N_TEMPORARY_FAILURE;
        return NULL;
    }
    if (child_nego_apply(c, cc, &ch) || engine_child_keys(e, sa, c, NULL, 0, &sa->ni, &sa->nr)) {
        engine_delete_child(e, sa, c);
        *err = IKE_N_TEMPORARY_FAILURE;
        return NULL;
    }
    return c;
}

void x_auth_on_request(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx)
{
    const struct ike_msg *m = &rx->msg;
    const struct ike_payload *idi = x_find(m, IKE_PL_IDI), *auth = x_find(m, IKE_PL_AUTH);
    uint32_t msg_id = m->hdr.msg_id;
    engine_disarm(sa, IKE_TIMER_HALF_OPEN);
    engine_half_open_done(e, sa);
    /* RFC 6023 3: without SA, TSi and TSr the request is childless. Having announced support
     * we MUST take it (whether or not the initiator announced it); otherwise it lacks what
     * 1.2 requires. SA, TSi and TSr come together or not at all. */
    bool has_sa = x_find(m, IKE_PL_SA), has_tsi = x_find(m, IKE_PL_TSI),
         has_tsr = x_find(m, IKE_PL_TSR);
    bool childless = !has_sa && !has_tsi && !has_tsr;
    const char *malformed = !idi || !auth ? "IKE_AUTH request without IDi or AUTH"
                            : !childless && !(has_sa && has_tsi && has_tsr)
                                ? "IKE_AUTH request with only part of SA, TSi, TSr"
                            : childless && !sa->childless_offered
                                ? "childless IKE_AUTH request, and we did not offer RFC 6023"
                                : NULL;
    if (malformed) {
        /* 2.21.2: a malformed request gets INVALID_SYNTAX alone, its AUTH unchecked, and no
         * IKE SA is created (2.21.3: fatal for both peers). */
        struct ike_payload pl = {.type = IKE_PL_NOTIFY, .u.notify.type = IKE_N_INVALID_SYNTAX};
        engine_send(e, sa, true, msg_id, IKE_AUTH, &pl, 1);
        engine_delete_sa(e, sa, malformed);
        return;
    }
    const struct hk_conn *conn = find_conn_for_id(e, sa, &idi->u.id);
    if (!conn || check_auth(e, sa, conn, m, &idi->u.id, &auth->u.auth) ||
        peer_ike_sas_full(e, sa, conn, &idi->u.id)) {
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
    if (note_peer(sa, &idi->u.id, auth->u.auth.method)) {
        engine_delete_sa(e, sa, hk_strerror(HK_E_NOMEM)); /* the peer's retransmission may do */
        return;
    }

    struct hk_cbb idb, authv;
    uint8_t method;
    /* Built payloads live in the request's arena (stack first, freed with the message). */
    struct hk_arena *a = rx->arena;
    struct ike_payload pl[16 + IKE_OUR_ADDRS_MAX + AUTH_CERT_MAX_CERTS];
    size_t n = 0;
    uint8_t idbuf[IKE_ID_SCRATCH], authbuf[IKE_AUTH_SCRATCH];
    hk_cbb_init_buf(&idb, idbuf, sizeof(idbuf), 0);
    hk_cbb_init_buf(&authv, authbuf, sizeof(authbuf), 0);
    /* 1.2: IDr, [CERT,] then room kept for the rest, counted generously: AUTH, [CP,] SA, TSi,
     * TSr, [USE_TRANSPORT_MODE] or an error notify, CLONE_IKE_SA_SUPPORTED, MOBIKE_SUPPORTED
     * and our addresses. */
    int rc = our_identity(e, sa, conn, IKE_PL_IDR, &idb, &authv, &method, a, pl,
                          sizeof(pl) / sizeof(pl[0]), 12 + IKE_OUR_ADDRS_MAX, &n);
    if (rc) {
        struct ike_payload f = {.type = IKE_PL_NOTIFY,
                                .u.notify.type = IKE_N_AUTHENTICATION_FAILED};
        engine_send(e, sa, true, msg_id, IKE_AUTH, &f, 1);
        engine_delete_sa(e, sa, "cannot authenticate ourselves");
        goto out;
    }
    pl[n++] = (struct ike_payload){.type = IKE_PL_AUTH,
                                   .u.auth = {.method = method, .data = {authv.buf, authv.len}}};
    if (conn->mobike) {
        /* RFC 4555 3.2: we announce it; the SA may move only when the initiator did too. */
        pl[n++] =
            (struct ike_payload){.type = IKE_PL_NOTIFY, .u.notify.type = IKE_N_MOBIKE_SUPPORTED};
        n += x_mobike_add_addrs(sa, conn, pl + n); /* 3.4 */
        if (ike_msg_find_notify(m, IKE_N_MOBIKE_SUPPORTED)) {
            sa->ext |= IKE_EXT_MOBIKE;
            x_mobike_note_addrs(e, sa, m);
        }
    }
    struct child_sa *c = NULL;
    uint16_t child_err = 0;
    const struct ike_payload *cpreq = x_find(m, IKE_PL_CP);
    if (cpreq && cpreq->u.cp.cfg_type == IKE_CFG_REQUEST && conn->npools) {
        /* 2.19 / 3.15.4: an address from our pools, or INTERNAL_ADDRESS_FAILURE and no child. */
        pl[n] = (struct ike_payload){.type = IKE_PL_CP};
        if (!engine_vip_assign(e, sa, conn, &cpreq->u.cp, a, &pl[n].u.cp))
            n++;
        else
            child_err = IKE_N_INTERNAL_ADDRESS_FAILURE;
    }
    if (!childless && !child_err)
        c = respond_child(e, sa, conn, m, &child_err);
    if (c) {
        size_t at = n;
        if (child_nego_add_sa(NULL, c, true, a, pl, &n)) {
            /* No room for our SA payload (memory): the IKE SA is made without this Child SA,
             * which the initiator learns as a Child SA error (2.21.2). */
            n = at;
            engine_delete_child(e, sa, c);
            c = NULL;
            child_err = IKE_N_TEMPORARY_FAILURE;
        } else {
            child_nego_add_ts(c, pl, &n);
        }
    }
    if (!c && child_err) {
        /* About the Child SA or the CP request only: the IKE SA is still created (2.21.2,
         * 3.15.4), also for a childless request whose CP we cannot satisfy. */
        pl[n++] = (struct ike_payload){.type = IKE_PL_NOTIFY, .u.notify.type = child_err};
        hk_info(e->log, "IKE SA [%s]: no %s: %s", sa->conn,
                childless ? "virtual address" : "Child SA for the initiator's offer",
                ike_notify_name(child_err));
    }
    x_clone_add_supported(conn, pl, &n); /* RFC 7791 5.1 */
    x_clone_note_supported(sa, conn, m);
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
    hk_cbb_free(&authv);
    hk_cbb_free(&idb);
}
