#include "ike/ts.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

size_t ike_ts_addr_len(const struct ike_ts *t)
{
    return t->type == IKE_TS_IPV6_ADDR_RANGE ? 16 : 4;
}

/* OPAQUE ports (start 65535, end 0; 3.13.1) match only a selector that allows any port. */
static bool ports_opaque(const struct ike_ts *t)
{
    return t->start_port == 65535 && t->end_port == 0;
}
/* 3.13.1: types 7 and 8 are all we know, and a port range runs from start to end; any
 * other start > end than OPAQUE names no port at all. Such a selector matches nothing. */
static bool ts_valid(const struct ike_ts *t)
{
    return (t->type == IKE_TS_IPV4_ADDR_RANGE || t->type == IKE_TS_IPV6_ADDR_RANGE) &&
           (t->start_port <= t->end_port || ports_opaque(t));
}
static bool ports_any(const struct ike_ts *t)
{
    return t->start_port == 0 && t->end_port == 65535;
}

bool ike_ts_intersect(const struct ike_ts *a, const struct ike_ts *b, struct ike_ts *out)
{
    if (a->type != b->type || !ts_valid(a) || !ts_valid(b))
        return false;
    size_t alen = ike_ts_addr_len(a);
    struct ike_ts r = {.type = a->type};
    if (a->ip_proto && b->ip_proto && a->ip_proto != b->ip_proto)
        return false;
    r.ip_proto = a->ip_proto ? a->ip_proto : b->ip_proto;

    if (ports_opaque(a) || ports_opaque(b)) {
        if (!(ports_opaque(a) || ports_any(a)) || !(ports_opaque(b) || ports_any(b)))
            return false;
        r.start_port = 65535;
        r.end_port = 0;
    } else {
        r.start_port = a->start_port > b->start_port ? a->start_port : b->start_port;
        r.end_port = a->end_port < b->end_port ? a->end_port : b->end_port;
        if (r.start_port > r.end_port)
            return false;
    }

    const uint8_t *lo =
        memcmp(a->start_addr, b->start_addr, alen) > 0 ? a->start_addr : b->start_addr;
    const uint8_t *hi = memcmp(a->end_addr, b->end_addr, alen) < 0 ? a->end_addr : b->end_addr;
    if (memcmp(lo, hi, alen) > 0)
        return false;
    memcpy(r.start_addr, lo, alen);
    memcpy(r.end_addr, hi, alen);
    *out = r;
    return true;
}

bool ike_ts_within(const struct ike_ts *a, const struct ike_ts *b)
{
    struct ike_ts x;
    if (!ike_ts_intersect(a, b, &x))
        return false;
    size_t alen = ike_ts_addr_len(a);
    return x.ip_proto == a->ip_proto && x.start_port == a->start_port &&
           x.end_port == a->end_port && !memcmp(x.start_addr, a->start_addr, alen) &&
           !memcmp(x.end_addr, a->end_addr, alen);
}

size_t ike_ts_narrow(const struct ike_ts *proposed, size_t np, const struct ike_ts *conf, size_t nc,
                     struct ike_ts *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < np; i++)
        for (size_t j = 0; j < nc && n < max; j++) {
            struct ike_ts x;
            if (!ike_ts_intersect(&proposed[i], &conf[j], &x))
                continue;
            bool dup = false;
            for (size_t k = 0; k < n && !dup; k++)
                dup = ike_ts_within(&x, &out[k]);
            if (!dup)
                out[n++] = x;
        }
    return n;
}

bool ike_ts_all_within(const struct ike_ts *got, size_t ng, const struct ike_ts *sent, size_t ns)
{
    for (size_t i = 0; i < ng; i++) {
        bool ok = false;
        for (size_t j = 0; j < ns && !ok; j++)
            ok = ike_ts_within(&got[i], &sent[j]);
        if (!ok)
            return false;
    }
    return ng > 0;
}

char *ike_ts_format(const struct ike_ts *t, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], proto[32] = "";
    int af = t->type == IKE_TS_IPV6_ADDR_RANGE ? AF_INET6 : AF_INET;
    inet_ntop(af, t->start_addr, a, sizeof(a));
    inet_ntop(af, t->end_addr, b, sizeof(b));
    if (t->ip_proto || !ports_any(t)) {
        if (ports_opaque(t))
            snprintf(proto, sizeof(proto), "[%u/opaque]", t->ip_proto);
        else if (ports_any(t))
            snprintf(proto, sizeof(proto), "[%u]", t->ip_proto);
        else
            snprintf(proto, sizeof(proto), "[%u/%u-%u]", t->ip_proto, t->start_port, t->end_port);
    }
    snprintf(buf, len, "%s-%s%s", a, b, proto);
    return buf;
}
