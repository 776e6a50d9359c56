#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t h_now(void *arg)
{
    return ((struct h_peer *)arg)->w->now;
}

static void h_send(void *arg, const struct sockaddr_storage *local,
                   const struct sockaddr_storage *remote, const uint8_t *buf, size_t len)
{
    struct h_peer *p = arg;
    struct h_world *w = p->w;
    assert_true(w->npkts < H_MAX_PKTS);
    struct h_pkt *k = &w->pkts[w->npkts++];
    k->from = p->idx;
    k->src = *local;
    k->dst = *remote;
    k->buf = malloc(len);
    memcpy(k->buf, buf, len);
    k->len = len;
}

static int h_local_addr(void *arg, const struct sockaddr_storage *remote,
                        struct sockaddr_storage *local)
{
    (void)remote;
    *local = ((struct h_peer *)arg)->addr;
    return 0;
}

static int h_child_up(void *arg, const struct ike_sa *sa, const struct child_sa *c)
{
    struct h_peer *p = arg;
    (void)sa;
    (void)c;
    if (p->child_up_fail > 0) {
        p->child_up_fail--;
        return -1;
    }
    p->child_up++;
    return 0;
}

static void h_child_down(void *arg, const struct child_sa *c)
{
    (void)c;
    ((struct h_peer *)arg)->child_down++;
}

static void h_child_moved(void *arg, const struct ike_sa *sa, const struct child_sa *c)
{
    struct h_peer *p = arg;
    /* The data plane is told the SA the child belongs to now, with that SA's path. */
    if (c->ike_id == sa->id)
        p->child_moved++;
}

static void h_ike_up(void *arg, const struct ike_sa *sa)
{
    (void)sa;
    ((struct h_peer *)arg)->ike_up++;
}

static void h_ike_down(void *arg, const struct ike_sa *sa)
{
    (void)sa;
    ((struct h_peer *)arg)->ike_down++;
}

static void h_ike_failed(void *arg, const struct ike_sa *sa, const char *why)
{
    struct h_peer *p = arg;
    (void)sa;
    p->ike_failed++;
    snprintf(p->failed_why, sizeof(p->failed_why), "%s", why);
}

static void h_keepalive(void *arg, const struct sockaddr_storage *local,
                        const struct sockaddr_storage *remote)
{
    (void)local, (void)remote;
    ((struct h_peer *)arg)->keepalives++;
}

static void h_log_sink(void *arg, enum hk_log_level lvl, const char *line)
{
    struct h_peer *p = arg;
    if (getenv("HIKE_TEST_VERBOSE"))
        fprintf(stderr, "[%6llu ms] %s %-5s %s\n", (unsigned long long)p->w->now, p->name,
                hk_log_level_name(lvl), line);
}

struct h_world *h_world_new(void)
{
    struct h_world *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    assert_int_equal(hk_crypto_init(&w->crypto), 0);
    w->now = 1000;
    return w;
}

void h_world_free(struct h_world *w)
{
    for (size_t i = 0; i < w->npeers; i++) {
        ike_engine_free(&w->peers[i].engine);
        hk_config_free(w->peers[i].cfg);
    }
    for (size_t i = 0; i < w->npkts; i++)
        free(w->pkts[i].buf);
    hk_crypto_free(&w->crypto);
    free(w);
}

struct h_peer *h_peer_add(struct h_world *w, const char *name, const char *ip, const char *conf)
{
    assert_true(w->npeers < H_MAX_PEERS);
    struct h_peer *p = &w->peers[w->npeers];
    char err[256] = "";
    p->w = w;
    p->idx = (int)w->npeers++;
    snprintf(p->name, sizeof(p->name), "%s", name);
    struct sockaddr_in *sin = (struct sockaddr_in *)&p->addr;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(500);
    assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
    if (hk_config_load_string(conf, &p->cfg, err, sizeof(err))) {
        print_error("config of %s: %s\n", name, err);
        fail();
    }
    hk_log_init(&p->log, HK_LOG_DEBUG, NULL);
    p->log.sink = h_log_sink;
    p->log.sink_arg = p;
    p->log.prefix = p->name;
    struct ike_engine_ops ops = {.arg = p,
                                 .now = h_now,
                                 .local_addr = h_local_addr,
                                 .send = h_send,
                                 .keepalive = h_keepalive,
                                 .child_up = h_child_up,
                                 .child_down = h_child_down,
                                 .child_moved = h_child_moved,
                                 .ike_up = h_ike_up,
                                 .ike_down = h_ike_down,
                                 .ike_failed = h_ike_failed};
    assert_int_equal(ike_engine_init(&p->engine, &w->crypto, &p->log, p->cfg, &ops), 0);
    return p;
}

void h_peer_add_addr(struct h_peer *p, const char *ip)
{
    assert_true(p->nextra < sizeof(p->extra) / sizeof(p->extra[0]));
    struct sockaddr_in *sin = (struct sockaddr_in *)&p->extra[p->nextra++];
    sin->sin_family = AF_INET;
    sin->sin_port = htons(500);
    assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
}

static bool same_ip(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    const struct sockaddr_in *x = (const struct sockaddr_in *)a, *y = (const struct sockaddr_in *)b;
    return a->ss_family == b->ss_family && x->sin_addr.s_addr == y->sin_addr.s_addr;
}

static bool peer_has(const struct h_peer *p, const struct sockaddr_storage *a)
{
    if (same_ip(&p->addr, a))
        return true;
    for (size_t i = 0; i < p->nextra; i++)
        if (same_ip(&p->extra[i], a))
            return true;
    return false;
}

size_t h_run(struct h_world *w)
{
    size_t n = 0;
    while (w->npkts) {
        struct h_pkt k = w->pkts[0];
        memmove(&w->pkts[0], &w->pkts[1], (w->npkts - 1) * sizeof(k));
        w->npkts--;
        if (w->filter && !w->filter(w, &k, w->filter_arg)) {
            w->dropped++;
            free(k.buf);
            continue;
        }
        for (size_t i = 0; i < w->npeers; i++)
            if (peer_has(&w->peers[i], &k.dst)) {
                ike_engine_recv(&w->peers[i].engine, &k.dst, &k.src, k.buf, k.len);
                w->delivered++;
                n++;
            }
        free(k.buf);
    }
    return n;
}

bool h_step_time(struct h_world *w, uint64_t limit)
{
    uint64_t next = UINT64_MAX;
    for (size_t i = 0; i < w->npeers; i++) {
        uint64_t t = ike_engine_tick(&w->peers[i].engine);
        if (t < next)
            next = t;
    }
    if (next == UINT64_MAX || next > limit)
        return false;
    if (next > w->now)
        w->now = next;
    for (size_t i = 0; i < w->npeers; i++)
        ike_engine_tick(&w->peers[i].engine);
    h_run(w);
    return true;
}

void h_settle(struct h_world *w, uint64_t limit)
{
    h_run(w);
    while (h_step_time(w, limit))
        ;
}

struct ike_sa *h_only_sa(struct h_peer *p)
{
    size_t pos = 0;
    struct ike_sa *sa = hk_u64map_next(&p->engine.sa_by_id, &pos, NULL);
    if (sa)
        assert_null(hk_u64map_next(&p->engine.sa_by_id, &pos, NULL));
    return sa;
}

struct child_sa *h_only_child(struct h_peer *p)
{
    size_t pos = 0;
    struct child_sa *c = hk_u64map_next(&p->engine.child_by_id, &pos, NULL);
    if (c)
        assert_null(hk_u64map_next(&p->engine.child_by_id, &pos, NULL));
    return c;
}
