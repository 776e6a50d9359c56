/* stats: engine, transport, data-plane and control counters in one object. */
#include "daemon/control_internal.h"

#define U(x) json_integer((json_int_t)(x))

static json_t *engine_json(const struct ike_stats *s)
{
    json_t *drops = json_object();
    for (int i = 0; drops && i < IKE_DROP__COUNT; i++)
        ctl_set(drops, ike_drop_name((enum ike_drop)i), U(s->drops[i]));
    return json_pack(
        "{s:o, s:o, s:o, s:o, s:{s:o, s:o, s:o, s:o}, s:o, s:o, s:o, s:o, s:o, s:o, "
        "s:o, s:o, s:o, s:o}",
        "rx", U(s->rx), "tx", U(s->tx), "retransmits", U(s->retransmits), "cached_responses",
        U(s->cached_responses), "exchanges", "ike_sa_init", U(s->exchanges_init), "ike_auth",
        U(s->exchanges_auth), "create_child_sa", U(s->exchanges_create), "informational",
        U(s->exchanges_info), "ike_up", U(s->ike_up), "ike_failed", U(s->ike_failed), "child_up",
        U(s->child_up), "child_install_failed", U(s->child_install_failed), "auth_failures",
        U(s->auth_failures), "dpd_sent", U(s->dpd_sent), "dpd_dead", U(s->dpd_dead), "keepalives",
        U(s->keepalives), "reassembled", U(s->reassembled), "drops", drops);
}

/* Requests of authenticated peers refused at a limit (docs/config.md, max_children...). */
static json_t *refused_json(const struct ike_stats *s)
{
    return json_pack("{s:o, s:o, s:o, s:o}", "children", U(s->refused_children), "ike_sas",
                     U(s->refused_ike_sas), "leases", U(s->refused_leases), "clones",
                     U(s->refused_clones));
}

json_t *ctl_stats(struct hiked *d, const struct hiked_control_view *v, const json_t *req,
                  struct ctl_err *err)
{
    (void)req;
    const struct hiked_control_stats *c = v->stats;
    const struct ike_engine *e = &d->engine;
    json_t *r = json_pack(
        "{s:o, s:o, s:{s:o, s:o, s:o}, s:{s:o, s:o, s:o, s:o}, s:{s:s, s:o, s:o, s:o, s:o}, "
        "s:{s:o, s:o, s:o, s:o, s:o}}",
        "uptime", json_integer(ctl_age(ctl_now(d), v->opened_ms)), "ike", engine_json(&e->stats),
        "sas", "ike", U(ike_engine_sa_count(e)), "child", U(ike_engine_child_count(e)), "half_open",
        U(e->nhalf_open), "net", "rx_short", U(d->stats.rx_short), "rx_keepalive",
        U(d->stats.rx_keepalive), "rx_esp", U(d->stats.rx_esp), "tx_errors", U(d->stats.tx_errors),
        "dataplane", "backend", d->dp ? d->dp->ops->name : "none", "installed",
        U(d->dp ? d->dp->installed : 0), "removed", U(d->dp ? d->dp->removed : 0), "esp_dropped",
        U(d->dp ? d->dp->esp_dropped : 0), "clear_dropped", U(d->dp ? d->dp->clear_dropped : 0),
        "control", "requests", U(c->requests), "errors", U(c->errors), "bad_requests",
        U(c->bad_requests), "timeouts", U(c->timeouts), "refused", U(c->refused));
    json_t *ikeo = r ? json_object_get(r, "ike") : NULL;
    if (ikeo) {
        ctl_set(ikeo, "refused", refused_json(&e->stats));
        ctl_set(ikeo, "clones", U(e->stats.clones)); /* RFC 7791, either role */
    }
    json_t *dpo = r ? json_object_get(r, "dataplane") : NULL;
    if (dpo && d->dp && d->dp->ops->counters) {
        struct hk_dp_counter cs[HK_DP_MAX_COUNTERS];
        size_t n = d->dp->ops->counters(d->dp, cs);
        for (size_t i = 0; i < n; i++)
            ctl_set(dpo, cs[i].name, U(cs[i].value));
    }
    return r ? r : ctl_fail(err, "out of memory");
}
