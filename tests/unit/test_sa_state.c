/*
 * The state gates of IKE and Child SAs (sa.c): every move, allowed or refused, against the
 * table below, written from the protocol (RFC 7296 1.3, 2.8, 2.18, 2.21) rather than read
 * off the code. A refused move leaves the state as it was and logs an error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "ike/sa.h"

#define NIKE   (IKE_SA_DEAD + 1)
#define NCHILD (CHILD_SA_DEAD + 1)

/* ike_ok[from][to]. DEAD (to be freed) is reachable from every live state. */
static const bool ike_ok[NIKE][NIKE] = {
    /* an initiator's IKE_SA_INIT again (COOKIE, INVALID_KE: 2.6, 1.2), IKE_AUTH out, or the new
     * SA of an IKE rekey we started, established by the CREATE_CHILD_SA response (2.18) */
    [IKE_SA_INIT_SENT] = {[IKE_SA_INIT_SENT] = true,
                          [IKE_SA_AUTH_SENT] = true,
                          [IKE_SA_ESTABLISHED] = true,
                          [IKE_SA_DEAD] = true},
    /* a responder: IKE_AUTH verified */
    [IKE_SA_INIT_RCVD] = {[IKE_SA_ESTABLISHED] = true, [IKE_SA_DEAD] = true},
    /* the responder's AUTH verified, or failed our check: we close it (2.21.2) */
    [IKE_SA_AUTH_SENT] =
        {[IKE_SA_ESTABLISHED] = true, [IKE_SA_DELETING] = true, [IKE_SA_DEAD] = true},
    [IKE_SA_ESTABLISHED] =
        {[IKE_SA_REKEYED] = true, [IKE_SA_DELETING] = true, [IKE_SA_DEAD] = true},
    [IKE_SA_REKEYED] = {[IKE_SA_DELETING] = true, [IKE_SA_DEAD] = true},
    [IKE_SA_DELETING] = {[IKE_SA_DEAD] = true},
    [IKE_SA_DEAD] = {false},
};

static const bool child_ok[NCHILD][NCHILD] = {
    [CHILD_SA_CREATING] = {[CHILD_SA_INSTALLED] = true, [CHILD_SA_DEAD] = true},
    [CHILD_SA_INSTALLED] =
        {[CHILD_SA_REKEYED] = true, [CHILD_SA_DELETING] = true, [CHILD_SA_DEAD] = true},
    [CHILD_SA_REKEYED] = {[CHILD_SA_DELETING] = true, [CHILD_SA_DEAD] = true},
    [CHILD_SA_DELETING] = {[CHILD_SA_DEAD] = true},
    [CHILD_SA_DEAD] = {false},
};

static int errors;

static void count(void *arg, enum hk_log_level lvl, const char *line)
{
    (void)arg, (void)line;
    if (lvl == HK_LOG_ERROR)
        errors++;
}

static void ike_gate(void **state)
{
    (void)state;
    struct hk_log log = {.level = HK_LOG_DEBUG, .sink = count};
    for (int from = 0; from < NIKE; from++)
        for (int to = 0; to < NIKE; to++) {
            struct ike_sa sa = {.state = (enum ike_sa_state)from};
            int before = errors;
            int rc = ike_sa_set_state(&sa, (enum ike_sa_state)to, &log);
            if (ike_ok[from][to]) {
                assert_int_equal(rc, HK_OK);
                assert_int_equal(sa.state, to);
                assert_int_equal(errors, before);
            } else {
                assert_int_equal(rc, HK_E_STATE);
                assert_int_equal(sa.state, from);
                assert_int_equal(errors, before + 1);
            }
        }
}

static void child_gate(void **state)
{
    (void)state;
    struct hk_log log = {.level = HK_LOG_DEBUG, .sink = count};
    for (int from = 0; from < NCHILD; from++)
        for (int to = 0; to < NCHILD; to++) {
            struct child_sa c = {.state = (enum child_sa_state)from};
            int before = errors;
            int rc = child_sa_set_state(&c, (enum child_sa_state)to, &log);
            if (child_ok[from][to]) {
                assert_int_equal(rc, HK_OK);
                assert_int_equal(c.state, to);
            } else {
                assert_int_equal(rc, HK_E_STATE);
                assert_int_equal(c.state, from);
                assert_int_equal(errors, before + 1);
            }
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ike_gate),
        cmocka_unit_test(child_gate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
