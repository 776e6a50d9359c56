/*
 * UDP transport for IKE: sockets on port 500 and 4500 (RFC 7296 2.23, RFC 3948),
 * receiving with the local address from IP_PKTINFO so replies leave from the
 * address the peer used. Every socket carries daemon.fwmark, so that IKE and ESP in UDP
 * skip the rule that routes a transport-mode peer's traffic into the TUN device
 * (esp/tp_route.h).
 */
#include "common/sockaddr.h"
#include "daemon/hiked.h"

#include "common/err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One datagram: IKE, or on the NAT-T port also ESP or a keepalive (RFC 3948 2.2/2.3). */
static void dispatch(struct hiked *d, const struct hiked_sock *s, const struct sockaddr_storage *to,
                     const struct sockaddr_storage *from, const uint8_t *p, size_t len)
{
    if (s->natt) {
        if (len == 1 && p[0] == 0xff) {
            d->stats.rx_keepalive++;
            return;
        }
        if (len < 4) {
            d->stats.rx_short++;
            return;
        }
        if (p[0] | p[1] | p[2] | p[3]) {
            d->stats.rx_esp++;
            if (d->dp && d->dp->ops->esp_in)
                d->dp->ops->esp_in(d->dp, p, len);
            return;
        }
        p += 4; /* the non-ESP marker */
        len -= 4;
    }
    ike_engine_recv(&d->engine, to, from, p, len);
}

/* Datagram i of the batch just read from s: its destination from IP(V6)_PKTINFO, split
 * into its segments if UDP GRO coalesced several. */
static void datagram(struct hiked *d, const struct hiked_sock *s, size_t i)
{
    struct msghdr *mh = &d->rx.mm[i].msg_hdr;
    const uint8_t *buf = hk_rxbatch_data(&d->rx, i);
    size_t n = d->rx.mm[i].msg_len, seg = n;
    struct sockaddr_storage to = {0};
    to.ss_family = (sa_family_t)s->family;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            ((struct sockaddr_in *)&to)->sin_addr = pi.ipi_addr;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(c), sizeof(pi));
            ((struct sockaddr_in6 *)&to)->sin6_addr = pi.ipi6_addr;
        } else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
            int gso; /* the kernel coalesced datagrams of gso octets (the last shorter) */
            memcpy(&gso, CMSG_DATA(c), sizeof(gso));
            if (gso > 0)
                seg = (size_t)gso;
        }
    }
    hk_sockaddr_set_port(&to, s->port);
    for (size_t off = 0; off < n; off += seg)
        dispatch(d, s, &to, &d->rx.from[i], buf + off, n - off < seg ? n - off : seg);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct hiked_sock *s = arg;
    struct hiked *d = s->d;
    (void)what;
    for (size_t burst = 0; burst < HIKED_RX_BURST;) {
        size_t want =
            HIKED_RX_BURST - burst < HIKED_RX_BATCH ? HIKED_RX_BURST - burst : HIKED_RX_BATCH;
        int n = hk_rxbatch_recv(&d->rx, fd, want);
        if (n <= 0)
            break;
        for (size_t i = 0; i < (size_t)n; i++)
            datagram(d, s, i);
        burst += (size_t)n;
        /* A short batch drained the socket; the event is level-triggered, so what arrives
         * now wakes us again: no read just to see EAGAIN. */
        if ((size_t)n < want)
            break;
    }
    if (d->dp && d->dp->ops->esp_flush)
        d->dp->ops->esp_flush(d->dp);
    hiked_kick(d);
}

/* SO_MARK needs CAP_NET_ADMIN; without it transport mode cannot route, the rest works. */
static void set_mark(const struct hiked *d, int fd)
{
    uint32_t mark = d->cfg->daemon.fwmark;
    if (mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)))
        hk_warn(&d->log, "SO_MARK 0x%x: %s", mark, strerror(errno));
}

static int open_one(struct hiked *d, const struct hk_ip *ip, uint16_t port, bool natt)
{
    if (d->nsocks >= HIKED_MAX_SOCKS)
        return HK_E_OVERFLOW;
    int fam = ip->family, one = 1;
    int fd = socket(fam, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return HK_E_IO;
    struct sockaddr_storage a = {0};
    socklen_t alen;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    set_mark(d, fd);
    if (natt) {
        /* ESP in UDP arrives here in bursts (a TCP window at a time): a small buffer drops
         * them, and TCP through the tunnel backs off. Best effort: FORCE needs CAP_NET_ADMIN. */
        int sz = HIKED_NATT_SOCKBUF;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)))
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)))
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
        /* Coalesced ESP bursts in one read, split again in on_readable. Best effort. */
        setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one));
    }
    if (fam == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&a;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        memcpy(&s6->sin6_addr, ip->addr, 16);
        alen = sizeof(*s6);
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&a;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        memcpy(&s4->sin_addr, ip->addr, 4);
        alen = sizeof(*s4);
        setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
    }
    if (bind(fd, (struct sockaddr *)&a, alen) < 0) {
        char txt[INET6_ADDRSTRLEN] = "?";
        inet_ntop(fam, ip->addr, txt, sizeof(txt));
        hk_err(&d->log, "cannot bind UDP %s port %u: %s", txt, port, strerror(errno));
        close(fd);
        return HK_E_IO;
    }
    /* A kernel data plane exempts IKE from IPsec and takes the ESP of the NAT-T port. */
    if (d->dp && d->dp->ops->prepare_socket && d->dp->ops->prepare_socket(d->dp, fd, fam, natt)) {
        close(fd);
        return HK_E_IO;
    }
    struct hiked_sock *s = &d->socks[d->nsocks];
    *s = (struct hiked_sock){.d = d, .fd = fd, .family = fam, .port = port, .natt = natt};
    s->ev = event_new(d->base, fd, EV_READ | EV_PERSIST, on_readable, s);
    if (!s->ev || event_add(s->ev, NULL)) {
        close(fd);
        return HK_E_NOMEM;
    }
    d->nsocks++;
    return HK_OK;
}

