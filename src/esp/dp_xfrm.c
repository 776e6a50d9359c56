/* The XFRM backend: Child SAs as kernel SAs and policies, and the start-up probe. */
#include "esp/dp_xfrm.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/secret.h"
#include "common/u64map.h"
#include "crypto/alg.h"
#include "crypto/crypto.h"
#include "esp/xfrm_msg.h"
#include "esp/xfrm_nl.h"

/* reqids number from here: out of the way of other daemons that number from 1. */
#define XFRM_REQID_BASE 0x686b0000u
/* Kernel selectors one child may need after its ranges are split into prefixes. */
#define XFRM_MAX_SELS 64

/*
 * The policies of one set of selectors between two endpoints. A child and its rekeyed
 * successors share them (the same reqid): the kernel sends through the newest SA of the
 * reqid, so a rekey never leaves traffic without a policy.
 */
struct xg {
    uint32_t reqid;
    unsigned refs;
    int family;
    uint8_t local[16], remote[16];
    bool tunnel;
    size_t nl, nr;
    struct ike_ts l[HK_DP_MAX_TS], r[HK_DP_MAX_TS];
    size_t nsel;
    struct hk_xfrm_sel sel[XFRM_MAX_SELS];
};

struct xc {
    uint32_t spi_in, spi_out;
    struct xg *g;
};

struct dp_xfrm {
    struct hk_dataplane base;
    struct hk_xfrm_nl nl;
    struct hk_u64map children; /* child id -> struct xc */
    struct xg **groups;
    size_t ngroups, capgroups;
    uint32_t next_reqid;
    uint8_t *buf; /* HK_XFRM_MSG_MAX, wiped after every request */
};

static struct dp_xfrm *X(struct hk_dataplane *dp)
{
    return (struct dp_xfrm *)dp;
}

/* ---- requests ---- */

/* Sends what x->buf holds and wipes it (a NEWSA holds keys). */
static int send_buf(struct dp_xfrm *x, int built, size_t len, uint32_t seq,
                    struct hk_xfrm_reply *reply)
{
    int rc = built ? built : hk_xfrm_nl_talk(&x->nl, x->buf, len, seq, reply);
    hk_wipe(x->buf, HK_XFRM_MSG_MAX);
    return rc;
}

static const char *why(struct dp_xfrm *x, int rc)
{
    return rc == HK_E_IO || rc == HK_E_TIMEOUT ? x->nl.err : hk_strerror(rc);
}

static int sa_add(struct dp_xfrm *x, const struct hk_xfrm_sa *sa)
{
    uint32_t seq = hk_xfrm_nl_next_seq(&x->nl);
    size_t len = 0;
    return send_buf(x, hk_xfrm_newsa(x->buf, HK_XFRM_MSG_MAX, seq, sa, &len), len, seq, NULL);
}

static int sa_del(struct dp_xfrm *x, const struct hk_xfrm_sa_id *id)
{
    uint32_t seq = hk_xfrm_nl_next_seq(&x->nl);
    size_t len = 0;
    int rc = send_buf(x, hk_xfrm_delsa(x->buf, HK_XFRM_MSG_MAX, seq, id, &len), len, seq, NULL);
    /* Gone already: the kernel deletes an SA at its hard volume limit. */
    if (rc == HK_E_IO && (x->nl.last_errno == ESRCH || x->nl.last_errno == ENOENT))
        return HK_OK;
    if (rc)
        hk_warn(x->base.log, "dataplane(xfrm): delete SA %08x: %s", id->spi, why(x, rc));
    return rc;
}

static int sa_get(struct dp_xfrm *x, const struct hk_xfrm_sa_id *id, struct hk_xfrm_reply *r)
{
    uint32_t seq = hk_xfrm_nl_next_seq(&x->nl);
    size_t len = 0;
    int rc = send_buf(x, hk_xfrm_getsa(x->buf, HK_XFRM_MSG_MAX, seq, id, &len), len, seq, r);
    return rc ? rc : r->sa ? HK_OK : HK_E_NOTFOUND;
}

