/* Commands that change state: initiate, terminate, rekey, clone, migrate, reload, log-level. */
#include "daemon/control_internal.h"

#include "common/err.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/* A required or optional string member; NULL with err set when it has the wrong type. */
static const char *get_string(const json_t *req, const char *key, bool required,
                              struct ctl_err *err)
{
    const json_t *v = json_object_get(req, key);
    if (!v) {
        if (required)
            ctl_fail(err, "missing \"%s\"", key);
        return NULL;
    }
    if (!json_is_string(v) || !json_string_length(v)) {
        ctl_fail(err, "\"%s\" must be a non-empty string", key);
        return NULL;
    }
    return json_string_value(v);
}

/* The "ike" member: an IKE SA id (a positive integer). 0 when absent or wrong. */
static uint64_t get_ike_id(const json_t *req, struct ctl_err *err)
{
    const json_t *v = json_object_get(req, "ike");
    if (!v) {
        ctl_fail(err, "missing \"ike\" (an IKE SA id)");
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        ctl_fail(err, "\"ike\" must be a positive integer (an IKE SA id)");
        return 0;
    }
    return (uint64_t)json_integer_value(v);
}

static bool refuse_when_stopping(struct hiked *d, struct ctl_err *err)
{
    if (!d->stopping)
        return false;
    ctl_fail(err, "hiked is stopping");
    return true;
}

json_t *ctl_initiate(struct hiked *d, const struct hiked_control_view *v, const json_t *req,
                     struct ctl_err *err)
{
    (void)v;
    const char *name = get_string(req, "conn", true, err);
    if (!name || refuse_when_stopping(d, err))
        return NULL;
    if (!hk_config_find_conn(d->cfg, name))
        return ctl_fail(err, "unknown connection '%.64s'", name);
    uint64_t id = 0;
    int rc = ike_engine_initiate(&d->engine, name, &id);
    hiked_kick(d);
    if (rc)
        return ctl_fail(err, "cannot initiate '%s': %s", name, hk_strerror(rc));
    hk_info(&d->log, "control: initiating %s: IKE SA %llu", name, (unsigned long long)id);
    return json_pack("{s:s, s:I}", "conn", name, "ike", (json_int_t)id);
}

static json_t *terminate_one(struct hiked *d, uint64_t id, struct ctl_err *err)
{
    const struct ike_sa *sa = ike_engine_sa(&d->engine, id);
    if (!sa)
        return ctl_fail(err, "no IKE SA with id %llu", (unsigned long long)id);
    json_t *r = json_pack("{s:s, s:[I]}", "conn", sa->conn, "terminated", (json_int_t)id);
    int rc = ike_engine_terminate(&d->engine, id);
    hiked_kick(d);
    if (rc) {
        json_decref(r);
        return ctl_fail(err, "cannot terminate IKE SA %llu: %s", (unsigned long long)id,
                        hk_strerror(rc));
    }
    return r;
}

static json_t *terminate_conn(struct hiked *d, const char *name, struct ctl_err *err)
{
    /* Collect first: terminating may free SAs, and the map must not change under next(). */
    size_t n = ike_engine_sa_count(&d->engine), k = 0, pos = 0;
    uint64_t *ids = calloc(n ? n : 1, sizeof(*ids));
    json_t *done = json_array();
    if (!ids || !done) {
        free(ids);
        json_decref(done);
        return ctl_fail(err, "out of memory");
    }
    const struct ike_sa *sa;
    while (k < n && (sa = ike_engine_next_sa(&d->engine, &pos)))
        if (!strcmp(sa->conn, name))
            ids[k++] = sa->id;
    if (!k && !hk_config_find_conn(d->cfg, name)) {
        free(ids);
        json_decref(done);
        return ctl_fail(err, "unknown connection '%.64s'", name);
    }
    for (size_t i = 0; i < k; i++)
        if (!ike_engine_terminate(&d->engine, ids[i]))
            json_array_append_new(done, json_integer((json_int_t)ids[i]));
    free(ids);
    hiked_kick(d);
    hk_info(&d->log, "control: terminating %s: %zu IKE SAs", name, json_array_size(done));
    return json_pack("{s:s, s:o}", "conn", name, "terminated", done);
}

