/*
 * Certificate AUTH for IKE_AUTH: CERT/CERTREQ payloads through the codec, RFC 7427 and classic
 * signatures, and every way the peer check must fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "certgen.h"
#include "common/arena.h"
#include "common/cbb.h"
#include "common/diag.h"
#include "common/err.h"
#include "crypto/crypto.h"
#include "crypto/x509.h"
#include "ike/auth_cert.h"
#include "ike/codec/msg.h"

#define DAY 86400L

enum { K_RSA, K_P256, K_P384, K_P521, K_ED, NKEYS };

struct fixture {
    struct hk_crypto c;
    struct cg_ent ca, inter, leaf[NKEYS], expired, other_ca, stranger, enc_only;
    struct hk_trust *trust, *other_trust;
    uint8_t octets[300];
};

static const char *const names[NKEYS] = {"rsa", "p256", "p384", "p521", "ed25519"};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    char subj[128], san[128], err[256];
    static const enum cg_key_type types[NKEYS] = {CG_RSA2048, CG_P256, CG_P384, CG_P521,
                                                  CG_ED25519};
    if (!f || hk_crypto_init(&f->c) || cg_ca(&f->ca, CG_P256, "Test CA") ||
        cg_issue(&f->inter, &f->ca, CG_P384, "CN=Test Intermediate,O=hike test", NULL, true, -DAY,
                 20 * DAY))
        return -1;
    for (int i = 0; i < NKEYS; i++) {
        snprintf(subj, sizeof(subj), "CN=%s.hike.test,O=hike test", names[i]);
        snprintf(san, sizeof(san), "DNS:%s.hike.test,IP:192.0.2.%d,email:%s@hike.test", names[i],
                 i + 1, names[i]);
        if (cg_issue(&f->leaf[i], &f->inter, types[i], subj, san, false, -DAY, 10 * DAY))
            return -1;
    }
    if (cg_issue(&f->expired, &f->inter, CG_P256, "CN=old.hike.test", "DNS:old.hike.test", false,
                 -3 * DAY, -DAY) ||
        cg_ca(&f->other_ca, CG_P256, "Other CA") ||
        cg_issue(&f->stranger, &f->other_ca, CG_P256, "CN=p256.hike.test,O=hike test",
                 "DNS:p256.hike.test", false, -DAY, DAY) ||
        hk_trust_from_certs(&f->ca.cert, 1, &f->trust, err, sizeof(err)) ||
        hk_trust_from_certs(&f->other_ca.cert, 1, &f->other_trust, err, sizeof(err)) ||
        hk_random(f->octets, sizeof(f->octets)))
        return -1;
    /* A certificate whose key usage forbids signatures. */
    f->enc_only.key = cg_key_new(CG_P256);
    struct cg_spec s = {.subject = "CN=enc.hike.test",
                        .san = "DNS:enc.hike.test",
                        .key = f->enc_only.key,
                        .issuer = f->inter.cert,
                        .issuer_key = f->inter.key,
                        .not_before = -DAY,
                        .not_after = DAY,
                        .key_usage = "critical,keyEncipherment"};
    if (!(f->enc_only.cert = cg_cert_new(&s)))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    for (int i = 0; i < NKEYS; i++)
        cg_ent_free(&f->leaf[i]);
    struct cg_ent *e[] = {&f->ca, &f->inter, &f->expired, &f->other_ca, &f->stranger, &f->enc_only};
    for (size_t i = 0; i < sizeof(e) / sizeof(e[0]); i++)
        cg_ent_free(e[i]);
    hk_trust_free(f->trust);
    hk_trust_free(f->other_trust);
    hk_crypto_free(&f->c);
    free(f);
    return 0;
}

/* A credential as hk_cred_load makes it: cert, key and intermediates (references taken). */
static struct hk_cred *cred_of(X509 *cert, EVP_PKEY *key, X509 *inter)
{
    struct hk_cred *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    assert_non_null(c->chain = sk_X509_new_null());
    assert_true(X509_up_ref(cert) && EVP_PKEY_up_ref(key));
    c->cert = cert;
    c->key = key;
    if (inter) {
        assert_true(X509_up_ref(inter));
        assert_true(sk_X509_push(c->chain, inter) > 0);
    }
    return c;
}

