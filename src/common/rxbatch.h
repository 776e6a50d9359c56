/*
 * Receiving UDP datagrams in batches: one recvmmsg fills up to n slots, each with its own
 * buffer, source address and control messages, instead of one recvmsg per datagram (and a
 * last one that only says EAGAIN). A short batch means the socket is drained, so a reader
 * that is woken by a level-triggered event needs no extra call to find that out.
 *
 * Slots are page-aligned parts of one allocation: a slot only costs resident memory for the
 * pages datagrams have actually been written to.
 */
#ifndef HIKE_COMMON_RXBATCH_H
#define HIKE_COMMON_RXBATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct hk_rxbatch {
    size_t n, slot, cspace; /* slots, octets per slot, control-message octets per slot */
    uint8_t *buf;           /* n * slot */
    uint8_t *cbuf;          /* n * cspace */
    struct mmsghdr *mm;
    struct iovec *iov;
    struct sockaddr_storage *from;
};

/* n slots of slot octets (rounded up to pages), cspace octets of control messages each. */
int hk_rxbatch_init(struct hk_rxbatch *b, size_t n, size_t slot, size_t cspace);
void hk_rxbatch_free(struct hk_rxbatch *b);
/*
 * Reads up to max (at most n) datagrams from fd without waiting. Returns how many (0: none
 * waiting), or HK_E_IO on another error (errno says which). Datagram i is then
 * hk_rxbatch_data(b, i) with b->mm[i].msg_len octets (MSG_TRUNC in msg_hdr.msg_flags if it
 * did not fit), from b->from[i], its control messages in b->mm[i].msg_hdr.
 */
int hk_rxbatch_recv(struct hk_rxbatch *b, int fd, size_t max);

static inline uint8_t *hk_rxbatch_data(const struct hk_rxbatch *b, size_t i)
{
    return b->buf + i * b->slot;
}

#endif
