/* Bounded reader, growable writer, secrets, arena. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/cbb.h"
#include "common/cbs.h"
#include "common/diag.h"
#include "common/err.h"
#include "common/secret.h"
#include "common/timerq.h"
#include "common/u64map.h"

static void cbs_reads_in_order(void **state)
{
    (void)state;
    const uint8_t in[] = {1, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4, 0xaa, 0xbb};
    struct hk_cbs c;
    uint8_t a;
    uint16_t b;
    uint32_t d;
    uint64_t e;
    const uint8_t *p;
    hk_cbs_init(&c, in, sizeof(in));
    assert_int_equal(hk_cbs_get_u8(&c, &a), 0);
    assert_int_equal(a, 1);
    assert_int_equal(hk_cbs_get_u16(&c, &b), 0);
    assert_int_equal(b, 2);
    assert_int_equal(hk_cbs_get_u32(&c, &d), 0);
    assert_int_equal(d, 3);
    assert_int_equal(hk_cbs_get_u64(&c, &e), 0);
    assert_int_equal(e, 4);
    assert_int_equal(hk_cbs_get_bytes(&c, &p, 2), 0);
    assert_int_equal(p[1], 0xbb);
    assert_int_equal(hk_cbs_len(&c), 0);
    assert_int_equal(hk_cbs_get_u8(&c, &a), HK_E_SHORT);
}

static void cbs_fails_without_consuming(void **state)
{
    (void)state;
    const uint8_t in[] = {0, 5, 1, 2, 3};
    struct hk_cbs c, sub;
    uint32_t d;
    hk_cbs_init(&c, in, sizeof(in));
    assert_int_equal(hk_cbs_get_u16_prefixed(&c, &sub), HK_E_SHORT); /* claims 5, has 3 */
    assert_int_equal(hk_cbs_len(&c), 5);
    assert_int_equal(hk_cbs_skip(&c, 2), 0);
    assert_int_equal(hk_cbs_get_u32(&c, &d), HK_E_SHORT);
    assert_int_equal(hk_cbs_len(&c), 3);
    assert_int_equal(hk_cbs_get_sub(&c, &sub, 3), 0);
    assert_int_equal(hk_cbs_len(&sub), 3);
    assert_int_equal(hk_cbs_get_sub(&c, &sub, 1), HK_E_SHORT);
}

static void cbb_reserve_and_fill(void **state)
{
    (void)state;
    struct hk_cbb b;
    size_t pos;
    assert_int_equal(hk_cbb_init(&b, 0, 0), 0);
    hk_cbb_add_u8(&b, 7);
    hk_cbb_reserve(&b, &pos, 2);
    hk_cbb_add_bytes(&b, "abc", 3);
    hk_cbb_add_u32(&b, 0x01020304);
    assert_int_equal(hk_cbb_fill(&b, pos, 2, b.len - pos), 0);
    assert_int_equal(hk_cbb_err(&b), 0);
    const uint8_t want[] = {7, 0, 9, 'a', 'b', 'c', 1, 2, 3, 4};
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.buf, want, sizeof(want));
    assert_int_equal(hk_cbb_fill(&b, pos, 1, 300), HK_E_OVERFLOW);
    assert_int_equal(hk_cbb_err(&b), HK_E_OVERFLOW); /* sticky */
    assert_int_equal(hk_cbb_add_u8(&b, 1), HK_E_OVERFLOW);
    hk_cbb_free(&b);
}

static void cbb_respects_max_and_grows(void **state)
{
    (void)state;
    struct hk_cbb b;
    hk_cbb_init(&b, 1, 100000);
    for (int i = 0; i < 50000; i++)
        assert_int_equal(hk_cbb_add_u16(&b, (uint16_t)i), 0);
    assert_int_equal(b.len, 100000);
    assert_int_equal(b.buf[99999], (uint8_t)49999);
    assert_int_equal(hk_cbb_add_u8(&b, 0), HK_E_OVERFLOW);
    hk_cbb_free_wipe(&b);
}

static void secret_lifecycle(void **state)
{
    (void)state;
    struct hk_secret *s = hk_secret_concat((const uint8_t *)"ab", 2, (const uint8_t *)"cd", 2);
    assert_non_null(s);
    assert_int_equal(s->len, 4);
    assert_memory_equal(s->data, "abcd", 4);
    assert_int_equal(hk_memeq_ct(s->data, "abcd", 4), 0);
    assert_int_not_equal(hk_memeq_ct(s->data, "abce", 4), 0);
    hk_secret_free(&s);
    assert_null(s);
    hk_secret_free(&s);
}

