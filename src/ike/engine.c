#include "ike/engine_internal.h"

#include "common/err.h"
#include "common/secret.h"
#include "crypto/crypto.h"
#include "ike/codec/notify.h"
#include "ike/conn_match.h"
#include "ike/creds.h"
#include "ike/sk_msg.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 7383 2.5.1: fragment so that a message fits a minimal path MTU. */
#define IKE_FRAG_LEN_V4 576
#define IKE_FRAG_LEN_V6 1280
/* Stack room for encoding one message: IKE_AUTH with a Child SA and CP fits; certificate
 * chains move to the heap. */
#define IKE_SEND_SCRATCH 2048
/* Stack room for a received message and its decoded payloads: the common exchanges fit,
 * certificate chains and big CREATE_CHILD_SA requests go to the heap. */
#define IKE_RX_COPY  2048
#define IKE_RX_ARENA 4096
/* Arena bound for decoding one message: generous for certificate chains, finite for attackers. */
#define IKE_RX_ARENA_LIMIT (1u << 20)
/* Retransmission back-off stops growing here (2.4 leaves the schedule to us). */
#define IKE_RETRANSMIT_MAX_MS 30000
/* RFC 3948 4: keepalives keep the NAT mapping; 20 s is the customary interval. */
#define NAT_KEEPALIVE_MS 20000

static const char *const drop_names[IKE_DROP__COUNT] = {
    [IKE_DROP_HEADER] = "bad-header",     [IKE_DROP_VERSION] = "bad-version",
    [IKE_DROP_NO_SA] = "unknown-spi",     [IKE_DROP_MSGID] = "bad-message-id",
    [IKE_DROP_DECODE] = "bad-syntax",     [IKE_DROP_ICV] = "bad-icv",
    [IKE_DROP_UNEXPECTED] = "unexpected", [IKE_DROP_COOKIE] = "cookie-required",
};

const char *ike_drop_name(enum ike_drop d)
{
    return (unsigned)d < IKE_DROP__COUNT ? drop_names[d] : "?";
}

uint64_t engine_now(struct ike_engine *e)
{
    return e->ops.now(e->ops.arg);
}

uint64_t engine_spi_key(const uint8_t spi[8])
{
    uint64_t k = 0;
    for (int i = 0; i < 8; i++)
        k = (k << 8) | spi[i];
    return k;
}

static uint64_t random_u64(void)
{
    uint64_t v = 0;
    hk_random(&v, sizeof(v));
    return v;
}

int ike_engine_init(struct ike_engine *e, const struct hk_crypto *crypto, const struct hk_log *log,
                    const struct hk_config *cfg, const struct ike_engine_ops *ops)
{
    memset(e, 0, sizeof(*e));
    e->crypto = crypto;
    e->log = log;
    e->cfg = cfg;
    e->ops = *ops;
    hk_u64map_init(&e->sa_by_spi, random_u64());
    hk_u64map_init(&e->sa_by_id, random_u64());
    hk_u64map_init(&e->half_open, random_u64());
    hk_u64map_init(&e->child_by_id, random_u64());
    hk_u64map_init(&e->child_by_spi, random_u64());
    hk_timerq_init(&e->timers);
    e->next_id = 1;
    e->natd_md = EVP_MD_CTX_new();
    if (!e->natd_md)
        return HK_E_NOMEM;
    int rc = engine_pools_sync(e);
    if (!rc)
        rc = hk_random(e->cookie_secret, sizeof(e->cookie_secret));
    if (!rc)
        rc = hk_random(&e->half_open_salt, sizeof(e->half_open_salt));
    if (rc) {
        EVP_MD_CTX_free(e->natd_md);
        e->natd_md = NULL;
    }
    return rc;
}

void ike_engine_free(struct ike_engine *e)
{
    size_t pos = 0;
    struct child_sa *c;
    while ((c = hk_u64map_next(&e->child_by_id, &pos, NULL)))
        child_sa_free(c);
    pos = 0;
    struct ike_sa *sa;
    while ((sa = hk_u64map_next(&e->sa_by_id, &pos, NULL)))
        ike_sa_free(sa);
    hk_u64map_free(&e->sa_by_spi);
    hk_u64map_free(&e->sa_by_id);
    hk_u64map_free(&e->half_open);
    hk_u64map_free(&e->child_by_id);
    hk_u64map_free(&e->child_by_spi);
    hk_timerq_free(&e->timers);
    ike_creds_flush(e);
    engine_pools_free(e);
    hk_wipe(e->cookie_secret, sizeof(e->cookie_secret));
    EVP_MD_CTX_free(e->natd_md);
    e->natd_md = NULL;
}

void ike_engine_set_config(struct ike_engine *e, const struct hk_config *cfg)
{
    e->cfg = cfg;
    ike_creds_flush(e);
    if (engine_pools_sync(e))
        hk_err(e->log, "cannot set up the address pools of the new configuration");
}

struct ike_sa *ike_engine_sa(const struct ike_engine *e, uint64_t id)
{
    return hk_u64map_get(&e->sa_by_id, id);
}

struct child_sa *ike_engine_child(const struct ike_engine *e, uint64_t id)
{
    return hk_u64map_get(&e->child_by_id, id);
}

void engine_addr_bytes(const struct sockaddr_storage *a, const uint8_t **ip, size_t *iplen,
                       uint16_t *port)
{
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)a;
        *ip = s->sin6_addr.s6_addr;
        *iplen = 16;
        *port = ntohs(s->sin6_port);
    } else {
        const struct sockaddr_in *s = (const struct sockaddr_in *)a;
        *ip = (const uint8_t *)&s->sin_addr;
        *iplen = 4;
        *port = ntohs(s->sin_port);
    }
}

char *engine_addr_str(const struct sockaddr_storage *a, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    const uint8_t *p;
    size_t n;
    uint16_t port;
    engine_addr_bytes(a, &p, &n, &port);
    inet_ntop(n == 16 ? AF_INET6 : AF_INET, p, ip, sizeof(ip));
    snprintf(buf, len, n == 16 ? "[%s]:%u" : "%s:%u", ip, port);
    return buf;
}