/* Policy i of g in dir: out selects local -> remote, in and fwd the reverse. */
static struct hk_xfrm_policy policy_of(const struct xg *g, size_t i, uint8_t dir)
{
    struct hk_xfrm_policy p = {
        .dir = dir, .family = g->family, .reqid = g->reqid, .tunnel = g->tunnel};
    bool out = dir == XFRM_POLICY_OUT;
    p.sel = out ? g->sel[i] : hk_xfrm_sel_reverse(&g->sel[i]);
    p.priority = hk_xfrm_sel_priority(&p.sel);
    memcpy(p.tsrc, out ? g->local : g->remote, 16);
    memcpy(p.tdst, out ? g->remote : g->local, 16);
    return p;
}

static int policy_req(struct dp_xfrm *x, const struct hk_xfrm_policy *p, bool add)
{
    uint32_t seq = hk_xfrm_nl_next_seq(&x->nl);
    size_t len = 0;
    int built = add ? hk_xfrm_newpolicy(x->buf, HK_XFRM_MSG_MAX, seq, p, &len)
                    : hk_xfrm_delpolicy(x->buf, HK_XFRM_MSG_MAX, seq, p, &len);
    return send_buf(x, built, len, seq, NULL);
}

/* The directions of g's policies: no fwd in transport mode (nothing is forwarded). */
static size_t dirs_of(const struct xg *g, uint8_t dirs[3])
{
    dirs[0] = XFRM_POLICY_OUT;
    dirs[1] = XFRM_POLICY_IN;
    dirs[2] = XFRM_POLICY_FWD;
    return g->tunnel ? 3 : 2;
}

/* Deletes the first n policies of g (in the order policies_add adds them). */
static void policies_del(struct dp_xfrm *x, const struct xg *g, size_t n)
{
    uint8_t dirs[3];
    size_t nd = dirs_of(g, dirs), k = 0;
    for (size_t i = 0; i < g->nsel; i++)
        for (size_t d = 0; d < nd; d++, k++) {
            if (k >= n)
                return;
            struct hk_xfrm_policy p = policy_of(g, i, dirs[d]);
            int rc = policy_req(x, &p, false);
            if (rc && x->nl.last_errno != ENOENT)
                hk_warn(x->base.log, "dataplane(xfrm): delete policy (reqid %u): %s", g->reqid,
                        why(x, rc));
        }
}

static int policies_add(struct dp_xfrm *x, const struct xg *g)
{
    uint8_t dirs[3];
    size_t nd = dirs_of(g, dirs), k = 0;
    for (size_t i = 0; i < g->nsel; i++)
        for (size_t d = 0; d < nd; d++, k++) {
            struct hk_xfrm_policy p = policy_of(g, i, dirs[d]);
            int rc = policy_req(x, &p, true);
            if (rc) {
                hk_err(x->base.log, "dataplane(xfrm): add policy (reqid %u): %s", g->reqid,
                       why(x, rc));
                policies_del(x, g, k);
                return rc;
            }
        }
    return HK_OK;
}

/* ---- policy groups ---- */

static bool same_group(const struct xg *g, const struct xg *k)
{
    return g->family == k->family && g->tunnel == k->tunnel && !memcmp(g->local, k->local, 16) &&
           !memcmp(g->remote, k->remote, 16) && g->nl == k->nl && g->nr == k->nr &&
           !memcmp(g->l, k->l, g->nl * sizeof(g->l[0])) &&
           !memcmp(g->r, k->r, g->nr * sizeof(g->r[0]));
}

static void group_drop(struct dp_xfrm *x, struct xg *g)
{
    if (--g->refs)
        return;
    policies_del(x, g, SIZE_MAX);
    for (size_t i = 0; i < x->ngroups; i++)
        if (x->groups[i] == g) {
            x->groups[i] = x->groups[--x->ngroups];
            break;
        }
    free(g);
}

