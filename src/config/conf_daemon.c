/* The "daemon" and "pools" sections of hiked.conf. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/err.h"
#include "common/log.h"
#include "config/conf_lc.h"

static const char *const daemon_keys[] = {
    "listen",
    "port",
    "natt_port",
    "log_level",
    "control_socket",
    "cookie_threshold",
    "retransmit_timeout",
    "retransmit_tries",
    "half_open_timeout",
    "half_open_max",
    "half_open_per_address",
    "max_packet",
    "keylog_dir",
    "hand_over_notify",
    "fragmentation",
    "childless",
    "dataplane",
    "tun_name",
    "tun_offload",
    "fwmark",
    "route_table",
    /* privilege drop (src/daemon/privdrop.c) */
    "user",
    "group",
    NULL,
};

/* Indexed by enum hk_dataplane_kind. */
static const char *const dataplane_names[] = {"userspace", "log", "xfrm", "auto", NULL};

static int parse_listen(struct hk_cfg_ctx *c, const config_setting_t *g, struct hk_daemon_conf *d)
{
    const config_setting_t *list;
    int n, rc;
    char msg[160];

    if ((rc = hk_cfg_strings(c, g, "listen", &list, &n)) < 0)
        return rc;
    if (!list) {
        if (!(d->listen = calloc(2, sizeof(*d->listen))))
            return HK_E_NOMEM;
        d->nlisten = 2;
        d->listen[0].family = AF_INET;
        d->listen[1].family = AF_INET6;
        return 0;
    }
    if (!(d->listen = calloc((size_t)n, sizeof(*d->listen))))
        return HK_E_NOMEM;
    d->nlisten = (size_t)n;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e;
        const char *s = hk_cfg_strings_at(list, i, &e);
        if (hk_ip_parse(s, &d->listen[i], msg, sizeof(msg)) < 0)
            return hk_cfg_fail(c, e, "%s", msg);
        for (int j = 0; j < i; j++)
            if (memcmp(&d->listen[j], &d->listen[i], sizeof(d->listen[i])) == 0)
                return hk_cfg_fail(c, e, "'%s' listed twice", s);
    }
    return 0;
}

/* daemon.user and daemon.group: only checked for form here; the daemon looks them up in the
 * system's databases (hiked -t too), so loading a configuration reads no other file. */
static int privdrop_name(struct hk_cfg_ctx *c, const config_setting_t *g, const char *key,
                         char **name, char **where)
{
    const char *s = NULL;
    int rc = hk_cfg_string(c, g, key, &s);
    if (rc < 0 || !s)
        return rc;
    const config_setting_t *m = hk_cfg_member(g, key);
    size_t n = strlen(s);
    if (n == 0 || n > HK_CONF_NAME_MAX)
        return hk_cfg_fail(c, m, "a user or group name has 1 to %d characters", HK_CONF_NAME_MAX);
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] == ':' || s[i] == '/' || s[i] == 0x7f)
            return hk_cfg_fail(c, m, "invalid character in a user or group name");
    if (s[0] == '-' || s[0] == '+')
        return hk_cfg_fail(c, m, "a user or group name cannot start with '%c'", s[0]);
    const char *file = config_setting_source_file(m) ? config_setting_source_file(m) : c->file;
    char at[4096];
    snprintf(at, sizeof(at), "%s:%u: daemon.%s", file ? file : "<string>",
             config_setting_source_line(m), key);
    if (!(*name = strdup(s)) || !(*where = strdup(at)))
        return HK_E_NOMEM;
    return 0;
}

static int parse_privdrop(struct hk_cfg_ctx *c, const config_setting_t *g, struct hk_daemon_conf *d)
{
    int rc;
    if ((rc = privdrop_name(c, g, "user", &d->user, &d->user_at)) < 0 ||
        (rc = privdrop_name(c, g, "group", &d->group, &d->group_at)) < 0)
        return rc;
    if (d->group && !d->user)
        return hk_cfg_fail_member(c, g, "group",
                                  "set daemon.user too: the group is switched only with the user");
    return 0;
}