void engine_drop(struct ike_engine *e, enum ike_drop why, const struct sockaddr_storage *from,
                 const char *detail)
{
    char a[64];
    e->stats.drops[why]++;
    hk_info(e->log, "dropped message from %s: %s%s%s", engine_addr_str(from, a, sizeof(a)),
            ike_drop_name(why), detail && *detail ? ": " : "", detail ? detail : "");
}

struct ike_sa *engine_new_sa(struct ike_engine *e, bool initiator, const char *conn)
{
    struct ike_sa *sa = calloc(1, sizeof(*sa));
    if (!sa)
        return NULL;
    sa->id = e->next_id++;
    sa->initiator = initiator;
    sa->state = initiator ? IKE_SA_INIT_SENT : IKE_SA_INIT_RCVD;
    snprintf(sa->conn, sizeof(sa->conn), "%s", conn ? conn : "");
    sa->created_ms = sa->last_in_ms = engine_now(e);
    uint8_t *mine = initiator ? sa->spi_i : sa->spi_r;
    do {
        if (hk_crypto_random(e->crypto, mine, IKE_SPI_LEN)) {
            free(sa);
            return NULL;
        }
    } while (engine_spi_key(mine) == 0 || hk_u64map_get(&e->sa_by_spi, engine_spi_key(mine)));
    if (hk_u64map_put(&e->sa_by_spi, engine_spi_key(mine), sa) ||
        hk_u64map_put(&e->sa_by_id, sa->id, sa)) {
        hk_u64map_del(&e->sa_by_spi, engine_spi_key(mine));
        free(sa);
        return NULL;
    }
    return sa;
}

/*
 * The half-open table's key: the peer's SPIi, address and port, mixed with a secret salt so
 * that a peer cannot choose an SPI whose key lands on another peer's entry. Two different
 * triples may still share a key; lookups compare the whole triple (half_open_find).
 */
static uint64_t half_open_key(const struct ike_engine *e, const uint8_t spi_i[8],
                              const struct sockaddr_storage *remote)
{
    const uint8_t *ip;
    size_t n;
    uint16_t port;
    uint64_t k = engine_spi_key(spi_i) ^ e->half_open_salt;
    engine_addr_bytes(remote, &ip, &n, &port);
    for (size_t i = 0; i < n; i++)
        k = (k ^ ip[i]) * 0x100000001b3ULL;
    k = (k ^ port) * 0x9e3779b97f4a7c15ULL;
    return k ^ (k >> 29) ^ e->half_open_salt;
}

static bool same_addr_port(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    const uint8_t *ia, *ib;
    size_t na, nb;
    uint16_t pa, pb;
    engine_addr_bytes(a, &ia, &na, &pa);
    engine_addr_bytes(b, &ib, &nb, &pb);
    return a->ss_family == b->ss_family && na == nb && pa == pb && !memcmp(ia, ib, na);
}

void engine_delete_sa(struct ike_engine *e, struct ike_sa *sa, const char *why)
{
    char name[40], peer[64];
    x_create_abort(e, sa);
    engine_vip_release(e, sa);
    while (sa->nchildren) {
        struct child_sa *c = hk_u64map_get(&e->child_by_id, sa->children[sa->nchildren - 1]);
        if (c)
            engine_delete_child(e, sa, c);
        else
            sa->nchildren--;
    }
    if (sa->reported_up) {
        if (e->ops.ike_down)
            e->ops.ike_down(e->ops.arg, sa);
    } else {
        engine_sa_failed(e, sa, why);
    }
    hk_info(e->log, "IKE SA %s [%s] with %s deleted: %s", ike_sa_name(sa, name, sizeof(name)),
            sa->conn, engine_addr_str(&sa->remote, peer, sizeof(peer)), why);
    engine_half_open_done(e, sa); /* whatever its state or address now */
    hk_u64map_del(&e->sa_by_spi, engine_spi_key(sa->initiator ? sa->spi_i : sa->spi_r));
    hk_u64map_del(&e->sa_by_id, sa->id);
    ike_sa_free(sa);
}

/*
 * Responder bookkeeping of half-open SAs (2.6 cookies, 2.1 retransmitted IKE_SA_INIT). The
 * entry is keyed by the addresses of the IKE_SA_INIT request and remembers its key in the SA:
 * it leaves the table when the SA is authenticated or freed, by that key, never by a key
 * computed again from the SA's present address (which a NAT-T float changes).
 */
int engine_half_open_add(struct ike_engine *e, struct ike_sa *sa)
{
    uint64_t k = half_open_key(e, sa->spi_i, &sa->remote);
    int rc = hk_u64map_put(&e->half_open, k, sa);
    if (rc)
        return rc; /* HK_E_EXISTS: another half-open SA holds this key */
    sa->half_open_key = k;
    sa->half_open = true;
    e->nhalf_open++;
    return HK_OK;
}

struct ike_sa *engine_half_open_find(struct ike_engine *e, const uint8_t spi_i[8],
                                     const struct sockaddr_storage *remote)
{
    struct ike_sa *sa = hk_u64map_get(&e->half_open, half_open_key(e, spi_i, remote));
    /* The whole key must match: a colliding hash must not select someone else's SA. While an
     * SA is half-open its remote address is the one of its IKE_SA_INIT request (an
     * authenticated message, which may float it, takes it out of the table first). */
    if (!sa || !sa->half_open || memcmp(sa->spi_i, spi_i, IKE_SPI_LEN) ||
        !same_addr_port(&sa->remote, remote))
        return NULL;
    return sa;
}

void engine_half_open_done(struct ike_engine *e, struct ike_sa *sa)
{
    if (!sa->half_open)
        return;
    if (hk_u64map_get(&e->half_open, sa->half_open_key) == sa)
        hk_u64map_del(&e->half_open, sa->half_open_key);
    sa->half_open = false;
    e->nhalf_open--;
}

void engine_arm(struct ike_engine *e, struct ike_sa *sa, enum ike_timer_kind kind, uint64_t when)
{
    struct hk_timer t = {.when = when, .owner = sa->id, .kind = kind, .gen = ++sa->timer_gen[kind]};
    if (hk_timerq_add(&e->timers, &t))
        hk_err(e->log, "out of memory arming a timer");
}

void engine_disarm(struct ike_sa *sa, enum ike_timer_kind kind)
{
    sa->timer_gen[kind]++;
}