static struct xg *group_find(struct dp_xfrm *x, const struct xg *key)
{
    for (size_t i = 0; i < x->ngroups; i++)
        if (same_group(x->groups[i], key))
            return x->groups[i];
    return NULL;
}

/* A new group for key: its reqid and kernel selectors, no policies yet, not listed. */
static int group_new(struct dp_xfrm *x, const struct xg *key, struct xg **out)
{
    struct xg *g = malloc(sizeof(*g));
    if (!g)
        return HK_E_NOMEM;
    *g = *key;
    g->refs = 0;
    int rc = hk_xfrm_sels(g->l, g->nl, g->r, g->nr, g->sel, XFRM_MAX_SELS, &g->nsel);
    if (rc) {
        hk_err(x->base.log, "dataplane(xfrm): selectors as kernel policies: %s%s", hk_strerror(rc),
               rc == HK_E_OVERFLOW ? " (more than 64 prefix pairs)" : "");
        free(g);
        return rc;
    }
    g->reqid = x->next_reqid++;
    *out = g;
    return HK_OK;
}

/* Installs a new group's policies and lists it. */
static int group_add(struct dp_xfrm *x, struct xg *g)
{
    if (x->ngroups == x->capgroups) {
        size_t cap = x->capgroups ? x->capgroups * 2 : 8;
        struct xg **n = realloc(x->groups, cap * sizeof(*n));
        if (!n)
            return HK_E_NOMEM;
        x->groups = n;
        x->capgroups = cap;
    }
    int rc = policies_add(x, g);
    if (!rc)
        x->groups[x->ngroups++] = g;
    return rc;
}

/* ---- install / remove ---- */

static int addr_of(const struct sockaddr_storage *a, uint8_t out[16], uint16_t *port)
{
    memset(out, 0, 16);
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)a;
        memcpy(out, &s->sin6_addr, 16);
        *port = ntohs(s->sin6_port);
        return AF_INET6;
    }
    const struct sockaddr_in *s = (const struct sockaddr_in *)a;
    memcpy(out, &s->sin_addr, 4);
    *port = ntohs(s->sin_port);
    return AF_INET;
}

/* The kernel's replay window for a child's: 0 (off) cannot go with ESN there, and the
 * widest window comes closest to off. */
static uint32_t kernel_window(const struct hk_dp_child *c, bool esn)
{
    uint32_t w = c->replay_window;
    if (w == 0 && esn)
        return HK_XFRM_MAX_WINDOW;
    return w > HK_XFRM_MAX_WINDOW ? HK_XFRM_MAX_WINDOW : w;
}

