/*
 * Virtual addresses (RFC 7296 2.19): the responder's pools and leases, the
 * initiator's request and the addresses it is given.
 */
#include "ike/engine_internal.h"

#include "common/err.h"
#include "ike/cp.h"
#include "ike/pool.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct hk_ippool *pool_by_name(struct ike_engine *e, const char *name)
{
    for (size_t i = 0; i < e->npools; i++)
        if (!strcmp(hk_ippool_name(e->pools[i]), name))
            return e->pools[i];
    return NULL;
}

/* Pools follow the configuration; a pool whose name and range did not change keeps its leases
 * (and the SAs holding them keep their addresses across a reload). */
int engine_pools_sync(struct ike_engine *e)
{
    struct hk_ippool **n = calloc(e->cfg->npools ? e->cfg->npools : 1, sizeof(*n));
    if (!n)
        return HK_E_NOMEM;
    int rc = HK_OK;
    for (size_t i = 0; i < e->cfg->npools && !rc; i++) {
        const struct hk_pool *pc = &e->cfg->pools[i];
        struct hk_ippool *old = pool_by_name(e, pc->name);
        if (old && hk_ippool_same_range(old, pc)) {
            n[i] = old;
            for (size_t k = 0; k < e->npools; k++)
                if (e->pools[k] == old)
                    e->pools[k] = NULL;
        } else {
            rc = hk_ippool_new(pc, &n[i]);
        }
    }
    for (size_t k = 0; k < e->npools; k++)
        hk_ippool_free(e->pools[k]);
    free(e->pools);
    e->pools = n;
    e->npools = e->cfg->npools;
    return rc;
}

void engine_pools_free(struct ike_engine *e)
{
    for (size_t k = 0; k < e->npools; k++)
        hk_ippool_free(e->pools[k]);
    free(e->pools);
    e->pools = NULL;
    e->npools = 0;
}

bool engine_vip_leased(const struct ike_sa *sa)
{
    /* Not sa->initiator: after an IKE rekey the gateway started, its SA holding the leases
     * has the I flag (2.18). A lease names its pool; an assigned address has none. */
    return sa->nvip && sa->vip_pool[0][0];
}

void engine_vip_release(struct ike_engine *e, struct ike_sa *sa)
{
    char txt[INET6_ADDRSTRLEN];
    for (uint8_t i = 0; engine_vip_leased(sa) && i < sa->nvip; i++) {
        struct hk_ippool *p = pool_by_name(e, sa->vip_pool[i]);
        if (p && !hk_ippool_release(p, &sa->vip[i]))
            hk_debug(e->log, "virtual address %s returned to pool %s",
                     inet_ntop(sa->vip[i].family, sa->vip[i].addr, txt, sizeof(txt)),
                     sa->vip_pool[i]);
    }
    sa->nvip = 0;
}

/* One address of the family from the connection's pools, for this peer. */
static int lease(struct ike_engine *e, struct ike_sa *sa, const struct hk_conn *conn, int family,
                 const struct hk_ip *want)
{
    for (size_t i = 0; i < conn->npools && sa->nvip < 2; i++) {
        struct hk_ippool *p = pool_by_name(e, conn->pools[i]);
        if (!p || hk_ippool_family(p) != family)
            continue;
        struct hk_ip ip;
        size_t held = hk_ippool_held(p, sa->peer_id.data.p, sa->peer_id.data.len);
        if (conn->max_leases && held >= conn->max_leases) {
            /* 3.15.4: past the identity's limit, as if the pool were exhausted. */
            e->stats.refused_leases++;
            hk_info(e->log,
                    "IKE SA [%s]: no address from pool %s: the peer's identity holds %zu "
                    "already (max_leases)",
                    sa->conn, conn->pools[i], held);
            continue;
        }
        if (hk_ippool_acquire(p, sa->peer_id.data.p, sa->peer_id.data.len, want, &ip))
            continue; /* exhausted: the next pool */
        sa->vip[sa->nvip] = ip;
        snprintf(sa->vip_pool[sa->nvip], sizeof(sa->vip_pool[0]), "%s", conn->pools[i]);
        sa->nvip++;
        return HK_OK;
    }
    return HK_E_NOTFOUND;
}

int engine_vip_assign(struct ike_engine *e, struct ike_sa *sa, const struct hk_conn *conn,
                      const struct ike_pl_cp *req, struct hk_arena *a, struct ike_pl_cp *reply)
{
    struct ike_cp_request r;
    char txt[INET6_ADDRSTRLEN];
    if (ike_cp_parse_request(req, &r))
        return HK_E_SYNTAX;
    if (r.want4)
        lease(e, sa, conn, AF_INET, r.has_addr4 ? &r.addr4 : NULL);
    if (r.want6)
        lease(e, sa, conn, AF_INET6, r.has_addr6 ? &r.addr6 : NULL);
    if (!sa->nvip)
        return HK_E_NOTFOUND; /* 3.15.4: INTERNAL_ADDRESS_FAILURE */
    struct hk_ip dns[IKE_CP_MAX_DNS];
    size_t ndns = 0;
    for (uint8_t i = 0; i < sa->nvip; i++) {
        const struct hk_pool *pc = hk_config_find_pool(e->cfg, sa->vip_pool[i]);
        for (size_t k = 0; pc && k < pc->ndns && ndns < IKE_CP_MAX_DNS; k++)
            if ((pc->dns[k].family == AF_INET && r.dns4) ||
                (pc->dns[k].family == AF_INET6 && r.dns6))
                dns[ndns++] = pc->dns[k];
        hk_info(e->log, "IKE SA [%s]: virtual address %s from pool %s", sa->conn,
                inet_ntop(sa->vip[i].family, sa->vip[i].addr, txt, sizeof(txt)), sa->vip_pool[i]);
    }
    return ike_cp_build_reply(sa->vip, sa->nvip, dns, ndns, a, reply);
}

int engine_vip_take(struct ike_engine *e, struct ike_sa *sa, const struct ike_pl_cp *cp)
{
    struct ike_cp_reply r;
    char txt[INET6_ADDRSTRLEN];
    int rc = ike_cp_parse_reply(cp, &r);
    if (rc)
        return rc;
    sa->nvip = 0;
    for (size_t i = 0; i < r.naddrs && sa->nvip < 2; i++) {
        sa->vip[sa->nvip++] = r.addrs[i];
        hk_info(e->log, "IKE SA [%s]: we were given virtual address %s", sa->conn,
                inet_ntop(r.addrs[i].family, r.addrs[i].addr, txt, sizeof(txt)));
    }
    return HK_OK;
}

void engine_vip_sockaddr(const struct hk_ip *ip, struct sockaddr_storage *out)
{
    memset(out, 0, sizeof(*out));
    if (ip->family == AF_INET6) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)out;
        s->sin6_family = AF_INET6;
        memcpy(&s->sin6_addr, ip->addr, 16);
    } else {
        struct sockaddr_in *s = (struct sockaddr_in *)out;
        s->sin_family = AF_INET;
        memcpy(&s->sin_addr, ip->addr, 4);
    }
}