/* ---- Child SAs ---- */

uint32_t engine_alloc_spi(struct ike_engine *e)
{
    uint32_t spi;
    do {
        if (hk_crypto_random(e->crypto, &spi, sizeof(spi)))
            return 0;
    } while (spi < 256 ||
             hk_u64map_get(&e->child_by_spi, spi)); /* 1..255 reserved (RFC 4303 2.1) */
    return spi;
}

struct child_sa *engine_new_child(struct ike_engine *e, struct ike_sa *sa, const char *name)
{
    struct child_sa *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->id = e->next_id++;
    c->ike_id = sa->id;
    c->protocol = IKE_PROTO_ESP;
    c->state = CHILD_SA_CREATING;
    c->created_ms = engine_now(e);
    snprintf(c->name, sizeof(c->name), "%s", name ? name : "");
    c->spi_in = engine_alloc_spi(e);
    if (!c->spi_in || hk_u64map_put(&e->child_by_id, c->id, c) ||
        hk_u64map_put(&e->child_by_spi, c->spi_in, c) || ike_sa_add_child(sa, c->id)) {
        hk_u64map_del(&e->child_by_id, c->id);
        hk_u64map_del(&e->child_by_spi, c->spi_in);
        free(c);
        return NULL;
    }
    return c;
}

void engine_delete_child(struct ike_engine *e, struct ike_sa *sa, struct child_sa *c)
{
    if (c->state == CHILD_SA_INSTALLED || c->state == CHILD_SA_REKEYED ||
        c->state == CHILD_SA_DELETING) {
        if (e->ops.child_down)
            e->ops.child_down(e->ops.arg, c);
        hk_info(e->log, "Child SA %s %08x/%08x deleted", c->name, c->spi_in, c->spi_out);
    }
    if (sa)
        ike_sa_remove_child(sa, c->id);
    hk_u64map_del(&e->child_by_id, c->id);
    hk_u64map_del(&e->child_by_spi, c->spi_in);
    child_sa_free(c);
}

/* ---- sending ---- */

static void send_pkts(struct ike_engine *e, struct ike_sa *sa, const struct ike_sent *s)
{
    for (size_t i = 0; i < s->npkts; i++) {
        e->ops.send(e->ops.arg, &sa->local, &sa->remote, s->pkts[i].p, s->pkts[i].len);
        e->stats.tx++;
    }
}

/* "[ SA KE No N(NATD_S_IP) ... ]": what a message carries, for the debug log (never keys:
 * only payload types and notify names). */
static char *summary(const struct ike_payload *pl, size_t n, char *buf, size_t len)
{
    size_t off = 0;
    int k = snprintf(buf, len, "[");
    off = k > 0 ? (size_t)k : 0;
    for (size_t i = 0; i < n && off < len; i++) {
        if (pl[i].type == IKE_PL_SK || pl[i].type == IKE_PL_SKF)
            continue;
        if (pl[i].type == IKE_PL_NOTIFY)
            k = snprintf(buf + off, len - off, " N(%s)", ike_notify_name(pl[i].u.notify.type));
        else if (pl[i].type == IKE_PL_DELETE)
            k = snprintf(buf + off, len - off, " D(%s)",
                         pl[i].u.del.protocol == IKE_PROTO_IKE ? "IKE" : "ESP");
        else
            k = snprintf(buf + off, len - off, " %s", ike_payload_name(pl[i].type));
        off += k > 0 ? (size_t)k : 0;
    }
    if (off < len)
        snprintf(buf + off, len - off, " ]");
    return buf;
}

static void log_msg(struct ike_engine *e, const struct ike_sa *sa, const char *dir, uint8_t x,
                    bool response, uint32_t id, const struct ike_payload *pl, size_t n,
                    size_t npkts)
{
    char name[40], sum[512];
    if (!hk_log_enabled(e->log, HK_LOG_DEBUG))
        return;
    hk_debug(e->log, "IKE SA %s [%s]: %s %s %s %u %s%s", ike_sa_name(sa, name, sizeof(name)),
             sa->conn, dir, ike_exchange_name(x), response ? "response" : "request", id,
             summary(pl, n, sum, sizeof(sum)), npkts > 1 ? " (fragmented)" : "");
}

int engine_send(struct ike_engine *e, struct ike_sa *sa, bool response, uint32_t msg_id,
                uint8_t exchange, const struct ike_payload *pl, size_t n)
{
    struct ike_hdr h = {.version = 0x20, .exchange = exchange, .msg_id = msg_id};
    memcpy(h.spi_i, sa->spi_i, IKE_SPI_LEN);
    memcpy(h.spi_r, sa->spi_r, IKE_SPI_LEN);
    h.flags = (sa->initiator ? IKE_FLAG_INITIATOR : 0) | (response ? IKE_FLAG_RESPONSE : 0);

    struct ike_sent s = {.msg_id = msg_id, .exchange = exchange};
    /* Encoded on the stack, then kept at its exact length: one malloc per message. */
    uint8_t scratch[IKE_SEND_SCRATCH];
    struct hk_cbb b;
    int rc;
    hk_cbb_init_buf(&b, scratch, sizeof(scratch), 0);
    if (exchange == IKE_SA_INIT || !sa->sk_out) {
        struct ike_msg m = {.hdr = h, .npayloads = n, .payloads = (struct ike_payload *)pl};
        rc = ike_msg_encode(&m, &b);
        if (!rc)
            rc = ike_sent_set(&s, &b, 1);
    } else {
        rc = ike_sk_seal(sa->sk_out, &h, pl, n, &b);
        size_t limit = sa->remote.ss_family == AF_INET6 ? IKE_FRAG_LEN_V6 : IKE_FRAG_LEN_V4;
        if (!rc && (sa->ext & IKE_EXT_FRAGMENTATION) && b.len > limit) {
            /* RFC 7383 2.5: only encrypted messages are fragmented. */
            struct ike_frags f;
            rc = ike_skf_seal(sa->sk_out, &h, pl, n, limit, &f);
            if (!rc)
                rc = ike_sent_set(&s, f.msgs, f.n);
            ike_frags_free(&f);
        } else if (!rc) {
            rc = ike_sent_set(&s, &b, 1);
        }
    }
    /* No wipe: the scratch holds the message as sent (SK is sealed in place, and a failed
     * seal wipes its plaintext), and a writer moving to the heap wipes what it leaves. */
    hk_cbb_free(&b);
    if (rc) {
        ike_sent_clear(&s);
        hk_err(e->log, "cannot build %s message: %s", ike_exchange_name(exchange), hk_strerror(rc));
        return rc;
    }
    log_msg(e, sa, "send", exchange, response, msg_id, pl, n, s.npkts);
    send_pkts(e, sa, &s);
    if (response) {
        ike_sent_clear(&sa->resp);
        sa->resp = s;
    } else {
        ike_sent_clear(&sa->out);
        sa->out = s;
        sa->out.next_ms = engine_now(e) + e->cfg->daemon.retransmit_timeout_ms;
        engine_arm(e, sa, IKE_TIMER_RETRANSMIT, sa->out.next_ms);
    }
    return HK_OK;
}

