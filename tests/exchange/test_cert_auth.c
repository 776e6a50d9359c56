/*
 * IKE_AUTH with certificates (RFC 7296 1.2, 2.15, 3.6, 3.7; RFC 7427): a test PKI made
 * at run time, each side with an end-entity certificate and key files, trust anchors,
 * RFC 7427 and classic ECDSA signatures, CERTREQ, identities from the certificate,
 * and the failures: untrusted CA, identity not in the certificate, expired.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "harness.h"
#include "ike/codec/msg.h"
#include "unit/certgen.h"

struct pki {
    char dir[256];
    struct cg_ent ca, other_ca, alice, bob, old;
};

static void write_ent(const struct pki *k, const char *name, const struct cg_ent *e)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/%s.pem", k->dir, name);
    assert_int_equal(cg_write_pem_certs(path, &e->cert, 1), 0);
    snprintf(path, sizeof(path), "%s/%s.key", k->dir, name);
    assert_int_equal(cg_write_pem_key(path, e->key), 0);
}

static struct pki *pki_new(enum cg_key_type alice_key, enum cg_key_type bob_key)
{
    struct pki *k = calloc(1, sizeof(*k));
    assert_non_null(cg_tmpdir(k->dir, sizeof(k->dir)));
    assert_int_equal(cg_ca(&k->ca, CG_P256, "hike test CA"), 0);
    assert_int_equal(cg_ca(&k->other_ca, CG_P256, "another CA"), 0);
    assert_int_equal(cg_issue(&k->alice, &k->ca, alice_key, "CN=alice.example.net,O=hike,C=CH",
                              "DNS:alice.example.net", false, -60, 3600),
                     0);
    assert_int_equal(cg_issue(&k->bob, &k->ca, bob_key, "CN=bob.example.net,O=hike,C=CH",
                              "DNS:bob.example.net", false, -60, 3600),
                     0);
    assert_int_equal(cg_issue(&k->old, &k->ca, CG_P256, "CN=alice.example.net,O=hike,C=CH",
                              "DNS:alice.example.net", false, -7200, -3600),
                     0);
    write_ent(k, "ca", &k->ca);
    write_ent(k, "other-ca", &k->other_ca);
    write_ent(k, "alice", &k->alice);
    write_ent(k, "bob", &k->bob);
    write_ent(k, "old", &k->old);
    return k;
}

static void pki_free(struct pki *k)
{
    cg_ent_free(&k->ca);
    cg_ent_free(&k->other_ca);
    cg_ent_free(&k->alice);
    cg_ent_free(&k->bob);
    cg_ent_free(&k->old);
    cg_rmdir(k->dir);
    free(k);
}

/* cert: file stem of our certificate; ca: of the anchor we trust; id: what we claim. */
static const char *conf(const struct pki *k, bool alice, const char *cert, const char *ca,
                        const char *local_id, const char *remote_id, const char *extra)
{
    static char b[2][4096];
    char *o = b[alice];
    snprintf(
        o, 4096,
        "connections = { gw = {\n"
        "  local_addrs = \"%s\"; remote_addrs = \"%s\"; fragmentation = true;\n"
        "  local = { auth = \"pubkey\"; cert = \"%s/%s.pem\"; key = \"%s/%s.key\"; %s%s%s %s };\n"
        "  remote = { auth = \"pubkey\"; ca = [\"%s/%s.pem\"]; id = \"%s\"; };\n"
        "  children = { lan = { local_ts = \"%s\"; remote_ts = \"%s\"; }; };\n"
        "}; };\n",
        alice ? "192.0.2.1" : "192.0.2.2", alice ? "192.0.2.2" : "192.0.2.1", k->dir, cert, k->dir,
        cert, local_id ? "id = \"" : "", local_id ? local_id : "", local_id ? "\";" : "", extra,
        k->dir, ca, remote_id, alice ? "10.1.0.0/16" : "10.2.0.0/16",
        alice ? "10.2.0.0/16" : "10.1.0.0/16");
    return o;
}

