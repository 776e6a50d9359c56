#include "config/conf_lc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"

/* "connections.office.children.net.esp[1]" */
static void setting_path(const config_setting_t *s, char *buf, size_t len)
{
    if (!s || config_setting_is_root(s)) {
        buf[0] = '\0';
        return;
    }
    setting_path(config_setting_parent(s), buf, len);
    size_t off = strlen(buf);
    if (off >= len - 1)
        return;
    if (config_setting_name(s))
        snprintf(buf + off, len - off, "%s%s", off ? "." : "", config_setting_name(s));
    else
        snprintf(buf + off, len - off, "[%d]", config_setting_index(s));
}

static int vfail(struct hk_cfg_ctx *c, const config_setting_t *s, const char *member,
                 const char *fmt, va_list ap)
{
    char path[256], msg[256];
    if (!c->err || !c->errlen)
        return HK_E_CONFIG;
    setting_path(s, path, sizeof(path));
    if (member) {
        size_t off = strlen(path);
        snprintf(path + off, sizeof(path) - off, "%s%s", off ? "." : "", member);
    }
    vsnprintf(msg, sizeof(msg), fmt, ap);
    const char *file = s && config_setting_source_file(s) ? config_setting_source_file(s) : c->file;
    unsigned line = s ? config_setting_source_line(s) : 0;
    if (line)
        snprintf(c->err, c->errlen, "%s:%u: %s: %s", file, line, path, msg);
    else
        snprintf(c->err, c->errlen, "%s: %s: %s", file, path[0] ? path : "(top)", msg);
    return HK_E_CONFIG;
}

int hk_cfg_fail(struct hk_cfg_ctx *c, const config_setting_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(c, s, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

int hk_cfg_fail_member(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name,
                       const char *fmt, ...)
{
    const config_setting_t *m = hk_cfg_member(g, name); /* blame its own line if it is there */
    va_list ap;
    va_start(ap, fmt);
    int rc = m ? vfail(c, m, NULL, fmt, ap) : vfail(c, g, name, fmt, ap);
    va_end(ap);
    return rc;
}

/* Edit distance, capped: enough to suggest a name for a typo. */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t row[64];
    if (la >= 63 || lb >= 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

int hk_cfg_check_members(struct hk_cfg_ctx *c, const config_setting_t *g, const char *const *names)
{
    int n = config_setting_length(g);
    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(m);
        const char *near = NULL;
        bool known = false;
        for (const char *const *k = names; *k && !known; k++) {
            known = strcmp(*k, name) == 0;
            if (!near && distance(*k, name) <= 2)
                near = *k;
        }
        if (known)
            continue;
        if (near)
            return hk_cfg_fail(c, m, "unknown setting (did you mean '%s'?)", near);
        return hk_cfg_fail(c, m, "unknown setting");
    }
    return 0;
}

const config_setting_t *hk_cfg_member(const config_setting_t *g, const char *name)
{
    return g ? config_setting_get_member(g, name) : NULL;
}

bool hk_cfg_has(const config_setting_t *g, const char *name)
{
    return hk_cfg_member(g, name) != NULL;
}

static const char *type_name(const config_setting_t *s)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_GROUP:
        return "a group";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        return "an integer";
    case CONFIG_TYPE_FLOAT:
        return "a floating-point number";
    case CONFIG_TYPE_STRING:
        return "a string";
    case CONFIG_TYPE_BOOL:
        return "a boolean";
    case CONFIG_TYPE_ARRAY:
    case CONFIG_TYPE_LIST:
        return "a list";
    }
    return "something else";
}

int hk_cfg_group(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name,
                 const config_setting_t **out)
{
    const config_setting_t *s = hk_cfg_member(g, name);
    *out = NULL;
    if (!s)
        return 0;
    if (!config_setting_is_group(s))
        return hk_cfg_fail(c, s, "expected a group { ... }, found %s", type_name(s));
    *out = s;
    return 0;
}

int hk_cfg_string(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name,
                  const char **out)
{
    const config_setting_t *s = hk_cfg_member(g, name);
    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_STRING)
        return hk_cfg_fail(c, s, "expected a string, found %s", type_name(s));
    *out = config_setting_get_string(s);
    return 0;
}

int hk_cfg_bool(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name, bool *out)
{
    const config_setting_t *s = hk_cfg_member(g, name);
    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return hk_cfg_fail(c, s, "expected true or false, found %s", type_name(s));
    *out = config_setting_get_bool(s) != 0;
    return 0;
}

