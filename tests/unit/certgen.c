#include "certgen.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

EVP_PKEY *cg_key_new(enum cg_key_type t)
{
    switch (t) {
    case CG_RSA2048:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    case CG_P256:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    case CG_P384:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    case CG_P521:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
    case CG_ED25519:
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    case CG_RSA1024:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    }
    return NULL;
}

int cg_key_type_parse(const char *s)
{
    static const char *const names[] = {"rsa", "p256", "p384", "p521", "ed25519", "rsa1024"};
    for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

/* "CN=a,O=b,C=c" (RFC 4514: most specific first) to a Name whose first RDN is C. */
static X509_NAME *parse_name(const char *s)
{
    X509_NAME *n = X509_NAME_new();
    char *copy = strdup(s), *save = NULL;
    if (!n || !copy)
        goto fail;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            goto fail;
        *eq = '\0';
        while (*tok == ' ')
            tok++;
        /* Each new RDN goes in front, which reverses the string's order as X.509 wants. */
        if (!X509_NAME_add_entry_by_txt(n, tok, MBSTRING_UTF8, (const unsigned char *)eq + 1, -1, 0,
                                        0))
            goto fail;
    }
    free(copy);
    return n;
fail:
    free(copy);
    X509_NAME_free(n);
    return NULL;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    int ok = e && X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    return ok ? 0 : -1;
}

X509 *cg_cert_new(const struct cg_spec *s)
{
    X509 *x = X509_new();
    X509_NAME *name = parse_name(s->subject);
    BIGNUM *serial = BN_new();
    EVP_PKEY *signer = s->issuer ? s->issuer_key : s->key;
    X509V3_CTX ctx;
    if (!x || !name || !serial || !signer || !s->key)
        goto fail;
    if (!X509_set_version(x, X509_VERSION_3) ||
        !BN_rand(serial, 63, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
        !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) || !X509_set_subject_name(x, name) ||
        !X509_set_issuer_name(x, s->issuer ? X509_get_subject_name(s->issuer) : name) ||
        !X509_gmtime_adj(X509_getm_notBefore(x), s->not_before) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), s->not_after ? s->not_after : 86400) ||
        !X509_set_pubkey(x, s->key))
        goto fail;
    X509V3_set_ctx(&ctx, s->issuer ? s->issuer : x, x, NULL, NULL, 0);
    const char *ku = s->key_usage ? s->key_usage
                     : s->ca      ? "critical,keyCertSign,cRLSign"
                                  : "critical,digitalSignature";
    if (add_ext(x, &ctx, NID_basic_constraints, s->ca ? "critical,CA:TRUE" : "critical,CA:FALSE") ||
        (!s->no_key_usage && add_ext(x, &ctx, NID_key_usage, ku)) ||
        add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
        (s->issuer && add_ext(x, &ctx, NID_authority_key_identifier, "keyid")) ||
        (s->san && add_ext(x, &ctx, NID_subject_alt_name, s->san)) ||
        (s->eku && add_ext(x, &ctx, NID_ext_key_usage, s->eku)))
        goto fail;
    if (!X509_sign(x, signer, EVP_PKEY_is_a(signer, "ED25519") ? NULL : EVP_sha256()))
        goto fail;
    X509_NAME_free(name);
    BN_free(serial);
    return x;
fail:
    ERR_print_errors_fp(stderr);
    X509_free(x);
    X509_NAME_free(name);
    BN_free(serial);
    return NULL;
}

int cg_ca(struct cg_ent *out, enum cg_key_type t, const char *name)
{
    char subject[256];
    snprintf(subject, sizeof(subject), "CN=%s,O=hike test", name);
    out->cert = NULL;
    if (!(out->key = cg_key_new(t)))
        return -1;
    struct cg_spec s = {.subject = subject,
                        .key = out->key,
                        .ca = true,
                        .not_before = -7L * 86400,
                        .not_after = 30L * 86400};
    if (!(out->cert = cg_cert_new(&s))) {
        cg_ent_free(out);
        return -1;
    }
    return 0;
}

int cg_issue(struct cg_ent *out, const struct cg_ent *issuer, enum cg_key_type t,
             const char *subject, const char *san, bool ca, long not_before, long not_after)
{
    out->cert = NULL;
    if (!(out->key = cg_key_new(t)))
        return -1;
    struct cg_spec s = {.subject = subject,
                        .san = san,
                        .key = out->key,
                        .issuer = issuer->cert,
                        .issuer_key = issuer->key,
                        .ca = ca,
                        .not_before = not_before,
                        .not_after = not_after};
    if (!(out->cert = cg_cert_new(&s))) {
        cg_ent_free(out);
        return -1;
    }
    return 0;
}

void cg_ent_free(struct cg_ent *e)
{
    X509_free(e->cert);
    EVP_PKEY_free(e->key);
    e->cert = NULL;
    e->key = NULL;
}

uint8_t *cg_der(X509 *x, size_t *len)
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    *len = n > 0 ? (size_t)n : 0;
    return n > 0 ? der : NULL;
}

uint8_t *cg_subject_der(X509 *x, size_t *len)
{
    unsigned char *der = NULL;
    int n = i2d_X509_NAME(X509_get_subject_name(x), &der);
    *len = n > 0 ? (size_t)n : 0;
    return n > 0 ? der : NULL;
}

static int write_mode(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int rc = fwrite(data, 1, len, f) == len ? 0 : -1;
    if (fclose(f))
        rc = -1;
    return rc;
}

int cg_write_file(const char *path, const void *data, size_t len)
{
    return write_mode(path, data, len, 0644);
}

static int write_bio(const char *path, BIO *b, mode_t mode)
{
    char *p;
    long n = BIO_get_mem_data(b, &p);
    return n > 0 ? write_mode(path, p, (size_t)n, mode) : -1;
}

int cg_write_pem_certs(const char *path, X509 *const *certs, size_t n)
{
    BIO *b = BIO_new(BIO_s_mem());
    int rc = b ? 0 : -1;
    for (size_t i = 0; !rc && i < n; i++)
        if (!PEM_write_bio_X509(b, certs[i]))
            rc = -1;
    if (!rc)
        rc = write_bio(path, b, 0644);
    BIO_free(b);
    return rc;
}

int cg_write_der_cert(const char *path, X509 *x)
{
    size_t len;
    uint8_t *der = cg_der(x, &len);
    int rc = der ? cg_write_file(path, der, len) : -1;
    OPENSSL_free(der);
    return rc;
}

int cg_write_pem_key(const char *path, EVP_PKEY *k)
{
    BIO *b = BIO_new(BIO_s_mem());
    int rc = b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) ? 0 : -1;
    if (!rc)
        rc = write_bio(path, b, 0600);
    BIO_free(b);
    return rc;
}

int cg_write_der_key(const char *path, EVP_PKEY *k)
{
    unsigned char *der = NULL;
    int n = i2d_PrivateKey(k, &der);
    int rc = n > 0 ? write_mode(path, der, (size_t)n, 0600) : -1;
    OPENSSL_clear_free(der, n > 0 ? (size_t)n : 0);
    return rc;
}

char *cg_tmpdir(char *buf, size_t len)
{
    const char *base = getenv("HIKE_TEST_OUT");
    if (!base || !*base)
        base = "/tmp";
    if ((size_t)snprintf(buf, len, "%s/certgen-XXXXXX", base) >= len)
        return NULL;
    return mkdtemp(buf);
}

void cg_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];
    if (!d)
        return;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}
