/* The NETLINK_XFRM socket: request, then wait for the answer with the same sequence. */
#include "esp/xfrm_nl.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "common/err.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

/* Room for any answer: an SA with all its attributes is well under a page. */
#define XFRM_NL_RX 16384

static int fail(struct hk_xfrm_nl *x, int rc, int e, const char *what)
{
    x->last_errno = e;
    snprintf(x->err, sizeof(x->err), "%s: %s", what, strerror(e));
    return rc;
}

int hk_xfrm_nl_open(struct hk_xfrm_nl *x)
{
    int one = 1;
    struct timeval tv = {.tv_sec = 2};

    memset(x, 0, sizeof(*x));
    x->nl = mnl_socket_open2(NETLINK_XFRM, SOCK_CLOEXEC);
    if (!x->nl)
        return fail(x, HK_E_IO, errno, "NETLINK_XFRM socket");
    if (mnl_socket_bind(x->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        int e = errno;
        hk_xfrm_nl_close(x);
        return fail(x, HK_E_IO, e, "NETLINK_XFRM bind");
    }
    /* Best effort: the kernel's reason in text, ACKs without the request echoed, and a
     * kernel that never answers cannot stall the daemon. */
    mnl_socket_setsockopt(x->nl, NETLINK_EXT_ACK, &one, sizeof(one));
    mnl_socket_setsockopt(x->nl, NETLINK_CAP_ACK, &one, sizeof(one));
    setsockopt(mnl_socket_get_fd(x->nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    x->portid = mnl_socket_get_portid(x->nl);
    x->seq = (uint32_t)time(NULL);
    return HK_OK;
}

void hk_xfrm_nl_close(struct hk_xfrm_nl *x)
{
    if (x && x->nl) {
        mnl_socket_close(x->nl);
        x->nl = NULL;
    }
}

uint32_t hk_xfrm_nl_next_seq(struct hk_xfrm_nl *x)
{
    return ++x->seq;
}

int hk_xfrm_nl_talk(struct hk_xfrm_nl *x, const uint8_t *req, size_t len, uint32_t seq,
                    struct hk_xfrm_reply *reply)
{
    static const char *const what = "NETLINK_XFRM";
    uint8_t buf[XFRM_NL_RX];
    struct hk_xfrm_reply r;
    int rc;

    if (!x->nl)
        return fail(x, HK_E_STATE, EBADF, what);
    if (mnl_socket_sendto(x->nl, req, len) < 0)
        return fail(x, HK_E_IO, errno, "NETLINK_XFRM send");
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(x->nl, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return fail(x, HK_E_TIMEOUT, ETIMEDOUT, "NETLINK_XFRM answer");
        if (n < 0)
            return fail(x, HK_E_IO, errno, "NETLINK_XFRM receive");
        rc = hk_xfrm_parse_reply(buf, (size_t)n, seq, &r);
        if (rc == HK_E_AGAIN)
            continue; /* an answer to an older request that timed out */
        if (rc)
            return fail(x, rc, EBADMSG, "NETLINK_XFRM answer");
        break;
    }
    if (reply)
        *reply = r;
    if (r.error) {
        x->last_errno = r.error;
        snprintf(x->err, sizeof(x->err), "%s%s%s%s", strerror(r.error), r.msg[0] ? ", \"" : "",
                 r.msg, r.msg[0] ? "\"" : "");
        return HK_E_IO;
    }
    x->last_errno = 0;
    x->err[0] = '\0';
    return HK_OK;
}
