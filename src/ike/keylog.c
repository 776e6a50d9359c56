/* Wireshark UAT records for IKE and ESP keys (see keylog.h for the formats). */
#include "ike/keylog.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/privdir.h"
#include "crypto/alg.h"
#include "ike/sa.h"

/* The value strings of Wireshark's tables: vs_ikev2_encr_algs / vs_ikev2_auth_algs
 * (packet-isakmp.c), esp_encryption_type_vals / esp_authentication_type_vals
 * (packet-ipsec.c). They must match byte for byte or tshark refuses the record. */

const char *hk_keylog_ike_encr_name(unsigned encr, unsigned key_bits)
{
    switch (encr) {
    case HK_ENCR_AES_CBC:
        switch (key_bits) {
        case 128:
            return "AES-CBC-128 [RFC3602]";
        case 192:
            return "AES-CBC-192 [RFC3602]";
        case 256:
            return "AES-CBC-256 [RFC3602]";
        }
        return NULL;
    case HK_ENCR_AES_GCM_16:
        switch (key_bits) {
        case 128:
            return "AES-GCM-128 with 16 octet ICV [RFC5282]";
        case 192:
            return "AES-GCM-192 with 16 octet ICV [RFC5282]";
        case 256:
            return "AES-GCM-256 with 16 octet ICV [RFC5282]";
        }
        return NULL;
    }
    return NULL; /* ChaCha20-Poly1305: not in Wireshark's IKEv2 table */
}

const char *hk_keylog_ike_integ_name(unsigned integ)
{
    switch (integ) {
    case HK_AUTH_NONE:
        return "NONE [RFC4306]";
    case HK_AUTH_HMAC_SHA2_256_128:
        return "HMAC_SHA2_256_128 [RFC4868]";
    case HK_AUTH_HMAC_SHA2_384_192:
        return "HMAC_SHA2_384_192 [RFC4868]";
    case HK_AUTH_HMAC_SHA2_512_256:
        return "HMAC_SHA2_512_256 [RFC4868]";
    }
    return NULL;
}

const char *hk_keylog_esp_encr_name(unsigned encr, unsigned key_bits)
{
    /* ESP names carry no key length: Wireshark takes it from the key (less the salt). */
    switch (encr) {
    case HK_ENCR_AES_CBC:
        return key_bits == 128 || key_bits == 192 || key_bits == 256 ? "AES-CBC [RFC3602]" : NULL;
    case HK_ENCR_AES_GCM_16:
        return key_bits == 128 || key_bits == 192 || key_bits == 256
                   ? "AES-GCM with 16 octet ICV [RFC4106]"
                   : NULL;
    }
    return NULL; /* ChaCha20-Poly1305: not in Wireshark's ESP table */
}

const char *hk_keylog_esp_integ_name(unsigned integ)
{
    switch (integ) {
    case HK_AUTH_NONE:
        return "NULL";
    case HK_AUTH_HMAC_SHA2_256_128:
        return "HMAC-SHA-256-128 [RFC4868]";
    case HK_AUTH_HMAC_SHA2_384_192:
        return "HMAC-SHA-384-192 [RFC4868]";
    case HK_AUTH_HMAC_SHA2_512_256:
        return "HMAC-SHA-512-256 [RFC4868]";
    }
    return NULL;
}

/* A bounded string writer: the first overflow sticks. */
struct out {
    char *buf;
    size_t len, pos;
    int err;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    if (o->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->pos, o->len - o->pos, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->len - o->pos) {
        o->err = HK_E_OVERFLOW;
        return;
    }
    o->pos += (size_t)n;
}

static void put_hex(struct out *o, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        put(o, "%02x", p[i]);
}

static void put_secret(struct out *o, const struct hk_secret *s)
{
    if (s)
        put_hex(o, s->data, s->len);
}

static int finish(struct out *o)
{
    if (o->err && o->len)
        o->buf[0] = '\0';
    return o->err;
}

int hk_keylog_ike_line(const struct ike_sa *sa, char *buf, size_t len)
{
    if (!sa || !buf || !len)
        return HK_E_INVALID;
    buf[0] = '\0';
    const struct hk_ike_keys *k = &sa->keys;
    const char *en = hk_keylog_ike_encr_name(sa->alg.encr, sa->alg.encr_key_bits);
    const char *in = hk_keylog_ike_integ_name(sa->alg.integ);
    if (!en || !in)
        return HK_E_UNSUPPORTED;
    if (!k->sk_ei || !k->sk_er || (sa->alg.integ != HK_AUTH_NONE && (!k->sk_ai || !k->sk_ar)))
        return HK_E_STATE;
    struct out o = {.buf = buf, .len = len};
    put_hex(&o, sa->spi_i, IKE_SPI_LEN);
    put(&o, ",");
    put_hex(&o, sa->spi_r, IKE_SPI_LEN);
    put(&o, ",");
    put_secret(&o, k->sk_ei);
    put(&o, ",");
    put_secret(&o, k->sk_er);
    put(&o, ",\"%s\",", en);
    if (sa->alg.integ != HK_AUTH_NONE) {
        put_secret(&o, k->sk_ai);
        put(&o, ",");
        put_secret(&o, k->sk_ar);
    } else {
        put(&o, ",");
    }
    put(&o, ",\"%s\"\n", in);
    return finish(&o);
}

