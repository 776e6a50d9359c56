#include "esp/dp_user.h"

#include "common/fmt.h"

#include "common/err.h"
#include "common/u64map.h"
#include "crypto/kdf.h"
#include "esp/dp_sa.h"
#include "esp/esp_packet.h"
#include "esp/gso.h"
#include "esp/esp_transport.h"
#include "esp/prefix.h"
#include "esp/replay.h"
#include "esp/route_refs.h"
#include "esp/rtnl.h"
#include "esp/spd.h"
#include "esp/tp_route.h"
#include "esp/tun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DP_BUF     (65536 + 256)
#define DP_BURST   64    /* TUN reads or socket batches per wake-up */
#define DP_BATCH   64    /* ESP packets sent with one system call at most */
#define DP_SLOT    4096  /* room per batched ESP packet: a TUN MTU up to about 4000 */
#define DP_GSO_MAX 65000 /* octets in one UDP GSO send (under the 65507 UDP limit) */
#define VNET_LEN   sizeof(struct virtio_net_hdr)
#define DP_RCVBUF  (8 * 1024 * 1024)
#define DP_GRACE   2 /* seconds a removed inbound SA still accepts packets */

/* Where one batched ESP packet goes. */
struct dp_dest {
    bool udp;
    union dp_addr local, remote;
};

/*
 * ESP packets waiting to be sent together: sendmmsg for raw ESP, UDP GSO (or one call per
 * run) for ESP in UDP. Filled while a burst of TUN reads is processed, sent at its end.
 * The destination is copied: an SA may go (hard lifetime) before the batch is sent.
 */
struct dp_tx {
    uint8_t *slots; /* DP_BATCH x DP_SLOT */
    size_t len[DP_BATCH];
    uint8_t dest[DP_BATCH]; /* index into dests */
    struct dp_dest dests[DP_BATCH];
    size_t n, ndests;
};

/* A trap policy and the packets waiting for its Child SA. */
#define DP_TRAP_QUEUE 32
#define DP_MAX_TRAPS  32
struct dp_trap {
    char conn[64];
    struct hk_sel *sel;
    size_t nq;
    struct {
        uint8_t *p;
        size_t len;
    } q[DP_TRAP_QUEUE];
    struct timeval acquired; /* when we last asked for the SA */
};

struct dp_user {
    struct hk_dataplane base;
    const struct hk_crypto *crypto;
    struct event_base *evb;
    struct hk_dp_user_conf conf;
    int tun_fd, ifindex;
    char ifname[32];
    struct event *tun_ev, *raw4_ev, *raw6_ev, *reaper;
    int raw4, raw6;
    struct hk_rtnl rtnl;
    struct hk_spd spd;
    struct hk_u64map in_by_spi;  /* inbound SPI -> struct dp_sa (the SPD finds outbound) */
    struct hk_route_refs routes; /* tunnel mode: the remote selectors' prefixes */
    uint64_t tun_drops, no_policy, bad_in, nomem_in, trap_queued, trap_dropped;
    struct dp_trap traps[DP_MAX_TRAPS];
    size_t ntraps;
    uint8_t *buf, *obuf;
    bool vnet; /* the TUN device has offloads: a virtio_net_hdr on each read and write */
    struct dp_tx tx;
    uint8_t *rx; /* DP_BATCH x DP_SLOT: one recvmmsg of raw ESP */
    struct hk_gro gro;
    uint64_t gso_bad, tx_errors;
    struct hk_tp_routing tpr; /* transport mode: peers' routes and the fwmark rule */
    uint8_t *tpbuf;           /* transport mode: an inbound packet with its rebuilt header */
};

static struct dp_user *U(struct hk_dataplane *dp)
{
    return (struct dp_user *)dp;
}

static void report(struct dp_user *u, uint64_t child, enum hk_dp_event ev)
{
    if (u->conf.event)
        u->conf.event(u->conf.send_arg, child, ev);
}

/* Checks one direction's counters against the limits; true once the hard limit is reached. */
static bool over_limit(struct dp_user *u, const struct dp_sa *s, struct dp_fired *f,
                       uint64_t packets, uint64_t bytes)
{
    const struct dp_limits *l = &s->lim;
    if (f->hard)
        return true;
    if ((l->hard_bytes && bytes >= l->hard_bytes) ||
        (l->hard_packets && packets >= l->hard_packets)) {
        f->hard = true;
        report(u, s->child, HK_DP_HARD_EXPIRED);
        return true;
    }
    if (!f->soft && ((l->soft_bytes && bytes >= l->soft_bytes) ||
                     (l->soft_packets && packets >= l->soft_packets))) {
        f->soft = true;
        report(u, s->child, HK_DP_SOFT_EXPIRED);
    }
    return false;
}

/* ---- routes for the remote selectors ---- */

static int route_add(void *arg, const struct hk_ip *dst, uint8_t len)
{
    struct dp_user *u = arg;
    int rc = hk_rtnl_route_add(&u->rtnl, u->ifindex, dst, len, NULL, 0);
    if (rc)
        hk_warn(u->base.log, "dataplane: route via %s: %s", u->ifname, u->rtnl.err);
    return rc;
}

static int route_del(void *arg, const struct hk_ip *dst, uint8_t len)
{
    struct dp_user *u = arg;
    return hk_rtnl_route_del(&u->rtnl, u->ifindex, dst, len, NULL, 0);
}

