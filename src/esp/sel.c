#include "esp/sel.h"

#include "common/cbs.h"
#include "common/err.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static bool has_ports(uint8_t proto)
{
    return proto == IPPROTO_TCP || proto == IPPROTO_UDP || proto == IPPROTO_SCTP ||
           proto == IPPROTO_UDPLITE;
}

static void read_ports(struct hk_cbs *c, struct hk_pkt_sel *o)
{
    uint16_t sp, dp;
    if (has_ports(o->proto) && !hk_cbs_get_u16(c, &sp) && !hk_cbs_get_u16(c, &dp)) {
        o->has_ports = true;
        o->sport = sp;
        o->dport = dp;
    }
}

int hk_pkt_sel_parse(const uint8_t *pkt, size_t len, struct hk_pkt_sel *out)
{
    struct hk_cbs c;
    uint8_t b0;
    memset(out, 0, sizeof(*out));
    hk_cbs_init(&c, pkt, len);
    if (hk_cbs_peek_u8(&c, &b0))
        return HK_E_SYNTAX;
    if (b0 >> 4 == 4) {
        size_t ihl = (size_t)(b0 & 0x0f) * 4;
        uint16_t frag;
        if (ihl < 20 || len < ihl)
            return HK_E_SYNTAX;
        out->family = AF_INET;
        out->proto = pkt[9];
        memcpy(out->src, pkt + 12, 4);
        memcpy(out->dst, pkt + 16, 4);
        frag = (uint16_t)(pkt[6] << 8 | pkt[7]);
        /* Only the first fragment carries the ports (RFC 4301 7). */
        if (!(frag & 0x1fff)) {
            hk_cbs_skip(&c, ihl);
            read_ports(&c, out);
        }
        return HK_OK;
    }
    if (b0 >> 4 == 6) {
        if (len < 40)
            return HK_E_SYNTAX;
        out->family = AF_INET6;
        memcpy(out->src, pkt + 8, 16);
        memcpy(out->dst, pkt + 24, 16);
        uint8_t nh = pkt[6];
        hk_cbs_skip(&c, 40);
        /* Walk the extension headers that may precede the transport header. */
        for (int hops = 0; hops < 8; hops++) {
            if (nh != 0 && nh != 43 && nh != 60 && nh != 44)
                break;
            uint8_t next, hlen;
            if (hk_cbs_get_u8(&c, &next) || hk_cbs_get_u8(&c, &hlen))
                return HK_E_SYNTAX;
            size_t skip = nh == 44 ? 6 : (size_t)hlen * 8 + 6;
            if (nh == 44) {
                uint16_t off;
                if (hk_cbs_peek_u16(&c, &off))
                    return HK_E_SYNTAX;
                if (off & 0xfff8) { /* not the first fragment: no ports */
                    out->proto = next;
                    return HK_OK;
                }
            }
            if (hk_cbs_skip(&c, skip))
                return HK_E_SYNTAX;
            nh = next;
        }
        out->proto = nh;
        read_ports(&c, out);
        return HK_OK;
    }
    return HK_E_SYNTAX;
}

bool hk_ts_match(const struct ike_ts *ts, int family, const uint8_t *addr, uint8_t proto,
                 bool has_port, uint16_t port)
{
    size_t alen = family == AF_INET6 ? 16 : 4;
    if ((family == AF_INET6) != (ts->type == IKE_TS_IPV6_ADDR_RANGE))
        return false;
    if (memcmp(addr, ts->start_addr, alen) < 0 || memcmp(addr, ts->end_addr, alen) > 0)
        return false;
    if (ts->ip_proto && ts->ip_proto != proto)
        return false;
    bool any_port = ts->start_port == 0 && ts->end_port == 65535;
    if (any_port)
        return true;
    if (ts->start_port > ts->end_port) /* OPAQUE (2.9): only packets without ports */
        return !has_port;
    return has_port && port >= ts->start_port && port <= ts->end_port;
}

static bool any_match(const struct ike_ts *ts, size_t n, int family, const uint8_t *addr,
                      const struct hk_pkt_sel *p, uint16_t port)
{
    for (size_t i = 0; i < n; i++)
        if (hk_ts_match(&ts[i], family, addr, p->proto, p->has_ports, port))
            return true;
    return false;
}

size_t hk_sel_size(size_t nlocal, size_t nremote)
{
    return sizeof(struct hk_sel) + (nlocal + nremote) * sizeof(struct ike_ts);
}

void hk_sel_fill(struct hk_sel *s, const struct ike_ts *local, size_t nlocal,
                 const struct ike_ts *remote, size_t nremote)
{
    s->nlocal = (uint8_t)nlocal;
    s->nremote = (uint8_t)nremote;
    if (nlocal)
        memcpy(s->ts, local, nlocal * sizeof(*local));
    if (nremote)
        memcpy(s->ts + nlocal, remote, nremote * sizeof(*remote));
}

struct hk_sel *hk_sel_new(const struct ike_ts *local, size_t nlocal, const struct ike_ts *remote,
                          size_t nremote)
{
    if (nlocal > UINT8_MAX || nremote > UINT8_MAX)
        return NULL;
    struct hk_sel *s = malloc(hk_sel_size(nlocal, nremote));
    if (s)
        hk_sel_fill(s, local, nlocal, remote, nremote);
    return s;
}

bool hk_sel_out(const struct hk_sel *s, const struct hk_pkt_sel *p)
{
    return any_match(s->ts, s->nlocal, p->family, p->src, p, p->sport) &&
           any_match(hk_sel_remote(s), s->nremote, p->family, p->dst, p, p->dport);
}

bool hk_sel_in(const struct hk_sel *s, const struct hk_pkt_sel *p)
{
    return any_match(hk_sel_remote(s), s->nremote, p->family, p->src, p, p->sport) &&
           any_match(s->ts, s->nlocal, p->family, p->dst, p, p->dport);
}
