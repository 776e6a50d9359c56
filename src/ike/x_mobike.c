/*
 * MOBIKE (RFC 4555): the original initiator moves an IKE SA and its Child SAs to other
 * addresses with an INFORMATIONAL UPDATE_SA_ADDRESSES (3.5); the responder takes the new
 * addresses from the IP header, its NAT state from NAT-D, and moves its Child SAs once the
 * initiator's new address has answered a return routability check (3.7, COOKIE2).
 */
#include "ike/engine_internal.h"

#include "common/err.h"
#include "common/sockaddr.h"
#include "ike/conn_match.h"

#include <stdlib.h>
#include <string.h>

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    const uint8_t *ia, *ib;
    size_t la, lb;
    uint16_t pa, pb;
    if (a->ss_family != b->ss_family)
        return false;
    engine_addr_bytes(a, &ia, &la, &pa);
    engine_addr_bytes(b, &ib, &lb, &pb);
    return la == lb && pa == pb && !memcmp(ia, ib, la);
}

size_t x_mobike_add_addrs(const struct ike_sa *sa, const struct hk_conn *conn,
                          struct ike_payload *pl)
{
    const uint8_t *cur;
    size_t curlen, n = 0;
    uint16_t port;
    engine_addr_bytes(&sa->local, &cur, &curlen, &port);
    for (size_t i = 0; conn && i < conn->nlocal_addrs && n < IKE_OUR_ADDRS_MAX; i++) {
        const struct hk_addr_conf *a = &conn->local_addrs[i];
        size_t len = a->range.family == AF_INET6 ? 16 : 4;
        if (a->kind != HK_ADDR_RANGE || memcmp(a->range.start, a->range.end, len) ||
            (len == curlen && !memcmp(a->range.start, cur, len)))
            continue; /* not one address, or the one in the IP header (3.6) */
        pl[n++] =
            (struct ike_payload){.type = IKE_PL_NOTIFY,
                                 .u.notify = {.type = len == 16 ? IKE_N_ADDITIONAL_IP6_ADDRESS
                                                                : IKE_N_ADDITIONAL_IP4_ADDRESS,
                                              .data = {a->range.start, len}}};
    }
    if (!n)
        pl[n++] = (struct ike_payload){.type = IKE_PL_NOTIFY,
                                       .u.notify.type = IKE_N_NO_ADDITIONAL_ADDRESSES};
    return n;
}

void x_mobike_note_addrs(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m)
{
    struct hk_ip got[IKE_PEER_ADDRS_MAX];
    size_t n = 0;
    bool list = false;
    for (size_t i = 0; i < m->npayloads; i++) {
        const struct ike_payload *p = &m->payloads[i];
        if (p->type != IKE_PL_NOTIFY)
            continue;
        uint16_t t = p->u.notify.type;
        size_t len = p->u.notify.data.len;
        if (t == IKE_N_NO_ADDITIONAL_ADDRESSES) {
            list = true;
        } else if ((t == IKE_N_ADDITIONAL_IP4_ADDRESS && len == 4) ||
                   (t == IKE_N_ADDITIONAL_IP6_ADDRESS && len == 16)) {
            list = true;
            if (n < IKE_PEER_ADDRS_MAX) {
                got[n].family = len == 16 ? AF_INET6 : AF_INET;
                memset(got[n].addr, 0, sizeof(got[n].addr));
                memcpy(got[n++].addr, p->u.notify.data.p, len);
            }
        } else if (t == IKE_N_ADDITIONAL_IP4_ADDRESS || t == IKE_N_ADDITIONAL_IP6_ADDRESS) {
            char name[40];
            hk_info(e->log, "IKE SA %s [%s]: %s of %zu octets ignored",
                    ike_sa_name(sa, name, sizeof(name)), sa->conn, ike_notify_name(t), len);
        }
    }
    if (!list)
        return;
    /* 3.6: the new list replaces the old one whole (without memory for it: none is kept, as
     * after NO_ADDITIONAL_ADDRESSES; the SA's present addresses still work). */
    free(sa->peer_addrs);
    sa->peer_addrs = n ? malloc(n * sizeof(got[0])) : NULL;
    if (sa->peer_addrs)
        memcpy(sa->peer_addrs, got, n * sizeof(got[0]));
    sa->npeer_addrs = sa->peer_addrs ? (uint8_t)n : 0;
}

/* The Child SAs' ESP follows the IKE SA's addresses and NAT state (ike_sa_dp_path). */
static void move_children(struct ike_engine *e, struct ike_sa *sa)
{
    for (size_t i = 0; i < sa->nchildren; i++) {
        struct child_sa *c = ike_engine_child(e, sa->children[i]);
        if (c && e->ops.child_moved &&
            (c->state == CHILD_SA_INSTALLED || c->state == CHILD_SA_REKEYED))
            e->ops.child_moved(e->ops.arg, sa, c);
    }
}

