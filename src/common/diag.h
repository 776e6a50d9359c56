/*
 * Why a parser rejected its input, with the numbers ("short payload: 6 < 8").
 * Pure code fills it in; the caller decides whether and where to log it.
 */
#ifndef HIKE_COMMON_DIAG_H
#define HIKE_COMMON_DIAG_H

struct hk_diag {
    char msg[160];
};

/* d may be NULL. Keeps the first message: the innermost failure is the useful one. */
void hk_diag_set(struct hk_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline const char *hk_diag_msg(const struct hk_diag *d)
{
    return d && d->msg[0] ? d->msg : "";
}

#endif
