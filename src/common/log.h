/*
 * Levelled logging through a context the caller owns (no global logger).
 * A NULL log is valid and discards everything, which keeps pure code testable.
 * Never pass key material to these functions.
 */
#ifndef HIKE_COMMON_LOG_H
#define HIKE_COMMON_LOG_H

#include <stdarg.h>
#include <stdio.h>

enum hk_log_level {
    HK_LOG_ERROR = 0,
    HK_LOG_WARN = 1,
    HK_LOG_INFO = 2,
    HK_LOG_DEBUG = 3,
};

typedef void (*hk_log_sink)(void *arg, enum hk_log_level lvl, const char *line);

struct hk_log {
    enum hk_log_level level;
    FILE *out;        /* used when sink is NULL */
    hk_log_sink sink; /* optional: receives each formatted line */
    void *sink_arg;
    const char *prefix; /* optional, e.g. a node name */
};

void hk_log_init(struct hk_log *l, enum hk_log_level level, FILE *out);
const char *hk_log_level_name(enum hk_log_level lvl);
/* Parses "error", "warn", "info", "debug"; returns -1 when unknown. */
int hk_log_level_parse(const char *s);
static inline int hk_log_enabled(const struct hk_log *l, enum hk_log_level lvl)
{
    return l && lvl <= l->level;
}

void hk_logf(const struct hk_log *l, enum hk_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void hk_vlogf(const struct hk_log *l, enum hk_log_level lvl, const char *fmt, va_list ap);

/*
 * The level is checked before the arguments are evaluated, so a dropped line costs no
 * formatting helpers (ike_sa_name, address strings) on the hot path. l is evaluated
 * twice: pass a plain pointer expression without side effects.
 */
#define HK_LOG_AT(l, lvl, ...)                                                                     \
    (hk_log_enabled((l), (lvl)) ? hk_logf((l), (lvl), __VA_ARGS__) : (void)0)
#define hk_err(l, ...)   HK_LOG_AT((l), HK_LOG_ERROR, __VA_ARGS__)
#define hk_warn(l, ...)  HK_LOG_AT((l), HK_LOG_WARN, __VA_ARGS__)
#define hk_info(l, ...)  HK_LOG_AT((l), HK_LOG_INFO, __VA_ARGS__)
#define hk_debug(l, ...) HK_LOG_AT((l), HK_LOG_DEBUG, __VA_ARGS__)

#endif
