/*
 * A test PKI made at run time with the OpenSSL API, so that no key file is committed: keys of
 * every type hike signs with, CA / intermediate / end-entity certificates with a given subject,
 * subjectAltNames and validity, and writers to PEM or DER files. Used by the unit tests and by
 * tests/tools/certgen_tool.c. Functions return NULL or -1 on failure.
 */
#ifndef HIKE_TESTS_CERTGEN_H
#define HIKE_TESTS_CERTGEN_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cg_key_type {
    CG_RSA2048,
    CG_P256,
    CG_P384,
    CG_P521,
    CG_ED25519,
    CG_RSA1024, /* too weak for hike's defaults: for the tests that refuse it */
};

/* A fresh key pair. */
EVP_PKEY *cg_key_new(enum cg_key_type t);
/* "rsa", "p256", "p384", "p521", "ed25519", "rsa1024" to the type; -1 when unknown. */
int cg_key_type_parse(const char *s);

struct cg_spec {
    const char *subject; /* RFC 4514 order, most specific first: "CN=gw,O=hike test,C=CH" */
    const char *san;     /* OpenSSL syntax ("DNS:gw.test,IP:192.0.2.1,email:a@b.test"), or NULL */
    EVP_PKEY *key;       /* the subject's key (only its public half goes in) */
    X509 *issuer;        /* NULL: self-signed by key */
    EVP_PKEY *issuer_key;
    bool ca;               /* basicConstraints CA:TRUE and keyCertSign; else digitalSignature */
    long not_before;       /* seconds from now; negative is in the past */
    long not_after;        /* seconds from now; 0 means one day */
    bool no_key_usage;     /* leave keyUsage out */
    const char *key_usage; /* overrides the keyUsage value ("keyEncipherment") */
    const char *eku;       /* extendedKeyUsage ("serverAuth,1.3.6.1.5.5.7.3.17"), or NULL */
};

/* A certificate as specified, signed with SHA-256 (Ed25519: pure). */
X509 *cg_cert_new(const struct cg_spec *s);

/* A certificate and its key, owned together. */
struct cg_ent {
    X509 *cert;
    EVP_PKEY *key;
};
/* A self-signed CA "CN=<name>,O=hike test" with a new key of type t. */
int cg_ca(struct cg_ent *out, enum cg_key_type t, const char *name);
/* A certificate issued by issuer, with a new key of type t (CA when ca). */
int cg_issue(struct cg_ent *out, const struct cg_ent *issuer, enum cg_key_type t,
             const char *subject, const char *san, bool ca, long not_before, long not_after);
void cg_ent_free(struct cg_ent *e);

/* The DER of a certificate (free with OPENSSL_free). */
uint8_t *cg_der(X509 *x, size_t *len);
/* The DER of the subject name, as in the certificate (OPENSSL_free). */
uint8_t *cg_subject_der(X509 *x, size_t *len);

/* Writers; 0 or -1. PEM certificate files may hold several certificates. */
int cg_write_pem_certs(const char *path, X509 *const *certs, size_t n);
int cg_write_der_cert(const char *path, X509 *x);
int cg_write_pem_key(const char *path, EVP_PKEY *k); /* PKCS#8, unencrypted */
int cg_write_der_key(const char *path, EVP_PKEY *k);
int cg_write_file(const char *path, const void *data, size_t len);

/* A new directory for test files (under $HIKE_TEST_OUT or /tmp) into buf, or NULL. */
char *cg_tmpdir(char *buf, size_t len);
/* Removes the files a test wrote into dir and dir itself (one level, no recursion). */
void cg_rmdir(const char *dir);

#endif
