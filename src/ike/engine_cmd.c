/* The commands: initiate, terminate, shutdown, rekey, delete and the trap selectors. */
#include "ike/engine_internal.h"

#include "common/err.h"
#include "ike/conn_match.h"

#include <netinet/in.h>
#include <stdlib.h>

/* ---- commands ---- */

int ike_engine_initiate(struct ike_engine *e, const char *name, uint64_t *ike_id)
{
    return ike_engine_initiate_from(e, name, NULL, ike_id);
}

int ike_engine_initiate_from(struct ike_engine *e, const char *name,
                             const struct sockaddr_storage *local, uint64_t *ike_id)
{
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, name);
    if (!conn)
        return HK_E_NOTFOUND;
    if (local && local->ss_family != AF_INET && local->ss_family != AF_INET6)
        return HK_E_INVALID;
    struct ike_sa *sa = engine_new_sa(e, true, conn->name);
    if (!sa)
        return HK_E_NOMEM;
    if (local) {
        sa->local = *local;
        sa->local_fixed = true;
    }
    int rc = x_init_start(e, sa);
    if (rc) {
        engine_delete_sa(e, sa, hk_strerror(rc));
        return rc;
    }
    if (ike_id)
        *ike_id = sa->id;
    return HK_OK;
}

int ike_engine_terminate(struct ike_engine *e, uint64_t ike_id)
{
    struct ike_sa *sa = hk_u64map_get(&e->sa_by_id, ike_id);
    if (!sa)
        return HK_E_NOTFOUND;
    if (sa->state == IKE_SA_DELETING)
        return HK_OK; /* its DELETE is out already */
    if (sa->state != IKE_SA_ESTABLISHED && sa->state != IKE_SA_REKEYED) {
        engine_delete_sa(e, sa, "terminated before it was established");
        return HK_OK;
    }
    /* Window size 1 (2.3): with an exchange of ours in flight the DELETE waits its turn (it
     * goes first, and the queued work with it: engine_queue). */
    engine_queue(e, sa, IKE_TASK_DELETE_IKE, 0);
    return HK_OK;
}

void ike_engine_shutdown(struct ike_engine *e)
{
    /* Collect first: a DELETE that cannot be sent may free its SA. */
    size_t n = hk_u64map_count(&e->sa_by_id), k = 0, pos = 0;
    uint64_t *ids = calloc(n ? n : 1, sizeof(*ids));
    struct ike_sa *sa;
    while (ids && k < n && (sa = hk_u64map_next(&e->sa_by_id, &pos, NULL)))
        if (sa->state == IKE_SA_ESTABLISHED || sa->state == IKE_SA_REKEYED)
            ids[k++] = sa->id;
    for (size_t i = 0; i < k; i++)
        ike_engine_terminate(e, ids[i]);
    free(ids);
}

int ike_engine_rekey(struct ike_engine *e, uint64_t ike_id)
{
    struct ike_sa *sa = hk_u64map_get(&e->sa_by_id, ike_id);
    if (!sa)
        return HK_E_NOTFOUND;
    if (sa->state != IKE_SA_ESTABLISHED)
        return HK_E_STATE;
    engine_queue(e, sa, IKE_TASK_REKEY_IKE, 0);
    return HK_OK;
}

int ike_engine_rekey_child(struct ike_engine *e, uint64_t child_id)
{
    struct child_sa *c = hk_u64map_get(&e->child_by_id, child_id);
    struct ike_sa *sa = c ? hk_u64map_get(&e->sa_by_id, c->ike_id) : NULL;
    if (!c || !sa)
        return HK_E_NOTFOUND;
    if (sa->state != IKE_SA_ESTABLISHED || c->state != CHILD_SA_INSTALLED)
        return HK_E_STATE;
    engine_queue(e, sa, IKE_TASK_REKEY_CHILD, c->id);
    return HK_OK;
}

int ike_engine_trap_selectors(struct ike_engine *e, const char *name, size_t child,
                              struct ike_ts *local, size_t *nl, struct ike_ts *remote, size_t *nr,
                              size_t max)
{
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, name);
    struct sockaddr_storage l, r;
    if (!conn || child >= conn->nchildren)
        return HK_E_NOTFOUND;
    int rc = conn_initiator_addrs(e, conn, &l, &r);
    if (rc)
        return rc;
    const struct hk_child_conf *cc = &conn->children[child];
    *nl = conn_ts(cc->local_ts, cc->nlocal_ts, &l, local, max);
    *nr = conn_ts(cc->remote_ts, cc->nremote_ts, &r, remote, max);
    return HK_OK;
}

int ike_engine_delete_child(struct ike_engine *e, uint64_t child_id)
{
    struct child_sa *c = hk_u64map_get(&e->child_by_id, child_id);
    struct ike_sa *sa = c ? hk_u64map_get(&e->sa_by_id, c->ike_id) : NULL;
    if (!c || !sa)
        return HK_E_NOTFOUND;
    engine_queue(e, sa, IKE_TASK_DELETE_CHILD, c->id);
    return HK_OK;
}

void ike_engine_child_activity(struct ike_engine *e, uint64_t child_id)
{
    struct child_sa *c = hk_u64map_get(&e->child_by_id, child_id);
    struct ike_sa *sa = c ? hk_u64map_get(&e->sa_by_id, c->ike_id) : NULL;
    if (sa)
        sa->last_in_ms = engine_now(e);
}
