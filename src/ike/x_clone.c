/*
 * IKE SA cloning (RFC 7791) around the exchange: the negotiation in IKE_AUTH (5.1), clone
 * families and their limits (5.3, 8), the retry after TEMPORARY_FAILURE (5.3, RFC 7296 2.25)
 * and the clone command. The exchange itself is the IKE rekey's (x_rekey_ike.c) with
 * CLONE_IKE_SA in the request.
 */
#include "ike/engine_internal.h"

#include "common/err.h"
#include "ike/codec/notify.h"
#include "ike/conn_match.h"

#include <stdlib.h>

/* TEMPORARY_FAILURE answers to one clone before we give up, and the first wait; each retry
 * waits twice as long (5, 10, 20, 40, 80 s: 2.25 asks for "several minutes" at most). */
#define CLONE_RETRIES       5
#define CLONE_RETRY_BASE_MS 5000

/* One clone family: its IKE SAs counted from establishment to deletion. blocked_at: the peer
 * answered our clone NO_ADDITIONAL_SAS when the family held this many (0: not blocked); no
 * clone until it holds fewer (5.3), which a rekey (one more, then one less) does not make. */
struct clone_family {
    uint32_t sas;
    uint32_t blocked_at;
    uint64_t start_ms;
};

void x_clone_add_supported(const struct hk_conn *conn, struct ike_payload *pl, size_t *n)
{
    if (conn->clone)
        pl[(*n)++] = (struct ike_payload){.type = IKE_PL_NOTIFY,
                                          .u.notify.type = IKE_N_CLONE_IKE_SA_SUPPORTED};
}

void x_clone_note_supported(struct ike_sa *sa, const struct hk_conn *conn, const struct ike_msg *m)
{
    /* 5.1: only when both sent it may the SA be cloned. */
    if (conn->clone && ike_msg_find_notify(m, IKE_N_CLONE_IKE_SA_SUPPORTED))
        sa->ext |= IKE_EXT_CLONE;
}

static struct clone_family *family_of(const struct ike_engine *e, const struct ike_sa *sa)
{
    return sa->family ? hk_u64map_get(&e->families, sa->family) : NULL;
}

void x_clone_family_join(struct ike_engine *e, struct ike_sa *sa)
{
    if (!sa->family) {
        /* The first IKE SA of a family: IKE_AUTH made it (section 8 counts from here). */
        sa->family = sa->id;
        sa->family_start_ms = engine_now(e);
    }
    if (sa->family_counted)
        return;
    struct clone_family *f = hk_u64map_get(&e->families, sa->family);
    if (!f) {
        f = calloc(1, sizeof(*f));
        if (!f || hk_u64map_put(&e->families, sa->family, f)) {
            free(f);
            return; /* not counted: max_clones is lenient rather than the SA refused */
        }
        f->start_ms = sa->family_start_ms;
    }
    f->sas++;
    sa->family_counted = true;
}

void x_clone_families_free(struct ike_engine *e)
{
    size_t pos = 0;
    void *f;
    while ((f = hk_u64map_next(&e->families, &pos, NULL)))
        free(f);
    hk_u64map_free(&e->families);
}

/* An established IKE SA of sa's family other than sa (any will do to clone from), or NULL. A
 * walk over every SA: only for the rare moments a family member must be found. */
static struct ike_sa *family_member(const struct ike_engine *e, const struct ike_sa *sa)
{
    size_t pos = 0;
    struct ike_sa *k;
    while (sa->family && (k = ike_engine_next_sa(e, &pos)))
        if (k != sa && k->family == sa->family && k->state == IKE_SA_ESTABLISHED)
            return k;
    return NULL;
}

static void retry_later(struct ike_engine *e, struct ike_sa *to, uint8_t tries)
{
    to->clone_tries = tries;
    engine_arm(e, to, IKE_TIMER_CLONE,
               engine_now(e) + ((uint64_t)CLONE_RETRY_BASE_MS << (tries ? tries - 1 : 0)));
}

void x_clone_sa_gone(struct ike_engine *e, struct ike_sa *sa)
{
    /* A clone in flight or waiting for its retry goes on from another IKE SA of the family. */
    bool pending = sa->xchg.kind == IKE_XCHG_CLONE || sa->clone_tries;
    struct ike_sa *k = pending ? family_member(e, sa) : NULL;
    if (k) {
        hk_info(e->log, "IKE SA [%s]: the clone of IKE SA %llu goes on from IKE SA %llu", sa->conn,
                (unsigned long long)sa->id, (unsigned long long)k->id);
        retry_later(e, k, sa->clone_tries ? sa->clone_tries : 1);
    }
    if (!sa->family_counted)
        return;
    sa->family_counted = false;
    struct clone_family *f = family_of(e, sa);
    if (!f)
        return;
    if (--f->sas == 0) {
        /* Section 8: the service ran from the first authentication until now. */
        hk_info(e->log, "clone family %llu [%s] ended: its last IKE SA is gone after %llu s",
                (unsigned long long)sa->family, sa->conn,
                (unsigned long long)((engine_now(e) - f->start_ms) / 1000));
        hk_u64map_del(&e->families, sa->family);
        free(f);
        return;
    }
    /* 5.3: NO_ADDITIONAL_SAS holds until an IKE SA of the family is deleted. */
    if (f->blocked_at && f->sas < f->blocked_at)
        f->blocked_at = 0;
}

