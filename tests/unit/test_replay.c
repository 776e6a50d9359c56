/* ESP anti-replay window: RFC 4303 3.4.3 and Appendix A2 (ESN). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "common/err.h"
#include "esp/replay.h"

#define SUB ((uint64_t)1 << 32) /* one ESN subspace */

/* Linked with -Wl,--wrap=calloc (CMakeLists.txt): the out-of-memory test fails it on demand. */
void *__real_calloc(size_t n, size_t size);
static bool fail_calloc;
void *__wrap_calloc(size_t n, size_t size)
{
    return fail_calloc ? NULL : __real_calloc(n, size);
}

/* check, then (as if the ICV verified) update; returns the check's result. */
static int recv_pkt(struct hk_replay *w, uint32_t lo, uint64_t *seq)
{
    int rc = hk_replay_check(w, lo, seq);
    if (rc == HK_OK)
        assert_int_equal(hk_replay_update(w, *seq), HK_OK);
    return rc;
}

static void expect(struct hk_replay *w, uint32_t lo, int rc, uint64_t seq)
{
    uint64_t got = 0;
    assert_int_equal(hk_replay_check(w, lo, &got), rc);
    assert_int_equal(got, seq);
}

static void size_validation(void **state)
{
    (void)state;
    struct hk_replay w;
    assert_int_equal(hk_replay_init(&w, 0, false), HK_OK);
    assert_int_equal(hk_replay_window_size(&w), HK_REPLAY_DEFAULT_SIZE);
    assert_int_equal(hk_replay_window_size(&w), 1024);
    assert_int_equal(hk_replay_window_top(&w), 0);
    hk_replay_free(&w);
    const uint32_t good[] = {64, 128, 192, 1024, 4096, 65472, 65536};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(hk_replay_init(&w, good[i], i & 1), HK_OK);
        assert_int_equal(hk_replay_window_size(&w), good[i]);
        hk_replay_free(&w);
    }
    const uint32_t bad[] = {1, 32, 63, 65, 100, 1000, 65535, 65537, 65600, 131072, UINT32_MAX};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(hk_replay_init(&w, bad[i], i & 1), HK_E_INVALID);
    assert_int_equal(hk_replay_init(NULL, 64, false), HK_E_INVALID);
    hk_replay_free(NULL);
}

static void in_window_any_order(void **state)
{
    (void)state;
    struct hk_replay w;
    uint64_t s;
    assert_int_equal(hk_replay_init(&w, 64, false), HK_OK);
    assert_int_equal(recv_pkt(&w, 100, &s), HK_OK);
    /* 37..99 in a scrambled order (17 is coprime with 63). */
    for (uint32_t i = 0; i < 63; i++)
        assert_int_equal(recv_pkt(&w, 37 + (i * 17) % 63, &s), HK_OK);
    for (uint32_t q = 37; q <= 100; q++)
        expect(&w, q, HK_E_EXISTS, q);
    expect(&w, 36, HK_E_STATE, 36);
    expect(&w, 101, HK_OK, 101);
    assert_int_equal(hk_replay_window_top(&w), 100);
    hk_replay_free(&w);
}

static void duplicate_rejected(void **state)
{
    (void)state;
    struct hk_replay w;
    uint64_t s, s2;
    assert_int_equal(hk_replay_init(&w, 0, false), HK_OK);
    expect(&w, 0, HK_E_STATE, 0); /* 3.3.3: the first packet carries 1 */
    assert_int_equal(recv_pkt(&w, 1, &s), HK_OK);
    expect(&w, 1, HK_E_EXISTS, 1);
    assert_int_equal(hk_replay_update(&w, 1), HK_E_EXISTS);
    /* Two copies pass the check before either is marked: the second update refuses. */
    assert_int_equal(hk_replay_check(&w, 5, &s), HK_OK);
    assert_int_equal(hk_replay_check(&w, 5, &s2), HK_OK);
    assert_int_equal(hk_replay_update(&w, s), HK_OK);
    assert_int_equal(hk_replay_update(&w, s2), HK_E_EXISTS);
    /* A failed ICV (no update) leaves the number acceptable. */
    assert_int_equal(hk_replay_check(&w, 3, &s), HK_OK);
    expect(&w, 3, HK_OK, 3);
    assert_int_equal(hk_replay_update(&w, 0), HK_E_STATE);
    assert_int_equal(hk_replay_update(&w, SUB), HK_E_STATE); /* not a 32-bit number */
    assert_int_equal(hk_replay_window_top(&w), 5);
    hk_replay_free(&w);
}