int engine_request(struct ike_engine *e, struct ike_sa *sa, uint8_t exchange,
                   const struct ike_payload *pl, size_t n)
{
    if (sa->out.npkts)
        return HK_E_STATE; /* window size 1 (2.3): one request at a time */
    int rc = engine_send(e, sa, false, sa->req_next, exchange, pl, n);
    if (!rc)
        sa->req_next++;
    return rc;
}

void engine_send_stateless(struct ike_engine *e, const struct ike_rx *rx, uint16_t notify,
                           const uint8_t *data, size_t len)
{
    struct ike_payload pl = {.type = IKE_PL_NOTIFY,
                             .u.notify = {.type = notify, .data = {data, len}}};
    struct ike_msg m = {.hdr = rx->msg.hdr, .npayloads = 1, .payloads = &pl};
    m.hdr.flags = IKE_FLAG_RESPONSE;
    memset(m.hdr.spi_r, 0, IKE_SPI_LEN);
    struct hk_cbb b;
    hk_cbb_init(&b, 128, 0);
    if (!ike_msg_encode(&m, &b)) {
        e->ops.send(e->ops.arg, rx->local, rx->remote, b.buf, b.len);
        e->stats.tx++;
    }
    hk_cbb_free(&b);
}

static void retransmit(struct ike_engine *e, struct ike_sa *sa)
{
    char name[40];
    if (!sa->out.npkts)
        return;
    if (sa->out.tries >= e->cfg->daemon.retransmit_tries) {
        hk_info(e->log, "IKE SA %s [%s]: %s request %u not answered after %u retransmissions",
                ike_sa_name(sa, name, sizeof(name)), sa->conn, ike_exchange_name(sa->out.exchange),
                sa->out.msg_id, sa->out.tries);
        const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
        bool restart = sa->state == IKE_SA_ESTABLISHED && conn &&
                       conn->dpd_action == HK_ACTION_RESTART && sa->initiator;
        char cname[sizeof(sa->conn)];
        snprintf(cname, sizeof(cname), "%s", sa->conn);
        if (sa->state == IKE_SA_ESTABLISHED)
            e->stats.dpd_dead++;
        engine_delete_sa(e, sa, "peer not responding");
        if (restart) {
            hk_info(e->log, "connection %s: peer dead, initiating again (dpd_action restart)",
                    cname);
            ike_engine_initiate(e, cname, NULL);
        }
        return;
    }
    sa->out.tries++;
    e->stats.retransmits++;
    hk_debug(e->log, "IKE SA %s: retransmitting %s request %u (%u)", ike_sa_name(sa, name, 40),
             ike_exchange_name(sa->out.exchange), sa->out.msg_id, sa->out.tries);
    send_pkts(e, sa, &sa->out);
    uint64_t delay = (uint64_t)e->cfg->daemon.retransmit_timeout_ms << sa->out.tries;
    if (delay > IKE_RETRANSMIT_MAX_MS)
        delay = IKE_RETRANSMIT_MAX_MS;
    sa->out.next_ms = engine_now(e) + delay;
    engine_arm(e, sa, IKE_TIMER_RETRANSMIT, sa->out.next_ms);
}

static void set_port(struct sockaddr_storage *a, uint16_t port)
{
    if (a->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)a)->sin6_port = htons(port);
    else
        ((struct sockaddr_in *)a)->sin_port = htons(port);
}

static uint16_t get_port(const struct sockaddr_storage *a)
{
    const uint8_t *ip;
    size_t n;
    uint16_t port;
    engine_addr_bytes(a, &ip, &n, &port);
    return port;
}

void engine_float_natt(struct ike_engine *e, struct ike_sa *sa)
{
    uint16_t natt = e->cfg->daemon.natt_port;
    if (!natt || !(sa->nat_local || sa->nat_remote))
        return;
    /* 2.23: once a NAT is detected, the initiator moves IKE (and ESP) to the NAT-T port.
     * A local port the caller chose stays: the peer sees what a NAT would show it anyway. */
    if (!sa->local_fixed)
        set_port(&sa->local, natt);
    set_port(&sa->remote, natt);
}

void engine_sa_failed(struct ike_engine *e, struct ike_sa *sa, const char *why)
{
    if (sa->reported_up || sa->reported_failed)
        return;
    sa->reported_failed = true;
    e->stats.ike_failed++;
    if (e->ops.ike_failed)
        e->ops.ike_failed(e->ops.arg, sa, why);
}

void engine_sa_established(struct ike_engine *e, struct ike_sa *sa)
{
    sa->reported_up = true; /* the callers tell ops.ike_up next */
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    uint64_t now = engine_now(e);
    if (conn && conn->rekey_time) {
        uint64_t t = (uint64_t)conn->rekey_time * 1000, j = 0;
        uint32_t r = 0;
        if (conn->rekey_jitter && !hk_crypto_random(e->crypto, &r, sizeof(r)))
            j = r % ((uint64_t)conn->rekey_jitter * 1000);
        engine_arm(e, sa, IKE_TIMER_REKEY, now + (t > j ? t - j : t));
    }
    if (conn && conn->life_time)
        engine_arm(e, sa, IKE_TIMER_EXPIRE, now + (uint64_t)conn->life_time * 1000);
    if (conn && conn->dpd_delay)
        engine_arm(e, sa, IKE_TIMER_DPD, now + (uint64_t)conn->dpd_delay * 1000);
    if (sa->nat_local && e->ops.keepalive)
        engine_arm(e, sa, IKE_TIMER_KEEPALIVE, now + NAT_KEEPALIVE_MS);
}