static int xfrm_install(struct hk_dataplane *dp, const struct hk_dp_child *c,
                        const struct hk_esp_state *initial)
{
    struct dp_xfrm *x = X(dp);
    if (initial) {
        /* The kernel takes a replay state with the SA (XFRMA_REPLAY_ESN_VAL); until that is
         * built here, a moved SA is refused rather than restarted at sequence number 1. */
        hk_err(dp->log,
               "dataplane(xfrm): ESP SA %08x/%08x: installing with a carried-over state "
               "is not supported by this backend",
               c->id.spi_in, c->id.spi_out);
        return HK_E_UNSUPPORTED;
    }
    struct xg key = {.tunnel = !c->transport};
    uint16_t lport, rport;
    int rc;

    key.family = addr_of(&c->path.local, key.local, &lport);
    if (addr_of(&c->path.remote, key.remote, &rport) != key.family)
        return HK_E_INVALID;
    key.nl = c->nts_local < HK_DP_MAX_TS ? c->nts_local : HK_DP_MAX_TS;
    key.nr = c->nts_remote < HK_DP_MAX_TS ? c->nts_remote : HK_DP_MAX_TS;
    memcpy(key.l, c->ts_local, key.nl * sizeof(key.l[0]));
    memcpy(key.r, c->ts_remote, key.nr * sizeof(key.r[0]));

    struct xc *xc = calloc(1, sizeof(*xc));
    if (!xc)
        return HK_E_NOMEM;
    /* A rekey's successor finds its predecessor's group; a new one gets its policies only
     * once its SAs are in, so no packet meets a policy without an SA. */
    struct xg *fresh = NULL;
    if (!(xc->g = group_find(x, &key))) {
        if ((rc = group_new(x, &key, &fresh))) {
            free(xc);
            return rc;
        }
        xc->g = fresh;
    }
    bool esn = c->esn;
    bool udp = c->path.udp; /* RFC 3948 */
    struct hk_xfrm_sa in = {.family = key.family,
                            .spi = c->id.spi_in,
                            .reqid = xc->g->reqid,
                            .tunnel = key.tunnel,
                            .encr = c->encr,
                            .encr_key_bits = c->encr_key_bits,
                            .integ = c->integ,
                            .esn = esn,
                            .replay_window = kernel_window(c, esn),
                            .encap = udp,
                            .soft_bytes = c->soft_bytes,
                            .hard_bytes = c->hard_bytes,
                            .soft_packets = c->soft_packets,
                            .hard_packets = c->hard_packets};
    struct hk_xfrm_sa out = in;
    memcpy(in.src, key.remote, 16);
    memcpy(in.dst, key.local, 16);
    in.encap_sport = rport, in.encap_dport = lport;
    in.ekey = c->in.encr, in.eklen = c->in.encr_len;
    in.ikey = c->in.integ, in.iklen = c->in.integ_len;
    memcpy(out.src, key.local, 16);
    memcpy(out.dst, key.remote, 16);
    out.spi = c->id.spi_out;
    out.encap_sport = lport, out.encap_dport = rport;
    out.ekey = c->out.encr, out.eklen = c->out.encr_len;
    out.ikey = c->out.integ, out.iklen = c->out.integ_len;
    /* A moved SA continues in the kernel where it was (RFC 4303 3.3.3, 3.4.3). */
    struct hk_xfrm_sa_state st_in, st_out;
    if (initial) {
        st_in = (struct hk_xfrm_sa_state){.top = initial->replay_top,
                                          .bits = initial->replay_bits,
                                          .nbits = initial->replay_window,
                                          .bytes = initial->bytes_in,
                                          .packets = initial->packets_in};
        st_out = (struct hk_xfrm_sa_state){
            .oseq = initial->seq_out, .bytes = initial->bytes_out, .packets = initial->packets_out};
        in.state = &st_in;
        out.state = &st_out;
    }

    struct hk_xfrm_sa_id id_in = {.family = in.family, .spi = in.spi};
    struct hk_xfrm_sa_id id_out = {.family = out.family, .spi = out.spi};
    memcpy(id_in.src, in.src, 16), memcpy(id_in.dst, in.dst, 16);
    memcpy(id_out.src, out.src, 16), memcpy(id_out.dst, out.dst, 16);
    const char *dir = "inbound SA";
    char reason[sizeof(x->nl.err)] = "";
    if (!(rc = sa_add(x, &in))) {
        dir = "outbound SA";
        if (!(rc = sa_add(x, &out))) {
            dir = "policies";
            if (!fresh || !(rc = group_add(x, fresh))) {
                dir = "its record";
                if ((rc = hk_u64map_put(&x->children, c->id.child, xc)) && fresh) {
                    policies_del(x, fresh, SIZE_MAX);
                    x->ngroups--;
                }
            }
        }
    }
    if (rc) {
        /* The reason first: the clean-up's requests overwrite it. */
        snprintf(reason, sizeof(reason), "%s", why(x, rc));
        if (strcmp(dir, "inbound SA"))
            sa_del(x, &id_in);
        if (!strcmp(dir, "policies") || !strcmp(dir, "its record"))
            sa_del(x, &id_out);
        hk_err(dp->log, "dataplane(xfrm): ESP SA %08x/%08x not installed (%s): %s", c->id.spi_in,
               c->id.spi_out, dir, reason);
        free(fresh);
        free(xc);
        return rc;
    }
    xc->g->refs++;
    xc->spi_in = c->id.spi_in;
    xc->spi_out = c->id.spi_out;
    dp->installed++;
    hk_info(dp->log,
            "dataplane(xfrm): ESP SA in %08x out %08x in the kernel (reqid %u, %zu "
            "selector pairs, %s%s)",
            c->id.spi_in, c->id.spi_out, xc->g->reqid, xc->g->nsel,
            key.tunnel ? "tunnel" : "transport", udp ? ", ESP in UDP" : "");
    return HK_OK;
}

