/*
 * A min-heap of deadlines. Entries are never removed early: each carries the
 * owner's generation number, and the owner ignores an expired entry whose
 * generation it has moved past (lazy cancellation keeps arming a timer O(log n)
 * and cancelling it O(1), which matters with one retransmit, rekey and DPD timer
 * per SA and 100,000 SAs).
 */
#ifndef HIKE_COMMON_TIMERQ_H
#define HIKE_COMMON_TIMERQ_H

#include <stddef.h>
#include <stdint.h>

struct hk_timer {
    uint64_t when; /* milliseconds on the owner's monotonic clock */
    uint64_t owner;
    uint32_t kind;
    uint32_t gen;
};

struct hk_timerq {
    struct hk_timer *heap;
    size_t n;
    size_t cap;
};

void hk_timerq_init(struct hk_timerq *q);
void hk_timerq_free(struct hk_timerq *q);
int hk_timerq_add(struct hk_timerq *q, const struct hk_timer *t);
/* Earliest deadline, or UINT64_MAX when empty. */
uint64_t hk_timerq_next(const struct hk_timerq *q);
/* Pops the earliest entry if it is due at now; returns 1 then, 0 otherwise. */
int hk_timerq_pop_due(struct hk_timerq *q, uint64_t now, struct hk_timer *out);

#endif