/* A NAT appeared or went away: NAT-T keepalives from the side behind it (RFC 3948 4). */
static void nat_changed(struct ike_engine *e, struct ike_sa *sa)
{
    if (sa->nat_local)
        engine_arm(e, sa, IKE_TIMER_KEEPALIVE, engine_now(e));
    else
        engine_disarm(sa, IKE_TIMER_KEEPALIVE);
}

/* An INFORMATIONAL request of kind (UPDATE_SA_ADDRESSES or a check) with a fresh COOKIE2. */
static int send_request(struct ike_engine *e, struct ike_sa *sa, enum ike_xchg_kind kind)
{
    uint8_t cookie[sizeof(sa->cookie2)];
    uint8_t natd_src[IKE_NATD_LEN], natd_dst[IKE_NATD_LEN];
    struct ike_payload pl[4 + IKE_OUR_ADDRS_MAX];
    size_t n = 0;
    /* 4.2.5: unpredictable to the peer. */
    int rc = hk_crypto_random(e->crypto, cookie, sizeof(cookie));
    if (rc)
        return rc;
    if (kind == IKE_XCHG_UPDATE_ADDRESSES) {
        /* 3.5: NAT-D for the new addresses, so the responder learns its NAT state. */
        if ((rc = x_natd_hash(e, sa, &sa->local, natd_src)) ||
            (rc = x_natd_hash(e, sa, &sa->remote, natd_dst)))
            return rc;
        pl[n++] =
            (struct ike_payload){.type = IKE_PL_NOTIFY, .u.notify.type = IKE_N_UPDATE_SA_ADDRESSES};
        pl[n++] = (struct ike_payload){
            .type = IKE_PL_NOTIFY,
            .u.notify = {.type = IKE_N_NAT_DETECTION_SOURCE_IP, .data = {natd_src, IKE_NATD_LEN}}};
        pl[n++] = (struct ike_payload){.type = IKE_PL_NOTIFY,
                                       .u.notify = {.type = IKE_N_NAT_DETECTION_DESTINATION_IP,
                                                    .data = {natd_dst, IKE_NATD_LEN}}};
        /* 3.6: our address list may ride along; the one in the IP header has changed. */
        n += x_mobike_add_addrs(sa, hk_config_find_conn(e->cfg, sa->conn), pl + n);
    }
    pl[n++] =
        (struct ike_payload){.type = IKE_PL_NOTIFY,
                             .u.notify = {.type = IKE_N_COOKIE2, .data = {cookie, sizeof(cookie)}}};
    if ((rc = engine_request(e, sa, kind, pl, n)))
        return rc;
    memcpy(sa->cookie2, cookie, sizeof(cookie));
    e->stats.exchanges_info++;
    return HK_OK;
}

void x_mobike_run(struct ike_engine *e, struct ike_sa *sa)
{
    if (sa->state != IKE_SA_ESTABLISHED || sa->out.npkts || sa->xchg.kind != IKE_XCHG_NONE)
        return;
    char name[40];
    int rc = HK_OK;
    if (sa->mobike_pending) {
        sa->mobike_pending = false;
        rc = send_request(e, sa, IKE_XCHG_UPDATE_ADDRESSES);
    } else if (sa->rr_pending) {
        sa->rr_again = false;
        rc = send_request(e, sa, IKE_XCHG_ROUTABILITY);
    }
    if (rc)
        hk_warn(e->log, "IKE SA %s [%s]: MOBIKE request not sent: %s",
                ike_sa_name(sa, name, sizeof(name)), sa->conn, hk_strerror(rc));
}

int ike_engine_migrate(struct ike_engine *e, uint64_t ike_id, const struct sockaddr_storage *local,
                       const struct sockaddr_storage *remote)
{
    struct ike_sa *sa = ike_engine_sa(e, ike_id);
    if (!sa)
        return HK_E_NOTFOUND;
    if (!local || (local->ss_family != AF_INET && local->ss_family != AF_INET6) ||
        local->ss_family != (remote ? remote : &sa->remote)->ss_family)
        return HK_E_INVALID;
    if (sa->state != IKE_SA_ESTABLISHED || !sa->initiator)
        return HK_E_STATE; /* 3.2: only the original initiator moves the SA */
    if (!(sa->ext & IKE_EXT_MOBIKE))
        return HK_E_UNSUPPORTED;
    char name[40], l[64], r[64];
    /* The ports stay: IKE (and ESP) is on the NAT-T port already with MOBIKE (3.3). */
    uint16_t lport = hk_sockaddr_port(&sa->local), rport = hk_sockaddr_port(&sa->remote);
    sa->local = *local;
    hk_sockaddr_set_port(&sa->local, lport);
    if (remote) {
        sa->remote = *remote;
        hk_sockaddr_set_port(&sa->remote, rport);
    }
    hk_info(e->log, "IKE SA %s [%s]: moving to %s - %s (MOBIKE)",
            ike_sa_name(sa, name, sizeof(name)), sa->conn,
            engine_addr_str(&sa->local, l, sizeof(l)), engine_addr_str(&sa->remote, r, sizeof(r)));
    /* 3.5: the Child SAs follow at once (we chose the addresses: no check of our own), an
     * outstanding request is retransmitted from the new addresses, and UPDATE_SA_ADDRESSES
     * goes as soon as the window allows; the answer to an earlier one no longer counts. */
    move_children(e, sa);
    sa->mobike_pending = true;
    x_mobike_run(e, sa);
    return HK_OK;
}

