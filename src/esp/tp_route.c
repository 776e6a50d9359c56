#include "esp/tp_route.h"

#include "common/err.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

void hk_tp_routing_init(struct hk_tp_routing *t, struct hk_rtnl *rtnl, int ifindex, uint32_t mark,
                        uint32_t table)
{
    memset(t, 0, sizeof(*t));
    t->rtnl = rtnl;
    t->ifindex = ifindex;
    t->mark = mark;
    t->table = table;
}

static struct hk_ip ip_of(int family, const uint8_t *addr)
{
    struct hk_ip ip = {.family = family};
    memcpy(ip.addr, addr, family == AF_INET6 ? 16 : 4);
    return ip;
}

static int fam_idx(int family)
{
    return family == AF_INET6 ? 1 : 0;
}

static void route_del(struct hk_tp_routing *t, const struct hk_tp_route *rt)
{
    struct hk_ip dst = ip_of(rt->family, rt->dst), src = ip_of(rt->family, rt->src);
    if (rt->added)
        hk_rtnl_route_del(t->rtnl, t->ifindex, &dst, rt->family == AF_INET6 ? 128 : 32, &src,
                          t->table);
}

static void rule_unref(struct hk_tp_routing *t, int family)
{
    int k = fam_idx(family);
    if (t->rule_refs[k] == 0 || --t->rule_refs[k] > 0)
        return;
    if (t->rule_added[k])
        hk_rtnl_rule_del(t->rtnl, family, t->mark, t->table, HK_TP_RULE_PRIO);
    t->rule_added[k] = false;
}

int hk_tp_route_ref(struct hk_tp_routing *t, const struct hk_tp_addrs *a)
{
    size_t alen = a->family == AF_INET6 ? 16 : 4;
    for (size_t i = 0; i < t->n; i++)
        if (t->r[i].family == a->family && !memcmp(t->r[i].dst, a->remote, alen)) {
            t->r[i].refs++;
            return HK_OK;
        }
    if (t->n >= HK_TP_MAX_ROUTES)
        return HK_E_OVERFLOW;
    struct hk_tp_route *rt = &t->r[t->n++];
    *rt = (struct hk_tp_route){.family = a->family, .refs = 1};
    memcpy(rt->dst, a->remote, alen);
    memcpy(rt->src, a->local, alen);
    struct hk_ip dst = ip_of(a->family, a->remote), src = ip_of(a->family, a->local);
    /* The route before the rule, so that traffic the rule sends to the table finds it.
     * EEXIST: left by a hiked that did not stop cleanly; ours now. */
    rt->added =
        !hk_rtnl_route_add(t->rtnl, t->ifindex, &dst, (uint8_t)(alen * 8), &src, t->table) ||
        t->rtnl->last_errno == EEXIST;
    int k = fam_idx(a->family);
    if (t->rule_refs[k]++ == 0)
        t->rule_added[k] =
            !hk_rtnl_rule_add(t->rtnl, a->family, t->mark, t->table, HK_TP_RULE_PRIO) ||
            t->rtnl->last_errno == EEXIST;
    return rt->added && t->rule_added[k] ? HK_OK : HK_E_IO;
}

void hk_tp_route_unref(struct hk_tp_routing *t, const struct hk_tp_addrs *a)
{
    size_t alen = a->family == AF_INET6 ? 16 : 4;
    for (size_t i = 0; i < t->n; i++) {
        struct hk_tp_route *rt = &t->r[i];
        if (rt->family != a->family || memcmp(rt->dst, a->remote, alen))
            continue;
        if (--rt->refs > 0)
            return;
        /* The rule goes with its family's last route. */
        rule_unref(t, rt->family);
        route_del(t, rt);
        *rt = t->r[--t->n];
        return;
    }
}

void hk_tp_routing_flush(struct hk_tp_routing *t)
{
    for (int k = 0; k < 2; k++) {
        if (t->rule_added[k])
            hk_rtnl_rule_del(t->rtnl, k ? AF_INET6 : AF_INET, t->mark, t->table, HK_TP_RULE_PRIO);
        t->rule_added[k] = false;
        t->rule_refs[k] = 0;
    }
    for (size_t i = 0; i < t->n; i++)
        route_del(t, &t->r[i]);
    t->n = 0;
}
