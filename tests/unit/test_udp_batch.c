/* The UDP send queue (order, one sendmmsg per socket, full-queue flush, per-datagram
 * errors, IP_PKTINFO) and batched receive, over a fake sendmmsg and over loopback sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/rxbatch.h"
#include "common/txq.h"
#include "testutil.h"

#define MAX_CALLS 256

/* What the fake sendmmsg saw: per call the socket and the first octet of each datagram. */
struct fake {
    size_t ncalls;
    int fd[MAX_CALLS];
    unsigned n[MAX_CALLS];
    uint8_t first[MAX_CALLS][HK_TXQ_MAX];
    size_t len[MAX_CALLS][HK_TXQ_MAX];
    size_t ctl[MAX_CALLS][HK_TXQ_MAX]; /* msg_controllen */
    struct in_pktinfo pi[MAX_CALLS];   /* of the call's first datagram, if any */
    uint8_t fail_first;                /* a datagram starting with this octet fails (0: none) */
    int fail_errno;
    size_t nfails;
};

static int fake_send(void *arg, int fd, struct mmsghdr *m, unsigned n)
{
    struct fake *f = arg;
    assert_true(f->ncalls < MAX_CALLS);
    size_t c = f->ncalls++;
    f->fd[c] = fd;
    f->n[c] = n;
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *p = m[i].msg_hdr.msg_iov[0].iov_base;
        f->first[c][i] = p[0];
        f->len[c][i] = m[i].msg_hdr.msg_iov[0].iov_len;
        f->ctl[c][i] = m[i].msg_hdr.msg_controllen;
        if (i == 0 && m[i].msg_hdr.msg_controllen) {
            struct cmsghdr *cm = CMSG_FIRSTHDR(&m[i].msg_hdr);
            assert_non_null(cm);
            if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO)
                memcpy(&f->pi[c], CMSG_DATA(cm), sizeof(f->pi[c]));
        }
        if (f->fail_first && p[0] == f->fail_first) {
            f->nfails++;
            if (i > 0)
                return (int)i; /* sendmmsg reports those before the failure */
            errno = f->fail_errno;
            return -1;
        }
    }
    return (int)n;
}

static void add1(struct hk_txq *q, int fd, uint8_t first, size_t len)
{
    static uint8_t buf[65535];
    struct sockaddr_storage to = test_v4("192.0.2.1", 500);
    memset(buf, first, len);
    struct iovec iov = {.iov_base = buf, .iov_len = len};
    assert_int_equal(hk_txq_add(q, fd, NULL, &to, &iov, 1), 0);
}

static void groups_by_socket_in_order(void **state)
{
    (void)state;
    struct fake f = {0};
    struct hk_txq q;
    assert_int_equal(hk_txq_init(&q, fake_send, &f), 0);
    add1(&q, 3, 'a', 10);
    add1(&q, 4, 'b', 11);
    add1(&q, 3, 'c', 12);
    add1(&q, 4, 'd', 13);
    add1(&q, 5, 'e', 14);
    assert_int_equal(f.ncalls, 0); /* nothing leaves before the flush */
    assert_int_equal(hk_txq_flush(&q), 0);
    assert_int_equal(f.ncalls, 3);
    assert_int_equal(f.fd[0], 3);
    assert_int_equal(f.n[0], 2);
    assert_int_equal(f.first[0][0], 'a');
    assert_int_equal(f.first[0][1], 'c');
    assert_int_equal(f.len[0][1], 12);
    assert_int_equal(f.fd[1], 4);
    assert_int_equal(f.first[1][0], 'b');
    assert_int_equal(f.first[1][1], 'd');
    assert_int_equal(f.fd[2], 5);
    assert_int_equal(f.n[2], 1);
    assert_int_equal(q.sent, 5);
    assert_int_equal(q.calls, 3);
    /* Empty again: a second flush sends nothing. */
    assert_int_equal(hk_txq_flush(&q), 0);
    assert_int_equal(f.ncalls, 3);
    hk_txq_free(&q);
}