/* The prefixes of a selector's range (a route needs prefixes: a range may take several). */
static size_t ts_prefixes(const struct ike_ts *ts, struct hk_ip *pfx, uint8_t *lens)
{
    struct hk_ip_range r = {.family = ts->type == IKE_TS_IPV6_ADDR_RANGE ? AF_INET6 : AF_INET};
    size_t alen = r.family == AF_INET6 ? 16 : 4;
    memcpy(r.start, ts->start_addr, alen);
    memcpy(r.end, ts->end_addr, alen);
    size_t n = hk_range_to_prefixes(&r, pfx, lens, HK_PREFIX_MAX_V6);
    return n < HK_PREFIX_MAX_V6 ? n : HK_PREFIX_MAX_V6;
}

static void route_ref(struct dp_user *u, const struct ike_ts *ts, int delta)
{
    struct hk_ip pfx[HK_PREFIX_MAX_V6];
    uint8_t lens[HK_PREFIX_MAX_V6];
    size_t n = ts_prefixes(ts, pfx, lens);
    for (size_t i = 0; i < n; i++)
        if (delta < 0)
            hk_route_refs_unref(&u->routes, &pfx[i], lens[i]);
        else if (hk_route_refs_ref(&u->routes, &pfx[i], lens[i]))
            hk_warn(u->base.log, "dataplane: no memory for a route via %s", u->ifname);
}

/* Every route ref held (hk_route_refs_set_permanent): the remote selectors of the tunnel-mode
 * SAs in service, as install took them, and of the trap policies. */
static void visit_sel(struct hk_route_refs *r, const struct hk_sel *sel, hk_route_visit visit)
{
    struct hk_ip pfx[HK_PREFIX_MAX_V6];
    uint8_t lens[HK_PREFIX_MAX_V6];
    for (size_t k = 0; k < sel->nremote; k++) {
        size_t n = ts_prefixes(&hk_sel_remote(sel)[k], pfx, lens);
        for (size_t i = 0; i < n; i++)
            visit(r, &pfx[i], lens[i]);
    }
}

static void routes_each(void *arg, struct hk_route_refs *r, hk_route_visit visit)
{
    struct dp_user *u = arg;
    size_t pos = 0;
    const struct dp_sa *sa;
    while ((sa = hk_u64map_next(&u->in_by_spi, &pos, NULL)))
        if (sa->out.live && !sa->out.transport)
            visit_sel(r, sa_sel(sa), visit);
    for (size_t k = 0; k < u->ntraps; k++)
        visit_sel(r, u->traps[k].sel, visit);
}

/* The pools' prefixes become permanent routes into the TUN device. */
static int user_set_pools(struct hk_dataplane *dp, const struct hk_ip_range *pools, size_t n)
{
    struct dp_user *u = U(dp);
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += hk_range_to_prefixes(&pools[i], NULL, NULL, 0);
    struct hk_route_pfx *p = total ? calloc(total, sizeof(*p)) : NULL;
    struct hk_ip *ips = total ? calloc(total, sizeof(*ips)) : NULL;
    uint8_t *lens = total ? calloc(total, 1) : NULL;
    int rc = total && (!p || !ips || !lens) ? HK_E_NOMEM : HK_OK;
    for (size_t i = 0, k = 0; !rc && i < n; i++) {
        size_t m = hk_range_to_prefixes(&pools[i], ips + k, lens + k, total - k);
        for (size_t j = k; j < k + m; j++)
            p[j] = (struct hk_route_pfx){.dst = ips[j], .len = lens[j]};
        k += m;
    }
    if (!rc)
        rc = hk_route_refs_set_permanent(&u->routes, p, total, routes_each, u);
    free(p);
    free(ips);
    free(lens);
    if (rc)
        hk_err(dp->log, "dataplane: address pool routes via %s: %s", u->ifname, hk_strerror(rc));
    else if (total)
        hk_info(dp->log, "dataplane: %zu address pool prefixes routed via %s (%zu in the kernel)",
                total, u->ifname, u->routes.nperm);
    return rc;
}

static void send_esp(struct dp_user *u, struct dp_sa *s, const uint8_t *pkt, size_t len);
static void trap_flush(struct dp_user *u);

/* ---- install / remove ---- */