static void too_old_and_edges(void **state)
{
    (void)state;
    const uint32_t sizes[] = {64, 128, 192, 1024, 65536};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        struct hk_replay w;
        uint32_t n = sizes[i], top = 100000;
        assert_int_equal(hk_replay_init(&w, n, false), HK_OK);
        assert_int_equal(hk_replay_update(&w, top), HK_OK);
        expect(&w, top - n, HK_E_STATE, top - n); /* just left of the window */
        expect(&w, top - n - 1000, HK_E_STATE, top - n - 1000);
        expect(&w, 1, HK_E_STATE, 1);
        assert_int_equal(hk_replay_update(&w, top - n), HK_E_STATE);
        expect(&w, top - n + 1, HK_OK, top - n + 1); /* bottom edge B = T - W + 1 */
        assert_int_equal(hk_replay_update(&w, top - n + 1), HK_OK);
        expect(&w, top - n + 1, HK_E_EXISTS, top - n + 1);
        expect(&w, top, HK_E_EXISTS, top);
        expect(&w, top - 1, HK_OK, top - 1);
        /* One step right: the old bottom falls out. */
        assert_int_equal(hk_replay_update(&w, top + 1), HK_OK);
        expect(&w, top - n + 1, HK_E_STATE, top - n + 1);
        expect(&w, top - n + 2, HK_OK, top - n + 2);
        hk_replay_free(&w);
    }
    /* Early window (T < W - 1): everything from 1 up is inside. */
    struct hk_replay w;
    uint64_t s;
    assert_int_equal(hk_replay_init(&w, 64, false), HK_OK);
    assert_int_equal(recv_pkt(&w, 10, &s), HK_OK);
    expect(&w, 1, HK_OK, 1);
    expect(&w, 0, HK_E_STATE, 0);
    hk_replay_free(&w);
}

static void slide_by_one(void **state)
{
    (void)state;
    struct hk_replay w;
    uint64_t s;
    assert_int_equal(hk_replay_init(&w, 128, false), HK_OK);
    for (uint32_t q = 1; q <= 10000; q++) {
        assert_int_equal(recv_pkt(&w, q, &s), HK_OK);
        expect(&w, q, HK_E_EXISTS, q);
        if (q > 128)
            expect(&w, q - 128, HK_E_STATE, q - 128);
        if (q > 127)
            expect(&w, q - 127, HK_E_EXISTS, q - 127);
    }
    hk_replay_free(&w);
}

