/*
 * ike_child_dp_desc: the one place where a Child SA and its IKE SA become what a data plane
 * installs. The keys are oriented by who initiated the exchange (RFC 7296 2.17) and stay
 * views into the child's own keys; the path is the IKE SA's; both ends' descriptors make an
 * SA pair that talks.
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
#include "ike/dp_desc.h"

static const uint8_t e_ir[16] = "encr-ir.........", e_ri[16] = "encr-ri.........";
static const uint8_t i_ir[32] = "integ-ir........................";
static const uint8_t i_ri[32] = "integ-ri........................";

static void child_init(struct child_sa *c, bool initiator, struct ike_ts *ts)
{
    memset(c, 0, sizeof(*c));
    c->id = initiator ? 11 : 12;
    snprintf(c->name, sizeof(c->name), "net");
    c->initiator = initiator;
    c->spi_in = initiator ? 0xa1 : 0xb2;
    c->spi_out = initiator ? 0xb2 : 0xa1;
    c->chosen = (struct ike_chosen){.encr = HK_ENCR_AES_CBC,
                                    .encr_key_bits = 128,
                                    .integ = HK_AUTH_HMAC_SHA2_256_128,
                                    .esn = HK_ESN_YES};
    c->keys.encr_ir = hk_secret_dup(e_ir, sizeof(e_ir));
    c->keys.encr_ri = hk_secret_dup(e_ri, sizeof(e_ri));
    c->keys.integ_ir = hk_secret_dup(i_ir, sizeof(i_ir));
    c->keys.integ_ri = hk_secret_dup(i_ri, sizeof(i_ri));
    c->rekey_bytes = 1000, c->life_bytes = 2000, c->rekey_packets = 30, c->life_packets = 40;
    c->replay_window = 0; /* replay protection off: passed on as 0 */
    assert_int_equal(
        child_sa_set_ts(c, initiator ? &ts[0] : &ts[1], 1, initiator ? &ts[1] : &ts[0], 1), 0);
}

static void child_clear(struct child_sa *c)
{
    hk_child_keys_free(&c->keys);
    free(c->ts_local);
    free(c->ts_remote);
}

static void sa_init(struct ike_sa *sa, const char *l, const char *r, uint16_t lport)
{
    memset(sa, 0, sizeof(*sa));
    struct sockaddr_in *sl = (struct sockaddr_in *)&sa->local;
    struct sockaddr_in *sr = (struct sockaddr_in *)&sa->remote;
    sl->sin_family = sr->sin_family = AF_INET;
    sl->sin_port = htons(lport);
    sr->sin_port = htons(lport);
    inet_pton(AF_INET, l, &sl->sin_addr);
    inet_pton(AF_INET, r, &sr->sin_addr);
}

static void ts_init(struct ike_ts ts[2])
{
    for (int i = 0; i < 2; i++)
        ts[i] = (struct ike_ts){.type = IKE_TS_IPV4_ADDR_RANGE,
                                .end_port = 65535,
                                .start_addr = {10, (uint8_t)(i + 1), 0, 0},
                                .end_addr = {10, (uint8_t)(i + 1), 255, 255}};
}

