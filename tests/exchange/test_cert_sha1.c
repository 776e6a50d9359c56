/*
 * An IKE_AUTH whose AUTH is method 1 (RSA PKCS#1 v1.5 with SHA-1, RFC 7296 3.8) is refused with
 * AUTHENTICATION_FAILED (2.21.2) unless the responder's remote.signature is "classic". hike
 * never signs method 1, so the test makes the initiator's IKE_AUTH itself: alice's engine runs
 * IKE_SA_INIT, its own IKE_AUTH is dropped on the wire, and a request with the same keys, her
 * certificate and a SHA-1 signature by her RSA key over her signed octets (2.15) goes to the
 * gateway instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/cbb.h"
#include "crypto/auth.h"
#include "harness.h"
#include "ike/codec/msg.h"
#include "ike/sk_msg.h"
#include "unit/certgen.h"

struct pki {
    char dir[256];
    struct cg_ent ca, alice, gw;
};

static void write_ent(const struct pki *k, const char *name, const struct cg_ent *e)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/%s.pem", k->dir, name);
    assert_int_equal(cg_write_pem_certs(path, &e->cert, 1), 0);
    snprintf(path, sizeof(path), "%s/%s.key", k->dir, name);
    assert_int_equal(cg_write_pem_key(path, e->key), 0);
}

static const char *conf(const struct pki *k, bool alice, const char *remote_extra)
{
    static char b[2][2048];
    char *o = b[alice];
    snprintf(o, 2048,
             "connections = { gw = {\n"
             "  local_addrs = \"%s\"; remote_addrs = \"%s\";\n"
             "  local = { auth = \"pubkey\"; cert = \"%s/%s.pem\"; key = \"%s/%s.key\"; };\n"
             "  remote = { auth = \"pubkey\"; ca = [\"%s/ca.pem\"]; %s };\n"
             "}; };\n",
             alice ? "192.0.2.1" : "192.0.2.2", alice ? "192.0.2.2" : "192.0.2.1", k->dir,
             alice ? "alice" : "gw", k->dir, alice ? "alice" : "gw", k->dir, remote_extra);
    return o;
}

/* Drops alice's own IKE_AUTH (exchange type, header octet 18). */
static bool drop_auth(struct h_world *w, struct h_pkt *p, void *arg)
{
    (void)w;
    (void)arg;
    return !(p->from == 0 && p->len > 18 && p->buf[18] == IKE_AUTH);
}

/* Alice's IKE_AUTH request with AUTH method 1, sent to the gateway. */
static void send_method1(struct h_world *w, struct h_peer *a, struct h_peer *g, struct pki *k)
{
    struct ike_sa *sa = h_only_sa(a);
    assert_non_null(sa);
    assert_int_equal(sa->state, IKE_SA_AUTH_SENT);
    assert_non_null(sa->sk_out);
    static const char id[] = "alice.example.net";
    uint8_t body[4 + sizeof(id) - 1] = {IKE_ID_FQDN};
    memcpy(body + 4, id, sizeof(id) - 1);

    /* 2.15: the initiator signs its IKE_SA_INIT request, Nr and prf(SK_pi, IDi'). */
    struct hk_cbb oct, sig, msg;
    assert_int_equal(hk_cbb_init(&oct, 1024, 0), 0);
    assert_int_equal(hk_cbb_init(&sig, 512, 0), 0);
    assert_int_equal(hk_cbb_init(&msg, 2048, 0), 0);
    assert_int_equal(hk_auth_octets(&w->crypto, sa->alg.prf, sa->init_req.p, sa->init_req.len,
                                    sa->nr.p, sa->nr.len, sa->keys.sk_pi->data, sa->keys.sk_pi->len,
                                    body, sizeof(body), &oct),
                     0);
    uint8_t *s;
    size_t slen = (size_t)EVP_PKEY_get_size(k->alice.key);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    assert_non_null(md);
    assert_int_equal(hk_cbb_add_space(&sig, &s, slen), 0);
    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha1(), NULL, k->alice.key), 1);
    assert_int_equal(EVP_DigestSign(md, s, &slen, oct.buf, oct.len), 1);
    EVP_MD_CTX_free(md);

    size_t derlen;
    uint8_t *der = cg_der(k->alice.cert, &derlen);
    assert_non_null(der);
    struct ike_payload pl[3] = {
        {.type = IKE_PL_IDI,
         .u.id = {.type = IKE_ID_FQDN, .data = {(const uint8_t *)id, sizeof(id) - 1}}},
        {.type = IKE_PL_CERT},
        {.type = IKE_PL_AUTH, .u.auth = {.method = IKE_AUTH_RSA_SIG, .data = {sig.buf, slen}}},
    };
    pl[1].u.cert.encoding = IKE_CERT_X509_SIG;
    pl[1].u.cert.data = (struct ike_view){der, derlen};
    struct ike_hdr h = {.version = 0x20,
                        .exchange = IKE_AUTH,
                        .flags = IKE_FLAG_INITIATOR,
                        .msg_id = sa->req_next - 1};
    memcpy(h.spi_i, sa->spi_i, IKE_SPI_LEN);
    memcpy(h.spi_r, sa->spi_r, IKE_SPI_LEN);
    assert_int_equal(ike_sk_seal(sa->sk_out, &h, pl, 3, &msg), 0);
    ike_engine_recv(&g->engine, &g->addr, &a->addr, msg.buf, msg.len);
    OPENSSL_free(der);
    hk_cbb_free(&oct);
    hk_cbb_free(&sig);
    hk_cbb_free(&msg);
}

