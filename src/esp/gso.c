#include "esp/gso.h"

#include "common/err.h"
#include "esp/csum.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_CWR 0x80

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, (uint16_t)(v >> 16));
    wr16(p + 2, (uint16_t)v);
}

static void ipv4_csum(uint8_t *ip)
{
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    ip[10] = ip[11] = 0;
    uint16_t c = hk_csum_final(hk_csum_add(0, ip, ihl));
    memcpy(ip + 10, &c, 2);
}

/* Pseudo-header sum of the packet at ip for an upper layer of l4len octets. */
static uint64_t pseudo(const uint8_t *ip, uint32_t l4len)
{
    if ((ip[0] >> 4) == 4)
        return hk_csum_pseudo(ip + 12, ip + 16, 4, IPPROTO_TCP, l4len);
    return hk_csum_pseudo(ip + 8, ip + 24, 16, IPPROTO_TCP, l4len);
}

/* ---- outbound: segmentation ---- */

int hk_gso_init(struct hk_gso *g, const struct virtio_net_hdr *vh, const uint8_t *pkt, size_t len)
{
    memset(g, 0, sizeof(*g));
    g->pkt = pkt;
    g->len = len;
    if (len < 20)
        return HK_E_SYNTAX;
    unsigned ver = pkt[0] >> 4;
    if (ver != 4 && ver != 6)
        return HK_E_SYNTAX;
    if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        /* The kernel left the checksum at csum_start + csum_offset to us, its field
         * holding the pseudo-header sum. */
        if ((size_t)vh->csum_start + vh->csum_offset + 2 > len)
            return HK_E_SYNTAX;
        g->csum = true;
        g->l4off = vh->csum_start;
        g->csum_at = (size_t)vh->csum_start + vh->csum_offset;
    }
    uint8_t type = vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
    if (type == VIRTIO_NET_HDR_GSO_NONE)
        return HK_OK;
    if ((type != VIRTIO_NET_HDR_GSO_TCPV4 && type != VIRTIO_NET_HDR_GSO_TCPV6) || !g->csum)
        return HK_E_UNSUPPORTED;
    if ((type == VIRTIO_NET_HDR_GSO_TCPV4) != (ver == 4))
        return HK_E_SYNTAX;
    if (ver == 4 &&
        ((pkt[0] & 0x0f) < 5 || g->l4off != (size_t)(pkt[0] & 0x0f) * 4 || pkt[9] != IPPROTO_TCP))
        return HK_E_SYNTAX;
    if (ver == 6 && (g->l4off < 40 || (g->l4off == 40 && pkt[6] != IPPROTO_TCP)))
        return HK_E_SYNTAX;
    if (g->l4off + 20 > len || vh->csum_offset != 16 || vh->gso_size == 0)
        return HK_E_SYNTAX;
    g->hlen = g->l4off + (size_t)(pkt[g->l4off + 12] >> 4) * 4;
    if (g->hlen < g->l4off + 20 || g->hlen > len)
        return HK_E_SYNTAX;
    g->mss = vh->gso_size;
    g->off = g->hlen;
    return HK_OK;
}

size_t hk_gso_count(const struct hk_gso *g)
{
    if (!g->mss)
        return 1;
    size_t payload = g->len - g->hlen;
    return payload ? (payload + g->mss - 1) / g->mss : 1;
}

