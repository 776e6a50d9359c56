/* One entry of the "connections" section of hiked.conf. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/err.h"
#include "config/conf_lc.h"

/* clang-format off */
static const char *const conn_keys[] = {
    "local_addrs", "remote_addrs",  "local_port",   "remote_port",  "local",       "remote",
    "psk",         "ike",           "rekey_time",   "reauth_time",  "life_time",   "rekey_jitter",
    "dpd_delay",   "dpd_action",    "start_action", "close_action", "request_vip", "pools",
    "mobike",      "fragmentation", "encap",        "children",
    "max_children", "max_ike_sas", "max_leases", /* limits of an authenticated peer */
    "context_keys",
    "clone", "max_clones", /* RFC 7791 */
    NULL,
};
/* clang-format on */
static const char *const local_keys[] = {"auth", "id", "cert", "key", "certs", "signature", NULL};
/* clang-format off */
static const char *const remote_keys[] = {"auth", "id", "ca", "cert",
                                          "signature", "eku", "min_rsa_bits", "min_ec_bits", NULL};
/* clang-format on */

static const char *const auth_names[] = {"", "psk", "pubkey", NULL}; /* enum hk_auth_conf */
static const char *const sig_names[] = {"rfc7427", "classic", NULL}; /* enum hk_sig_conf */
static const char *const start_names[] = {"none", "trap", "start", NULL};
static const char *const action_names[] = {"clear", "trap", "restart", NULL};
static const char *const vip_names[] = {"none", "ipv4", "ipv6", "both", NULL};
/* enum hk_context_keys, in order. */
static const char *const context_key_names[] = {"derived", "skeyseed", "dh", NULL};

const char *hk_start_action_name(enum hk_start_action a)
{
    return (unsigned)a <= HK_START_START ? start_names[a] : "?";
}

const char *hk_sa_action_name(enum hk_sa_action a)
{
    return (unsigned)a <= HK_ACTION_RESTART ? action_names[a] : "?";
}

/* A DNS name: labels of letters, digits and '-', at least one letter somewhere. */
static bool is_hostname(const char *s)
{
    size_t n = strlen(s), label = 0;
    bool alpha = false;
    if (n == 0 || n > 253)
        return false;
    for (const char *p = s; *p; p++) {
        if (*p == '.') {
            if (label == 0)
                return false;
            label = 0;
            continue;
        }
        if (!isalnum((unsigned char)*p) && *p != '-')
            return false;
        if (isalpha((unsigned char)*p))
            alpha = true;
        if (++label > 63)
            return false;
    }
    return alpha;
}

/* "10.0.0.1-10.0.0.x" is a broken range, even though it is also a valid DNS name. */
static bool starts_with_ip(const char *s)
{
    char buf[64];
    struct hk_ip ip;
    size_t n = strcspn(s, "-");
    if (n >= sizeof(buf) || !s[n])
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return hk_ip_parse(buf, &ip, NULL, 0) == 0;
}