static int user_install(struct hk_dataplane *dp, const struct hk_dp_child *c,
                        const struct hk_esp_state *initial)
{
    struct dp_user *u = U(dp);
    struct hk_tp_addrs tp = {0};
    if (c->transport &&
        hk_tp_addrs_from_ts(c->ts_local, c->nts_local, c->ts_remote, c->nts_remote, &tp)) {
        hk_warn(dp->log,
                "dataplane: transport mode SA %08x needs one address per side in its "
                "selectors (RFC 7296 2.23.1)",
                c->id.spi_in);
        return HK_E_UNSUPPORTED;
    }
    if (c->nts_local > HK_SPD_MAX_TS || c->nts_remote > HK_SPD_MAX_TS) {
        hk_err(dp->log, "dataplane: SA %08x has more than %d selectors a side", c->id.spi_in,
               HK_SPD_MAX_TS);
        return HK_E_INVALID;
    }
    struct dp_sa *s = NULL;
    int rc = dp_sa_new(u->crypto, c, u->conf.replay_window, initial, &s);
    if (rc) {
        hk_err(dp->log, "dataplane: cannot install ESP SA %08x/%08x: %s", c->id.spi_in,
               c->id.spi_out, hk_strerror(rc));
        return rc;
    }
    struct dp_out *out = &s->out;
    rc = hk_u64map_put(&u->in_by_spi, c->id.spi_in, s);
    if (!rc && (rc = hk_spd_add_sel(&u->spd, c->id.child, sa_sel(s), s, c->initiator)))
        hk_u64map_del(&u->in_by_spi, c->id.spi_in);
    if (rc) {
        dp_sa_free(s);
        hk_err(dp->log, "dataplane: cannot install ESP SA %08x/%08x: %s", c->id.spi_in,
               c->id.spi_out, hk_strerror(rc));
        return rc;
    }
    if (c->transport)
        hk_tp_route_ref(&u->tpr, &tp); /* its own table: see tp_route.h */
    else
        for (size_t i = 0; i < c->nts_remote; i++)
            route_ref(u, &c->ts_remote[i], +1);
    dp->installed++;
    hk_info(dp->log, "dataplane: ESP SA in %08x out %08x installed on %s (%s, %s mode)",
            c->id.spi_in, c->id.spi_out, u->ifname, out->udp ? "ESP in UDP" : "ESP",
            c->transport ? "transport" : "tunnel");
    trap_flush(u);
    return HK_OK;
}

/* Frees the SAs whose grace period is over. */
static void on_reaper(evutil_socket_t fd, short what, void *arg)
{
    struct dp_user *u = arg;
    struct timeval now;
    size_t pos = 0;
    uint64_t spi;
    struct dp_sa *s;
    bool more = false;
    (void)fd, (void)what;
    event_base_gettimeofday_cached(u->evb, &now);
    while ((s = hk_u64map_next(&u->in_by_spi, &pos, &spi))) {
        if (!s->in.dies)
            continue;
        if (s->in.dies <= now.tv_sec) {
            hk_u64map_del(&u->in_by_spi, spi);
            dp_sa_free(s);
        } else {
            more = true;
        }
    }
    if (more) {
        struct timeval one = {.tv_sec = 1};
        evtimer_add(u->reaper, &one);
    }
}

static void user_remove(struct hk_dataplane *dp, const struct hk_dp_id *c)
{
    struct dp_user *u = U(dp);
    struct dp_sa *s = hk_u64map_get(&u->in_by_spi, c->spi_in);
    if (s && s->child != c->child)
        s = NULL;
    struct hk_tp_addrs tp;
    if (s && s->out.live) {
        /* The routes go as they came: from the selectors the SA holds (the same as at
         * install). */
        const struct hk_sel *sel = sa_sel(s);
        hk_spd_del(&u->spd, c->child);
        if (s->out.transport &&
            !hk_tp_addrs_from_ts(sel->ts, sel->nlocal, hk_sel_remote(sel), sel->nremote, &tp))
            hk_tp_route_unref(&u->tpr, &tp);
        else if (!s->out.transport)
            for (size_t i = 0; i < sel->nremote; i++)
                route_ref(u, &hk_sel_remote(sel)[i], -1);
        hk_esp_sa_crypto_clear(&s->out.cr);
        s->out.live = false;
    }
    if (s && !s->in.dies) {
        /* Packets the peer sent before its DELETE may arrive after it (another socket):
         * the inbound SA takes them for DP_GRACE more seconds, then goes. */
        struct timeval now, one = {.tv_sec = 1};
        event_base_gettimeofday_cached(u->evb, &now);
        s->in.dies = now.tv_sec + DP_GRACE;
        evtimer_add(u->reaper, &one);
    }
    dp->removed++;
}

/* ---- outbound: TUN -> ESP ---- */

/* Sends what the batch holds: runs of packets to one destination in one system call. */
static void tx_flush(struct dp_user *u)
{
    struct dp_tx *t = &u->tx;
    struct iovec iov[DP_BATCH];
    struct mmsghdr mm[DP_BATCH];
    for (size_t i = 0; i < t->n; i++)
        iov[i] = (struct iovec){.iov_base = t->slots + i * DP_SLOT, .iov_len = t->len[i]};
    size_t i = 0;
    while (i < t->n) {
        const struct dp_dest *d = &t->dests[t->dest[i]];
        size_t j = i + 1;
        while (j < t->n && t->dest[j] == t->dest[i])
            j++;
        if (d->udp) {
            struct sockaddr_storage local = {0}, remote = {0};
            memcpy(&local, &d->local, sizeof(d->local));
            memcpy(&remote, &d->remote, sizeof(d->remote));
            /* UDP GSO needs equal sizes but for a shorter last one, under 64 KiB in all. */
            size_t k = i;
            while (k < j) {
                size_t seg = t->len[k], end = k + 1, total = seg;
                while (end < j && t->len[end - 1] == seg && t->len[end] <= seg &&
                       total + t->len[end] <= DP_GSO_MAX)
                    total += t->len[end++];
                u->conf.send_udp(u->conf.send_arg, &local, &remote, iov + k, end - k,
                                 end - k > 1 ? seg : 0);
                k = end;
            }
        } else {
            struct sockaddr_storage dst = {0};
            memcpy(&dst, &d->remote, sizeof(d->remote));
            socklen_t dlen = sizeof(struct sockaddr_in);
            if (dst.ss_family == AF_INET6) {
                ((struct sockaddr_in6 *)&dst)->sin6_port = 0;
                dlen = sizeof(struct sockaddr_in6);
            } else {
                ((struct sockaddr_in *)&dst)->sin_port = 0;
            }
            for (size_t k = i; k < j; k++)
                mm[k - i] = (struct mmsghdr){.msg_hdr = {.msg_name = &dst,
                                                         .msg_namelen = dlen,
                                                         .msg_iov = &iov[k],
                                                         .msg_iovlen = 1}};
            int fd = dst.ss_family == AF_INET6 ? u->raw6 : u->raw4;
            size_t done = 0;
            while (done < j - i) {
                int r = sendmmsg(fd, mm + done, (unsigned)(j - i - done), 0);
                if (r <= 0) {
                    u->tx_errors += j - i - done; /* a full socket buffer: TCP resends */
                    break;
                }
                done += (size_t)r;
            }
        }
        i = j;
    }
    t->n = t->ndests = 0;
}

