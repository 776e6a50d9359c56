/*
 * Writes a throw-away test PKI into a directory, for shell tests (daemon, interop): a CA,
 * optionally an intermediate, and end-entity certificates with their keys, all PEM (keys in
 * unencrypted PKCS#8). Made at run time, so no key is ever committed.
 *
 * usage: certgen_tool [-k rsa|p256|p384|p521|ed25519] [-c CA-KEY-TYPE] [-i] [-d DAYS]
 *                     OUTDIR [NAME[=SAN]]...
 *
 *   OUTDIR/ca.pem, ca.key        the CA ("CN=hike test CA,O=hike test")
 *   OUTDIR/inter.pem, inter.key  with -i: an intermediate CA that issues the end entities
 *   OUTDIR/NAME.pem, NAME.key    an end entity "CN=NAME,O=hike test" with subjectAltName SAN
 *                                (OpenSSL syntax, default "DNS:NAME"); NAME.pem holds only
 *                                the end entity, send inter.pem along as the chain
 * OUTDIR is created when missing (one level). Without NAMEs: gw.hike.test and client.hike.test. -k:
 * end-entity keys (default p256), -c: CA keys (default p256), -d: end-entity validity in days
 * (default 30).
 */
#include "../unit/certgen.c"

#include <errno.h>
#include <getopt.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    fprintf(stderr, "usage: certgen_tool [-k rsa|p256|p384|p521|ed25519] [-c CA-KEY-TYPE] [-i] "
                    "[-d DAYS] OUTDIR [NAME[=SAN]]...\n");
    exit(2);
}

static int write_ent(const char *dir, const char *name, const struct cg_ent *e)
{
    char cert[4096], key[4096];
    if ((size_t)snprintf(cert, sizeof(cert), "%s/%s.pem", dir, name) >= sizeof(cert) ||
        (size_t)snprintf(key, sizeof(key), "%s/%s.key", dir, name) >= sizeof(key))
        return -1;
    if (cg_write_pem_certs(cert, &e->cert, 1) || cg_write_pem_key(key, e->key)) {
        fprintf(stderr, "certgen_tool: cannot write %s or %s\n", cert, key);
        return -1;
    }
    printf("%s\n%s\n", cert, key);
    return 0;
}

int main(int argc, char **argv)
{
    int ee_type = CG_P256, ca_type = CG_P256, opt;
    bool inter = false;
    long days = 30;
    while ((opt = getopt(argc, argv, "k:c:id:h")) != -1) {
        switch (opt) {
        case 'k':
            if ((ee_type = cg_key_type_parse(optarg)) < 0)
                usage();
            break;
        case 'c':
            if ((ca_type = cg_key_type_parse(optarg)) < 0)
                usage();
            break;
        case 'i':
            inter = true;
            break;
        case 'd':
            days = strtol(optarg, NULL, 10);
            if (days <= 0)
                usage();
            break;
        default:
            usage();
        }
    }
    if (optind >= argc)
        usage();
    const char *dir = argv[optind++];
    if (mkdir(dir, 0700) && errno != EEXIST) {
        fprintf(stderr, "certgen_tool: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    static const char *const defaults[] = {"gw.hike.test", "client.hike.test"};
    const char *const *names = optind < argc ? (const char *const *)&argv[optind] : defaults;
    int nnames = optind < argc ? argc - optind : 2;

    struct cg_ent ca = {0}, mid = {0};
    const struct cg_ent *issuer = &ca;
    int rc = 1;
    if (cg_ca(&ca, (enum cg_key_type)ca_type, "hike test CA") || write_ent(dir, "ca", &ca))
        goto out;
    if (inter) {
        if (cg_issue(&mid, &ca, (enum cg_key_type)ca_type, "CN=hike test intermediate,O=hike test",
                     NULL, true, -86400, 29L * 86400) ||
            write_ent(dir, "inter", &mid))
            goto out;
        issuer = &mid;
    }
    for (int i = 0; i < nnames; i++) {
        char name[256], subject[300], san[600];
        const char *eq = strchr(names[i], '=');
        size_t nl = eq ? (size_t)(eq - names[i]) : strlen(names[i]);
        if (!nl || nl >= sizeof(name) || strchr(names[i], '/'))
            usage();
        memcpy(name, names[i], nl);
        name[nl] = '\0';
        snprintf(subject, sizeof(subject), "CN=%s,O=hike test", name);
        snprintf(san, sizeof(san), "%s%s", eq ? "" : "DNS:", eq ? eq + 1 : name);
        struct cg_ent e;
        if (cg_issue(&e, issuer, (enum cg_key_type)ee_type, subject, san, false, -86400,
                     days * 86400)) {
            fprintf(stderr, "certgen_tool: cannot make a certificate for %s (SAN %s)\n", name, san);
            goto out;
        }
        int w = write_ent(dir, name, &e);
        cg_ent_free(&e);
        if (w)
            goto out;
    }
    rc = 0;
out:
    cg_ent_free(&ca);
    cg_ent_free(&mid);
    return rc;
}
