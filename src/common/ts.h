/*
 * A traffic selector as RFC 7296 3.13.1 defines it (an address range, an IP protocol, a
 * port range), the one type the IKE codec and engine and the data planes share. It lives
 * here, below both, so that the data plane needs nothing of IKE to read it.
 */
#ifndef HIKE_COMMON_TS_H
#define HIKE_COMMON_TS_H

#include <stdint.h>

enum ike_ts_type {
    IKE_TS_IPV4_ADDR_RANGE = 7,
    IKE_TS_IPV6_ADDR_RANGE = 8,
};

struct ike_ts {
    uint8_t type;     /* another type than 7 and 8: only type and ip_proto are set */
    uint8_t ip_proto; /* 0 = any */
    uint16_t start_port;
    uint16_t end_port;
    uint8_t start_addr[16]; /* 4 octets used for IPv4 */
    uint8_t end_addr[16];
};

#endif