int hk_cfg_uint(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name, uint64_t min,
                uint64_t max, uint64_t *out)
{
    const config_setting_t *s = hk_cfg_member(g, name);
    if (!s)
        return 0;
    if (config_setting_type(s) != CONFIG_TYPE_INT && config_setting_type(s) != CONFIG_TYPE_INT64)
        return hk_cfg_fail(c, s, "expected an integer, found %s", type_name(s));
    long long v = config_setting_get_int64(s);
    if (v < 0 || (uint64_t)v < min || (uint64_t)v > max)
        return hk_cfg_fail(c, s, "%lld is out of range (%llu..%llu)", v, (unsigned long long)min,
                           (unsigned long long)max);
    *out = (uint64_t)v;
    return 0;
}

int hk_cfg_u32(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name, uint32_t min,
               uint32_t max, uint32_t *out)
{
    uint64_t v = *out;
    int rc = hk_cfg_uint(c, g, name, min, max, &v);
    *out = (uint32_t)v;
    return rc;
}

int hk_cfg_u16(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name, uint16_t min,
               uint16_t max, uint16_t *out)
{
    uint64_t v = *out;
    int rc = hk_cfg_uint(c, g, name, min, max, &v);
    *out = (uint16_t)v;
    return rc;
}

/* "N" followed by a unit from the table; the value times the unit's factor, or -1. */
struct unit {
    const char *name;
    uint64_t factor;
};

static int parse_scaled(const char *s, const struct unit *units, uint64_t *out)
{
    size_t digits = strspn(s, "0123456789");
    if (digits == 0 || digits > 15)
        return -1;
    uint64_t n = strtoull(s, NULL, 10);
    for (const struct unit *u = units; u->name; u++) {
        if (strcasecmp(s + digits, u->name) == 0) {
            if (n > UINT64_MAX / u->factor)
                return -1;
            *out = n * u->factor;
            return 0;
        }
    }
    return -1;
}

/* Reads a duration setting in milliseconds. */
static int duration_ms(struct hk_cfg_ctx *c, const config_setting_t *s, uint64_t *ms)
{
    static const struct unit units[] = {
        {"", 1000},       {"ms", 1},          {"s", 1000},
        {"m", 60 * 1000}, {"h", 3600 * 1000}, {"d", 24 * 3600 * 1000ULL},
        {NULL, 0},
    };
    int t = config_setting_type(s);
    if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
        long long v = config_setting_get_int64(s);
        if (v < 0 || v > (long long)(UINT64_MAX / 1000 / 2))
            return hk_cfg_fail(c, s, "negative or huge duration %lld", v);
        *ms = (uint64_t)v * 1000;
        return 0;
    }
    if (t != CONFIG_TYPE_STRING)
        return hk_cfg_fail(c, s,
                           "expected a duration (seconds, or a string like \"30s\", "
                           "\"15m\", \"4h\", \"1d\"), found %s",
                           type_name(s));
    if (parse_scaled(config_setting_get_string(s), units, ms) < 0)
        return hk_cfg_fail(c, s, "bad duration '%.32s' (a number with ms, s, m, h or d)",
                           config_setting_get_string(s));
    return 0;
}

int hk_cfg_duration(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name,
                    uint32_t max_s, uint32_t *out_s)
{
    const config_setting_t *s = hk_cfg_member(g, name);
    uint64_t ms;
    int rc;
    if (!s)
        return 0;
    if ((rc = duration_ms(c, s, &ms)) < 0)
        return rc;
    if (ms % 1000)
        return hk_cfg_fail(c, s, "must be whole seconds");
    if (ms / 1000 > max_s)
        return hk_cfg_fail(c, s, "%llu s is too long (at most %u s)",
                           (unsigned long long)(ms / 1000), max_s);
    *out_s = (uint32_t)(ms / 1000);
    return 0;
}

int hk_cfg_duration_ms(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name,
                       uint32_t min_ms, uint32_t max_ms, uint32_t *out_ms)
{
    const config_setting_t *s = hk_cfg_member(g, name);
    uint64_t ms;
    int rc;
    if (!s)
        return 0;
    if ((rc = duration_ms(c, s, &ms)) < 0)
        return rc;
    if (ms < min_ms || ms > max_ms)
        return hk_cfg_fail(c, s, "%llu ms is out of range (%u..%u ms)", (unsigned long long)ms,
                           min_ms, max_ms);
    *out_ms = (uint32_t)ms;
    return 0;
}

