/*
 * The IKE SA rekey (RFC 7296 1.3.2, 2.18) over CREATE_CHILD_SA, both roles, with the
 * simultaneous-rekey rule of 2.8.2: the new SA inherits the session (ike_sa_inherit) and the
 * Child SAs, the old one is deleted. A clone (RFC 7791 5.2) is the same exchange with
 * CLONE_IKE_SA in the request: both SAs stay, the Child SAs with the old one.
 */
#include "ike/engine_internal.h"

#include "common/err.h"
#include "common/secret.h"
#include "crypto/kdf.h"
#include "ike/codec/notify.h"

#include <stdalign.h>
#include <stddef.h>
#include <string.h>

/* ---- IKE SA rekey, initiator ---- */

static int rekey_request(struct ike_engine *e, struct ike_sa *sa, bool clone, uint64_t *new_id)
{
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    if (!conn)
        return HK_E_NOTFOUND;
    uint8_t pub[512];
    size_t publen;
    /* The group in use is acceptable to both; offer it first (avoids INVALID_KE). */
    int rc = x_create_begin(e, sa, clone ? IKE_XCHG_CLONE : IKE_XCHG_REKEY_IKE, sa->alg.ke, pub,
                            &publen);
    if (rc)
        return rc;
    struct ike_sa *ns = engine_new_sa(e, true, sa->conn);
    if (!ns) {
        x_xchg_end(e, sa);
        return HK_E_NOMEM;
    }
    sa->xchg.new_sa_id = ns->id;
    struct hk_arena a;
    alignas(max_align_t) uint8_t abuf[IKE_BUILD_ARENA];
    struct ike_payload pl[4];
    size_t n = 0;
    hk_arena_init_buf(&a, 0, abuf, sizeof(abuf));
    /* RFC 7791 5.2: HDR, SK {N(CLONE_IKE_SA), SA, Ni, KEi}. */
    if (clone)
        pl[n++] = (struct ike_payload){.type = IKE_PL_NOTIFY, .u.notify.type = IKE_N_CLONE_IKE_SA};
    struct ike_payload *sap = &pl[n++];
    *sap = (struct ike_payload){.type = IKE_PL_SA};
    /* 3.3.1: in an IKE rekey, the SA payload carries the new SA's initiator SPI. */
    rc = ike_sa_build(conn->ike, conn->nike, IKE_PROTO_IKE, ns->spi_i, IKE_SPI_LEN, false, &a,
                      &sap->u.sa);
    pl[n++] = (struct ike_payload){.type = IKE_PL_NONCE,
                                   .u.nonce.data = {sa->xchg.nonce.p, sa->xchg.nonce.len}};
    pl[n++] = (struct ike_payload){.type = IKE_PL_KE,
                                   .u.ke = {.group = sa->alg.ke, .data = {pub, publen}}};
    if (!rc)
        rc = engine_request(e, sa, sa->xchg.kind, pl, n);
    hk_arena_free(&a);
    if (rc) {
        x_xchg_end(e, sa);
        return rc;
    }
    e->stats.exchanges_create++;
    if (new_id)
        *new_id = ns->id;
    hk_info(e->log, "IKE SA [%s]: %s the IKE SA", sa->conn, clone ? "cloning" : "rekeying");
    return HK_OK;
}

int x_rekey_ike_start(struct ike_engine *e, struct ike_sa *sa)
{
    return rekey_request(e, sa, false, NULL);
}

