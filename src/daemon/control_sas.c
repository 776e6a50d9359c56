/* list-sas: every IKE SA with its Child SAs, as docs/control.md describes. */
#include "daemon/control_internal.h"

#include "ike/dp_desc.h"
#include "ike/proposal.h"
#include "ike/sa.h"
#include "ike/ts.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTL_ID_MAX 1024 /* longest printable identity shown */

static const char *id_type_name(uint8_t t)
{
    switch (t) {
    case IKE_ID_IPV4_ADDR:
        return "ipv4";
    case IKE_ID_FQDN:
        return "fqdn";
    case IKE_ID_RFC822_ADDR:
        return "email";
    case IKE_ID_IPV6_ADDR:
        return "ipv6";
    case IKE_ID_DER_ASN1_DN:
        return "dn";
    case IKE_ID_DER_ASN1_GN:
        return "gn";
    case IKE_ID_KEY_ID:
        return "keyid";
    }
    return "unknown";
}

static void hex(const uint8_t *p, size_t n, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && o + 3 <= len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%02x", p[i]);
}

/* Printable ASCII as is, anything else as \xNN (names come from the peer). */
static void printable(const uint8_t *p, size_t n, char *buf, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 <= len; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
            buf[o++] = (char)p[i];
        else
            o += (size_t)snprintf(buf + o, len - o, "\\x%02x", p[i]);
    }
    buf[o] = '\0';
}

/* RFC 4514 text of a DER Name, most specific RDN first, non-ASCII escaped. */
static bool dn_text(const uint8_t *p, size_t n, char *buf, size_t len)
{
    const unsigned char *q = p;
    X509_NAME *name = d2i_X509_NAME(NULL, &q, (long)n);
    BIO *bio = name ? BIO_new(BIO_s_mem()) : NULL;
    bool ok = false;
    if (bio && X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) >= 0) {
        char *text;
        long tl = BIO_get_mem_data(bio, &text);
        if (tl >= 0) {
            printable((const uint8_t *)text, (size_t)tl, buf, len);
            ok = true;
        }
    }
    BIO_free(bio);
    X509_NAME_free(name);
    return ok;
}

static json_t *peer_id(const struct ike_id *id)
{
    char buf[4 * CTL_ID_MAX + 8];
    const uint8_t *p = id->data.p;
    size_t n = id->data.len;
    if (!n)
        return json_null();
    if (n > CTL_ID_MAX)
        n = CTL_ID_MAX;
    switch (id->type) {
    case IKE_ID_IPV4_ADDR:
    case IKE_ID_IPV6_ADDR: {
        int af = id->type == IKE_ID_IPV4_ADDR ? AF_INET : AF_INET6;
        if (n != (af == AF_INET ? 4u : 16u) || !inet_ntop(af, p, buf, sizeof(buf)))
            hex(p, n, buf, sizeof(buf));
        break;
    }
    case IKE_ID_FQDN:
    case IKE_ID_RFC822_ADDR:
        printable(p, n, buf, sizeof(buf));
        break;
    case IKE_ID_DER_ASN1_DN:
        if (!dn_text(p, n, buf, sizeof(buf)))
            hex(p, n, buf, sizeof(buf));
        break;
    default:
        hex(p, n, buf, sizeof(buf));
    }
    return json_pack("{s:s, s:s}", "type", id_type_name(id->type), "value", buf);
}

static json_t *ts_list(const struct ike_ts *ts, size_t n)
{
    json_t *a = json_array();
    char buf[160];
    for (size_t i = 0; a && i < n; i++)
        json_array_append_new(a, json_string(ike_ts_format(&ts[i], buf, sizeof(buf))));
    return a;
}

static json_t *child_json(struct hiked *d, const struct child_sa *c, uint64_t now)
{
    char spi[16], alg[256];
    json_t *o = json_object();
    if (!o)
        return NULL;
    ctl_set(o, "id", json_integer((json_int_t)c->id));
    ctl_set(o, "name", json_string(c->name));
    ctl_set(o, "state", json_string(child_sa_state_name(c->state)));
    ctl_set(o, "protocol", json_string(c->protocol == IKE_PROTO_AH ? "ah" : "esp"));
    ctl_set(o, "mode", json_string(c->transport ? "transport" : "tunnel"));
    snprintf(spi, sizeof(spi), "%08x", c->spi_in);
    ctl_set(o, "spi_in", json_string(spi));
    snprintf(spi, sizeof(spi), "%08x", c->spi_out);
    ctl_set(o, "spi_out", json_string(spi));
    ctl_set(o, "algorithms", json_string(ike_chosen_format(&c->chosen, alg, sizeof(alg))));
    ctl_set(o, "local_ts", ts_list(c->ts_local, c->nts_local));
    ctl_set(o, "remote_ts", ts_list(c->ts_remote, c->nts_remote));
    ctl_set(o, "age", json_integer(ctl_age(now, c->created_ms)));
    /* Traffic, when the data plane carries this SA (null with the logging backend). */
    struct hk_dp_child_stats st;
    json_t *traffic = json_null();
    struct hk_dp_id id = ike_child_dp_id(c);
    if (d->dp && d->dp->ops->child_stats && !d->dp->ops->child_stats(d->dp, &id, &st))
        traffic = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "packets_in",
                            (json_int_t)st.packets_in, "bytes_in", (json_int_t)st.bytes_in,
                            "packets_out", (json_int_t)st.packets_out, "bytes_out",
                            (json_int_t)st.bytes_out, "replay_drops", (json_int_t)st.replay_drops,
                            "auth_failures", (json_int_t)st.auth_failures);
    ctl_set(o, "traffic", traffic);
    return o;
}