int hk_cfg_parse_daemon(struct hk_cfg_ctx *c, const config_setting_t *g, struct hk_daemon_conf *d)
{
    const char *s;
    int rc;

    memset(d, 0, sizeof(*d));
    d->port = HK_CONF_PORT;
    d->natt_port = HK_CONF_NATT_PORT;
    d->log_level = HK_LOG_INFO;
    d->cookie_threshold = HK_CONF_COOKIE_THRESHOLD;
    d->retransmit_timeout_ms = HK_CONF_RETRANSMIT_TIMEOUT_MS;
    d->retransmit_tries = HK_CONF_RETRANSMIT_TRIES;
    d->half_open_timeout = HK_CONF_HALF_OPEN_TIMEOUT;
    d->half_open_max = HK_CONF_HALF_OPEN_MAX;
    d->half_open_per_address = HK_CONF_HALF_OPEN_PER_ADDRESS;
    d->max_packet = HK_CONF_MAX_PACKET;
    d->hand_over_notify = HK_CONF_HAND_OVER_NOTIFY;
    d->fragmentation = true;
    d->childless = true;
    d->tun_offload = true;
    d->fwmark = HK_CONF_FWMARK;
    d->route_table = HK_CONF_ROUTE_TABLE;

    if (g && (rc = hk_cfg_check_members(c, g, daemon_keys)) < 0)
        return rc;
    if ((rc = parse_listen(c, g, d)) < 0 ||
        (rc = hk_cfg_u16(c, g, "port", 1, 65535, &d->port)) < 0 ||
        (rc = hk_cfg_u16(c, g, "natt_port", 1, 65535, &d->natt_port)) < 0)
        return rc;
    if (d->port == d->natt_port)
        return hk_cfg_fail_member(c, g, "natt_port", "must differ from port (%u)", d->port);

    s = NULL;
    if ((rc = hk_cfg_string(c, g, "log_level", &s)) < 0)
        return rc;
    if (s && (d->log_level = hk_log_level_parse(s)) < 0)
        return hk_cfg_fail(c, hk_cfg_member(g, "log_level"),
                           "unknown level '%.32s' (error, warn, info or debug)", s);

    s = HK_CONF_CONTROL_SOCKET;
    if ((rc = hk_cfg_string(c, g, "control_socket", &s)) < 0 ||
        (rc = hk_cfg_path(c, hk_cfg_member(g, "control_socket"), s, &d->control_socket)) < 0)
        return rc;
    s = NULL;
    if ((rc = hk_cfg_string(c, g, "keylog_dir", &s)) < 0 ||
        (s && (rc = hk_cfg_path(c, hk_cfg_member(g, "keylog_dir"), s, &d->keylog_dir)) < 0))
        return rc;

    if ((rc = hk_cfg_u32(c, g, "cookie_threshold", 0, 1000000, &d->cookie_threshold)) < 0 ||
        (rc = hk_cfg_duration_ms(c, g, "retransmit_timeout", 100, 60000,
                                 &d->retransmit_timeout_ms)) < 0 ||
        (rc = hk_cfg_u32(c, g, "retransmit_tries", 0, 20, &d->retransmit_tries)) < 0 ||
        (rc = hk_cfg_duration(c, g, "half_open_timeout", 3600, &d->half_open_timeout)) < 0 ||
        (rc = hk_cfg_u16(c, g, "hand_over_notify", 40960, 65535, &d->hand_over_notify)) < 0 ||
        (rc = hk_cfg_bool(c, g, "fragmentation", &d->fragmentation)) < 0 ||
        (rc = hk_cfg_bool(c, g, "childless", &d->childless)) < 0 ||
        (rc = hk_cfg_bool(c, g, "tun_offload", &d->tun_offload)) < 0)
        return rc;
    int dpv = HK_DATAPLANE_AUTO;
    if ((rc = hk_cfg_enum(c, g, "dataplane", dataplane_names, &dpv)) < 0)
        return rc;
    d->dataplane = (enum hk_dataplane_kind)dpv;
    s = NULL;
    if ((rc = hk_cfg_string(c, g, "tun_name", &s)) < 0)
        return rc;
    if (s && (strlen(s) == 0 || strlen(s) > 15))
        return hk_cfg_fail(c, hk_cfg_member(g, "tun_name"),
                           "interface names have 1 to 15 characters");
    if (s && !(d->tun_name = strdup(s)))
        return HK_E_NOMEM;
    /* Mark 0 is every unmarked packet's; tables 253-255 are the kernel's default, main and
     * local tables, 0 is "unspecified". */
    if ((rc = hk_cfg_u32(c, g, "fwmark", 1, UINT32_MAX, &d->fwmark)) < 0 ||
        (rc = hk_cfg_u32(c, g, "route_table", 1, UINT32_MAX, &d->route_table)) < 0)
        return rc;
    if (d->route_table >= 253 && d->route_table <= 255)
        return hk_cfg_fail_member(c, g, "route_table",
                                  "%u is a kernel table (default, main or local)", d->route_table);
    if (d->half_open_timeout == 0)
        return hk_cfg_fail_member(c, g, "half_open_timeout", "must be at least 1 s");
    /* Unauthenticated traffic: limits on half-open SAs and on the size of a datagram (an IKE
     * message must fit 1280 octets of IPv6 with fragmentation, RFC 7383; a UDP datagram ends
     * at 65535). */
    if ((rc = hk_cfg_u32(c, g, "half_open_max", 0, 10000000, &d->half_open_max)) < 0 ||
        (rc = hk_cfg_u32(c, g, "half_open_per_address", 0, 1000000, &d->half_open_per_address)) <
            0 ||
        (rc = hk_cfg_u32(c, g, "max_packet", 1280, 65535, &d->max_packet)) < 0)
        return rc;
    if ((rc = parse_privdrop(c, g, d)) < 0)
        return rc;
    return 0;
}

