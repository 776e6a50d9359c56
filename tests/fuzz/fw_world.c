#include "fw_world.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ike/pool.h"
#include "ike/sa.h"

static void fw_fail(const char *what)
{
    fprintf(stderr, "fuzz invariant broken: %s\n", what);
    abort();
}

const struct hk_crypto *fw_crypto(void)
{
    static struct hk_crypto c;
    static int ready;
    if (!ready) {
        if (hk_crypto_init(&c))
            fw_fail("hk_crypto_init");
        ready = 1;
    }
    return &c;
}

void fw_addr(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
    memset(ss, 0, sizeof(*ss));
    if (strchr(ip, ':')) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons(port);
        if (inet_pton(AF_INET6, ip, &s->sin6_addr) != 1)
            fw_fail("bad address in the fuzz target");
        return;
    }
    struct sockaddr_in *s = (struct sockaddr_in *)ss;
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    if (inet_pton(AF_INET, ip, &s->sin_addr) != 1)
        fw_fail("bad address in the fuzz target");
}

/* sin_port and sin6_port are at the same place. */
uint16_t fw_port(const struct sockaddr_storage *ss)
{
    return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

void fw_set_port(struct sockaddr_storage *ss, uint16_t port)
{
    ((struct sockaddr_in *)ss)->sin_port = htons(port);
}

static uint64_t fw_now(void *arg)
{
    return ((struct fw_peer *)arg)->w->now;
}

static void fw_send(void *arg, const struct sockaddr_storage *l, const struct sockaddr_storage *r,
                    const uint8_t *buf, size_t len)
{
    struct fw_peer *p = arg;
    struct fw_pkt *k = &p->pool[p->sent % FW_POOL];
    free(k->buf);
    k->buf = malloc(len ? len : 1);
    if (!k->buf)
        fw_fail("out of memory");
    memcpy(k->buf, buf, len);
    k->len = len;
    k->src = *l;
    k->dst = *r;
    p->sent++;
}

static int fw_local_addr(void *arg, const struct sockaddr_storage *remote,
                         struct sockaddr_storage *local)
{
    (void)remote;
    *local = ((struct fw_peer *)arg)->addr;
    return 0;
}

static int fw_child_up(void *arg, const struct ike_sa *sa, const struct child_sa *c)
{
    (void)sa, (void)c;
    ((struct fw_peer *)arg)->child_up++;
    return 0;
}

static void fw_child_down(void *arg, const struct child_sa *c)
{
    (void)c;
    ((struct fw_peer *)arg)->child_down++;
}

static void fw_ike_up(void *arg, const struct ike_sa *sa)
{
    (void)sa;
    ((struct fw_peer *)arg)->ike_up++;
}

static void fw_ike_down(void *arg, const struct ike_sa *sa)
{
    (void)sa;
    ((struct fw_peer *)arg)->ike_down++;
}

static void fw_ike_failed(void *arg, const struct ike_sa *sa, const char *why)
{
    (void)sa, (void)why;
    ((struct fw_peer *)arg)->ike_failed++;
}

static void fw_keepalive(void *arg, const struct sockaddr_storage *l,
                         const struct sockaddr_storage *r)
{
    (void)arg, (void)l, (void)r;
}

void fw_world_init(struct fw_world *w)
{
    memset(w, 0, sizeof(*w));
    w->now = 1000;
}

void fw_world_free(struct fw_world *w)
{
    for (size_t i = 0; i < w->npeers; i++) {
        struct fw_peer *p = &w->peers[i];
        if (p->up)
            ike_engine_free(&p->e);
        hk_config_free(p->cfg);
        for (size_t k = 0; k < FW_POOL; k++)
            free(p->pool[k].buf);
    }
    memset(w, 0, sizeof(*w));
}

struct fw_peer *fw_peer_add(struct fw_world *w, const char *ip, const char *conf)
{
    char err[256];
    if (w->npeers >= FW_MAX_PEERS)
        fw_fail("too many peers");
    struct fw_peer *p = &w->peers[w->npeers++];
    p->w = w;
    fw_addr(&p->addr, ip, 500);
    if (hk_config_load_string(conf, &p->cfg, err, sizeof(err))) {
        fprintf(stderr, "fuzz target config: %s\n", err);
        abort();
    }
    /* FUZZ_VERBOSE=1 shows the engines' debug log (for reading a crash). */
    const struct hk_log *log = NULL;
    if (getenv("FUZZ_VERBOSE")) {
        hk_log_init(&p->log, HK_LOG_DEBUG, stderr);
        p->log.prefix = ip;
        log = &p->log;
    }
    struct ike_engine_ops ops;
    fw_ops(p, &ops);
    if (ike_engine_init(&p->e, fw_crypto(), log, p->cfg, &ops))
        fw_fail("ike_engine_init");
    p->up = true;
    p->eng = &p->e;
    return p;
}

void fw_ops(struct fw_peer *p, struct ike_engine_ops *ops)
{
    *ops = (struct ike_engine_ops){.arg = p,
                                   .now = fw_now,
                                   .local_addr = fw_local_addr,
                                   .send = fw_send,
                                   .keepalive = fw_keepalive,
                                   .child_up = fw_child_up,
                                   .child_down = fw_child_down,
                                   .ike_up = fw_ike_up,
                                   .ike_down = fw_ike_down,
                                   .ike_failed = fw_ike_failed};
}

struct fw_peer *fw_peer_shell(struct fw_world *w, const char *ip, struct ike_engine *eng)
{
    if (w->npeers >= FW_MAX_PEERS)
        fw_fail("too many peers");
    struct fw_peer *p = &w->peers[w->npeers++];
    p->w = w;
    fw_addr(&p->addr, ip, 500);
    p->eng = eng;
    return p;
}

const struct fw_pkt *fw_sent(const struct fw_peer *p, size_t k)
{
    if (k >= p->sent || k >= FW_POOL)
        return NULL;
    return &p->pool[(p->sent - 1 - k) % FW_POOL];
}

void fw_deliver(struct fw_peer *to, const struct sockaddr_storage *src,
                const struct sockaddr_storage *dst, const uint8_t *buf, size_t len)
{
    /* A copy of exactly len octets, so ASan sees a read past the datagram. */
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        fw_fail("out of memory");
    memcpy(copy, buf, len);
    ike_engine_recv(to->eng, dst, src, copy, len);
    free(copy);
}

static struct fw_peer *owner(struct fw_world *w, const struct sockaddr_storage *a)
{
    const struct sockaddr_in *x = (const struct sockaddr_in *)a;
    for (size_t i = 0; i < w->npeers; i++) {
        const struct sockaddr_in *y = (const struct sockaddr_in *)&w->peers[i].addr;
        if (a->ss_family == AF_INET && x->sin_addr.s_addr == y->sin_addr.s_addr)
            return &w->peers[i];
    }
    return NULL;
}

void fw_pump(struct fw_world *w, unsigned rounds)
{
    for (unsigned r = 0; r < rounds; r++) {
        bool any = false;
        for (size_t i = 0; i < w->npeers; i++) {
            struct fw_peer *p = &w->peers[i];
            if (p->sent - p->pumped > FW_POOL)
                p->pumped = p->sent - FW_POOL;
            while (p->pumped < p->sent) {
                /* Copied out: delivering may make the receiver answer into its own ring. */
                struct fw_pkt k = p->pool[p->pumped++ % FW_POOL];
                struct fw_peer *to = owner(w, &k.dst);
                uint8_t *buf = malloc(k.len ? k.len : 1);
                if (!buf)
                    fw_fail("out of memory");
                memcpy(buf, k.buf, k.len);
                if (to && to != p)
                    fw_deliver(to, &k.src, &k.dst, buf, k.len);
                free(buf);
                any = true;
            }
        }
        if (!any)
            return;
    }
}

void fw_advance(struct fw_world *w, uint64_t ms)
{
    /* Timer by timer, as hiked's event loop runs them: a retransmission re-armed by a tick
     * is due again before the end of a long step. Bounded for timers that keep re-arming. */
    uint64_t end = w->now + ms;
    for (int k = 0; k < 256; k++) {
        uint64_t next = UINT64_MAX;
        for (size_t i = 0; i < w->npeers; i++) {
            uint64_t t = ike_engine_tick(w->peers[i].eng);
            next = t < next ? t : next;
        }
        if (next > end)
            break;
        w->now = next > w->now ? next : w->now;
    }
    w->now = end;
    for (size_t i = 0; i < w->npeers; i++)
        ike_engine_tick(w->peers[i].eng);
}

/* ---- invariants ---- */

static bool has_value(const struct hk_u64map *m, const void *v)
{
    size_t pos = 0;
    const void *x;
    while ((x = hk_u64map_next(m, &pos, NULL)))
        if (x == v)
            return true;
    return false;
}

static uint64_t spi_key(const uint8_t spi[8])
{
    uint64_t k = 0;
    for (int i = 0; i < 8; i++)
        k = (k << 8) | spi[i];
    return k;
}

void fw_check(const struct ike_engine *e)
{
    /* FUZZ_NO_CHECK=1 leaves the checks out: to see what a broken table does later on
     * (say, a use after free under ASan) rather than where the check catches it. */
    static int off = -1;
    if (off < 0)
        off = getenv("FUZZ_NO_CHECK") != NULL;
    if (off)
        return;
    size_t pos = 0;
    uint64_t key;
    struct ike_sa *sa;
    struct child_sa *c;
    /* sa_by_id is the owner of every SA: the other tables may only point into it. Values
     * are compared as pointers before any is dereferenced, so a dangling entry is reported
     * here rather than read. */
    while ((sa = hk_u64map_next(&e->sa_by_id, &pos, &key))) {
        if (sa->id != key)
            fw_fail("sa_by_id key is not the SA's id");
        if (hk_u64map_get(&e->sa_by_spi, spi_key(sa->initiator ? sa->spi_i : sa->spi_r)) != sa)
            fw_fail("an SA is missing from sa_by_spi");
        for (size_t i = 0; i < sa->nchildren; i++)
            if (!hk_u64map_get(&e->child_by_id, sa->children[i]))
                fw_fail("an SA lists a child that is gone");
    }
    pos = 0;
    while ((sa = hk_u64map_next(&e->sa_by_spi, &pos, &key))) {
        if (!has_value(&e->sa_by_id, sa))
            fw_fail("sa_by_spi points to an SA that is not in sa_by_id (freed)");
        if (key != spi_key(sa->initiator ? sa->spi_i : sa->spi_r))
            fw_fail("sa_by_spi key is not the SA's own SPI");
    }
    /* Virtual addresses leased from the pools (2.19) are held by IKE SAs (vip_pool names the
     * pool of a lease; an initiator's assigned addresses have none): a lease no SA holds
     * is lost to the pool. */
    size_t held = 0, leased = 0;
    pos = 0;
    while ((sa = hk_u64map_next(&e->sa_by_id, &pos, NULL)))
        for (uint8_t i = 0; i < sa->nvip && i < 2; i++)
            held += sa->vip_pool[i][0] != '\0';
    for (size_t i = 0; i < e->npools; i++)
        leased += hk_ippool_in_use(e->pools[i]);
    if (leased > held)
        fw_fail("a virtual address stays leased that no IKE SA holds");
    pos = 0;
    size_t nhalf = 0;
    while ((sa = hk_u64map_next(&e->half_open, &pos, NULL))) {
        nhalf++;
        if (!has_value(&e->sa_by_id, sa))
            fw_fail("half_open points to an SA that is not in sa_by_id (freed)");
        if (sa->initiator || sa->state != IKE_SA_INIT_RCVD)
            fw_fail("half_open holds an SA that is not a half-open responder SA");
    }
    if (nhalf != e->nhalf_open)
        fw_fail("nhalf_open differs from the entries of the half_open table");
    pos = 0;
    while ((c = hk_u64map_next(&e->child_by_id, &pos, &key))) {
        if (c->id != key)
            fw_fail("child_by_id key is not the child's id");
        sa = hk_u64map_get(&e->sa_by_id, c->ike_id);
        if (!sa)
            fw_fail("a child's IKE SA is gone");
        bool listed = false;
        for (size_t i = 0; i < sa->nchildren; i++)
            listed |= sa->children[i] == c->id;
        if (!listed)
            fw_fail("a child is not listed by its IKE SA");
    }
    pos = 0;
    while ((c = hk_u64map_next(&e->child_by_spi, &pos, &key))) {
        if (!has_value(&e->child_by_id, c))
            fw_fail("child_by_spi points to a child that is not in child_by_id (freed)");
        if (key != c->spi_in)
            fw_fail("child_by_spi key is not the child's inbound SPI");
    }
}

void fw_check_empty(const struct ike_engine *e)
{
    fw_check(e);
    if (getenv("FUZZ_NO_CHECK"))
        return;
    size_t pos = 0;
    struct ike_sa *sa;
    while ((sa = hk_u64map_next(&e->sa_by_id, &pos, NULL))) {
        char name[40];
        fprintf(stderr, "left: IKE SA %s [%s] %s, %s, request out: %s\n",
                ike_sa_name(sa, name, sizeof(name)), sa->conn, ike_sa_state_name(sa->state),
                sa->initiator ? "initiator" : "responder",
                sa->out.npkts ? ike_exchange_name(sa->out.exchange) : "none");
    }
    if (hk_u64map_count(&e->sa_by_id) || hk_u64map_count(&e->sa_by_spi) ||
        hk_u64map_count(&e->half_open) || e->nhalf_open)
        fw_fail("an IKE SA outlives a shutdown and an hour of silence");
    if (hk_u64map_count(&e->child_by_id) || hk_u64map_count(&e->child_by_spi))
        fw_fail("a Child SA outlives its IKE SAs");
    for (size_t i = 0; i < e->npools; i++)
        if (hk_ippool_in_use(e->pools[i]))
            fw_fail("a virtual address stays leased after every IKE SA is gone");
}
