/*
 * Fuzzes certificate authentication: chain building and verification against a trust anchor
 * (hk_cert_verify), the CERT payload handling of auth_cert_verify (end entity, intermediates,
 * other encodings, key usage, the ID bound to the certificate, the signature), identity
 * matching (hk_cert_matches_id for every ID type, subject strings) and identities as the
 * configuration writes them (hk_id_parse, DNs to DER).
 *
 * Input: octet 0 flags (bit 0: the anchor is also the pinned certificate), octet 1 the ID
 * type, octet 2 the AUTH method, then length-prefixed blobs (2 octets big-endian each): the
 * trust anchor (DER), the ID data, the AUTH data, then CERT payloads (first octet the
 * encoding, the rest its data). Seeds are real chains with a valid signature (certgen at
 * run time: FUZZ_CERT_SEEDS=DIR writes them and exits); they were made with 20 years of
 * validity, so verification runs past the time check.
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/cbb.h"
#include "config/id_conf.h"
#include "crypto/auth.h"
#include "crypto/x509.h"
#include "fw_world.h"
#include "ike/auth_cert.h"
#include "unit/certgen.h"

#define MAX_BLOBS 20
static const uint8_t octets[] = "the octets an AUTH payload signs (RFC 7296 2.15)";

struct blob {
    const uint8_t *p;
    size_t len;
};

static size_t split(const uint8_t *d, size_t n, struct blob *b, size_t max)
{
    size_t k = 0;
    while (k < max && n >= 2) {
        size_t len = (size_t)d[0] << 8 | d[1];
        d += 2;
        n -= 2;
        if (len > n)
            len = n;
        b[k++] = (struct blob){d, len};
        d += len;
        n -= len;
    }
    return k;
}

static void id_checks(X509 *leaf, uint8_t type, const struct blob *id)
{
    char buf[256];
    uint8_t *der = NULL;
    size_t len = 0;
    hk_cert_subject_str(leaf, buf, sizeof(buf));
    if (!hk_cert_subject_der(leaf, &der, &len)) {
        if (!hk_cert_matches_id(leaf, 9, der, len))
            abort(); /* a certificate's own subject names it */
        free(der);
    }
    hk_cert_matches_id(leaf, type, id->p, id->len);
    /* The ID data as a configuration string: "dn:...", "fqdn:...", an address. */
    char *s = malloc(id->len + 1);
    if (!s)
        abort();
    memcpy(s, id->p, id->len);
    s[id->len] = '\0';
    struct hk_id_conf ic = {0};
    char err[256];
    if (!hk_id_parse(s, &ic, err, sizeof(err))) {
        if (ic.type != HK_ID_AUTO && ic.type != HK_ID_ANY)
            hk_cert_matches_id(leaf, (uint8_t)ic.type, ic.data, ic.len);
        hk_id_conf_free(&ic);
    }
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct blob b[MAX_BLOBS];
    char err[256];
    if (size < 3)
        return 0;
    uint8_t flags = data[0], idtype = data[1], method = data[2];
    size_t nb = split(data + 3, size - 3, b, MAX_BLOBS);
    if (nb < 3)
        return 0;
    X509 *anchor = hk_cert_from_der(b[0].p, b[0].len);
    struct hk_trust *t = NULL;
    if (anchor && hk_trust_from_certs(&anchor, 1, &t, err, sizeof(err)))
        t = NULL;

    /* The peer's CERT payloads in a message, as the IKE_AUTH handler hands them over. */
    struct ike_payload pl[MAX_BLOBS];
    struct hk_der_view inter[MAX_BLOBS];
    size_t npl = 0, ninter = 0;
    for (size_t i = 3; i < nb; i++) {
        if (!b[i].len)
            continue;
        pl[npl] = (struct ike_payload){.type = IKE_PL_CERT};
        pl[npl].u.cert.encoding = b[i].p[0];
        pl[npl].u.cert.data = (struct ike_view){b[i].p + 1, b[i].len - 1};
        if (npl > 0)
            inter[ninter++] = (struct hk_der_view){b[i].p + 1, b[i].len - 1};
        npl++;
    }
    struct ike_msg m = {.npayloads = npl, .payloads = pl};
    struct ike_pl_id id = {.type = idtype, .data = {b[1].p, b[1].len}};
    struct ike_pl_auth auth = {.method = method, .data = {b[2].p, b[2].len}};
    if (t || ((flags & 1) && anchor)) {
        int rc = auth_cert_verify(fw_crypto(), t, &m, &id, &auth, octets, sizeof(octets),
                                  (flags & 1) ? anchor : NULL, NULL, err, sizeof(err));
        if (rc && !memchr(err, 0, sizeof(err)))
            abort();
        if (getenv("FUZZ_VERBOSE"))
            fprintf(stderr, "auth_cert_verify: %s\n", rc ? err : "ok");
    }

    /* The chain on its own, at a time inside the seeds' validity. */
    if (t && npl) {
        X509 *leaf = NULL;
        const struct ike_view *ee = &pl[0].u.cert.data;
        if (!hk_cert_verify(t, ee->p, ee->len, inter, ninter, 0, &leaf, err, sizeof(err))) {
            id_checks(leaf, idtype, &b[1]);
            X509_free(leaf);
        }
    }
    /* Identity matching on any certificate that parses, verified or not. */
    for (size_t i = 0; i < npl; i++) {
        X509 *x = hk_cert_from_der(pl[i].u.cert.data.p, pl[i].u.cert.data.len);
        if (x) {
            id_checks(x, idtype, &b[1]);
            X509_free(x);
        }
    }
    hk_trust_free(t);
    X509_free(anchor);
    return 0;
}

