/* list-conns: the configured connections and their children (never a secret). */
#include "daemon/control_internal.h"

#include "config/config.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>

/* A range of one address is written as the address, without "/32". */
static bool one_address(const struct hk_ip_range *r, char *buf, size_t len)
{
    size_t n = r->family == AF_INET ? 4 : 16;
    if (memcmp(r->start, r->end, n))
        return false;
    struct hk_ip ip = {.family = r->family};
    memcpy(ip.addr, r->start, n);
    return !hk_ip_format(&ip, buf, len);
}

static json_t *addrs(const struct hk_addr_conf *a, size_t n)
{
    json_t *list = json_array();
    char buf[2 * 48];
    for (size_t i = 0; list && i < n; i++) {
        const char *s = "%any";
        if (a[i].kind == HK_ADDR_HOST)
            s = a[i].host;
        else if (a[i].kind == HK_ADDR_RANGE && one_address(&a[i].range, buf, sizeof(buf)))
            s = buf;
        else if (a[i].kind == HK_ADDR_RANGE && !hk_ip_range_format(&a[i].range, buf, sizeof(buf)))
            s = buf;
        json_array_append_new(list, json_string(s));
    }
    return list;
}

static json_t *proposals(const struct hk_proposal_conf *p, size_t n)
{
    json_t *list = json_array();
    char buf[HK_PROPOSAL_STRLEN];
    for (size_t i = 0; list && i < n; i++)
        if (!hk_proposal_format(&p[i], buf, sizeof(buf)))
            json_array_append_new(list, json_string(buf));
    return list;
}

static json_t *selectors(const struct hk_ts_conf *ts, size_t n)
{
    json_t *list = json_array();
    char buf[HK_TS_STRLEN];
    for (size_t i = 0; list && i < n; i++)
        if (!hk_ts_format(&ts[i], buf, sizeof(buf)))
            json_array_append_new(list, json_string(buf));
    return list;
}

static const char *auth_name(enum hk_auth_conf a)
{
    return a == HK_AUTH_CONF_PSK ? "psk" : a == HK_AUTH_CONF_PUBKEY ? "pubkey" : "?";
}

/* "fqdn:gw.example.net", "%any", "auto". */
static json_t *identity(const struct hk_id_conf *id)
{
    char buf[1100];
    if (id->type == HK_ID_AUTO || id->type == HK_ID_ANY || !id->text)
        return json_string(hk_id_type_name(id->type));
    snprintf(buf, sizeof(buf), "%s:%s", hk_id_type_name(id->type), id->text);
    return json_string(buf);
}

static json_t *child_json(const struct hk_child_conf *c)
{
    json_t *o = json_object();
    ctl_set(o, "name", json_string(c->name));
    ctl_set(o, "local_ts", selectors(c->local_ts, c->nlocal_ts));
    ctl_set(o, "remote_ts", selectors(c->remote_ts, c->nremote_ts));
    ctl_set(o, "esp", proposals(c->esp, c->nesp));
    ctl_set(o, "mode", json_string(c->mode == HK_MODE_TRANSPORT ? "transport" : "tunnel"));
    ctl_set(o, "start_action", json_string(hk_start_action_name(c->start_action)));
    ctl_set(o, "dpd_action", json_string(hk_sa_action_name(c->dpd_action)));
    ctl_set(o, "close_action", json_string(hk_sa_action_name(c->close_action)));
    ctl_set(o, "rekey_time", json_integer(c->lifetime.rekey_time));
    ctl_set(o, "life_time", json_integer(c->lifetime.life_time));
    return o;
}

static json_t *conn_json(const struct hk_conn *c, json_int_t nsas)
{
    json_t *o = json_object(), *children = json_array();
    for (size_t i = 0; children && i < c->nchildren; i++)
        json_array_append_new(children, child_json(&c->children[i]));
    ctl_set(o, "name", json_string(c->name));
    ctl_set(o, "local_addrs", addrs(c->local_addrs, c->nlocal_addrs));
    ctl_set(o, "remote_addrs", addrs(c->remote_addrs, c->nremote_addrs));
    ctl_set(o, "local_port", json_integer(c->local_port));
    ctl_set(o, "remote_port", json_integer(c->remote_port));
    ctl_set(o, "local_auth", json_string(auth_name(c->local.auth)));
    ctl_set(o, "local_id", identity(&c->local.id));
    ctl_set(o, "remote_auth", json_string(auth_name(c->remote.auth)));
    ctl_set(o, "remote_id", identity(&c->remote.id));
    ctl_set(o, "ike", proposals(c->ike, c->nike));
    ctl_set(o, "start_action", json_string(hk_start_action_name(c->start_action)));
    ctl_set(o, "rekey_time", json_integer(c->rekey_time));
    ctl_set(o, "reauth_time", json_integer(c->reauth_time));
    ctl_set(o, "dpd_delay", json_integer(c->dpd_delay));
    ctl_set(o, "mobike", json_boolean(c->mobike));
    ctl_set(o, "encap", json_boolean(c->encap));
    ctl_set(o, "ike_sas", json_integer(nsas));
    ctl_set(o, "children", children);
    return o;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* How many of the sorted names equal name. */
static json_int_t count_name(const char **names, size_t n, const char *name)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(names[mid], name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    json_int_t k = 0;
    while (lo < n && !strcmp(names[lo++], name))
        k++;
    return k;
}

json_t *ctl_list_conns(struct hiked *d, const struct hiked_control_view *v, const json_t *req,
                       struct ctl_err *err)
{
    (void)v, (void)req;
    /* The connection names of all IKE SAs, sorted, to count them per connection. */
    size_t n = ike_engine_sa_count(&d->engine), k = 0, pos = 0;
    const char **names = calloc(n ? n : 1, sizeof(*names));
    json_t *list = names ? json_array() : NULL;
    const struct ike_sa *sa;
    while (names && k < n && (sa = ike_engine_next_sa(&d->engine, &pos)))
        names[k++] = sa->conn;
    if (names)
        qsort(names, k, sizeof(*names), cmp_name);
    for (size_t i = 0; list && i < d->cfg->nconns; i++) {
        const struct hk_conn *c = &d->cfg->conns[i];
        json_t *o = conn_json(c, count_name(names, k, c->name));
        if (!o || json_array_append_new(list, o)) {
            json_decref(list);
            list = NULL;
        }
    }
    free(names);
    return list ? list : ctl_fail(err, "out of memory");
}
