#include "common/txq.h"
#include "common/err.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/* Room for one IP_PKTINFO or IPV6_PKTINFO, cmsg-aligned. */
#define CSPACE CMSG_SPACE(sizeof(struct in6_pktinfo))

static int sys_sendmmsg(void *arg, int fd, struct mmsghdr *msgs, unsigned n)
{
    (void)arg;
    return sendmmsg(fd, msgs, n, 0);
}

int hk_txq_init(struct hk_txq *q, hk_txq_sendmmsg_fn send, void *send_arg)
{
    memset(q, 0, sizeof(*q));
    q->ent = calloc(HK_TXQ_MAX, sizeof(*q->ent));
    q->buf = malloc(HK_TXQ_BYTES);
    q->mm = calloc(HK_TXQ_MAX, sizeof(*q->mm));
    q->iov = calloc(HK_TXQ_MAX, sizeof(*q->iov));
    /* calloc's alignment suits struct cmsghdr, and CSPACE keeps every slot aligned. */
    q->cbuf = calloc(HK_TXQ_MAX, CSPACE);
    q->send = send ? send : sys_sendmmsg;
    q->send_arg = send_arg;
    if (!q->ent || !q->buf || !q->mm || !q->iov || !q->cbuf) {
        hk_txq_free(q);
        return HK_E_NOMEM;
    }
    return HK_OK;
}

void hk_txq_free(struct hk_txq *q)
{
    free(q->ent);
    free(q->buf);
    free(q->mm);
    free(q->iov);
    free(q->cbuf);
    memset(q, 0, sizeof(*q));
}

static socklen_t addr_len(const struct sockaddr_storage *a)
{
    return a->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

/* Message k of the flush for entry e: the copy, the destination, the source address. */
static void fill(struct hk_txq *q, unsigned k, struct hk_txq_ent *e)
{
    struct msghdr *mh = &q->mm[k].msg_hdr;
    uint8_t *cb = q->cbuf + (size_t)k * CSPACE;
    q->iov[k] = (struct iovec){.iov_base = q->buf + e->off, .iov_len = e->len};
    *mh = (struct msghdr){.msg_name = &e->remote,
                          .msg_namelen = addr_len(&e->remote),
                          .msg_iov = &q->iov[k],
                          .msg_iovlen = 1};
    memset(cb, 0, CSPACE);
    struct cmsghdr *c = (struct cmsghdr *)cb;
    if (e->local.ss_family == AF_INET && e->remote.ss_family == AF_INET) {
        struct in_pktinfo pi = {.ipi_spec_dst = ((const struct sockaddr_in *)&e->local)->sin_addr};
        if (pi.ipi_spec_dst.s_addr == INADDR_ANY)
            return;
        c->cmsg_level = IPPROTO_IP;
        c->cmsg_type = IP_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(pi));
        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        mh->msg_controllen = CMSG_SPACE(sizeof(pi));
    } else if (e->local.ss_family == AF_INET6 && e->remote.ss_family == AF_INET6) {
        struct in6_pktinfo pi = {.ipi6_addr = ((const struct sockaddr_in6 *)&e->local)->sin6_addr};
        if (IN6_IS_ADDR_UNSPECIFIED(&pi.ipi6_addr))
            return;
        c->cmsg_level = IPPROTO_IPV6;
        c->cmsg_type = IPV6_PKTINFO;
        c->cmsg_len = CMSG_LEN(sizeof(pi));
        memcpy(CMSG_DATA(c), &pi, sizeof(pi));
        mh->msg_controllen = CMSG_SPACE(sizeof(pi));
    } else {
        return;
    }
    mh->msg_control = cb;
}

/*
 * Sends messages 0..n-1 on fd. sendmmsg stops at the first message that fails and reports
 * only those before it; that one is counted failed and the rest tried again, so every
 * datagram is tried once and counted once, as with one sendmsg each.
 */
static size_t send_all(struct hk_txq *q, int fd, unsigned n)
{
    size_t failed = 0;
    unsigned done = 0;
    while (done < n) {
        int r = q->send(q->send_arg, fd, q->mm + done, n - done);
        q->calls++;
        if (r <= 0) {
            q->last_errno = r < 0 ? errno : EIO;
            failed++;
            done++;
            continue;
        }
        done += (unsigned)r;
        q->sent += (unsigned)r;
    }
    q->failed += failed;
    return failed;
}

size_t hk_txq_flush(struct hk_txq *q)
{
    size_t failed = 0;
    /* Socket by socket, in the order each first appears; queue order within a socket. */
    for (size_t i = 0; i < q->n; i++) {
        int fd = q->ent[i].fd;
        if (fd < 0)
            continue;
        unsigned k = 0;
        for (size_t j = i; j < q->n; j++) {
            if (q->ent[j].fd != fd)
                continue;
            fill(q, k++, &q->ent[j]);
            q->ent[j].fd = -1;
        }
        failed += send_all(q, fd, k);
    }
    q->n = 0;
    q->used = 0;
    return failed;
}

int hk_txq_add(struct hk_txq *q, int fd, const struct sockaddr_storage *local,
               const struct sockaddr_storage *remote, const struct iovec *iov, size_t niov)
{
    size_t len = 0, failed = 0;
    for (size_t i = 0; i < niov; i++)
        len += iov[i].iov_len;
    if (len > 65535 || fd < 0)
        return HK_E_INVALID;
    if (q->n == HK_TXQ_MAX || len > HK_TXQ_BYTES - q->used)
        failed = hk_txq_flush(q);
    struct hk_txq_ent *e = &q->ent[q->n++];
    *e = (struct hk_txq_ent){.fd = fd, .off = (uint32_t)q->used, .len = (uint32_t)len};
    if (local)
        e->local = *local;
    memcpy(&e->remote, remote, addr_len(remote));
    for (size_t i = 0; i < niov; i++) {
        if (iov[i].iov_len)
            memcpy(q->buf + q->used, iov[i].iov_base, iov[i].iov_len);
        q->used += iov[i].iov_len;
    }
    return (int)failed;
}
