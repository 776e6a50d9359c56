/*
 * A send queue for UDP datagrams: each is copied in with its socket, its destination and
 * (optionally) the local address it must leave from, and a flush sends them with one
 * sendmmsg per socket, in the order they were queued. On a VM every system call costs
 * several microseconds, and a responder answers a burst of requests with as many datagrams:
 * queueing them while the burst runs and flushing at its end saves all but one call.
 *
 * The owner flushes at the end of every round of event callbacks (and before it waits),
 * so that nothing waits in the queue for the next packet to arrive.
 */
#ifndef HIKE_COMMON_TXQ_H
#define HIKE_COMMON_TXQ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define HK_TXQ_MAX   64          /* datagrams queued before a flush */
#define HK_TXQ_BYTES (64 * 1024) /* octets of copies: room for the largest datagram */

/* The system call, replaceable for tests: returns messages sent or -1 with errno. */
typedef int (*hk_txq_sendmmsg_fn)(void *arg, int fd, struct mmsghdr *msgs, unsigned n);

struct hk_txq_ent {
    int fd;
    uint32_t off, len;             /* the copy in buf */
    struct sockaddr_storage local; /* source for IP(V6)_PKTINFO; AF_UNSPEC or wildcard: none */
    struct sockaddr_storage remote;
};

struct hk_txq {
    struct hk_txq_ent *ent;
    size_t n;
    uint8_t *buf;
    size_t used;
    struct mmsghdr *mm; /* flush scratch: HK_TXQ_MAX each */
    struct iovec *iov;
    uint8_t *cbuf;
    hk_txq_sendmmsg_fn send;
    void *send_arg;
    uint64_t sent, failed; /* datagrams, over the queue's life */
    uint64_t calls;        /* sendmmsg calls */
    int last_errno;        /* of the last failed datagram */
};

/* send NULL: the real sendmmsg. */
int hk_txq_init(struct hk_txq *q, hk_txq_sendmmsg_fn send, void *send_arg);
void hk_txq_free(struct hk_txq *q);
/*
 * Queues one datagram (the iovecs concatenated) for fd to remote, from local's address
 * unless local is NULL. A full queue is flushed first. Returns the datagrams that failed
 * in that flush (0 usually), or HK_E_INVALID for a datagram over 65535 octets (not sent).
 */
int hk_txq_add(struct hk_txq *q, int fd, const struct sockaddr_storage *local,
               const struct sockaddr_storage *remote, const struct iovec *iov, size_t niov);
/* Sends everything queued; returns how many datagrams failed (errno in last_errno). */
size_t hk_txq_flush(struct hk_txq *q);

#endif
