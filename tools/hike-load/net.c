/*
 * hike-load's UDP transport: the SAs come from many (source address, port) pairs, as real
 * clients would. One socket per port, bound to the wildcard address, serves every source
 * address: IP_PKTINFO picks the source of each datagram and tells the destination of each
 * one received. The SAs in flight then share a few sockets, whose datagrams go in and out
 * in batches (recvmmsg, sendmmsg) instead of one system call each. The non-ESP marker
 * (RFC 3948 2.2) goes with the peer's NAT-T port: our own port never changes
 * (ike_engine_initiate_from).
 */
#include "load.h"

#include "common/err.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RX_MAX   65536
#define RX_BATCH 32        /* datagrams per recvmmsg (of 64 KiB each, touched as used) */
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

/* The local address datagram i of the batch was sent to: IP(V6)_PKTINFO and the port. */
static void dest_of(const struct load *l, const struct load_sock *s, size_t i,
                    struct sockaddr_storage *to)
{
    struct msghdr *mh = &l->rx.mm[i].msg_hdr;
    *to = s->addr; /* the wildcard, should the kernel not say */
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            ((struct sockaddr_in *)to)->sin_addr = pi.ipi_addr;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            ((struct sockaddr_in6 *)to)->sin6_addr = pi.ipi6_addr;
        }
    }
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
            struct sockaddr_storage to;
            if (port_of(&l->rx.from[i]) == l->o->natt_port) {
                /* Keepalives and ESP are not ours; IKE comes behind four zero octets. */
                if (len < 4 || p[0] | p[1] | p[2] | p[3])
                    continue;
                p += 4;
                len -= 4;
            }
            dest_of(l, s, (size_t)i, &to);
            ike_engine_recv(&l->engine, &to, &l->rx.from[i], p, len);
        }
        /* A short batch drained the socket (level-triggered: a later datagram wakes us). */
        if (n < RX_BATCH)
            break;
        burst += (size_t)n;
    }
    load_kick(l);
}

static void set_addr(struct sockaddr_storage *a, const struct hk_ip *ip, uint16_t port)
{
    memset(a, 0, sizeof(*a));
    if (ip->family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)a;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        memcpy(&s6->sin6_addr, ip->addr, 16);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)a;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        memcpy(&s4->sin_addr, ip->addr, 4);
    }
}

/* The socket of one port, on every address of the family. */
static int open_sock(struct load *l, int family, uint16_t port, struct load_sock *s)
{
    struct hk_ip any = {.family = family};
    struct sockaddr_storage a;
    set_addr(&a, &any, port);
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), buf = SOCK_BUF, one = 1;
    if (fd < 0) {
        fprintf(stderr, "hike-load: socket: %s\n", strerror(errno));
        return HK_E_IO;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
    if (family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
    } else {
        setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
    }
    if (bind(fd, (struct sockaddr *)&a, addr_len(&a)) < 0) {
        fprintf(stderr, "hike-load: cannot bind UDP port %u: %s\n", port, strerror(errno));
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
    size_t cspace = CMSG_SPACE(sizeof(struct in6_pktinfo));
    l->socks = calloc(o->nports, sizeof(*l->socks));
    l->locals = calloc(nsrc * o->nports, sizeof(*l->locals));
    if (!l->socks || !l->locals || hk_rxbatch_init(&l->rx, RX_BATCH, RX_MAX, cspace) ||
        hk_txq_init(&l->txq, NULL, NULL))
        return HK_E_NOMEM;
    /* Port-major order: consecutive SAs use different addresses first, then ports. */
    for (uint32_t p = 0; p < o->nports; p++) {
        int rc = open_sock(l, o->target.family, (uint16_t)(o->base_port + p), &l->socks[p]);
        if (rc)
            return rc;
        l->nsocks++;
        for (size_t i = 0; i < nsrc; i++)
            set_addr(&l->locals[l->nlocals++], &src[i], (uint16_t)(o->base_port + p));
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
    free(l->locals);
    hk_rxbatch_free(&l->rx);
    hk_txq_free(&l->txq);
    l->socks = NULL;
    l->locals = NULL;
    l->nsocks = l->nlocals = 0;
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
    return &l->locals[i % l->nlocals];
}

/* The socket of local's port. */
static struct load_sock *sock_for(struct load *l, const struct sockaddr_storage *local)
{
    uint16_t port = port_of(local);
    if (port < l->o->base_port || (size_t)(port - l->o->base_port) >= l->nsocks ||
        local->ss_family != l->socks[0].addr.ss_family)
        return NULL;
    return &l->socks[port - l->o->base_port];
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
    /* Queued: the main loop flushes after each round of callbacks, leaving from local's
     * address (IP_PKTINFO: the socket serves every address). */
    int rc = hk_txq_add(&l->txq, s->fd, local, remote, natt ? iov : iov + 1, natt ? 2 : 1);
    if (rc)
        hk_debug(&l->log, "IKE datagram not sent (%d): %s", rc,
                 rc < 0 ? hk_strerror(rc) : strerror(l->txq.last_errno));
}
