#include "common/timerq.h"
#include "common/err.h"

#include <stdlib.h>
#include <string.h>

void hk_timerq_init(struct hk_timerq *q)
{
    memset(q, 0, sizeof(*q));
}

void hk_timerq_free(struct hk_timerq *q)
{
    free(q->heap);
    memset(q, 0, sizeof(*q));
}

static void swap(struct hk_timer *a, struct hk_timer *b)
{
    struct hk_timer t = *a;
    *a = *b;
    *b = t;
}

int hk_timerq_add(struct hk_timerq *q, const struct hk_timer *t)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        struct hk_timer *h = realloc(q->heap, cap * sizeof(*h));
        if (!h)
            return HK_E_NOMEM;
        q->heap = h;
        q->cap = cap;
    }
    size_t i = q->n++;
    q->heap[i] = *t;
    while (i > 0 && q->heap[(i - 1) / 2].when > q->heap[i].when) {
        swap(&q->heap[(i - 1) / 2], &q->heap[i]);
        i = (i - 1) / 2;
    }
    return HK_OK;
}

uint64_t hk_timerq_next(const struct hk_timerq *q)
{
    return q->n ? q->heap[0].when : UINT64_MAX;
}

int hk_timerq_pop_due(struct hk_timerq *q, uint64_t now, struct hk_timer *out)
{
    if (!q->n || q->heap[0].when > now)
        return 0;
    *out = q->heap[0];
    q->heap[0] = q->heap[--q->n];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->n && q->heap[l].when < q->heap[m].when)
            m = l;
        if (r < q->n && q->heap[r].when < q->heap[m].when)
            m = r;
        if (m == i)
            break;
        swap(&q->heap[i], &q->heap[m]);
        i = m;
    }
    return 1;
}