static void slide_far(void **state)
{
    (void)state;
    struct hk_replay w;
    uint64_t s;
    assert_int_equal(hk_replay_init(&w, 64, false), HK_OK);
    for (uint32_t q = 1; q <= 127; q++)
        assert_int_equal(recv_pkt(&w, q, &s), HK_OK);
    /* Into the next word: the reused word must come back empty. */
    assert_int_equal(recv_pkt(&w, 130, &s), HK_OK);
    expect(&w, 128, HK_OK, 128);
    expect(&w, 129, HK_OK, 129);
    expect(&w, 67, HK_E_EXISTS, 67);
    expect(&w, 127, HK_E_EXISTS, 127);
    expect(&w, 66, HK_E_STATE, 66);
    /* By several windows: all of the new window is free. */
    assert_int_equal(recv_pkt(&w, 130 + 5 * 64, &s), HK_OK);
    for (uint32_t q = 130 + 4 * 64 + 1; q < 130 + 5 * 64; q++)
        expect(&w, q, HK_OK, q);
    expect(&w, 130 + 4 * 64, HK_E_STATE, 130 + 4 * 64);
    expect(&w, 130, HK_E_STATE, 130);
    /* By exactly the window size and by window + 1. */
    uint32_t t = 130 + 5 * 64;
    for (uint32_t q = t - 63; q < t; q++)
        assert_int_equal(recv_pkt(&w, q, &s), HK_OK);
    assert_int_equal(recv_pkt(&w, t + 64, &s), HK_OK);
    expect(&w, t, HK_E_STATE, t);
    for (uint32_t q = t + 1; q < t + 64; q++)
        expect(&w, q, HK_OK, q);
    for (uint32_t q = t + 1; q < t + 64; q++)
        assert_int_equal(recv_pkt(&w, q, &s), HK_OK);
    assert_int_equal(recv_pkt(&w, t + 129, &s), HK_OK);
    for (uint32_t q = t + 66; q < t + 129; q++)
        expect(&w, q, HK_OK, q);
    expect(&w, t + 65, HK_E_STATE, t + 65);
    hk_replay_free(&w);
}

static void nonesn_no_wrap(void **state)
{
    (void)state;
    struct hk_replay w;
    uint64_t s;
    assert_int_equal(hk_replay_init(&w, 64, false), HK_OK);
    assert_int_equal(recv_pkt(&w, UINT32_MAX - 1, &s), HK_OK);
    assert_int_equal(recv_pkt(&w, UINT32_MAX, &s), HK_OK);
    assert_int_equal(s, UINT32_MAX);
    assert_int_equal(hk_replay_window_top(&w), UINT32_MAX);
    /* No rollover: a small number after 2^32 - 1 is old, not the next subspace. */
    expect(&w, 0, HK_E_STATE, 0);
    expect(&w, 1, HK_E_STATE, 1);
    expect(&w, 63, HK_E_STATE, 63);
    expect(&w, UINT32_MAX, HK_E_EXISTS, UINT32_MAX);
    expect(&w, UINT32_MAX - 1, HK_E_EXISTS, UINT32_MAX - 1);
    expect(&w, UINT32_MAX - 2, HK_OK, UINT32_MAX - 2);
    expect(&w, UINT32_MAX - 64, HK_E_STATE, UINT32_MAX - 64);
    assert_int_equal(hk_replay_update(&w, SUB), HK_E_STATE);
    hk_replay_free(&w);
}

