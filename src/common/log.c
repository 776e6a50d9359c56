#include "common/log.h"

#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void hk_log_init(struct hk_log *l, enum hk_log_level level, FILE *out)
{
    memset(l, 0, sizeof(*l));
    l->level = level;
    l->out = out;
}

const char *hk_log_level_name(enum hk_log_level lvl)
{
    return (unsigned)lvl < 4 ? level_names[lvl] : "?";
}

int hk_log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (s && !strcasecmp(s, level_names[i]))
            return i;
    return -1;
}

void hk_vlogf(const struct hk_log *l, enum hk_log_level lvl, const char *fmt, va_list ap)
{
    char line[1024];
    if (!hk_log_enabled(l, lvl))
        return;
    vsnprintf(line, sizeof(line), fmt, ap);
    if (l->sink) {
        l->sink(l->sink_arg, lvl, line);
        return;
    }
    if (!l->out)
        return;
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    localtime_r(&tv.tv_sec, &tm);
    fprintf(l->out, "%02d:%02d:%02d.%03ld %-5s %s%s%s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
            (long)(tv.tv_usec / 1000), hk_log_level_name(lvl), l->prefix ? l->prefix : "",
            l->prefix ? ": " : "", line);
    fflush(l->out);
}

void hk_logf(const struct hk_log *l, enum hk_log_level lvl, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hk_vlogf(l, lvl, fmt, ap);
    va_end(ap);
}