static void arena_limit(void **state)
{
    (void)state;
    struct hk_arena a;
    hk_arena_init(&a, 10000);
    for (int i = 0; i < 100; i++)
        assert_non_null(hk_arena_alloc(&a, 64));
    assert_null(hk_arena_alloc(&a, 5000));
    assert_null(hk_arena_calloc(&a, SIZE_MAX / 2, 4));
    hk_arena_free(&a);
}

static void errors_have_names(void **state)
{
    (void)state;
    struct hk_diag d = {0};
    for (int e = 0; e >= -19; e--)
        assert_string_not_equal(hk_strerror(e), "unknown error");
    assert_string_equal(hk_strerror(-999), "unknown error");
    hk_diag_set(&d, "short payload: %d < %d", 6, 8);
    hk_diag_set(&d, "outer");
    assert_string_equal(hk_diag_msg(&d), "short payload: 6 < 8");
}

static void u64map_put_get_del(void **state)
{
    (void)state;
    struct hk_u64map m;
    static int vals[3000];
    hk_u64map_init(&m, 42);
    assert_null(hk_u64map_get(&m, 1));
    for (uint64_t k = 0; k < 3000; k++)
        assert_int_equal(hk_u64map_put(&m, k * 7919, &vals[k]), 0);
    assert_int_equal(hk_u64map_put(&m, 7919, &vals[0]), HK_E_EXISTS);
    assert_int_equal(hk_u64map_count(&m), 3000);
    for (uint64_t k = 0; k < 3000; k += 2)
        assert_ptr_equal(hk_u64map_del(&m, k * 7919), &vals[k]);
    assert_null(hk_u64map_del(&m, 0));
    for (uint64_t k = 0; k < 3000; k++)
        assert_ptr_equal(hk_u64map_get(&m, k * 7919), (k % 2) ? &vals[k] : NULL);
    /* Churn through deletes and re-inserts: tombstones must not fill the table. */
    for (int round = 0; round < 20; round++)
        for (uint64_t k = 0; k < 3000; k += 2) {
            assert_int_equal(hk_u64map_put(&m, k * 7919 + 1 + round, &vals[k]), 0);
            assert_ptr_equal(hk_u64map_del(&m, k * 7919 + 1 + round), &vals[k]);
        }
    size_t pos = 0, seen = 0;
    uint64_t key;
    while (hk_u64map_next(&m, &pos, &key))
        seen++;
    assert_int_equal(seen, 1500);
    hk_u64map_free(&m);
}

/* A writer on the caller's buffer stays there while it fits, moves to the heap (wiping the
 * buffer) when it does not, and hands out heap copies of exact length. */
static void cbb_on_caller_buffer(void **state)
{
    (void)state;
    uint8_t buf[16];
    struct hk_cbb b;
    hk_cbb_init_buf(&b, buf, sizeof(buf), 0);
    assert_int_equal(hk_cbb_add_bytes(&b, "0123456789", 10), 0);
    assert_ptr_equal(b.buf, buf);
    size_t len = 0;
    uint8_t *copy = hk_cbb_detach(&b, &len);
    assert_int_equal(len, 10);
    assert_true(copy != buf);
    assert_memory_equal(copy, "0123456789", 10);
    free(copy);
    assert_null(b.buf);

    hk_cbb_init_buf(&b, buf, sizeof(buf), 0);
    assert_int_equal(hk_cbb_add_bytes(&b, "0123456789", 10), 0);
    assert_int_equal(hk_cbb_add_bytes(&b, "abcdefghij", 10), 0);
    assert_true(b.buf != buf);
    assert_memory_equal(b.buf, "0123456789abcdefghij", 20);
    static const uint8_t zero[16];
    assert_memory_equal(buf, zero, sizeof(buf)); /* what it left behind is wiped */
    hk_cbb_free(&b);

    hk_cbb_init_buf(&b, buf, sizeof(buf), 4); /* the limit still holds */
    assert_int_equal(hk_cbb_add_bytes(&b, "01234", 5), HK_E_OVERFLOW);
    hk_cbb_free(&b); /* never frees the caller's buffer (ASan would see it) */
}

