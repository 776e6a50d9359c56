/*
 * Fuzzes TCP segmentation and coalescing for the TUN device with offloads: the input is a
 * struct virtio_net_hdr (10 octets, host order, as the kernel gives it) and the packet it
 * describes. Packets read from TUN come from any local sender, and hk_gro sees every
 * decrypted packet, so from anyone a tunnel reaches.
 *
 * Checked: segments fit the cap given (and nothing is written past it: a guard area follows
 * a small cap taken from hdr_len, which hk_gso ignores), their number is hk_gso_count, their
 * payloads add up to the packet's; every segment and the input go through hk_gro, and every
 * merged packet is a valid GSO packet with as many segments as were merged, whose checksum,
 * finished as the kernel does, verifies.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "esp/gso.h"

#define BIG    (HK_GRO_BUF + 1024)
#define GUARD  64
#define MAXSEG 100

static uint8_t *out;
static struct hk_gro gro;

/* Sum of 16-bit big-endian words; independent of esp/csum. */
static uint32_t ref_sum(uint32_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 2)
        s += (uint32_t)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0);
    return s;
}

static uint16_t ref_fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

/* The merged packet i: its header is consistent, the kernel can finish its checksum and it
 * verifies, and hk_gso cuts it into as many segments as were merged. */
static void check_held(size_t i)
{
    struct virtio_net_hdr vh;
    const struct hk_gro_pkt *h = &gro.p[i];
    if (h->len > HK_GRO_BUF)
        abort();
    hk_gro_vnet(&gro, i, &vh);
    if (!vh.flags) {
        if (vh.gso_type || vh.gso_size || vh.csum_start || vh.csum_offset || h->nseg > 1)
            abort();
        return;
    }
    size_t len = h->len, l4 = vh.csum_start;
    if (vh.flags != VIRTIO_NET_HDR_F_NEEDS_CSUM || vh.csum_offset != 16 || l4 + 18 > len ||
        vh.hdr_len > len || !vh.gso_size || h->nseg < 2)
        abort();
    static uint8_t pkt[HK_GRO_BUF];
    memcpy(pkt, h->buf, len);
    uint16_t c = (uint16_t)~ref_fold(ref_sum(0, pkt + l4, len - l4));
    pkt[l4 + 16] = (uint8_t)(c >> 8);
    pkt[l4 + 17] = (uint8_t)c;
    uint8_t ph[40] = {0};
    uint32_t l4len = (uint32_t)(len - l4);
    size_t phl;
    if (pkt[0] >> 4 == 4) {
        memcpy(ph, pkt + 12, 8);
        ph[9] = 6;
        ph[10] = (uint8_t)(l4len >> 8);
        ph[11] = (uint8_t)l4len;
        phl = 12;
        if (ref_fold(ref_sum(0, pkt, 20)) != 0xffff || (pkt[2] << 8 | pkt[3]) != (int)len)
            abort();
    } else {
        memcpy(ph, pkt + 8, 32);
        ph[34] = (uint8_t)(l4len >> 8);
        ph[35] = (uint8_t)l4len;
        ph[39] = 6;
        phl = 40;
    }
    if (ref_fold(ref_sum(ref_sum(0, ph, phl), pkt + l4, l4len)) != 0xffff)
        abort();
    struct hk_gso g;
    if (hk_gso_init(&g, &vh, h->buf, len) != HK_OK || hk_gso_count(&g) != h->nseg)
        abort();
}

static void flush(void)
{
    for (size_t i = 0; i < gro.n; i++)
        check_held(i);
    gro.n = 0;
}

static void gro_feed(const uint8_t *p, size_t len)
{
    int rc = hk_gro_add(&gro, p, len);
    if (rc == HK_E_OVERFLOW) {
        if (gro.n != HK_GRO_MAX)
            abort();
        flush();
        rc = hk_gro_add(&gro, p, len);
    }
    if (rc != HK_OK && !(rc == HK_E_SYNTAX && len > HK_GRO_BUF))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!out) {
        out = malloc(BIG + GUARD);
        if (!out || hk_gro_init(&gro) != HK_OK)
            abort();
    }
    if (size < sizeof(struct virtio_net_hdr) || size - sizeof(struct virtio_net_hdr) > BIG)
        return 0;
    struct virtio_net_hdr vh;
    memcpy(&vh, data, sizeof(vh));
    const uint8_t *pkt = data + sizeof(vh);
    size_t len = size - sizeof(vh);
    gro.n = 0;

    struct hk_gso g;
    int rc = hk_gso_init(&g, &vh, pkt, len);
    if (rc == HK_OK) {
        size_t want = hk_gso_count(&g), n = 0, payload = 0;
        size_t small = vh.hdr_len; /* below BIG */
        if (want < 1)
            abort();
        while (n < MAXSEG) {
            size_t olen = 0;
            memset(out + small, 0xa5, GUARD);
            rc = hk_gso_next(&g, out, small, &olen);
            for (size_t k = 0; k < GUARD; k++)
                if (out[small + k] != 0xa5)
                    abort();
            if (rc == HK_OK && olen > small)
                abort();
            if (rc == HK_E_OVERFLOW) {
                memset(out + BIG, 0xa5, GUARD);
                rc = hk_gso_next(&g, out, BIG, &olen);
                for (size_t k = 0; k < GUARD; k++)
                    if (out[BIG + k] != 0xa5)
                        abort();
            }
            if (rc == HK_E_NOTFOUND)
                break;
            if (rc != HK_OK || olen > BIG)
                abort();
            if (g.mss) {
                if (olen < g.hlen || olen > g.hlen + g.mss)
                    abort();
                payload += olen - g.hlen;
            } else if (olen != len) {
                abort();
            }
            n++;
            gro_feed(out, olen);
        }
        if (n < MAXSEG ? n != want : want < MAXSEG)
            abort();
        if (n < MAXSEG && g.mss && payload != len - g.hlen)
            abort();
    } else if (rc != HK_E_SYNTAX && rc != HK_E_UNSUPPORTED) {
        abort();
    }
    gro_feed(pkt, len);
    flush();
    return 0;
}
