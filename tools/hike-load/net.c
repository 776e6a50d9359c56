/*
 * hike-load's UDP transport: one socket per (source address, port), so that the SAs come from
 * many 5-tuples as real clients would. The non-ESP marker (RFC 3948 2.2) goes with the peer's
 * NAT-T port: our own port never changes (ike_engine_initiate_from).
 */
#include "load.h"

#include "common/err.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RX_MAX   65536
#define RX_BATCH 8         /* datagrams per recvmmsg */
#define RX_BURST 64        /* per socket and wake-up */
#define SOCK_BUF (1 << 20) /* a window of answers arriving at once must not overflow */

static uint16_t port_of(const struct sockaddr_storage *a)
{
    return ntohs(a->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)a)->sin6_port
                                          : ((const struct sockaddr_in *)a)->sin_port);
}

static socklen_t addr_len(const struct sockaddr_storage *a)
{
    return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct load_sock *s = arg;
    struct load *l = s->l;
    (void)what;
    for (size_t burst = 0; burst < RX_BURST;) {
        int n = hk_rxbatch_recv(&l->rx, fd, RX_BATCH);
        for (int i = 0; i < n; i++) {
            const uint8_t *p = hk_rxbatch_data(&l->rx, (size_t)i);
            size_t len = l->rx.mm[i].msg_len;
            if (port_of(&l->rx.from[i]) == l->o->natt_port) {
                /* Keepalives and ESP are not ours; IKE comes behind four zero octets. */
                if (len < 4 || p[0] | p[1] | p[2] | p[3])
                    continue;
                p += 4;
                len -= 4;
            }
            ike_engine_recv(&l->engine, &s->addr, &l->rx.from[i], p, len);
        }
        /* A short batch drained the socket (level-triggered: a later datagram wakes us). */
        if (n < RX_BATCH)
            break;
        burst += (size_t)n;
    }
    load_kick(l);
}

