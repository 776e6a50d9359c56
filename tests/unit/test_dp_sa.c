/*
 * The userspace plane's per-SA module (esp/dp_sa.h): the ESP state read after traffic, an SA
 * installed with a carried-over state (the sequence continues, the replay window refuses what
 * the old owner saw), a state that does not fit refused, and a new path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/secret.h"
#include "crypto/alg.h"
#include "crypto/crypto.h"
#include "esp/dp_sa.h"

struct fx {
    struct hk_crypto crypto;
    struct hk_dp_child a, b; /* the two ends of one Child SA: a initiated it */
    struct ike_ts ts[2];
};

static const uint8_t key_ir[20] = "0123456789abcdefghij", key_ri[20] = "ABCDEFGHIJ9876543210";

/* One end's descriptor, oriented as ike_child_dp_desc does (RFC 7296 2.17: the ir key
 * protects what the exchange initiator sends). */
static void child_init(struct hk_dp_child *c, bool initiator, bool esn, struct ike_ts *ts)
{
    struct hk_dp_keys ir = {.encr = key_ir, .encr_len = sizeof(key_ir)};
    struct hk_dp_keys ri = {.encr = key_ri, .encr_len = sizeof(key_ri)};
    *c = (struct hk_dp_child){.id = {.child = initiator ? 1 : 2,
                                     .spi_in = initiator ? 0x1001 : 0x2002,
                                     .spi_out = initiator ? 0x2002 : 0x1001},
                              .initiator = initiator,
                              .encr = HK_ENCR_AES_GCM_16,
                              .encr_key_bits = 128,
                              .esn = esn,
                              .in = initiator ? ri : ir,
                              .out = initiator ? ir : ri,
                              .ts_local = initiator ? &ts[0] : &ts[1],
                              .ts_remote = initiator ? &ts[1] : &ts[0],
                              .nts_local = 1,
                              .nts_remote = 1,
                              .replay_window = 128};
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    if (!f || hk_crypto_init(&f->crypto))
        return -1;
    for (int i = 0; i < 2; i++) /* 10.1.0.0/16 and 10.2.0.0/16, any protocol and port */
        f->ts[i] = (struct ike_ts){.type = IKE_TS_IPV4_ADDR_RANGE,
                                   .end_port = 65535,
                                   .start_addr = {10, (uint8_t)(i + 1), 0, 0},
                                   .end_addr = {10, (uint8_t)(i + 1), 255, 255}};
    child_init(&f->a, true, false, f->ts);
    child_init(&f->b, false, false, f->ts);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    hk_crypto_free(&f->crypto);
    free(f);
    return 0;
}

/* dp_sa_new for one end, sending on path p. */
static int sa_new(struct fx *f, struct hk_dp_child *c, const struct hk_dp_path *p,
                  const struct hk_esp_state *initial, struct dp_sa **out)
{
    c->path = *p;
    return dp_sa_new(&f->crypto, c, 1024, initial, out);
}

static struct hk_dp_path path(const char *l, const char *r, uint16_t port, bool udp)
{
    struct hk_dp_path p = {.udp = udp};
    struct sockaddr_in *sl = (struct sockaddr_in *)&p.local, *sr = (struct sockaddr_in *)&p.remote;
    sl->sin_family = sr->sin_family = AF_INET;
    sl->sin_port = sr->sin_port = htons(port);
    inet_pton(AF_INET, l, &sl->sin_addr);
    inet_pton(AF_INET, r, &sr->sin_addr);
    return p;
}

/* One packet out of s, the way dp_user sends it: the next sequence number, counted. */
static size_t send_one(struct dp_sa *s, uint8_t *out, size_t cap)
{
    static const uint8_t inner[40] = {0x45};
    size_t olen = 0;
    assert_int_equal(
        hk_esp_encap(&s->out.cr, s->out.seq + 1, 4, inner, sizeof(inner), 0, out, cap, &olen), 0);
    s->out.seq++;
    s->out.packets++;
    s->out.bytes += sizeof(inner);
    return olen;
}

