/*
 * UDP transport for IKE: sockets on port 500 and 4500 (RFC 7296 2.23, RFC 3948),
 * receiving with the local address from IP_PKTINFO so replies leave from the
 * address the peer used. Every socket carries daemon.fwmark, so that IKE and ESP in UDP
 * skip the rule that routes a transport-mode peer's traffic into the TUN device
 * (esp/tp_route.h).
 */
#include "daemon/hiked.h"

#include "common/err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void set_port(struct sockaddr_storage *a, uint16_t port)
{
    if (a->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)a)->sin6_port = htons(port);
    else
        ((struct sockaddr_in *)a)->sin_port = htons(port);
}

static uint16_t get_port(const struct sockaddr_storage *a)
{
    return ntohs(a->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)a)->sin6_port
                                          : ((const struct sockaddr_in *)a)->sin_port);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct hiked_sock *s = arg;
    struct hiked *d = s->d;
    uint8_t *buf = d->rxbuf;
    (void)what;
    for (int burst = 0; burst < 64; burst++) {
        struct sockaddr_storage from = {0}, to = {0};
        char cbuf[256];
        struct iovec iov = {.iov_base = buf, .iov_len = HIKED_RX_MAX};
        struct msghdr mh = {.msg_name = &from,
                            .msg_namelen = sizeof(from),
                            .msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = cbuf,
                            .msg_controllen = sizeof(cbuf)};
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
        if (n < 0)
            break;
        to.ss_family = (sa_family_t)s->family;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
                struct in_pktinfo pi;
                memcpy(&pi, CMSG_DATA(c), sizeof(pi));
                ((struct sockaddr_in *)&to)->sin_addr = pi.ipi_addr;
            } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
                struct in6_pktinfo pi;
                memcpy(&pi, CMSG_DATA(c), sizeof(pi));
                ((struct sockaddr_in6 *)&to)->sin6_addr = pi.ipi6_addr;
            }
        }
        set_port(&to, s->port);
        const uint8_t *p = buf;
        size_t len = (size_t)n;
        if (s->natt) {
            /* RFC 3948 2.2/2.3: a 0xff keepalive, IKE behind four zero octets, else ESP. */
            if (len == 1 && p[0] == 0xff) {
                d->stats.rx_keepalive++;
                continue;
            }
            if (len < 4) {
                d->stats.rx_short++;
                continue;
            }
            if (p[0] | p[1] | p[2] | p[3]) {
                d->stats.rx_esp++;
                if (d->dp && d->dp->ops->esp_in)
                    d->dp->ops->esp_in(d->dp, p, len);
                continue;
            }
            p += 4;
            len -= 4;
        }
        ike_engine_recv(&d->engine, &to, &from, p, len);
    }
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
    for (size_t i = 0; i < d->nsocks; i++) {
        event_free(d->socks[i].ev);
        close(d->socks[i].fd);
    }
    d->nsocks = 0;
}

static void net_send(struct hiked *d, const struct sockaddr_storage *local,
                     const struct sockaddr_storage *remote, const uint8_t *buf, size_t len,
                     bool ike)
{
    uint16_t lport = get_port(local);
    struct hiked_sock *s = NULL;
    for (size_t i = 0; i < d->nsocks && !s; i++)
        if (d->socks[i].family == remote->ss_family && d->socks[i].port == lport)
            s = &d->socks[i];
    if (!s) {
        d->stats.tx_errors++;
        hk_warn(&d->log, "no socket for local port %u", lport);
        return;
    }
    static const uint8_t marker[4] = {0};
    struct iovec iov[2] = {{.iov_base = (void *)marker, .iov_len = 4},
                           {.iov_base = (void *)buf, .iov_len = len}};
    char cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo))] = {0};
    struct msghdr mh = {.msg_name = (void *)remote,
                        .msg_namelen = remote->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                     : sizeof(struct sockaddr_in),
                        .msg_iov = s->natt && ike ? iov : iov + 1,
                        .msg_iovlen = s->natt && ike ? 2 : 1};
    /* Leave from the address the SA uses (multi-homed hosts, wildcard sockets). */
    if (remote->ss_family == AF_INET) {
        struct in_pktinfo pi = {.ipi_spec_dst = ((const struct sockaddr_in *)local)->sin_addr};
        if (pi.ipi_spec_dst.s_addr != INADDR_ANY) {
            mh.msg_control = cbuf;
            mh.msg_controllen = CMSG_SPACE(sizeof(pi));
            struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
            c->cmsg_level = IPPROTO_IP;
            c->cmsg_type = IP_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(pi));
            memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        }
    } else {
        struct in6_pktinfo pi = {.ipi6_addr = ((const struct sockaddr_in6 *)local)->sin6_addr};
        if (!IN6_IS_ADDR_UNSPECIFIED(&pi.ipi6_addr)) {
            mh.msg_control = cbuf;
            mh.msg_controllen = CMSG_SPACE(sizeof(pi));
            struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
            c->cmsg_level = IPPROTO_IPV6;
            c->cmsg_type = IPV6_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(pi));
            memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        }
    }
    if (sendmsg(s->fd, &mh, 0) < 0) {
        d->stats.tx_errors++;
        hk_debug(&d->log, "sendmsg: %s", strerror(errno));
    }
}

void hiked_net_send(void *arg, const struct sockaddr_storage *local,
                    const struct sockaddr_storage *remote, const uint8_t *buf, size_t len)
{
    net_send(arg, local, remote, buf, len, true);
}

void hiked_net_send_esp(void *arg, const struct sockaddr_storage *local,
                        const struct sockaddr_storage *remote, const uint8_t *buf, size_t len)
{
    /* RFC 3948 2.1: ESP in UDP goes without the non-ESP marker. */
    net_send(arg, local, remote, buf, len, false);
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
    uint16_t lport = get_port(local);
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