static struct pki *pki_new(void)
{
    struct pki *k = calloc(1, sizeof(*k));
    assert_non_null(k);
    assert_non_null(cg_tmpdir(k->dir, sizeof(k->dir)));
    assert_int_equal(cg_ca(&k->ca, CG_P256, "hike test CA"), 0);
    assert_int_equal(cg_issue(&k->alice, &k->ca, CG_RSA2048, "CN=alice.example.net,O=hike",
                              "DNS:alice.example.net", false, -60, 3600),
                     0);
    assert_int_equal(cg_issue(&k->gw, &k->ca, CG_P256, "CN=gw.example.net,O=hike",
                              "DNS:gw.example.net", false, -60, 3600),
                     0);
    write_ent(k, "ca", &k->ca);
    write_ent(k, "alice", &k->alice);
    write_ent(k, "gw", &k->gw);
    return k;
}

static void pki_free(struct pki *k)
{
    cg_ent_free(&k->ca);
    cg_ent_free(&k->alice);
    cg_ent_free(&k->gw);
    cg_rmdir(k->dir);
    free(k);
}

/* IKE_SA_INIT between alice and the gateway, then the method-1 IKE_AUTH. */
static void run(const char *gw_remote_extra, struct h_world **wo, struct h_peer **ao,
                struct h_peer **go, struct pki **ko)
{
    struct pki *k = pki_new();
    struct h_world *w = h_world_new();
    struct h_peer *a = h_peer_add(w, "alice", "192.0.2.1", conf(k, true, ""));
    struct h_peer *g = h_peer_add(w, "gw", "192.0.2.2", conf(k, false, gw_remote_extra));
    w->filter = drop_auth;
    assert_int_equal(ike_engine_initiate(&a->engine, "gw", NULL), 0);
    h_run(w);
    assert_true(w->dropped >= 1);
    send_method1(w, a, g, k);
    h_run(w);
    *wo = w;
    *ao = a;
    *go = g;
    *ko = k;
}

static void method1_refused(void **s)
{
    (void)s;
    struct h_world *w;
    struct h_peer *a, *g;
    struct pki *k;
    run("", &w, &a, &g, &k);
    /* AUTHENTICATION_FAILED: no SA at the gateway, and alice was told. */
    assert_null(h_only_sa(g));
    assert_int_equal(g->engine.stats.auth_failures, 1);
    assert_int_equal(g->ike_up, 0);
    assert_int_equal(a->ike_failed, 1);
    assert_null(h_only_sa(a));
    h_world_free(w);
    pki_free(k);
}

static void method1_allowed_by_classic(void **s)
{
    (void)s;
    struct h_world *w;
    struct h_peer *a, *g;
    struct pki *k;
    /* The same request where the connection allows classic signatures: it authenticates. */
    run("signature = \"classic\";", &w, &a, &g, &k);
    assert_non_null(h_only_sa(g));
    assert_int_equal(h_only_sa(g)->state, IKE_SA_ESTABLISHED);
    assert_int_equal(g->engine.stats.auth_failures, 0);
    assert_int_equal(g->ike_up, 1);
    h_world_free(w);
    pki_free(k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(method1_refused),
        cmocka_unit_test(method1_allowed_by_classic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
