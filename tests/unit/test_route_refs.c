/* The userspace data plane's routes into its TUN device, counted by their users, without a
 * kernel: the callbacks count what would be added and deleted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "esp/route_refs.h"

struct calls {
    size_t added, deleted;
    struct hk_ip last;
    uint8_t last_len;
};

static void on_add(void *arg, const struct hk_ip *dst, uint8_t len)
{
    struct calls *c = arg;
    c->added++;
    c->last = *dst;
    c->last_len = len;
}

static void on_del(void *arg, const struct hk_ip *dst, uint8_t len)
{
    struct calls *c = arg;
    c->deleted++;
    c->last = *dst;
    c->last_len = len;
}

static struct hk_ip v4(uint32_t host_order)
{
    struct hk_ip ip = {.family = AF_INET};
    uint32_t a = htonl(host_order);
    memcpy(ip.addr, &a, 4);
    return ip;
}

/* A rekey's successor shares the route; the last user removes it. */
static void shared_by_successor(void **s)
{
    (void)s;
    struct calls c = {0};
    struct hk_route_refs r;
    hk_route_refs_init(&r, 7, on_add, on_del, &c);
    struct hk_ip a = v4(0x0a800001), b = v4(0x0a800000);
    assert_int_equal(hk_route_refs_ref(&r, &a, 32), 0);
    assert_int_equal(hk_route_refs_ref(&r, &a, 32), 0); /* the successor */
    assert_int_equal(c.added, 1);
    assert_int_equal(hk_route_refs_users(&r, &a, 32), 2);
    /* Same address, other length, other family: other routes. */
    assert_int_equal(hk_route_refs_ref(&r, &b, 24), 0);
    struct hk_ip six = {.family = AF_INET6};
    memcpy(six.addr, a.addr, 4);
    assert_int_equal(hk_route_refs_ref(&r, &six, 32), 0);
    assert_int_equal(c.added, 3);
    assert_int_equal(r.count, 3);
    hk_route_refs_unref(&r, &a, 32); /* the predecessor goes */
    assert_int_equal(c.deleted, 0);
    hk_route_refs_unref(&r, &a, 32);
    assert_int_equal(c.deleted, 1);
    assert_memory_equal(c.last.addr, a.addr, 4);
    assert_int_equal(c.last_len, 32);
    assert_int_equal(hk_route_refs_users(&r, &a, 32), 0);
    hk_route_refs_unref(&r, &a, 32); /* unknown: ignored */
    assert_int_equal(c.deleted, 1);
    hk_route_refs_flush(&r); /* destroy: the rest goes */
    assert_int_equal(c.deleted, 3);
    assert_int_equal(r.count, 0);
}

/* A remote-access gateway's routes, one per client: no limit, each removed with its last
 * user, the rest with the data plane. */
static void many_routes(void **s)
{
    (void)s;
    enum { N = 100000 };
    struct calls c = {0};
    struct hk_route_refs r;
    hk_route_refs_init(&r, 9, on_add, on_del, &c);
    for (uint32_t i = 0; i < N; i++) {
        struct hk_ip a = v4(0x0a800000 + i);
        assert_int_equal(hk_route_refs_ref(&r, &a, 32), 0);
    }
    assert_int_equal(c.added, N);
    assert_int_equal(r.count, N);
    for (uint32_t i = 0; i < N; i += 2) {
        struct hk_ip a = v4(0x0a800000 + i);
        hk_route_refs_unref(&r, &a, 32);
    }
    assert_int_equal(c.deleted, N / 2);
    for (uint32_t i = 0; i < N; i++) {
        struct hk_ip a = v4(0x0a800000 + i);
        assert_int_equal(hk_route_refs_users(&r, &a, 32), i % 2);
    }
    hk_route_refs_flush(&r);
    assert_int_equal(c.deleted, N);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(shared_by_successor),
        cmocka_unit_test(many_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
