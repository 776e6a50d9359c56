#include "config/id_conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/err.h"
#include "config/conf_err.h"

#define ID_MAX    255 /* longest identity value we accept, in octets */
#define DN_MAX_AV 32  /* attribute-value pairs in one DN */

static const struct {
    const char *prefix;
    enum hk_id_type type;
} prefixes[] = {
    {"ipv4", HK_ID_IPV4},    {"ipv6", HK_ID_IPV6},     {"fqdn", HK_ID_FQDN},
    {"email", HK_ID_RFC822}, {"rfc822", HK_ID_RFC822}, {"keyid", HK_ID_KEY_ID},
    {"dn", HK_ID_DN},
};

const char *hk_id_type_name(enum hk_id_type t)
{
    switch (t) {
    case HK_ID_AUTO:
        return "auto";
    case HK_ID_IPV4:
        return "ipv4";
    case HK_ID_FQDN:
        return "fqdn";
    case HK_ID_RFC822:
        return "email";
    case HK_ID_IPV6:
        return "ipv6";
    case HK_ID_DN:
        return "dn";
    case HK_ID_KEY_ID:
        return "keyid";
    case HK_ID_ANY:
        return "%any";
    }
    return "?";
}

void hk_id_conf_free(struct hk_id_conf *id)
{
    if (!id)
        return;
    free(id->text);
    free(id->data);
    memset(id, 0, sizeof(*id));
}

int hk_id_conf_copy(struct hk_id_conf *dst, const struct hk_id_conf *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->type = src->type;
    dst->len = src->len;
    if (src->text && !(dst->text = strdup(src->text)))
        goto nomem;
    if (src->data) {
        if (!(dst->data = malloc(src->len ? src->len : 1)))
            goto nomem;
        memcpy(dst->data, src->data, src->len);
    }
    return 0;
nomem:
    hk_id_conf_free(dst);
    return HK_E_NOMEM;
}

static bool printable_name(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || *s == 0x7f)
            return false;
    return true;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int parse_keyid(const char *v, struct hk_id_conf *out, char *err, size_t errlen)
{
    uint8_t buf[ID_MAX];
    size_t n = 0;
    int hi = -1;
    for (const char *p = v; *p; p++) {
        if (*p == ':' && hi < 0)
            continue;
        int x = hexval((unsigned char)*p);
        if (x < 0)
            return hk_conf_errf(err, errlen, "key ID '%.64s' is not hex", v);
        if (hi < 0) {
            hi = x;
            continue;
        }
        if (n == sizeof(buf))
            return hk_conf_errf(err, errlen, "key ID longer than %d octets", ID_MAX);
        buf[n++] = (uint8_t)(hi << 4 | x);
        hi = -1;
    }
    if (hi >= 0 || n == 0)
        return hk_conf_errf(err, errlen,
                            "key ID '%.64s' needs an even, non-zero number of hex "
                            "digits",
                            v);
    if (!(out->data = malloc(n)))
        return HK_E_NOMEM;
    memcpy(out->data, buf, n);
    out->len = n;
    return 0;
}

static int parse_value(enum hk_id_type type, const char *v, struct hk_id_conf *out, char *err,
                       size_t errlen)
{
    size_t n = strlen(v);
    int family = type == HK_ID_IPV4 ? AF_INET : AF_INET6;
    uint8_t addr[16];

    switch (type) {
    case HK_ID_IPV4:
    case HK_ID_IPV6:
        if (n >= INET6_ADDRSTRLEN || inet_pton(family, v, addr) != 1)
            return hk_conf_errf(err, errlen, "'%.64s' is not an %s address", v,
                                type == HK_ID_IPV4 ? "IPv4" : "IPv6");
        n = type == HK_ID_IPV4 ? 4 : 16;
        if (!(out->data = malloc(n)))
            return HK_E_NOMEM;
        memcpy(out->data, addr, n);
        out->len = n;
        return 0;
    case HK_ID_FQDN:
    case HK_ID_RFC822:
        if (n == 0 || n > ID_MAX || !printable_name(v))
            return hk_conf_errf(err, errlen, "'%.64s' is not a valid %s identity", v,
                                type == HK_ID_FQDN ? "FQDN" : "email");
        if (type == HK_ID_RFC822 && !strchr(v, '@'))
            return hk_conf_errf(err, errlen, "email identity '%.64s' has no '@'", v);
        if (!(out->data = malloc(n)))
            return HK_E_NOMEM;
        memcpy(out->data, v, n);
        out->len = n;
        return 0;
    case HK_ID_KEY_ID:
        return parse_keyid(v, out, err, errlen);
    case HK_ID_DN:
        return hk_dn_to_der(v, &out->data, &out->len, err, errlen);
    default:
        return HK_E_INVALID;
    }
}

static enum hk_id_type guess_type(const char *v)
{
    uint8_t addr[16];
    if (strlen(v) < INET6_ADDRSTRLEN && inet_pton(AF_INET, v, addr) == 1)
        return HK_ID_IPV4;
    if (strlen(v) < INET6_ADDRSTRLEN && inet_pton(AF_INET6, v, addr) == 1)
        return HK_ID_IPV6;
    if (strchr(v, '='))
        return HK_ID_DN;
    if (strchr(v, '@'))
        return HK_ID_RFC822;
    return HK_ID_FQDN;
}