/* One side's IKE_AUTH on the wire, decoded again: what the peer's x_auth.c will see. */
struct wire {
    struct hk_cbb bytes;
    struct hk_arena arena;
    struct ike_msg msg;
    const struct ike_pl_id *id;
    const struct ike_pl_auth *auth;
};

/* Options for building the message (defaults: FQDN ID of the cert, chain sent, AUTH signed). */
struct build {
    uint8_t id_type;
    const void *id;
    size_t idlen;
    bool no_certs;
    bool rfc7427_off;
    int tamper_cert;       /* 1-based CERT payload whose data is replaced with junk */
    size_t truncate_cert;  /* octets cut from the end of the first CERT */
    uint8_t cert_encoding; /* overrides encoding of every CERT (0: X.509 signature) */
    size_t extra_certs;    /* copies of the intermediate appended */
    uint8_t method;        /* overrides the AUTH method (0: as signed) */
    EVP_PKEY *sign_key;    /* signs with this key instead of the credential's */
};

static const uint8_t junk[] = {0x30, 0x82, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef};

static void build_wire(struct fixture *f, const struct hk_cred *cred, const struct build *o,
                       struct wire *w)
{
    char err[256] = "";
    struct hk_arena a;
    struct hk_cbb auth;
    uint8_t method = 0;
    struct ike_payload pl[40];
    size_t n = 0;
    hk_arena_init(&a, 0);
    assert_int_equal(hk_cbb_init(&auth, 0, 0), 0);
    struct hk_cred signer = *cred;
    if (o->sign_key)
        signer.key = o->sign_key;
    int rc = auth_cert_sign(&f->c, &signer, !o->rfc7427_off, f->octets, sizeof(f->octets), &method,
                            &auth, err, sizeof(err));
    if (rc)
        fail_msg("auth_cert_sign: %s", err);

    char host[64];
    const char *cn = strstr(hk_cert_subject_str(cred->cert, host, sizeof(host)), "CN=");
    assert_non_null(cn);
    size_t hl = strcspn(cn + 3, ",");
    pl[n++] = (struct ike_payload){
        .type = IKE_PL_IDI,
        .u.id = {.type = o->id_type ? o->id_type : IKE_ID_FQDN,
                 .data = {o->id ? o->id : (const uint8_t *)cn + 3, o->id ? o->idlen : hl}}};
    if (!o->no_certs) {
        size_t first = n;
        assert_int_equal(auth_cert_payloads(cred, &a, pl, 40, &n), 0);
        assert_int_equal(n - first, 1 + (size_t)sk_X509_num(cred->chain));
        for (size_t i = 0; i < o->extra_certs; i++)
            pl[n++] = pl[first + 1];
        if (o->tamper_cert)
            pl[first + (size_t)o->tamper_cert - 1].u.cert.data =
                (struct ike_view){junk, sizeof(junk)};
        if (o->truncate_cert)
            pl[first].u.cert.data.len -= o->truncate_cert;
        if (o->cert_encoding)
            for (size_t i = first; i < n; i++)
                pl[i].u.cert.encoding = o->cert_encoding;
    }
    assert_int_equal(auth_certreq_payload(f->trust, &a, &pl[n++]), 0);
    pl[n++] = (struct ike_payload){
        .type = IKE_PL_AUTH,
        .u.auth = {.method = o->method ? o->method : method, .data = {auth.buf, auth.len}}};

    struct ike_msg m = {.hdr = {.spi_i = {1, 2, 3, 4, 5, 6, 7, 8},
                                .spi_r = {8, 7, 6, 5, 4, 3, 2, 1},
                                .version = 0x20,
                                .exchange = IKE_AUTH,
                                .flags = IKE_FLAG_INITIATOR,
                                .msg_id = 1},
                        .npayloads = n,
                        .payloads = pl};
    assert_int_equal(hk_cbb_init(&w->bytes, 4096, 0), 0);
    assert_int_equal(ike_msg_encode(&m, &w->bytes), 0);
    hk_cbb_free(&auth);
    hk_arena_free(&a);