static void full_queue_flushes_first(void **state)
{
    (void)state;
    struct fake f = {0};
    struct hk_txq q;
    assert_int_equal(hk_txq_init(&q, fake_send, &f), 0);
    for (int i = 0; i < HK_TXQ_MAX; i++)
        add1(&q, 7, (uint8_t)(i + 1), 100);
    assert_int_equal(f.ncalls, 0);
    add1(&q, 7, 0xee, 100); /* one more: the full queue goes first */
    assert_int_equal(f.ncalls, 1);
    assert_int_equal(f.n[0], HK_TXQ_MAX);
    assert_int_equal(f.first[0][0], 1);
    assert_int_equal(f.first[0][HK_TXQ_MAX - 1], HK_TXQ_MAX);
    assert_int_equal(hk_txq_flush(&q), 0);
    assert_int_equal(f.ncalls, 2);
    assert_int_equal(f.n[1], 1);
    assert_int_equal(f.first[1][0], 0xee);

    /* Out of octets before out of slots: two 40,000-octet datagrams do not fit together,
     * the largest possible one fits alone. */
    add1(&q, 7, 'x', 40000);
    add1(&q, 7, 'y', 40000);
    assert_int_equal(f.ncalls, 3);
    assert_int_equal(f.first[2][0], 'x');
    add1(&q, 7, 'z', 65535);
    assert_int_equal(f.ncalls, 4);
    assert_int_equal(hk_txq_flush(&q), 0);
    assert_int_equal(f.len[4][0], 65535);
    hk_txq_free(&q);
}

static void errors_counted_per_datagram(void **state)
{
    (void)state;
    struct fake f = {.fail_first = 'B', .fail_errno = EAGAIN};
    struct hk_txq q;
    assert_int_equal(hk_txq_init(&q, fake_send, &f), 0);
    add1(&q, 3, 'A', 10);
    add1(&q, 3, 'B', 10);
    add1(&q, 3, 'C', 10);
    add1(&q, 3, 'B', 10);
    /* A sent and B refused in the first call; B tried alone and counted; then C and the
     * second B (refused again), then nothing left. */
    assert_int_equal(hk_txq_flush(&q), 2);
    assert_int_equal(q.failed, 2);
    assert_int_equal(q.sent, 2);
    assert_int_equal(q.last_errno, EAGAIN);
    assert_int_equal(f.ncalls, 4);
    assert_int_equal(f.n[0], 4);
    assert_int_equal(f.first[1][0], 'B');
    assert_int_equal(f.first[2][0], 'C');
    assert_int_equal(f.first[3][0], 'B');
    hk_txq_free(&q);
}

static void source_address_and_concatenation(void **state)
{
    (void)state;
    struct fake f = {0};
    struct hk_txq q;
    assert_int_equal(hk_txq_init(&q, fake_send, &f), 0);
    struct sockaddr_storage to = test_v4("192.0.2.1", 4500), from = test_v4("198.51.100.7", 4500),
                            any = test_v4("0.0.0.0", 4500);
    static const uint8_t marker[4] = {0};
    uint8_t msg[3] = {'i', 'k', 'e'};
    struct iovec iov[2] = {{.iov_base = (void *)marker, .iov_len = 4},
                           {.iov_base = msg, .iov_len = 3}};
    assert_int_equal(hk_txq_add(&q, 3, &from, &to, iov, 2), 0);
    assert_int_equal(hk_txq_add(&q, 4, &any, &to, iov + 1, 1), 0);
    assert_int_equal(hk_txq_add(&q, 5, NULL, &to, iov + 1, 1), 0);
    assert_int_equal(hk_txq_flush(&q), 0);
    assert_int_equal(f.ncalls, 3);
    assert_int_equal(f.len[0][0], 7); /* marker and message in one datagram */
    assert_int_equal(f.first[0][0], 0);
    assert_int_equal(f.ctl[0][0], CMSG_SPACE(sizeof(struct in_pktinfo)));
    assert_int_equal(f.pi[0].ipi_spec_dst.s_addr, ((struct sockaddr_in *)&from)->sin_addr.s_addr);
    assert_int_equal(f.ctl[1][0], 0); /* wildcard: the kernel's choice */
    assert_int_equal(f.ctl[2][0], 0);
    hk_txq_free(&q);
}