uint16_t x_clone_refusal(struct ike_engine *e, struct ike_sa *sa, const struct hk_conn *conn)
{
    const struct clone_family *f = family_of(e, sa);
    uint32_t have = f ? f->sas : 1;
    const char *why = NULL;
    if (conn->max_clones && have >= 1 + (uint64_t)conn->max_clones)
        why = "the clone family is at max_clones";
    else if (conn->max_ike_sas && peer_id_sas(e, sa->peer_id.type, sa->peer_id.data.p,
                                              sa->peer_id.data.len) >= conn->max_ike_sas)
        why = "the peer's identity is at max_ike_sas"; /* section 8: clones are IKE SAs too */
    if (!why)
        return 0;
    e->stats.refused_clones++;
    hk_info(e->log, "IKE SA [%s]: clone refused (NO_ADDITIONAL_SAS): %s (%u IKE SAs)", sa->conn,
            why, have);
    return IKE_N_NO_ADDITIONAL_SAS;
}

void x_clone_refused(struct ike_engine *e, struct ike_sa *sa, uint16_t err)
{
    if (err == IKE_N_NO_ADDITIONAL_SAS) {
        /* 5.3: permanent until an IKE SA with the peer is deleted. */
        sa->clone_tries = 0;
        struct clone_family *f = family_of(e, sa);
        if (f)
            f->blocked_at = f->sas;
        return;
    }
    if (err != IKE_N_TEMPORARY_FAILURE)
        return;
    uint8_t tries = (uint8_t)(sa->clone_tries + 1);
    sa->clone_tries = 0;
    if (tries > CLONE_RETRIES) {
        hk_warn(e->log, "IKE SA [%s]: clone given up after %u TEMPORARY_FAILURE answers", sa->conn,
                CLONE_RETRIES);
        return;
    }
    /* 2.25: wait for the peer to finish what it is doing. An SA rekeyed meanwhile hands the
     * retry to its family. */
    struct ike_sa *to = sa->state == IKE_SA_ESTABLISHED ? sa : family_member(e, sa);
    if (to)
        retry_later(e, to, tries);
}

void x_clone_retry(struct ike_engine *e, struct ike_sa *sa)
{
    struct ike_sa *to = sa->state == IKE_SA_ESTABLISHED ? sa : family_member(e, sa);
    uint8_t tries = sa->clone_tries;
    sa->clone_tries = 0;
    if (!to)
        return;
    to->clone_tries = tries; /* the back-off continues where the clone starts again */
    engine_queue(e, to, IKE_TASK_CLONE, 0);
}

int ike_engine_clone(struct ike_engine *e, uint64_t ike_id, uint64_t *new_id)
{
    struct ike_sa *sa = ike_engine_sa(e, ike_id);
    const struct hk_conn *conn = sa ? hk_config_find_conn(e->cfg, sa->conn) : NULL;
    if (new_id)
        *new_id = 0;
    if (!sa || !conn)
        return HK_E_NOTFOUND;
    if (sa->state != IKE_SA_ESTABLISHED || sa->xchg.kind == IKE_XCHG_REKEY_IKE)
        return HK_E_STATE;
    if (!conn->clone)
        return HK_E_CONFIG;
    if (!(sa->ext & IKE_EXT_CLONE))
        return HK_E_UNSUPPORTED; /* 5.1: the IKE SA MUST NOT be cloned */
    const struct clone_family *f = family_of(e, sa);
    if (conn->max_clones && f && f->sas >= 1 + (uint64_t)conn->max_clones)
        return HK_E_OVERFLOW;
    if (f && f->blocked_at)
        return HK_E_AGAIN;
    if (sa->ntasks || sa->out.npkts || sa->xchg.kind != IKE_XCHG_NONE) {
        /* Window size 1 (2.3): after what is queued. Each call is one clone. */
        engine_queue_add(e, sa, IKE_TASK_CLONE, e->next_id++);
        return HK_OK;
    }
    return x_clone_start(e, sa, new_id);
}