/* The batch slot the next packet goes into, flushing a full batch first. */
static uint8_t *tx_slot(struct dp_user *u)
{
    if (u->tx.n == DP_BATCH)
        tx_flush(u);
    return u->tx.slots + u->tx.n * DP_SLOT;
}

/* Queues the ESP packet just built in tx_slot (olen octets) for o's peer. The addresses are
 * zero-filled unions (addr_of), so comparing them whole is exact. */
static void tx_push(struct dp_user *u, const struct dp_out *o, size_t olen)
{
    struct dp_tx *t = &u->tx;
    struct dp_dest *d = t->ndests ? &t->dests[t->ndests - 1] : NULL;
    if (!d || d->udp != o->udp || memcmp(&d->remote, &o->remote, sizeof(d->remote)) ||
        memcmp(&d->local, &o->local, sizeof(d->local))) {
        d = &t->dests[t->ndests++];
        *d = (struct dp_dest){.udp = o->udp, .local = o->local, .remote = o->remote};
    }
    t->dest[t->n] = (uint8_t)(t->ndests - 1);
    t->len[t->n++] = olen;
}

/*
 * Protects one wire-sized inner packet for o into the next batch slot. The packet may
 * already sit at that slot's payload position (zero copy, as send_esp_gso puts it).
 */
static void send_esp(struct dp_user *u, struct dp_sa *s, const uint8_t *pkt, size_t len)
{
    struct dp_out *o = &s->out;
    if (!o->live)
        return; /* removed meanwhile (a hard limit reported in this burst) */
    if (!o->esn && o->seq == UINT32_MAX) {
        o->seq_exhausted++; /* RFC 4303 3.3.3: never cycle; the SA must be rekeyed */
        return;
    }
    if (over_limit(u, s, &o->fired, o->packets, o->bytes))
        return;
    uint8_t nh = (pkt[0] >> 4) == 6 ? HK_ESP_NH_IPV6 : HK_ESP_NH_IPV4;
    /* Transport mode protects the upper-layer payload; Next Header = its protocol (RFC 4303
     * 2.6); the outer IP header is the kernel's. */
    if (o->transport && hk_tp_strip(pkt, len, &pkt, &len, &nh)) {
        u->base.clear_dropped++;
        hk_debug(u->base.log, "dataplane: transport mode cannot carry this packet (fragment, "
                              "IPv4 options or IPv6 extension header): dropped");
        return;
    }
    size_t olen;
    if (hk_esp_packet_len(&o->cr, len, 0) > DP_SLOT) { /* a large TUN MTU: on its own */
        if (hk_esp_encap(&o->cr, o->seq + 1, nh, pkt, len, 0, u->obuf, DP_BUF, &olen))
            return;
        tx_flush(u);
        memcpy(tx_slot(u), u->obuf, olen);
    } else if (hk_esp_encap(&o->cr, o->seq + 1, nh, pkt, len, 0, tx_slot(u), DP_SLOT, &olen)) {
        return;
    }
    o->seq++;
    o->packets++;
    o->bytes += len;
    tx_push(u, o, olen);
}

/* A packet from the TUN device (with its offload header, if any) for o: cut into
 * wire-sized segments, each written straight into a batch slot and protected there. */
static void send_esp_gso(struct dp_user *u, struct dp_sa *s, struct hk_gso *g)
{
    size_t hdr = hk_esp_hdr_len(&s->out.cr), plen;
    uint8_t *slot;
    while ((slot = tx_slot(u)), hk_gso_next(g, slot + hdr, DP_SLOT - hdr - 64, &plen) == HK_OK)
        send_esp(u, s, slot + hdr, plen);
}

/* ---- trap policies ---- */

static bool trap_matches(const struct dp_trap *t, const struct hk_pkt_sel *p)
{
    return hk_sel_out(t->sel, p);
}

static void trap_clear_queue(struct dp_trap *t)
{
    for (size_t i = 0; i < t->nq; i++)
        free(t->q[i].p);
    t->nq = 0;
}