static int parse_addrs(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name,
                       bool remote, struct hk_addr_conf **out, size_t *nout)
{
    const config_setting_t *list;
    char msg[160];
    int n, rc;

    if ((rc = hk_cfg_strings(c, g, name, &list, &n)) < 0)
        return rc;
    if (!(*out = calloc(list ? (size_t)n : 1, sizeof(**out))))
        return HK_E_NOMEM;
    *nout = list ? (size_t)n : 1;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e;
        const char *s = hk_cfg_strings_at(list, i, &e);
        struct hk_addr_conf *a = &(*out)[i];
        if (strcmp(s, "%any") == 0) {
            if (n > 1)
                return hk_cfg_fail(c, e, "%%any cannot be combined with other addresses");
            a->kind = HK_ADDR_ANY;
        } else if (hk_ip_range_parse(s, &a->range, NULL, msg, sizeof(msg)) == 0) {
            if (!remote && memcmp(a->range.start, a->range.end, 16) != 0)
                return hk_cfg_fail(c, e, "a local address must be a single address");
            a->kind = HK_ADDR_RANGE;
        } else if (!strpbrk(s, ":/") && !starts_with_ip(s) && is_hostname(s)) {
            if (!remote)
                return hk_cfg_fail(c, e, "a local address must be an IP address or %%any");
            a->kind = HK_ADDR_HOST;
            if (!(a->host = strdup(s)))
                return HK_E_NOMEM;
        } else {
            bool ipish = strpbrk(s, ":/-") || strspn(s, "0123456789.") == strlen(s);
            return hk_cfg_fail(c, e, "%s", ipish ? msg : "not an address or host name");
        }
    }
    return 0;
}

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = tolower(ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* The PSK: literal octets, or hex after "0x". Never echoes the value. */
static int parse_psk(struct hk_cfg_ctx *c, const config_setting_t *s, struct hk_secret **out)
{
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return hk_cfg_fail(c, s, "expected a string");
    const char *v = config_setting_get_string(s); /* libconfig's copy, wiped by the loader */
    size_t n = strlen(v);
    int rc = 0;
    if (n == 0) {
        rc = hk_cfg_fail(c, s, "empty pre-shared key");
    } else if (n > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
        size_t hex = n - 2;
        if (hex % 2)
            rc = hk_cfg_fail(c, s, "hex pre-shared key has an odd number of digits");
        else if (!(*out = hk_secret_new(hex / 2)))
            rc = HK_E_NOMEM;
        for (size_t i = 0; rc == 0 && i < hex / 2; i++) {
            int h = hexval((unsigned char)v[2 + 2 * i]), l = hexval((unsigned char)v[3 + 2 * i]);
            if (h < 0 || l < 0)
                rc = hk_cfg_fail(c, s, "hex pre-shared key has a non-hex digit");
            else
                (*out)->data[i] = (uint8_t)(h << 4 | l);
        }
    } else if (!(*out = hk_secret_dup((const uint8_t *)v, n))) {
        rc = HK_E_NOMEM;
    }
    if (rc < 0)
        hk_secret_free(out);
    return rc;
}

static int parse_id(struct hk_cfg_ctx *c, const config_setting_t *g, struct hk_id_conf *id)
{
    const char *s = NULL;
    char msg[160];
    int rc = hk_cfg_string(c, g, "id", &s);
    if (rc < 0 || !s)
        return rc;
    if ((rc = hk_id_parse(s, id, msg, sizeof(msg))) == HK_E_CONFIG)
        return hk_cfg_fail(c, hk_cfg_member(g, "id"), "%s", msg);
    return rc;
}

/* Settings that only make sense with one auth method. */
static int only_with(struct hk_cfg_ctx *c, const config_setting_t *g, const char *const *names,
                     const char *method)
{
    for (; *names; names++)
        if (hk_cfg_has(g, *names))
            return hk_cfg_fail(c, hk_cfg_member(g, *names), "only with auth = \"%s\"", method);
    return 0;
}

static int parse_local(struct hk_cfg_ctx *c, const config_setting_t *conn_g,
                       struct hk_local_auth_conf *l)
{
    static const char *const pubkey_only[] = {"cert", "key", "certs", "signature", NULL};
    const config_setting_t *g;
    const char *s;
    int v = 0, rc;

    if ((rc = hk_cfg_group(c, conn_g, "local", &g)) < 0)
        return rc;
    if (!g)
        return hk_cfg_fail_member(c, conn_g, "local.auth", "required setting missing");
    if ((rc = hk_cfg_check_members(c, g, local_keys)) < 0 ||
        (rc = hk_cfg_enum(c, g, "auth", auth_names + 1, &v)) < 0)
        return rc;
    if (!hk_cfg_has(g, "auth"))
        return hk_cfg_fail_member(c, g, "auth", "required setting missing (\"psk\" or \"pubkey\")");
    l->auth = (enum hk_auth_conf)(v + 1);
    if ((rc = parse_id(c, g, &l->id)) < 0)
        return rc;
    if (l->id.type == HK_ID_ANY)
        return hk_cfg_fail(c, hk_cfg_member(g, "id"), "%%any is only for the remote identity");
    if (l->auth == HK_AUTH_CONF_PSK)
        return only_with(c, g, pubkey_only, "pubkey");

    s = NULL;
    if ((rc = hk_cfg_string(c, g, "cert", &s)) < 0)
        return rc;
    if (!s)
        return hk_cfg_fail_member(c, g, "cert", "required with auth = \"pubkey\"");
    if ((rc = hk_cfg_path(c, hk_cfg_member(g, "cert"), s, &l->cert)) < 0)
        return rc;
    s = NULL;
    if ((rc = hk_cfg_string(c, g, "key", &s)) < 0)
        return rc;
    if (!s)
        return hk_cfg_fail_member(c, g, "key", "required with auth = \"pubkey\"");
    if ((rc = hk_cfg_path(c, hk_cfg_member(g, "key"), s, &l->key)) < 0 ||
        (rc = hk_cfg_paths(c, g, "certs", &l->certs, &l->ncerts)) < 0)
        return rc;
    v = HK_SIG_CONF_RFC7427;
    if ((rc = hk_cfg_enum(c, g, "signature", sig_names, &v)) < 0)
        return rc;
    l->signature = (enum hk_sig_conf)v;
    return 0;
}

/* ---- the peer's certificate policy and limits ---- */

/* remote.eku: "ike" (default), "any", or a list of purposes. */
static int parse_eku(struct hk_cfg_ctx *c, const config_setting_t *g, struct hk_remote_auth_conf *r)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"serverAuth", HK_EKU_CONF_SERVER_AUTH},
                 {"clientAuth", HK_EKU_CONF_CLIENT_AUTH},
                 {"ipsecIKE", HK_EKU_CONF_IPSEC_IKE},
                 {"anyExtendedKeyUsage", HK_EKU_CONF_ANY_EKU}};
    const config_setting_t *list;
    int n, rc;
    r->eku = HK_EKU_CONF_IKE;
    if ((rc = hk_cfg_strings(c, g, "eku", &list, &n)) < 0 || !list)
        return rc;
    r->eku = 0;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e;
        const char *s = hk_cfg_strings_at(list, i, &e);
        size_t k = 0;
        if (!strcmp(s, "ike") || !strcmp(s, "any")) {
            if (n > 1)
                return hk_cfg_fail(c, e, "\"%s\" cannot be combined with other purposes", s);
            r->eku_any = s[1] == 'n';
            r->eku = r->eku_any ? 0 : HK_EKU_CONF_IKE;
            return 0;
        }
        while (k < sizeof(names) / sizeof(names[0]) && strcmp(s, names[k].name))
            k++;
        if (k == sizeof(names) / sizeof(names[0]))
            return hk_cfg_fail(c, e,
                               "unknown purpose '%.40s' (\"ike\", \"any\", or a list of "
                               "serverAuth, clientAuth, ipsecIKE, anyExtendedKeyUsage)",
                               s);
        r->eku |= names[k].bit;
    }
    return 0;
}