static int open_sock(struct load *l, const struct hk_ip *ip, uint16_t port, struct load_sock *s)
{
    struct sockaddr_storage a = {0};
    if (ip->family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        memcpy(&s6->sin6_addr, ip->addr, 16);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&a;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        memcpy(&s4->sin_addr, ip->addr, 4);
    }
    int fd = socket(ip->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), buf = SOCK_BUF;
    if (fd < 0) {
        fprintf(stderr, "hike-load: socket: %s\n", strerror(errno));
        return HK_E_IO;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    if (bind(fd, (struct sockaddr *)&a, addr_len(&a)) < 0) {
        char txt[64];
        hk_ip_format(ip, txt, sizeof(txt));
        fprintf(stderr, "hike-load: cannot bind UDP %s port %u: %s\n", txt, port, strerror(errno));
        close(fd);
        return HK_E_IO;
    }
    *s = (struct load_sock){.l = l, .fd = fd, .addr = a};
    s->ev = event_new(l->base, fd, EV_READ | EV_PERSIST, on_readable, s);
    if (!s->ev || event_add(s->ev, NULL)) {
        fprintf(stderr, "hike-load: libevent cannot watch a socket\n");
        if (s->ev)
            event_free(s->ev);
        close(fd);
        return HK_E_NOMEM;
    }
    return HK_OK;
}

/* The kernel's source address toward the target: connect a throw-away socket, read it back. */
static int route_source(const struct hk_ip *target, struct hk_ip *out)
{
    struct sockaddr_storage t = {0}, me = {0};
    socklen_t len = sizeof(me);
    if (target->family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(500);
        memcpy(&s6->sin6_addr, target->addr, 16);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&t;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(500);
        memcpy(&s4->sin_addr, target->addr, 4);
    }
    int fd = socket(target->family, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = HK_E_IO;
    if (fd >= 0 && !connect(fd, (struct sockaddr *)&t, addr_len(&t)) &&
        !getsockname(fd, (struct sockaddr *)&me, &len)) {
        out->family = target->family;
        if (target->family == AF_INET6)
            memcpy(out->addr, &((struct sockaddr_in6 *)&me)->sin6_addr, 16);
        else
            memcpy(out->addr, &((struct sockaddr_in *)&me)->sin_addr, 4);
        rc = HK_OK;
    }
    if (fd >= 0)
        close(fd);
    return rc;
}

int load_net_open(struct load *l)
{
    const struct load_opts *o = l->o;
    struct hk_ip auto_src;
    const struct hk_ip *src = o->src;
    size_t nsrc = o->nsrc;
    if (!nsrc) {
        char txt[64];
        if (route_source(&o->target, &auto_src)) {
            hk_ip_format(&o->target, txt, sizeof(txt));
            fprintf(stderr, "hike-load: no route to %s: %s\n", txt, strerror(errno));
            return HK_E_IO;
        }
        src = &auto_src;
        nsrc = 1;
    }
    l->socks = calloc(nsrc * o->nports, sizeof(*l->socks));
    if (!l->socks || hk_rxbatch_init(&l->rx, RX_BATCH, RX_MAX, 0) ||
        hk_txq_init(&l->txq, NULL, NULL))
        return HK_E_NOMEM;
    /* Port-major order: consecutive SAs use different addresses first, then ports. */
    for (uint32_t p = 0; p < o->nports; p++)
        for (size_t i = 0; i < nsrc; i++) {
            int rc = open_sock(l, &src[i], (uint16_t)(o->base_port + p), &l->socks[l->nsocks]);
            if (rc)
                return rc;
            l->nsocks++;
        }
    return HK_OK;
}

void load_net_close(struct load *l)
{
    load_net_flush(l);
    for (size_t i = 0; i < l->nsocks; i++) {
        event_free(l->socks[i].ev);
        close(l->socks[i].fd);
    }
    free(l->socks);
    hk_rxbatch_free(&l->rx);
    hk_txq_free(&l->txq);
    l->socks = NULL;
    l->nsocks = 0;
}

void load_net_flush(struct load *l)
{
    /* A lost datagram is the engine's to retransmit, as on a real network. */
    size_t failed = hk_txq_flush(&l->txq);
    if (failed)
        hk_debug(&l->log, "sendmmsg: %zu datagrams not sent: %s", failed,
                 strerror(l->txq.last_errno));
}

const struct sockaddr_storage *load_net_local(const struct load *l, uint64_t i)
{
    return &l->socks[i % l->nsocks].addr;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET6)
        return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                       &((const struct sockaddr_in6 *)b)->sin6_addr, 16) &&
               port_of(a) == port_of(b);
    return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr &&
           port_of(a) == port_of(b);
}

/* The socket bound to local: computed from the port and the source index, checked. */
static struct load_sock *sock_for(struct load *l, const struct sockaddr_storage *local)
{
    uint16_t port = port_of(local);
    size_t nsrc = l->o->nsrc ? l->o->nsrc : 1;
    if (port < l->o->base_port || port - l->o->base_port >= l->o->nports)
        return NULL;
    size_t first = (size_t)(port - l->o->base_port) * nsrc;
    for (size_t i = first; i < first + nsrc && i < l->nsocks; i++)
        if (same_addr(&l->socks[i].addr, local))
            return &l->socks[i];
    return NULL;
}

void load_net_send(void *arg, const struct sockaddr_storage *local,
                   const struct sockaddr_storage *remote, const uint8_t *buf, size_t len)
{
    struct load *l = arg;
    struct load_sock *s = sock_for(l, local);
    if (!s) {
        hk_warn(&l->log, "no socket for local port %u", port_of(local));
        return;
    }
    static const uint8_t marker[4] = {0};
    bool natt = port_of(remote) == l->o->natt_port;
    struct iovec iov[2] = {{.iov_base = (void *)marker, .iov_len = 4},
                           {.iov_base = (void *)buf, .iov_len = len}};
    /* Queued: the main loop flushes after each round of callbacks. The socket is bound to
     * local's address, so no IP_PKTINFO. */
    int rc = hk_txq_add(&l->txq, s->fd, NULL, remote, natt ? iov : iov + 1, natt ? 2 : 1);
    if (rc)
        hk_debug(&l->log, "IKE datagram not sent (%d): %s", rc,
                 rc < 0 ? hk_strerror(rc) : strerror(l->txq.last_errno));
}