int hiked_net_open(struct hiked *d)
{
    const struct hk_daemon_conf *dc = &d->cfg->daemon;
    /* Control messages per datagram: IP(V6)_PKTINFO and UDP_GRO's segment size. */
    size_t cspace = CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(int));
    if (hk_rxbatch_init(&d->rx, HIKED_RX_BATCH, HIKED_RX_MAX, cspace) ||
        hk_txq_init(&d->txq, NULL, NULL))
        return HK_E_NOMEM;
    for (size_t i = 0; i < dc->nlisten; i++) {
        int rc = open_one(d, &dc->listen[i], dc->port, false);
        if (!rc && dc->natt_port)
            rc = open_one(d, &dc->listen[i], dc->natt_port, true);
        if (rc)
            return rc;
    }
    hk_info(&d->log, "listening on %zu UDP sockets (ports %u and %u)", d->nsocks, dc->port,
            dc->natt_port);
    return HK_OK;
}

void hiked_net_close(struct hiked *d)
{
    if (d->txq.ent)
        hiked_net_flush(d);
    for (size_t i = 0; i < d->nsocks; i++) {
        event_free(d->socks[i].ev);
        close(d->socks[i].fd);
    }
    d->nsocks = 0;
    hk_txq_free(&d->txq);
    hk_rxbatch_free(&d->rx);
}

void hiked_net_flush(struct hiked *d)
{
    size_t failed = hk_txq_flush(&d->txq);
    if (failed) {
        d->stats.tx_errors += failed;
        hk_debug(&d->log, "sendmmsg: %zu datagrams not sent: %s", failed,
                 strerror(d->txq.last_errno));
    }
}

int hiked_net_run(struct hiked *d)
{
    /* One round of callbacks at a time: whatever they queued (answers to a burst of
     * requests, retransmissions from the timer, a hikectl initiate) leaves right after the
     * round, before the loop waits again. */
    for (;;) {
        hiked_net_flush(d);
        int rc = event_base_loop(d->base, EVLOOP_ONCE);
        if (rc < 0)
            return HK_E_IO;
        if (rc > 0 || event_base_got_exit(d->base) || event_base_got_break(d->base))
            break;
    }
    hiked_net_flush(d);
    return HK_OK;
}

static struct hiked_sock *sock_for(struct hiked *d, const struct sockaddr_storage *local,
                                   const struct sockaddr_storage *remote)
{
    uint16_t lport = hk_sockaddr_port(local);
    for (size_t i = 0; i < d->nsocks; i++)
        if (d->socks[i].family == remote->ss_family && d->socks[i].port == lport)
            return &d->socks[i];
    d->stats.tx_errors++;
    hk_warn(&d->log, "no socket for local port %u", lport);
    return NULL;
}

/* Adds a control message to mh (whose buffer has room for it) and returns its data. */
static void *add_cmsg(struct msghdr *mh, int level, int type, size_t len)
{
    struct cmsghdr *c = (struct cmsghdr *)((char *)mh->msg_control + mh->msg_controllen);
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(len);
    mh->msg_controllen += CMSG_SPACE(len);
    return CMSG_DATA(c);
}

/*
 * Sends the iovecs as one datagram from s, leaving from local's address (multi-homed
 * hosts, wildcard sockets); with gso != 0 as a UDP GSO send of datagrams of gso octets.
 * Returns 0 or the errno.
 */