static int parse_cert_policy(struct hk_cfg_ctx *c, const config_setting_t *g,
                             enum hk_sig_conf local_sig, struct hk_remote_auth_conf *r)
{
    int v = (int)local_sig, rc;
    r->min_rsa_bits = HK_CONF_MIN_RSA_BITS;
    r->min_ec_bits = HK_CONF_MIN_EC_BITS;
    if ((rc = hk_cfg_enum(c, g, "signature", sig_names, &v)) < 0 || (rc = parse_eku(c, g, r)) < 0 ||
        (rc = hk_cfg_u16(c, g, "min_rsa_bits", 1024, 16384, &r->min_rsa_bits)) < 0 ||
        (rc = hk_cfg_u16(c, g, "min_ec_bits", 160, 521, &r->min_ec_bits)) < 0)
        return rc;
    r->signature = (enum hk_sig_conf)v;
    return 0;
}

static int parse_limits(struct hk_cfg_ctx *c, const config_setting_t *g, struct hk_conn *conn)
{
    int rc;
    conn->max_children = HK_CONF_MAX_CHILDREN;
    conn->max_ike_sas = HK_CONF_MAX_IKE_SAS;
    conn->max_leases = HK_CONF_MAX_LEASES;
    if ((rc = hk_cfg_u32(c, g, "max_children", 0, UINT32_MAX, &conn->max_children)) < 0 ||
        (rc = hk_cfg_u32(c, g, "max_ike_sas", 0, UINT32_MAX, &conn->max_ike_sas)) < 0 ||
        (rc = hk_cfg_u32(c, g, "max_leases", 0, UINT32_MAX, &conn->max_leases)) < 0)
        return rc;
    return 0;
}

