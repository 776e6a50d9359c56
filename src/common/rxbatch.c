#include "common/rxbatch.h"
#include "common/err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int hk_rxbatch_init(struct hk_rxbatch *b, size_t n, size_t slot, size_t cspace)
{
    long pg = sysconf(_SC_PAGESIZE);
    size_t page = pg > 0 ? (size_t)pg : 4096;
    memset(b, 0, sizeof(*b));
    if (!n || !slot)
        return HK_E_INVALID;
    b->n = n;
    b->slot = (slot + page - 1) / page * page;
    /* CMSG_SPACE rounds to the alignment of struct cmsghdr; calloc's alignment suits it. */
    b->cspace = cspace ? CMSG_SPACE(cspace) : 0;
    b->buf = aligned_alloc(page, n * b->slot);
    b->cbuf = b->cspace ? calloc(n, b->cspace) : NULL;
    b->mm = calloc(n, sizeof(*b->mm));
    b->iov = calloc(n, sizeof(*b->iov));
    b->from = calloc(n, sizeof(*b->from));
    if (!b->buf || (b->cspace && !b->cbuf) || !b->mm || !b->iov || !b->from) {
        hk_rxbatch_free(b);
        return HK_E_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        b->iov[i] = (struct iovec){.iov_base = hk_rxbatch_data(b, i), .iov_len = b->slot};
    return HK_OK;
}

void hk_rxbatch_free(struct hk_rxbatch *b)
{
    free(b->buf);
    free(b->cbuf);
    free(b->mm);
    free(b->iov);
    free(b->from);
    memset(b, 0, sizeof(*b));
}

int hk_rxbatch_recv(struct hk_rxbatch *b, int fd, size_t max)
{
    if (max > b->n)
        max = b->n;
    /* The kernel writes back name and control lengths and flags: set them afresh. */
    for (size_t i = 0; i < max; i++)
        b->mm[i] =
            (struct mmsghdr){.msg_hdr = {.msg_name = &b->from[i],
                                         .msg_namelen = sizeof(b->from[i]),
                                         .msg_iov = &b->iov[i],
                                         .msg_iovlen = 1,
                                         .msg_control = b->cspace ? b->cbuf + i * b->cspace : NULL,
                                         .msg_controllen = b->cspace}};
    int r = recvmmsg(fd, b->mm, (unsigned)max, MSG_DONTWAIT, NULL);
    /* Nothing of an earlier, longer address may remain behind this one (callers compare and
     * hash whole addresses). */
    for (int i = 0; i < r; i++) {
        socklen_t nl = b->mm[i].msg_hdr.msg_namelen;
        if (nl < sizeof(b->from[i]))
            memset((uint8_t *)&b->from[i] + nl, 0, sizeof(b->from[i]) - nl);
    }
    if (r >= 0)
        return r;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : HK_E_IO;
}