static void esn_inference_across_wrap(void **state)
{
    (void)state;
    struct hk_replay w;
    uint64_t s;
    assert_int_equal(hk_replay_init(&w, 1024, true), HK_OK);
    /* Starting window: T = 0, numbers are taken in subspace 0. */
    expect(&w, 0, HK_E_STATE, 0); /* the 64-bit 0 is never valid */
    expect(&w, UINT32_MAX, HK_OK, UINT32_MAX);
    /* Case A, T just before the wrap: a small Seql belongs to the next subspace. */
    assert_int_equal(recv_pkt(&w, 0xfffffff0, &s), HK_OK);
    assert_int_equal(s, 0xfffffff0);
    expect(&w, 2, HK_OK, SUB + 2);
    expect(&w, 0, HK_OK, SUB); /* 2^32 is a valid ESN, only the 64-bit 0 is not */
    expect(&w, 0xfffffff8, HK_OK, 0xfffffff8);
    expect(&w, 0xfffffff0 - 1023, HK_OK, 0xfffffff0 - 1023);       /* Bl: same subspace */
    expect(&w, 0xfffffff0 - 1024, HK_OK, SUB + 0xfffffff0 - 1024); /* below Bl: Th + 1 */
    /* The packet from after the wrap is authenticated: T = 2^32 + 5 (Case B). */
    assert_int_equal(recv_pkt(&w, 5, &s), HK_OK);
    assert_int_equal(s, SUB + 5);
    assert_int_equal(hk_replay_window_top(&w), SUB + 5);
    /* One from just before the wrap, arriving after it: Seql >= Bl gives Th - 1. */
    assert_int_equal(recv_pkt(&w, 0xfffffff8, &s), HK_OK);
    assert_int_equal(s, 0xfffffff8);
    expect(&w, 0xfffffff8, HK_E_EXISTS, 0xfffffff8);
    expect(&w, 0xfffffff0, HK_E_EXISTS, 0xfffffff0);
    expect(&w, 3, HK_OK, SUB + 3); /* Seql < Bl, <= Tl: Th */
    expect(&w, 5, HK_E_EXISTS, SUB + 5);
    expect(&w, 6, HK_OK, SUB + 6); /* Seql < Bl, > Tl: Th, ahead */
    /* Bl = Tl - W + 1 = 2^32 - 1018. */
    expect(&w, 0xfffffc06, HK_OK, 0xfffffc06);
    expect(&w, 0xfffffc05, HK_OK, SUB + 0xfffffc05); /* below Bl: read as far ahead */
    /* A later subspace, both directions. */
    assert_int_equal(hk_replay_set_top(&w, 5 * SUB + 10), HK_OK);
    expect(&w, UINT32_MAX, HK_E_EXISTS, 5 * SUB - 1);
    expect(&w, 11, HK_OK, 5 * SUB + 11);
    expect(&w, 10, HK_E_EXISTS, 5 * SUB + 10);
    assert_int_equal(hk_replay_set_top(&w, 5 * SUB + 5000), HK_OK);
    expect(&w, UINT32_MAX, HK_OK, 6 * SUB - 1); /* left of Bl in Case A: Th + 1 */
    expect(&w, 0, HK_OK, 6 * SUB);
    hk_replay_free(&w);
}

static void esn_window_spans_wrap(void **state)
{
    (void)state;
    struct hk_replay w;
    uint64_t s;
    const uint64_t top = SUB + 100;
    assert_int_equal(hk_replay_init(&w, 1024, true), HK_OK);
    assert_int_equal(hk_replay_update(&w, top), HK_OK);
    /* Every number of the window, on both sides of 2^32, scrambled (7 is coprime). */
    for (uint64_t i = 0; i < 1023; i++) {
        uint64_t q = top - 1023 + (i * 7) % 1023;
        assert_int_equal(recv_pkt(&w, (uint32_t)q, &s), HK_OK);
        assert_int_equal(s, q);
    }
    for (uint64_t q = top - 1023; q <= top; q++)
        expect(&w, (uint32_t)q, HK_E_EXISTS, q);
    /* Slide by less than the window: the part before the wrap is partly gone. */
    assert_int_equal(recv_pkt(&w, 600, &s), HK_OK);
    assert_int_equal(s, SUB + 600);
    for (uint64_t q = SUB + 600 - 1023; q <= top; q++)
        expect(&w, (uint32_t)q, HK_E_EXISTS, q);
    for (uint64_t q = top + 1; q < SUB + 600; q++)
        expect(&w, (uint32_t)q, HK_OK, q);
    hk_replay_free(&w);
}

static void esn_counter_end(void **state)
{
    (void)state;
    struct hk_replay w;
    uint64_t s;
    assert_int_equal(hk_replay_init(&w, 64, true), HK_OK);
    assert_int_equal(hk_replay_set_top(&w, UINT64_MAX - 10), HK_OK);
    assert_int_equal(recv_pkt(&w, UINT32_MAX, &s), HK_OK);
    assert_int_equal(s, UINT64_MAX);
    /* 2^64 would cycle the ESN counter (3.3.3). */
    assert_int_equal(hk_replay_check(&w, 0, &s), HK_E_STATE);
    assert_int_equal(hk_replay_check(&w, 5, &s), HK_E_STATE);
    expect(&w, UINT32_MAX - 1, HK_OK, UINT64_MAX - 1);
    expect(&w, UINT32_MAX - 10, HK_E_EXISTS, UINT64_MAX - 10);
    hk_replay_free(&w);
}