/* 2.4: after dpd_delay of silence, an empty INFORMATIONAL; no answer ends the SA. */
static void dpd_check(struct ike_engine *e, struct ike_sa *sa)
{
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    if (!conn || !conn->dpd_delay || sa->state != IKE_SA_ESTABLISHED)
        return;
    uint64_t delay = (uint64_t)conn->dpd_delay * 1000, now = engine_now(e);
    if (now - sa->last_in_ms < delay) {
        engine_arm(e, sa, IKE_TIMER_DPD, sa->last_in_ms + delay);
        return;
    }
    if (!sa->out.npkts && !engine_request(e, sa, IKE_INFORMATIONAL, NULL, 0)) {
        e->stats.dpd_sent++;
        e->stats.exchanges_info++;
    }
    engine_arm(e, sa, IKE_TIMER_DPD, now + delay);
}

static void keepalive(struct ike_engine *e, struct ike_sa *sa)
{
    if (!sa->nat_local || !e->ops.keepalive)
        return;
    e->ops.keepalive(e->ops.arg, &sa->local, &sa->remote);
    e->stats.keepalives++;
    engine_arm(e, sa, IKE_TIMER_KEEPALIVE, engine_now(e) + NAT_KEEPALIVE_MS);
}

static void child_timer(struct ike_engine *e, const struct hk_timer *t)
{
    struct child_sa *c = hk_u64map_get(&e->child_by_id, t->owner);
    if (!c || t->kind >= 4 || c->timer_gen[t->kind] != t->gen)
        return;
    struct ike_sa *sa = hk_u64map_get(&e->sa_by_id, c->ike_id);
    if (!sa || c->state != CHILD_SA_INSTALLED)
        return;
    if (t->kind == CHILD_TIMER_REKEY) {
        engine_queue(e, sa, IKE_TASK_REKEY_CHILD, c->id);
    } else {
        hk_info(e->log, "Child SA %s %08x/%08x: hard lifetime reached", c->name, c->spi_in,
                c->spi_out);
        engine_queue(e, sa, IKE_TASK_DELETE_CHILD, c->id);
    }
}

uint64_t ike_engine_tick(struct ike_engine *e)
{
    struct hk_timer t;
    uint64_t now = engine_now(e);
    while (hk_timerq_pop_due(&e->timers, now, &t)) {
        struct ike_sa *sa = hk_u64map_get(&e->sa_by_id, t.owner);
        if (!sa) {
            child_timer(e, &t);
            continue;
        }
        if (t.kind >= 8 || sa->timer_gen[t.kind] != t.gen)
            continue; /* timer re-armed or cancelled since */
        switch ((enum ike_timer_kind)t.kind) {
        case IKE_TIMER_RETRANSMIT:
            retransmit(e, sa);
            break;
        case IKE_TIMER_HALF_OPEN:
            x_init_half_open_expired(e, sa);
            break;
        case IKE_TIMER_DELETE:
            engine_delete_sa(e, sa, "deleted");
            break;
        case IKE_TIMER_DPD:
            dpd_check(e, sa);
            break;
        case IKE_TIMER_KEEPALIVE:
            keepalive(e, sa);
            break;
        case IKE_TIMER_REKEY:
            if (sa->state == IKE_SA_ESTABLISHED)
                engine_queue(e, sa, IKE_TASK_REKEY_IKE, 0);
            break;
        case IKE_TIMER_EXPIRE:
            hk_info(e->log, "IKE SA [%s]: hard lifetime reached", sa->conn);
            engine_queue(e, sa, IKE_TASK_DELETE_IKE, 0);
            break;
        }
    }
    return hk_timerq_next(&e->timers);
}

/* ---- receiving ---- */

static void dispatch_request(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx)
{
    bool up = sa->state == IKE_SA_ESTABLISHED || sa->state == IKE_SA_DELETING ||
              sa->state == IKE_SA_REKEYED;
    switch (rx->msg.hdr.exchange) {
    case IKE_AUTH:
        if (!sa->initiator && sa->state == IKE_SA_INIT_RCVD) {
            x_auth_on_request(e, sa, rx);
            return;
        }
        break;
    case IKE_CREATE_CHILD_SA:
        if (up) {
            x_create_on_request(e, sa, rx);
            return;
        }
        break;
    case IKE_INFORMATIONAL:
        if (up) {
            x_info_on_request(e, sa, rx);
            return;
        }
        break;
    }
    engine_drop(e, IKE_DROP_UNEXPECTED, rx->remote, ike_exchange_name(rx->msg.hdr.exchange));
}

static void dispatch_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx)
{
    uint8_t x = rx->msg.hdr.exchange;
    if (x != sa->out.exchange) {
        engine_drop(e, IKE_DROP_UNEXPECTED, rx->remote, "response to another exchange");
        return;
    }
    engine_disarm(sa, IKE_TIMER_RETRANSMIT);
    ike_sent_clear(&sa->out);
    switch (x) {
    case IKE_SA_INIT:
        x_init_on_response(e, sa, rx);
        break;
    case IKE_AUTH:
        x_auth_on_response(e, sa, rx);
        break;
    case IKE_CREATE_CHILD_SA:
        x_create_on_response(e, sa, rx);
        break;
    case IKE_INFORMATIONAL:
        x_info_on_response(e, sa, rx);
        break;
    default:
        engine_drop(e, IKE_DROP_UNEXPECTED, rx->remote, ike_exchange_name(x));
    }
}

/* RFC 7383 2.6: fragments are verified one by one and reassembled by number. */
#define FRAG_MAX_TOTAL 128
#define FRAG_MAX_BYTES (64u * 1024)

