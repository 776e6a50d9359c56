/*
 * TCP segmentation and coalescing for a TUN device with offloads (IFF_VNET_HDR with
 * TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6). The kernel then hands the plane TCP packets of up
 * to 64 KiB with a virtio_net_hdr, and checksums left to finish: one read instead of ~45,
 * and the sender's TCP stack works on large segments. ESP still protects each wire-sized
 * segment, so hk_gso cuts a large packet into the segments the kernel would have sent
 * (RFC 793 sequence numbers, IPv4 IDs, lengths, checksums).
 *
 * The inbound direction (hk_gro) does the reverse for a batch of decrypted packets: TCP
 * segments of one flow that follow each other are written to the TUN device as one large
 * packet (checksums verified first), so the receiving stack sees a few large packets.
 */
#ifndef HIKE_ESP_GSO_H
#define HIKE_ESP_GSO_H

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One packet read from the TUN device, cut into wire-sized packets. */
struct hk_gso {
    const uint8_t *pkt;
    size_t len;
    size_t l4off;   /* the TCP header (or, without GSO, where the checksum starts) */
    size_t hlen;    /* IP and TCP headers, copied into each segment */
    size_t mss;     /* payload octets per segment; 0: not a GSO packet */
    size_t off;     /* payload offset of the next segment */
    size_t csum_at; /* without GSO: where the checksum goes, if it is left to us */
    unsigned idx;
    bool csum, done;
};

/*
 * Checks the header the kernel gave and the packet it describes (len octets at pkt, not
 * including the header). HK_E_SYNTAX when they disagree or the packet is malformed, and
 * HK_E_UNSUPPORTED for a GSO type other than TCP over IPv4/IPv6.
 */
int hk_gso_init(struct hk_gso *g, const struct virtio_net_hdr *vh, const uint8_t *pkt, size_t len);
/* Writes the next segment (a complete IP packet, checksums done) to out; HK_OK with *olen,
 * HK_E_NOTFOUND when there is none left, HK_E_OVERFLOW when it does not fit in cap. */
int hk_gso_next(struct hk_gso *g, uint8_t *out, size_t cap, size_t *olen);
/* Number of segments hk_gso_next will give in all. */
size_t hk_gso_count(const struct hk_gso *g);

/*
 * Inbound coalescing. The caller adds each decrypted packet (hk_gro_add copies it into the
 * table's buffer, merging TCP segments that continue a held packet of the same flow), then
 * writes out everything held with hk_gro_flush. A table holds HK_GRO_MAX packets of up to
 * HK_GRO_BUF octets each.
 */
#define HK_GRO_MAX 16
#define HK_GRO_BUF 65535

struct hk_gro_pkt {
    uint8_t *buf; /* HK_GRO_BUF octets (owned by the table) */
    size_t len, hlen, l4off, mss;
    unsigned nseg;
    uint32_t next_seq; /* host order: the sequence number a continuation starts with */
    bool open;         /* may still grow: no FIN/PSH/RST/URG/SYN seen, size matched */
};

struct hk_gro {
    struct hk_gro_pkt p[HK_GRO_MAX];
    size_t n;
};

/* The buffers; HK_E_NOMEM. */
int hk_gro_init(struct hk_gro *g);
void hk_gro_free(struct hk_gro *g);
/*
 * Adds one IP packet. Returns HK_OK when it was taken (held or merged), HK_E_OVERFLOW when
 * the table is full (flush, then add again), HK_E_SYNTAX for a packet too large for a slot.
 */
int hk_gro_add(struct hk_gro *g, const uint8_t *pkt, size_t len);
/*
 * Fills vh for held packet i: GSO_TCPV4/TCPV6 with gso_size and the checksum left
 * partial (its pseudo-header sum stored, as the kernel expects of NEEDS_CSUM) for merged
 * packets; no flags for a single one (whose checksum is the sender's, checked by the
 * kernel as usual).
 */
void hk_gro_vnet(struct hk_gro *g, size_t i, struct virtio_net_hdr *vh);

#endif
