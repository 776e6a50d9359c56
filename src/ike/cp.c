/* Configuration payload attributes (RFC 7296 2.19, 3.15.1, 3.15.3). */
#include "ike/cp.h"

#include <string.h>
#include <sys/socket.h>

#include "common/err.h"

#define IP4_LEN     4
#define IP6_LEN     16
#define IP6_PFX_LEN 17 /* 16-octet address and a prefix-length octet (3.15.1) */

/* 3.15.1 table: is len a valid length for this attribute type? in_request relaxes
 * INTERNAL_IP6_SUBNET (listed as 17 octets) to allow an empty one in a request. */
static bool len_ok(uint16_t type, size_t len, bool in_request)
{
    switch (type) {
    case IKE_CFG_INTERNAL_IP4_ADDRESS:
    case IKE_CFG_INTERNAL_IP4_NETMASK:
    case IKE_CFG_INTERNAL_IP4_DNS:
    case IKE_CFG_INTERNAL_IP4_NBNS:
    case IKE_CFG_INTERNAL_IP4_DHCP:
        return len == 0 || len == IP4_LEN;
    case IKE_CFG_INTERNAL_IP6_ADDRESS:
        return len == 0 || len == IP6_PFX_LEN;
    case IKE_CFG_INTERNAL_IP6_DNS:
    case IKE_CFG_INTERNAL_IP6_DHCP:
        return len == 0 || len == IP6_LEN;
    case IKE_CFG_INTERNAL_IP4_SUBNET:
        return len == 0 || len == 2 * IP4_LEN;
    case IKE_CFG_SUPPORTED_ATTRIBUTES:
        return len % 2 == 0;
    case IKE_CFG_INTERNAL_IP6_SUBNET:
        return len == IP6_PFX_LEN || (in_request && len == 0);
    default: /* APPLICATION_VERSION and unknown types: any length */
        return true;
    }
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static void ip_set(struct hk_ip *ip, int family, const uint8_t *p)
{
    memset(ip, 0, sizeof(*ip));
    ip->family = family;
    memcpy(ip->addr, p, family == AF_INET ? IP4_LEN : IP6_LEN);
}

/* Prefix length of a contiguous IPv4 netmask, or -1. */
static int mask_prefix(const uint8_t *p)
{
    uint32_t m = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    uint32_t inv = ~m;
    if (inv & (inv + 1))
        return -1;
    return __builtin_popcount(m);
}

/* ---- building ---- */

static int add_attr(struct ike_pl_cp *cp, size_t cap, uint16_t type, const uint8_t *v, size_t len,
                    struct hk_arena *a)
{
    if (cp->nattrs >= cap)
        return HK_E_INVALID;
    struct ike_cfg_attr *at = &cp->attrs[cp->nattrs++];
    at->type = type;
    at->r_bit = false; /* 3.15.1: MUST be zero */
    at->value.p = NULL;
    at->value.len = len;
    if (len) {
        uint8_t *copy = hk_arena_alloc(a, len);
        if (!copy)
            return HK_E_NOMEM;
        memcpy(copy, v, len);
        at->value.p = copy;
    }
    return 0;
}

static int cp_init(struct ike_pl_cp *out, uint8_t cfg_type, size_t cap, struct hk_arena *a)
{
    memset(out, 0, sizeof(*out));
    out->cfg_type = cfg_type;
    if (!cap)
        return 0;
    out->attrs = hk_arena_calloc(a, cap, sizeof(*out->attrs));
    return out->attrs ? 0 : HK_E_NOMEM;
}

int ike_cp_build_request(bool want4, bool want6, struct hk_arena *a, struct ike_pl_cp *out)
{
    if (!a || !out || (!want4 && !want6))
        return HK_E_INVALID; /* 2.19: MUST contain at least an INTERNAL_ADDRESS */
    int rc = cp_init(out, IKE_CFG_REQUEST, 4, a);
    /* Empty values: any address, any DNS server (3.15.1). */
    if (!rc && want4)
        rc = add_attr(out, 4, IKE_CFG_INTERNAL_IP4_ADDRESS, NULL, 0, a);
    if (!rc && want4)
        rc = add_attr(out, 4, IKE_CFG_INTERNAL_IP4_DNS, NULL, 0, a);
    if (!rc && want6)
        rc = add_attr(out, 4, IKE_CFG_INTERNAL_IP6_ADDRESS, NULL, 0, a);
    if (!rc && want6)
        rc = add_attr(out, 4, IKE_CFG_INTERNAL_IP6_DNS, NULL, 0, a);
    return rc;
}

int ike_cp_build_reply(const struct hk_ip *addrs, size_t n, const struct hk_ip *dns, size_t ndns,
                       struct hk_arena *a, struct ike_pl_cp *out)
{
    if (!a || !out || (n && !addrs) || (ndns && !dns) || n > IKE_MAX_ITEMS ||
        ndns > IKE_MAX_ITEMS - n)
        return HK_E_INVALID;
    size_t cap = n + ndns;
    int rc = cp_init(out, IKE_CFG_REPLY, cap, a);
    for (size_t i = 0; !rc && i < n; i++) {
        if (addrs[i].family == AF_INET) {
            rc = add_attr(out, cap, IKE_CFG_INTERNAL_IP4_ADDRESS, addrs[i].addr, IP4_LEN, a);
        } else if (addrs[i].family == AF_INET6) {
            uint8_t v[IP6_PFX_LEN];
            memcpy(v, addrs[i].addr, IP6_LEN);
            v[IP6_LEN] = 128; /* a host address (see cp.h) */
            rc = add_attr(out, cap, IKE_CFG_INTERNAL_IP6_ADDRESS, v, sizeof(v), a);
        } else {
            rc = HK_E_INVALID;
        }
    }
    for (size_t i = 0; !rc && i < ndns; i++) {
        if (dns[i].family == AF_INET)
            rc = add_attr(out, cap, IKE_CFG_INTERNAL_IP4_DNS, dns[i].addr, IP4_LEN, a);
        else if (dns[i].family == AF_INET6)
            rc = add_attr(out, cap, IKE_CFG_INTERNAL_IP6_DNS, dns[i].addr, IP6_LEN, a);
        else
            rc = HK_E_INVALID;
    }
    return rc;
}

/* ---- parsing ---- */

int ike_cp_parse_request(const struct ike_pl_cp *cp, struct ike_cp_request *out)
{
    if (!cp || !out || (cp->nattrs && !cp->attrs))
        return HK_E_INVALID;
    memset(out, 0, sizeof(*out));
    if (cp->cfg_type != IKE_CFG_REQUEST)
        return HK_E_UNSUPPORTED;
    for (size_t i = 0; i < cp->nattrs; i++) {
        const struct ike_cfg_attr *at = &cp->attrs[i];
        const uint8_t *v = at->value.p;
        size_t len = at->value.len;
        if (!len_ok(at->type, len, true) || (len && !v))
            return HK_E_SYNTAX;
        switch (at->type) {
        case IKE_CFG_INTERNAL_IP4_ADDRESS:
            out->want4 = true;
            if (len && !out->has_addr4 && !all_zero(v, IP4_LEN)) {
                out->has_addr4 = true;
                ip_set(&out->addr4, AF_INET, v);
            }
            break;
        case IKE_CFG_INTERNAL_IP6_ADDRESS:
            out->want6 = true;
            if (len && v[IP6_LEN] > 128)
                return HK_E_SYNTAX;
            /* 3.15.3: the requestor may supply only the low-order octets; the pool
             * decides whether the whole address is acceptable. */
            if (len && !out->has_addr6 && !all_zero(v, IP6_LEN)) {
                out->has_addr6 = true;
                ip_set(&out->addr6, AF_INET6, v);
                out->prefix6 = v[IP6_LEN];
            }
            break;
        case IKE_CFG_INTERNAL_IP4_DNS:
            out->dns4 = true;
            break;
        case IKE_CFG_INTERNAL_IP6_DNS:
            out->dns6 = true;
            break;
        case IKE_CFG_INTERNAL_IP4_NETMASK:
            /* 3.15.1: non-empty values MUST NOT be sent; the value means nothing. */
            out->netmask4 = true;
            break;
        case IKE_CFG_SUPPORTED_ATTRIBUTES:
            out->supported_attributes = true;
            break;
        default:
            break;
        }
    }
    return 0;
}

static void add_subnet(struct ike_cp_reply *out, int family, const uint8_t *addr, int prefix)
{
    if (out->nsubnets >= IKE_CP_MAX_SUBNETS)
        return;
    struct ike_cp_subnet *s = &out->subnets[out->nsubnets++];
    ip_set(&s->addr, family, addr);
    s->prefix = (uint8_t)prefix;
}

int ike_cp_parse_reply(const struct ike_pl_cp *cp, struct ike_cp_reply *out)
{
    if (!cp || !out || (cp->nattrs && !cp->attrs))
        return HK_E_INVALID;
    memset(out, 0, sizeof(*out));
    if (cp->cfg_type != IKE_CFG_REPLY)
        return HK_E_SYNTAX;
    for (size_t i = 0; i < cp->nattrs; i++) {
        const struct ike_cfg_attr *at = &cp->attrs[i];
        const uint8_t *v = at->value.p;
        size_t len = at->value.len;
        if (!len_ok(at->type, len, false) || (len && !v))
            return HK_E_SYNTAX;
        if (!len)
            continue; /* nothing given */
        int prefix;
        switch (at->type) {
        case IKE_CFG_INTERNAL_IP4_ADDRESS:
        case IKE_CFG_INTERNAL_IP6_ADDRESS: {
            bool v4 = at->type == IKE_CFG_INTERNAL_IP4_ADDRESS;
            if (all_zero(v, v4 ? IP4_LEN : IP6_LEN) || (!v4 && v[IP6_LEN] > 128))
                return HK_E_SYNTAX;
            if (out->naddrs < IKE_CP_MAX_ADDRS) {
                ip_set(&out->addrs[out->naddrs], v4 ? AF_INET : AF_INET6, v);
                out->prefix[out->naddrs++] = v4 ? 32 : v[IP6_LEN];
            }
            break;
        }
        case IKE_CFG_INTERNAL_IP4_NETMASK:
            if ((prefix = mask_prefix(v)) < 0)
                return HK_E_SYNTAX;
            if (!out->has_netmask4) { /* 3.15.1: only one is allowed; the first counts */
                out->has_netmask4 = true;
                out->netmask4 = (uint8_t)prefix;
            }
            break;
        case IKE_CFG_INTERNAL_IP4_DNS:
        case IKE_CFG_INTERNAL_IP6_DNS: {
            bool v4 = at->type == IKE_CFG_INTERNAL_IP4_DNS;
            if (all_zero(v, v4 ? IP4_LEN : IP6_LEN))
                return HK_E_SYNTAX;
            if (out->ndns < IKE_CP_MAX_DNS)
                ip_set(&out->dns[out->ndns++], v4 ? AF_INET : AF_INET6, v);
            break;
        }
        case IKE_CFG_INTERNAL_IP4_SUBNET:
            if ((prefix = mask_prefix(v + IP4_LEN)) < 0)
                return HK_E_SYNTAX;
            add_subnet(out, AF_INET, v, prefix);
            break;
        case IKE_CFG_INTERNAL_IP6_SUBNET:
            if (v[IP6_LEN] > 128)
                return HK_E_SYNTAX;
            add_subnet(out, AF_INET6, v, v[IP6_LEN]);
            break;
        default:
            break;
        }
    }
    /* INTERNAL_IP4_NETMASK goes with the IPv4 address (3.15.1). */
    for (size_t i = 0; out->has_netmask4 && i < out->naddrs; i++)
        if (out->addrs[i].family == AF_INET)
            out->prefix[i] = out->netmask4;
    return 0;
}
