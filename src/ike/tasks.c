/* The task queue: work that waits for the request window (2.3: one request at a time) and
 * runs as soon as it is free. */
#include "ike/engine_internal.h"

#include "common/err.h"

#include <string.h>

void engine_queue_add(struct ike_engine *e, struct ike_sa *sa, enum ike_task task, uint64_t arg)
{
    for (uint8_t i = 0; i < sa->ntasks; i++)
        if (sa->task[i] == task && sa->task_arg[i] == arg)
            return; /* already queued */
    if (task == IKE_TASK_DELETE_IKE)
        sa->ntasks = 0; /* the SA goes: nothing else queued matters, and the DELETE always fits */
    if (sa->ntasks >= sizeof(sa->task)) {
        hk_warn(e->log, "IKE SA [%s]: task queue full, dropping task %d", sa->conn, task);
        return;
    }
    sa->task[sa->ntasks] = (uint8_t)task;
    sa->task_arg[sa->ntasks++] = arg;
}

void engine_queue(struct ike_engine *e, struct ike_sa *sa, enum ike_task task, uint64_t arg)
{
    engine_queue_add(e, sa, task, arg);
    engine_run_tasks(e, sa);
}

void engine_run_tasks(struct ike_engine *e, struct ike_sa *sa)
{
    while (sa->ntasks && !sa->out.npkts && sa->xchg.kind == IKE_XCHG_NONE) {
        uint8_t task = sa->task[0];
        uint64_t arg = sa->task_arg[0];
        memmove(sa->task, sa->task + 1, --sa->ntasks);
        memmove(sa->task_arg, sa->task_arg + 1, sa->ntasks * sizeof(sa->task_arg[0]));
        struct child_sa *c = NULL;
        int rc = HK_OK;
        bool est = sa->state == IKE_SA_ESTABLISHED;
        switch ((enum ike_task)task) {
        case IKE_TASK_NEW_CHILD:
            if (est)
                rc = x_create_child_start(e, sa, (size_t)arg);
            break;
        case IKE_TASK_REKEY_CHILD:
            c = ike_engine_child(e, arg);
            if (est && c && c->ike_id == sa->id && c->state == CHILD_SA_INSTALLED)
                rc = x_rekey_child_start(e, sa, c);
            break;
        case IKE_TASK_REKEY_IKE:
            if (est)
                rc = x_rekey_ike_start(e, sa);
            break;
        case IKE_TASK_CLONE:
            if (est)
                rc = x_clone_start(e, sa, NULL);
            break;
        case IKE_TASK_DELETE_CHILD:
            c = ike_engine_child(e, arg);
            if (c && c->ike_id == sa->id &&
                (sa->state == IKE_SA_ESTABLISHED || sa->state == IKE_SA_REKEYED))
                rc = x_info_delete_child(e, sa, c);
            break;
        case IKE_TASK_DELETE_IKE:
            if (sa->state == IKE_SA_ESTABLISHED || sa->state == IKE_SA_REKEYED)
                rc = x_info_delete_ike(e, sa);
            break;
        }
        if (rc)
            hk_warn(e->log, "IKE SA [%s]: task %u failed: %s", sa->conn, task, hk_strerror(rc));
    }
}