static void refuses_oversized(void **state)
{
    (void)state;
    struct fake f = {0};
    struct hk_txq q;
    static uint8_t big[65536];
    struct sockaddr_storage to = test_v4("192.0.2.1", 500);
    struct iovec iov = {.iov_base = big, .iov_len = sizeof(big)};
    assert_int_equal(hk_txq_init(&q, fake_send, &f), 0);
    assert_int_equal(hk_txq_add(&q, 3, NULL, &to, &iov, 1), HK_E_INVALID);
    assert_int_equal(hk_txq_flush(&q), 0);
    assert_int_equal(f.ncalls, 0);
    hk_txq_free(&q);
}

static int udp_bound(struct sockaddr_storage *a)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0), one = 1;
    socklen_t len = sizeof(*a);
    assert_true(fd >= 0);
    *a = test_v4("127.0.0.1", 0);
    assert_int_equal(bind(fd, (struct sockaddr *)a, sizeof(struct sockaddr_in)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)a, &len), 0);
    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
    return fd;
}

/* Real sockets: five datagrams go out in one sendmmsg and come back in batches of 4 and 1;
 * the short batch says the socket is drained. */
static void loopback_round_trip(void **state)
{
    (void)state;
    struct sockaddr_storage a, b;
    int fa = udp_bound(&a), fb = udp_bound(&b);
    struct hk_txq q;
    struct hk_rxbatch rx;
    assert_int_equal(hk_txq_init(&q, NULL, NULL), 0);
    assert_int_equal(hk_rxbatch_init(&rx, 4, 2000, CMSG_SPACE(sizeof(struct in_pktinfo))), 0);
    assert_int_equal(hk_rxbatch_recv(&rx, fb, 4), 0); /* nothing yet */
    struct sockaddr_storage lo = test_v4("127.0.0.1", 0);
    for (uint8_t i = 0; i < 5; i++) {
        uint8_t m[100];
        memset(m, 'a' + i, sizeof(m));
        struct iovec iov = {.iov_base = m, .iov_len = 10u + i};
        assert_int_equal(hk_txq_add(&q, fa, &lo, &b, &iov, 1), 0);
    }
    assert_int_equal(hk_txq_flush(&q), 0);
    assert_int_equal(q.calls, 1);
    assert_int_equal(q.sent, 5);
    assert_int_equal(hk_rxbatch_recv(&rx, fb, 8), 4); /* at most the slots */
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(rx.mm[i].msg_len, 10 + i);
        assert_int_equal(hk_rxbatch_data(&rx, i)[0], 'a' + i);
        assert_memory_equal(&rx.from[i], &a, sizeof(struct sockaddr_in));
        struct cmsghdr *c = CMSG_FIRSTHDR(&rx.mm[i].msg_hdr);
        assert_non_null(c);
        assert_int_equal(c->cmsg_type, IP_PKTINFO);
    }
    assert_int_equal(hk_rxbatch_recv(&rx, fb, 4), 1);
    assert_int_equal(hk_rxbatch_data(&rx, 0)[0], 'e');
    assert_int_equal(hk_rxbatch_recv(&rx, fb, 4), 0);
    /* A datagram larger than its slot is flagged, not overrun. */
    static uint8_t big[5000];
    struct iovec iov = {.iov_base = big, .iov_len = sizeof(big)};
    assert_true(rx.slot < sizeof(big));
    assert_int_equal(hk_txq_add(&q, fa, NULL, &b, &iov, 1), 0);
    assert_int_equal(hk_txq_flush(&q), 0);
    assert_int_equal(hk_rxbatch_recv(&rx, fb, 4), 1);
    assert_true(rx.mm[0].msg_hdr.msg_flags & MSG_TRUNC);
    assert_int_equal(hk_rxbatch_recv(&rx, -1, 4), HK_E_IO);
    hk_rxbatch_free(&rx);
    hk_txq_free(&q);
    close(fa);
    close(fb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(groups_by_socket_in_order),
        cmocka_unit_test(full_queue_flushes_first),
        cmocka_unit_test(errors_counted_per_datagram),
        cmocka_unit_test(source_address_and_concatenation),
        cmocka_unit_test(refuses_oversized),
        cmocka_unit_test(loopback_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