static int sock_send(struct hiked_sock *s, const struct sockaddr_storage *local,
                     const struct sockaddr_storage *remote, const struct iovec *iov, size_t niov,
                     uint16_t gso)
{
    union {
        char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } cbuf;
    memset(&cbuf, 0, sizeof(cbuf));
    struct msghdr mh = {.msg_name = (void *)remote,
                        .msg_namelen = remote->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                     : sizeof(struct sockaddr_in),
                        .msg_iov = (struct iovec *)iov,
                        .msg_iovlen = niov,
                        .msg_control = cbuf.buf};
    if (remote->ss_family == AF_INET) {
        struct in_pktinfo pi = {.ipi_spec_dst = ((const struct sockaddr_in *)local)->sin_addr};
        if (pi.ipi_spec_dst.s_addr != INADDR_ANY)
            memcpy(add_cmsg(&mh, IPPROTO_IP, IP_PKTINFO, sizeof(pi)), &pi, sizeof(pi));
    } else {
        struct in6_pktinfo pi = {.ipi6_addr = ((const struct sockaddr_in6 *)local)->sin6_addr};
        if (!IN6_IS_ADDR_UNSPECIFIED(&pi.ipi6_addr))
            memcpy(add_cmsg(&mh, IPPROTO_IPV6, IPV6_PKTINFO, sizeof(pi)), &pi, sizeof(pi));
    }
    if (gso)
        memcpy(add_cmsg(&mh, SOL_UDP, UDP_SEGMENT, sizeof(gso)), &gso, sizeof(gso));
    if (!mh.msg_controllen)
        mh.msg_control = NULL;
    return sendmsg(s->fd, &mh, 0) < 0 ? errno : 0;
}

/* Queued: hiked_net_run sends it with the others of this round of callbacks. */
void hiked_net_send(void *arg, const struct sockaddr_storage *local,
                    const struct sockaddr_storage *remote, const uint8_t *buf, size_t len)
{
    struct hiked *d = arg;
    struct hiked_sock *s = sock_for(d, local, remote);
    static const uint8_t marker[4] = {0};
    struct iovec iov[2] = {{.iov_base = (void *)marker, .iov_len = 4},
                           {.iov_base = (void *)buf, .iov_len = len}};
    if (!s)
        return;
    /* RFC 3948 2.2: IKE on the NAT-T port goes behind the non-ESP marker. */
    int rc = hk_txq_add(&d->txq, s->fd, local, remote, s->natt ? iov : iov + 1, s->natt ? 2 : 1);
    if (rc < 0) {
        d->stats.tx_errors++;
        hk_warn(&d->log, "IKE datagram of %zu octets not sent: %s", len, hk_strerror(rc));
    } else if (rc > 0) {
        d->stats.tx_errors += (uint64_t)rc;
        hk_debug(&d->log, "sendmmsg: %d datagrams not sent: %s", rc, strerror(d->txq.last_errno));
    }
}

void hiked_net_send_esp(void *arg, const struct sockaddr_storage *local,
                        const struct sockaddr_storage *remote, const struct iovec *pkts, size_t n,
                        size_t seg)
{
    /* RFC 3948 2.1: ESP in UDP goes without the non-ESP marker. */
    struct hiked *d = arg;
    struct hiked_sock *s = sock_for(d, local, remote);
    if (!s)
        return;
    if (seg && n > 1 && !d->no_udp_gso) {
        int e = sock_send(s, local, remote, pkts, n, (uint16_t)seg);
        if (!e)
            return;
        if (e != EIO && e != EINVAL && e != ENOPROTOOPT) {
            d->stats.tx_errors += n; /* a full buffer: the inner TCP resends */
            return;
        }
        d->no_udp_gso = true; /* the path cannot segment: one datagram at a time from now */
        hk_info(&d->log, "UDP GSO unavailable (%s): ESP in UDP one datagram per call", strerror(e));
    }
    for (size_t i = 0; i < n; i++)
        if (sock_send(s, local, remote, &pkts[i], 1, 0))
            d->stats.tx_errors++;
}

int hiked_net_local_addr(void *arg, const struct sockaddr_storage *remote,
                         struct sockaddr_storage *local)
{
    /* The kernel's route choice: connect a throw-away UDP socket and read its address.
     * Marked as our IKE sockets are, so it sees the route they will take. */
    int fd = socket(remote->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    socklen_t len = sizeof(*local);
    int rc = HK_E_IO;
    if (fd < 0)
        return rc;
    set_mark(arg, fd);
    if (!connect(fd, (const struct sockaddr *)remote,
                 remote->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                               : sizeof(struct sockaddr_in)) &&
        !getsockname(fd, (struct sockaddr *)local, &len))
        rc = HK_OK;
    close(fd);
    return rc;
}

void hiked_net_keepalive(void *arg, const struct sockaddr_storage *local,
                         const struct sockaddr_storage *remote)
{
    struct hiked *d = arg;
    uint16_t lport = hk_sockaddr_port(local);
    static const uint8_t ka = 0xff; /* RFC 3948 2.3: no non-ESP marker */
    for (size_t i = 0; i < d->nsocks; i++)
        if (d->socks[i].family == remote->ss_family && d->socks[i].port == lport) {
            socklen_t len = remote->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                          : sizeof(struct sockaddr_in);
            if (sendto(d->socks[i].fd, &ka, 1, 0, (const struct sockaddr *)remote, len) < 0)
                d->stats.tx_errors++;
            return;
        }
}
