/*
 * Internal to src/daemon/config: typed, checked reads of libconfig settings. Every helper
 * leaves *out alone when the setting is absent (so callers preset defaults) and, on a bad
 * value, writes "FILE:LINE: PATH: message" into the context's buffer and returns HK_E_CONFIG.
 */
#ifndef HIKE_CONFIG_CONF_LC_H
#define HIKE_CONFIG_CONF_LC_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct hk_cfg_ctx {
    char *err;
    size_t errlen;
    const char *file;    /* for settings without a source file (text input) */
    const char *basedir; /* relative paths are taken from here; NULL keeps them */
};

/* Reports a problem with setting s. */
int hk_cfg_fail(struct hk_cfg_ctx *c, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Reports a problem with member name of group g: at its line when it is there, else at g's. */
int hk_cfg_fail_member(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Rejects every member of group g whose name is not in the NULL-terminated list. */
int hk_cfg_check_members(struct hk_cfg_ctx *c, const config_setting_t *g, const char *const *names);
bool hk_cfg_has(const config_setting_t *g, const char *name);
/* Member name of g, or NULL (also when g is NULL). */
const config_setting_t *hk_cfg_member(const config_setting_t *g, const char *name);

/* A sub-group; *out is NULL when absent. */
int hk_cfg_group(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name,
                 const config_setting_t **out);
int hk_cfg_string(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name,
                  const char **out);
int hk_cfg_bool(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name, bool *out);
int hk_cfg_uint(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name, uint64_t min,
                uint64_t max, uint64_t *out);
int hk_cfg_u32(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name, uint32_t min,
               uint32_t max, uint32_t *out);
int hk_cfg_u16(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name, uint16_t min,
               uint16_t max, uint16_t *out);
/* A duration: an integer (seconds) or a string "N" + ms, s, m, h or d. */
int hk_cfg_duration(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name,
                    uint32_t max_s, uint32_t *out_s);
int hk_cfg_duration_ms(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name,
                       uint32_t min_ms, uint32_t max_ms, uint32_t *out_ms);
/* A byte count: an integer or a string "N" + K, M, G or T (powers of 1024). */
int hk_cfg_bytes(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name, uint64_t *out);
/* A string that must be one of the NULL-terminated names; *out is its index. */
int hk_cfg_enum(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name,
                const char *const *names, int *out);

/* A list or array of strings, or a single string taken as a one-element list. *list is NULL
 * and *n 0 when absent; an empty list is an error. */
int hk_cfg_strings(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name,
                   const config_setting_t **list, int *n);
/* Element i of what hk_cfg_strings returned, and the setting to blame for it. */
const char *hk_cfg_strings_at(const config_setting_t *list, int i, const config_setting_t **elem);

/* A file name from setting s, made absolute against the context's basedir. */
int hk_cfg_path(struct hk_cfg_ctx *c, const config_setting_t *s, const char *value, char **out);
/* The same for every string of a hk_cfg_strings list. */
int hk_cfg_paths(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name, char ***out,
                 size_t *n);

/* The parsers of the groups (conf_daemon.c, conf_conn.c, conf_child.c). */
int hk_cfg_parse_daemon(struct hk_cfg_ctx *c, const config_setting_t *g, struct hk_daemon_conf *d);
int hk_cfg_parse_pools(struct hk_cfg_ctx *c, const config_setting_t *g, struct hk_config *cfg);
int hk_cfg_parse_conn(struct hk_cfg_ctx *c, const config_setting_t *g, const struct hk_config *cfg,
                      struct hk_conn *conn);
int hk_cfg_parse_child(struct hk_cfg_ctx *c, const config_setting_t *g, const struct hk_conn *conn,
                       struct hk_child_conf *child);
int hk_cfg_parse_proposals(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name,
                           int proto, const char *const *defaults, size_t ndefaults,
                           struct hk_proposal_conf **out, size_t *n);

void hk_cfg_free_daemon(struct hk_daemon_conf *d);
void hk_cfg_free_pool(struct hk_pool *p);
void hk_cfg_free_conn(struct hk_conn *conn);
void hk_cfg_free_child(struct hk_child_conf *child);
void hk_cfg_free_strv(char **v, size_t n);

#endif