/* The ids of a child's two SAs (in: remote -> local). */
static void ids_of(const struct xc *xc, struct hk_xfrm_sa_id *in, struct hk_xfrm_sa_id *out)
{
    const struct xg *g = xc->g;
    *in = (struct hk_xfrm_sa_id){.family = g->family, .spi = xc->spi_in};
    *out = (struct hk_xfrm_sa_id){.family = g->family, .spi = xc->spi_out};
    memcpy(in->src, g->remote, 16);
    memcpy(in->dst, g->local, 16);
    memcpy(out->src, g->local, 16);
    memcpy(out->dst, g->remote, 16);
}

static void drop_child(struct dp_xfrm *x, struct xc *xc)
{
    struct hk_xfrm_sa_id in, out;
    ids_of(xc, &in, &out);
    sa_del(x, &out);
    sa_del(x, &in);
    group_drop(x, xc->g);
    free(xc);
}

static void xfrm_remove(struct hk_dataplane *dp, const struct hk_dp_id *c)
{
    struct dp_xfrm *x = X(dp);
    struct xc *xc = hk_u64map_del(&x->children, c->child);
    if (!xc)
        return;
    drop_child(x, xc);
    dp->removed++;
}

/* What the kernel says of a child's two SAs (inbound into ri, outbound into ro). */
static int both_get(struct dp_xfrm *x, const struct hk_dp_id *c, struct hk_xfrm_reply *ri,
                    struct hk_xfrm_reply *ro)
{
    struct xc *xc = hk_u64map_get(&x->children, c->child);
    struct hk_xfrm_sa_id in, out;
    if (!xc)
        return HK_E_NOTFOUND;
    ids_of(xc, &in, &out);
    return sa_get(x, &in, ri) || sa_get(x, &out, ro) ? HK_E_NOTFOUND : HK_OK;
}

static int xfrm_child_stats(struct hk_dataplane *dp, const struct hk_dp_id *c,
                            struct hk_dp_child_stats *o)
{
    struct hk_xfrm_reply ri, ro;
    if (both_get(X(dp), c, &ri, &ro))
        return HK_E_NOTFOUND;
    *o = (struct hk_dp_child_stats){.packets_in = ri.packets,
                                    .bytes_in = ri.bytes,
                                    .packets_out = ro.packets,
                                    .bytes_out = ro.bytes,
                                    .replay_drops = ri.replay,
                                    .auth_failures = ri.integrity_failed};
    return HK_OK;
}

_Static_assert(HK_XFRM_REPLY_WORDS <= HK_ESP_STATE_WORDS, "a kernel window fits a state");

