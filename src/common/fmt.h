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

#endif