    struct hk_diag d = {{0}};
    hk_arena_init(&w->arena, 1u << 20);
    rc = ike_msg_decode(w->bytes.buf, w->bytes.len, &w->msg, &w->arena, &d);
    if (rc)
        fail_msg("decode: %s", hk_diag_msg(&d));
    size_t from = 0;
    const struct ike_payload *id = ike_msg_find(&w->msg, IKE_PL_IDI, &from);
    from = 0;
    const struct ike_payload *au = ike_msg_find(&w->msg, IKE_PL_AUTH, &from);
    assert_non_null(id);
    assert_non_null(au);
    w->id = &id->u.id;
    w->auth = &au->u.auth;
}

static void wire_free(struct wire *w)
{
    hk_cbb_free(&w->bytes);
    hk_arena_free(&w->arena);
}

/* Builds with o, verifies against t (and pinned); returns the result, reason in err. */
static int run(struct fixture *f, const struct hk_cred *cred, const struct build *o,
               const struct hk_trust *t, X509 *pinned, char *err, size_t errlen)
{
    struct wire w;
    err[0] = '\0';
    build_wire(f, cred, o, &w);
    int rc = auth_cert_verify(&f->c, t, &w.msg, w.id, w.auth, f->octets, sizeof(f->octets), pinned,
                              err, errlen);
    wire_free(&w);
    return rc;
}

static void expect_fail(struct fixture *f, const struct hk_cred *cred, const struct build *o,
                        const struct hk_trust *t, X509 *pinned, const char *want)
{
    char err[512];
    int rc = run(f, cred, o, t, pinned, err, sizeof(err));
    if (rc != HK_E_AUTH)
        fail_msg("expected HK_E_AUTH (%s), got %d: '%s'", want, rc, err);
    if (!strstr(err, want))
        fail_msg("error '%s' lacks '%s'", err, want);
}

static void expect_ok(struct fixture *f, const struct hk_cred *cred, const struct build *o,
                      const struct hk_trust *t, X509 *pinned)
{
    char err[512];
    if (run(f, cred, o, t, pinned, err, sizeof(err)))
        fail_msg("auth_cert_verify: %s", err);
}

/* ---- round trips ---- */