static int frag_in(struct ike_engine *e, struct ike_sa *sa, uint8_t *buf, size_t len,
                   struct ike_msg *msg, struct hk_arena *a, struct hk_diag *d)
{
    struct ike_frag_in *f = &sa->frag;
    const struct ike_pl_skf *skf = &msg->payloads[msg->npayloads - 1].u.skf;
    struct ike_view chunk;
    bool response = msg->hdr.flags & IKE_FLAG_RESPONSE;
    if (!(sa->ext & IKE_EXT_FRAGMENTATION)) {
        hk_diag_set(d, "fragment without negotiated fragmentation");
        return HK_E_SYNTAX;
    }
    if (skf->total_frags > FRAG_MAX_TOTAL) {
        hk_diag_set(d, "%u fragments > %u", skf->total_frags, FRAG_MAX_TOTAL);
        return HK_E_SYNTAX;
    }
    int rc = ike_skf_open(sa->sk_in, buf, len, msg, &chunk, d);
    if (rc)
        return rc;
    /* A new message, or a retransmission split differently (2.6.1: higher total wins). */
    if (f->total &&
        (f->msg_id != msg->hdr.msg_id || f->response != response || f->total != skf->total_frags)) {
        if (f->msg_id == msg->hdr.msg_id && f->response == response && skf->total_frags < f->total)
            return HK_E_AGAIN; /* stale, smaller split of the same message */
        ike_frag_in_clear(f);
    }
    if (!f->total) {
        f->part = calloc(skf->total_frags, sizeof(*f->part));
        if (!f->part)
            return HK_E_NOMEM;
        f->total = skf->total_frags;
        f->msg_id = msg->hdr.msg_id;
        f->response = response;
    }
    struct ike_bytes *p = &f->part[skf->frag_num - 1];
    if (p->p || (!chunk.len && skf->frag_num != 1))
        return HK_E_AGAIN; /* duplicate */
    if (f->bytes + chunk.len > FRAG_MAX_BYTES) {
        ike_frag_in_clear(f);
        hk_diag_set(d, "reassembled message over %u octets", FRAG_MAX_BYTES);
        return HK_E_OVERFLOW;
    }
    if (ike_bytes_set(p, chunk.p, chunk.len) || (!chunk.len && !(p->p = malloc(1))))
        return HK_E_NOMEM;
    if (skf->frag_num == 1)
        f->first_inner = skf->first_inner;
    f->bytes += chunk.len;
    if (++f->have < f->total)
        return HK_E_AGAIN;
    /* Complete: the inner payloads replace the SKF payload. */
    uint8_t *all = hk_arena_alloc(a, f->bytes);
    size_t off = 0;
    if (!all) {
        ike_frag_in_clear(f);
        return HK_E_NOMEM;
    }
    for (uint16_t i = 0; i < f->total; i++) {
        memcpy(all + off, f->part[i].p, f->part[i].len);
        off += f->part[i].len;
    }
    uint8_t first = f->first_inner;
    ike_frag_in_clear(f);
    msg->npayloads--;
    e->stats.reassembled++;
    return ike_payloads_decode(first, all, off, msg, a, d);
}

/*
 * Remembers the authenticated request a response answers (2.1). Its last octets are its ICV,
 * which covers everything before it: a datagram with the same length and tail is a copy of
 * it, or a forgery made by someone who saw it and could as well have replayed it. Either way
 * only the cached response goes out, to the peer. Cheaper than hashing the whole request.
 */
static void note_request(struct ike_sa *sa, uint16_t frag_num, const uint8_t *buf, size_t len)
{
    sa->resp_req_len = 0;
    if (frag_num || len < IKE_REQ_TAIL || len > UINT32_MAX)
        return; /* fragments are answered on fragment 1 only (RFC 7383 2.6.1) */
    sa->resp_req_len = (uint32_t)len;
    memcpy(sa->resp_req_tail, buf + len - IKE_REQ_TAIL, IKE_REQ_TAIL);
}

static bool is_last_request(const struct ike_sa *sa, const uint8_t *buf, size_t len)
{
    return sa->resp_req_len && len == sa->resp_req_len &&
           !memcmp(buf + len - IKE_REQ_TAIL, sa->resp_req_tail, IKE_REQ_TAIL);
}

/* Message-ID window (2.3) and retransmission detection (2.1). Returns true to process. */
static bool check_msg_id(struct ike_engine *e, struct ike_sa *sa, const struct ike_hdr *h,
                         uint16_t frag_num, const uint8_t *buf, size_t len,
                         const struct sockaddr_storage *from)
{
    char d[64];
    if (h->flags & IKE_FLAG_RESPONSE) {
        if (sa->out.npkts && h->msg_id == sa->out.msg_id)
            return true;
        snprintf(d, sizeof(d), "response %u, expected %u", h->msg_id,
                 sa->out.npkts ? sa->out.msg_id : 0);
        engine_drop(e, IKE_DROP_MSGID, from, d);
        return false;
    }
    if (h->msg_id == sa->peer_req_next)
        return true;
    if (sa->resp.npkts && h->msg_id == sa->resp.msg_id) {
        /* A retransmitted request: answer with the same response, do not process (2.1).
         * A fragmented one is answered once, on its first fragment (RFC 7383 2.6.1). */
        if (frag_num > 1)
            return false;
        /* Only the same request again gets the response again: a forged one must not make
         * us send to the peer (2.1 leaves this to us; note_request says how it is known). */
        if (!frag_num && !is_last_request(sa, buf, len)) {
            engine_drop(e, IKE_DROP_MSGID, from, "not a retransmission of the last request");
            return false;
        }
        e->stats.cached_responses++;
        send_pkts(e, sa, &sa->resp);
        return false;
    }
    snprintf(d, sizeof(d), "request %u, expected %u", h->msg_id, sa->peer_req_next);
    engine_drop(e, IKE_DROP_MSGID, from, d);
    return false;
}