json_t *ctl_terminate(struct hiked *d, const struct hiked_control_view *v, const json_t *req,
                      struct ctl_err *err)
{
    (void)v;
    bool has_ike = json_object_get(req, "ike"), has_conn = json_object_get(req, "conn");
    if (has_ike == has_conn)
        return ctl_fail(err, "terminate needs exactly one of \"ike\" and \"conn\"");
    if (has_ike) {
        uint64_t id = get_ike_id(req, err);
        return id ? terminate_one(d, id, err) : NULL;
    }
    const char *name = get_string(req, "conn", true, err);
    return name ? terminate_conn(d, name, err) : NULL;
}

json_t *ctl_rekey(struct hiked *d, const struct hiked_control_view *v, const json_t *req,
                  struct ctl_err *err)
{
    (void)v;
    uint64_t id = get_ike_id(req, err);
    if (!id)
        return NULL;
    if (refuse_when_stopping(d, err))
        return NULL;
    /* IKE SA and Child SA ids come from one counter: the id says which to rekey. */
    int rc;
    const char *what;
    if (ike_engine_sa(&d->engine, id)) {
        rc = ike_engine_rekey(&d->engine, id);
        what = "IKE SA";
    } else if (ike_engine_child(&d->engine, id)) {
        rc = ike_engine_rekey_child(&d->engine, id);
        what = "Child SA";
    } else {
        return ctl_fail(err, "no IKE SA or Child SA with id %llu", (unsigned long long)id);
    }
    if (rc == HK_E_STATE)
        return ctl_fail(err, "%s %llu is not established", what, (unsigned long long)id);
    if (rc)
        return ctl_fail(err, "cannot rekey %s %llu: %s", what, (unsigned long long)id,
                        hk_strerror(rc));
    hiked_kick(d);
    hk_info(&d->log, "control: rekeying %s %llu", what, (unsigned long long)id);
    return json_pack("{s:I, s:s}", "ike", (json_int_t)id, "rekeying", what);
}

/* RFC 7791: a parallel IKE SA from an established one, without a new authentication. */
json_t *ctl_clone(struct hiked *d, const struct hiked_control_view *v, const json_t *req,
                  struct ctl_err *err)
{
    (void)v;
    uint64_t id = get_ike_id(req, err), nid = 0;
    if (!id || refuse_when_stopping(d, err))
        return NULL;
    const struct ike_sa *sa = ike_engine_sa(&d->engine, id);
    if (!sa)
        return ctl_fail(err, "no IKE SA with id %llu", (unsigned long long)id);
    unsigned long long u = (unsigned long long)id;
    int rc = ike_engine_clone(&d->engine, id, &nid);
    hiked_kick(d);
    switch (rc) {
    case HK_OK:
        break;
    case HK_E_STATE:
        return ctl_fail(err, "cannot clone IKE SA %llu: not established, or being rekeyed", u);
    case HK_E_CONFIG:
        return ctl_fail(err, "cannot clone IKE SA %llu: connection '%s' has clone = false", u,
                        sa->conn);
    case HK_E_UNSUPPORTED:
        return ctl_fail(err,
                        "cannot clone IKE SA %llu: peer did not announce CLONE_IKE_SA_SUPPORTED "
                        "(RFC 7791)",
                        u);
    case HK_E_OVERFLOW:
        return ctl_fail(err, "cannot clone IKE SA %llu: its clone family is at max_clones", u);
    case HK_E_AGAIN:
        return ctl_fail(err,
                        "cannot clone IKE SA %llu: the peer answered NO_ADDITIONAL_SAS; no new "
                        "clone until an IKE SA of the family is deleted",
                        u);
    default:
        return ctl_fail(err, "cannot clone IKE SA %llu: %s", u, hk_strerror(rc));
    }
    hk_info(&d->log, "control: cloning IKE SA %llu%s", u, nid ? "" : " (queued)");
    /* "clone": the new IKE SA's id, 0 while the request waits for the SA's window. */
    return json_pack("{s:I, s:I}", "ike", (json_int_t)id, "clone", (json_int_t)nid);
}

