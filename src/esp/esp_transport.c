#include "esp/esp_transport.h"

#include "common/err.h"
#include "esp/csum.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#define IP4_HDR 20
#define IP6_HDR 40

static size_t alen_of(int family)
{
    return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static int ts_family(const struct ike_ts *t)
{
    return t->type == IKE_TS_IPV4_ADDR_RANGE   ? AF_INET
           : t->type == IKE_TS_IPV6_ADDR_RANGE ? AF_INET6
                                               : 0;
}

/* The single address every selector of one side names, or HK_E_UNSUPPORTED. */
static int one_addr(const struct ike_ts *ts, size_t n, int *family, uint8_t *addr)
{
    if (n == 0)
        return HK_E_UNSUPPORTED;
    for (size_t i = 0; i < n; i++) {
        int fam = ts_family(&ts[i]);
        size_t alen = alen_of(fam);
        if (!alen || memcmp(ts[i].start_addr, ts[i].end_addr, alen))
            return HK_E_UNSUPPORTED;
        if (i == 0) {
            *family = fam;
            memcpy(addr, ts[i].start_addr, alen);
        } else if (fam != *family || memcmp(addr, ts[i].start_addr, alen)) {
            return HK_E_UNSUPPORTED;
        }
    }
    return HK_OK;
}

int hk_tp_addrs_from_ts(const struct ike_ts *local, size_t nlocal, const struct ike_ts *remote,
                        size_t nremote, struct hk_tp_addrs *out)
{
    int fl = 0, fr = 0;
    memset(out, 0, sizeof(*out));
    if (one_addr(local, nlocal, &fl, out->local) || one_addr(remote, nremote, &fr, out->remote) ||
        fl != fr) {
        memset(out, 0, sizeof(*out));
        return HK_E_UNSUPPORTED;
    }
    out->family = fl;
    return HK_OK;
}

/* Protocols that are IPv6 extension headers (RFC 8200 4, RFC 7045) or "no next header". */
static bool is_ext_or_none(uint8_t p)
{
    switch (p) {
    case 0:   /* hop-by-hop options */
    case 43:  /* routing */
    case 44:  /* fragment */
    case 51:  /* AH */
    case 59:  /* no next header: as an ESP Next Header it marks a dummy packet (4303 2.6) */
    case 60:  /* destination options */
    case 135: /* mobility */
    case 139: /* HIP */
    case 140: /* shim6 */
        return true;
    default:
        return false;
    }
}

int hk_tp_strip(const uint8_t *pkt, size_t len, const uint8_t **payload, size_t *plen,
                uint8_t *proto)
{
    if (len < 1)
        return HK_E_SYNTAX;
    if (pkt[0] >> 4 == 4) {
        size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
        size_t tot = len >= IP4_HDR ? (size_t)pkt[2] << 8 | pkt[3] : 0;
        if (len < IP4_HDR || ihl < IP4_HDR || tot < ihl || tot > len)
            return HK_E_SYNTAX;
        uint16_t frag = (uint16_t)(pkt[6] << 8 | pkt[7]);
        if (ihl != IP4_HDR || (frag & 0x3fff) || pkt[9] == 59)
            return HK_E_UNSUPPORTED; /* options, MF or an offset, "no next header" */
        *proto = pkt[9];
        *payload = pkt + ihl;
        *plen = tot - ihl;
        return HK_OK;
    }
    if (pkt[0] >> 4 == 6) {
        if (len < IP6_HDR)
            return HK_E_SYNTAX;
        size_t pl = (size_t)pkt[4] << 8 | pkt[5];
        if (IP6_HDR + pl > len)
            return HK_E_SYNTAX;
        if (is_ext_or_none(pkt[6]))
            return HK_E_UNSUPPORTED;
        *proto = pkt[6];
        *payload = pkt + IP6_HDR;
        *plen = pl;
        return HK_OK;
    }
    return HK_E_SYNTAX;
}

uint16_t hk_tp_l4_sum(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
                      const uint8_t *l4, size_t len)
{
    uint64_t acc = hk_csum_pseudo(src, dst, alen_of(family), proto, (uint32_t)len);
    return ntohs(hk_csum_final(hk_csum_add(acc, l4, len)));
}

int hk_tp_csum_offset(int family, uint8_t proto, size_t *min_len)
{
    switch (proto) {
    case IPPROTO_TCP:
        *min_len = 20;
        return 16;
    case IPPROTO_UDP:
        *min_len = 8;
        return 6;
    case IPPROTO_ICMPV6: /* ICMPv4's checksum covers no pseudo-header */
        if (family != AF_INET6)
            return -1;
        *min_len = 4;
        return 2;
    default:
        return -1;
    }
}

bool hk_tp_l4_ok(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto,
                 const uint8_t *l4, size_t len)
{
    size_t min;
    int off = hk_tp_csum_offset(family, proto, &min);
    if (off < 0)
        return true;
    if (len < min)
        return false;
    if (family == AF_INET && proto == IPPROTO_UDP && !l4[off] && !l4[off + 1])
        return true; /* RFC 768: zero means no checksum */
    return hk_tp_l4_sum(family, src, dst, proto, l4, len) == 0;
}

/* RFC 3948 3.1.2, option 2: recompute the checksum over the pseudo-header we rebuilt. */
static int fix_csum(int family, const uint8_t *src, const uint8_t *dst, uint8_t proto, uint8_t *l4,
                    size_t len)
{
    size_t min;
    int off = hk_tp_csum_offset(family, proto, &min);
    if (off < 0)
        return HK_OK;
    if (len < min)
        return HK_E_SHORT;
    if (family == AF_INET && proto == IPPROTO_UDP && !l4[off] && !l4[off + 1])
        return HK_OK;
    l4[off] = l4[off + 1] = 0;
    uint16_t c = hk_tp_l4_sum(family, src, dst, proto, l4, len);
    if (c == 0 && proto == IPPROTO_UDP)
        c = 0xffff; /* RFC 768 / RFC 8200 8.1: a computed zero is sent as all ones */
    l4[off] = (uint8_t)(c >> 8);
    l4[off + 1] = (uint8_t)c;
    return HK_OK;
}

int hk_tp_rebuild(const struct hk_tp_addrs *a, uint8_t proto, const uint8_t *payload, size_t plen,
                  bool fix, uint8_t *out, size_t outcap, size_t *outlen)
{
    size_t hlen = a->family == AF_INET ? IP4_HDR : a->family == AF_INET6 ? IP6_HDR : 0;
    if (!hlen)
        return HK_E_INVALID;
    /* The IPv4 total length, or the IPv6 payload length (no jumbograms), is 16 bits. */
    size_t lim = a->family == AF_INET ? 0xffff - IP4_HDR : 0xffff;
    if (plen > lim || hlen + plen > outcap)
        return HK_E_OVERFLOW;
    memset(out, 0, hlen);
    if (a->family == AF_INET) {
        size_t tot = IP4_HDR + plen;
        out[0] = 0x45;
        out[2] = (uint8_t)(tot >> 8), out[3] = (uint8_t)tot;
        out[6] = 0x40; /* DF, identification 0: an atomic datagram (RFC 6864) */
        out[8] = HK_TP_TTL;
        out[9] = proto;
        memcpy(out + 12, a->remote, 4);
        memcpy(out + 16, a->local, 4);
        uint16_t c = ntohs(hk_csum_final(hk_csum_add(0, out, IP4_HDR)));
        out[10] = (uint8_t)(c >> 8), out[11] = (uint8_t)c;
    } else {
        out[0] = 0x60;
        out[4] = (uint8_t)(plen >> 8), out[5] = (uint8_t)plen;
        out[6] = proto;
        out[7] = HK_TP_TTL;
        memcpy(out + 8, a->remote, 16);
        memcpy(out + 24, a->local, 16);
    }
    memmove(out + hlen, payload, plen);
    if (fix) {
        int rc = fix_csum(a->family, a->remote, a->local, proto, out + hlen, plen);
        if (rc)
            return rc;
    }
    *outlen = hlen + plen;
    return HK_OK;
}