void ike_engine_recv(struct ike_engine *e, const struct sockaddr_storage *local,
                     const struct sockaddr_storage *remote, const uint8_t *buf, size_t len)
{
    struct hk_diag d = {0};
    struct ike_hdr h;
    e->stats.rx++;
    int rc = ike_hdr_decode(buf, len, &h, &d);
    if (rc == HK_E_UNSUPPORTED && h.exchange == IKE_SA_INIT && !(h.flags & IKE_FLAG_RESPONSE)) {
        /* 2.5: a higher major version is answered with the highest one we speak. */
        struct ike_rx vx = {.local = local, .remote = remote, .msg = {.hdr = h}};
        vx.msg.hdr.version = 0x20;
        engine_send_stateless(e, &vx, IKE_N_INVALID_MAJOR_VERSION, NULL, 0);
    }
    if (rc) {
        engine_drop(e, rc == HK_E_UNSUPPORTED ? IKE_DROP_VERSION : IKE_DROP_HEADER, remote,
                    hk_diag_msg(&d));
        return;
    }
    bool peer_is_orig_initiator = h.flags & IKE_FLAG_INITIATOR;
    static const uint8_t zero[IKE_SPI_LEN];

    uint64_t sa_id = 0; /* an existing SA the message is for */
    /* Work on a private copy: SK is decrypted in place, and the raw form is signed. The
     * copy and the decoded payloads live on the stack unless the message is large. */
    alignas(max_align_t) uint8_t copy_buf[IKE_RX_COPY], arena_buf[IKE_RX_ARENA];
    uint8_t *copy = len <= sizeof(copy_buf) ? copy_buf : malloc(len);
    struct hk_arena a;
    hk_arena_init_buf(&a, IKE_RX_ARENA_LIMIT, arena_buf, sizeof(arena_buf));
    struct ike_rx rx = {.local = local, .remote = remote, .raw = buf, .raw_len = len, .arena = &a};
    if (!copy)
        goto out;
    memcpy(copy, buf, len);

    struct ike_sa *sa = NULL;
    if (peer_is_orig_initiator && !memcmp(h.spi_r, zero, IKE_SPI_LEN)) {
        if (h.exchange != IKE_SA_INIT || (h.flags & IKE_FLAG_RESPONSE) || h.msg_id != 0) {
            engine_drop(e, IKE_DROP_NO_SA, remote, "zero responder SPI");
            goto out;
        }
        sa = engine_half_open_find(e, h.spi_i, remote);
        if (sa) {
            /* Retransmitted IKE_SA_INIT: the cached response, nothing else (2.1). */
            e->stats.cached_responses++;
            send_pkts(e, sa, &sa->resp);
            goto out;
        }
        rc = ike_msg_decode(copy, len, &rx.msg, &a, &d);
        if (rc) {
            engine_drop(e, IKE_DROP_DECODE, remote, hk_diag_msg(&d));
            goto out;
        }
        if (rx.msg.unknown_critical) {
            /* 2.5: refuse the message, naming the payload type. */
            uint8_t t = rx.msg.unknown_critical;
            engine_drop(e, IKE_DROP_UNEXPECTED, remote, "unsupported critical payload");
            engine_send_stateless(e, &rx, IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD, &t, 1);
            goto out;
        }
        x_init_on_request(e, &rx);
        goto out;
    }

    sa = hk_u64map_get(&e->sa_by_spi, engine_spi_key(peer_is_orig_initiator ? h.spi_r : h.spi_i));
    if (!sa || sa->initiator == peer_is_orig_initiator || sa->state == IKE_SA_DEAD) {
        engine_drop(e, IKE_DROP_NO_SA, remote, NULL);
        goto out;
    }
    sa_id = sa->id;
    /* IKE_SA_INIT is unprotected: past the request that makes an SA (above), the only one
     * we take is the response to our own outstanding request. Anything else must not touch
     * the message-ID window or the SA. */
    if (h.exchange == IKE_SA_INIT &&
        !(sa->initiator && sa->state == IKE_SA_INIT_SENT && (h.flags & IKE_FLAG_RESPONSE))) {
        engine_drop(e, IKE_DROP_UNEXPECTED, remote, "IKE_SA_INIT for an existing SA");
        goto out;
    }
    /* The peer's SPI must agree too, except in the IKE_SA_INIT response that tells it. */
    const uint8_t *peer_spi = sa->initiator ? h.spi_r : h.spi_i;
    const uint8_t *known = sa->initiator ? sa->spi_r : sa->spi_i;
    if (!(sa->initiator && h.exchange == IKE_SA_INIT) && memcmp(peer_spi, known, IKE_SPI_LEN)) {
        engine_drop(e, IKE_DROP_NO_SA, remote, "peer SPI mismatch");
        goto out;
    }
    /* The fragment number of an SKF message, read before decoding (0 when not SKF). */
    uint16_t frag_num = h.next_payload == IKE_PL_SKF && len >= IKE_HDR_LEN + 6
                            ? (uint16_t)(buf[IKE_HDR_LEN + 4] << 8 | buf[IKE_HDR_LEN + 5])
                            : 0;
    if (!check_msg_id(e, sa, &h, frag_num, buf, len, remote))
        goto out;
    rc = ike_msg_decode(copy, len, &rx.msg, &a, &d);
    if (rc) {
        engine_drop(e, IKE_DROP_DECODE, remote, hk_diag_msg(&d));
        goto out;
    }
    if (h.exchange != IKE_SA_INIT) {
        const struct ike_payload *last =
            rx.msg.npayloads ? &rx.msg.payloads[rx.msg.npayloads - 1] : NULL;
        if (!sa->sk_in || !last || (last->type != IKE_PL_SK && last->type != IKE_PL_SKF)) {
            engine_drop(e, IKE_DROP_UNEXPECTED, remote, "not protected by SK");
            goto out;
        }
        rc = last->type == IKE_PL_SK ? ike_sk_open(sa->sk_in, copy, len, &rx.msg, &a, &d)
                                     : frag_in(e, sa, copy, len, &rx.msg, &a, &d);
        if (rc == HK_E_AGAIN)
            goto out; /* a fragment kept; the message is not complete yet */
        if (rc) {
            engine_drop(e, rc == HK_E_AUTH ? IKE_DROP_ICV : IKE_DROP_DECODE, remote,
                        hk_diag_msg(&d));
            goto out;
        }
    }
    sa->last_in_ms = engine_now(e);
    /* The peer proved it holds the keys: the SA is no longer half-open (2.6), and leaves the
     * table before anything below may move its address. */
    engine_half_open_done(e, sa);
    if (rx.msg.unknown_critical && !(h.flags & IKE_FLAG_RESPONSE)) {
        /* 2.5: an authenticated request with an unknown critical payload is refused whole. */
        uint8_t t = rx.msg.unknown_critical;
        struct ike_payload n = {
            .type = IKE_PL_NOTIFY,
            .u.notify = {.type = IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD, .data = {&t, 1}}};
        sa->peer_req_next++;
        note_request(sa, frag_num, buf, len);
        engine_drop(e, IKE_DROP_UNEXPECTED, remote, "unsupported critical payload");
        engine_send(e, sa, true, h.msg_id, h.exchange, &n, 1);
        goto out;
    }
    /* 2.23: with a NAT in the path, answer where the last authenticated message came from. */
    if (h.exchange != IKE_SA_INIT &&
        (sa->nat_local || sa->nat_remote || get_port(local) != get_port(&sa->local))) {
        sa->remote = *remote;
        sa->local = *local;
    }
    log_msg(e, sa, "recv", h.exchange, h.flags & IKE_FLAG_RESPONSE, h.msg_id, rx.msg.payloads,
            rx.msg.npayloads, 1);
    if (h.flags & IKE_FLAG_RESPONSE) {
        dispatch_response(e, sa, &rx);
    } else {
        sa->peer_req_next++;
        /* The request the coming response answers (a fragmented one: its last fragment,
         * which is not used: fragments are answered on fragment 1 only). */
        note_request(sa, frag_num, buf, len);
        dispatch_request(e, sa, &rx);
    }
    /* The handler may have freed the SA; a window that came free runs queued work. */
    if ((sa = hk_u64map_get(&e->sa_by_id, sa_id)))
        engine_run_tasks(e, sa);
out:
    /* With no request of ours outstanding the exchange is over: the cipher contexts go until
     * the next one (a rebuild costs microseconds, an idle SA keeps kilobytes). A request we
     * are waiting on keeps them for its response. */
    if (sa_id && (sa = hk_u64map_get(&e->sa_by_id, sa_id)) && !sa->out.npkts)
        ike_sa_idle(sa);
    hk_arena_free(&a);
    if (copy) {
        hk_wipe(copy, len);
        if (copy != copy_buf)
            free(copy);
    }
}

