/* The engine: set-up and configuration, the IKE and Child SA tables, half-open SAs, drops. */
#include "common/sockaddr.h"
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Log lines for dropped datagrams: a burst of this many, then one per interval. */
#define IKE_DROP_LOG_BURST       20
#define IKE_DROP_LOG_INTERVAL_MS 100

static const char *const drop_names[IKE_DROP__COUNT] = {
    [IKE_DROP_HEADER] = "bad-header",
    [IKE_DROP_VERSION] = "bad-version",
    [IKE_DROP_NO_SA] = "unknown-spi",
    [IKE_DROP_MSGID] = "bad-message-id",
    [IKE_DROP_DECODE] = "bad-syntax",
    [IKE_DROP_ICV] = "bad-icv",
    [IKE_DROP_UNEXPECTED] = "unexpected",
    [IKE_DROP_COOKIE] = "cookie-required",
    [IKE_DROP_TOO_BIG] = "too-big",
    [IKE_DROP_HALF_OPEN] = "half-open-limit",
    [IKE_DROP_RESEND_LIMIT] = "resend-limited",
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
    hk_u64map_init(&e->half_open_peers[0], random_u64());
    hk_u64map_init(&e->half_open_peers[1], random_u64());
    e->drop_log_tokens = IKE_DROP_LOG_BURST;
    hk_u64map_init(&e->child_by_id, random_u64());
    hk_u64map_init(&e->child_by_spi, random_u64());
    peer_ids_init(e);
    hk_u64map_init(&e->families, random_u64());
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
    for (int f = 0; f < 2; f++) {
        void *n;
        pos = 0;
        while ((n = hk_u64map_next(&e->half_open_peers[f], &pos, NULL)))
            free(n);
        hk_u64map_free(&e->half_open_peers[f]);
    }
    hk_u64map_free(&e->child_by_id);
    hk_u64map_free(&e->child_by_spi);
    peer_ids_free(e);
    x_clone_families_free(e);
    hk_timerq_free(&e->timers);
    ike_creds_flush(e);
    engine_pools_free(e);
    hk_wipe(e->cookie_secret, sizeof(e->cookie_secret));
    hk_wipe(e->cookie_secret_old, sizeof(e->cookie_secret_old));
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

struct ike_sa *ike_engine_next_sa(const struct ike_engine *e, size_t *pos)
{
    return hk_u64map_next(&e->sa_by_id, pos, NULL);
}

size_t ike_engine_sa_count(const struct ike_engine *e)
{
    return hk_u64map_count(&e->sa_by_id);
}

size_t ike_engine_child_count(const struct ike_engine *e)
{
    return hk_u64map_count(&e->child_by_id);
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

/* Whether a drop may be logged: a token bucket per engine, so that a storm of unauthenticated
 * datagrams writes a bounded number of lines (the counters keep the full numbers). */
static bool drop_log_allowed(struct ike_engine *e)
{
    uint64_t now = engine_now(e);
    if (now > e->drop_log_ms) {
        uint64_t add = (now - e->drop_log_ms) / IKE_DROP_LOG_INTERVAL_MS;
        if (add >= IKE_DROP_LOG_BURST - e->drop_log_tokens) {
            e->drop_log_tokens = IKE_DROP_LOG_BURST;
            e->drop_log_ms = now;
        } else {
            e->drop_log_tokens += (uint32_t)add;
            e->drop_log_ms += add * IKE_DROP_LOG_INTERVAL_MS;
        }
    }
    if (!e->drop_log_tokens) {
        e->drop_log_suppressed++;
        return false;
    }
    e->drop_log_tokens--;
    if (e->drop_log_suppressed) {
        hk_info(e->log, "%llu lines about dropped messages suppressed (hikectl stats counts them)",
                (unsigned long long)e->drop_log_suppressed);
        e->drop_log_suppressed = 0;
    }
    return true;
}

void engine_drop(struct ike_engine *e, enum ike_drop why, const struct sockaddr_storage *from,
                 const char *detail)
{
    char a[64];
    e->stats.drops[why]++;
    if (!hk_log_enabled(e->log, HK_LOG_INFO) || !drop_log_allowed(e))
        return;
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
    x_clone_sa_gone(e, sa); /* before x_xchg_end: a clone in flight is started again elsewhere */
    x_xchg_end(e, sa);
    engine_vip_release(e, sa);
    peer_id_uncount(e, sa);
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
 * The peer a half-open SA counts against (RFC 8019 4.1 limits per source): an IPv4 address
 * (also when it comes IPv4-mapped), or the /64 prefix of an IPv6 address, which one host
 * commonly holds whole. The key is the whole identity: no two peers share an entry.
 */
static uint64_t half_open_peer(const struct sockaddr_storage *remote, uint8_t *fam)
{
    const uint8_t *ip;
    size_t n;
    uint16_t port;
    uint64_t k = 0;
    static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    engine_addr_bytes(remote, &ip, &n, &port);
    if (n == 16 && !memcmp(ip, v4mapped, sizeof(v4mapped))) {
        ip += 12;
        n = 4;
    }
    *fam = n == 16;
    for (size_t i = 0; i < (n == 16 ? 8 : 4); i++)
        k = k << 8 | ip[i];
    return k;
}

bool engine_half_open_admit(struct ike_engine *e, const struct sockaddr_storage *remote)
{
    const struct hk_daemon_conf *d = &e->cfg->daemon;
    char why[96];
    if (d->half_open_max && e->nhalf_open >= d->half_open_max) {
        snprintf(why, sizeof(why), "%u half-open IKE SAs (daemon.half_open_max)", e->nhalf_open);
        engine_drop(e, IKE_DROP_HALF_OPEN, remote, why);
        return false;
    }
    uint8_t fam;
    uint64_t k = half_open_peer(remote, &fam);
    const unsigned *n = hk_u64map_get(&e->half_open_peers[fam], k);
    if (d->half_open_per_address && n && *n >= d->half_open_per_address) {
        snprintf(why, sizeof(why),
                 "%u half-open IKE SAs from this %s (daemon.half_open_per_address)", *n,
                 fam ? "/64" : "address");
        engine_drop(e, IKE_DROP_HALF_OPEN, remote, why);
        return false;
    }
    return true;
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
    uint8_t fam;
    uint64_t pk = half_open_peer(&sa->remote, &fam);
    unsigned *cnt = hk_u64map_get(&e->half_open_peers[fam], pk);
    bool fresh = !cnt;
    if (fresh &&
        (!(cnt = calloc(1, sizeof(*cnt))) || hk_u64map_put(&e->half_open_peers[fam], pk, cnt))) {
        free(cnt);
        return HK_E_NOMEM;
    }
    int rc = hk_u64map_put(&e->half_open, k, sa);
    if (rc) {
        if (fresh) {
            hk_u64map_del(&e->half_open_peers[fam], pk);
            free(cnt);
        }
        return rc; /* HK_E_EXISTS: another half-open SA holds this key */
    }
    (*cnt)++;
    sa->half_open_peer_fam = fam;
    sa->half_open_peer_key = pk;
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
    /* The peer's count, by the key stored with the SA; the entry goes with its last SA. */
    struct hk_u64map *peers = &e->half_open_peers[sa->half_open_peer_fam];
    unsigned *cnt = hk_u64map_get(peers, sa->half_open_peer_key);
    if (cnt && !--*cnt) {
        hk_u64map_del(peers, sa->half_open_peer_key);
        free(cnt);
    }
    sa->half_open = false;
    e->nhalf_open--;
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

void engine_float_natt(struct ike_engine *e, struct ike_sa *sa)
{
    uint16_t natt = e->cfg->daemon.natt_port;
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    /* RFC 4555 3.3: with MOBIKE on, move to the NAT-T port even without a NAT when the peer
     * does NAT traversal too, so a later move through one needs no change of port. */
    if (!natt || !(sa->nat_local || sa->nat_remote || (conn && conn->mobike && sa->peer_natt)))
        return;
    /* 2.23: once a NAT is detected, the initiator moves IKE (and ESP) to the NAT-T port.
     * A local port the caller chose stays: the peer sees what a NAT would show it anyway. */
    if (!sa->local_fixed)
        hk_sockaddr_set_port(&sa->local, natt);
    hk_sockaddr_set_port(&sa->remote, natt);
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