static void rfc7427_round_trips(void **state)
{
    struct fixture *f = *state;
    /* The hash each key type must pick (RFC 7427 4, RFC 8420). */
    static const uint8_t want_aid_tail[NKEYS][2] = {
        {0x01, 0x01}, /* RSASSA-PSS: id-RSASSA-PSS OID ends 01 0a, checked below */
        {0x03, 0x02}, /* ecdsa-with-SHA256 */
        {0x03, 0x03}, /* ecdsa-with-SHA384 */
        {0x03, 0x04}, /* ecdsa-with-SHA512 */
        {0x2b, 0x65}, /* id-Ed25519 */
    };
    for (int i = 0; i < NKEYS; i++) {
        struct hk_cred *cred = cred_of(f->leaf[i].cert, f->leaf[i].key, f->inter.cert);
        struct build o = {0};
        struct wire w;
        build_wire(f, cred, &o, &w);
        assert_int_equal(w.auth->method, IKE_AUTH_DIGITAL_SIGNATURE);
        const uint8_t *d = w.auth->data.p;
        switch (i) {
        case K_RSA: /* A.4.3 in DER (no DEFAULT trailerField), hash OID id-sha256 */
            assert_int_equal(d[0], 67);
            assert_memory_equal(d + 1 + 4, "\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a", 9);
            assert_int_equal(d[1 + 29], 0x01); /* id-sha256 in hashAlgorithm */
            break;
        case K_ED:
            assert_int_equal(d[0], 7);
            assert_memory_equal(d + 5, want_aid_tail[i], 2);
            break;
        default:
            assert_int_equal(d[0], 12);
            assert_memory_equal(d + 11, want_aid_tail[i], 2);
        }
        /* CERT payloads: end entity first, then the intermediate; CERTREQ names the CA. */
        size_t from = 0;
        const struct ike_payload *c1 = ike_msg_find(&w.msg, IKE_PL_CERT, &from);
        const struct ike_payload *c2 = ike_msg_find(&w.msg, IKE_PL_CERT, &from);
        assert_non_null(c1);
        assert_non_null(c2);
        assert_int_equal(c1->u.cert.encoding, IKE_CERT_X509_SIG);
        X509 *x = hk_cert_from_der(c1->u.cert.data.p, c1->u.cert.data.len);
        assert_non_null(x);
        assert_int_equal(X509_cmp(x, f->leaf[i].cert), 0);
        X509_free(x);
        x = hk_cert_from_der(c2->u.cert.data.p, c2->u.cert.data.len);
        assert_int_equal(X509_cmp(x, f->inter.cert), 0);
        X509_free(x);
        from = 0;
        const struct ike_payload *cr = ike_msg_find(&w.msg, IKE_PL_CERTREQ, &from);
        assert_non_null(cr);
        assert_int_equal(cr->u.cert.encoding, IKE_CERT_X509_SIG);
        assert_int_equal(cr->u.cert.data.len, HK_CERTREQ_HASH_LEN);
        assert_memory_equal(cr->u.cert.data.p, f->trust->spki_sha1, HK_CERTREQ_HASH_LEN);

        char err[512] = "";
        int rc = auth_cert_verify(&f->c, f->trust, &w.msg, w.id, w.auth, f->octets,
                                  sizeof(f->octets), NULL, err, sizeof(err));
        if (rc)
            fail_msg("%s: %s", names[i], err);
        wire_free(&w);

        /* Other identities of the same certificate. */
        char email[64];
        snprintf(email, sizeof(email), "%s@hike.test", names[i]);
        uint8_t ip[4] = {192, 0, 2, (uint8_t)(i + 1)};
        struct build by_email = {
            .id_type = IKE_ID_RFC822_ADDR, .id = email, .idlen = strlen(email)};
        struct build by_ip = {.id_type = IKE_ID_IPV4_ADDR, .id = ip, .idlen = 4};
        expect_ok(f, cred, &by_email, f->trust, NULL);
        expect_ok(f, cred, &by_ip, f->trust, NULL);
        hk_cred_free(cred);
    }
}

static void dn_identity(void **state)
{
    struct fixture *f = *state;
    struct hk_cred *cred = cred_of(f->leaf[K_P256].cert, f->leaf[K_P256].key, f->inter.cert);
    struct hk_cbb body;
    assert_int_equal(hk_cbb_init(&body, 0, 0), 0);
    assert_int_equal(auth_cert_id_body(cred, &body), 0);
    assert_int_equal(body.buf[0], IKE_ID_DER_ASN1_DN);
    assert_int_equal(body.buf[1] | body.buf[2] | body.buf[3], 0);
    size_t len;
    uint8_t *der = cg_subject_der(f->leaf[K_P256].cert, &len);
    assert_int_equal(body.len, 4 + len);
    assert_memory_equal(body.buf + 4, der, len);
    OPENSSL_free(der);
    struct build o = {.id_type = IKE_ID_DER_ASN1_DN, .id = body.buf + 4, .idlen = body.len - 4};
    expect_ok(f, cred, &o, f->trust, NULL);
    hk_cbb_free(&body);
    hk_cred_free(cred);
}

