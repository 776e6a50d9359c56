/* One entry of a connection's "children" section of hiked.conf. */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "config/conf_lc.h"

static const char *const child_keys[] = {
    "local_ts",   "remote_ts",     "esp",           "mode",
    "rekey_time", "life_time",     "rekey_jitter",  "rekey_bytes",
    "life_bytes", "rekey_packets", "life_packets",  "start_action",
    "dpd_action", "close_action",  "replay_window", NULL,
};
static const char *const mode_names[] = {"tunnel", "transport", NULL};
static const char *const start_names[] = {"none", "trap", "start", NULL};
static const char *const action_names[] = {"clear", "trap", "restart", NULL};

static int parse_ts(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name,
                    struct hk_ts_conf **out, size_t *nout)
{
    const config_setting_t *list;
    char msg[160];
    int n, rc;

    if ((rc = hk_cfg_strings(c, g, name, &list, &n)) < 0)
        return rc;
    if (!list) { /* the SA endpoint's own address */
        if (!(*out = calloc(1, sizeof(**out))))
            return HK_E_NOMEM;
        *nout = 1;
        return hk_ts_parse("%dynamic", *out, NULL, 0);
    }
    if (!(*out = calloc((size_t)n, sizeof(**out))))
        return HK_E_NOMEM;
    *nout = (size_t)n;
    for (int i = 0; i < n; i++) {
        const config_setting_t *e;
        const char *s = hk_cfg_strings_at(list, i, &e);
        if (hk_ts_parse(s, &(*out)[i], msg, sizeof(msg)) < 0)
            return hk_cfg_fail(c, e, "%s", msg);
        for (int j = 0; j < i; j++)
            if (memcmp(&(*out)[j], &(*out)[i], sizeof((*out)[i])) == 0)
                return hk_cfg_fail(c, e, "'%.100s' listed twice", s);
    }
    return 0;
}

/* A soft and a hard limit of one kind: the hard one defaults to soft + 10%, and must exceed
 * the soft one when both are set. */
static int limit_pair(struct hk_cfg_ctx *c, const config_setting_t *g, const char *soft_name,
                      uint64_t soft, const char *hard_name, uint64_t *hard, bool hard_set)
{
    if (!hard_set) {
        *hard = soft > UINT64_MAX - soft / 10 ? UINT64_MAX : soft + soft / 10;
        return 0;
    }
    if (soft && *hard && *hard <= soft)
        return hk_cfg_fail_member(c, g, hard_name, "%llu must be more than %s (%llu)",
                                  (unsigned long long)*hard, soft_name, (unsigned long long)soft);
    return 0;
}

static int parse_lifetime(struct hk_cfg_ctx *c, const config_setting_t *g,
                          struct hk_child_lifetime *l)
{
    uint64_t life_time = 0;
    int rc;

    l->rekey_time = HK_CONF_CHILD_REKEY_TIME;
    if ((rc = hk_cfg_duration(c, g, "rekey_time", HK_CONF_MAX_LIFETIME, &l->rekey_time)) < 0 ||
        (rc = hk_cfg_duration(c, g, "life_time", HK_CONF_MAX_LIFETIME, &l->life_time)) < 0 ||
        (rc = hk_cfg_bytes(c, g, "rekey_bytes", &l->rekey_bytes)) < 0 ||
        (rc = hk_cfg_bytes(c, g, "life_bytes", &l->life_bytes)) < 0 ||
        (rc = hk_cfg_uint(c, g, "rekey_packets", 0, INT64_MAX, &l->rekey_packets)) < 0 ||
        (rc = hk_cfg_uint(c, g, "life_packets", 0, INT64_MAX, &l->life_packets)) < 0)
        return rc;
    life_time = l->life_time;
    if ((rc = limit_pair(c, g, "rekey_time", l->rekey_time, "life_time", &life_time,
                         hk_cfg_has(g, "life_time"))) < 0 ||
        (rc = limit_pair(c, g, "rekey_bytes", l->rekey_bytes, "life_bytes", &l->life_bytes,
                         hk_cfg_has(g, "life_bytes"))) < 0 ||
        (rc = limit_pair(c, g, "rekey_packets", l->rekey_packets, "life_packets", &l->life_packets,
                         hk_cfg_has(g, "life_packets"))) < 0)
        return rc;
    l->life_time = (uint32_t)life_time; /* at most 1.1 * HK_CONF_MAX_LIFETIME */

