/*
 * Addresses, address ranges and traffic selectors as written in hiked.conf.
 * Pure string parsing (no libconfig, no name resolution); docs/config.md has
 * the syntax. Errors go to a caller buffer as a bare message ("host bits set
 * in 10.1.2.3/16"); the config loader prefixes file, line and setting.
 */
#ifndef HIKE_CONFIG_TS_CONF_H
#define HIKE_CONFIG_TS_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One IP address; family is AF_INET (4 octets used) or AF_INET6. */
struct hk_ip {
    int family;
    uint8_t addr[16];
};

/* An inclusive address range, start <= end, both of one family. */
struct hk_ip_range {
    int family;
    uint8_t start[16];
    uint8_t end[16];
};

/* A traffic selector of a child (RFC 7296 3.13.1). */
struct hk_ts_conf {
    bool dynamic;             /* "%dynamic": the SA endpoint's own (or virtual) address */
    struct hk_ip_range range; /* unused when dynamic */
    uint8_t ip_proto;         /* 0 = any protocol */
    uint16_t start_port;      /* 0..65535 unless narrowed, only with ip_proto != 0 */
    uint16_t end_port;
};

/* "192.0.2.1", "2001:db8::1". */
int hk_ip_parse(const char *s, struct hk_ip *out, char *err, size_t errlen);
/* "10.1.0.0/16", "10.2.0.1-10.2.0.9" or a single address; host bits set in a prefix are an
 * error. *is_prefix (may be NULL) says whether the text was CIDR. */
int hk_ip_range_parse(const char *s, struct hk_ip_range *out, bool *is_prefix, char *err,
                      size_t errlen);
/* "%dynamic", or a range as above, optionally followed by "[PROTO]" or "[PROTO/PORTS]" where
 * PROTO is a name (tcp, udp, icmp, ipv6-icmp, sctp, gre, ...) or 0..255 and PORTS is N or N-M. */
int hk_ts_parse(const char *s, struct hk_ts_conf *out, char *err, size_t errlen);

/* The prefix length when range is exactly one CIDR block, else -1. */
int hk_ip_range_prefix(const struct hk_ip_range *r);
bool hk_ip_range_contains(const struct hk_ip_range *r, const struct hk_ip *ip);
bool hk_ip_range_overlaps(const struct hk_ip_range *a, const struct hk_ip_range *b);

/* Canonical text (CIDR when the range is one block, else "a-b"; lower-case protocol names).
 * Returns 0, or HK_E_OVERFLOW when buf is too small (buf then holds a truncated string). */
int hk_ip_format(const struct hk_ip *ip, char *buf, size_t len);
int hk_ip_range_format(const struct hk_ip_range *r, char *buf, size_t len);
int hk_ts_format(const struct hk_ts_conf *ts, char *buf, size_t len);

/* Longest output of hk_ts_format, with its NUL. */
#define HK_TS_STRLEN 112

#endif
