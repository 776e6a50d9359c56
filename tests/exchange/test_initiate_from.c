/*
 * ike_engine_initiate_from: the caller picks the local address and port of an initiated IKE
 * SA (hike-load spreads its SAs over many ports), kept across NAT-T (RFC 7296 2.23); and
 * ops.ike_failed reports an SA that never got established, with the reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "harness.h"
#include "unit/testutil.h"

#define PSK "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const char *conf(const char *me, const char *peer, const char *ike, const char *extra)
{
    static char buf[2][1024];
    static int k;
    char *b = buf[k++ % 2];
    snprintf(b, 1024,
             "connections = { gw = {\n"
             "  local_addrs = \"%s\"; remote_addrs = \"%s\";\n"
             "  local = { auth = \"psk\"; id = \"%s.example.net\"; };\n"
             "  remote = { auth = \"psk\"; };\n"
             "  psk = \"" PSK "\"; ike = [\"%s\"]; %s\n"
             "  children = { lan = { }; };\n"
             "}; };\n",
             me, peer, me, ike, extra);
    return b;
}

static uint16_t port_of(const struct sockaddr_storage *a)
{
    return ntohs(((const struct sockaddr_in *)a)->sin_port);
}

/* Records the source port of every packet alice sends. */
struct ports {
    int n;
    uint16_t src[16], dst[16];
};

static bool note_ports(struct h_world *w, struct h_pkt *p, void *arg)
{
    struct ports *pp = arg;
    (void)w;
    if (p->from == 0 && pp->n < 16) {
        pp->src[pp->n] = port_of(&p->src);
        pp->dst[pp->n++] = port_of(&p->dst);
    }
    return true;
}

static void run(const char *alice_extra, uint16_t want_dst_auth)
{
    struct h_world *w = h_world_new();
    struct h_peer *a =
        h_peer_add(w, "alice", "192.0.2.1",
                   conf("192.0.2.1", "192.0.2.2", "aes256gcm16-prfsha256-x25519", alice_extra));
    struct h_peer *b = h_peer_add(
        w, "bob", "192.0.2.2", conf("192.0.2.2", "192.0.2.1", "aes256gcm16-prfsha256-x25519", ""));
    struct ports pp = {0};
    w->filter = note_ports;
    w->filter_arg = &pp;
    struct sockaddr_storage local = test_v4("192.0.2.1", 40001);
    uint64_t id = 0;
    assert_int_equal(ike_engine_initiate_from(&a->engine, "gw", &local, &id), HK_OK);
    assert_true(id != 0);
    h_settle(w, w->now + 60000);
    assert_int_equal(a->child_up, 1);
    assert_int_equal(b->child_up, 1);
    /* Every packet of alice left from the chosen port; IKE_AUTH went to want_dst_auth. */
    assert_true(pp.n >= 2);
    for (int i = 0; i < pp.n; i++)
        assert_int_equal(pp.src[i], 40001);
    assert_int_equal(pp.dst[0], 500);
    assert_int_equal(pp.dst[1], want_dst_auth);
    struct ike_sa *sa = h_only_sa(a), *sb = h_only_sa(b);
    assert_int_equal(port_of(&sa->local), 40001);
    assert_int_equal(port_of(&sa->remote), want_dst_auth);
    assert_int_equal(port_of(&sb->remote), 40001);
    assert_int_equal(a->ike_failed, 0);
    h_world_free(w);
}

static void chosen_port(void **s)
{
    (void)s;
    run("", 500);
}

/* encap: alice acts as if behind a NAT; the peer moves to 4500, our port stays. */
static void chosen_port_kept_over_natt(void **s)
{
    (void)s;
    run("encap = true;", 4500);
}

static void family_mismatch(void **s)
{
    (void)s;
    struct h_world *w = h_world_new();
    struct h_peer *a =
        h_peer_add(w, "alice", "192.0.2.1",
                   conf("192.0.2.1", "192.0.2.2", "aes256gcm16-prfsha256-x25519", ""));
    struct sockaddr_storage local = {0};
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&local;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(40001);
    assert_int_equal(ike_engine_initiate_from(&a->engine, "gw", &local, NULL), HK_E_INVALID);
    assert_int_equal(hk_u64map_count(&a->engine.sa_by_id), 0);
    assert_int_equal(a->ike_failed, 1); /* reported, as every SA that ends unestablished */
    struct sockaddr_storage none = {0};
    assert_int_equal(ike_engine_initiate_from(&a->engine, "gw", &none, NULL), HK_E_INVALID);
    assert_int_equal(ike_engine_initiate_from(&a->engine, "nope", NULL, NULL), HK_E_NOTFOUND);
    h_world_free(w);
}

/* ike_failed names why an SA never came up; ike_down is for established SAs only. */
static void failure_reason(void **s)
{
    (void)s;
    struct h_world *w = h_world_new();
    struct h_peer *a = h_peer_add(w, "alice", "192.0.2.1",
                                  conf("192.0.2.1", "192.0.2.2", "aes128-sha256-ecp256", ""));
    struct h_peer *b = h_peer_add(
        w, "bob", "192.0.2.2", conf("192.0.2.2", "192.0.2.1", "aes256gcm16-prfsha512-ecp384", ""));
    struct sockaddr_storage local = test_v4("192.0.2.1", 40002);
    assert_int_equal(ike_engine_initiate_from(&a->engine, "gw", &local, NULL), HK_OK);
    /* The unprotected NO_PROPOSAL_CHOSEN is waited past until the retransmissions end
     * (RFC 7296 2.21.1), and named then. */
    h_settle(w, w->now + 30000);
    assert_int_equal(a->ike_failed, 0);
    h_settle(w, w->now + 90000);
    assert_int_equal(a->ike_failed, 1);
    assert_string_equal(a->failed_why, "NO_PROPOSAL_CHOSEN");
    assert_int_equal(a->ike_down, 0);
    assert_int_equal(b->ike_up, 0);
    h_world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chosen_port),
        cmocka_unit_test(chosen_port_kept_over_natt),
        cmocka_unit_test(family_mismatch),
        cmocka_unit_test(failure_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