static void set_top(void **state)
{
    (void)state;
    struct hk_replay w;
    uint64_t s;
    assert_int_equal(hk_replay_init(&w, 64, false), HK_OK);
    assert_int_equal(recv_pkt(&w, 2000, &s), HK_OK);
    for (uint64_t top = 1000; top < 1000 + 130; top++) { /* every bit position */
        assert_int_equal(hk_replay_set_top(&w, top), HK_OK);
        assert_int_equal(hk_replay_window_top(&w), top);
        expect(&w, top, HK_E_EXISTS, top);
        expect(&w, top - 63, HK_E_EXISTS, top - 63);
        expect(&w, top - 64, HK_E_STATE, top - 64);
        for (uint64_t q = top + 1; q < top + 200; q++)
            expect(&w, q, HK_OK, q);
    }
    assert_int_equal(recv_pkt(&w, 1200, &s), HK_OK);
    expect(&w, 1199, HK_OK, 1199);
    assert_int_equal(hk_replay_set_top(&w, SUB), HK_E_INVALID);
    hk_replay_free(&w);
}

/* An idle window holds no bitmap; the first authenticated packet makes it. */
static void bitmap_on_first_packet(void **state)
{
    (void)state;
    struct hk_replay w;
    uint64_t s;
    assert_int_equal(hk_replay_init(&w, 1024, true), HK_OK);
    assert_int_equal(hk_replay_bitmap_bytes(&w), 0);
    expect(&w, 1, HK_OK, 1); /* the check alone allocates nothing */
    expect(&w, 0, HK_E_STATE, 0);
    assert_int_equal(hk_replay_bitmap_bytes(&w), 0);
    assert_int_equal(recv_pkt(&w, 1, &s), HK_OK);
    assert_int_equal(hk_replay_bitmap_bytes(&w), 32 * 8); /* 1024 / 64 + 1 words, rounded up */
    expect(&w, 1, HK_E_EXISTS, 1);
    hk_replay_free(&w);
    assert_int_equal(hk_replay_bitmap_bytes(&w), 0);
    /* set_top (a take-over) needs the bitmap as well */
    assert_int_equal(hk_replay_init(&w, 64, false), HK_OK);
    assert_int_equal(hk_replay_set_top(&w, 500), HK_OK);
    assert_int_not_equal(hk_replay_bitmap_bytes(&w), 0);
    expect(&w, 500, HK_E_EXISTS, 500);
    hk_replay_free(&w);
}

/* No memory for the bitmap: the packet is refused and the window stays as it was, so the
 * same packet is accepted once memory is back. */
static void bitmap_out_of_memory(void **state)
{
    (void)state;
    struct hk_replay w;
    uint64_t s;
    assert_int_equal(hk_replay_init(&w, 128, false), HK_OK);
    assert_int_equal(hk_replay_check(&w, 7, &s), HK_OK);
    fail_calloc = true;
    assert_int_equal(hk_replay_update(&w, s), HK_E_NOMEM);
    assert_int_equal(hk_replay_set_top(&w, 3), HK_E_NOMEM);
    fail_calloc = false;
    assert_int_equal(hk_replay_window_top(&w), 0);
    assert_int_equal(hk_replay_bitmap_bytes(&w), 0);
    expect(&w, 7, HK_OK, 7);
    assert_int_equal(hk_replay_update(&w, 7), HK_OK);
    expect(&w, 7, HK_E_EXISTS, 7);
    /* once allocated, updates never allocate again */
    fail_calloc = true;
    assert_int_equal(hk_replay_update(&w, 8), HK_OK);
    assert_int_equal(hk_replay_set_top(&w, 100), HK_OK);
    fail_calloc = false;
    hk_replay_free(&w);
}

/* --- randomized comparison with a reference model ---------------------------- */