/* IKE SA cloning (RFC 7791): announced unless clone = false; a family of clones is bounded. */
static int parse_clone(struct hk_cfg_ctx *c, const config_setting_t *g, struct hk_conn *conn)
{
    int rc;
    conn->clone = true;
    conn->max_clones = HK_CONF_MAX_CLONES;
    if ((rc = hk_cfg_bool(c, g, "clone", &conn->clone)) < 0 ||
        (rc = hk_cfg_u32(c, g, "max_clones", 0, UINT32_MAX, &conn->max_clones)) < 0)
        return rc;
    return 0;
}

static int parse_remote(struct hk_cfg_ctx *c, const config_setting_t *conn_g,
                        const struct hk_local_auth_conf *local, struct hk_remote_auth_conf *r)
{
    static const char *const pubkey_only[] = {"ca",           "cert",        "signature", "eku",
                                              "min_rsa_bits", "min_ec_bits", NULL};
    enum hk_auth_conf local_auth = local->auth;
    const config_setting_t *g;
    const char *s = NULL;
    int v = (int)local_auth - 1, rc;

    r->id.type = HK_ID_ANY;
    if ((rc = hk_cfg_group(c, conn_g, "remote", &g)) < 0 ||
        (g && (rc = hk_cfg_check_members(c, g, remote_keys)) < 0) ||
        (rc = hk_cfg_enum(c, g, "auth", auth_names + 1, &v)) < 0)
        return rc;
    r->auth = (enum hk_auth_conf)(v + 1);
    if ((rc = parse_id(c, g, &r->id)) < 0)
        return rc;
    if (r->auth == HK_AUTH_CONF_PSK)
        return only_with(c, g, pubkey_only, "pubkey");

    if ((rc = hk_cfg_paths(c, g, "ca", &r->ca, &r->nca)) < 0 ||
        (rc = hk_cfg_string(c, g, "cert", &s)) < 0 ||
        (s && (rc = hk_cfg_path(c, hk_cfg_member(g, "cert"), s, &r->cert)) < 0))
        return rc;
    if (!r->nca && !r->cert)
        return hk_cfg_fail_member(c, g ? g : conn_g, g ? "ca" : "remote.ca",
                                  "required with auth = \"pubkey\" (or a pinned cert)");
    return parse_cert_policy(
        c, g, local->auth == HK_AUTH_CONF_PUBKEY ? local->signature : HK_SIG_CONF_RFC7427, r);
}

int hk_cfg_parse_proposals(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name,
                           int proto, const char *const *defaults, size_t ndefaults,
                           struct hk_proposal_conf **out, size_t *nout)
{
    const config_setting_t *list;
    char msg[160];
    int n, rc;

    if ((rc = hk_cfg_strings(c, g, name, &list, &n)) < 0)
        return rc;
    size_t count = list ? (size_t)n : ndefaults;
    if (!(*out = calloc(count, sizeof(**out))))
        return HK_E_NOMEM;
    *nout = count;
    for (size_t i = 0; i < count; i++) {
        const config_setting_t *e = NULL;
        const char *s = list ? hk_cfg_strings_at(list, (int)i, &e) : defaults[i];
        if (hk_proposal_parse(s, proto, &(*out)[i], msg, sizeof(msg)) < 0) {
            if (!e) /* a default that does not parse is a bug, not a config error */
                return HK_E_INVALID;
            return hk_cfg_fail(c, e, "%s", msg);
        }
        for (size_t j = 0; j < i; j++)
            if (memcmp(&(*out)[j], &(*out)[i], sizeof((*out)[i])) == 0)
                return hk_cfg_fail(c, e, "same proposal as [%zu]", j);
    }
    return 0;
}