void hk_cfg_free_daemon(struct hk_daemon_conf *d)
{
    free(d->tun_name);
    free(d->listen);
    free(d->control_socket);
    free(d->keylog_dir);
    free(d->user);
    free(d->user_at);
    free(d->group);
    free(d->group_at);
    memset(d, 0, sizeof(*d));
}

/* Steps a big-endian address of alen octets by +1 or -1 (no wrap checks: callers know). */
static void addr_step(uint8_t *a, size_t alen, int dir)
{
    for (size_t i = alen; i-- > 0;) {
        if (dir > 0 && a[i]++ != 0xff)
            return;
        if (dir < 0 && a[i]-- != 0x00)
            return;
    }
}

static const char *const pool_keys[] = {"addrs", "dns", NULL};

static int parse_pool(struct hk_cfg_ctx *c, const config_setting_t *g, struct hk_pool *p)
{
    const char *s = NULL;
    const config_setting_t *list;
    char msg[160];
    bool is_prefix;
    int n, rc;

    if (!(p->name = strdup(config_setting_name(g))))
        return HK_E_NOMEM;
    if ((rc = hk_cfg_check_members(c, g, pool_keys)) < 0 ||
        (rc = hk_cfg_string(c, g, "addrs", &s)) < 0)
        return rc;
    if (!s)
        return hk_cfg_fail_member(c, g, "addrs", "required setting missing");
    const config_setting_t *as = hk_cfg_member(g, "addrs");
    if (hk_ip_range_parse(s, &p->range, &is_prefix, msg, sizeof(msg)) < 0)
        return hk_cfg_fail(c, as, "%s", msg);
    p->block = p->range;
    /* A CIDR pool keeps its network address (and the IPv4 broadcast address) for itself. */
    int prefix = is_prefix ? hk_ip_range_prefix(&p->range) : -1;
    size_t alen = p->range.family == AF_INET ? 4 : 16;
    if (prefix >= 0 && prefix <= (int)alen * 8 - 2) {
        addr_step(p->range.start, alen, +1);
        if (p->range.family == AF_INET)
            addr_step(p->range.end, alen, -1);
    }

    if ((rc = hk_cfg_strings(c, g, "dns", &list, &n)) < 0)
        return rc;
    if (list) {
        if (!(p->dns = calloc((size_t)n, sizeof(*p->dns))))
            return HK_E_NOMEM;
        p->ndns = (size_t)n;
        for (int i = 0; i < n; i++) {
            const config_setting_t *e;
            if (hk_ip_parse(hk_cfg_strings_at(list, i, &e), &p->dns[i], msg, sizeof(msg)) < 0)
                return hk_cfg_fail(c, e, "%s", msg);
        }
    }
    return 0;
}

int hk_cfg_parse_pools(struct hk_cfg_ctx *c, const config_setting_t *g, struct hk_config *cfg)
{
    int n = g ? config_setting_length(g) : 0;
    int rc;
    if (n == 0)
        return 0;
    if (!(cfg->pools = calloc((size_t)n, sizeof(*cfg->pools))))
        return HK_E_NOMEM;
    cfg->npools = (size_t)n;
    for (int i = 0; i < n; i++) {
        const config_setting_t *pg = config_setting_get_elem(g, (unsigned)i);
        if (!config_setting_is_group(pg))
            return hk_cfg_fail(c, pg, "expected a pool group { addrs = ...; }");
        if ((rc = parse_pool(c, pg, &cfg->pools[i])) < 0)
            return rc;
        for (int j = 0; j < i; j++)
            if (hk_ip_range_overlaps(&cfg->pools[j].range, &cfg->pools[i].range))
                return hk_cfg_fail(c, hk_cfg_member(pg, "addrs"), "overlaps pool '%s'",
                                   cfg->pools[j].name);
    }
    return 0;
}

void hk_cfg_free_pool(struct hk_pool *p)
{
    free(p->name);
    free(p->dns);
    memset(p, 0, sizeof(*p));
}