void x_mobike_on_request(struct ike_engine *e, struct ike_sa *sa, const struct ike_rx *rx,
                         struct x_mobike_resp *r)
{
    const struct ike_msg *m = &rx->msg;
    char name[40], addr[64];
    memset(r, 0, sizeof(*r));
    const struct ike_payload *upd = NULL, *cookie = NULL;
    bool natd = false;
    for (size_t i = 0; i < m->npayloads; i++) {
        const struct ike_payload *p = &m->payloads[i];
        if (p->type != IKE_PL_NOTIFY)
            continue;
        if (p->u.notify.type == IKE_N_UPDATE_SA_ADDRESSES)
            upd = p;
        else if (p->u.notify.type == IKE_N_COOKIE2 && !cookie)
            cookie = p;
        else if (p->u.notify.type == IKE_N_NAT_DETECTION_SOURCE_IP ||
                 p->u.notify.type == IKE_N_NAT_DETECTION_DESTINATION_IP)
            natd = true;
    }
    if (!(sa->ext & IKE_EXT_MOBIKE)) {
        /* Not negotiated: unknown status notifies to this SA, ignored (RFC 7296 3.10.1); the
         * SA stays where it is. */
        if (upd)
            hk_info(e->log, "IKE SA %s [%s]: UPDATE_SA_ADDRESSES without MOBIKE ignored",
                    ike_sa_name(sa, name, sizeof(name)), sa->conn);
        return;
    }
    /* 3.6: an address list in any INFORMATIONAL request replaces the last. */
    x_mobike_note_addrs(e, sa, m);
    if (upd && sa->initiator) {
        /* 3.2, 3.5: the original initiator decides the addresses; from the responder the
         * notify means nothing. */
        hk_info(e->log, "IKE SA %s [%s]: UPDATE_SA_ADDRESSES from the responder ignored",
                ike_sa_name(sa, name, sizeof(name)), sa->conn);
        upd = NULL;
    }
    if (upd) {
        const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
        if (conn && !conn_matches_addrs(conn, rx->local, rx->remote)) {
            /* 3.5: addresses our policy does not take. */
            r->pl[r->n++] = (struct ike_payload){.type = IKE_PL_NOTIFY,
                                                 .u.notify.type = IKE_N_UNACCEPTABLE_ADDRESSES};
            hk_info(e->log,
                    "IKE SA %s [%s]: UPDATE_SA_ADDRESSES to %s refused by local_addrs/"
                    "remote_addrs",
                    ike_sa_name(sa, name, sizeof(name)), sa->conn,
                    engine_addr_str(rx->remote, addr, sizeof(addr)));
        } else {
            /* 3.5: the IKE SA's addresses are the IP header's. */
            bool was_nat = sa->nat_local || sa->nat_remote;
            bool new_peer = !same_addr(&sa->remote, rx->remote);
            sa->local = *rx->local;
            sa->remote = *rx->remote;
            if (natd)
                x_natd_check(e, sa, m);
            if (was_nat != (sa->nat_local || sa->nat_remote) || sa->nat_local)
                nat_changed(e, sa);
            r->moved = true;
            /* 3.7, 5.2.3: ESP goes to a new address of the peer only once it answered there. */
            r->check = new_peer || sa->rr_pending || sa->xchg.kind == IKE_XCHG_ROUTABILITY;
            hk_info(e->log, "IKE SA %s [%s]: peer moved to %s%s%s",
                    ike_sa_name(sa, name, sizeof(name)), sa->conn,
                    engine_addr_str(&sa->remote, addr, sizeof(addr)),
                    sa->nat_remote ? ", behind a NAT" : "",
                    sa->nat_local ? ", we are behind a NAT" : "");
        }
    }
    if (natd) {
        /* 3.8: NAT-D in a request gets NAT-D in the response, for the addresses we see. */
        if (!x_natd_hash(e, sa, rx->local, r->natd_src) &&
            !x_natd_hash(e, sa, rx->remote, r->natd_dst)) {
            r->pl[r->n++] = (struct ike_payload){.type = IKE_PL_NOTIFY,
                                                 .u.notify = {.type = IKE_N_NAT_DETECTION_SOURCE_IP,
                                                              .data = {r->natd_src, IKE_NATD_LEN}}};
            r->pl[r->n++] =
                (struct ike_payload){.type = IKE_PL_NOTIFY,
                                     .u.notify = {.type = IKE_N_NAT_DETECTION_DESTINATION_IP,
                                                  .data = {r->natd_dst, IKE_NATD_LEN}}};
        }
    }
    if (cookie && cookie->u.notify.data.len >= 8 && cookie->u.notify.data.len <= 64)
        r->pl[r->n++] = *cookie; /* 3.7, 4.2.5: copied as it is */
}