/* An arena on the caller's buffer serves from it first, then from the heap. */
static void arena_on_caller_buffer(void **state)
{
    (void)state;
    alignas(max_align_t) uint8_t buf[512];
    struct hk_arena a;
    memset(buf, 0xaa, sizeof(buf));
    hk_arena_init_buf(&a, 0, buf, sizeof(buf));
    uint8_t *p = hk_arena_alloc(&a, 100);
    assert_true(p >= buf && p + 100 <= buf + sizeof(buf));
    assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
    for (int i = 0; i < 100; i++)
        assert_int_equal(p[i], 0);
    uint8_t *q = hk_arena_alloc(&a, 1000); /* does not fit: heap */
    assert_true(q + 1000 <= buf || q >= buf + sizeof(buf));
    uint8_t *r = hk_arena_alloc(&a, 16);
    assert_non_null(r);
    hk_arena_free(&a); /* frees the heap chunk only (ASan would see a stack free) */

    /* Misaligned or too small: still correct, from the heap. */
    hk_arena_init_buf(&a, 0, buf + 1, 8);
    assert_non_null(hk_arena_alloc(&a, 32));
    hk_arena_free(&a);
    hk_arena_init_buf(&a, 64, buf + 3, 200);
    p = hk_arena_alloc(&a, 48);
    assert_true(p > buf && p < buf + sizeof(buf));
    assert_int_equal((uintptr_t)p % alignof(max_align_t), 0);
    assert_null(hk_arena_alloc(&a, 48)); /* the limit counts the caller's buffer too */
    hk_arena_free(&a);
}

/* SAs come and go with few alive: deleted slots are reused, no rehash per few inserts. */
static void u64map_churn_stays_small(void **state)
{
    (void)state;
    struct hk_u64map m;
    static int vals[8];
    hk_u64map_init(&m, 7);
    uint64_t live[8] = {0};
    for (uint64_t k = 1; k <= 100000; k++) {
        size_t i = k % 8;
        if (live[i])
            assert_ptr_equal(hk_u64map_del(&m, live[i]), &vals[i]);
        live[i] = k * 0x9e3779b97f4a7c15ULL;
        assert_int_equal(hk_u64map_put(&m, live[i], &vals[i]), 0);
        for (size_t j = 0; j < 8; j++)
            if (live[j])
                assert_ptr_equal(hk_u64map_get(&m, live[j]), &vals[j]);
    }
    assert_int_equal(m.cap, 16);
    assert_int_equal(hk_u64map_count(&m), 8);
    /* Deleting the current key while iterating visits every other one exactly once. */
    size_t pos = 0, seen = 0;
    uint64_t key;
    while (hk_u64map_next(&m, &pos, &key)) {
        assert_non_null(hk_u64map_del(&m, key));
        seen++;
    }
    assert_int_equal(seen, 8);
    assert_int_equal(hk_u64map_count(&m), 0);
    assert_int_equal(m.tombs, 0);
    hk_u64map_free(&m);
}

static void timerq_orders_deadlines(void **state)
{
    (void)state;
    struct hk_timerq q;
    struct hk_timer t;
    hk_timerq_init(&q);
    assert_int_equal(hk_timerq_next(&q), UINT64_MAX);
    for (uint64_t i = 0; i < 1000; i++) {
        t = (struct hk_timer){.when = (i * 7877) % 1000, .owner = i};
        assert_int_equal(hk_timerq_add(&q, &t), 0);
    }
    assert_int_equal(hk_timerq_next(&q), 0);
    assert_int_equal(hk_timerq_pop_due(&q, 499, &t), 1);
    uint64_t last = t.when, n = 1;
    while (hk_timerq_pop_due(&q, 499, &t)) {
        assert_true(t.when >= last);
        last = t.when;
        n++;
    }
    assert_int_equal(n, 500);
    assert_int_equal(hk_timerq_next(&q), 500);
    hk_timerq_free(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cbs_reads_in_order),      cmocka_unit_test(cbs_fails_without_consuming),
        cmocka_unit_test(cbb_reserve_and_fill),    cmocka_unit_test(cbb_respects_max_and_grows),
        cmocka_unit_test(secret_lifecycle),        cmocka_unit_test(arena_limit),
        cmocka_unit_test(errors_have_names),       cmocka_unit_test(u64map_put_get_del),
        cmocka_unit_test(timerq_orders_deadlines), cmocka_unit_test(cbb_on_caller_buffer),
        cmocka_unit_test(arena_on_caller_buffer),  cmocka_unit_test(u64map_churn_stays_small),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