/* The kernel's counters and windows of both SAs, in the form another owner continues from. */
static int xfrm_state_get(struct hk_dataplane *dp, const struct hk_dp_id *c,
                          struct hk_esp_state *st)
{
    struct hk_xfrm_reply ri, ro;
    if (both_get(X(dp), c, &ri, &ro))
        return HK_E_NOTFOUND;
    if (!ri.replay_state || !ro.replay_state)
        return HK_E_UNSUPPORTED; /* a kernel that does not report its sequence numbers */
    memset(st, 0, sizeof(*st));
    st->esn = ri.esn;
    st->seq_out = ro.oseq;
    st->replay_top = ri.top;
    st->replay_window = ri.window;
    memcpy(st->replay_bits, ri.bits, sizeof(ri.bits));
    st->bytes_in = ri.bytes;
    st->packets_in = ri.packets;
    st->bytes_out = ro.bytes;
    st->packets_out = ro.packets;
    return HK_OK;
}

static void xfrm_esp_in(struct hk_dataplane *dp, const uint8_t *buf, size_t len)
{
    (void)buf;
    /* With UDP_ENCAP on the NAT-T socket the kernel takes its ESP; what still reaches us
     * has no kernel SA. */
    dp->esp_dropped++;
    hk_debug(dp->log, "dataplane(xfrm): %zu-octet ESP in UDP without a kernel SA dropped", len);
}

static int xfrm_prepare_socket(struct hk_dataplane *dp, int fd, int family, bool natt)
{
    struct xfrm_userpolicy_info pol;
    int lvl = family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP;
    int opt = family == AF_INET6 ? IPV6_XFRM_POLICY : IP_XFRM_POLICY;
    uint8_t dirs[2] = {XFRM_POLICY_IN, XFRM_POLICY_OUT};

    /* IKE packets bypass IPsec, whatever the policies cover (our own addresses, say). */
    for (size_t i = 0; i < 2; i++) {
        hk_xfrm_bypass(dirs[i], &pol);
        if (setsockopt(fd, lvl, opt, &pol, sizeof(pol)) < 0) {
            hk_err(dp->log, "dataplane(xfrm): IKE socket policy bypass: %s", strerror(errno));
            return HK_E_IO;
        }
    }
    int encap = UDP_ENCAP_ESPINUDP;
    if (natt && setsockopt(fd, IPPROTO_UDP, UDP_ENCAP, &encap, sizeof(encap)) < 0) {
        hk_err(dp->log, "dataplane(xfrm): UDP_ENCAP on the NAT-T socket: %s", strerror(errno));
        return HK_E_IO;
    }
    return HK_OK;
}

static void xfrm_destroy(struct hk_dataplane *dp)
{
    struct dp_xfrm *x = X(dp);
    size_t pos = 0;
    uint64_t id;
    struct xc *xc;
    /* Only what we installed: our SAs and, with their last child, our policies. */
    while ((xc = hk_u64map_next(&x->children, &pos, &id))) {
        hk_u64map_del(&x->children, id);
        drop_child(x, xc);
    }
    for (size_t i = 0; i < x->ngroups; i++)
        free(x->groups[i]);
    free(x->groups);
    hk_u64map_free(&x->children);
    hk_xfrm_nl_close(&x->nl);
    if (x->buf)
        hk_wipe(x->buf, HK_XFRM_MSG_MAX);
    free(x->buf);
    free(x);
}

static const struct hk_dataplane_ops xfrm_ops = {
    .name = "xfrm",
    .install = xfrm_install,
    .remove = xfrm_remove,
    .esp_in = xfrm_esp_in,
    .child_stats = xfrm_child_stats,
    .state_get = xfrm_state_get,
    .prepare_socket = xfrm_prepare_socket,
    .destroy = xfrm_destroy,
};

struct hk_dataplane *hk_dp_xfrm_new(const struct hk_log *log)
{
    struct dp_xfrm *x = calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    x->base.ops = &xfrm_ops;
    x->base.log = log;
    x->next_reqid = XFRM_REQID_BASE + 1;
    hk_u64map_init(&x->children, (uint64_t)(uintptr_t)x);
    x->buf = malloc(HK_XFRM_MSG_MAX);
    if (!x->buf || hk_xfrm_nl_open(&x->nl)) {
        hk_err(log, "dataplane(xfrm): %s", x->buf ? x->nl.err : "out of memory");
        xfrm_destroy(&x->base);
        return NULL;
    }
    hk_info(log, "dataplane: kernel ESP (XFRM)");
    return &x->base;
}