int x_clone_start(struct ike_engine *e, struct ike_sa *sa, uint64_t *new_id)
{
    return rekey_request(e, sa, true, new_id);
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

static void new_sa_up(struct ike_engine *e, struct ike_sa *ns, bool clone)
{
    char name[40];
    if (ike_sa_set_state(ns, IKE_SA_ESTABLISHED, e->log))
        return;
    ns->established_ms = engine_now(e);
    e->stats.ike_up++;
    engine_sa_established(e, ns);
    if (e->ops.ike_up)
        e->ops.ike_up(e->ops.arg, ns);
    if (clone)
        e->stats.clones++;
    hk_info(e->log, "IKE SA %s [%s] established by %s (family %llu)",
            ike_sa_name(ns, name, sizeof(name)), ns->conn, clone ? "clone" : "rekey",
            (unsigned long long)ns->family);
}

void x_rekey_ike_on_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx)
{
    const struct ike_msg *m = &rx->msg;
    bool clone = sa->xchg.kind == IKE_XCHG_CLONE;
    struct ike_sa *ns = ike_engine_sa(e, sa->xchg.new_sa_id);
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    const struct ike_payload *sap = x_find(m, IKE_PL_SA), *np = x_find(m, IKE_PL_NONCE),
                             *kep = x_find(m, IKE_PL_KE);
    struct ike_chosen c;
    struct hk_secret *g_ir = NULL;
    uint16_t err = x_first_error(m);
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
    else if ((ke_rc = hk_ke_derive(sa->xchg.ke, kep->u.ke.data.p, kep->u.ke.data.len, &g_ir)))
        why = "bad KE value";
    if (!why) {
        memcpy(ns->spi_r, c.spi, IKE_SPI_LEN);
        if (ike_bytes_set(&ns->ni, sa->xchg.nonce.p, sa->xchg.nonce.len) ||
            ike_bytes_set(&ns->nr, np->u.nonce.data.p, np->u.nonce.data.len) ||
            rekeyed_sa_setup(e, sa, ns, &c, g_ir))
            why = "cannot derive keys";
    }
    hk_secret_free(&g_ir);
    if (why) {
        hk_info(e->log, "IKE SA [%s]: IKE %s failed: %s", sa->conn, clone ? "clone" : "rekey", why);
        if (clone && err)
            x_clone_refused(e, sa, err); /* before x_xchg_end: it reads the record */
        if (ke_rc == HK_E_PEER_KE)
            x_info_abandon_ike(e, sa, "invalid KE value in the IKE rekey response"); /* 6989 2 */
        else
            x_xchg_end(e, sa);
        return;
    }
    new_sa_up(e, ns, clone);
    sa->xchg.new_sa_id = 0; /* established: not x_xchg_end's to delete */
    if (clone) {
        /* RFC 7791 5.2: both SAs stay; the Child SAs are not transferred. */
        sa->clone_tries = 0;
        x_xchg_end(e, sa);
        return;
    }
    struct ike_sa *other = x_peer_rekey_sa(e, sa);
    const struct ike_bytes *ours = engine_lower_nonce(&ns->ni, &ns->nr);
    if (other && engine_nonce_cmp(ours, &sa->peer_xchg.nonce) < 0) {
        /* 2.8.2: ours has the lowest nonce: we delete it; the peer's new SA inherits. */
        hk_info(e->log, "IKE SA [%s]: simultaneous rekey, ours is redundant", sa->conn);
        engine_move_children(e, sa, other);
        engine_queue(e, ns, IKE_TASK_DELETE_IKE, 0);
    } else {
        engine_move_children(e, sa, ns);
        ike_sa_set_state(sa, IKE_SA_REKEYED, e->log);
        engine_queue(e, sa, IKE_TASK_DELETE_IKE, 0);
    }
    x_xchg_end(e, sa);
}

/* ---- IKE SA rekey, responder ---- */