static uint64_t rng_next(uint64_t *x) /* splitmix64 */
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* The seen set: open addressing over 64-bit numbers, 0 means empty (0 is never seen). */
#define SET_SLOTS (1u << 19)
static bool set_has(const uint64_t *set, uint64_t k, bool insert)
{
    uint64_t h = (k * 0x9e3779b97f4a7c15ull) >> 45;
    for (;; h = (h + 1) & (SET_SLOTS - 1)) {
        if (set[h] == k)
            return true;
        if (set[h] == 0) {
            if (insert)
                ((uint64_t *)set)[h] = k;
            return false;
        }
    }
}

/* RFC 4303 A2.3 as written (Case A / Case B), with Th - 1 refused below subspace 0. */
static bool ref_infer(uint64_t t, uint32_t wsize, uint32_t seql, uint64_t *seq)
{
    uint32_t tl = (uint32_t)t, th = (uint32_t)(t >> 32), bl = tl - wsize + 1;
    uint64_t seqh;
    if (tl >= wsize - 1)
        seqh = seql >= bl ? th : (uint64_t)th + 1;
    else if (seql >= bl)
        seqh = th == 0 ? 0 : th - 1; /* Th - 1 does not exist in subspace 0 */
    else
        seqh = th;
    if (seqh > UINT32_MAX)
        return false;
    *seq = seqh << 32 | seql;
    return true;
}

static void random_run(bool esn, uint32_t wsize, uint64_t start, uint64_t seed)
{
    struct hk_replay w;
    uint64_t *set = calloc(SET_SLOTS, sizeof(*set));
    uint64_t hist[256] = {0}, rng = seed, t = start, maxsent = start;
    unsigned nhist = 0;
    unsigned n_ok = 0, n_dup = 0, n_old = 0, n_far = 0;
    assert_non_null(set);
    assert_int_equal(hk_replay_init(&w, wsize, esn), HK_OK);
    if (start) {
        assert_int_equal(hk_replay_update(&w, start), HK_OK);
        set_has(set, start, true);
    }
    for (unsigned i = 0; i < 100000; i++) {
        uint64_t r = rng_next(&rng), pick = r % 100, q;
        if (pick < 55)
            q = maxsent + 1 + (r >> 8) % 4; /* in order, some loss */
        else if (pick < 80)
            q = maxsent < 2 * (uint64_t)wsize ? (r >> 8) % (maxsent + 1)
                                              : maxsent - (r >> 8) % (2 * wsize); /* late */
        else if (pick < 92)
            q = hist[(nhist - 1 - (r >> 8) % 32) % 256]; /* a replay of a recent one */
        else if (pick < 99)
            q = maxsent + (r >> 8) % (3 * (uint64_t)wsize); /* a jump */
        else
            q = 0;
        if (!esn && q > UINT32_MAX)
            q = UINT32_MAX - (r >> 40) % 8;
        if (q > maxsent)
            maxsent = q;
        hist[nhist++ % 256] = q;

        /* The model: seen set plus the rule of 3.4.3 / A2. */
        uint64_t want_seq = q;
        int want;
        if (esn && !ref_infer(t, wsize, (uint32_t)q, &want_seq))
            want = HK_E_STATE;
        else if (want_seq == 0)
            want = HK_E_STATE;
        else if (want_seq > t)
            want = HK_OK;
        else if (t - want_seq >= wsize)
            want = HK_E_STATE;
        else
            want = set_has(set, want_seq, false) ? HK_E_EXISTS : HK_OK;

        uint64_t got_seq = ~0ull;
        int got = hk_replay_check(&w, (uint32_t)q, &got_seq);
        assert_int_equal(got, want);
        assert_int_equal(got_seq, want_seq);
        /* A number in the window inferred as something else fails its ICV. */
        bool icv = want_seq == q && (r >> 60) != 0;
        if (got == HK_OK && icv) {
            assert_int_equal(hk_replay_update(&w, got_seq), HK_OK);
            assert_false(set_has(set, got_seq, true));
            if (got_seq > t)
                t = got_seq;
            if ((r & 0xff) == 0) /* a second copy that passed the check too */
                assert_int_equal(hk_replay_update(&w, got_seq), HK_E_EXISTS);
        }
        assert_int_equal(hk_replay_window_top(&w), t);
        n_ok += got == HK_OK;
        n_dup += got == HK_E_EXISTS;
        n_old += got == HK_E_STATE;
        n_far += want_seq != q;
    }
    print_message("esn=%d W=%u: ok %u dup %u old %u far %u\n", esn, wsize, n_ok, n_dup, n_old,
                  n_far);
    if (start) /* the runs that start near a boundary get past it (or stop at it) */
        assert_true(esn ? (t >> 32) > (start >> 32) : t >= UINT32_MAX - 7);
    /* Every outcome was exercised. */
    assert_true(n_ok > 10000 && n_dup > 3000);
    /* With ESN a number left of the window reads as one far ahead (A2.2). */
    assert_true(esn ? n_far > 1000 : n_old > 5000);
    hk_replay_free(&w);
    free(set);
}