/* An IPv4 or IPv6 address member (no port); false with err set when missing or wrong. */
static bool get_addr(const json_t *req, const char *key, bool required,
                     struct sockaddr_storage *out, bool *present, struct ctl_err *err)
{
    *present = false;
    if (!json_object_get(req, key)) {
        if (required)
            ctl_fail(err, "missing \"%s\" (an IP address)", key);
        return !required;
    }
    const char *s = get_string(req, key, true, err);
    if (!s)
        return false;
    memset(out, 0, sizeof(*out));
    struct sockaddr_in *v4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, s, &v4->sin_addr) == 1)
        v4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, s, &v6->sin6_addr) == 1)
        v6->sin6_family = AF_INET6;
    else {
        ctl_fail(err, "\"%s\": '%.64s' is not an IP address", key, s);
        return false;
    }
    *present = true;
    return true;
}

json_t *ctl_migrate(struct hiked *d, const struct hiked_control_view *v, const json_t *req,
                    struct ctl_err *err)
{
    (void)v;
    struct sockaddr_storage local, remote;
    bool has_local, has_remote;
    uint64_t id = get_ike_id(req, err);
    if (!id || !get_addr(req, "local", true, &local, &has_local, err) ||
        !get_addr(req, "remote", false, &remote, &has_remote, err) || refuse_when_stopping(d, err))
        return NULL;
    int rc = ike_engine_migrate(&d->engine, id, &local, has_remote ? &remote : NULL);
    unsigned long long n = (unsigned long long)id;
    switch (rc) {
    case HK_OK:
        break;
    case HK_E_NOTFOUND:
        return ctl_fail(err, "no IKE SA with id %llu", n);
    case HK_E_STATE:
        return ctl_fail(err,
                        "IKE SA %llu cannot move: not established, or we are not its original "
                        "initiator (RFC 4555 3.2)",
                        n);
    case HK_E_UNSUPPORTED:
        return ctl_fail(err, "IKE SA %llu cannot move: MOBIKE was not negotiated with the peer", n);
    case HK_E_INVALID:
        return ctl_fail(err, "IKE SA %llu: the addresses are not of the SA's address family", n);
    default:
        return ctl_fail(err, "cannot move IKE SA %llu: %s", n, hk_strerror(rc));
    }
    hiked_kick(d);
    struct ike_sa *sa = ike_engine_sa(&d->engine, id);
    char l[64] = "", r[64] = "";
    if (sa) {
        ctl_addr_port(&sa->local, l, sizeof(l));
        ctl_addr_port(&sa->remote, r, sizeof(r));
    }
    hk_info(&d->log, "control: moving IKE SA %llu to %s - %s", n, l, r);
    return json_pack("{s:I, s:s, s:s}", "ike", (json_int_t)id, "local", l, "remote", r);
}

json_t *ctl_reload(struct hiked *d, const struct hiked_control_view *v, const json_t *req,
                   struct ctl_err *err)
{
    (void)v, (void)req;
    char msg[sizeof(err->msg) - 32];
    if (refuse_when_stopping(d, err))
        return NULL;
    hk_info(&d->log, "control: reloading configuration");
    if (hiked_reload(d, msg, sizeof(msg)))
        return ctl_fail(err, "reload failed, the running configuration stays: %s", msg);
    return json_pack("{s:s, s:I}", "config", d->config_path, "connections",
                     (json_int_t)d->cfg->nconns);
}

json_t *ctl_log_level(struct hiked *d, const struct hiked_control_view *v, const json_t *req,
                      struct ctl_err *err)
{
    (void)v;
    const char *prev = hk_log_level_name(d->log.level);
    if (!json_object_get(req, "level"))
        return json_pack("{s:s}", "level", prev);
    const char *s = get_string(req, "level", true, err);
    if (!s)
        return NULL;
    int lvl = hk_log_level_parse(s);
    if (lvl < 0)
        return ctl_fail(err, "unknown log level '%.32s' (error, warn, info, debug)", s);
    d->log.level = (enum hk_log_level)lvl;
    hk_info(&d->log, "control: log level %s (was %s)", hk_log_level_name(d->log.level), prev);
    return json_pack("{s:s, s:s}", "level", hk_log_level_name(d->log.level), "previous", prev);
}