int hk_gso_next(struct hk_gso *g, uint8_t *out, size_t cap, size_t *olen)
{
    if (g->done)
        return HK_E_NOTFOUND;
    if (!g->mss) { /* one packet: copied, its checksum finished if left to us */
        if (g->len > cap)
            return HK_E_OVERFLOW;
        memcpy(out, g->pkt, g->len);
        if (g->csum) {
            uint16_t c = hk_csum_final(hk_csum_add(0, out + g->l4off, g->len - g->l4off));
            if (!c)
                c = 0xffff; /* RFC 768: a UDP checksum computed as zero is sent as all ones */
            memcpy(out + g->csum_at, &c, 2);
        }
        *olen = g->len;
        g->done = true;
        return HK_OK;
    }
    size_t left = g->len - g->off, seg = left < g->mss ? left : g->mss;
    bool first = g->idx == 0, last = left <= g->mss;
    size_t n = g->hlen + seg;
    if (n > cap)
        return HK_E_OVERFLOW;
    memcpy(out, g->pkt, g->hlen);
    memcpy(out + g->hlen, g->pkt + g->off, seg);
    uint8_t *tcp = out + g->l4off;
    if (out[0] >> 4 == 4) {
        wr16(out + 2, (uint16_t)n);
        wr16(out + 4, (uint16_t)(rd16(out + 4) + g->idx)); /* IDs go up as the kernel's */
        ipv4_csum(out);
    } else {
        wr16(out + 4, (uint16_t)(n - 40));
    }
    wr32(tcp + 4, rd32(tcp + 4) + (uint32_t)(g->off - g->hlen));
    if (!last)
        tcp[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH); /* only the last segment ends or pushes */
    if (!first)
        tcp[13] &= (uint8_t)~TCP_CWR; /* RFC 3168 6.1.2: CWR on the first segment only */
    tcp[16] = tcp[17] = 0;
    uint32_t l4len = (uint32_t)(n - g->l4off);
    uint16_t c = hk_csum_final(hk_csum_add(pseudo(out, l4len), tcp, l4len));
    memcpy(tcp + 16, &c, 2);
    g->off += seg;
    g->idx++;
    g->done = last;
    *olen = n;
    return HK_OK;
}

/* ---- inbound: coalescing ---- */

int hk_gro_init(struct hk_gro *g)
{
    memset(g, 0, sizeof(*g));
    for (size_t i = 0; i < HK_GRO_MAX; i++)
        if (!(g->p[i].buf = malloc(HK_GRO_BUF))) {
            hk_gro_free(g);
            return HK_E_NOMEM;
        }
    return HK_OK;
}

void hk_gro_free(struct hk_gro *g)
{
    for (size_t i = 0; i < HK_GRO_MAX; i++)
        free(g->p[i].buf);
    memset(g, 0, sizeof(*g));
}

/*
 * A TCP segment that may be merged: no IPv4 options or fragments, no IPv6 extension
 * headers, only ACK (and PSH, which ends a packet) set, some payload, and a checksum that
 * verifies (a merged packet's checksum is the kernel's to compute, so a bad one must not
 * hide in it). Sets the TCP header offset and the length of all headers.
 */
static bool mergeable(const uint8_t *p, size_t len, size_t *l4off, size_t *hlen)
{
    if (len < 40)
        return false;
    if (p[0] >> 4 == 4) {
        if (p[0] != 0x45 || p[9] != IPPROTO_TCP || (rd16(p + 6) & 0x3fff) || rd16(p + 2) != len)
            return false;
        *l4off = 20;
    } else if (p[0] >> 4 == 6) {
        if (len < 60 || p[6] != IPPROTO_TCP || rd16(p + 4) + 40u != len)
            return false;
        *l4off = 40;
    } else {
        return false;
    }
    const uint8_t *tcp = p + *l4off;
    *hlen = *l4off + (size_t)(tcp[12] >> 4) * 4;
    if (*hlen < *l4off + 20 || *hlen >= len || (tcp[13] & ~TCP_PSH) != TCP_ACK)
        return false;
    uint32_t l4len = (uint32_t)(len - *l4off);
    return hk_csum_fold(hk_csum_add(pseudo(p, l4len), tcp, l4len)) == 0xffff;
}

/* Same flow and same headers but for what merging changes (lengths, IDs, checksums,
 * sequence number, PSH). */