static struct h_world *run(const char *a_conf, const char *b_conf, struct h_peer **a,
                           struct h_peer **b)
{
    struct h_world *w = h_world_new();
    *a = h_peer_add(w, "alice", "192.0.2.1", a_conf);
    *b = h_peer_add(w, "bob", "192.0.2.2", b_conf);
    assert_int_equal(ike_engine_initiate(&(*a)->engine, "gw", NULL), 0);
    h_settle(w, w->now + 30000);
    return w;
}

static void both_up(struct h_peer *a, struct h_peer *b)
{
    struct ike_sa *sa = h_only_sa(a), *sb = h_only_sa(b);
    assert_non_null(sa);
    assert_non_null(sb);
    assert_int_equal(sa->state, IKE_SA_ESTABLISHED);
    assert_int_equal(sb->state, IKE_SA_ESTABLISHED);
    assert_int_equal(a->child_up, 1);
    assert_int_equal(b->child_up, 1);
}

static void with_keys(enum cg_key_type ka, enum cg_key_type kb, const char *sig)
{
    struct pki *k = pki_new(ka, kb);
    struct h_peer *a, *b;
    char extra[64];
    snprintf(extra, sizeof(extra), "signature = \"%s\";", sig);
    struct h_world *w =
        run(conf(k, true, "alice", "ca", "alice.example.net", "bob.example.net", extra),
            conf(k, false, "bob", "ca", "bob.example.net", "alice.example.net", extra), &a, &b);
    both_up(a, b);
    /* Bob saw alice's FQDN identity, bound to her certificate's subjectAltName. */
    struct ike_sa *sb = h_only_sa(b);
    assert_int_equal(sb->peer_id.type, IKE_ID_FQDN);
    assert_memory_equal(sb->peer_id.data.p, "alice.example.net", 17);
    /* RFC 7383: an RSA certificate does not fit 576 octets; IKE_AUTH went in fragments. */
    if (ka == CG_RSA2048) {
        assert_true(b->engine.stats.reassembled >= 1);
        assert_true(a->engine.stats.reassembled >= 1);
    }
    h_world_free(w);
    pki_free(k);
}

static void ecdsa_rfc7427(void **s)
{
    (void)s;
    with_keys(CG_P256, CG_P384, "rfc7427");
}
static void rsa_pss_rfc7427(void **s)
{
    (void)s;
    with_keys(CG_RSA2048, CG_RSA2048, "rfc7427");
}
static void ed25519(void **s)
{
    (void)s;
    with_keys(CG_ED25519, CG_P256, "rfc7427");
}
static void ecdsa_classic(void **s)
{
    (void)s;
    with_keys(CG_P256, CG_P384, "classic");
}

/* No identity configured: the certificate's subject DN is the identity (ID_DER_ASN1_DN). */
static void dn_identity(void **s)
{
    (void)s;
    struct pki *k = pki_new(CG_P256, CG_P256);
    struct h_peer *a, *b;
    struct h_world *w = run(
        conf(k, true, "alice", "ca", NULL, "bob.example.net", ""),
        conf(k, false, "bob", "ca", "bob.example.net", "dn:CN=alice.example.net,O=hike,C=CH", ""),
        &a, &b);
    both_up(a, b);
    assert_int_equal(h_only_sa(b)->peer_id.type, IKE_ID_DER_ASN1_DN);
    h_world_free(w);
    pki_free(k);
}

/* a_why: the reason alice's engine must report with ops.ike_failed (NULL: any). */
static void fails_with(const char *why, const char *a_why, const char *a_conf, const char *b_conf)
{
    struct h_peer *a, *b;
    struct h_world *w = run(a_conf, b_conf, &a, &b);
    if (h_only_sa(a) || h_only_sa(b))
        fail_msg("%s: an SA came up", why);
    /* The initiator's user hears of a failure once, never of an SA going down that was
     * never up (2.21.2 closes it with an INFORMATIONAL first). */
    assert_int_equal(a->ike_up, 0);
    assert_int_equal(a->ike_down, 0);
    assert_int_equal(a->ike_failed, 1);
    assert_int_equal(a->engine.stats.ike_failed, 1);
    if (a_why)
        assert_string_equal(a->failed_why, a_why);
    /* A responder's child may live until the initiator rejects the responder (2.21.2). */
    assert_int_equal(a->child_up, a->child_down);
    assert_int_equal(b->child_up, b->child_down);
    assert_true(a->engine.stats.auth_failures + b->engine.stats.auth_failures >= 1);
    h_world_free(w);
}