static void fields_and_orientation(void **state)
{
    (void)state;
    struct ike_ts ts[2];
    ts_init(ts);
    struct child_sa ci, cr;
    child_init(&ci, true, ts);
    child_init(&cr, false, ts);
    struct ike_sa sa;
    sa_init(&sa, "192.0.2.1", "192.0.2.2", 4500); /* off port 500: ESP in UDP (2.23) */
    struct hk_dp_child d;

    ike_child_dp_desc(&sa, &ci, &d);
    assert_int_equal(d.id.child, 11);
    assert_int_equal(d.id.spi_in, 0xa1);
    assert_int_equal(d.id.spi_out, 0xb2);
    assert_string_equal(d.name, "net");
    assert_true(d.initiator && !d.transport && d.esn);
    assert_int_equal(d.encr, HK_ENCR_AES_CBC);
    assert_int_equal(d.encr_key_bits, 128);
    assert_int_equal(d.integ, HK_AUTH_HMAC_SHA2_256_128);
    /* The initiator sends with the ir keys: views into the child's own secrets. */
    assert_ptr_equal(d.out.encr, ci.keys.encr_ir->data);
    assert_ptr_equal(d.out.integ, ci.keys.integ_ir->data);
    assert_ptr_equal(d.in.encr, ci.keys.encr_ri->data);
    assert_ptr_equal(d.in.integ, ci.keys.integ_ri->data);
    assert_int_equal(d.out.encr_len, 16);
    assert_int_equal(d.in.integ_len, 32);
    assert_true(d.path.udp);
    assert_memory_equal(&d.path.local, &sa.local, sizeof(sa.local));
    assert_memory_equal(&d.path.remote, &sa.remote, sizeof(sa.remote));
    assert_ptr_equal(d.ts_local, ci.ts_local);
    assert_ptr_equal(d.ts_remote, ci.ts_remote);
    assert_int_equal(d.nts_local, 1);
    assert_int_equal(d.nts_remote, 1);
    assert_int_equal(d.soft_bytes, 1000);
    assert_int_equal(d.hard_bytes, 2000);
    assert_int_equal(d.soft_packets, 30);
    assert_int_equal(d.hard_packets, 40);
    assert_int_equal(d.replay_window, 0);

    /* The responder: the other way round. */
    ike_child_dp_desc(&sa, &cr, &d);
    assert_false(d.initiator);
    assert_ptr_equal(d.out.encr, cr.keys.encr_ri->data);
    assert_ptr_equal(d.out.integ, cr.keys.integ_ri->data);
    assert_ptr_equal(d.in.encr, cr.keys.encr_ir->data);
    assert_ptr_equal(d.in.integ, cr.keys.integ_ir->data);

    /* An AEAD child has no integrity keys: NULL views of length 0. */
    hk_secret_free(&ci.keys.integ_ir);
    hk_secret_free(&ci.keys.integ_ri);
    ci.transport = true;
    ci.chosen.esn = HK_ESN_NO;
    sa_init(&sa, "192.0.2.1", "192.0.2.2", 500);
    ike_child_dp_desc(&sa, &ci, &d);
    assert_null(d.out.integ);
    assert_null(d.in.integ);
    assert_int_equal(d.out.integ_len + d.in.integ_len, 0);
    assert_true(d.transport && !d.esn && !d.path.udp);

    struct hk_dp_id id = ike_child_dp_id(&cr);
    assert_int_equal(id.child, 12);
    assert_int_equal(id.spi_in, 0xb2);
    assert_int_equal(id.spi_out, 0xa1);
    child_clear(&ci);
    child_clear(&cr);
}

/* A packet one end sends, through dp_sa as the userspace plane runs it, opens at the other. */
static int one_way(struct dp_sa *from, struct dp_sa *to)
{
    static const uint8_t inner[40] = {0x45};
    uint8_t pkt[256];
    size_t len = 0, ilen;
    uint32_t spi, lo;
    uint64_t seq;
    const uint8_t *plain;
    uint8_t nh;
    int rc = hk_esp_encap(&from->out.cr, ++from->out.seq, 4, inner, sizeof(inner), 0, pkt,
                          sizeof(pkt), &len);
    if (!rc)
        rc = hk_esp_peek_spi(pkt, len, &spi, &lo);
    if (!rc && spi != to->in.spi)
        rc = HK_E_NOTFOUND;
    if (!rc)
        rc = hk_replay_check(&to->in.rw, lo, &seq);
    if (!rc)
        rc = hk_esp_decap(&to->in.cr, seq, pkt, len, &plain, &ilen, &nh);
    return rc;
}

static void both_ends_talk(void **state)
{
    (void)state;
    struct hk_crypto crypto;
    assert_int_equal(hk_crypto_init(&crypto), 0);
    struct ike_ts ts[2];
    ts_init(ts);
    struct child_sa ci, cr;
    child_init(&ci, true, ts);
    child_init(&cr, false, ts);
    struct ike_sa si, sr;
    sa_init(&si, "192.0.2.1", "192.0.2.2", 500);
    sa_init(&sr, "192.0.2.2", "192.0.2.1", 500);
    struct hk_dp_child di, dr;
    ike_child_dp_desc(&si, &ci, &di);
    ike_child_dp_desc(&sr, &cr, &dr);
    struct dp_sa *a, *b;
    assert_int_equal(dp_sa_new(&crypto, &di, 1024, NULL, &a), 0);
    assert_int_equal(dp_sa_new(&crypto, &dr, 1024, NULL, &b), 0);
    assert_true(a->in.no_replay); /* replay_window 0 kept its meaning */
    assert_int_equal(a->lim.hard_packets, 40);
    assert_int_equal(one_way(a, b), 0);
    assert_int_equal(one_way(b, a), 0);
    /* The same keys wrongly oriented do not open: what the test above proves is the
     * orientation. */
    struct hk_dp_child wrong = dr;
    wrong.in = dr.out, wrong.out = dr.in;
    struct dp_sa *w;
    assert_int_equal(dp_sa_new(&crypto, &wrong, 1024, NULL, &w), 0);
    assert_int_not_equal(one_way(a, w), 0);
    dp_sa_free(w);
    dp_sa_free(a);
    dp_sa_free(b);
    child_clear(&ci);
    child_clear(&cr);
    hk_crypto_free(&crypto);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fields_and_orientation),
        cmocka_unit_test(both_ends_talk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