static json_t *sa_json(struct hiked *d, const struct ike_sa *sa, uint64_t now)
{
    char name[40], addr[64], alg[256];
    json_t *o = json_object(), *children = json_array();
    if (!o || !children) {
        json_decref(o);
        json_decref(children);
        return NULL;
    }
    ctl_set(o, "id", json_integer((json_int_t)sa->id));
    ctl_set(o, "name", json_string(ike_sa_name(sa, name, sizeof(name))));
    ctl_set(o, "conn", json_string(sa->conn));
    ctl_set(o, "state", json_string(ike_sa_state_name(sa->state)));
    ctl_set(o, "initiator", json_boolean(sa->initiator));
    ctl_set(o, "local", json_string(ctl_addr_port(&sa->local, addr, sizeof(addr))));
    ctl_set(o, "remote", json_string(ctl_addr_port(&sa->remote, addr, sizeof(addr))));
    ctl_set(o, "nat_local", json_boolean(sa->nat_local));
    ctl_set(o, "nat_remote", json_boolean(sa->nat_remote));
    /* MOBIKE (RFC 4555): negotiated, and the peer's additional addresses (3.4). */
    ctl_set(o, "mobike", json_boolean(sa->ext & IKE_EXT_MOBIKE));
    json_t *paddrs = json_array();
    for (uint8_t i = 0; paddrs && i < sa->npeer_addrs; i++) {
        char ip[INET6_ADDRSTRLEN];
        inet_ntop(sa->peer_addrs[i].family, sa->peer_addrs[i].addr, ip, sizeof(ip));
        json_array_append_new(paddrs, json_string(ip));
    }
    ctl_set(o, "peer_addrs", paddrs);
    ctl_set(
        o, "algorithms",
        json_string(sa->chosen.protocol ? ike_chosen_format(&sa->chosen, alg, sizeof(alg)) : ""));
    ctl_set(o, "peer_id", peer_id(&sa->peer_id));
    /* Virtual addresses: leased to the peer (responder) or assigned to us (initiator). */
    json_t *vips = json_array();
    for (uint8_t i = 0; vips && i < sa->nvip; i++) {
        char ip[INET6_ADDRSTRLEN];
        inet_ntop(sa->vip[i].family, sa->vip[i].addr, ip, sizeof(ip));
        json_array_append_new(vips, json_string(ip));
    }
    ctl_set(o, "virtual_ips", vips);
    ctl_set(o, "age", json_integer(ctl_age(now, sa->created_ms)));
    ctl_set(o, "established_age",
            sa->established_ms ? json_integer(ctl_age(now, sa->established_ms)) : json_null());
    /* RFC 7791: the clone family (the id of its first IKE SA, 0 before IKE_AUTH), its age since
     * the first authentication (section 8), and whether this SA may be cloned. */
    ctl_set(o, "family", json_integer((json_int_t)sa->family));
    ctl_set(o, "family_age",
            sa->family ? json_integer(ctl_age(now, sa->family_start_ms)) : json_null());
    ctl_set(o, "clone", json_boolean(sa->ext & IKE_EXT_CLONE));
    ctl_set(o, "msgid_out", json_integer(sa->req_next));
    ctl_set(o, "msgid_in", json_integer(sa->peer_req_next));
    for (size_t i = 0; i < sa->nchildren; i++) {
        const struct child_sa *c = ike_engine_child(&d->engine, sa->children[i]);
        if (c)
            json_array_append_new(children, child_json(d, c, now));
    }
    ctl_set(o, "children", children);
    return o;
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = (*(const struct ike_sa *const *)a)->id, y = (*(const struct ike_sa *const *)b)->id;
    return x < y ? -1 : x > y;
}

json_t *ctl_list_sas(struct hiked *d, const struct hiked_control_view *v, const json_t *req,
                     struct ctl_err *err)
{
    (void)v, (void)req;
    uint64_t now = ctl_now(d);
    size_t n = ike_engine_sa_count(&d->engine), k = 0, pos = 0;
    const struct ike_sa **sas = calloc(n ? n : 1, sizeof(*sas));
    json_t *list = json_array();
    if (!sas || !list) {
        free(sas);
        json_decref(list);
        return ctl_fail(err, "out of memory");
    }
    const struct ike_sa *sa;
    while (k < n && (sa = ike_engine_next_sa(&d->engine, &pos)))
        sas[k++] = sa;
    qsort(sas, k, sizeof(*sas), by_id); /* the map's order is a hash's */
    for (size_t i = 0; i < k; i++) {
        json_t *o = sa_json(d, sas[i], now);
        if (!o || json_array_append_new(list, o)) {
            free(sas);
            json_decref(list);
            return ctl_fail(err, "out of memory");
        }
    }
    free(sas);
    return list;
}