static void random_vs_model_32(void **state)
{
    (void)state;
    random_run(false, 128, 0, 1);
    random_run(false, 1024, UINT32_MAX - 8000000, 2); /* reaches 2^32 - 1 and stays */
}

static void random_vs_model_esn(void **state)
{
    (void)state;
    random_run(true, 64, 0, 3);
    random_run(true, 1024, SUB - 60000, 4); /* crosses 2^32 */
    random_run(true, 192, 7 * SUB - 30000, 5);
}

/* Export and import: a window rebuilt from its plain form answers every number as the
 * original does (ESN across 2^32 too), and the form is the documented one. */
static void export_import(void **state)
{
    (void)state;
    for (int esn = 0; esn < 2; esn++) {
        struct hk_replay w, v;
        uint64_t base = esn ? 0xfffffe00ull : 1000, bits[HK_REPLAY_MAX_SIZE / 64], top;
        assert_int_equal(hk_replay_init(&w, 256, esn), HK_OK);
        assert_int_equal(hk_replay_init(&v, 256, esn), HK_OK);
        hk_replay_export(&w, &top, bits); /* fresh: nothing */
        assert_int_equal(top, 0);
        assert_int_equal(hk_replay_import(&v, top, bits), HK_OK);
        assert_int_equal(hk_replay_bitmap_bytes(&v), 0);
        uint64_t seed = 7;
        for (int i = 0; i < 2000; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            uint64_t seq = base + (seed >> 33) % 700;
            if (esn || seq <= UINT32_MAX)
                hk_replay_update(&w, seq);
        }
        hk_replay_export(&w, &top, bits);
        assert_int_equal(top, hk_replay_window_top(&w));
        assert_int_equal(bits[0] & 1, 1); /* T itself */
        assert_int_equal(hk_replay_import(&v, top, bits), HK_OK);
        for (uint64_t s = base - 300; s < base + 1000; s++) {
            uint64_t a, b;
            if (!esn && s > UINT32_MAX)
                break;
            int ra = hk_replay_check(&w, (uint32_t)s, &a),
                rb = hk_replay_check(&v, (uint32_t)s, &b);
            assert_int_equal(ra, rb);
            assert_true(a == b);
        }
        if (!esn)
            assert_int_equal(hk_replay_import(&v, (uint64_t)UINT32_MAX + 1, bits), HK_E_INVALID);
        hk_replay_free(&w);
        hk_replay_free(&v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(size_validation),
        cmocka_unit_test(in_window_any_order),
        cmocka_unit_test(duplicate_rejected),
        cmocka_unit_test(too_old_and_edges),
        cmocka_unit_test(slide_by_one),
        cmocka_unit_test(slide_far),
        cmocka_unit_test(nonesn_no_wrap),
        cmocka_unit_test(esn_inference_across_wrap),
        cmocka_unit_test(esn_window_spans_wrap),
        cmocka_unit_test(esn_counter_end),
        cmocka_unit_test(set_top),
        cmocka_unit_test(bitmap_on_first_packet),
        cmocka_unit_test(bitmap_out_of_memory),
        cmocka_unit_test(random_vs_model_32),
        cmocka_unit_test(random_vs_model_esn),
        cmocka_unit_test(export_import),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