static int user_trap_add(struct hk_dataplane *dp, const char *conn, const struct ike_ts *local,
                         size_t nlocal, const struct ike_ts *remote, size_t nremote)
{
    struct dp_user *u = U(dp);
    if (u->ntraps >= DP_MAX_TRAPS || nlocal > HK_SPD_MAX_TS || nremote > HK_SPD_MAX_TS)
        return HK_E_OVERFLOW;
    struct hk_sel *sel = hk_sel_new(local, nlocal, remote, nremote);
    if (!sel)
        return HK_E_NOMEM;
    struct dp_trap *t = &u->traps[u->ntraps++];
    memset(t, 0, sizeof(*t));
    snprintf(t->conn, sizeof(t->conn), "%s", conn);
    t->sel = sel;
    for (size_t i = 0; i < nremote; i++)
        route_ref(u, &remote[i], +1);
    hk_info(dp->log, "dataplane: trap policy for %s on %s", conn, u->ifname);
    return HK_OK;
}

static void user_trap_clear(struct hk_dataplane *dp)
{
    struct dp_user *u = U(dp);
    for (size_t k = 0; k < u->ntraps; k++) {
        struct dp_trap *t = &u->traps[k];
        for (size_t i = 0; i < t->sel->nremote; i++)
            route_ref(u, &hk_sel_remote(t->sel)[i], -1);
        trap_clear_queue(t);
        free(t->sel);
    }
    u->ntraps = 0;
}

/* A packet without a Child SA: queued behind a trap policy it matches, which asks for the SA
 * (at most once a second); dropped and counted otherwise. */
static void trap_packet(struct dp_user *u, const struct hk_pkt_sel *sel, const uint8_t *pkt,
                        size_t len)
{
    for (size_t k = 0; k < u->ntraps; k++) {
        struct dp_trap *t = &u->traps[k];
        if (!trap_matches(t, sel))
            continue;
        uint8_t *copy = t->nq < DP_TRAP_QUEUE ? malloc(len) : NULL;
        if (copy) {
            memcpy(copy, pkt, len);
            t->q[t->nq].p = copy;
            t->q[t->nq++].len = len;
            u->trap_queued++;
        } else {
            u->trap_dropped++;
        }
        struct timeval now;
        event_base_gettimeofday_cached(u->evb, &now);
        if (u->conf.acquire && now.tv_sec - t->acquired.tv_sec >= 1) {
            t->acquired = now;
            u->conf.acquire(u->conf.send_arg, t->conn);
        }
        return;
    }
    u->no_policy++;
    hk_debug(u->base.log, "dataplane: packet without a policy dropped");
}

/* A new Child SA: the packets its traps held go out through it now. */
static void trap_flush(struct dp_user *u)
{
    for (size_t k = 0; k < u->ntraps; k++) {
        struct dp_trap *t = &u->traps[k];
        size_t keep = 0;
        for (size_t i = 0; i < t->nq; i++) {
            struct hk_pkt_sel sel;
            struct dp_sa *o = NULL;
            if (!hk_pkt_sel_parse(t->q[i].p, t->q[i].len, &sel))
                o = hk_spd_lookup_arg(&u->spd, &sel);
            if (o) {
                send_esp(u, o, t->q[i].p, t->q[i].len);
                free(t->q[i].p);
            } else {
                t->q[keep++] = t->q[i];
            }
        }
        t->nq = keep;
    }
    tx_flush(u);
}

/* Traffic without an SA that a trap policy may hold: as wire-sized packets, so that the
 * queue can later go through send_esp as it is. */
static void trap_gso(struct dp_user *u, const struct hk_pkt_sel *sel, struct hk_gso *g)
{
    size_t plen;
    while (hk_gso_next(g, u->obuf, DP_BUF, &plen) == HK_OK)
        trap_packet(u, sel, u->obuf, plen);
}

static void on_tun(evutil_socket_t fd, short what, void *arg)
{
    struct dp_user *u = arg;
    (void)what;
    for (int i = 0; i < DP_BURST; i++) {
        ssize_t n = read(fd, u->buf, DP_BUF);
        if (n <= 0)
            break;
        struct virtio_net_hdr vh = {0};
        const uint8_t *pkt = u->buf;
        size_t len = (size_t)n;
        if (u->vnet) {
            if (len < VNET_LEN) {
                u->tun_drops++;
                continue;
            }
            memcpy(&vh, pkt, VNET_LEN);
            pkt += VNET_LEN;
            len -= VNET_LEN;
        }
        struct hk_gso g;
        struct hk_pkt_sel sel;
        if (hk_gso_init(&g, &vh, pkt, len)) {
            u->gso_bad++;
            continue;
        }
        /* Segments share the headers the policy looks at: one lookup for all. */
        if (hk_pkt_sel_parse(pkt, len, &sel)) {
            u->tun_drops++;
            continue;
        }
        struct dp_sa *o = hk_spd_lookup_arg(&u->spd, &sel);
        if (!o)
            trap_gso(u, &sel, &g);
        else
            send_esp_gso(u, o, &g);
    }
    tx_flush(u);
}

/* ---- inbound: ESP -> TUN ---- */

/* Writes what the coalescing table holds to the TUN device, each with its offload header. */
static void gro_flush(struct dp_user *u)
{
    for (size_t i = 0; i < u->gro.n; i++) {
        struct virtio_net_hdr vh;
        hk_gro_vnet(&u->gro, i, &vh);
        struct iovec iov[2] = {{.iov_base = &vh, .iov_len = VNET_LEN},
                               {.iov_base = u->gro.p[i].buf, .iov_len = u->gro.p[i].len}};
        if (writev(u->tun_fd, iov, 2) < 0)
            u->tun_drops++;
    }
    u->gro.n = 0;
}

