/* hike-load's figures: latencies for percentiles, failures counted by reason, the summary. */
#include "load.h"

#include "common/err.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int load_stats_init(struct load_stats *s, size_t count)
{
    *s = (struct load_stats){0};
    s->lat_us = malloc(count * sizeof(*s->lat_us));
    s->cap = count;
    return s->lat_us ? HK_OK : HK_E_NOMEM;
}

void load_stats_free(struct load_stats *s)
{
    free(s->lat_us);
    s->lat_us = NULL;
}

void load_stats_ok(struct load_stats *s, uint64_t latency_ns, uint64_t now_ns)
{
    s->established++;
    s->t_last_ns = now_ns;
    if (s->nlat < s->cap) {
        uint64_t us = latency_ns / 1000;
        s->lat_us[s->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    }
}

void load_stats_fail(struct load_stats *s, const char *why)
{
    s->failed++;
    size_t i;
    for (i = 0; i < s->nreasons; i++)
        if (!strcmp(s->reasons[i].why, why))
            break;
    if (i == s->nreasons) {
        if (s->nreasons == LOAD_MAX_REASONS) {
            i = LOAD_MAX_REASONS - 1; /* the last slot collects what does not fit */
            snprintf(s->reasons[i].why, sizeof(s->reasons[i].why), "other");
        } else {
            snprintf(s->reasons[i].why, sizeof(s->reasons[i].why), "%s", why);
            s->nreasons++;
        }
    }
    s->reasons[i].n++;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted values. */
static uint32_t pct(const uint32_t *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
    return v[k ? (k > n ? n : k) - 1 : 0];
}

void load_stats_print(const struct load_stats *s, const struct load_opts *o, FILE *f)
{
    uint32_t *v = malloc((s->nlat ? s->nlat : 1) * sizeof(*v));
    if (!v)
        return;
    memcpy(v, s->lat_us, s->nlat * sizeof(*v));
    qsort(v, s->nlat, sizeof(*v), cmp_u32);
    double sum = 0;
    for (size_t i = 0; i < s->nlat; i++)
        sum += v[i];
    double elapsed =
        s->t_last_ns > s->t_first_ns ? (double)(s->t_last_ns - s->t_first_ns) / 1e9 : 0;
    double rate = elapsed > 0 ? (double)s->established / elapsed : 0;
    uint32_t p50 = pct(v, s->nlat, 50), p90 = pct(v, s->nlat, 90), p99 = pct(v, s->nlat, 99),
             mx = s->nlat ? v[s->nlat - 1] : 0;
    double mean = s->nlat ? sum / (double)s->nlat : 0;
    double cpu_us = s->established ? s->cpu_s * 1e6 / (double)s->established : 0;
    if (o->json) {
        json_t *fails = json_object();
        for (size_t i = 0; i < s->nreasons; i++)
            json_object_set_new(fails, s->reasons[i].why,
                                json_integer((json_int_t)s->reasons[i].n));
        json_t *j = json_pack(
            "{s:I, s:I, s:b, s:I, s:I, s:I, s:f, s:f, s:{s:I, s:I, s:I, s:I, s:f}, s:o, s:f, s:f}",
            "count", (json_int_t)o->count, "window", (json_int_t)o->window, "child", !o->childless,
            "started", (json_int_t)s->started, "established", (json_int_t)s->established, "failed",
            (json_int_t)s->failed, "elapsed_s", elapsed, "rate_per_s", rate, "latency_us", "p50",
            (json_int_t)p50, "p90", (json_int_t)p90, "p99", (json_int_t)p99, "max", (json_int_t)mx,
            "mean", mean, "failures", fails, "generator_cpu_s", s->cpu_s, "generator_cpu_us_per_sa",
            cpu_us);
        if (j) {
            json_dumpf(j, f, JSON_COMPACT);
            fputc('\n', f);
            json_decref(j);
        }
    } else {
        fprintf(f,
                "hike-load: %llu of %u IKE SAs%s up in %.3f s: %.1f/s; latency p50 %.2f ms, "
                "p90 %.2f ms, p99 %.2f ms, max %.2f ms; %llu failed; generator CPU %.2f s "
                "(%.0f us/SA)\n",
                (unsigned long long)s->established, o->count,
                o->childless ? "" : " with a Child SA", elapsed, rate, p50 / 1e3, p90 / 1e3,
                p99 / 1e3, mx / 1e3, (unsigned long long)s->failed, s->cpu_s, cpu_us);
        for (size_t i = 0; i < s->nreasons; i++)
            fprintf(f, "  failed: %llu x %s\n", (unsigned long long)s->reasons[i].n,
                    s->reasons[i].why);
    }
    fflush(f);
    free(v);
}