/* ---- seeds ---- */

static void put_blob(struct hk_cbb *out, const void *p, size_t len)
{
    hk_cbb_add_u16(out, (uint16_t)len);
    hk_cbb_add_bytes(out, p, len);
}

static void put_cert(struct hk_cbb *out, X509 *x)
{
    size_t len;
    uint8_t *der = cg_der(x, &len);
    hk_cbb_add_u16(out, (uint16_t)(len + 1));
    hk_cbb_add_u8(out, 4); /* X.509 Certificate - Signature */
    hk_cbb_add_bytes(out, der, len);
    OPENSSL_free(der);
}

static void seed(const char *dir, const char *name, enum cg_key_type kt, uint8_t idtype,
                 const char *idtext, size_t idlen, const char *san, bool with_inter, bool rfc7427)
{
    const long life = 20L * 365 * 24 * 3600;
    struct cg_ent ca, inter, leaf;
    if (cg_ca(&ca, CG_P256, "hike fuzz CA") ||
        (with_inter && cg_issue(&inter, &ca, CG_P256, "CN=hike fuzz intermediate,O=hike test", NULL,
                                true, -60, life)) ||
        cg_issue(&leaf, with_inter ? &inter : &ca, kt, "CN=gw.example.net,O=hike test,C=CH", san,
                 false, -60, life))
        abort();
    struct hk_cred cred = {.cert = leaf.cert, .key = leaf.key};
    struct hk_cbb sig, out;
    uint8_t method = 0;
    char err[256];
    hk_cbb_init(&sig, 512, 0);
    hk_cbb_init(&out, 4096, 0);
    if (auth_cert_sign(fw_crypto(), &cred, rfc7427, octets, sizeof(octets), &method, &sig, err,
                       sizeof(err)))
        abort();
    hk_cbb_add_u8(&out, 0);
    hk_cbb_add_u8(&out, idtype);
    hk_cbb_add_u8(&out, method);
    size_t calen;
    uint8_t *cader = cg_der(ca.cert, &calen);
    put_blob(&out, cader, calen);
    OPENSSL_free(cader);
    if (idtype == 9) {
        size_t len;
        uint8_t *der = cg_subject_der(leaf.cert, &len);
        put_blob(&out, der, len);
        OPENSSL_free(der);
    } else {
        put_blob(&out, idtext, idlen ? idlen : strlen(idtext));
    }
    put_blob(&out, sig.buf, sig.len);
    put_cert(&out, leaf.cert);
    if (with_inter)
        put_cert(&out, inter.cert);
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (hk_cbb_err(&out) || cg_write_file(path, out.buf, out.len))
        abort();
    hk_cbb_free(&sig);
    hk_cbb_free(&out);
    cg_ent_free(&leaf);
    if (with_inter)
        cg_ent_free(&inter);
    cg_ent_free(&ca);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *dir = getenv("FUZZ_CERT_SEEDS");
    if (!dir)
        return 0;
    seed(dir, "p256_dn_chain", CG_P256, 9, NULL, 0, NULL, true, true);
    seed(dir, "p256_fqdn", CG_P256, 2, "gw.example.net", 0, "DNS:gw.example.net", false, true);
    seed(dir, "p384_ipv4", CG_P384, 1, "\xc0\x00\x02\x01", 4, "IP:192.0.2.1", true, false);
    seed(dir, "rsa_email", CG_RSA2048, 3, "gw@example.net", 0, "email:gw@example.net", true, true);
    seed(dir, "ed25519_ipv6", CG_ED25519, 5,
         "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01", 16,
         "IP:2001:db8::1,DNS:gw.example.net", false, true);
    seed(dir, "p256_dn_string", CG_P256, 2, "dn:CN=gw.example.net,O=hike test,C=CH", 0, NULL, true,
         false);
    exit(0);
}