void x_rekey_ike_on_request(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx,
                            const struct hk_conn *conn)
{
    const struct ike_msg *m = &rx->msg;
    uint32_t id = m->hdr.msg_id;
    const struct ike_payload *sap = x_find(m, IKE_PL_SA), *np = x_find(m, IKE_PL_NONCE),
                             *kep = x_find(m, IKE_PL_KE);
    struct ike_chosen c;
    /* RFC 7791 5.1, 5.2: CLONE_IKE_SA counts only on an SA both sides announced cloning on;
     * elsewhere it is ignored and the request is the plain IKE rekey it also is. */
    bool asked_clone = ike_msg_find_notify(m, IKE_N_CLONE_IKE_SA) != NULL;
    bool clone = asked_clone && (sa->ext & IKE_EXT_CLONE);
    if (asked_clone && !clone)
        hk_info(e->log,
                "IKE SA [%s]: CLONE_IKE_SA ignored: cloning was not negotiated on this IKE SA",
                sa->conn);
    if (sa->state != IKE_SA_ESTABLISHED ||
        (!clone &&
         (sa->xchg.kind == IKE_XCHG_REKEY_CHILD || sa->xchg.kind == IKE_XCHG_CREATE_CHILD)) ||
        (clone && sa->xchg.kind == IKE_XCHG_REKEY_IKE)) {
        /* 2.8.2 (already rekeyed), and 2.25: not while we make a Child SA on it. A clone
         * leaves the Child SAs where they are, but not an SA being rekeyed or deleted: it is
         * about to go (RFC 7791 5.3). */
        if (clone)
            e->stats.refused_clones++;
        x_create_respond_error(e, sa, id, IKE_N_TEMPORARY_FAILURE, NULL, 0);
        return;
    }
    /* 1.3.2: SA, Ni and KEi are all required; 3.3.1: past IKE_SA_INIT an IKE proposal
     * carries the new SA's 8-octet SPI (the codec cannot tell 0 from 8 apart by context). */
    bool spi_ok = true;
    for (size_t i = 0; i < sap->u.sa.nproposals; i++)
        spi_ok &= sap->u.sa.proposals[i].protocol != IKE_PROTO_IKE ||
                  sap->u.sa.proposals[i].spi.len == IKE_SPI_LEN;
    if (!np || !kep || !spi_ok) {
        x_create_respond_error(e, sa, id, IKE_N_INVALID_SYNTAX, NULL, 0);
        return;
    }
    if (ike_sa_choose(&sap->u.sa, conn->ike, conn->nike, IKE_PROTO_IKE, false, &c) ||
        c.spi_len != IKE_SPI_LEN) {
        x_create_respond_error(e, sa, id, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);
        return;
    }
    if (kep->u.ke.group != c.ke) {
        uint8_t g[2] = {(uint8_t)(c.ke >> 8), (uint8_t)c.ke};
        x_create_respond_error(e, sa, id, IKE_N_INVALID_KE_PAYLOAD, g, 2);
        return;
    }
    uint16_t refuse = clone ? x_clone_refusal(e, sa, conn) : 0;
    if (refuse) {
        x_create_respond_error(e, sa, id, refuse, NULL, 0);
        return;
    }
    uint8_t pub[512], nonce[IKE_NONCE_LEN];
    size_t publen;
    struct hk_secret *g_ir = NULL;
    struct ike_sa *ns = engine_new_sa(e, false, sa->conn);
    int rc = ns ? HK_OK : HK_E_NOMEM;
    if (!rc) {
        memcpy(ns->spi_i, c.spi, IKE_SPI_LEN);
        rc = x_create_respond_ke(e, c.ke, kep, pub, &publen, &g_ir);
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
        x_create_respond_error(e, sa, id,
                               rc == HK_E_PEER_KE ? IKE_N_INVALID_SYNTAX : IKE_N_TEMPORARY_FAILURE,
                               NULL, 0);
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
    new_sa_up(e, ns, clone);
    if (clone)
        return; /* RFC 7791 5.2: the old SA stays, and its Child SAs with it */
    if (sa->xchg.kind == IKE_XCHG_REKEY_IKE) {
        /* 2.8.2: both rekey; decide when our answer comes, keep the children until then. */
        x_peer_rekey_note(sa, IKE_XCHG_REKEY_IKE, id, ns->id, 0, 0, &ns->ni, &ns->nr);
        return;
    }
    engine_move_children(e, sa, ns);
    ike_sa_set_state(sa, IKE_SA_REKEYED, e->log); /* the peer deletes it (1.3.2) */
    /* If it never does (its DELETE lost for good), the old SA must not stay for ever. */
    engine_arm(e, sa, IKE_TIMER_DELETE, engine_now(e) + IKE_REKEYED_GRACE_MS);
}