/* rekey_time, reauth_time, life_time, rekey_jitter of the IKE SA. */
static int parse_ike_times(struct hk_cfg_ctx *c, const config_setting_t *g, struct hk_conn *conn)
{
    int rc;
    conn->rekey_time = HK_CONF_IKE_REKEY_TIME;
    if ((rc = hk_cfg_duration(c, g, "rekey_time", HK_CONF_MAX_LIFETIME, &conn->rekey_time)) < 0 ||
        (rc = hk_cfg_duration(c, g, "reauth_time", HK_CONF_MAX_LIFETIME, &conn->reauth_time)) < 0)
        return rc;
    /* Accepted settings must do what they say: re-authentication comes with the Child SA
     * hand-over, not yet. */
    if (conn->reauth_time)
        return hk_cfg_fail_member(c, g, "reauth_time",
                                  "re-authentication is not implemented yet: leave it 0 or out "
                                  "(rekey_time renews the keys)");
    uint32_t last = conn->rekey_time > conn->reauth_time ? conn->rekey_time : conn->reauth_time;
    uint32_t first =
        conn->rekey_time && conn->reauth_time
            ? (conn->rekey_time < conn->reauth_time ? conn->rekey_time : conn->reauth_time)
            : last;
    conn->life_time = last + last / 10;
    conn->rekey_jitter = first / 10;
    if ((rc = hk_cfg_duration(c, g, "life_time", HK_CONF_MAX_LIFETIME, &conn->life_time)) < 0 ||
        (rc = hk_cfg_duration(c, g, "rekey_jitter", HK_CONF_MAX_LIFETIME, &conn->rekey_jitter)) < 0)
        return rc;
    if (conn->life_time && conn->life_time <= last)
        return hk_cfg_fail_member(c, g, "life_time",
                                  "%u s must be longer than rekey_time and reauth_time (%u s)",
                                  conn->life_time, last);
    if (first && conn->rekey_jitter >= first)
        return hk_cfg_fail_member(c, g, "rekey_jitter",
                                  "%u s must be shorter than rekey_time and reauth_time (%u s)",
                                  conn->rekey_jitter, first);
    return 0;
}

static int parse_pools_ref(struct hk_cfg_ctx *c, const config_setting_t *g,
                           const struct hk_config *cfg, struct hk_conn *conn)
{
    const config_setting_t *list;
    int n, rc;
    if ((rc = hk_cfg_strings(c, g, "pools", &list, &n)) < 0 || !list)
        return rc;
    if (!(conn->pools = calloc((size_t)n, sizeof(*conn->pools))))
        return HK_E_NOMEM;
    conn->npools = (size_t)n;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e;
        const char *s = hk_cfg_strings_at(list, i, &e);
        if (!hk_config_find_pool(cfg, s))
            return hk_cfg_fail(c, e, "pool '%.64s' is not defined in pools", s);
        for (int j = 0; j < i; j++)
            if (strcmp(conn->pools[j], s) == 0)
                return hk_cfg_fail(c, e, "pool '%.64s' listed twice", s);
        if (!(conn->pools[i] = strdup(s)))
            return HK_E_NOMEM;
    }
    return 0;
}

static int parse_children(struct hk_cfg_ctx *c, const config_setting_t *g, struct hk_conn *conn)
{
    const config_setting_t *cg;
    int rc;
    if ((rc = hk_cfg_group(c, g, "children", &cg)) < 0 || !cg)
        return rc;
    int n = config_setting_length(cg);
    if (n == 0)
        return 0;
    if (!(conn->children = calloc((size_t)n, sizeof(*conn->children))))
        return HK_E_NOMEM;
    conn->nchildren = (size_t)n;
    for (int i = 0; i < n; i++) {
        const config_setting_t *child = config_setting_get_elem(cg, (unsigned)i);
        if (!config_setting_is_group(child))
            return hk_cfg_fail(c, child, "expected a child group { ... }");
        if ((rc = hk_cfg_parse_child(c, child, conn, &conn->children[i])) < 0)
            return rc;
    }
    return 0;
}

