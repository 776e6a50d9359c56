/*
 * snprintf for text where cutting short is fine (a reason shown to the user, a device name
 * in an error): the result is always terminated. gcc's -Wformat-truncation cannot tell such
 * calls from bugs; through this wrapper it does not try.
 */
#ifndef HIKE_COMMON_FMT_H
#define HIKE_COMMON_FMT_H

#include <stddef.h>

/* Returns what snprintf returns. */
int hk_fmt(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* An error code with its reason: the text into err (when err and errlen are given), rc back,
 * so that `return hk_errf(HK_E_..., err, errlen, "...", ...);` reports and fails at once. */
int hk_errf(int rc, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