static void fails(const char *why, const char *a_conf, const char *b_conf)
{
    fails_with(why, NULL, a_conf, b_conf);
}

static void untrusted_ca(void **s)
{
    (void)s;
    struct pki *k = pki_new(CG_P256, CG_P256);
    fails("bob trusts another CA",
          conf(k, true, "alice", "ca", "alice.example.net", "bob.example.net", ""),
          conf(k, false, "bob", "other-ca", "bob.example.net", "alice.example.net", ""));
    fails_with("alice trusts another CA", "responder authentication failed",
               conf(k, true, "alice", "other-ca", "alice.example.net", "bob.example.net", ""),
               conf(k, false, "bob", "ca", "bob.example.net", "alice.example.net", ""));
    pki_free(k);
}

static void identity_not_in_certificate(void **s)
{
    (void)s;
    struct pki *k = pki_new(CG_P256, CG_P256);
    fails("alice claims an identity her certificate does not carry",
          conf(k, true, "alice", "ca", "carol.example.net", "bob.example.net", ""),
          conf(k, false, "bob", "ca", "bob.example.net", "%any", ""));
    pki_free(k);
}

static void expired_certificate(void **s)
{
    (void)s;
    struct pki *k = pki_new(CG_P256, CG_P256);
    fails("alice's certificate expired",
          conf(k, true, "old", "ca", "alice.example.net", "bob.example.net", ""),
          conf(k, false, "bob", "ca", "bob.example.net", "alice.example.net", ""));
    pki_free(k);
}

/* ---- issue 10: unauthenticated traffic around certificate connections ---- */

/* Keeps bob's IKE_SA_INIT response, or alice's IKE_AUTH fragment 1 (RFC 7383). */
struct capture {
    uint8_t buf[4096];
    size_t len;
    struct sockaddr_storage src, dst;
};

static bool keep_init_response(struct h_world *w, struct h_pkt *k, void *arg)
{
    (void)w;
    struct capture *c = arg;
    if (k->from == 1 && k->buf[18] == IKE_SA_INIT && (k->buf[19] & IKE_FLAG_RESPONSE) &&
        k->len <= sizeof(c->buf) && !c->len) {
        memcpy(c->buf, k->buf, k->len);
        c->len = k->len;
    }
    return true;
}

/* 1.2: bob's IKE_SA_INIT response asks for alice's certificate (CERTREQ with his CA) although
 * the first connection that matches her addresses and proposal is a PSK one: which connection
 * she is for shows only in IKE_AUTH. An initiator that sends its certificate only when asked
 * (strongSwan's send_cert = ifasked) would otherwise be refused. */
static void certreq_whatever_conn_matched_first(void **s)
{
    (void)s;
    struct pki *k = pki_new(CG_P256, CG_P256);
    static char bob[16384];
    const char *gw = conf(k, false, "bob", "ca", "bob.example.net", "alice.example.net", "");
    const char *head = "connections = { ";
    assert_memory_equal(gw, head, strlen(head));
    snprintf(bob, sizeof(bob),
             "connections = { office = {\n"
             "  remote_addrs = \"%%any\";\n"
             "  local = { auth = \"psk\"; id = \"bob-psk.example.net\"; };\n"
             "  remote = { auth = \"psk\"; id = \"branch.example.net\"; };\n"
             "  psk = \"a shared secret of the office\";\n"
             "  children = { lan = { local_ts = \"10.2.0.0/16\"; remote_ts = \"10.9.0.0/16\"; }; "
             "};\n"
             "};\n%s",
             gw + strlen(head));
    struct h_world *w = h_world_new();
    struct h_peer *a =
        h_peer_add(w, "alice", "192.0.2.1",
                   conf(k, true, "alice", "ca", "alice.example.net", "bob.example.net", ""));
    struct h_peer *b = h_peer_add(w, "bob", "192.0.2.2", bob);
    struct capture c = {0};
    w->filter = keep_init_response;
    w->filter_arg = &c;
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_settle(w, w->now + 30000);
    assert_true(c.len > 0);
    struct hk_arena ar;
    struct ike_msg m;
    struct hk_diag d = {0};
    hk_arena_init(&ar, 1 << 16);
    assert_int_equal(ike_msg_decode(c.buf, c.len, &m, &ar, &d), 0);
    size_t from = 0;
    const struct ike_payload *cr = ike_msg_find(&m, IKE_PL_CERTREQ, &from);
    assert_non_null(cr);
    assert_int_equal(cr->u.cert.encoding, IKE_CERT_X509_SIG);
    assert_int_equal(cr->u.cert.data.len, 20); /* SHA-1 of the one CA's public key */
    hk_arena_free(&ar);
    both_up(a, b);
    assert_string_equal(h_only_sa(b)->conn, "gw");
    h_world_free(w);
    pki_free(k);
}