/* One decrypted packet for the TUN device: coalesced with its flow's when offloads are on. */
static void tun_write(struct dp_user *u, const uint8_t *pkt, size_t len)
{
    if (!u->vnet) {
        if (write(u->tun_fd, pkt, len) < 0)
            u->tun_drops++;
        return;
    }
    int rc = hk_gro_add(&u->gro, pkt, len);
    if (rc == HK_E_OVERFLOW) {
        gro_flush(u);
        rc = hk_gro_add(&u->gro, pkt, len);
    }
    if (rc)
        u->tun_drops++;
}

static void esp_in(struct dp_user *u, uint8_t *pkt, size_t len)
{
    uint32_t spi, seq_lo;
    uint64_t seq;
    const uint8_t *inner;
    size_t ilen;
    uint8_t nh;
    if (hk_esp_peek_spi(pkt, len, &spi, &seq_lo)) {
        u->bad_in++;
        return;
    }
    struct dp_sa *s = hk_u64map_get(&u->in_by_spi, spi);
    struct dp_in *in = s ? &s->in : NULL;
    if (!in) {
        u->bad_in++;
        hk_debug(u->base.log, "dataplane: ESP for unknown SPI %08x dropped", spi);
        return;
    }
    /* RFC 4303 3.4.3: the window check before, the update after the ICV. */
    if (hk_replay_check(&in->rw, seq_lo, &seq) && !in->no_replay) {
        in->replay_drops++;
        hk_debug(u->base.log, "dataplane: SPI %08x seq %u dropped by the replay window", spi,
                 seq_lo);
        return;
    }
    int drc = hk_esp_decap(&in->cr, seq, pkt, len, &inner, &ilen, &nh);
    if (drc) {
        in->auth_fails++;
        hk_debug(u->base.log, "dataplane: SPI %08x seq %u: %s", spi, seq_lo, hk_strerror(drc));
        return;
    }
    int urc = hk_replay_update(&in->rw, seq);
    if (urc == HK_E_NOMEM) {
        u->nomem_in++; /* the first packet found no memory for the window: drop, count */
        return;
    }
    if (urc && !in->no_replay) {
        in->replay_drops++; /* a copy that passed the check while this one was decrypted */
        return;
    }
    if (nh == HK_ESP_NH_NONE)
        return; /* 2.6: a TFC dummy packet, dropped silently */
    /* Transport mode: the IP header (peer -> us) rebuilt in front of the payload, then the
     * same selector check as tunnel mode. */
    size_t tplen;
    struct hk_tp_addrs tp;
    if (in->transport) {
        /* the selectors name the two addresses (checked at install) */
        hk_tp_addrs_from_ts(sa_sel(s)->ts, sa_sel(s)->nlocal, hk_sel_remote(sa_sel(s)),
                            sa_sel(s)->nremote, &tp);
        if (hk_tp_rebuild(&tp, nh, inner, ilen, in->tp_fix, u->tpbuf, DP_BUF, &tplen)) {
            u->base.esp_dropped++;
            hk_debug(u->base.log, "dataplane: SPI %08x: transport payload too short or long", spi);
            return;
        }
        inner = u->tpbuf;
        ilen = tplen;
        nh = tp.family == AF_INET6 ? HK_ESP_NH_IPV6 : HK_ESP_NH_IPV4;
    }
    struct hk_pkt_sel sel;
    if ((nh != HK_ESP_NH_IPV4 && nh != HK_ESP_NH_IPV6) || hk_pkt_sel_parse(inner, ilen, &sel) ||
        !hk_sel_in(sa_sel(s), &sel)) {
        u->bad_in++; /* RFC 4301 5.2: outside the SA's selectors */
        hk_debug(u->base.log, "dataplane: SPI %08x: inner packet outside the selectors", spi);
        return;
    }
    if (over_limit(u, s, &in->fired, in->packets, in->bytes))
        return;
    in->packets++;
    in->bytes += ilen;
    /* Liveness for DPD, reported at most every 100 ms: fine enough for short dpd_delays. */
    struct timeval now;
    event_base_gettimeofday_cached(u->evb, &now);
    uint32_t tick = (uint32_t)(now.tv_sec * 10 + now.tv_usec / 100000);
    if (tick != in->last_activity) {
        in->last_activity = tick;
        report(u, s->child, HK_DP_ACTIVITY);
    }
    tun_write(u, inner, ilen);
}

static void user_esp_in(struct hk_dataplane *dp, const uint8_t *buf, size_t len)
{
    struct dp_user *u = U(dp);
    if (len > DP_BUF) {
        u->bad_in++;
        return;
    }
    memcpy(u->buf, buf, len); /* decrypted in place */
    esp_in(u, u->buf, len);
}

static void user_esp_flush(struct hk_dataplane *dp)
{
    gro_flush(U(dp));
}

