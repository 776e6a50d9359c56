#include "common/sockaddr.h"
#include "ike/conn_match.h"

#include "common/err.h"
#include "ike/ts.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static void addr_ip(const struct sockaddr_storage *a, struct hk_ip *ip)
{
    const uint8_t *p;
    size_t n;
    uint16_t port;
    engine_addr_bytes(a, &p, &n, &port);
    memset(ip, 0, sizeof(*ip));
    ip->family = n == 16 ? AF_INET6 : AF_INET;
    memcpy(ip->addr, p, n);
}

static bool addr_allowed(const struct hk_addr_conf *list, size_t n,
                         const struct sockaddr_storage *a)
{
    struct hk_ip ip;
    addr_ip(a, &ip);
    for (size_t i = 0; i < n; i++) {
        if (list[i].kind == HK_ADDR_ANY)
            return true;
        if (list[i].kind == HK_ADDR_RANGE && hk_ip_range_contains(&list[i].range, &ip))
            return true;
    }
    return false;
}

bool conn_matches_addrs(const struct hk_conn *conn, const struct sockaddr_storage *local,
                        const struct sockaddr_storage *remote)
{
    return addr_allowed(conn->local_addrs, conn->nlocal_addrs, local) &&
           addr_allowed(conn->remote_addrs, conn->nremote_addrs, remote);
}

bool conn_matches_id(const struct hk_conn *conn, uint8_t type, const uint8_t *data, size_t len)
{
    const struct hk_id_conf *id = &conn->remote.id;
    if (id->type == HK_ID_ANY)
        return true;
    return (unsigned)id->type == type && id->len == len && !memcmp(id->data, data, len);
}

static int to_sockaddr(const struct hk_ip *ip, uint16_t port, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    if (ip->family == AF_INET6) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)out;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons(port);
        memcpy(&s->sin6_addr, ip->addr, 16);
    } else if (ip->family == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)out;
        s->sin_family = AF_INET;
        s->sin_port = htons(port);
        memcpy(&s->sin_addr, ip->addr, 4);
    } else {
        return HK_E_INVALID;
    }
    return HK_OK;
}

/* The single address a list names, if it names exactly one. */
static bool single_addr(const struct hk_addr_conf *list, size_t n, struct hk_ip *ip)
{
    if (n < 1 || list[0].kind != HK_ADDR_RANGE)
        return false;
    const struct hk_ip_range *r = &list[0].range;
    size_t len = r->family == AF_INET6 ? 16 : 4;
    if (memcmp(r->start, r->end, len))
        return false;
    ip->family = r->family;
    memcpy(ip->addr, r->start, len);
    return true;
}

int conn_initiator_remote(struct ike_engine *e, const struct hk_conn *conn,
                          struct sockaddr_storage *remote)
{
    struct hk_ip ip;
    if (!single_addr(conn->remote_addrs, conn->nremote_addrs, &ip)) {
        hk_err(e->log, "connection %s: remote_addrs must start with one address to initiate",
               conn->name);
        return HK_E_CONFIG;
    }
    return to_sockaddr(&ip, conn->remote_port, remote);
}

int conn_initiator_addrs(struct ike_engine *e, const struct hk_conn *conn,
                         struct sockaddr_storage *local, struct sockaddr_storage *remote)
{
    struct hk_ip ip;
    int rc = conn_initiator_remote(e, conn, remote);
    if (rc)
        return rc;
    if (single_addr(conn->local_addrs, conn->nlocal_addrs, &ip))
        return to_sockaddr(&ip, conn->local_port, local);
    if (!e->ops.local_addr || e->ops.local_addr(e->ops.arg, remote, local)) {
        hk_err(e->log, "connection %s: no local address to reach the peer", conn->name);
        return HK_E_NOTFOUND;
    }
    hk_sockaddr_set_port(local, conn->local_port);
    return HK_OK;
}

int conn_local_id(const struct hk_conn *conn, const struct sockaddr_storage *local,
                  struct hk_cbb *out)
{
    const struct hk_id_conf *id = &conn->local.id;
    if (id->type == HK_ID_AUTO || id->type == HK_ID_ANY) {
        const uint8_t *p;
        size_t n;
        uint16_t port;
        engine_addr_bytes(local, &p, &n, &port);
        hk_cbb_add_u8(out, n == 16 ? IKE_ID_IPV6_ADDR : IKE_ID_IPV4_ADDR);
        hk_cbb_add_zeros(out, 3);
        hk_cbb_add_bytes(out, p, n);
    } else {
        hk_cbb_add_u8(out, (uint8_t)id->type);
        hk_cbb_add_zeros(out, 3);
        hk_cbb_add_bytes(out, id->data, id->len);
    }
    return hk_cbb_err(out);
}

