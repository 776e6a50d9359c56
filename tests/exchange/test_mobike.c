/*
 * MOBIKE (RFC 4555): MOBIKE_SUPPORTED in IKE_AUTH (3.2), the move to port 4500 that comes
 * with it (3.3), UPDATE_SA_ADDRESSES with NAT-D and COOKIE2 (3.5), the responder's return
 * routability check before its ESP follows (3.7), NAT appearing and going away.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "harness.h"

#define PSK "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const char *alice_conf(bool mobike)
{
    static char b[2048];
    snprintf(
        b, sizeof(b),
        "connections = { gw = {\n"
        "  local_addrs = \"192.0.2.1\"; remote_addrs = \"192.0.2.2\";\n"
        "  local = { auth = \"psk\"; id = \"alice.example.net\"; };\n"
        "  remote = { auth = \"psk\"; id = \"bob.example.net\"; };\n"
        "  psk = \"" PSK "\"; mobike = %s;\n"
        "  children = { lan = { local_ts = \"10.1.0.0/16\"; remote_ts = \"10.2.0.0/16\"; }; };\n"
        "}; };\n",
        mobike ? "true" : "false");
    return b;
}

static const char *bob_conf(bool mobike)
{
    static char b[2048];
    snprintf(
        b, sizeof(b),
        "connections = { gw = {\n"
        "  remote_addrs = \"%%any\";\n"
        "  local = { auth = \"psk\"; id = \"bob.example.net\"; };\n"
        "  remote = { auth = \"psk\"; id = \"alice.example.net\"; };\n"
        "  psk = \"" PSK "\"; mobike = %s;\n"
        "  children = { lan = { local_ts = \"10.2.0.0/16\"; remote_ts = \"10.1.0.0/16\"; }; };\n"
        "}; };\n",
        mobike ? "true" : "false");
    return b;
}

static uint16_t port_of(const struct sockaddr_storage *a)
{
    return ntohs(((const struct sockaddr_in *)a)->sin_port);
}

/* Which notifies the IKE_AUTH messages carried: counted by a network filter that cannot
 * decrypt, so the engines' own view (sa->ext) is what is checked. */