static void on_raw(evutil_socket_t fd, short what, void *arg)
{
    struct dp_user *u = arg;
    struct iovec iov[DP_BATCH];
    struct mmsghdr mm[DP_BATCH];
    (void)what;
    for (int burst = 0; burst < DP_BURST / 8; burst++) {
        for (size_t i = 0; i < DP_BATCH; i++) {
            iov[i] = (struct iovec){.iov_base = u->rx + i * DP_SLOT, .iov_len = DP_SLOT};
            mm[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
        }
        int n = recvmmsg(fd, mm, DP_BATCH, MSG_DONTWAIT, NULL);
        for (int i = 0; i < n; i++) {
            uint8_t *p = u->rx + (size_t)i * DP_SLOT;
            size_t len = mm[i].msg_len, off = 0;
            if (mm[i].msg_hdr.msg_flags & MSG_TRUNC) {
                u->bad_in++; /* larger than any ESP packet our TUN MTU makes */
                continue;
            }
            if (fd == u->raw4) { /* IPv4 raw sockets hand over the IP header too */
                off = len >= 20 ? (size_t)(p[0] & 0x0f) * 4 : SIZE_MAX;
                if (off > len) {
                    u->bad_in++;
                    continue;
                }
            }
            esp_in(u, p + off, len - off);
        }
        if (n < DP_BATCH)
            break;
    }
    gro_flush(u);
}

/* The live SA of Child SA c (not one that is only dying out), or NULL. */
static struct dp_sa *live_sa(struct dp_user *u, const struct hk_dp_id *c)
{
    struct dp_sa *s = hk_u64map_get(&u->in_by_spi, c->spi_in);
    return s && s->child == c->child && s->out.live ? s : NULL;
}

static int user_state_get(struct hk_dataplane *dp, const struct hk_dp_id *c,
                          struct hk_esp_state *out)
{
    const struct dp_sa *s = live_sa(U(dp), c);
    if (!s)
        return HK_E_NOTFOUND;
    dp_sa_state_get(s, out);
    return HK_OK;
}

static int user_update(struct hk_dataplane *dp, const struct hk_dp_id *c,
                       const struct hk_dp_path *p)
{
    struct dp_user *u = U(dp);
    struct dp_sa *s = live_sa(u, c);
    if (!s)
        return HK_E_NOTFOUND;
    /* Packets already batched keep the destination they were queued with (dp_tx copies it):
     * send them before the path changes, so none leaves after a newer one. */
    tx_flush(u);
    dp_sa_set_path(s, p);
    hk_info(dp->log, "dataplane: ESP SA in %08x out %08x now %s", c->spi_in, c->spi_out,
            p->udp ? "in UDP" : "raw ESP");
    return HK_OK;
}

static int user_child_stats(struct hk_dataplane *dp, const struct hk_dp_id *c,
                            struct hk_dp_child_stats *o)
{
    struct dp_user *u = U(dp);
    const struct dp_sa *s = live_sa(u, c);
    if (!s)
        return HK_E_NOTFOUND;
    const struct dp_in *in = &s->in;
    const struct dp_out *out = &s->out;
    *o = (struct hk_dp_child_stats){.packets_in = in->packets,
                                    .bytes_in = in->bytes,
                                    .packets_out = out->packets,
                                    .bytes_out = out->bytes,
                                    .replay_drops = in->replay_drops,
                                    .auth_failures = in->auth_fails};
    return HK_OK;
}

static size_t user_counters(struct hk_dataplane *dp, struct hk_dp_counter *out)
{
    const struct dp_user *u = U(dp);
    const struct hk_dp_counter c[] = {
        {"tun_drops", u->tun_drops},       /* unparsable from TUN, or TUN write failed */
        {"no_policy", u->no_policy},       /* clear traffic matching no SA and no trap */
        {"esp_bad_in", u->bad_in},         /* unknown SPI, truncated, outside selectors */
        {"esp_nomem_in", u->nomem_in},     /* no memory for a replay window's bitmap */
        {"offload_bad", u->gso_bad},       /* a TUN offload header we cannot honour */
        {"esp_tx_errors", u->tx_errors},   /* raw ESP the kernel would not take */
        {"trap_queued", u->trap_queued},   /* packets held for an on-demand SA */
        {"trap_dropped", u->trap_dropped}, /* the trap queue was full */
    };
    _Static_assert(sizeof(c) / sizeof(c[0]) <= HK_DP_MAX_COUNTERS, "too many counters");
    memcpy(out, c, sizeof(c));
    return sizeof(c) / sizeof(c[0]);
}

static void user_destroy(struct hk_dataplane *dp)
{
    struct dp_user *u = U(dp);
    size_t pos = 0;
    struct dp_sa *s;
    while ((s = hk_u64map_next(&u->in_by_spi, &pos, NULL)))
        dp_sa_free(s);
    for (size_t k = 0; k < u->ntraps; k++) {
        trap_clear_queue(&u->traps[k]);
        free(u->traps[k].sel);
    }
    hk_route_refs_flush(&u->routes);
    hk_tp_routing_flush(&u->tpr);
    free(u->tpbuf);
    hk_u64map_free(&u->in_by_spi);
    hk_spd_free(&u->spd);
    if (u->tun_ev)
        event_free(u->tun_ev);
    if (u->reaper)
        event_free(u->reaper);
    if (u->raw4_ev)
        event_free(u->raw4_ev);
    if (u->raw6_ev)
        event_free(u->raw6_ev);
    if (u->raw4 >= 0)
        close(u->raw4);
    if (u->raw6 >= 0)
        close(u->raw6);
    if (u->tun_fd >= 0)
        hk_tun_close(u->tun_fd);
    hk_rtnl_close(&u->rtnl);
    free(u->buf);
    free(u->obuf);
    free(u->tx.slots);
    free(u->rx);
    hk_gro_free(&u->gro);
    free(u);
}

static const struct hk_dataplane_ops user_ops = {
    .name = "userspace",
    .install = user_install,
    .state_get = user_state_get,
    .update = user_update,
    .remove = user_remove,
    .esp_in = user_esp_in,
    .esp_flush = user_esp_flush,
    .child_stats = user_child_stats,
    .trap_add = user_trap_add,
    .trap_clear = user_trap_clear,
    .counters = user_counters,
    .set_pools = user_set_pools,
    .destroy = user_destroy,
};

struct hk_dataplane *hk_dp_user_new(struct event_base *base, const struct hk_crypto *crypto,
                                    const struct hk_log *log, const struct hk_dp_user_conf *conf)
{
    struct dp_user *u = calloc(1, sizeof(*u));
    char err[256] = "";
    if (!u)
        return NULL;
    u->base.ops = &user_ops;
    u->base.log = log;
    u->crypto = crypto;
    u->evb = base;
    u->conf = *conf;
    if (!u->conf.replay_window)
        u->conf.replay_window = HK_REPLAY_DEFAULT_SIZE;
    u->tun_fd = u->raw4 = u->raw6 = -1;
    /* Seeds only spread the hashes: a collision costs time, never a wrong answer. */
    hk_spd_init(&u->spd, (uint64_t)(uintptr_t)u ^ 0x5d5d);
    hk_route_refs_init(&u->routes, (uint64_t)(uintptr_t)u ^ 0xa5a5, route_add, route_del, u);
    hk_u64map_init(&u->in_by_spi, (uint64_t)(uintptr_t)u);
    u->buf = malloc(DP_BUF);
    u->obuf = malloc(DP_BUF);
    u->tx.slots = malloc((size_t)DP_BATCH * DP_SLOT);
    u->rx = malloc((size_t)DP_BATCH * DP_SLOT);
    u->tpbuf = malloc(DP_BUF);
    if (!u->buf || !u->obuf || !u->tx.slots || !u->rx || !u->tpbuf || hk_gro_init(&u->gro))
        goto fail;
    if (hk_rtnl_open(&u->rtnl, log)) {
        hk_fmt(err, sizeof(err), "netlink: %s", u->rtnl.err);
        goto fail;
    }
    const char *tname = conf->ifname ? conf->ifname : "hike%d";
    char oerr[256];
    /* Offloads (large TCP packets both ways) where the kernel has them; plain otherwise. */
    u->vnet =
        !conf->no_offload && !hk_tun_open_offload(tname, u->ifname, sizeof(u->ifname), &u->tun_fd,
                                                  &u->ifindex, oerr, sizeof(oerr));
    if (!u->vnet && !conf->no_offload)
        hk_info(log, "dataplane: no TUN offloads (%s): one packet per read", oerr);
    if (!u->vnet && hk_tun_open_err(tname, u->ifname, sizeof(u->ifname), &u->tun_fd, &u->ifindex,
                                    err, sizeof(err)))
        goto fail;
    /* 1400: room for ESP in UDP over a 1500-octet path. */
    if (hk_rtnl_link_up(&u->rtnl, u->ifindex, 1400)) {
        hk_fmt(err, sizeof(err), "%s: %s", u->ifname, u->rtnl.err);
        goto fail;
    }
    hk_tp_routing_init(&u->tpr, &u->rtnl, u->ifindex, conf->fwmark, conf->route_table);
    u->raw4 = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ESP);
    u->raw6 = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ESP);
    /* Bursts must not overflow the raw sockets: a dropped ESP packet there also makes the
     * kernel, which has no ESP of its own, answer protocol unreachable. */
    int rcvbuf = DP_RCVBUF;
    if (u->raw4 >= 0)
        setsockopt(u->raw4, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
    if (u->raw6 >= 0)
        setsockopt(u->raw6, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
    /* Our ESP must skip the transport-mode rule that sends the peer's traffic to the TUN. */
    uint32_t mark = conf->fwmark;
    if (mark && ((u->raw4 >= 0 && setsockopt(u->raw4, SOL_SOCKET, SO_MARK, &mark, sizeof(mark))) ||
                 (u->raw6 >= 0 && setsockopt(u->raw6, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)))))
        hk_warn(log, "dataplane: SO_MARK on the raw ESP sockets: %s", strerror(errno));
    u->reaper = evtimer_new(base, on_reaper, u);
    u->tun_ev = event_new(base, u->tun_fd, EV_READ | EV_PERSIST, on_tun, u);
    if (u->raw4 >= 0)
        u->raw4_ev = event_new(base, u->raw4, EV_READ | EV_PERSIST, on_raw, u);
    if (u->raw6 >= 0)
        u->raw6_ev = event_new(base, u->raw6, EV_READ | EV_PERSIST, on_raw, u);
    if (!u->reaper || !u->tun_ev || event_add(u->tun_ev, NULL) ||
        (u->raw4_ev && event_add(u->raw4_ev, NULL)) ||
        (u->raw6_ev && event_add(u->raw6_ev, NULL))) {
        snprintf(err, sizeof(err), "cannot watch the TUN device");
        goto fail;
    }
    hk_info(log, "dataplane: userspace ESP on %s%s", u->ifname,
            u->raw4 < 0 ? " (no raw ESP socket: ESP in UDP only)" : "");
    return &u->base;
fail:
    hk_err(log, "dataplane: userspace ESP unavailable: %s", err[0] ? err : "out of memory");
    user_destroy(&u->base);
    return NULL;
}
