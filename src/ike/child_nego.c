/*
 * The Child SA negotiation (RFC 7296 1.2, 1.3.1, 2.7, 2.9), the same in IKE_AUTH and
 * CREATE_CHILD_SA: the initiator's Child SA and offer, the check of the responder's reply,
 * and the responder's choice of a configuration, proposal and selectors.
 */
#include "ike/engine_internal.h"

#include "common/err.h"
#include "ike/conn_match.h"
#include "ike/ts.h"

#include <string.h>

struct child_sa *child_nego_new(struct ike_engine *e, struct ike_sa *sa, const struct hk_conn *conn,
                                const struct hk_child_conf *cc)
{
    struct child_sa *c = engine_new_child(e, sa, cc->name);
    if (!c)
        return NULL;
    c->initiator = true;
    c->transport = cc->mode == HK_MODE_TRANSPORT;
    struct ike_ts tl[CHILD_MAX_TS], tr[CHILD_MAX_TS];
    size_t nl = sa_ts_local(sa, conn, cc, tl, CHILD_MAX_TS);
    size_t nr = sa_ts_remote(sa, cc, tr, CHILD_MAX_TS);
    if (child_sa_set_ts(c, tl, nl, tr, nr)) {
        engine_delete_child(e, sa, c);
        return NULL;
    }
    return c;
}

int child_nego_add_sa(const struct hk_child_conf *cc, const struct child_sa *c, bool ike_auth,
                      struct hk_arena *a, struct ike_payload *pl, size_t *n)
{
    /* The payload refers to the SPI: it lives in the arena, as long as the payload. */
    uint8_t *spi = hk_arena_alloc(a, 4);
    if (!spi)
        return HK_E_NOMEM;
    ike_spi32_put(c->spi_in, spi);
    pl[*n] = (struct ike_payload){.type = IKE_PL_SA};
    int rc = c->initiator
                 ? ike_sa_build(cc->esp, cc->nesp, IKE_PROTO_ESP, spi, 4, ike_auth, a, &pl[*n].u.sa)
                 : ike_sa_build_chosen(&c->chosen, spi, 4, a, &pl[*n].u.sa);
    (*n)++;
    return rc;
}

void child_nego_add_ts(struct child_sa *c, struct ike_payload *pl, size_t *n)
{
    /* TSi is the exchange initiator's side: ours when we offer, the peer's when we answer. */
    struct ike_ts *ti = c->initiator ? c->ts_local : c->ts_remote;
    struct ike_ts *tr = c->initiator ? c->ts_remote : c->ts_local;
    size_t ni = c->initiator ? c->nts_local : c->nts_remote;
    size_t nr = c->initiator ? c->nts_remote : c->nts_local;
    pl[(*n)++] = (struct ike_payload){.type = IKE_PL_TSI, .u.ts = {.nts = ni, .ts = ti}};
    pl[(*n)++] = (struct ike_payload){.type = IKE_PL_TSR, .u.ts = {.nts = nr, .ts = tr}};
    if (c->transport)
        pl[(*n)++] =
            (struct ike_payload){.type = IKE_PL_NOTIFY, .u.notify.type = IKE_N_USE_TRANSPORT_MODE};
}

const char *child_nego_check_sa(const struct hk_child_conf *cc, struct child_sa *c,
                                const struct ike_payload *sap, bool ike_auth)
{
    if (ike_sa_check_reply(&sap->u.sa, cc->esp, cc->nesp, IKE_PROTO_ESP, ike_auth, &c->chosen) ||
        c->chosen.spi_len != 4)
        return "responder chose an ESP proposal we did not offer";
    return NULL;
}

const char *child_nego_check_ts(const struct child_sa *c, const struct ike_msg *m,
                                const struct ike_payload *tsi, const struct ike_payload *tsr)
{
    if (tsi->u.ts.nts > CHILD_MAX_TS || tsr->u.ts.nts > CHILD_MAX_TS ||
        !ike_ts_all_within(tsi->u.ts.ts, tsi->u.ts.nts, c->ts_local, c->nts_local) ||
        !ike_ts_all_within(tsr->u.ts.ts, tsr->u.ts.nts, c->ts_remote, c->nts_remote))
        return "responder's traffic selectors are not within ours";
    if (c->transport && !ike_msg_find_notify(m, IKE_N_USE_TRANSPORT_MODE))
        return "responder refused transport mode";
    return NULL;
}

const struct hk_child_conf *child_nego_choose(const struct ike_sa *sa, const struct hk_conn *conn,
                                              const struct ike_msg *m, bool ike_auth,
                                              const char *only, struct child_choice *ch,
                                              uint16_t *err)
{
    const struct ike_payload *sap = x_find(m, IKE_PL_SA), *kep = x_find(m, IKE_PL_KE),
                             *tsi = x_find(m, IKE_PL_TSI), *tsr = x_find(m, IKE_PL_TSR);
    *err = IKE_N_NO_PROPOSAL_CHOSEN;
    if (!sap || !tsi || !tsr)
        return NULL; /* the callers refused such a request already */
    ch->transport = ike_msg_find_notify(m, IKE_N_USE_TRANSPORT_MODE) != NULL;
    for (size_t i = 0; i < conn->nchildren; i++) {
        const struct hk_child_conf *cc = &conn->children[i];
        if (only && strcmp(cc->name, only))
            continue;
        if (ike_sa_choose(&sap->u.sa, cc->esp, cc->nesp, IKE_PROTO_ESP, ike_auth, &ch->chosen) ||
            ch->chosen.spi_len != 4)
            continue;
        if (!ike_auth && ch->chosen.ke && (!kep || kep->u.ke.group != ch->chosen.ke)) {
            *err = IKE_N_INVALID_KE_PAYLOAD; /* the group wanted is ch->chosen.ke (1.3) */
            return NULL;
        }
        *err = IKE_N_TS_UNACCEPTABLE;
        if (!sa_ts_narrow(sa, conn, cc, &tsi->u.ts, &tsr->u.ts, ch->ts_l, &ch->nl, ch->ts_r,
                          &ch->nr))
            continue;
        return cc;
    }
    return NULL;
}

int child_nego_apply(struct child_sa *c, const struct hk_child_conf *cc,
                     const struct child_choice *ch)
{
    c->chosen = ch->chosen;
    c->transport = ch->transport && cc->mode == HK_MODE_TRANSPORT;
    c->spi_out = ike_spi32(ch->chosen.spi);
    return child_sa_set_ts(c, ch->ts_l, ch->nl, ch->ts_r, ch->nr);
}
