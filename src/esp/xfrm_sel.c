/* Traffic selectors to XFRM selectors: address prefixes x port blocks, per TS pair. */
#include "esp/xfrm_sel.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "common/err.h"
#include "esp/prefix.h"

size_t hk_xfrm_port_blocks(uint16_t lo, uint16_t hi, uint16_t *port, uint16_t *mask, size_t max)
{
    size_t n = 0;
    uint32_t cur = lo;

    if (lo > hi)
        return 0;
    while (cur <= hi) {
        /* The largest aligned block starting at cur that stays within hi. */
        uint32_t size = 1;
        while (size < 65536 && (cur & (size * 2 - 1)) == 0 && cur + size * 2 - 1 <= hi)
            size *= 2;
        if (n < max) {
            port[n] = (uint16_t)cur;
            mask[n] = (uint16_t)(~(size - 1) & 0xffff);
        }
        n++;
        cur += size;
    }
    return n;
}

/* A TS's address range as prefixes (at most HK_PREFIX_MAX_V6). */
static int ts_prefixes(const struct ike_ts *ts, struct hk_ip *pfx, uint8_t *lens, size_t *n)
{
    struct hk_ip_range r;

    if (ts->type == IKE_TS_IPV4_ADDR_RANGE)
        r.family = AF_INET;
    else if (ts->type == IKE_TS_IPV6_ADDR_RANGE)
        r.family = AF_INET6;
    else
        return HK_E_INVALID;
    memcpy(r.start, ts->start_addr, 16);
    memcpy(r.end, ts->end_addr, 16);
    *n = hk_range_to_prefixes(&r, pfx, lens, HK_PREFIX_MAX_V6);
    return *n ? HK_OK : HK_E_INVALID;
}

/* A TS's ports as blocks; a TS without a protocol, or with the full range, is one block
 * "any". */
static int ts_ports(const struct ike_ts *ts, uint8_t proto, uint16_t *port, uint16_t *mask,
                    size_t *n)
{
    if (!ts->ip_proto || (ts->start_port == 0 && ts->end_port == 65535)) {
        port[0] = mask[0] = 0;
        *n = 1;
        return HK_OK;
    }
    if (ts->start_port > ts->end_port)
        return HK_E_UNSUPPORTED; /* OPAQUE (RFC 4301 4.4.1) */
    if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6)
        return HK_E_UNSUPPORTED; /* RFC 4301 4.4.1.1 packs type and code in one field */
    *n = hk_xfrm_port_blocks(ts->start_port, ts->end_port, port, mask, 30);
    return HK_OK;
}

int hk_xfrm_sels(const struct ike_ts *local, size_t nlocal, const struct ike_ts *remote,
                 size_t nremote, struct hk_xfrm_sel *out, size_t max, size_t *n)
{
    struct hk_ip lp[HK_PREFIX_MAX_V6], rp[HK_PREFIX_MAX_V6];
    uint8_t ll[HK_PREFIX_MAX_V6], rl[HK_PREFIX_MAX_V6];
    uint16_t lport[30], lmask[30], rport[30], rmask[30];
    size_t total = 0;
    int rc;

    *n = 0;
    for (size_t i = 0; i < nlocal; i++) {
        for (size_t j = 0; j < nremote; j++) {
            const struct ike_ts *l = &local[i], *r = &remote[j];
            size_t nlp, nrp, nlport, nrport;
            if (l->type != r->type)
                continue;
            if (l->ip_proto && r->ip_proto && l->ip_proto != r->ip_proto)
                continue;
            uint8_t proto = l->ip_proto ? l->ip_proto : r->ip_proto;
            if ((rc = ts_prefixes(l, lp, ll, &nlp)) || (rc = ts_prefixes(r, rp, rl, &nrp)) ||
                (rc = ts_ports(l, proto, lport, lmask, &nlport)) ||
                (rc = ts_ports(r, proto, rport, rmask, &nrport)))
                return rc;
            for (size_t a = 0; a < nlp; a++)
                for (size_t b = 0; b < nrp; b++)
                    for (size_t c = 0; c < nlport; c++)
                        for (size_t d = 0; d < nrport; d++, total++) {
                            if (total >= max)
                                continue;
                            struct hk_xfrm_sel *s = &out[total];
                            memset(s, 0, sizeof(*s));
                            s->family = lp[a].family;
                            memcpy(s->src, lp[a].addr, 16);
                            memcpy(s->dst, rp[b].addr, 16);
                            s->src_len = ll[a];
                            s->dst_len = rl[b];
                            s->proto = proto;
                            s->sport = lport[c];
                            s->sport_mask = lmask[c];
                            s->dport = rport[d];
                            s->dport_mask = rmask[d];
                        }
        }
    }
    *n = total;
    return total > max ? HK_E_OVERFLOW : HK_OK;
}

struct hk_xfrm_sel hk_xfrm_sel_reverse(const struct hk_xfrm_sel *s)
{
    struct hk_xfrm_sel r = *s;

    memcpy(r.src, s->dst, 16);
    memcpy(r.dst, s->src, 16);
    r.src_len = s->dst_len;
    r.dst_len = s->src_len;
    r.sport = s->dport;
    r.sport_mask = s->dport_mask;
    r.dport = s->sport;
    r.dport_mask = s->sport_mask;
    return r;
}

static unsigned mask_bits(uint16_t m)
{
    unsigned n = 0;
    for (; m; m &= (uint16_t)(m - 1))
        n++;
    return n;
}

uint32_t hk_xfrm_sel_priority(const struct hk_xfrm_sel *s)
{
    /* Prefix bits weigh most, then the protocol, then port bits: a /32 host policy beats
     * a /24 whatever its ports, as a route lookup would. At most 256*64 + 32 + 32 < base. */
    uint32_t spec = (uint32_t)(s->src_len + s->dst_len) * 64u + (s->proto ? 32u : 0u) +
                    mask_bits(s->sport_mask) + mask_bits(s->dport_mask);
    return HK_XFRM_PRIO_BASE - spec;
}