/* ---- commands ---- */

int ike_engine_initiate(struct ike_engine *e, const char *name, uint64_t *ike_id)
{
    return ike_engine_initiate_from(e, name, NULL, ike_id);
}

int ike_engine_initiate_from(struct ike_engine *e, const char *name,
                             const struct sockaddr_storage *local, uint64_t *ike_id)
{
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, name);
    if (!conn)
        return HK_E_NOTFOUND;
    if (local && local->ss_family != AF_INET && local->ss_family != AF_INET6)
        return HK_E_INVALID;
    struct ike_sa *sa = engine_new_sa(e, true, conn->name);
    if (!sa)
        return HK_E_NOMEM;
    if (local) {
        sa->local = *local;
        sa->local_fixed = true;
    }
    int rc = x_init_start(e, sa);
    if (rc) {
        engine_delete_sa(e, sa, hk_strerror(rc));
        return rc;
    }
    if (ike_id)
        *ike_id = sa->id;
    return HK_OK;
}

int ike_engine_terminate(struct ike_engine *e, uint64_t ike_id)
{
    struct ike_sa *sa = hk_u64map_get(&e->sa_by_id, ike_id);
    if (!sa)
        return HK_E_NOTFOUND;
    if (sa->state != IKE_SA_ESTABLISHED) {
        engine_delete_sa(e, sa, "terminated before it was established");
        return HK_OK;
    }
    return x_info_delete_ike(e, sa);
}

void ike_engine_shutdown(struct ike_engine *e)
{
    size_t pos = 0;
    struct ike_sa *sa;
    while ((sa = hk_u64map_next(&e->sa_by_id, &pos, NULL)))
        if (sa->state == IKE_SA_ESTABLISHED)
            x_info_delete_ike(e, sa);
}

int ike_engine_rekey(struct ike_engine *e, uint64_t ike_id)
{
    struct ike_sa *sa = hk_u64map_get(&e->sa_by_id, ike_id);
    if (!sa)
        return HK_E_NOTFOUND;
    if (sa->state != IKE_SA_ESTABLISHED)
        return HK_E_STATE;
    engine_queue(e, sa, IKE_TASK_REKEY_IKE, 0);
    return HK_OK;
}

int ike_engine_rekey_child(struct ike_engine *e, uint64_t child_id)
{
    struct child_sa *c = hk_u64map_get(&e->child_by_id, child_id);
    struct ike_sa *sa = c ? hk_u64map_get(&e->sa_by_id, c->ike_id) : NULL;
    if (!c || !sa)
        return HK_E_NOTFOUND;
    if (sa->state != IKE_SA_ESTABLISHED || c->state != CHILD_SA_INSTALLED)
        return HK_E_STATE;
    engine_queue(e, sa, IKE_TASK_REKEY_CHILD, c->id);
    return HK_OK;
}

int ike_engine_trap_selectors(struct ike_engine *e, const char *name, size_t child,
                              struct ike_ts *local, size_t *nl, struct ike_ts *remote, size_t *nr,
                              size_t max)
{
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, name);
    struct sockaddr_storage l, r;
    if (!conn || child >= conn->nchildren)
        return HK_E_NOTFOUND;
    int rc = conn_initiator_addrs(e, conn, &l, &r);
    if (rc)
        return rc;
    const struct hk_child_conf *cc = &conn->children[child];
    *nl = conn_ts(cc->local_ts, cc->nlocal_ts, &l, local, max);
    *nr = conn_ts(cc->remote_ts, cc->nremote_ts, &r, remote, max);
    return HK_OK;
}

int ike_engine_delete_child(struct ike_engine *e, uint64_t child_id)
{
    struct child_sa *c = hk_u64map_get(&e->child_by_id, child_id);
    struct ike_sa *sa = c ? hk_u64map_get(&e->sa_by_id, c->ike_id) : NULL;
    if (!c || !sa)
        return HK_E_NOTFOUND;
    engine_queue(e, sa, IKE_TASK_DELETE_CHILD, c->id);
    return HK_OK;
}

void ike_engine_child_activity(struct ike_engine *e, uint64_t child_id)
{
    struct child_sa *c = hk_u64map_get(&e->child_by_id, child_id);
    struct ike_sa *sa = c ? hk_u64map_get(&e->sa_by_id, c->ike_id) : NULL;
    if (sa)
        sa->last_in_ms = engine_now(e);
}