/* Cross-checks that need the whole connection. */
static int check_conn(struct hk_cfg_ctx *c, const config_setting_t *g, const struct hk_config *cfg,
                      const struct hk_conn *conn)
{
    bool uses_psk = conn->local.auth == HK_AUTH_CONF_PSK || conn->remote.auth == HK_AUTH_CONF_PSK;
    if (uses_psk && !conn->psk)
        return hk_cfg_fail_member(c, g, "psk", "required: a side authenticates with \"psk\"");
    if (!uses_psk && conn->psk)
        return hk_cfg_fail(c, hk_cfg_member(g, "psk"), "set, but no side uses auth = \"psk\"");

    if (conn->local_port != cfg->daemon.port && conn->local_port != cfg->daemon.natt_port)
        return hk_cfg_fail(c, hk_cfg_member(g, "local_port"),
                           "%u is neither daemon.port (%u) nor daemon.natt_port (%u)",
                           conn->local_port, cfg->daemon.port, cfg->daemon.natt_port);

    bool initiates = conn->start_action != HK_START_NONE;
    for (size_t i = 0; i < conn->nchildren; i++)
        initiates = initiates || conn->children[i].start_action != HK_START_NONE ||
                    conn->children[i].dpd_action == HK_ACTION_RESTART ||
                    conn->children[i].close_action == HK_ACTION_RESTART;
    const struct hk_addr_conf *r = &conn->remote_addrs[0];
    bool single = r->kind == HK_ADDR_HOST ||
                  (r->kind == HK_ADDR_RANGE && memcmp(r->range.start, r->range.end, 16) == 0);
    if (initiates && !single)
        return hk_cfg_fail_member(c, g, "remote_addrs",
                                  "the first entry must be one address or host name: this "
                                  "connection initiates (start, trap or restart actions)");

    if (conn->nchildren == 0) {
        if (!cfg->daemon.childless)
            return hk_cfg_fail_member(c, g, "children", "no children, and daemon.childless is off");
        static const char *const acts[] = {"start_action", "dpd_action", "close_action"};
        bool trap[] = {conn->start_action == HK_START_TRAP, conn->dpd_action == HK_ACTION_TRAP,
                       conn->close_action == HK_ACTION_TRAP};
        for (size_t i = 0; i < 3; i++)
            if (trap[i])
                return hk_cfg_fail(c, hk_cfg_member(g, acts[i]),
                                   "\"trap\" needs at least one child");
    }
    return 0;
}

int hk_cfg_parse_conn(struct hk_cfg_ctx *c, const config_setting_t *g, const struct hk_config *cfg,
                      struct hk_conn *conn)
{
    static const char *const ike_defaults[] = {HK_CONF_IKE_PROPOSALS};
    int v, rc;

    if (!(conn->name = strdup(config_setting_name(g))))
        return HK_E_NOMEM;
    conn->local_port = cfg->daemon.port;
    conn->remote_port = HK_CONF_PORT;
    conn->dpd_delay = HK_CONF_DPD_DELAY;
    conn->fragmentation = cfg->daemon.fragmentation;

    if ((rc = hk_cfg_check_members(c, g, conn_keys)) < 0 ||
        (rc = parse_addrs(c, g, "local_addrs", false, &conn->local_addrs, &conn->nlocal_addrs)) <
            0 ||
        (rc = parse_addrs(c, g, "remote_addrs", true, &conn->remote_addrs, &conn->nremote_addrs)) <
            0 ||
        (rc = hk_cfg_u16(c, g, "local_port", 1, 65535, &conn->local_port)) < 0 ||
        (rc = hk_cfg_u16(c, g, "remote_port", 1, 65535, &conn->remote_port)) < 0 ||
        (rc = parse_local(c, g, &conn->local)) < 0 ||
        (rc = parse_remote(c, g, &conn->local, &conn->remote)) < 0)
        return rc;
    if (hk_cfg_has(g, "psk") && (rc = parse_psk(c, hk_cfg_member(g, "psk"), &conn->psk)) < 0)
        return rc;
    if ((rc = hk_cfg_parse_proposals(c, g, "ike", HK_PROPOSAL_IKE, ike_defaults,
                                     sizeof(ike_defaults) / sizeof(ike_defaults[0]), &conn->ike,
                                     &conn->nike)) < 0 ||
        (rc = parse_ike_times(c, g, conn)) < 0 ||
        (rc = hk_cfg_duration(c, g, "dpd_delay", 86400, &conn->dpd_delay)) < 0)
        return rc;

