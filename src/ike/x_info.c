/* INFORMATIONAL (RFC 7296 1.4): DELETE of IKE and Child SAs, liveness checks, notifies;
 * MOBIKE's notifies go to x_mobike.c. */
#include "ike/engine_internal.h"

#include "common/err.h"
#include "ike/codec/notify.h"

#include <stdlib.h>
#include <string.h>

int x_info_delete_ike(struct ike_engine *e, struct ike_sa *sa)
{
    struct ike_payload d = {.type = IKE_PL_DELETE, .u.del = {.protocol = IKE_PROTO_IKE}};
    /* The request first: an SA whose DELETE could not go out (window busy, no memory) must
     * not sit in DELETING with nothing that would ever end it. */
    int rc = engine_request(e, sa, IKE_XCHG_DELETE_IKE, &d, 1);
    if (!rc)
        rc = ike_sa_set_state(sa, IKE_SA_DELETING, e->log);
    if (!rc)
        e->stats.exchanges_info++;
    return rc;
}

void x_info_abandon_ike(struct ike_engine *e, struct ike_sa *sa, const char *why)
{
    char name[40];
    engine_disarm(sa, IKE_TIMER_RETRANSMIT);
    ike_sent_clear(&sa->out);
    x_xchg_end(e, sa);
    hk_info(e->log, "IKE SA %s [%s]: %s, closing the IKE SA", ike_sa_name(sa, name, sizeof(name)),
            sa->conn, why);
    if (sa->state == IKE_SA_AUTH_SENT || sa->state == IKE_SA_ESTABLISHED) {
        /* The peer believes the SA up: tell it in an exchange of our own. After IKE_AUTH
         * that may carry the error (2.21.2); later only the Delete (2.21.3: no error
         * notifies in requests, they could loop). */
        struct ike_payload pl[2] = {{.type = IKE_PL_NOTIFY, .u.notify.type = IKE_N_INVALID_SYNTAX},
                                    {.type = IKE_PL_DELETE, .u.del = {.protocol = IKE_PROTO_IKE}}};
        bool auth = sa->state == IKE_SA_AUTH_SENT;
        engine_sa_failed(e, sa, why); /* nothing when it was reported up */
        if (!ike_sa_set_state(sa, IKE_SA_DELETING, e->log) &&
            !engine_request(e, sa, IKE_XCHG_DELETE_IKE, auth ? pl : pl + 1, auth ? 2 : 1)) {
            e->stats.exchanges_info++;
            return;
        }
    }
    engine_delete_sa(e, sa, why);
}

static struct child_sa *child_by_out_spi(struct ike_engine *e, struct ike_sa *sa, uint32_t spi)
{
    for (size_t i = 0; i < sa->nchildren; i++) {
        struct child_sa *c = ike_engine_child(e, sa->children[i]);
        if (c && c->spi_out == spi)
            return c;
    }
    return NULL;
}

