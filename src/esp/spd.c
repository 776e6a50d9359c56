#include "esp/spd.h"

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

void hk_spd_init(struct hk_spd *s)
{
    memset(s, 0, sizeof(*s));
}

void hk_spd_free(struct hk_spd *s)
{
    free(s->e);
    memset(s, 0, sizeof(*s));
}

int hk_spd_add(struct hk_spd *s, uint64_t id, const struct ike_ts *local, size_t nlocal,
               const struct ike_ts *remote, size_t nremote, bool first)
{
    if (nlocal > HK_SPD_MAX_TS || nremote > HK_SPD_MAX_TS)
        return HK_E_INVALID;
    hk_spd_del(s, id);
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        struct hk_spd_entry *n = realloc(s->e, cap * sizeof(*n));
        if (!n)
            return HK_E_NOMEM;
        s->e = n;
        s->cap = cap;
    }
    struct hk_spd_entry *x = &s->e[s->n];
    if (first) {
        memmove(s->e + 1, s->e, s->n * sizeof(*s->e));
        x = &s->e[0];
    }
    memset(x, 0, sizeof(*x));
    x->id = id;
    x->nlocal = nlocal;
    x->nremote = nremote;
    memcpy(x->local, local, nlocal * sizeof(*local));
    memcpy(x->remote, remote, nremote * sizeof(*remote));
    s->n++;
    return HK_OK;
}

void hk_spd_del(struct hk_spd *s, uint64_t id)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->e[i].id == id) {
            memmove(&s->e[i], &s->e[i + 1], (s->n - i - 1) * sizeof(*s->e));
            s->n--;
            return;
        }
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

uint64_t hk_spd_lookup_out(const struct hk_spd *s, const struct hk_pkt_sel *p)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct hk_spd_entry *x = &s->e[i];
        if (any_match(x->local, x->nlocal, p->family, p->src, p, p->sport) &&
            any_match(x->remote, x->nremote, p->family, p->dst, p, p->dport))
            return x->id;
    }
    return 0;
}

bool hk_spd_check_in(const struct hk_spd *s, uint64_t id, const struct hk_pkt_sel *p)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct hk_spd_entry *x = &s->e[i];
        if (x->id == id)
            return any_match(x->remote, x->nremote, p->family, p->src, p, p->sport) &&
                   any_match(x->local, x->nlocal, p->family, p->dst, p, p->dport);
    }
    return false;
}
