#include "config/ts_conf.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/err.h"
#include "config/conf_err.h"

/* Longest text we accept for one address, range or selector. */
#define TEXT_MAX 128

static const struct {
    const char *name;
    uint8_t proto;
} protocols[] = {
    /* The first name of a number is the one hk_ts_format prints. */
    {"icmp", 1},       {"tcp", 6},     {"udp", 17},   {"dccp", 33},     {"gre", 47},
    {"ipv6-icmp", 58}, {"icmpv6", 58}, {"sctp", 132}, {"udplite", 136},
};

static size_t family_len(int family)
{
    return family == AF_INET ? 4 : 16;
}

/* Parses a decimal number of at most 'digits' digits without sign or spaces. */
static int parse_uint(const char *s, size_t digits, unsigned long max, unsigned long *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > digits || strspn(s, "0123456789") != n)
        return -1;
    unsigned long v = strtoul(s, NULL, 10);
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

int hk_ip_parse(const char *s, struct hk_ip *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (strlen(s) < INET6_ADDRSTRLEN && inet_pton(AF_INET, s, out->addr) == 1) {
        out->family = AF_INET;
        return 0;
    }
    if (strlen(s) < INET6_ADDRSTRLEN && inet_pton(AF_INET6, s, out->addr) == 1) {
        out->family = AF_INET6;
        return 0;
    }
    return hk_conf_errf(err, errlen, "'%.64s' is not an IPv4 or IPv6 address", s);
}

/* Sets the host bits (those after prefix) of a to 1 when ones, else checks they are 0. */
static bool host_bits(uint8_t *a, size_t alen, unsigned prefix, bool ones)
{
    for (size_t i = 0; i < alen; i++) {
        unsigned first = (unsigned)i * 8;
        uint8_t mask; /* host bits in this octet */
        if (first + 8 <= prefix)
            mask = 0;
        else if (first >= prefix)
            mask = 0xff;
        else
            mask = (uint8_t)(0xff >> (prefix - first));
        if (ones)
            a[i] |= mask;
        else if (a[i] & mask)
            return false;
    }
    return true;
}

int hk_ip_range_parse(const char *s, struct hk_ip_range *out, bool *is_prefix, char *err,
                      size_t errlen)
{
    char buf[TEXT_MAX];
    struct hk_ip a, b;
    int rc;

    memset(out, 0, sizeof(*out));
    if (is_prefix)
        *is_prefix = false;
    if (strlen(s) >= sizeof(buf))
        return hk_conf_errf(err, errlen, "address range too long");
    strcpy(buf, s);

    char *slash = strchr(buf, '/');
    char *dash = strchr(buf, '-');
    if (slash) {
        *slash = '\0';
        if ((rc = hk_ip_parse(buf, &a, err, errlen)) < 0)
            return rc;
        unsigned long prefix;
        unsigned bits = a.family == AF_INET ? 32 : 128;
        if (parse_uint(slash + 1, 3, bits, &prefix) < 0)
            return hk_conf_errf(err, errlen, "bad prefix length '%.16s' (0..%u)", slash + 1, bits);
        if (!host_bits(a.addr, family_len(a.family), (unsigned)prefix, false)) {
            struct hk_ip net = a, hostmask = {.family = a.family};
            char txt[INET6_ADDRSTRLEN];
            host_bits(hostmask.addr, family_len(a.family), (unsigned)prefix, true);
            for (size_t i = 0; i < family_len(a.family); i++)
                net.addr[i] &= (uint8_t)~hostmask.addr[i];
            hk_ip_format(&net, txt, sizeof(txt));
            return hk_conf_errf(err, errlen, "host bits set in %.64s/%lu (did you mean %s/%lu?)",
                                buf, prefix, txt, prefix);
        }
        out->family = a.family;
        memcpy(out->start, a.addr, 16);
        memcpy(out->end, a.addr, 16);
        host_bits(out->end, family_len(a.family), (unsigned)prefix, true);
        if (is_prefix)
            *is_prefix = true;
        return 0;
    }
    if (dash) {
        *dash = '\0';
        if ((rc = hk_ip_parse(buf, &a, err, errlen)) < 0 ||
            (rc = hk_ip_parse(dash + 1, &b, err, errlen)) < 0)
            return rc;
        if (a.family != b.family)
            return hk_conf_errf(err, errlen, "range '%.100s' mixes IPv4 and IPv6", s);
        if (memcmp(a.addr, b.addr, 16) > 0)
            return hk_conf_errf(err, errlen, "range '%.100s' ends before it starts", s);
        out->family = a.family;
        memcpy(out->start, a.addr, 16);
        memcpy(out->end, b.addr, 16);
        return 0;
    }
    if ((rc = hk_ip_parse(buf, &a, err, errlen)) < 0)
        return rc;
    out->family = a.family;
    memcpy(out->start, a.addr, 16);
    memcpy(out->end, a.addr, 16);
    return 0;
}

static int parse_proto(const char *s, uint8_t *out, char *err, size_t errlen)
{
    for (size_t i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++) {
        if (strcasecmp(s, protocols[i].name) == 0) {
            *out = protocols[i].proto;
            return 0;
        }
    }
    unsigned long v;
    if (parse_uint(s, 3, 255, &v) < 0)
        return hk_conf_errf(err, errlen, "unknown protocol '%.32s' (a name or 0..255)", s);
    *out = (uint8_t)v;
    return 0;
}