    l->rekey_jitter = l->rekey_time / 10;
    if ((rc = hk_cfg_duration(c, g, "rekey_jitter", HK_CONF_MAX_LIFETIME, &l->rekey_jitter)) < 0)
        return rc;
    if (l->rekey_time && l->rekey_jitter >= l->rekey_time)
        return hk_cfg_fail_member(c, g, "rekey_jitter",
                                  "%u s must be shorter than rekey_time "
                                  "(%u s)",
                                  l->rekey_jitter, l->rekey_time);
    return 0;
}

int hk_cfg_parse_child(struct hk_cfg_ctx *c, const config_setting_t *g, const struct hk_conn *conn,
                       struct hk_child_conf *child)
{
    static const char *const esp_defaults[] = {HK_CONF_ESP_PROPOSALS};
    int v, rc;

    if (!(child->name = strdup(config_setting_name(g))))
        return HK_E_NOMEM;
    child->replay_window = HK_CONF_REPLAY_WINDOW;
    if ((rc = hk_cfg_check_members(c, g, child_keys)) < 0 ||
        (rc = parse_ts(c, g, "local_ts", &child->local_ts, &child->nlocal_ts)) < 0 ||
        (rc = parse_ts(c, g, "remote_ts", &child->remote_ts, &child->nremote_ts)) < 0 ||
        (rc = hk_cfg_parse_proposals(c, g, "esp", HK_PROPOSAL_ESP, esp_defaults,
                                     sizeof(esp_defaults) / sizeof(esp_defaults[0]), &child->esp,
                                     &child->nesp)) < 0 ||
        (rc = parse_lifetime(c, g, &child->lifetime)) < 0 ||
        (rc = hk_cfg_u32(c, g, "replay_window", 0, HK_CONF_MAX_REPLAY_WINDOW,
                         &child->replay_window)) < 0)
        return rc;

    v = HK_MODE_TUNNEL;
    if ((rc = hk_cfg_enum(c, g, "mode", mode_names, &v)) < 0)
        return rc;
    child->mode = (enum hk_ipsec_mode)v;
    v = (int)conn->start_action;
    if ((rc = hk_cfg_enum(c, g, "start_action", start_names, &v)) < 0)
        return rc;
    child->start_action = (enum hk_start_action)v;
    v = (int)conn->dpd_action;
    if ((rc = hk_cfg_enum(c, g, "dpd_action", action_names, &v)) < 0)
        return rc;
    child->dpd_action = (enum hk_sa_action)v;
    /* What a dead peer does is decided per IKE SA, by the connection's dpd_action. */
    if (child->dpd_action != conn->dpd_action)
        return hk_cfg_fail(c, hk_cfg_member(g, "dpd_action"),
                           "a dpd_action of its own per child is not implemented yet: set it on "
                           "the connection");
    v = (int)conn->close_action;
    if ((rc = hk_cfg_enum(c, g, "close_action", action_names, &v)) < 0)
        return rc;
    child->close_action = (enum hk_sa_action)v;
    if (child->close_action != HK_ACTION_CLEAR)
        return hk_cfg_fail(c, hk_cfg_member(g, "close_action"),
                           "\"%s\" is not implemented yet (a child the peer deletes is "
                           "removed): use \"clear\"",
                           hk_sa_action_name(child->close_action));
    return 0;
}

void hk_cfg_free_child(struct hk_child_conf *child)
{
    free(child->name);
    free(child->local_ts);
    free(child->remote_ts);
    free(child->esp);
    memset(child, 0, sizeof(*child));
}