static void negotiate(bool a_mobike, bool b_mobike, struct h_world **wp, struct h_peer **ap,
                      struct h_peer **bp)
{
    struct h_world *w = h_world_new();
    struct h_peer *a = h_peer_add(w, "alice", "192.0.2.1", alice_conf(a_mobike));
    struct h_peer *b = h_peer_add(w, "bob", "192.0.2.2", bob_conf(b_mobike));
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_run(w);
    assert_int_equal(h_only_sa(a)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(h_only_sa(b)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(a->child_up, 1);
    assert_int_equal(b->child_up, 1);
    *wp = w, *ap = a, *bp = b;
}

static void both_announce(void **s)
{
    (void)s;
    struct h_world *w;
    struct h_peer *a, *b;
    negotiate(true, true, &w, &a, &b);
    struct ike_sa *sa = h_only_sa(a), *sb = h_only_sa(b);
    assert_true(sa->ext & IKE_EXT_MOBIKE);
    assert_true(sb->ext & IKE_EXT_MOBIKE);
    /* 3.3: on port 4500 from IKE_AUTH on, without a NAT; the responder follows. */
    assert_false(sa->nat_local || sa->nat_remote);
    assert_int_equal(port_of(&sa->local), 4500);
    assert_int_equal(port_of(&sa->remote), 4500);
    assert_int_equal(port_of(&sb->local), 4500);
    assert_int_equal(port_of(&sb->remote), 4500);
    h_world_free(w);
}

static void only_initiator(void **s)
{
    (void)s;
    struct h_world *w;
    struct h_peer *a, *b;
    negotiate(true, false, &w, &a, &b);
    assert_false(h_only_sa(a)->ext & IKE_EXT_MOBIKE);
    assert_false(h_only_sa(b)->ext & IKE_EXT_MOBIKE);
    h_world_free(w);
}

static void only_responder(void **s)
{
    (void)s;
    struct h_world *w;
    struct h_peer *a, *b;
    negotiate(false, true, &w, &a, &b);
    assert_false(h_only_sa(a)->ext & IKE_EXT_MOBIKE);
    assert_false(h_only_sa(b)->ext & IKE_EXT_MOBIKE);
    /* Without MOBIKE on the initiator, no NAT: IKE stays on 500. */
    assert_int_equal(port_of(&h_only_sa(a)->local), 500);
    h_world_free(w);
}

static void neither(void **s)
{
    (void)s;
    struct h_world *w;
    struct h_peer *a, *b;
    negotiate(false, false, &w, &a, &b);
    assert_false(h_only_sa(a)->ext & IKE_EXT_MOBIKE);
    assert_false(h_only_sa(b)->ext & IKE_EXT_MOBIKE);
    h_world_free(w);
}

static uint32_t ip_of(const struct sockaddr_storage *a)
{
    return ((const struct sockaddr_in *)a)->sin_addr.s_addr;
}

static struct sockaddr_storage addr(const char *ip)
{
    struct sockaddr_storage ss = {0};
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    sin->sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
    return ss;
}

/* IKE header flags: the R bit (3.1); the harness sends IKE without the non-ESP marker. */
static bool is_request(const struct h_pkt *k)
{
    return k->len > 19 && !(k->buf[19] & 0x20);
}

/* Network behaviour a test switches: a NAT in front of 198.51.100.1 (to 203.0.113.1, ports
 * + 10000), and dropping bob's requests to that address (his return routability check). */
struct net {
    bool nat, drop_check;
    int checks_seen; /* bob's requests to 198.51.100.1 (or its NAT) */
};

static bool net_filter(struct h_world *w, struct h_pkt *k, void *arg)
{
    struct net *n = arg;
    struct sockaddr_in *src = (struct sockaddr_in *)&k->src, *dst = (struct sockaddr_in *)&k->dst;
    if (k->from == 1 && is_request(k) &&
        (dst->sin_addr.s_addr == inet_addr("198.51.100.1") ||
         dst->sin_addr.s_addr == inet_addr("203.0.113.1"))) {
        n->checks_seen++;
        if (n->drop_check)
            return false;
    }
    (void)w;
    if (!n->nat)
        return true;
    if (src->sin_addr.s_addr == inet_addr("198.51.100.1")) {
        src->sin_addr.s_addr = inet_addr("203.0.113.1");
        src->sin_port = htons((uint16_t)(ntohs(src->sin_port) + 10000));
    } else if (dst->sin_addr.s_addr == inet_addr("203.0.113.1")) {
        dst->sin_addr.s_addr = inet_addr("198.51.100.1");
        dst->sin_port = htons((uint16_t)(ntohs(dst->sin_port) - 10000));
    }
    return true;
}

/* The first request of alice's after arm is set appears to come from 198.51.100.1 (the IP
 * header is not protected); where bob's answer goes is recorded. */
struct probe {
    bool arm, rewritten;
    struct sockaddr_storage answer_dst;
    int answers;
};

static bool probe_filter(struct h_world *w, struct h_pkt *k, void *arg)
{
    struct probe *p = arg;
    (void)w;
    if (p->arm && k->from == 0 && is_request(k)) {
        ((struct sockaddr_in *)&k->src)->sin_addr.s_addr = inet_addr("198.51.100.1");
        p->arm = false;
        p->rewritten = true;
    } else if (p->rewritten && k->from == 1 && !is_request(k)) {
        p->answer_dst = k->dst;
        p->answers++;
    }
    return true;
}

static void setup_moving(struct h_world **wp, struct h_peer **ap, struct h_peer **bp, struct net *n)
{
    negotiate(true, true, wp, ap, bp);
    h_peer_add_addr(*ap, "198.51.100.1");
    h_peer_add_addr(*bp, "192.0.2.3");
    memset(n, 0, sizeof(*n));
    (*wp)->filter = net_filter;
    (*wp)->filter_arg = n;
}

static void initiator_moves_both_addresses(void **s)
{
    (void)s;
    struct h_world *w;
    struct h_peer *a, *b;
    struct net n;
    setup_moving(&w, &a, &b, &n);
    struct ike_sa *sa = h_only_sa(a), *sb = h_only_sa(b);
    struct sockaddr_storage l = addr("198.51.100.1"), r = addr("192.0.2.3");

    /* Our own address first. */
    assert_int_equal(ike_engine_migrate(&a->engine, sa->id, &l, NULL), 0);
    assert_int_equal(a->child_moved, 1); /* the initiator's ESP follows at once (3.5) */
    assert_int_equal(sa->xchg.kind, IKE_XCHG_UPDATE_ADDRESSES);
    h_run(w);
    assert_int_equal(sa->state, IKE_SA_ESTABLISHED);
    assert_int_equal(sb->state, IKE_SA_ESTABLISHED);
    assert_int_equal(ip_of(&sa->local), inet_addr("198.51.100.1"));
    assert_int_equal(port_of(&sa->local), 4500);
    assert_int_equal(ip_of(&sb->remote), inet_addr("198.51.100.1"));
    assert_int_equal(port_of(&sb->remote), 4500);
    assert_false(sa->nat_local || sa->nat_remote || sb->nat_local || sb->nat_remote);
    /* Bob checked the new address (3.7) before moving his ESP there. */
    assert_int_equal(n.checks_seen, 1);
    assert_int_equal(b->child_moved, 1);
    assert_false(sb->rr_pending);
    assert_int_equal(a->child_moved, 2);

    /* Then the peer's address: bob answers from his second one; nothing new to check on
     * bob's side (alice's address is the verified one), so his ESP follows at once. */
    assert_int_equal(ike_engine_migrate(&a->engine, sa->id, &l, &r), 0);
    h_run(w);
    assert_int_equal(ip_of(&sa->remote), inet_addr("192.0.2.3"));
    assert_int_equal(ip_of(&sb->local), inet_addr("192.0.2.3"));
    assert_int_equal(port_of(&sb->local), 4500);
    assert_int_equal(n.checks_seen, 1);
    assert_int_equal(b->child_moved, 2);

    /* And back to the first addresses. */
    struct sockaddr_storage l0 = addr("192.0.2.1"), r0 = addr("192.0.2.2");
    assert_int_equal(ike_engine_migrate(&a->engine, sa->id, &l0, &r0), 0);
    h_run(w);
    assert_int_equal(ip_of(&sb->remote), inet_addr("192.0.2.1"));
    assert_int_equal(ip_of(&sb->local), inet_addr("192.0.2.2"));
    assert_int_equal(b->child_moved, 3);
    assert_int_equal(sa->state, IKE_SA_ESTABLISHED);
    assert_int_equal(sb->state, IKE_SA_ESTABLISHED);
    /* The SA still works where it is now: a rekey of the child completes. */
    assert_int_equal(ike_engine_rekey_child(&a->engine, h_only_sa(a)->children[0]), 0);
    h_settle(w, w->now + 5000);
    assert_int_equal(a->child_up, 2);
    assert_int_equal(b->child_up, 2);
    h_world_free(w);
}

static void return_routability_before_esp(void **s)
{
    (void)s;
    struct h_world *w;
    struct h_peer *a, *b;
    struct net n;
    setup_moving(&w, &a, &b, &n);
    struct ike_sa *sa = h_only_sa(a), *sb = h_only_sa(b);
    struct sockaddr_storage l = addr("198.51.100.1");
    n.drop_check = true;
    assert_int_equal(ike_engine_migrate(&a->engine, sa->id, &l, NULL), 0);
    h_run(w);
    /* The IKE SA answers at the new address, but ESP stays until the address answered. */
    assert_int_equal(ip_of(&sb->remote), inet_addr("198.51.100.1"));
    assert_true(n.checks_seen >= 1);
    assert_true(sb->rr_pending);
    assert_int_equal(b->child_moved, 0);
    assert_int_equal(sb->xchg.kind, IKE_XCHG_ROUTABILITY);
    /* The path works again: the retransmitted check is answered, ESP follows. */
    n.drop_check = false;
    h_step_time(w, w->now + 10000);
    assert_false(sb->rr_pending);
    assert_int_equal(b->child_moved, 1);
    assert_int_equal(sb->state, IKE_SA_ESTABLISHED);
    h_world_free(w);
}

static void nat_appears_and_goes(void **s)
{
    (void)s;
    struct h_world *w;
    struct h_peer *a, *b;
    struct net n;
    setup_moving(&w, &a, &b, &n);
    struct ike_sa *sa = h_only_sa(a), *sb = h_only_sa(b);
    struct sockaddr_storage l = addr("198.51.100.1"), l0 = addr("192.0.2.1");
    n.nat = true;
    assert_int_equal(ike_engine_migrate(&a->engine, sa->id, &l, NULL), 0);
    h_run(w);
    /* NAT-D of the update and its answer: alice is behind a NAT, bob sees its mapping. */
    assert_true(sa->nat_local && !sa->nat_remote);
    assert_true(sb->nat_remote && !sb->nat_local);
    assert_int_equal(ip_of(&sb->remote), inet_addr("203.0.113.1"));
    assert_int_equal(port_of(&sb->remote), 14500);
    assert_int_equal(b->child_moved, 1); /* after the check through the NAT */
    int ka = a->keepalives;
    h_settle(w, w->now + 45000);
    assert_true(a->keepalives >= ka + 2); /* NAT-T keepalives from behind the NAT */
    assert_int_equal(b->keepalives, 0);

    /* Back where no NAT is: both see it gone, keepalives stop, IKE stays on 4500 (3.3). */
    assert_int_equal(ike_engine_migrate(&a->engine, sa->id, &l0, NULL), 0);
    h_run(w);
    assert_false(sa->nat_local || sa->nat_remote);
    assert_false(sb->nat_local || sb->nat_remote);
    assert_int_equal(ip_of(&sb->remote), inet_addr("192.0.2.1"));
    assert_int_equal(port_of(&sb->remote), 4500);
    assert_int_equal(b->child_moved, 2);
    ka = a->keepalives;
    h_settle(w, w->now + 45000);
    assert_int_equal(a->keepalives, ka);
    assert_int_equal(sa->state, IKE_SA_ESTABLISHED);
    h_world_free(w);
}

/* RFC 7296 2.11 and RFC 4555 3.8, 3.10: a request from another address (a path test) is
 * answered there, and under MOBIKE it does not move the SA. */
static void request_from_elsewhere_answered_there(void **s)
{
    (void)s;
    struct h_world *w;
    struct h_peer *a, *b;
    negotiate(true, true, &w, &a, &b);
    h_peer_add_addr(a, "198.51.100.1");
    struct ike_sa *sb = h_only_sa(b);
    struct probe p = {.arm = true};
    w->filter = probe_filter;
    w->filter_arg = &p;
    /* Alice's liveness check after dpd_delay (30 s) of silence. */
    h_settle(w, w->now + 31000);
    assert_true(p.rewritten);
    assert_true(p.answers >= 1);
    assert_int_equal(ip_of(&p.answer_dst), inet_addr("198.51.100.1"));
    assert_int_equal(port_of(&p.answer_dst), 4500);
    assert_int_equal(ip_of(&sb->remote), inet_addr("192.0.2.1"));
    assert_int_equal(b->child_moved, 0);
    assert_int_equal(h_only_sa(a)->state, IKE_SA_ESTABLISHED);
    h_world_free(w);
}

static void cookie2_checked(void **s)
{
    (void)s;
    struct h_world *w;
    struct h_peer *a, *b;
    struct net n;
    setup_moving(&w, &a, &b, &n);
    struct ike_sa *sa = h_only_sa(a);
    struct sockaddr_storage l = addr("198.51.100.1");
    assert_int_equal(ike_engine_migrate(&a->engine, sa->id, &l, NULL), 0);
    /* What alice expects no longer matches what bob echoes (as it would if bob copied it
     * wrong): 3.7 says the IKE SA MUST be closed. */
    sa->cookie2[0] ^= 1;
    h_settle(w, w->now + 60000);
    assert_null(h_only_sa(a));
    assert_null(h_only_sa(b));
    assert_int_equal(a->ike_down, 1);
    h_world_free(w);
}

static bool pass_n(struct h_world *w, struct h_pkt *k, void *arg)
{
    int *left = arg;
    (void)w, (void)k;
    return (*left)-- > 0;
}

static void update_without_mobike_refused(void **s)
{
    (void)s;
    struct h_world *w;
    struct h_peer *a, *b;
    negotiate(true, false, &w, &a, &b);
    h_peer_add_addr(a, "198.51.100.1");
    struct ike_sa *sa = h_only_sa(a), *sb = h_only_sa(b);
    struct sockaddr_storage l = addr("198.51.100.1");
    assert_int_equal(ike_engine_migrate(&a->engine, sa->id, &l, NULL), HK_E_UNSUPPORTED);
    assert_int_equal(ip_of(&sa->local), inet_addr("192.0.2.1"));
    /* An initiator that sends it anyway: bob, without MOBIKE on this SA, ignores the notify
     * (the SA stays, his ESP too) and echoes no COOKIE2, which closes alice's SA (3.7). */
    sa->ext |= IKE_EXT_MOBIKE;
    assert_int_equal(ike_engine_migrate(&a->engine, sa->id, &l, NULL), 0);
    int left = 2; /* the update and its answer; alice's Delete after it is held back */
    w->filter = pass_n;
    w->filter_arg = &left;
    h_run(w);
    assert_int_equal(ip_of(&sb->remote), inet_addr("192.0.2.1"));
    assert_int_equal(sb->state, IKE_SA_ESTABLISHED);
    assert_int_equal(b->child_moved, 0);
    assert_int_equal(sa->state, IKE_SA_DELETING);
    h_world_free(w);
}

static void responder_cannot_move(void **s)
{
    (void)s;
    struct h_world *w;
    struct h_peer *a, *b;
    negotiate(true, true, &w, &a, &b);
    struct sockaddr_storage l = addr("192.0.2.3");
    /* 3.2: only the original initiator moves the SA. */
    assert_int_equal(ike_engine_migrate(&b->engine, h_only_sa(b)->id, &l, NULL), HK_E_STATE);
    assert_int_equal(ike_engine_migrate(&a->engine, 999, &l, NULL), HK_E_NOTFOUND);
    h_world_free(w);
}

static bool has_addr(const struct ike_sa *sa, const char *ip)
{
    struct hk_ip want = {0};
    want.family = strchr(ip, ':') ? AF_INET6 : AF_INET;
    assert_int_equal(inet_pton(want.family, ip, want.addr), 1);
    for (size_t i = 0; i < sa->npeer_addrs; i++)
        if (sa->peer_addrs[i].family == want.family &&
            !memcmp(sa->peer_addrs[i].addr, want.addr, sizeof(want.addr)))
            return true;
    return false;
}

/* 3.4, 3.6: each side's other addresses (local_addrs) in IKE_AUTH, kept by the peer; the
 * list in an update replaces it; NO_ADDITIONAL_ADDRESSES when there are none. */
static void additional_addresses(void **s)
{
    (void)s;
    struct h_world *w = h_world_new();
    struct h_peer *a = h_peer_add(
        w, "alice", "192.0.2.1",
        "connections = { gw = {\n"
        "  local_addrs = [\"192.0.2.1\", \"198.51.100.1\", \"2001:db8::1\"];\n"
        "  remote_addrs = \"192.0.2.2\";\n"
        "  local = { auth = \"psk\"; id = \"alice.example.net\"; };\n"
        "  remote = { auth = \"psk\"; id = \"bob.example.net\"; };\n"
        "  psk = \"" PSK "\"; mobike = true;\n"
        "  children = { lan = { local_ts = \"10.1.0.0/16\"; remote_ts = \"10.2.0.0/16\"; }; };\n"
        "}; };\n");
    struct h_peer *b = h_peer_add(w, "bob", "192.0.2.2", bob_conf(true));
    h_peer_add_addr(a, "198.51.100.1");
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_run(w);
    struct ike_sa *sa = h_only_sa(a), *sb = h_only_sa(b);
    assert_int_equal(sb->state, IKE_SA_ESTABLISHED);
    assert_true(sa->ext & IKE_EXT_MOBIKE);
    /* Alice's two others (not the one in the IP header); bob has none to tell. */
    assert_int_equal(sb->npeer_addrs, 2);
    assert_true(has_addr(sb, "198.51.100.1"));
    assert_true(has_addr(sb, "2001:db8::1"));
    assert_int_equal(sa->npeer_addrs, 0);
    /* After a move the list says 192.0.2.1 instead of 198.51.100.1. */
    struct sockaddr_storage l = addr("198.51.100.1");
    assert_int_equal(ike_engine_migrate(&a->engine, sa->id, &l, NULL), 0);
    h_run(w);
    assert_int_equal(ip_of(&sb->remote), inet_addr("198.51.100.1"));
    assert_int_equal(sb->npeer_addrs, 2);
    assert_true(has_addr(sb, "192.0.2.1"));
    assert_true(has_addr(sb, "2001:db8::1"));
    assert_false(has_addr(sb, "198.51.100.1"));
    h_world_free(w);
}

static void no_additional_addresses_empties(void **s)
{
    (void)s;
    struct h_world *w;
    struct h_peer *a, *b;
    negotiate(true, true, &w, &a, &b);
    h_peer_add_addr(a, "198.51.100.1");
    struct ike_sa *sa = h_only_sa(a), *sb = h_only_sa(b);
    assert_int_equal(sb->npeer_addrs, 0);
    /* A list bob had (as from an earlier message) is replaced by the next one alice sends:
     * after the move her only other address is 192.0.2.1. */
    free(sb->peer_addrs);
    sb->peer_addrs = calloc(1, sizeof(*sb->peer_addrs));
    assert_non_null(sb->peer_addrs);
    sb->npeer_addrs = 1;
    sb->peer_addrs[0] = (struct hk_ip){.family = AF_INET, .addr = {203, 0, 113, 9}};
    struct sockaddr_storage l = addr("198.51.100.1");
    assert_int_equal(ike_engine_migrate(&a->engine, sa->id, &l, NULL), 0);
    h_run(w);
    assert_int_equal(sb->npeer_addrs, 1);
    assert_true(has_addr(sb, "192.0.2.1"));
    /* And back: alice's local_addrs has only the address in use now, so she sends
     * NO_ADDITIONAL_ADDRESSES, which empties bob's list. */
    struct sockaddr_storage l0 = addr("192.0.2.1");
    assert_int_equal(ike_engine_migrate(&a->engine, sa->id, &l0, NULL), 0);
    h_run(w);
    assert_int_equal(sb->npeer_addrs, 0);
    h_world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(initiator_moves_both_addresses),
        cmocka_unit_test(return_routability_before_esp),
        cmocka_unit_test(nat_appears_and_goes),
        cmocka_unit_test(cookie2_checked),
        cmocka_unit_test(request_from_elsewhere_answered_there),
        cmocka_unit_test(update_without_mobike_refused),
        cmocka_unit_test(responder_cannot_move),
        cmocka_unit_test(additional_addresses),
        cmocka_unit_test(no_additional_addresses_empties),
        cmocka_unit_test(both_announce),
        cmocka_unit_test(only_initiator),
        cmocka_unit_test(only_responder),
        cmocka_unit_test(neither),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