int hk_cfg_bytes(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name, uint64_t *out)
{
    static const struct unit units[] = {
        {"", 1},           {"k", 1ULL << 10}, {"m", 1ULL << 20},
        {"g", 1ULL << 30}, {"t", 1ULL << 40}, {NULL, 0},
    };
    const config_setting_t *s = hk_cfg_member(g, name);
    if (!s)
        return 0;
    int t = config_setting_type(s);
    if (t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64) {
        long long v = config_setting_get_int64(s);
        if (v < 0)
            return hk_cfg_fail(c, s, "negative byte count %lld", v);
        *out = (uint64_t)v;
        return 0;
    }
    if (t != CONFIG_TYPE_STRING)
        return hk_cfg_fail(c, s,
                           "expected a byte count (an integer, or a string like \"4G\"), "
                           "found %s",
                           type_name(s));
    if (parse_scaled(config_setting_get_string(s), units, out) < 0)
        return hk_cfg_fail(c, s, "bad byte count '%.32s' (a number with K, M, G or T)",
                           config_setting_get_string(s));
    return 0;
}

int hk_cfg_enum(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name,
                const char *const *names, int *out)
{
    const char *v = NULL;
    int rc = hk_cfg_string(c, g, name, &v);
    if (rc < 0 || !v)
        return rc;
    for (int i = 0; names[i]; i++) {
        if (strcmp(names[i], v) == 0) {
            *out = i;
            return 0;
        }
    }
    char allowed[128] = "";
    for (int i = 0; names[i]; i++) {
        size_t off = strlen(allowed);
        snprintf(allowed + off, sizeof(allowed) - off, "%s\"%s\"", i ? ", " : "", names[i]);
    }
    return hk_cfg_fail(c, hk_cfg_member(g, name), "unknown value '%.32s' (one of %s)", v, allowed);
}

int hk_cfg_strings(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name,
                   const config_setting_t **list, int *n)
{
    const config_setting_t *s = hk_cfg_member(g, name);
    *list = NULL;
    *n = 0;
    if (!s)
        return 0;
    int t = config_setting_type(s);
    if (t == CONFIG_TYPE_STRING) {
        *list = s;
        *n = 1;
        return 0;
    }
    if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST)
        return hk_cfg_fail(c, s, "expected a string or a list of strings, found %s", type_name(s));
    int len = config_setting_length(s);
    if (len == 0)
        return hk_cfg_fail(c, s, "empty list (leave the setting out for its default)");
    for (int i = 0; i < len; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return hk_cfg_fail(c, e, "expected a string, found %s", type_name(e));
    }
    *list = s;
    *n = len;
    return 0;
}

const char *hk_cfg_strings_at(const config_setting_t *list, int i, const config_setting_t **elem)
{
    const config_setting_t *e = list;
    if (config_setting_type(list) != CONFIG_TYPE_STRING)
        e = config_setting_get_elem(list, (unsigned)i);
    if (elem)
        *elem = e;
    return config_setting_get_string(e);
}

int hk_cfg_path(struct hk_cfg_ctx *c, const config_setting_t *s, const char *value, char **out)
{
    if (value[0] == '\0')
        return hk_cfg_fail(c, s, "empty file name");
    if (value[0] == '/' || !c->basedir) {
        *out = strdup(value);
    } else {
        size_t n = strlen(c->basedir) + 1 + strlen(value) + 1;
        if ((*out = malloc(n)))
            snprintf(*out, n, "%s/%s", c->basedir, value);
    }
    return *out ? 0 : HK_E_NOMEM;
}

int hk_cfg_paths(struct hk_cfg_ctx *c, const config_setting_t *g, const char *name, char ***out,
                 size_t *n)
{
    const config_setting_t *list;
    int len, rc;
    if ((rc = hk_cfg_strings(c, g, name, &list, &len)) < 0 || !list)
        return rc;
    char **v = calloc((size_t)len, sizeof(*v));
    if (!v)
        return HK_E_NOMEM;
    for (int i = 0; i < len; i++) {
        const config_setting_t *e;
        const char *s = hk_cfg_strings_at(list, i, &e);
        if ((rc = hk_cfg_path(c, e, s, &v[i])) < 0) {
            hk_cfg_free_strv(v, (size_t)i);
            return rc;
        }
    }
    *out = v;
    *n = (size_t)len;
    return 0;
}

void hk_cfg_free_strv(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}
