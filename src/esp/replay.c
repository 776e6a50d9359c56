/* ESP anti-replay window, RFC 4303 3.4.3 and Appendix A2. See replay.h. */
#include "esp/replay.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"

int hk_replay_init(struct hk_replay *w, uint32_t size, bool esn)
{
    if (!w)
        return HK_E_INVALID;
    memset(w, 0, sizeof(*w));
    if (size == 0)
        size = HK_REPLAY_DEFAULT_SIZE;
    if (size % 64 != 0 || size > HK_REPLAY_MAX_SIZE)
        return HK_E_INVALID;
    /*
     * A window of W bits that does not start on a word boundary touches W/64 + 1
     * words; a power-of-two ring of at least that many lets a mask pick the word.
     */
    uint32_t need = size / 64 + 1, nwords = 1;
    while (nwords < need)
        nwords <<= 1;
    w->mask = (uint16_t)(nwords - 1);
    w->size = size;
    w->esn = esn;
    return HK_OK;
}

void hk_replay_free(struct hk_replay *w)
{
    if (!w)
        return;
    free(w->bits);
    memset(w, 0, sizeof(*w));
}

/* The bitmap, allocated when the window first has something to remember. */
static int bits_alloc(struct hk_replay *w)
{
    if (!w->bits)
        w->bits = calloc((size_t)w->mask + 1, sizeof(*w->bits));
    return w->bits ? HK_OK : HK_E_NOMEM;
}

size_t hk_replay_bitmap_bytes(const struct hk_replay *w)
{
    return w->bits ? ((size_t)w->mask + 1) * sizeof(*w->bits) : 0;
}

static uint64_t *word_of(const struct hk_replay *w, uint64_t seq)
{
    return &w->bits[(seq >> 6) & w->mask];
}

static uint64_t bit_of(uint64_t seq)
{
    return (uint64_t)1 << (seq & 63);
}

/* Left of the window: T - seq >= W (seq <= T). */
static bool too_old(const struct hk_replay *w, uint64_t seq)
{
    return w->top - seq >= w->size;
}

int hk_replay_check(const struct hk_replay *w, uint32_t seq_lo, uint64_t *seq_out)
{
    uint64_t seq = seq_lo;
    if (w->esn) {
        /*
         * RFC 4303 A2.2: Seqh is Th or Th + 1 (Case A), Th - 1 or Th (Case B), chosen
         * by Seql against Bl. Both cases are the one value congruent to Seql in
         * [B, B + 2^32). B is clamped to 0 while T < W - 1 (no negative numbers).
         */
        uint64_t b = w->top >= w->size - 1 ? w->top - (w->size - 1) : 0;
        seq = b + (uint32_t)(seq_lo - (uint32_t)b);
        if (seq < b) { /* past 2^64 - 1: the ESN counter must not cycle (3.3.3) */
            *seq_out = seq;
            return HK_E_STATE;
        }
    }
    *seq_out = seq;
    if (seq == 0) /* RFC 4303 3.3.3: the first packet carries 1; 0 is never sent */
        return HK_E_STATE;
    if (seq > w->top)
        return HK_OK;
    if (too_old(w, seq))
        return HK_E_STATE;
    if (!w->bits) /* nothing received yet: only set_top or update make a top > 0 */
        return HK_OK;
    return (*word_of(w, seq) & bit_of(seq)) ? HK_E_EXISTS : HK_OK;
}

/*
 * Invariant: bits above T in T's word are 0, and every word the top enters is
 * cleared first, so the words of the window hold only this lap's bits.
 */
static void slide(struct hk_replay *w, uint64_t seq)
{
    uint64_t from = w->top >> 6, to = seq >> 6;
    if (to - from > w->mask) {
        memset(w->bits, 0, ((size_t)w->mask + 1) * sizeof(*w->bits));
    } else {
        for (uint64_t i = from + 1; i <= to; i++)
            w->bits[i & w->mask] = 0;
    }
    w->top = seq;
}

int hk_replay_update(struct hk_replay *w, uint64_t seq)
{
    if (seq == 0 || (!w->esn && seq > UINT32_MAX))
        return HK_E_STATE;
    if (bits_alloc(w))
        return HK_E_NOMEM;
    if (seq > w->top) {
        slide(w, seq);
    } else if (too_old(w, seq)) {
        return HK_E_STATE;
    } else if (*word_of(w, seq) & bit_of(seq)) {
        return HK_E_EXISTS;
    }
    *word_of(w, seq) |= bit_of(seq);
    return HK_OK;
}

uint64_t hk_replay_window_top(const struct hk_replay *w)
{
    return w->top;
}

uint32_t hk_replay_window_size(const struct hk_replay *w)
{
    return w->size;
}

int hk_replay_set_top(struct hk_replay *w, uint64_t top)
{
    if (!w->esn && top > UINT32_MAX)
        return HK_E_INVALID;
    if (bits_alloc(w))
        return HK_E_NOMEM;
    memset(w->bits, 0xff, ((size_t)w->mask + 1) * sizeof(*w->bits));
    unsigned b = (unsigned)(top & 63);
    *word_of(w, top) = b == 63 ? UINT64_MAX : ((uint64_t)1 << (b + 1)) - 1;
    w->top = top;
    return HK_OK;
}

/* Canonical form: bit j (word j / 64, bit j % 64) is sequence number top - j, for j < W. */
void hk_replay_export(const struct hk_replay *w, uint64_t *top, uint64_t *bits)
{
    size_t nwords = w->size / 64;
    memset(bits, 0, nwords * sizeof(*bits));
    *top = w->top;
    if (!w->bits)
        return;
    for (uint64_t j = 0; j < w->size && j < w->top; j++) {
        uint64_t seq = w->top - j;
        if (*word_of(w, seq) & bit_of(seq))
            bits[j / 64] |= (uint64_t)1 << (j % 64);
    }
}

int hk_replay_import(struct hk_replay *w, uint64_t top, const uint64_t *bits)
{
    if (!w->esn && top > UINT32_MAX)
        return HK_E_INVALID;
    size_t nwords = w->size / 64;
    bool any = top != 0;
    for (size_t i = 0; i < nwords && !any; i++)
        any = bits[i] != 0;
    if (!any) { /* nothing received yet: the window stays as a fresh one, unallocated */
        if (w->bits)
            memset(w->bits, 0, ((size_t)w->mask + 1) * sizeof(*w->bits));
        w->top = 0;
        return HK_OK;
    }
    if (bits_alloc(w))
        return HK_E_NOMEM;
    memset(w->bits, 0, ((size_t)w->mask + 1) * sizeof(*w->bits));
    w->top = top;
    for (uint64_t j = 0; j < w->size && j < top; j++)
        if (bits[j / 64] >> (j % 64) & 1)
            *word_of(w, top - j) |= bit_of(top - j);
    return HK_OK;
}