void x_info_on_request(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx)
{
    const struct ike_msg *m = &rx->msg;
    bool delete_ike = false;
    uint32_t *gone = NULL; /* our inbound SPIs of the children the peer deleted */
    size_t ngone = 0;
    e->stats.exchanges_info++;
    for (size_t i = 0; i < m->npayloads; i++) {
        const struct ike_payload *p = &m->payloads[i];
        if (p->type == IKE_PL_DELETE && p->u.del.protocol == IKE_PROTO_IKE) {
            delete_ike = true;
        } else if (p->type == IKE_PL_DELETE && p->u.del.protocol == IKE_PROTO_ESP &&
                   p->u.del.spi_size == 4) {
            uint32_t *n = realloc(gone, (ngone + p->u.del.nspis) * sizeof(*n));
            if (!n)
                continue;
            gone = n;
            for (uint16_t k = 0; k < p->u.del.nspis; k++) {
                /* 1.4.1: the SPIs are the sender's inbound ones, our outbound. */
                struct child_sa *c = child_by_out_spi(e, sa, ike_spi32(p->u.del.spis.p + 4 * k));
                if (c) {
                    gone[ngone++] = c->spi_in;
                    engine_delete_child(e, sa, c);
                }
            }
        } else if (p->type == IKE_PL_NOTIFY && p->u.notify.type == IKE_N_AUTHENTICATION_FAILED) {
            e->stats.auth_failures++;
            delete_ike = true; /* 2.21.2: the initiator has no IKE SA, so neither may we */
            hk_info(e->log, "IKE SA [%s]: peer rejected our authentication", sa->conn);
        } else if (p->type == IKE_PL_NOTIFY && ike_notify_is_error(p->u.notify.type)) {
            hk_info(e->log, "IKE SA [%s]: peer reports %s", sa->conn,
                    ike_notify_name(p->u.notify.type));
        }
    }
    if (delete_ike) {
        /* 2.8.2: the peer finished its rekey without seeing ours: its new SA, which we made
         * answering it, inherits the children; our own attempt is forgotten. */
        struct ike_sa *heir = x_peer_rekey_sa(e, sa);
        if (heir)
            engine_move_children(e, sa, heir);
        /* 1.4.1: answer with an empty INFORMATIONAL, then the SA and its children are gone. */
        engine_send(e, sa, true, m->hdr.msg_id, IKE_INFORMATIONAL, NULL, 0);
        free(gone);
        engine_delete_sa(e, sa, "deleted by peer");
        return;
    }
    /* MOBIKE (RFC 4555): address update, COOKIE2 and NAT-D answered alongside. */
    struct x_mobike_resp mob;
    x_mobike_on_request(e, sa, rx, &mob);
    /* 1.4.1: a Delete for our side of each child the peer deleted. */
    struct ike_payload resp[1 + sizeof(mob.pl) / sizeof(mob.pl[0])];
    uint8_t *spis = ngone ? malloc(4 * ngone) : NULL;
    size_t n = 0;
    if (spis) {
        for (size_t k = 0; k < ngone; k++) {
            ike_spi32_put(gone[k], spis + 4 * k);
        }
        resp[n++] = (struct ike_payload){.type = IKE_PL_DELETE,
                                         .u.del = {.protocol = IKE_PROTO_ESP,
                                                   .spi_size = 4,
                                                   .nspis = (uint16_t)ngone,
                                                   .spis = {spis, 4 * ngone}}};
    }
    for (size_t k = 0; k < mob.n; k++)
        resp[n++] = mob.pl[k];
    engine_send(e, sa, true, m->hdr.msg_id, IKE_INFORMATIONAL, resp, n);
    free(spis);
    free(gone);
    x_mobike_after_response(e, sa, &mob);
}

int x_info_delete_child(struct ike_engine *e, struct ike_sa *sa, struct child_sa *c)
{
    uint8_t spi[4];
    ike_spi32_put(c->spi_in, spi);
    struct ike_payload d = {
        .type = IKE_PL_DELETE,
        .u.del = {.protocol = IKE_PROTO_ESP, .spi_size = 4, .nspis = 1, .spis = {spi, 4}}};
    int rc = engine_request(e, sa, IKE_XCHG_DELETE_CHILD, &d, 1);
    if (rc)
        return rc;
    sa->xchg.child_id = c->id;
    if (c->state == CHILD_SA_INSTALLED || c->state == CHILD_SA_REKEYED)
        child_sa_set_state(c, CHILD_SA_DELETING, e->log);
    e->stats.exchanges_info++;
    return HK_OK;
}

void x_info_on_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx,
                        const struct ike_xchg *asked)
{
    struct child_sa *c;
    switch ((enum ike_xchg_kind)asked->kind) {
    case IKE_XCHG_DELETE_IKE:
        engine_delete_sa(e, sa, "deleted");
        break;
    case IKE_XCHG_DELETE_CHILD:
        /* 1.4.1: the peer's answer carries its half; both directions are gone now. */
        c = ike_engine_child(e, asked->child_id);
        if (c && c->ike_id == sa->id)
            engine_delete_child(e, sa, c);
        break;
    case IKE_XCHG_UPDATE_ADDRESSES:
    case IKE_XCHG_ROUTABILITY:
        x_mobike_on_response(e, sa, rx, asked);
        break;
    default:
        break; /* a liveness check (2.4): the answer is all it asked */
    }
}
