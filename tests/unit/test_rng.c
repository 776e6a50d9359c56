/* The buffered random source: draws not repeated, refills, wiping, the fork hazard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "crypto/crypto.h"
#include "crypto/rng.h"

#include "testutil.h"

static bool all_zero(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i])
            return false;
    }
    return true;
}

static void draws_are_not_repeated(void **state)
{
    (void)state;
    /* 3 refills' worth of 32-octet draws: none may equal another. */
    enum { N = 3 * HK_RNG_BUF / 32 };
    static uint8_t v[N][32];
    struct hk_rng *r;
    assert_int_equal(hk_rng_new(NULL, false, &r), 0);
    for (size_t i = 0; i < N; i++) {
        assert_int_equal(hk_rng_bytes(r, v[i], 32), 0);
        assert_false(all_zero(v[i], 32));
    }
    for (size_t i = 0; i < N; i++) {
        for (size_t j = i + 1; j < N; j++) {
            if (!memcmp(v[i], v[j], 32))
                fail_msg("draws %zu and %zu are equal", i, j);
        }
    }
    hk_rng_free(r);
}

static void consumed_octets_are_wiped_and_buffer_refills(void **state)
{
    (void)state;
    struct hk_rng *r;
    uint8_t out[HK_RNG_MAX_DRAW];
    assert_int_equal(hk_rng_new(NULL, true, &r), 0);
    const uint8_t *buf = hk_rng_buffer(r);
    assert_int_equal(hk_rng_avail(r), 0); /* nothing fetched before the first draw */
    assert_true(all_zero(buf, HK_RNG_BUF));

    assert_int_equal(hk_rng_bytes(r, out, 8), 0);
    assert_int_equal(hk_rng_avail(r), HK_RNG_BUF - 8);
    assert_true(all_zero(buf, 8));       /* handed out: wiped */
    assert_false(all_zero(buf + 8, 32)); /* not yet: still random */
    assert_int_equal(hk_rng_bytes(r, out, 0), 0);
    assert_int_equal(hk_rng_avail(r), HK_RNG_BUF - 8);

    /* Drain it to fewer octets than the next draw: that draw refills. */
    size_t left = hk_rng_avail(r);
    while (left >= 200) {
        assert_int_equal(hk_rng_bytes(r, out, 200), 0);
        left -= 200;
        assert_int_equal(hk_rng_avail(r), left);
    }
    assert_true(all_zero(buf, HK_RNG_BUF - left));
    assert_int_equal(hk_rng_bytes(r, out, left + 1), 0);
    assert_int_equal(hk_rng_avail(r), HK_RNG_BUF - left - 1);
    assert_true(all_zero(buf, left + 1));
    assert_false(all_zero(buf + left + 1, 32));

    /* A draw above HK_RNG_MAX_DRAW goes straight to OpenSSL and leaves the buffer alone. */
    static uint8_t big[HK_RNG_MAX_DRAW + 1];
    size_t before = hk_rng_avail(r);
    assert_int_equal(hk_rng_bytes(r, big, sizeof(big)), 0);
    assert_int_equal(hk_rng_avail(r), before);
    assert_false(all_zero(big, sizeof(big)));

    assert_int_equal(hk_rng_bytes(r, NULL, 4), HK_E_INVALID);
    /* Reset wipes every buffered octet (the same wipe free does, through hk_secret_free). */
    hk_rng_reset(r);
    assert_int_equal(hk_rng_avail(r), 0);
    assert_true(all_zero(buf, HK_RNG_BUF));
    hk_rng_free(r);
    hk_rng_free(NULL);
}

static void crypto_context_sources(void **state)
{
    const struct hk_crypto *c = *state;
    uint8_t a[32], b[32];
    assert_int_equal(hk_crypto_random(c, a, sizeof(a)), 0);
    assert_int_equal(hk_crypto_random(c, b, sizeof(b)), 0);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_true(hk_rng_avail(c->rng) > 0);
    /* The private source is a separate buffer: public draws leave it alone. */
    size_t priv = hk_rng_avail(c->rng_priv);
    assert_int_equal(hk_crypto_random(c, a, sizeof(a)), 0);
    assert_int_equal(hk_rng_avail(c->rng_priv), priv);
    hk_crypto_after_fork(c);
    assert_int_equal(hk_rng_avail(c->rng), 0);
    assert_int_equal(hk_rng_avail(c->rng_priv), 0);
    assert_true(all_zero(hk_rng_buffer(c->rng), HK_RNG_BUF));
}

/* A child's draw, reset first or not, sent back through a pipe. */
static void child_draw(const struct hk_crypto *c, bool reset, uint8_t out[16])
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        uint8_t v[16];
        if (reset)
            hk_crypto_after_fork(c);
        _exit(hk_crypto_random(c, v, sizeof(v)) || write(fd[1], v, sizeof(v)) != sizeof(v));
    }
    close(fd[1]);
    int st = 0;
    assert_int_equal(read(fd[0], out, 16), 16);
    close(fd[0]);
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Why hk_crypto_after_fork exists: without it a child repeats its parent's next draw. */
static void fork_needs_reset(void **state)
{
    const struct hk_crypto *c = *state;
    uint8_t mine[16], theirs[16];
    assert_int_equal(hk_crypto_random(c, mine, sizeof(mine)), 0); /* fill the buffer */
    child_draw(c, false, theirs);
    assert_int_equal(hk_crypto_random(c, mine, sizeof(mine)), 0);
    assert_memory_equal(mine, theirs, sizeof(mine));
    child_draw(c, true, theirs);
    assert_int_equal(hk_crypto_random(c, mine, sizeof(mine)), 0);
    assert_memory_not_equal(mine, theirs, sizeof(mine));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(draws_are_not_repeated),
        cmocka_unit_test(consumed_octets_are_wiped_and_buffer_refills),
        cmocka_unit_test(crypto_context_sources),
        cmocka_unit_test(fork_needs_reset),
    };
    return cmocka_run_group_tests(tests, test_crypto_setup, test_crypto_teardown);
}