static bool same_headers(const struct hk_gro_pkt *h, const uint8_t *p, size_t hlen)
{
    const uint8_t *q = h->buf;
    if (h->hlen != hlen || (q[0] >> 4) != (p[0] >> 4))
        return false;
    if (q[0] >> 4 == 4) {
        /* TOS, DF, TTL, protocol, addresses */
        if (q[1] != p[1] || (q[6] & 0x40) != (p[6] & 0x40) || q[8] != p[8] ||
            memcmp(q + 12, p + 12, 8))
            return false;
    } else if (memcmp(q, p, 4) || memcmp(q + 6, p + 6, 34)) {
        return false; /* class, flow label, next header, hop limit, addresses */
    }
    const uint8_t *a = q + h->l4off, *b = p + h->l4off;
    /* ports; then ack, offset, window; then options (timestamps must be equal too) */
    return !memcmp(a, b, 4) && !memcmp(a + 8, b + 8, 5) && !memcmp(a + 14, b + 14, 2) &&
           !memcmp(a + 20, b + 20, hlen - h->l4off - 20);
}

int hk_gro_add(struct hk_gro *g, const uint8_t *pkt, size_t len)
{
    size_t l4off = 0, hlen = 0;
    bool tcp = mergeable(pkt, len, &l4off, &hlen);
    if (len > HK_GRO_BUF)
        return HK_E_SYNTAX;
    if (tcp) {
        const uint8_t *th = pkt + l4off;
        uint32_t seq = rd32(th + 4);
        size_t plen = len - hlen;
        for (size_t i = g->n; i-- > 0;) {
            struct hk_gro_pkt *h = &g->p[i];
            if (!h->open || !same_headers(h, pkt, hlen))
                continue;
            /* The same flow's latest packet: merge, or close it so order is kept. */
            if (seq != h->next_seq || plen > h->mss || h->len + plen > HK_GRO_BUF ||
                h->nseg >= 64) {
                h->open = false;
                break;
            }
            memcpy(h->buf + h->len, pkt + hlen, plen);
            h->len += plen;
            h->nseg++;
            h->next_seq = seq + (uint32_t)plen;
            h->buf[h->l4off + 13] |= th[13] & TCP_PSH;
            h->open = plen == h->mss && !(th[13] & TCP_PSH);
            return HK_OK;
        }
    }
    if (g->n >= HK_GRO_MAX)
        return HK_E_OVERFLOW;
    struct hk_gro_pkt *h = &g->p[g->n++];
    memcpy(h->buf, pkt, len);
    h->len = len;
    h->nseg = 1;
    h->open = tcp && !(pkt[l4off + 13] & TCP_PSH);
    h->l4off = l4off;
    h->hlen = hlen;
    h->mss = tcp ? len - hlen : 0;
    h->next_seq = tcp ? rd32(pkt + l4off + 4) + (uint32_t)(len - hlen) : 0;
    return HK_OK;
}

void hk_gro_vnet(struct hk_gro *g, size_t i, struct virtio_net_hdr *vh)
{
    struct hk_gro_pkt *h = &g->p[i];
    memset(vh, 0, sizeof(*vh));
    if (h->nseg < 2)
        return;
    uint8_t *p = h->buf;
    if (p[0] >> 4 == 4) {
        wr16(p + 2, (uint16_t)h->len);
        ipv4_csum(p);
        vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    } else {
        wr16(p + 4, (uint16_t)(h->len - 40));
        vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV6;
    }
    /* NEEDS_CSUM: the field holds the folded pseudo-header sum, the kernel finishes it. */
    uint16_t c = hk_csum_fold(pseudo(p, (uint32_t)(h->len - h->l4off)));
    memcpy(p + h->l4off + 16, &c, 2);
    vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    vh->hdr_len = (uint16_t)h->hlen;
    vh->gso_size = (uint16_t)h->mss;
    vh->csum_start = (uint16_t)h->l4off;
    vh->csum_offset = 16;
}