int hk_id_parse(const char *s, struct hk_id_conf *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (strcmp(s, "%any") == 0) {
        out->type = HK_ID_ANY;
        return (out->text = strdup(s)) ? 0 : HK_E_NOMEM;
    }
    const char *v = s;
    enum hk_id_type type = HK_ID_AUTO;
    const char *colon = strchr(s, ':');
    for (size_t i = 0; colon && i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t plen = strlen(prefixes[i].prefix);
        if ((size_t)(colon - s) == plen && strncasecmp(s, prefixes[i].prefix, plen) == 0) {
            type = prefixes[i].type;
            v = colon + 1;
        }
    }
    if (v[0] == '\0')
        return hk_conf_errf(err, errlen, "empty identity");
    if (type == HK_ID_AUTO)
        type = guess_type(v);
    out->type = type;
    int rc = parse_value(type, v, out, err, errlen);
    if (rc == 0 && !(out->text = strdup(v)))
        rc = HK_E_NOMEM;
    if (rc < 0)
        hk_id_conf_free(out);
    return rc;
}

/* One attribute-value pair of a DN being parsed. */
struct dn_av {
    int nid;
    bool new_rdn; /* first pair of its RDN */
    size_t vlen;
    unsigned char val[ID_MAX];
};

/* Reads "type=value" at *pp; leaves *pp at the separator (',', '+') or the end. */
static int dn_read_av(const char **pp, struct dn_av *av, char *err, size_t errlen)
{
    const char *p = *pp;
    char type[64];
    size_t tlen = 0;

    while (*p == ' ')
        p++;
    while (*p && *p != '=' && *p != ',' && *p != '+') {
        if (tlen + 1 >= sizeof(type))
            return hk_conf_errf(err, errlen, "DN attribute name too long");
        type[tlen++] = *p++;
    }
    while (tlen && type[tlen - 1] == ' ')
        tlen--;
    type[tlen] = '\0';
    if (*p != '=' || tlen == 0)
        return hk_conf_errf(err, errlen, "DN: expected 'attribute=value' at '%.32s'", *pp);
    av->nid = OBJ_txt2nid(type);
    if (av->nid == NID_undef)
        return hk_conf_errf(err, errlen, "DN: unknown attribute '%s'", type);
    p++;
    while (*p == ' ')
        p++;
    if (*p == '#')
        return hk_conf_errf(err, errlen, "DN: '#' (BER-encoded) values are not supported");

    size_t keep = 0; /* length without trailing unescaped spaces */
    av->vlen = 0;
    while (*p && *p != ',' && *p != '+') {
        int c = (unsigned char)*p++;
        bool escaped = false;
        if (c == '"')
            return hk_conf_errf(err, errlen,
                                "DN: quoted values are not supported; escape with "
                                "a backslash");
        if (c == '\\') {
            if (!*p)
                return hk_conf_errf(err, errlen, "DN: backslash at the end");
            int h = hexval((unsigned char)p[0]), l = p[0] ? hexval((unsigned char)p[1]) : -1;
            if (h >= 0 && l >= 0) {
                c = h << 4 | l;
                p += 2;
            } else {
                c = (unsigned char)*p++;
            }
            escaped = true;
        }
        if (av->vlen == sizeof(av->val))
            return hk_conf_errf(err, errlen, "DN: value longer than %d octets", ID_MAX);
        av->val[av->vlen++] = (unsigned char)c;
        if (c != ' ' || escaped)
            keep = av->vlen;
    }
    av->vlen = keep;
    if (av->vlen == 0)
        return hk_conf_errf(err, errlen, "DN: empty value for '%s'", type);
    *pp = p;
    return 0;
}

int hk_dn_to_der(const char *s, uint8_t **der, size_t *len, char *err, size_t errlen)
{
    struct dn_av *avs = calloc(DN_MAX_AV, sizeof(*avs));
    X509_NAME *name = NULL;
    size_t n = 0;
    int rc;

    *der = NULL;
    *len = 0;
    if (!avs)
        return HK_E_NOMEM;
    const char *p = s;
    bool new_rdn = true;
    for (;;) {
        if (n == DN_MAX_AV) {
            rc = hk_conf_errf(err, errlen, "DN: more than %d attributes", DN_MAX_AV);
            goto out;
        }
        avs[n].new_rdn = new_rdn;
        if ((rc = dn_read_av(&p, &avs[n], err, errlen)) < 0)
            goto out;
        n++;
        if (!*p)
            break;
        new_rdn = *p == ',';
        p++;
    }

    /* RFC 4514 2.1: the string lists the RDNs last to first. */
    rc = HK_E_NOMEM;
    if (!(name = X509_NAME_new()))
        goto out;
    size_t end = n;
    while (end > 0) {
        size_t start = end - 1;
        while (!avs[start].new_rdn)
            start--;
        for (size_t i = start; i < end; i++) {
            if (!X509_NAME_add_entry_by_NID(name, avs[i].nid, MBSTRING_UTF8, avs[i].val,
                                            (int)avs[i].vlen, -1, i == start ? 0 : -1)) {
                ERR_clear_error();
                rc =
                    hk_conf_errf(err, errlen, "DN: invalid value for '%s'", OBJ_nid2sn(avs[i].nid));
                goto out;
            }
        }
        end = start;
    }
    int dlen = i2d_X509_NAME(name, NULL);
    if (dlen <= 0) {
        rc = hk_conf_errf(err, errlen, "DN: cannot encode");
        goto out;
    }
    if (!(*der = malloc((size_t)dlen)))
        goto out;
    unsigned char *q = *der;
    i2d_X509_NAME(name, &q);
    *len = (size_t)dlen;
    rc = 0;
out:
    X509_NAME_free(name);
    free(avs);
    return rc;
}