/* Receives pkt on s as dp_user does; returns the replay or ICV result. */
static int recv_one(struct dp_sa *s, uint8_t *pkt, size_t len)
{
    uint32_t spi, lo;
    uint64_t seq;
    const uint8_t *inner;
    size_t ilen;
    uint8_t nh;
    assert_int_equal(hk_esp_peek_spi(pkt, len, &spi, &lo), 0);
    int rc = hk_replay_check(&s->in.rw, lo, &seq);
    if (rc)
        return rc;
    if ((rc = hk_esp_decap(&s->in.cr, seq, pkt, len, &inner, &ilen, &nh)))
        return rc;
    if ((rc = hk_replay_update(&s->in.rw, seq)))
        return rc;
    s->in.packets++;
    s->in.bytes += ilen;
    return 0;
}

static void state_follows_traffic_and_moves(void **state)
{
    struct fx *f = *state;
    struct hk_dp_path pa = path("192.0.2.1", "192.0.2.2", 500, false);
    struct hk_dp_path pb = path("192.0.2.2", "192.0.2.1", 500, false);
    struct dp_sa *a, *b;
    assert_int_equal(sa_new(f, &f->a, &pa, NULL, &a), 0);
    assert_int_equal(sa_new(f, &f->b, &pb, NULL, &b), 0);
    uint8_t pkts[10][128];
    size_t lens[10];
    for (int i = 0; i < 10; i++)
        lens[i] = send_one(a, pkts[i], sizeof(pkts[i]));
    /* Packets 1..8 arrive, except 3; 9 and 10 are still in flight. */
    uint8_t copy[128];
    for (int i = 0; i < 8; i++) {
        if (i == 2)
            continue;
        memcpy(copy, pkts[i], lens[i]);
        assert_int_equal(recv_one(b, copy, lens[i]), 0);
    }
    struct hk_esp_state sa_st, sb_st;
    dp_sa_state_get(a, &sa_st);
    dp_sa_state_get(b, &sb_st);
    assert_int_equal(sa_st.seq_out, 10);
    assert_int_equal(sa_st.packets_out, 10);
    assert_int_equal(sa_st.bytes_out, 400);
    assert_int_equal(sb_st.replay_top, 8);
    assert_int_equal(sb_st.replay_window, 128);
    assert_int_equal(sb_st.packets_in, 7);
    /* bit j = sequence number 8 - j: 8..4 and 2..1 seen, 3 (j = 5) not */
    assert_int_equal(sb_st.replay_bits[0], 0xdf);

    /* Both ends move (another process, another node): the state goes with them. */
    struct dp_sa *a2, *b2;
    assert_int_equal(sa_new(f, &f->a, &pa, &sa_st, &a2), 0);
    assert_int_equal(sa_new(f, &f->b, &pb, &sb_st, &b2), 0);
    /* The outbound sequence continues at 11, never 1 again (RFC 4303 3.3.3). */
    uint8_t next[128];
    size_t nlen = send_one(a2, next, sizeof(next));
    uint32_t spi, lo;
    assert_int_equal(hk_esp_peek_spi(next, nlen, &spi, &lo), 0);
    assert_int_equal(lo, 11);
    /* The new receiver refuses what the old one took, takes what it never saw. */
    memcpy(copy, pkts[0], lens[0]);
    assert_int_equal(recv_one(b2, copy, lens[0]), HK_E_EXISTS);
    memcpy(copy, pkts[7], lens[7]);
    assert_int_equal(recv_one(b2, copy, lens[7]), HK_E_EXISTS);
    memcpy(copy, pkts[2], lens[2]);
    assert_int_equal(recv_one(b2, copy, lens[2]), 0);
    memcpy(copy, pkts[9], lens[9]);
    assert_int_equal(recv_one(b2, copy, lens[9]), 0);
    assert_int_equal(recv_one(b2, next, nlen), 0);
    struct hk_esp_state st;
    dp_sa_state_get(b2, &st);
    assert_int_equal(st.replay_top, 11);
    assert_int_equal(st.packets_in, 10);

    /* A fresh SA (no state) starts over: what the tests above rely on is the state. */
    struct dp_sa *fresh;
    assert_int_equal(sa_new(f, &f->b, &pb, NULL, &fresh), 0);
    memcpy(copy, pkts[0], lens[0]);
    assert_int_equal(recv_one(fresh, copy, lens[0]), 0);
    dp_sa_free(fresh);
    dp_sa_free(a);
    dp_sa_free(b);
    dp_sa_free(a2);
    dp_sa_free(b2);
}

