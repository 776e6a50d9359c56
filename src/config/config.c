/* Loading hiked.conf: libconfig reads the syntax, the conf_*.c parsers the meaning. */
#include "config/config.h"

#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "config/conf_lc.h"

static const char *const top_keys[] = {"daemon", "pools", "connections", NULL};

static int parse_root(struct hk_cfg_ctx *c, const config_setting_t *root, struct hk_config *cfg)
{
    const config_setting_t *g;
    int rc;

    if ((rc = hk_cfg_check_members(c, root, top_keys)) < 0 ||
        (rc = hk_cfg_group(c, root, "daemon", &g)) < 0 ||
        (rc = hk_cfg_parse_daemon(c, g, &cfg->daemon)) < 0 ||
        (rc = hk_cfg_group(c, root, "pools", &g)) < 0 || (rc = hk_cfg_parse_pools(c, g, cfg)) < 0 ||
        (rc = hk_cfg_group(c, root, "connections", &g)) < 0)
        return rc;

    int n = g ? config_setting_length(g) : 0;
    if (n == 0)
        return 0;
    if (!(cfg->conns = calloc((size_t)n, sizeof(*cfg->conns))))
        return HK_E_NOMEM;
    cfg->nconns = (size_t)n;
    for (int i = 0; i < n; i++) {
        const config_setting_t *cg = config_setting_get_elem(g, (unsigned)i);
        if (!config_setting_is_group(cg))
            return hk_cfg_fail(c, cg, "expected a connection group { ... }");
        if ((rc = hk_cfg_parse_conn(c, cg, cfg, &cfg->conns[i])) < 0)
            return rc;
    }
    return 0;
}

/* Wipes libconfig's copies of the PSKs, also when loading stopped before reading them. */
static void wipe_psk_strings(config_t *lc)
{
    const config_setting_t *conns = config_lookup(lc, "connections");
    int n = conns && config_setting_is_group(conns) ? config_setting_length(conns) : 0;
    for (int i = 0; i < n; i++) {
        const config_setting_t *conn = config_setting_get_elem(conns, (unsigned)i);
        const config_setting_t *psk =
            config_setting_is_group(conn) ? config_setting_get_member(conn, "psk") : NULL;
        if (psk && config_setting_type(psk) == CONFIG_TYPE_STRING) {
            char *v = (char *)config_setting_get_string(psk);
            hk_wipe(v, strlen(v));
        }
    }
}

/* Parses what libconfig read into a new hk_config. */
static int build(config_t *lc, struct hk_cfg_ctx *c, const char *path, struct hk_config **out)
{
    struct hk_config *cfg = calloc(1, sizeof(*cfg));
    int rc = HK_E_NOMEM;
    if (!cfg)
        goto fail;
    if (path && !(cfg->path = strdup(path)))
        goto fail;
    if ((rc = parse_root(c, config_root_setting(lc), cfg)) < 0)
        goto fail;
    *out = cfg;
    return 0;
fail:
    if (rc == HK_E_NOMEM && c->err && c->errlen)
        snprintf(c->err, c->errlen, "%s: out of memory", c->file);
    hk_config_free(cfg);
    return rc;
}

static int syntax_error(const config_t *lc, struct hk_cfg_ctx *c)
{
    const char *file = config_error_file(lc) ? config_error_file(lc) : c->file;
    if (c->err && c->errlen && config_error_type(lc) == CONFIG_ERR_FILE_IO)
        snprintf(c->err, c->errlen, "%s: cannot read the file", file);
    else if (c->err && c->errlen)
        snprintf(c->err, c->errlen, "%s:%d: %s", file, config_error_line(lc),
                 config_error_text(lc) ? config_error_text(lc) : "syntax error");
    return HK_E_CONFIG;
}

int hk_config_load_file(const char *path, struct hk_config **out, char *err, size_t errlen)
{
    struct hk_cfg_ctx c = {.err = err, .errlen = errlen, .file = path};
    char dir[PATH_MAX];
    config_t lc;
    int rc;

    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    FILE *f = fopen(path, "r"); /* for a precise message; libconfig only says "file I/O error" */
    if (!f) {
        int e = errno;
        if (err && errlen)
            snprintf(err, errlen, "%s: %s", path, strerror(e));
        return HK_E_CONFIG;
    }
    fclose(f);

    /* Relative names in the file (certificates, @include) are relative to its directory. */
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) : 1;
    if (dlen >= sizeof(dir))
        return HK_E_INVALID;
    memcpy(dir, slash ? path : ".", dlen);
    dir[dlen] = '\0';
    if (slash == path)
        strcpy(dir, "/");
    char *abs = realpath(dir, NULL);
    c.basedir = abs ? abs : dir;

    config_init(&lc);
    config_set_include_dir(&lc, c.basedir);
    if (!config_read_file(&lc, path))
        rc = syntax_error(&lc, &c);
    else
        rc = build(&lc, &c, path, out);
    wipe_psk_strings(&lc);
    config_destroy(&lc);
    free(abs);
    return rc;
}

int hk_config_load_string(const char *text, struct hk_config **out, char *err, size_t errlen)
{
    struct hk_cfg_ctx c = {.err = err, .errlen = errlen, .file = "<string>"};
    config_t lc;
    int rc;

    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!text)
        return HK_E_INVALID;
    config_init(&lc);
    if (!config_read_string(&lc, text))
        rc = syntax_error(&lc, &c);
    else
        rc = build(&lc, &c, NULL, out);
    wipe_psk_strings(&lc);
    config_destroy(&lc);
    return rc;
}

void hk_config_wipe_secrets(struct hk_config *cfg)
{
    for (size_t i = 0; cfg && i < cfg->nconns; i++)
        hk_secret_free(&cfg->conns[i].psk);
}

void hk_config_free(struct hk_config *cfg)
{
    if (!cfg)
        return;
    hk_config_wipe_secrets(cfg);
    for (size_t i = 0; i < cfg->nconns; i++)
        hk_cfg_free_conn(&cfg->conns[i]);
    free(cfg->conns);
    for (size_t i = 0; i < cfg->npools; i++)
        hk_cfg_free_pool(&cfg->pools[i]);
    free(cfg->pools);
    hk_cfg_free_daemon(&cfg->daemon);
    free(cfg->path);
    free(cfg);
}

const struct hk_conn *hk_config_find_conn(const struct hk_config *cfg, const char *name)
{
    for (size_t i = 0; cfg && name && i < cfg->nconns; i++)
        if (cfg->conns[i].name && strcmp(cfg->conns[i].name, name) == 0)
            return &cfg->conns[i];
    return NULL;
}

const struct hk_pool *hk_config_find_pool(const struct hk_config *cfg, const char *name)
{
    for (size_t i = 0; cfg && name && i < cfg->npools; i++)
        if (cfg->pools[i].name && strcmp(cfg->pools[i].name, name) == 0)
            return &cfg->pools[i];
    return NULL;
}

const struct hk_child_conf *hk_conn_find_child(const struct hk_conn *conn, const char *name)
{
    for (size_t i = 0; conn && name && i < conn->nchildren; i++)
        if (conn->children[i].name && strcmp(conn->children[i].name, name) == 0)
            return &conn->children[i];
    return NULL;
}