/* A selector covering every address of a family (a virtual address not known yet). */
static struct ike_ts ts_any(int family, const struct hk_ts_conf *tc)
{
    struct ike_ts t = {
        .ip_proto = tc->ip_proto, .start_port = tc->start_port, .end_port = tc->end_port};
    if (!tc->ip_proto) {
        t.start_port = 0;
        t.end_port = 65535;
    }
    t.type = family == AF_INET6 ? IKE_TS_IPV6_ADDR_RANGE : IKE_TS_IPV4_ADDR_RANGE;
    memset(t.end_addr, 0xff, family == AF_INET6 ? 16 : 4);
    return t;
}

size_t sa_ts_local(const struct ike_sa *sa, const struct hk_conn *conn,
                   const struct hk_child_conf *cc, struct ike_ts *out, size_t max)
{
    struct sockaddr_storage v;
    if (sa->nvip && !engine_vip_leased(sa)) { /* our own, given by the peer (2.19) */
        engine_vip_sockaddr(&sa->vip[0], &v);
        return conn_ts(cc->local_ts, cc->nlocal_ts, &v, out, max);
    }
    if (sa->initiator && (conn->request_vip4 || conn->request_vip6)) {
        /* 2.19: before the address is known, the initiator proposes "any" for itself. */
        size_t k = 0;
        for (size_t i = 0; i < cc->nlocal_ts && k < max; i++) {
            if (!cc->local_ts[i].dynamic) {
                k += conn_ts(&cc->local_ts[i], 1, &sa->local, out + k, max - k);
                continue;
            }
            if (conn->request_vip4 && k < max)
                out[k++] = ts_any(AF_INET, &cc->local_ts[i]);
            if (conn->request_vip6 && k < max)
                out[k++] = ts_any(AF_INET6, &cc->local_ts[i]);
        }
        return k;
    }
    return conn_ts(cc->local_ts, cc->nlocal_ts, &sa->local, out, max);
}

size_t sa_ts_remote(const struct ike_sa *sa, const struct hk_child_conf *cc, struct ike_ts *out,
                    size_t max)
{
    struct sockaddr_storage v;
    if (engine_vip_leased(sa)) { /* the peer's, leased by us */
        engine_vip_sockaddr(&sa->vip[0], &v);
        return conn_ts(cc->remote_ts, cc->nremote_ts, &v, out, max);
    }
    return conn_ts(cc->remote_ts, cc->nremote_ts, &sa->remote, out, max);
}

size_t conn_ts(const struct hk_ts_conf *tc, size_t n, const struct sockaddr_storage *dyn,
               struct ike_ts *out, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < max; i++) {
        struct ike_ts t = {
            .ip_proto = tc[i].ip_proto, .start_port = tc[i].start_port, .end_port = tc[i].end_port};
        if (!tc[i].ip_proto) {
            t.start_port = 0;
            t.end_port = 65535;
        }
        if (tc[i].dynamic) {
            struct hk_ip ip;
            addr_ip(dyn, &ip);
            size_t len = ip.family == AF_INET6 ? 16 : 4;
            t.type = ip.family == AF_INET6 ? IKE_TS_IPV6_ADDR_RANGE : IKE_TS_IPV4_ADDR_RANGE;
            memcpy(t.start_addr, ip.addr, len);
            memcpy(t.end_addr, ip.addr, len);
        } else {
            size_t len = tc[i].range.family == AF_INET6 ? 16 : 4;
            t.type =
                tc[i].range.family == AF_INET6 ? IKE_TS_IPV6_ADDR_RANGE : IKE_TS_IPV4_ADDR_RANGE;
            memcpy(t.start_addr, tc[i].range.start, len);
            memcpy(t.end_addr, tc[i].range.end, len);
        }
        out[k++] = t;
    }
    return k;
}

bool sa_ts_narrow(const struct ike_sa *sa, const struct hk_conn *conn,
                  const struct hk_child_conf *cc, const struct ike_pl_ts *tsi,
                  const struct ike_pl_ts *tsr, struct ike_ts *local, size_t *nlocal,
                  struct ike_ts *remote, size_t *nremote)
{
    struct ike_ts lconf[CHILD_MAX_TS], rconf[CHILD_MAX_TS];
    size_t nl = sa_ts_local(sa, conn, cc, lconf, CHILD_MAX_TS);
    size_t nr = sa_ts_remote(sa, cc, rconf, CHILD_MAX_TS);
    /* 2.9: TSi are the initiator's (our remote) side, TSr ours. */
    *nremote = ike_ts_narrow(tsi->ts, tsi->nts, rconf, nr, remote, CHILD_MAX_TS);
    *nlocal = ike_ts_narrow(tsr->ts, tsr->nts, lconf, nl, local, CHILD_MAX_TS);
    return *nremote && *nlocal;
}
