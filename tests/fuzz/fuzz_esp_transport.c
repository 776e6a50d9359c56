/* Fuzzes transport mode's header strip (clear packets from the TUN device) and rebuild
 * (decrypted payloads from the peer), with their invariants: a rebuilt packet parses as an
 * IP packet, strips back to the same payload, and with fix carries a checksum that verifies.
 * Input: the whole buffer is a packet to strip; byte 0 (bit 0: IPv6, bit 1: fix checksums)
 * and byte 1 (the protocol) steer a rebuild of the rest. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esp/esp_transport.h"
#include "esp/spd.h"

static uint8_t out[70000];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *payload;
    size_t plen, olen;
    uint8_t proto;
    if (hk_tp_strip(data, size, &payload, &plen, &proto) == 0 &&
        (payload < data || payload + plen > data + size))
        abort();
    if (size < 2)
        return 0;
    struct hk_tp_addrs a = {.family = data[0] & 1 ? AF_INET6 : AF_INET};
    memset(a.local, 0x11, sizeof(a.local));
    memset(a.remote, 0x22, sizeof(a.remote));
    bool fix = data[0] & 2;
    proto = data[1];
    if (hk_tp_rebuild(&a, proto, data + 2, size - 2, fix, out, sizeof(out), &olen))
        return 0;
    struct hk_pkt_sel sel;
    /* IPv6 extension header numbers as the protocol make the selector parser walk them. */
    bool ext = a.family == AF_INET6 && (proto == 0 || proto == 43 || proto == 44 || proto == 60);
    if (!ext && (hk_pkt_sel_parse(out, olen, &sel) || sel.family != a.family))
        abort();
    if (fix && !hk_tp_l4_ok(a.family, a.remote, a.local, proto, out + olen - (size - 2), size - 2))
        abort();
    uint8_t p2;
    if (hk_tp_strip(out, olen, &payload, &plen, &p2) == 0 &&
        (p2 != proto || plen != size - 2 || (fix ? 0 : memcmp(payload, data + 2, plen))))
        abort();
    return 0;
}