static void classic_methods(void **state)
{
    struct fixture *f = *state;
    static const struct {
        int key;
        uint8_t method;
        size_t len; /* r | s */
    } ok[] = {{K_P256, IKE_AUTH_ECDSA_256, 64},
              {K_P384, IKE_AUTH_ECDSA_384, 96},
              {K_P521, IKE_AUTH_ECDSA_521, 132}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct hk_cred *cred = cred_of(f->leaf[ok[i].key].cert, f->leaf[ok[i].key].key, NULL);
        struct build o = {.rfc7427_off = true};
        struct wire w;
        build_wire(f, cred, &o, &w);
        assert_int_equal(w.auth->method, ok[i].method);
        assert_int_equal(w.auth->data.len, ok[i].len);
        char err[512] = "";
        /* Without the intermediate in CERT, it must come from the anchors: add it there. */
        X509 *anchors[] = {f->ca.cert, f->inter.cert};
        struct hk_trust *t;
        assert_int_equal(hk_trust_from_certs(anchors, 2, &t, err, sizeof(err)), 0);
        int rc = auth_cert_verify(&f->c, t, &w.msg, w.id, w.auth, f->octets, sizeof(f->octets),
                                  NULL, err, sizeof(err));
        if (rc)
            fail_msg("method %u: %s", ok[i].method, err);
        hk_trust_free(t);
        wire_free(&w);
        hk_cred_free(cred);
    }
    /* RSA (method 1 would be PKCS#1 v1.5 with SHA-1) and Ed25519 have nothing classic to sign. */
    int keys[] = {K_RSA, K_ED};
    for (size_t i = 0; i < 2; i++) {
        struct hk_cred *cred = cred_of(f->leaf[keys[i]].cert, f->leaf[keys[i]].key, NULL);
        struct hk_cbb b;
        uint8_t method = 0;
        char err[256] = "";
        assert_int_equal(hk_cbb_init(&b, 0, 0), 0);
        assert_int_equal(auth_cert_sign(&f->c, cred, false, f->octets, sizeof(f->octets), &method,
                                        &b, err, sizeof(err)),
                         HK_E_UNSUPPORTED);
        assert_non_null(strstr(err, "RFC 7427"));
        assert_int_equal(b.len, 0);
        hk_cbb_free(&b);
        hk_cred_free(cred);
    }
}

/* ---- failures ---- */