static bool keep_auth_frag1(struct h_world *w, struct h_pkt *k, void *arg)
{
    (void)w;
    struct capture *c = arg;
    if (k->from == 0 && k->len > IKE_HDR_LEN + 6 && k->buf[18] == IKE_AUTH &&
        !(k->buf[19] & IKE_FLAG_RESPONSE) && k->buf[16] == IKE_PL_SKF &&
        k->buf[IKE_HDR_LEN + 4] == 0 && k->buf[IKE_HDR_LEN + 5] == 1 && k->len <= sizeof(c->buf)) {
        memcpy(c->buf, k->buf, k->len);
        c->len = k->len;
        c->src = k->src;
        c->dst = k->dst;
    }
    return true;
}

/* RFC 7383 2.6.1: a retransmitted fragment 1 of a request already answered gets the cached
 * response again, but only a copy of the fragment 1 that was received (each fragment has its
 * own ICV), and at the resend rate: a forged one made bob send the whole response. */
static void fragment1_resend_only_for_its_copy(void **s)
{
    (void)s;
    struct pki *k = pki_new(CG_RSA2048, CG_RSA2048);
    struct capture c = {0};
    struct h_world *w = h_world_new();
    struct h_peer *a =
        h_peer_add(w, "alice", "192.0.2.1",
                   conf(k, true, "alice", "ca", "alice.example.net", "bob.example.net", ""));
    struct h_peer *b =
        h_peer_add(w, "bob", "192.0.2.2",
                   conf(k, false, "bob", "ca", "bob.example.net", "alice.example.net", ""));
    w->filter = keep_auth_frag1;
    w->filter_arg = &c;
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_run(w); /* no timers: IKE_AUTH stays bob's last request */
    w->filter = NULL;
    both_up(a, b);
    assert_true(c.len > 0);
    struct ike_engine *e = &b->engine;
    uint64_t tx = e->stats.tx, msgid = e->stats.drops[IKE_DROP_MSGID];

    c.buf[c.len - 1] ^= 0x01; /* its ICV */
    ike_engine_recv(e, &c.dst, &c.src, c.buf, c.len);
    c.buf[c.len - 1] ^= 0x01;
    assert_int_equal(e->stats.tx, tx);
    assert_int_equal(e->stats.cached_responses, 0);
    assert_int_equal(e->stats.drops[IKE_DROP_MSGID], msgid + 1);

    ike_engine_recv(e, &c.dst, &c.src, c.buf, c.len);
    assert_int_equal(e->stats.cached_responses, 1);
    assert_true(e->stats.tx > tx + 1); /* the response, in fragments */
    uint64_t tx1 = e->stats.tx;
    ike_engine_recv(e, &c.dst, &c.src, c.buf, c.len);
    assert_int_equal(e->stats.tx, tx1);
    assert_int_equal(e->stats.drops[IKE_DROP_RESEND_LIMIT], 1);
    for (size_t i = 0; i < w->npkts; i++)
        free(w->pkts[i].buf);
    w->npkts = 0;
    h_world_free(w);
    pki_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ecdsa_rfc7427),
        cmocka_unit_test(rsa_pss_rfc7427),
        cmocka_unit_test(ed25519),
        cmocka_unit_test(ecdsa_classic),
        cmocka_unit_test(dn_identity),
        cmocka_unit_test(untrusted_ca),
        cmocka_unit_test(identity_not_in_certificate),
        cmocka_unit_test(expired_certificate),
        cmocka_unit_test(certreq_whatever_conn_matched_first),
        cmocka_unit_test(fragment1_resend_only_for_its_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
