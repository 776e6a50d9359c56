/*
 * hike-load: the event loop. A window of set-ups in flight; each SA is timed from its
 * initiate to its Child SA (or, childless, to ESTABLISHED) through the engine's ops; once up
 * it is deleted again, or kept with --hold.
 */
#include "load.h"

#include "common/err.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define CONN_NAME     "load"
#define DELETE_GRACE  5 /* seconds the DELETEs of the last SAs may take before we leave */
#define CHILD_MISSING "IKE SA up, but its Child SA was not established"

uint64_t load_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ms(void *arg)
{
    (void)arg;
    return load_now_ns() / 1000000;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* The SA's record while it is being set up; NULL once it is done with (or not ours). */
static struct load_sa *rec_of(struct load *l, uint64_t ike_id)
{
    return hk_u64map_get(&l->by_id, ike_id);
}

static void finished(struct load *l, struct load_sa *r)
{
    r->state = LOAD_SA_DONE;
    l->inflight--;
}

static void succeeded(struct load *l, struct load_sa *r)
{
    uint64_t now = load_now_ns();
    load_stats_ok(&l->stats, now - r->t0_ns, now);
    finished(l, r);
}

/* ---- engine ops; they only record: commands to the engine wait for load_kick ---- */

static void note_up(struct load *l, uint64_t ike_id)
{
    if (l->ncheck == l->check_cap) {
        size_t cap = l->check_cap ? 2 * l->check_cap : 256;
        uint64_t *c = realloc(l->check, cap * sizeof(*c));
        if (!c) {
            hk_err(&l->log, "out of memory");
            return;
        }
        l->check = c;
        l->check_cap = cap;
    }
    l->check[l->ncheck++] = ike_id;
}

static void on_ike_up(void *arg, const struct ike_sa *sa)
{
    struct load *l = arg;
    struct load_sa *r = rec_of(l, sa->id);
    if (!r || r->state != LOAD_SA_PENDING)
        return;
    r->state = LOAD_SA_UP;
    if (l->o->childless)
        succeeded(l, r);
    note_up(l, sa->id);
}

static int on_child_up(void *arg, const struct ike_sa *sa, const struct child_sa *c)
{
    struct load *l = arg;
    struct load_sa *r = rec_of(l, c->ike_id);
    (void)sa;
    if (r && r->state == LOAD_SA_UP)
        succeeded(l, r);
    return 0; /* no data plane: nothing to install */
}

static void on_ike_failed(void *arg, const struct ike_sa *sa, const char *why)
{
    struct load *l = arg;
    struct load_sa *r = hk_u64map_del(&l->by_id, sa->id);
    if (!r || r->state == LOAD_SA_DONE)
        return;
    load_stats_fail(&l->stats, why);
    finished(l, r);
}

static void on_ike_down(void *arg, const struct ike_sa *sa)
{
    struct load *l = arg;
    struct load_sa *r = hk_u64map_del(&l->by_id, sa->id);
    if (!r || r->state == LOAD_SA_DONE)
        return;
    load_stats_fail(&l->stats, "deleted before its Child SA was up");
    finished(l, r);
}

/* ---- the window ---- */

static void start_one(struct load *l)
{
    struct load_sa *r = &l->sas[l->stats.started];
    uint64_t id = 0;
    r->t0_ns = load_now_ns();
    if (!l->stats.started)
        l->stats.t_first_ns = r->t0_ns;
    int rc =
        ike_engine_initiate_from(&l->engine, CONN_NAME, load_net_local(l, l->stats.started), &id);
    l->stats.started++;
    if (rc) {
        r->state = LOAD_SA_DONE;
        load_stats_fail(&l->stats, hk_strerror(rc));
        return;
    }
    r->ike_id = id;
    /* The engine may have answered synchronously in theory; a record only for a live SA. */
    if (ike_engine_sa(&l->engine, id) && !hk_u64map_put(&l->by_id, id, r))
        l->inflight++;
}

static void report(struct load *l)
{
    l->stats.cpu_s = cpu_seconds() - l->stats.cpu_s;
    load_stats_print(&l->stats, l->o, stdout);
}

static void stop(struct load *l)
{
    event_base_loopexit(l->base, NULL);
}

static void on_grace(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    stop(arg);
}

static void all_done(struct load *l)
{
    l->all_done = true;
    report(l);
    if (l->o->hold) {
        hk_info(&l->log, "holding %zu IKE SAs until SIGINT or SIGTERM",
                ike_engine_sa_count(&l->engine));
        return;
    }
    struct timeval tv = {.tv_sec = DELETE_GRACE};
    event_base_once(l->base, -1, EV_TIMEOUT, on_grace, l, &tv);
}

void load_kick(struct load *l)
{
    /* SAs that came up since the last kick: a missing child is a failure; delete unless held. */
    for (size_t i = 0; i < l->ncheck; i++) {
        uint64_t id = l->check[i];
        struct load_sa *r = hk_u64map_del(&l->by_id, id);
        if (r && r->state == LOAD_SA_UP) {
            load_stats_fail(&l->stats, CHILD_MISSING);
            finished(l, r);
        }
        if (!l->o->hold)
            ike_engine_terminate(&l->engine, id);
    }
    l->ncheck = 0;
    while (!l->stopping && l->inflight < l->o->window && l->stats.started < l->o->count)
        start_one(l);
    uint64_t next = ike_engine_tick(&l->engine);
    if (!l->all_done && l->stats.established + l->stats.failed == l->o->count)
        all_done(l);
    if (l->all_done && !l->o->hold && !ike_engine_sa_count(&l->engine)) {
        stop(l);
        return;
    }
    evtimer_del(l->timer);
    if (next == UINT64_MAX)
        return;
    uint64_t now = now_ms(NULL), wait = next > now ? next - now : 0;
    struct timeval tv = {.tv_sec = (time_t)(wait / 1000),
                         .tv_usec = (suseconds_t)(wait % 1000) * 1000};
    evtimer_add(l->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    load_kick(arg);
}

/* A signal or the run's time limit: what is still in flight counts as failed. */
static void give_up(struct load *l, const char *why)
{
    l->stopping = true;
    if (!l->all_done) {
        size_t pos = 0;
        struct load_sa *r;
        while ((r = hk_u64map_next(&l->by_id, &pos, NULL)))
            if (r->state != LOAD_SA_DONE)
                load_stats_fail(&l->stats, why);
        l->all_done = true;
        report(l);
    }
    stop(l);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    give_up(arg, sig == SIGINT ? "interrupted (SIGINT)" : "interrupted (SIGTERM)");
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    give_up(arg, "run time limit (--timeout) reached");
}

/* event_base_dispatch, sending what a round of callbacks queued before waiting again. */
static void run(struct load *l)
{
    load_kick(l);
    for (;;) {
        load_net_flush(l);
        int rc = event_base_loop(l->base, EVLOOP_ONCE);
        if (rc || event_base_got_exit(l->base) || event_base_got_break(l->base))
            break;
    }
    load_net_flush(l);
}

/* One socket per port, and room for the kernel's own descriptors. */
static void raise_fd_limit(size_t need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need + 64)
        return;
    rl.rlim_cur = need + 64 > rl.rlim_max ? rl.rlim_max : need + 64;
    setrlimit(RLIMIT_NOFILE, &rl);
}

static int setup(struct load *l)
{
    char err[512];
    char *text = load_conf_text(l->o);
    if (!text) {
        fprintf(stderr, "hike-load: out of memory\n");
        return 3;
    }
    int rc = hk_config_load_string(text, &l->cfg, err, sizeof(err));
    free(text);
    if (rc) {
        /* A proposal or identity the parser refused: the message names the setting. */
        fprintf(stderr, "hike-load: invalid settings: %s\n", err);
        return 2;
    }
    raise_fd_limit(l->o->nports);
    l->sas = calloc(l->o->count, sizeof(*l->sas));
    l->base = event_base_new();
    if (!l->sas || !l->base || load_stats_init(&l->stats, l->o->count) ||
        hk_crypto_init(&l->crypto)) {
        fprintf(stderr, "hike-load: cannot initialise (memory, libevent or OpenSSL)\n");
        return 3;
    }
    hk_u64map_init(&l->by_id, (uint64_t)load_now_ns());
    struct ike_engine_ops ops = {.arg = l,
                                 .now = now_ms,
                                 .send = load_net_send,
                                 .child_up = on_child_up,
                                 .ike_up = on_ike_up,
                                 .ike_down = on_ike_down,
                                 .ike_failed = on_ike_failed};
    if (ike_engine_init(&l->engine, &l->crypto, &l->log, l->cfg, &ops)) {
        fprintf(stderr, "hike-load: cannot start the IKE engine\n");
        return 3;
    }
    l->engine_up = true;
    l->timer = evtimer_new(l->base, on_timer, l);
    l->sig_int = evsignal_new(l->base, SIGINT, on_signal, l);
    l->sig_term = evsignal_new(l->base, SIGTERM, on_signal, l);
    l->deadline = evtimer_new(l->base, on_deadline, l);
    struct timeval limit = {.tv_sec = l->o->timeout_s};
    if (!l->timer || !l->sig_int || !l->sig_term || !l->deadline ||
        evsignal_add(l->sig_int, NULL) || evsignal_add(l->sig_term, NULL) ||
        (l->o->timeout_s && evtimer_add(l->deadline, &limit))) {
        fprintf(stderr, "hike-load: libevent set-up failed\n");
        return 3;
    }
    return load_net_open(l) ? 3 : 0;
}

static void teardown(struct load *l)
{
    load_net_close(l);
    struct event *evs[] = {l->timer, l->sig_int, l->sig_term, l->deadline};
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
        if (evs[i])
            event_free(evs[i]);
    if (l->engine_up)
        ike_engine_free(&l->engine);
    hk_u64map_free(&l->by_id);
    hk_crypto_free(&l->crypto);
    hk_config_free(l->cfg);
    if (l->base)
        event_base_free(l->base);
    load_stats_free(&l->stats);
    free(l->sas);
    free(l->check);
}

int main(int argc, char **argv)
{
    struct load_opts *o = calloc(1, sizeof(*o)); /* large: the source address list */
    struct load l = {0};
    if (!o) {
        fprintf(stderr, "hike-load: out of memory\n");
        return 3;
    }
    int rc = load_opts_parse(o, argc, argv);
    if (rc) {
        free(o);
        return rc == 1 ? 0 : rc;
    }
    signal(SIGPIPE, SIG_IGN);
    l.o = o;
    hk_log_init(&l.log, (enum hk_log_level)o->log_level, stderr);
    rc = setup(&l);
    if (!rc) {
        l.stats.cpu_s = cpu_seconds();
        run(&l);
        rc = l.stats.established == o->count ? 0 : 1;
    }
    teardown(&l);
    free(o);
    return rc;
}