static void peer_failures(void **state)
{
    struct fixture *f = *state;
    struct hk_cred *cred = cred_of(f->leaf[K_P256].cert, f->leaf[K_P256].key, f->inter.cert);
    struct hk_cred *rsa = cred_of(f->leaf[K_RSA].cert, f->leaf[K_RSA].key, f->inter.cert);
    char err[512];

    /* Tampered octets: the signature no longer covers them. */
    struct wire w;
    struct build plain = {0};
    build_wire(f, cred, &plain, &w);
    f->octets[17] ^= 0x01;
    assert_int_equal(auth_cert_verify(&f->c, f->trust, &w.msg, w.id, w.auth, f->octets,
                                      sizeof(f->octets), NULL, err, sizeof(err)),
                     HK_E_AUTH);
    f->octets[17] ^= 0x01;
    assert_non_null(strstr(err, "not a valid signature by the EC key of CN=p256.hike.test"));
    wire_free(&w);

    /* An identity that is not in the certificate (2.15: the ID must be bound to the key). */
    struct build wrong_id = {.id = "rsa.hike.test", .idlen = 13};
    expect_fail(f, cred, &wrong_id, f->trust, NULL, "ID fqdn:rsa.hike.test is not in certificate");
    uint8_t ip[4] = {192, 0, 2, 99};
    struct build wrong_ip = {.id_type = IKE_ID_IPV4_ADDR, .id = ip, .idlen = 4};
    expect_fail(f, cred, &wrong_ip, f->trust, NULL, "ID ipv4:192.0.2.99 is not in certificate");
    struct build hostile = {.id = "evil\n\x01.test", .idlen = 11};
    expect_fail(f, cred, &hostile, f->trust, NULL, "ID fqdn:evil??.test");

    /* Untrusted CA: a good chain, but to an anchor we do not have. */
    expect_fail(f, cred, &plain, f->other_trust, NULL, "no trust anchor for issuer CN=Test CA");
    /* A certificate from another CA, same name as a good one. */
    struct hk_cred *stranger = cred_of(f->stranger.cert, f->stranger.key, NULL);
    expect_fail(f, stranger, &plain, f->trust, NULL, "no trust anchor for issuer CN=Other CA");
    hk_cred_free(stranger);

    /* Expired end entity. */
    struct hk_cred *old = cred_of(f->expired.cert, f->expired.key, f->inter.cert);
    expect_fail(f, old, &plain, f->trust, NULL, "certificate CN=old.hike.test not valid: expired");
    hk_cred_free(old);

    /* Missing intermediate. */
    struct hk_cred *alone = cred_of(f->leaf[K_P256].cert, f->leaf[K_P256].key, NULL);
    expect_fail(f, alone, &plain, f->trust, NULL,
                "no trust anchor for issuer CN=Test Intermediate");
    hk_cred_free(alone);

    /* Wrong key: signed by a key that is not the certificate's. */
    struct build wrong_key = {.sign_key = f->leaf[K_P384].key};
    expect_fail(f, cred, &wrong_key, f->trust, NULL, "not a valid signature");
    struct build wrong_type = {.sign_key = f->leaf[K_ED].key};
    expect_fail(f, rsa, &wrong_type, f->trust, NULL, "not a valid signature by the RSA key");

    /* Garbage and truncated CERT data. */
    struct build garbage = {.tamper_cert = 1};
    expect_fail(f, cred, &garbage, f->trust, NULL,
                "end-entity certificate (8 octets) is not a DER");
    struct build short_cert = {.truncate_cert = 1};
    expect_fail(f, cred, &short_cert, f->trust, NULL, "is not a DER X.509 certificate");
    struct build bad_inter = {.tamper_cert = 2};
    expect_fail(f, cred, &bad_inter, f->trust, NULL, "intermediate certificate 1 (8 octets)");

    /* No certificate at all, or only in an encoding we do not take. */
    struct build none = {.no_certs = true};
    expect_fail(f, cred, &none, f->trust, NULL, "the peer sent no certificate");
    struct build hash_url = {.cert_encoding = IKE_CERT_HASH_URL_X509};
    expect_fail(f, cred, &hash_url, f->trust, NULL, "CERT encoding 12 is not supported");
    struct build flood = {.extra_certs = AUTH_CERT_MAX_CERTS};
    expect_fail(f, cred, &flood, f->trust, NULL, "more than 16 CERT payloads");

    /* AUTH methods: PSK where a certificate is expected; a classic method over RFC 7427 data. */
    struct build psk = {.method = IKE_AUTH_SHARED_KEY};
    expect_fail(f, cred, &psk, f->trust, NULL, "AUTH method 2 is not a signature method");
    struct build mismatch = {.method = IKE_AUTH_ECDSA_256};
    expect_fail(f, cred, &mismatch, f->trust, NULL, "malformed AUTH data for method 9");
    struct build rsa_as_1 = {.method = IKE_AUTH_RSA_SIG};
    expect_fail(f, rsa, &rsa_as_1, f->trust, NULL, "not a valid signature by the RSA key");

    /* Key usage without digitalSignature. */
    struct hk_cred *enc = cred_of(f->enc_only.cert, f->enc_only.key, f->inter.cert);
    expect_fail(f, enc, &plain, f->trust, NULL, "key usage does not allow signatures");
    hk_cred_free(enc);

    /* Nothing to trust. */
    expect_fail(f, cred, &plain, NULL, NULL, "no trust anchors or pinned certificate");

    hk_cred_free(rsa);
    hk_cred_free(cred);
}

static void pinned_certificate(void **state)
{
    struct fixture *f = *state;
    struct hk_cred *cred = cred_of(f->leaf[K_P384].cert, f->leaf[K_P384].key, f->inter.cert);
    struct build plain = {0}, none = {.no_certs = true};
    X509 *pin = f->leaf[K_P384].cert, *other = f->leaf[K_P256].cert;
    /* The pin alone, the pin with anchors, and a peer that relies on us having its cert. */
    expect_ok(f, cred, &plain, NULL, pin);
    expect_ok(f, cred, &plain, f->trust, pin);
    expect_ok(f, cred, &none, NULL, pin);
    /* With anchors too, the pin must chain to them, with no intermediates from the peer. */
    expect_fail(f, cred, &none, f->trust, pin, "no trust anchor for issuer CN=Test Intermediate");
    X509 *anchors[] = {f->ca.cert, f->inter.cert};
    struct hk_trust *t;
    char err[128];
    assert_int_equal(hk_trust_from_certs(anchors, 2, &t, err, sizeof(err)), 0);
    expect_ok(f, cred, &none, t, pin);
    hk_trust_free(t);
    expect_fail(f, cred, &plain, NULL, other, "CN=p384.hike.test,O=hike test is not the pinned");
    expect_fail(f, cred, &plain, f->trust, other, "is not the pinned certificate");
    expect_fail(f, cred, &none, NULL, other, "is not in certificate CN=p256.hike.test");
    /* The pin does not outlive its certificate. */
    struct hk_cred *old = cred_of(f->expired.cert, f->expired.key, NULL);
    expect_fail(f, old, &plain, NULL, f->expired.cert, "expired");
    hk_cred_free(old);
    /* Nor replaces the chain check when anchors are configured. */
    expect_fail(f, cred, &none, f->other_trust, pin, "no trust anchor");
    hk_cred_free(cred);
}