    v = HK_START_NONE;
    if ((rc = hk_cfg_enum(c, g, "start_action", start_names, &v)) < 0)
        return rc;
    conn->start_action = (enum hk_start_action)v;
    v = HK_ACTION_CLEAR;
    if ((rc = hk_cfg_enum(c, g, "dpd_action", action_names, &v)) < 0)
        return rc;
    conn->dpd_action = (enum hk_sa_action)v;
    if (conn->dpd_action == HK_ACTION_TRAP)
        return hk_cfg_fail(c, hk_cfg_member(g, "dpd_action"),
                           "\"trap\" is not implemented yet: use \"clear\" or \"restart\"");
    v = HK_ACTION_CLEAR;
    if ((rc = hk_cfg_enum(c, g, "close_action", action_names, &v)) < 0)
        return rc;
    conn->close_action = (enum hk_sa_action)v;
    if (conn->close_action != HK_ACTION_CLEAR)
        return hk_cfg_fail(c, hk_cfg_member(g, "close_action"),
                           "\"%s\" is not implemented yet (a child the peer deletes is "
                           "removed): use \"clear\"",
                           hk_sa_action_name(conn->close_action));
    v = 0;
    if ((rc = hk_cfg_enum(c, g, "request_vip", vip_names, &v)) < 0)
        return rc;
    conn->request_vip4 = v == 1 || v == 3;
    conn->request_vip6 = v == 2 || v == 3;
    v = HK_CONTEXT_KEYS_DERIVED;
    if ((rc = hk_cfg_enum(c, g, "context_keys", context_key_names, &v)) < 0)
        return rc;
    conn->context_keys = (enum hk_context_keys)v;

    if ((rc = parse_pools_ref(c, g, cfg, conn)) < 0 ||
        (rc = hk_cfg_bool(c, g, "mobike", &conn->mobike)) < 0 ||
        (rc = hk_cfg_bool(c, g, "fragmentation", &conn->fragmentation)) < 0 ||
        (rc = hk_cfg_bool(c, g, "encap", &conn->encap)) < 0 ||
        (rc = parse_limits(c, g, conn)) < 0 || (rc = parse_clone(c, g, conn)) < 0)
        return rc;
    if ((rc = parse_children(c, g, conn)) < 0)
        return rc;
    return check_conn(c, g, cfg, conn);
}

void hk_cfg_free_conn(struct hk_conn *conn)
{
    free(conn->name);
    for (size_t i = 0; i < conn->nlocal_addrs; i++)
        free(conn->local_addrs[i].host);
    free(conn->local_addrs);
    for (size_t i = 0; i < conn->nremote_addrs; i++)
        free(conn->remote_addrs[i].host);
    free(conn->remote_addrs);
    hk_id_conf_free(&conn->local.id);
    free(conn->local.cert);
    free(conn->local.key);
    hk_cfg_free_strv(conn->local.certs, conn->local.ncerts);
    hk_id_conf_free(&conn->remote.id);
    hk_cfg_free_strv(conn->remote.ca, conn->remote.nca);
    free(conn->remote.cert);
    hk_secret_free(&conn->psk);
    free(conn->ike);
    hk_cfg_free_strv(conn->pools, conn->npools);
    for (size_t i = 0; i < conn->nchildren; i++)
        hk_cfg_free_child(&conn->children[i]);
    free(conn->children);
    memset(conn, 0, sizeof(*conn));
}