static void state_that_does_not_fit_is_refused(void **state)
{
    struct fx *f = *state;
    struct hk_dp_path p = path("192.0.2.2", "192.0.2.1", 500, false);
    struct dp_sa *s;
    assert_int_equal(sa_new(f, &f->b, &p, NULL, &s), 0);
    struct hk_esp_state st, before;
    dp_sa_state_get(s, &st);
    before = st;
    st.replay_window = 256; /* another window size */
    assert_int_equal(dp_sa_state_set(s, &st), HK_E_INVALID);
    st = before;
    st.esn = true; /* ESN was not negotiated */
    assert_int_equal(dp_sa_state_set(s, &st), HK_E_INVALID);
    st = before;
    st.seq_out = (uint64_t)UINT32_MAX + 1; /* past a 32-bit counter */
    assert_int_equal(dp_sa_state_set(s, &st), HK_E_INVALID);
    st = before;
    st.replay_top = (uint64_t)UINT32_MAX + 5;
    assert_int_equal(dp_sa_state_set(s, &st), HK_E_INVALID);
    dp_sa_state_get(s, &st);
    assert_memory_equal(&st, &before, sizeof(st));
    struct dp_sa *none = NULL;
    st = before;
    st.replay_window = 64;
    assert_int_equal(sa_new(f, &f->b, &p, &st, &none), HK_E_INVALID);
    assert_null(none);
    dp_sa_free(s);
}

static void limits_fired_carry_over(void **state)
{
    struct fx *f = *state;
    struct hk_dp_path p = path("192.0.2.1", "192.0.2.2", 500, false);
    struct dp_sa *s;
    assert_int_equal(sa_new(f, &f->a, &p, NULL, &s), 0);
    struct hk_esp_state st;
    dp_sa_state_get(s, &st);
    st.soft_out = true;
    st.hard_in = true;
    st.bytes_in = 12345;
    assert_int_equal(dp_sa_state_set(s, &st), 0);
    assert_true(s->out.fired.soft && !s->out.fired.hard);
    assert_true(s->in.fired.hard && !s->in.fired.soft);
    assert_int_equal(s->in.bytes, 12345);
    dp_sa_free(s);
}

static void new_path(void **state)
{
    struct fx *f = *state;
    struct hk_dp_path p = path("192.0.2.1", "192.0.2.2", 500, false);
    struct dp_sa *s;
    assert_int_equal(sa_new(f, &f->a, &p, NULL, &s), 0);
    assert_false(s->out.udp);
    uint8_t pkt[128];
    send_one(s, pkt, sizeof(pkt));
    struct hk_dp_path q = path("198.51.100.7", "203.0.113.9", 4500, true);
    dp_sa_set_path(s, &q);
    assert_true(s->out.udp && s->in.tp_fix);
    assert_int_equal(s->out.remote.v4.sin_addr.s_addr, inet_addr("203.0.113.9"));
    assert_int_equal(s->out.local.v4.sin_addr.s_addr, inet_addr("198.51.100.7"));
    assert_int_equal(ntohs(s->out.remote.v4.sin_port), 4500);
    assert_int_equal(s->out.seq, 1); /* keys and counters stay */
    dp_sa_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(state_follows_traffic_and_moves, setup, teardown),
        cmocka_unit_test_setup_teardown(state_that_does_not_fit_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(limits_fired_carry_over, setup, teardown),
        cmocka_unit_test_setup_teardown(new_path, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