void x_mobike_after_response(struct ike_engine *e, struct ike_sa *sa, const struct x_mobike_resp *r)
{
    if (!r->moved)
        return;
    if (!r->check) {
        move_children(e, sa);
        return;
    }
    /* A check already in flight went (in part) to another address: its answer proves
     * nothing about this one (3.7), another follows it. */
    if (sa->xchg.kind == IKE_XCHG_ROUTABILITY)
        sa->rr_again = true;
    sa->rr_pending = true;
    x_mobike_run(e, sa);
}

void x_mobike_on_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx,
                          const struct ike_xchg *asked)
{
    const struct ike_msg *m = &rx->msg;
    char name[40], addr[64];
    const struct ike_payload *cookie = NULL;
    for (size_t i = 0; i < m->npayloads && !cookie; i++)
        if (m->payloads[i].type == IKE_PL_NOTIFY && m->payloads[i].u.notify.type == IKE_N_COOKIE2)
            cookie = &m->payloads[i];
    if (!cookie || cookie->u.notify.data.len != sizeof(sa->cookie2) ||
        memcmp(cookie->u.notify.data.p, sa->cookie2, sizeof(sa->cookie2))) {
        /* 3.7: a wrong (or missing) echo MUST close the IKE SA. */
        e->stats.drops[IKE_DROP_UNEXPECTED]++;
        x_info_abandon_ike(e, sa,
                           cookie ? "COOKIE2 not echoed as sent (RFC 4555 3.7)"
                                  : "COOKIE2 missing in the response (RFC 4555 3.7)");
        return;
    }
    ike_sa_name(sa, name, sizeof(name));
    if (asked->kind == IKE_XCHG_ROUTABILITY) {
        if (sa->rr_again) {
            sa->rr_again = false; /* answered, but maybe from the old address: again */
            return;               /* rr_pending stays: x_mobike_run sends the next */
        }
        sa->rr_pending = false;
        hk_info(e->log, "IKE SA %s [%s]: peer's address %s verified, Child SAs follow", name,
                sa->conn, engine_addr_str(&sa->remote, addr, sizeof(addr)));
        move_children(e, sa);
        return;
    }
    /* Our UPDATE_SA_ADDRESSES. */
    if (sa->mobike_pending)
        return; /* 3.5: the addresses changed again since; the next update says so */
    if (ike_msg_find_notify(m, IKE_N_UNACCEPTABLE_ADDRESSES)) {
        /* 3.5: we MAY keep the addresses; the peer still uses the old ones. */
        hk_warn(e->log,
                "IKE SA %s [%s]: the peer refused our new addresses (UNACCEPTABLE_ADDRESSES)", name,
                sa->conn);
        return;
    }
    bool was_nat = sa->nat_local || sa->nat_remote;
    if (ike_msg_find_notify(m, IKE_N_NAT_DETECTION_DESTINATION_IP))
        x_natd_check(e, sa, m);
    bool nat = sa->nat_local || sa->nat_remote;
    if (nat && e->cfg->daemon.natt_port &&
        hk_sockaddr_port(&sa->remote) != e->cfg->daemon.natt_port) {
        /* RFC 7296 2.23: a NAT now in the path moves IKE and ESP to the NAT-T port (with
         * MOBIKE we are there already, 3.3, unless natt_port was not there at IKE_AUTH); the
         * peer learns the new port from another update. */
        engine_float_natt(e, sa);
        sa->mobike_pending = true;
    }
    if (was_nat != nat || sa->nat_local)
        nat_changed(e, sa);
    hk_info(e->log, "IKE SA %s [%s]: peer took our addresses %s%s", name, sa->conn,
            engine_addr_str(&sa->local, addr, sizeof(addr)),
            sa->nat_local ? ", we are behind a NAT"
            : nat         ? ", the peer is behind a NAT"
                          : "");
    /* 3.5: with the NAT state known, the Child SAs' path again (encapsulation may differ). */
    move_children(e, sa);
}