static int parse_ports(const char *s, struct hk_ts_conf *ts, char *err, size_t errlen)
{
    char buf[16];
    unsigned long lo, hi;
    if (strlen(s) >= sizeof(buf))
        return hk_conf_errf(err, errlen, "bad port '%.32s'", s);
    strcpy(buf, s);
    char *dash = strchr(buf, '-');
    if (dash)
        *dash = '\0';
    if (parse_uint(buf, 5, 65535, &lo) < 0 || parse_uint(dash ? dash + 1 : buf, 5, 65535, &hi) < 0)
        return hk_conf_errf(err, errlen, "bad port '%.32s' (N or N-M, 0..65535)", s);
    if (lo > hi)
        return hk_conf_errf(err, errlen, "port range '%.32s' ends before it starts", s);
    ts->start_port = (uint16_t)lo;
    ts->end_port = (uint16_t)hi;
    return 0;
}

int hk_ts_parse(const char *s, struct hk_ts_conf *out, char *err, size_t errlen)
{
    char buf[TEXT_MAX];
    int rc;

    memset(out, 0, sizeof(*out));
    out->end_port = 65535;
    if (strlen(s) >= sizeof(buf))
        return hk_conf_errf(err, errlen, "traffic selector too long");
    strcpy(buf, s);

    char *open = strchr(buf, '[');
    if (open) {
        size_t n = strlen(open);
        if (n < 2 || open[n - 1] != ']')
            return hk_conf_errf(err, errlen, "'%.100s': '[' without a closing ']' at the end", s);
        open[n - 1] = '\0';
        *open = '\0';
    }
    if (strcmp(buf, "%dynamic") == 0)
        out->dynamic = true;
    else if ((rc = hk_ip_range_parse(buf, &out->range, NULL, err, errlen)) < 0)
        return rc;
    if (!open)
        return 0;

    char *proto = open + 1;
    char *slash = strchr(proto, '/');
    if (slash)
        *slash = '\0';
    if ((rc = parse_proto(proto, &out->ip_proto, err, errlen)) < 0)
        return rc;
    if (!slash)
        return 0;
    if (out->ip_proto == 0)
        return hk_conf_errf(err, errlen, "'%.100s': ports need a protocol", s);
    return parse_ports(slash + 1, out, err, errlen);
}

int hk_ip_range_prefix(const struct hk_ip_range *r)
{
    size_t alen = family_len(r->family);
    unsigned bits = (unsigned)alen * 8;
    for (unsigned p = 0; p <= bits; p++) {
        uint8_t start[16], end[16];
        memcpy(start, r->start, 16);
        if (!host_bits(start, alen, p, false))
            continue;
        memcpy(end, r->start, 16);
        host_bits(end, alen, p, true);
        if (memcmp(end, r->end, alen) == 0)
            return (int)p;
    }
    return -1;
}

bool hk_ip_range_contains(const struct hk_ip_range *r, const struct hk_ip *ip)
{
    size_t alen = family_len(r->family);
    return r->family == ip->family && memcmp(r->start, ip->addr, alen) <= 0 &&
           memcmp(ip->addr, r->end, alen) <= 0;
}

bool hk_ip_range_overlaps(const struct hk_ip_range *a, const struct hk_ip_range *b)
{
    size_t alen = family_len(a->family);
    return a->family == b->family && memcmp(a->start, b->end, alen) <= 0 &&
           memcmp(b->start, a->end, alen) <= 0;
}

/* snprintf into buf at *off, tracking truncation. */
static int append(char *buf, size_t len, size_t *off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int append(char *buf, size_t len, size_t *off, const char *fmt, ...)
{
    va_list ap;
    if (*off >= len)
        return HK_E_OVERFLOW;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *off, len - *off, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len - *off) {
        *off = len;
        return HK_E_OVERFLOW;
    }
    *off += (size_t)n;
    return 0;
}

int hk_ip_format(const struct hk_ip *ip, char *buf, size_t len)
{
    char txt[INET6_ADDRSTRLEN];
    if (!inet_ntop(ip->family, ip->addr, txt, sizeof(txt)))
        strcpy(txt, "?");
    size_t off = 0;
    if (len)
        buf[0] = '\0';
    return append(buf, len, &off, "%s", txt);
}

int hk_ip_range_format(const struct hk_ip_range *r, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
    size_t off = 0;
    if (len)
        buf[0] = '\0';
    if (!inet_ntop(r->family, r->start, a, sizeof(a)) ||
        !inet_ntop(r->family, r->end, b, sizeof(b)))
        return append(buf, len, &off, "?");
    int p = hk_ip_range_prefix(r);
    if (p >= 0)
        return append(buf, len, &off, "%s/%d", a, p);
    return append(buf, len, &off, "%s-%s", a, b);
}

int hk_ts_format(const struct hk_ts_conf *ts, char *buf, size_t len)
{
    size_t off = 0;
    int rc;
    if (len)
        buf[0] = '\0';
    if (ts->dynamic)
        rc = append(buf, len, &off, "%%dynamic");
    else {
        rc = hk_ip_range_format(&ts->range, buf, len);
        off = strlen(buf);
    }
    if (rc < 0 || ts->ip_proto == 0)
        return rc;

    const char *name = NULL;
    for (size_t i = 0; i < sizeof(protocols) / sizeof(protocols[0]) && !name; i++)
        if (protocols[i].proto == ts->ip_proto)
            name = protocols[i].name;
    rc = name ? append(buf, len, &off, "[%s", name) : append(buf, len, &off, "[%u", ts->ip_proto);
    if (rc == 0 && (ts->start_port != 0 || ts->end_port != 65535)) {
        if (ts->start_port == ts->end_port)
            rc = append(buf, len, &off, "/%u", ts->start_port);
        else
            rc = append(buf, len, &off, "/%u-%u", ts->start_port, ts->end_port);
    }
    return rc < 0 ? rc : append(buf, len, &off, "]");
}
