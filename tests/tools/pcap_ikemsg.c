/*
 * Writes a pcap file (Ethernet, IPv4, UDP 500 <-> 500) holding the sample IKE
 * messages encoded by the codec, so that an independent dissector (tshark) can
 * check the wire format: IKE_SA_INIT request and response, IKE_AUTH request (SK),
 * INFORMATIONAL request (SK). Addresses are from 192.0.2.0/24 (RFC 5737).
 *
 * usage: pcap_ikemsg FILE
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/cbb.h"
#include "sample_msgs.h"

#define LINKTYPE_ETHERNET 1
#define ETH_LEN           14
#define IP_LEN            20
#define UDP_LEN           8
#define IKE_PORT          500

static const uint8_t addr_i[4] = {192, 0, 2, 1};
static const uint8_t addr_r[4] = {192, 0, 2, 2};

/* pcap headers are in host order; write little-endian explicitly. */
static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put_be16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* RFC 1071 one's complement sum. */
static uint32_t sum16(uint32_t acc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        acc += (uint32_t)p[n - 1] << 8;
    return acc;
}
static uint16_t fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

static int write_packet(FILE *f, const uint8_t *ike, size_t ike_len, bool from_initiator,
                        uint32_t ts_sec, uint16_t ip_id)
{
    static uint8_t pkt[ETH_LEN + IP_LEN + UDP_LEN + 65536];
    const uint8_t *src = from_initiator ? addr_i : addr_r;
    const uint8_t *dst = from_initiator ? addr_r : addr_i;
    size_t udp_len = UDP_LEN + ike_len, ip_len = IP_LEN + udp_len;
    if (ip_len > 65535)
        return -1;

    uint8_t *eth = pkt;
    const uint8_t mac_i[6] = {0x02, 0, 0, 0, 0, 0x01}, mac_r[6] = {0x02, 0, 0, 0, 0, 0x02};
    memcpy(eth, from_initiator ? mac_r : mac_i, 6);
    memcpy(eth + 6, from_initiator ? mac_i : mac_r, 6);
    put_be16(eth + 12, 0x0800);

    uint8_t *ip = eth + ETH_LEN;
    memset(ip, 0, IP_LEN);
    ip[0] = 0x45;
    put_be16(ip + 2, (uint16_t)ip_len);
    put_be16(ip + 4, ip_id);
    put_be16(ip + 6, 0x4000); /* DF */
    ip[8] = 64;
    ip[9] = 17; /* UDP */
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    put_be16(ip + 10, fold(sum16(0, ip, IP_LEN)));

    uint8_t *udp = ip + IP_LEN;
    put_be16(udp, IKE_PORT);
    put_be16(udp + 2, IKE_PORT);
    put_be16(udp + 4, (uint16_t)udp_len);
    put_be16(udp + 6, 0);
    memcpy(udp + UDP_LEN, ike, ike_len);
    /* UDP checksum over the pseudo-header (RFC 768). */
    uint8_t pseudo[12];
    memcpy(pseudo, src, 4);
    memcpy(pseudo + 4, dst, 4);
    pseudo[8] = 0;
    pseudo[9] = 17;
    put_be16(pseudo + 10, (uint16_t)udp_len);
    uint16_t ck = fold(sum16(sum16(0, pseudo, sizeof(pseudo)), udp, udp_len));
    put_be16(udp + 6, ck ? ck : 0xffff);

    uint8_t rec[16];
    size_t caplen = ETH_LEN + ip_len;
    put_le32(rec, ts_sec);
    put_le32(rec + 4, 0);
    put_le32(rec + 8, (uint32_t)caplen);
    put_le32(rec + 12, (uint32_t)caplen);
    if (fwrite(rec, 1, sizeof(rec), f) != sizeof(rec) || fwrite(pkt, 1, caplen, f) != caplen)
        return -1;
    return 0;
}

static int emit(FILE *f, void (*build)(struct sample *), bool from_initiator, uint32_t ts,
                const char *name)
{
    static struct sample s;
    struct hk_cbb b;
    build(&s);
    hk_cbb_init(&b, 0, 65535 - IP_LEN - UDP_LEN);
    int rc = ike_msg_encode(&s.msg, &b);
    if (!rc)
        rc = write_packet(f, b.buf, b.len, from_initiator, ts, (uint16_t)(ts & 0xffff));
    if (rc)
        fprintf(stderr, "%s: failed (%d)\n", name, rc);
    hk_cbb_free(&b);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    FILE *f = fopen(argv[1], "wb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    uint8_t gh[24];
    put_le32(gh, 0xa1b2c3d4);
    put_le16(gh + 4, 2);
    put_le16(gh + 6, 4);
    put_le32(gh + 8, 0);
    put_le32(gh + 12, 0);
    put_le32(gh + 16, 65535);
    put_le32(gh + 20, LINKTYPE_ETHERNET);
    int rc = fwrite(gh, 1, sizeof(gh), f) == sizeof(gh) ? 0 : -1;
    const uint32_t t0 = 1700000000;
    if (!rc)
        rc = emit(f, sample_sa_init_req, true, t0, "IKE_SA_INIT request");
    if (!rc)
        rc = emit(f, sample_sa_init_resp, false, t0 + 1, "IKE_SA_INIT response");
    if (!rc)
        rc = emit(f, sample_ike_auth_req, true, t0 + 2, "IKE_AUTH request");
    if (!rc)
        rc = emit(f, sample_informational, true, t0 + 3, "INFORMATIONAL request");
    if (fclose(f))
        rc = -1;
    return rc ? EXIT_FAILURE : EXIT_SUCCESS;
}