/* ---- the start-up probe ---- */

bool hk_dp_xfrm_probe(const struct hk_log *log, struct hk_xfrm_probe *out)
{
    struct hk_xfrm_nl nl;
    _Alignas(8) uint8_t buf[HK_XFRM_MSG_MAX];
    uint8_t ekey[16], ikey[32];
    struct hk_xfrm_sa sa = {.family = AF_INET,
                            .spi = HK_XFRM_PROBE_SPI,
                            .tunnel = true,
                            .encr = HK_ENCR_AES_CBC,
                            .encr_key_bits = 128,
                            .integ = HK_AUTH_HMAC_SHA2_256_128,
                            .ekey = ekey,
                            .eklen = sizeof(ekey),
                            .ikey = ikey,
                            .iklen = sizeof(ikey)};
    struct hk_xfrm_sa_id id = {.family = AF_INET, .spi = HK_XFRM_PROBE_SPI};
    size_t len = 0;
    uint32_t seq;
    int rc;

    memset(out, 0, sizeof(*out));
    inet_pton(AF_INET, HK_XFRM_PROBE_SRC, sa.src);
    inet_pton(AF_INET, HK_XFRM_PROBE_DST, sa.dst);
    memcpy(id.src, sa.src, 16);
    memcpy(id.dst, sa.dst, 16);
    if (hk_xfrm_nl_open(&nl)) {
        out->err = nl.last_errno;
        snprintf(out->why, sizeof(out->why), "%s", nl.err);
        return false;
    }
    /* CBC + HMAC: the transforms any ESP-capable kernel has; a kernel without ESP refuses
     * the SA for its protocol before it looks at anything else. */
    if (hk_random(ekey, sizeof(ekey)) || hk_random(ikey, sizeof(ikey))) {
        snprintf(out->why, sizeof(out->why), "no random octets for the probe key");
        goto done;
    }
    seq = hk_xfrm_nl_next_seq(&nl);
    rc = hk_xfrm_newsa(buf, sizeof(buf), seq, &sa, &len);
    hk_wipe(ekey, sizeof(ekey));
    hk_wipe(ikey, sizeof(ikey));
    if (!rc)
        rc = hk_xfrm_nl_talk(&nl, buf, len, seq, NULL);
    hk_wipe(buf, sizeof(buf));
    if (rc == HK_E_IO && nl.last_errno == EEXIST) {
        /* Someone's SA with this SPI: the kernel has ESP; that SA is not ours to delete. */
        out->esp = true;
        goto done;
    }
    if (rc) {
        out->err = nl.last_errno;
        snprintf(out->why, sizeof(out->why), "XFRM_MSG_NEWSA: %s",
                 rc == HK_E_IO || rc == HK_E_TIMEOUT ? nl.err : hk_strerror(rc));
        goto done;
    }
    out->esp = true;
    seq = hk_xfrm_nl_next_seq(&nl);
    rc = hk_xfrm_delsa(buf, sizeof(buf), seq, &id, &len);
    if (!rc)
        rc = hk_xfrm_nl_talk(&nl, buf, len, seq, NULL);
    if (rc)
        hk_warn(log, "dataplane: cannot delete the XFRM probe SA (spi %08x %s -> %s): %s",
                HK_XFRM_PROBE_SPI, HK_XFRM_PROBE_SRC, HK_XFRM_PROBE_DST,
                rc == HK_E_IO || rc == HK_E_TIMEOUT ? nl.err : hk_strerror(rc));
done:
    hk_wipe(ekey, sizeof(ekey));
    hk_wipe(ikey, sizeof(ikey));
    hk_xfrm_nl_close(&nl);
    return out->esp;
}