/* The address of ss without port, and its esp_sa protocol name. */
static int addr_text(const struct sockaddr_storage *ss, char *buf, size_t len, const char **proto)
{
    const void *a;
    if (ss->ss_family == AF_INET) {
        a = &((const struct sockaddr_in *)ss)->sin_addr;
        *proto = "IPv4";
    } else if (ss->ss_family == AF_INET6) {
        a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
        *proto = "IPv6";
    } else {
        return HK_E_INVALID;
    }
    return inet_ntop(ss->ss_family, a, buf, (socklen_t)len) ? 0 : HK_E_INVALID;
}

static void esp_line(struct out *o, const char *proto, const char *src, const char *dst,
                     uint32_t spi, const char *en, const struct hk_secret *ek, const char *in,
                     const struct hk_secret *ik)
{
    put(o, "\"%s\",\"%s\",\"%s\",\"0x%08x\",\"%s\",\"0x", proto, src, dst, spi, en);
    put_secret(o, ek);
    put(o, "\",\"%s\",\"", in);
    if (ik) {
        put(o, "0x");
        put_secret(o, ik);
    }
    put(o, "\"\n");
}

int hk_keylog_esp_lines(const struct ike_sa *sa, const struct child_sa *c,
                        const struct sockaddr_storage *local, const struct sockaddr_storage *remote,
                        char *buf, size_t len)
{
    if (!c || !buf || !len)
        return HK_E_INVALID;
    buf[0] = '\0';
    if (!local)
        local = sa ? &sa->local : NULL;
    if (!remote)
        remote = sa ? &sa->remote : NULL;
    if (!local || !remote || local->ss_family != remote->ss_family)
        return HK_E_INVALID;
    if (c->protocol != IKE_PROTO_ESP)
        return HK_E_UNSUPPORTED;
    const char *en = hk_keylog_esp_encr_name(c->chosen.encr, c->chosen.encr_key_bits);
    const char *in = hk_keylog_esp_integ_name(c->chosen.integ);
    if (!en || !in)
        return HK_E_UNSUPPORTED;

    /* 2.17: ir keys protect traffic from the initiator of the creating exchange. */
    const struct hk_child_keys *k = &c->keys;
    const struct hk_secret *eo = c->initiator ? k->encr_ir : k->encr_ri;
    const struct hk_secret *io = c->initiator ? k->integ_ir : k->integ_ri;
    const struct hk_secret *ei = c->initiator ? k->encr_ri : k->encr_ir;
    const struct hk_secret *ii = c->initiator ? k->integ_ri : k->integ_ir;
    bool aead = c->chosen.integ == HK_AUTH_NONE;
    if (!eo || !ei || (!aead && (!io || !ii)))
        return HK_E_STATE;

    char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
    const char *proto;
    int rc = addr_text(local, l, sizeof(l), &proto);
    if (!rc)
        rc = addr_text(remote, r, sizeof(r), &proto);
    if (rc)
        return rc;
    struct out o = {.buf = buf, .len = len};
    esp_line(&o, proto, l, r, c->spi_out, en, eo, in, aead ? NULL : io);
    esp_line(&o, proto, r, l, c->spi_in, en, ei, in, aead ? NULL : ii);
    return finish(&o);
}

/* Appends text to name relative to dirfd (AT_FDCWD: the working directory) in one write. A new
 * file is created 0600; an existing one must be a regular file of ours that group and others
 * cannot access (hiked runs as root: a file someone else prepared could leak the keys). */
static int append_at(int dirfd, const char *name, const char *text, char *err, size_t errlen)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    struct stat st;
    int rc = 0;
    if (fd < 0) {
        if (err && errlen)
            snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return HK_E_IO;
    }
    if (fstat(fd, &st)) {
        if (err && errlen)
            snprintf(err, errlen, "cannot stat: %s", strerror(errno));
        close(fd);
        return HK_E_IO;
    }
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
        if (err && errlen)
            snprintf(err, errlen,
                     "not a private file of hiked's user (mode %04o, uid %u; 0600 and uid %u "
                     "wanted): refused",
                     (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)geteuid());
        close(fd);
        return HK_E_IO;
    }
    size_t n = strlen(text), off = 0;
    while (off < n) {
        ssize_t w = write(fd, text + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = HK_E_IO;
            break;
        }
        off += (size_t)w;
    }
    if (rc && err && errlen)
        snprintf(err, errlen, "cannot write: %s", strerror(errno));
    if (close(fd) && !rc)
        rc = HK_E_IO;
    return rc;
}

int hk_keylog_append(const char *path, const char *text)
{
    if (!path || !text)
        return HK_E_INVALID;
    return append_at(AT_FDCWD, path, text, NULL, 0);
}

int hk_keylog_write(const char *dir, const char *table, const char *text, char *err, size_t errlen)
{
    if (!dir || !table || !text || strchr(table, '/'))
        return HK_E_INVALID;
    int dfd = hk_dir_open_checked(dir, HK_DIR_PRIVATE, HK_DIR_OWNER_SELF, err, errlen);
    if (dfd < 0)
        return dfd;
    char why[200] = "";
    int rc = append_at(dfd, table, text, why, sizeof(why));
    close(dfd);
    if (rc && err && errlen)
        snprintf(err, errlen, "%s/%s: %s", dir, table, why);
    return rc;
}