static void payload_builders(void **state)
{
    struct fixture *f = *state;
    struct hk_cred *cred = cred_of(f->leaf[K_RSA].cert, f->leaf[K_RSA].key, f->inter.cert);
    struct hk_arena a;
    struct ike_payload pl[3];
    size_t n = 2;
    hk_arena_init(&a, 0);
    /* No room for two CERTs after two payloads: nothing appended. */
    assert_int_equal(auth_cert_payloads(cred, &a, pl, 3, &n), HK_E_OVERFLOW);
    assert_int_equal(n, 2);
    n = 1;
    assert_int_equal(auth_cert_payloads(cred, &a, pl, 3, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(pl[1].type, IKE_PL_CERT);
    assert_int_equal(pl[2].type, IKE_PL_CERT);
    size_t len;
    uint8_t *der = cg_der(f->leaf[K_RSA].cert, &len);
    assert_int_equal(pl[1].u.cert.data.len, len);
    assert_memory_equal(pl[1].u.cert.data.p, der, len);
    OPENSSL_free(der);
    /* CERTREQ: one hash per anchor; none without anchors. */
    X509 *anchors[] = {f->ca.cert, f->other_ca.cert};
    struct hk_trust *t;
    char err[128];
    assert_int_equal(hk_trust_from_certs(anchors, 2, &t, err, sizeof(err)), 0);
    assert_int_equal(auth_certreq_payload(t, &a, &pl[0]), 0);
    assert_int_equal(pl[0].type, IKE_PL_CERTREQ);
    assert_int_equal(pl[0].u.cert.data.len, 2 * HK_CERTREQ_HASH_LEN);
    assert_int_equal(auth_certreq_payload(NULL, &a, &pl[0]), HK_E_NOTFOUND);
    hk_trust_free(t);
    hk_arena_free(&a);
    hk_cred_free(cred);
}

/* Credentials loaded from files sign what the codec carries (the path hiked takes). */
static void loaded_credential(void **state)
{
    struct fixture *f = *state;
    char dir[512], cert[600], key[600], chain[600], ca[600], err[256];
    assert_non_null(cg_tmpdir(dir, sizeof(dir)));
    snprintf(cert, sizeof(cert), "%s/ed.pem", dir);
    snprintf(key, sizeof(key), "%s/ed.key", dir);
    snprintf(chain, sizeof(chain), "%s/inter.pem", dir);
    snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
    assert_int_equal(cg_write_pem_certs(cert, &f->leaf[K_ED].cert, 1), 0);
    assert_int_equal(cg_write_pem_key(key, f->leaf[K_ED].key), 0);
    assert_int_equal(cg_write_pem_certs(chain, &f->inter.cert, 1), 0);
    assert_int_equal(cg_write_pem_certs(ca, &f->ca.cert, 1), 0);
    struct hk_cred *cred;
    struct hk_trust *t;
    char *chains[] = {chain}, *cas[] = {ca};
    assert_int_equal(hk_cred_load(cert, key, chains, 1, &cred, err, sizeof(err)), 0);
    assert_int_equal(hk_trust_load(cas, 1, &t, err, sizeof(err)), 0);
    struct build plain = {0};
    expect_ok(f, cred, &plain, t, NULL);
    hk_trust_free(t);
    hk_cred_free(cred);
    cg_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc7427_round_trips), cmocka_unit_test(dn_identity),
        cmocka_unit_test(classic_methods),     cmocka_unit_test(peer_failures),
        cmocka_unit_test(pinned_certificate),  cmocka_unit_test(payload_builders),
        cmocka_unit_test(loaded_credential),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
