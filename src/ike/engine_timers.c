/* Timers: arming them, ike_engine_tick and what each one does (DPD, keepalive, rekey,
 * expiry, the rekeyed SA's delete, half-open and Child SA timers). */
#include "ike/engine_internal.h"

#include "crypto/crypto.h"
#include "ike/conn_match.h"

/* RFC 3948 4: keepalives keep the NAT mapping; 20 s is the customary interval. */
#define NAT_KEEPALIVE_MS 20000

void engine_arm(struct ike_engine *e, struct ike_sa *sa, enum ike_timer_kind kind, uint64_t when)
{
    struct hk_timer t = {.when = when, .owner = sa->id, .kind = kind, .gen = ++sa->timer_gen[kind]};
    if (hk_timerq_add(&e->timers, &t))
        hk_err(e->log, "out of memory arming a timer");
}

void engine_disarm(struct ike_sa *sa, enum ike_timer_kind kind)
{
    sa->timer_gen[kind]++;
}

void engine_sa_established(struct ike_engine *e, struct ike_sa *sa)
{
    sa->reported_up = true; /* the callers tell ops.ike_up next */
    peer_id_count(e, sa);
    x_clone_family_join(e, sa);
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    uint64_t now = engine_now(e);
    if (conn && conn->rekey_time) {
        uint64_t t = (uint64_t)conn->rekey_time * 1000, j = 0;
        uint32_t r = 0;
        if (conn->rekey_jitter && !hk_crypto_random(e->crypto, &r, sizeof(r)))
            j = r % ((uint64_t)conn->rekey_jitter * 1000);
        sa->rekey_at_ms = now + (t > j ? t - j : t);
        engine_arm(e, sa, IKE_TIMER_REKEY, sa->rekey_at_ms);
    }
    if (conn && conn->life_time) {
        sa->expire_at_ms = now + (uint64_t)conn->life_time * 1000;
        engine_arm(e, sa, IKE_TIMER_EXPIRE, sa->expire_at_ms);
    }
    if (conn && conn->dpd_delay)
        engine_arm(e, sa, IKE_TIMER_DPD, now + (uint64_t)conn->dpd_delay * 1000);
    if (sa->nat_local && e->ops.keepalive)
        engine_arm(e, sa, IKE_TIMER_KEEPALIVE, now + NAT_KEEPALIVE_MS);
}

/* 2.4: after dpd_delay of silence, an empty INFORMATIONAL; no answer ends the SA. */
static void dpd_check(struct ike_engine *e, struct ike_sa *sa)
{
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    if (!conn || !conn->dpd_delay || sa->state != IKE_SA_ESTABLISHED)
        return;
    uint64_t delay = (uint64_t)conn->dpd_delay * 1000, now = engine_now(e);
    if (now - sa->last_in_ms < delay) {
        engine_arm(e, sa, IKE_TIMER_DPD, sa->last_in_ms + delay);
        return;
    }
    if (!sa->out.npkts && !engine_request(e, sa, IKE_XCHG_INFO, NULL, 0)) {
        e->stats.dpd_sent++;
        e->stats.exchanges_info++;
    }
    engine_arm(e, sa, IKE_TIMER_DPD, now + delay);
}

static void keepalive(struct ike_engine *e, struct ike_sa *sa)
{
    if (!sa->nat_local || !e->ops.keepalive)
        return;
    e->ops.keepalive(e->ops.arg, &sa->local, &sa->remote);
    e->stats.keepalives++;
    engine_arm(e, sa, IKE_TIMER_KEEPALIVE, engine_now(e) + NAT_KEEPALIVE_MS);
}

static void child_timer(struct ike_engine *e, const struct hk_timer *t)
{
    struct child_sa *c = hk_u64map_get(&e->child_by_id, t->owner);
    if (!c || t->kind >= 4 || c->timer_gen[t->kind] != t->gen)
        return;
    struct ike_sa *sa = hk_u64map_get(&e->sa_by_id, c->ike_id);
    if (!sa || c->state != CHILD_SA_INSTALLED)
        return;
    if (t->kind == CHILD_TIMER_REKEY) {
        engine_queue(e, sa, IKE_TASK_REKEY_CHILD, c->id);
    } else {
        hk_info(e->log, "Child SA %s %08x/%08x: hard lifetime reached", c->name, c->spi_in,
                c->spi_out);
        engine_queue(e, sa, IKE_TASK_DELETE_CHILD, c->id);
    }
}

uint64_t ike_engine_tick(struct ike_engine *e)
{
    struct hk_timer t;
    uint64_t now = engine_now(e);
    while (hk_timerq_pop_due(&e->timers, now, &t)) {
        struct ike_sa *sa = hk_u64map_get(&e->sa_by_id, t.owner);
        if (!sa) {
            child_timer(e, &t);
            continue;
        }
        if (t.kind >= 8 || sa->timer_gen[t.kind] != t.gen)
            continue; /* timer re-armed or cancelled since */
        switch ((enum ike_timer_kind)t.kind) {
        case IKE_TIMER_RETRANSMIT:
            engine_retransmit(e, sa);
            break;
        case IKE_TIMER_HALF_OPEN:
            x_init_half_open_expired(e, sa);
            break;
        case IKE_TIMER_DELETE:
            /* A rekeyed SA whose DELETE never came from the rekey's initiator (2.18: it deletes
             * the old SA): we delete it ourselves, so it cannot stay for ever. */
            if (sa->state == IKE_SA_REKEYED) {
                hk_info(e->log, "IKE SA [%s]: the peer did not delete the rekeyed SA", sa->conn);
                engine_queue(e, sa, IKE_TASK_DELETE_IKE, 0);
            }
            break;
        case IKE_TIMER_DPD:
            dpd_check(e, sa);
            break;
        case IKE_TIMER_KEEPALIVE:
            keepalive(e, sa);
            break;
        case IKE_TIMER_REKEY:
            if (sa->state == IKE_SA_ESTABLISHED)
                engine_queue(e, sa, IKE_TASK_REKEY_IKE, 0);
            break;
        case IKE_TIMER_CLONE:
            x_clone_retry(e, sa);
            break;
        case IKE_TIMER_EXPIRE:
            hk_info(e->log, "IKE SA [%s]: hard lifetime reached", sa->conn);
            engine_queue(e, sa, IKE_TASK_DELETE_IKE, 0);
            break;
        }
    }
    return hk_timerq_next(&e->timers);
}
