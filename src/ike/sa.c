#include "common/sockaddr.h"
#include "ike/sa.h"

#include "common/err.h"
#include "common/log.h"
#include "common/secret.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ike_bytes_set(struct ike_bytes *b, const uint8_t *p, size_t len)
{
    uint8_t *n = NULL;
    if (len) {
        n = malloc(len);
        if (!n)
            return HK_E_NOMEM;
        memcpy(n, p, len);
    }
    ike_bytes_clear(b);
    b->p = n;
    b->len = len;
    return HK_OK;
}

void ike_bytes_clear(struct ike_bytes *b)
{
    if (b->p) {
        hk_wipe(b->p, b->len);
        free(b->p);
    }
    b->p = NULL;
    b->len = 0;
}

int ike_sent_set(struct ike_sent *s, const struct hk_cbb *msgs, size_t n)
{
    size_t total = n * sizeof(*s->pkts);
    for (size_t i = 0; i < n; i++)
        total += msgs[i].len;
    struct ike_bytes *pkts = n ? malloc(total) : NULL;
    if (!pkts)
        return n ? HK_E_NOMEM : HK_OK;
    uint8_t *at = (uint8_t *)(pkts + n);
    for (size_t i = 0; i < n; i++) {
        pkts[i] = (struct ike_bytes){at, msgs[i].len};
        if (msgs[i].len)
            memcpy(at, msgs[i].buf, msgs[i].len);
        at += msgs[i].len;
    }
    s->pkts = pkts;
    s->npkts = n;
    return HK_OK;
}

void ike_sent_clear(struct ike_sent *s)
{
    if (s->pkts) {
        size_t total = s->npkts * sizeof(*s->pkts);
        for (size_t i = 0; i < s->npkts; i++)
            total += s->pkts[i].len;
        hk_wipe(s->pkts, total);
        free(s->pkts);
    }
    memset(s, 0, sizeof(*s));
}

void ike_frag_in_clear(struct ike_frag_in *f)
{
    for (uint16_t i = 0; f->part && i < f->total; i++)
        ike_bytes_clear(&f->part[i]);
    free(f->part);
    memset(f, 0, sizeof(*f));
}

static const char *const ike_state_names[] = {
    [IKE_SA_INIT_SENT] = "INIT_SENT", [IKE_SA_INIT_RCVD] = "INIT_RCVD",
    [IKE_SA_AUTH_SENT] = "AUTH_SENT", [IKE_SA_ESTABLISHED] = "ESTABLISHED",
    [IKE_SA_REKEYED] = "REKEYED",     [IKE_SA_DELETING] = "DELETING",
    [IKE_SA_DEAD] = "DEAD",
};

const char *ike_sa_state_name(enum ike_sa_state s)
{
    return (unsigned)s <= IKE_SA_DEAD ? ike_state_names[s] : "?";
}

static const char *const child_state_names[] = {
    [CHILD_SA_CREATING] = "CREATING", [CHILD_SA_INSTALLED] = "INSTALLED",
    [CHILD_SA_REKEYED] = "REKEYED",   [CHILD_SA_DELETING] = "DELETING",
    [CHILD_SA_DEAD] = "DEAD",
};

const char *child_sa_state_name(enum child_sa_state s)
{
    return (unsigned)s <= CHILD_SA_DEAD ? child_state_names[s] : "?";
}

static const char *const xchg_kind_names[] = {
    [IKE_XCHG_NONE] = "none",
    [IKE_XCHG_SA_INIT] = "IKE_SA_INIT",
    [IKE_XCHG_AUTH] = "IKE_AUTH",
    [IKE_XCHG_CREATE_CHILD] = "CREATE_CHILD",
    [IKE_XCHG_REKEY_CHILD] = "REKEY_CHILD",
    [IKE_XCHG_REKEY_IKE] = "REKEY_IKE",
    [IKE_XCHG_DELETE_CHILD] = "DELETE_CHILD",
    [IKE_XCHG_DELETE_IKE] = "DELETE_IKE",
    [IKE_XCHG_INFO] = "INFORMATIONAL",
    [IKE_XCHG_CLONE] = "CLONE",
    [IKE_XCHG_UPDATE_ADDRESSES] = "UPDATE_SA_ADDRESSES",
    [IKE_XCHG_ROUTABILITY] = "ROUTABILITY_CHECK",
};

const char *ike_xchg_kind_name(enum ike_xchg_kind k)
{
    return (unsigned)k <= IKE_XCHG_KIND_LAST ? xchg_kind_names[k] : "?";
}

uint8_t ike_xchg_exchange(enum ike_xchg_kind k)
{
    switch (k) {
    case IKE_XCHG_SA_INIT:
        return IKE_SA_INIT;
    case IKE_XCHG_AUTH:
        return IKE_AUTH;
    case IKE_XCHG_CREATE_CHILD:
    case IKE_XCHG_REKEY_CHILD:
    case IKE_XCHG_REKEY_IKE:
    case IKE_XCHG_CLONE:
        return IKE_CREATE_CHILD_SA;
    case IKE_XCHG_DELETE_CHILD:
    case IKE_XCHG_DELETE_IKE:
    case IKE_XCHG_INFO:
    case IKE_XCHG_UPDATE_ADDRESSES:
    case IKE_XCHG_ROUTABILITY:
        return IKE_INFORMATIONAL;
    case IKE_XCHG_NONE:
        break;
    }
    return 0;
}

/* Allowed IKE SA moves, one bit per target state. */
static bool ike_move_ok(enum ike_sa_state from, enum ike_sa_state to)
{
    if (to == IKE_SA_DEAD)
        return from != IKE_SA_DEAD;
    switch (from) {
    case IKE_SA_INIT_SENT:
        /* ESTABLISHED directly: the new SA of an IKE rekey we initiated (2.18). */
        return to == IKE_SA_INIT_SENT || to == IKE_SA_AUTH_SENT || to == IKE_SA_ESTABLISHED;
    case IKE_SA_INIT_RCVD:
        return to == IKE_SA_ESTABLISHED;
    case IKE_SA_AUTH_SENT:
        /* DELETING: the responder failed our check of its AUTH (2.21.2). */
        return to == IKE_SA_ESTABLISHED || to == IKE_SA_DELETING;
    case IKE_SA_ESTABLISHED:
        return to == IKE_SA_REKEYED || to == IKE_SA_DELETING;
    case IKE_SA_REKEYED:
        return to == IKE_SA_DELETING;
    case IKE_SA_DELETING:
    case IKE_SA_DEAD:
        return false;
    }
    return false;
}

char *ike_sa_name(const struct ike_sa *sa, char *buf, size_t len)
{
    char *p = buf;
    if (len < 2 * 2 * IKE_SPI_LEN + 2)
        return strcpy(buf, "");
    for (int i = 0; i < IKE_SPI_LEN; i++, p += 2)
        sprintf(p, "%02x", sa->spi_i[i]);
    *p++ = '_';
    for (int i = 0; i < IKE_SPI_LEN; i++, p += 2)
        sprintf(p, "%02x", sa->spi_r[i]);
    return buf;
}

int ike_sa_set_state(struct ike_sa *sa, enum ike_sa_state to, const struct hk_log *log)
{
    char name[40];
    if (!ike_move_ok(sa->state, to)) {
        hk_err(log, "IKE SA %s [%s]: refused state change %s -> %s", ike_sa_name(sa, name, 40),
               sa->conn, ike_sa_state_name(sa->state), ike_sa_state_name(to));
        return HK_E_STATE;
    }
    if (sa->state != to)
        hk_debug(log, "IKE SA %s [%s]: %s -> %s", ike_sa_name(sa, name, 40), sa->conn,
                 ike_sa_state_name(sa->state), ike_sa_state_name(to));
    sa->state = to;
    return HK_OK;
}

static bool child_move_ok(enum child_sa_state from, enum child_sa_state to)
{
    if (to == CHILD_SA_DEAD)
        return from != CHILD_SA_DEAD;
    switch (from) {
    case CHILD_SA_CREATING:
        return to == CHILD_SA_INSTALLED;
    case CHILD_SA_INSTALLED:
        return to == CHILD_SA_REKEYED || to == CHILD_SA_DELETING;
    case CHILD_SA_REKEYED:
        return to == CHILD_SA_DELETING;
    case CHILD_SA_DELETING:
    case CHILD_SA_DEAD:
        return false;
    }
    return false;
}

int child_sa_set_state(struct child_sa *c, enum child_sa_state to, const struct hk_log *log)
{
    if (!child_move_ok(c->state, to)) {
        hk_err(log, "Child SA %s %08x/%08x: refused state change %s -> %s", c->name, c->spi_in,
               c->spi_out, child_sa_state_name(c->state), child_sa_state_name(to));
        return HK_E_STATE;
    }
    if (c->state != to)
        hk_debug(log, "Child SA %s %08x/%08x: %s -> %s", c->name, c->spi_in, c->spi_out,
                 child_sa_state_name(c->state), child_sa_state_name(to));
    c->state = to;
    return HK_OK;
}

static struct ike_ts *ts_copy(const struct ike_ts *ts, size_t n)
{
    struct ike_ts *o = calloc(n ? n : 1, sizeof(*o));
    if (o && n)
        memcpy(o, ts, n * sizeof(*o));
    return o;
}

int child_sa_set_ts(struct child_sa *c, const struct ike_ts *local, size_t nl,
                    const struct ike_ts *remote, size_t nr)
{
    struct ike_ts *l = ts_copy(local, nl), *r = ts_copy(remote, nr);
    if (!l || !r) {
        free(l);
        free(r);
        return HK_E_NOMEM;
    }
    free(c->ts_local);
    free(c->ts_remote);
    c->ts_local = l;
    c->nts_local = nl;
    c->ts_remote = r;
    c->nts_remote = nr;
    return HK_OK;
}

int ike_sa_add_child(struct ike_sa *sa, uint64_t child_id)
{
    uint64_t *n = realloc(sa->children, (sa->nchildren + 1) * sizeof(*n));
    if (!n)
        return HK_E_NOMEM;
    n[sa->nchildren++] = child_id;
    sa->children = n;
    return HK_OK;
}

void ike_sa_remove_child(struct ike_sa *sa, uint64_t child_id)
{
    for (size_t i = 0; i < sa->nchildren; i++)
        if (sa->children[i] == child_id) {
            sa->children[i] = sa->children[--sa->nchildren];
            return;
        }
}

void ike_sa_free(struct ike_sa *sa)
{
    if (!sa)
        return;
    hk_ike_keys_free(&sa->keys);
    hk_sk_cipher_free(sa->sk_out);
    hk_sk_cipher_free(sa->sk_in);
    hk_ke_free(sa->ke);
    ike_bytes_clear(&sa->ni);
    ike_bytes_clear(&sa->nr);
    ike_bytes_clear(&sa->init_req);
    ike_bytes_clear(&sa->init_resp);
    ike_bytes_clear(&sa->cookie);
    ike_bytes_clear(&sa->peer_xchg.nonce);
    hk_ke_free(sa->xchg.ke);
    ike_bytes_clear(&sa->xchg.nonce);
    ike_bytes_clear(&sa->peer_id.data);
    ike_bytes_clear(&sa->local_id.data);
    free(sa->peer_addrs);
    hk_secret_free(&sa->skeyseed);
    hk_secret_free(&sa->dh_private);
    ike_bytes_clear(&sa->peer_ke);
    ike_sent_clear(&sa->out);
    ike_sent_clear(&sa->resp);
    ike_frag_in_clear(&sa->frag);
    free(sa->children);
    hk_wipe(sa, sizeof(*sa));
    free(sa);
}

void ike_sa_idle(struct ike_sa *sa)
{
    hk_sk_cipher_idle(sa->sk_out);
    hk_sk_cipher_idle(sa->sk_in);
}

void child_sa_free(struct child_sa *c)
{
    if (!c)
        return;
    hk_child_keys_free(&c->keys);
    free(c->ts_local);
    free(c->ts_remote);
    hk_wipe(c, sizeof(*c));
    free(c);
}

struct hk_dp_path ike_sa_dp_path(const struct ike_sa *sa)
{
    uint16_t lport = hk_sockaddr_port(&sa->local);
    return (struct hk_dp_path){.local = sa->local,
                               .remote = sa->remote,
                               .udp = sa->nat_local || sa->nat_remote || lport != 500};
}

int ike_sa_inherit(struct ike_sa *ns, const struct ike_sa *sa)
{
    ns->local = sa->local;
    ns->remote = sa->remote;
    ns->nat_local = sa->nat_local;
    ns->nat_remote = sa->nat_remote;
    ns->ext = sa->ext;
    ns->family = sa->family; /* RFC 7791: rekeys and clones stay in the family */
    ns->family_start_ms = sa->family_start_ms;
    ns->peer_id.type = sa->peer_id.type;
    ns->local_id.type = sa->local_id.type;
    ns->local_auth = sa->local_auth;
    ns->peer_auth = sa->peer_auth;
    int rc = ike_bytes_set(&ns->peer_id.data, sa->peer_id.data.p, sa->peer_id.data.len);
    if (!rc)
        rc = ike_bytes_set(&ns->local_id.data, sa->local_id.data.p, sa->local_id.data.len);
    if (!rc && sa->npeer_addrs) {
        free(ns->peer_addrs);
        ns->peer_addrs = malloc(sa->npeer_addrs * sizeof(*ns->peer_addrs));
        if (ns->peer_addrs) {
            memcpy(ns->peer_addrs, sa->peer_addrs, sa->npeer_addrs * sizeof(*ns->peer_addrs));
            ns->npeer_addrs = sa->npeer_addrs;
        } else {
            rc = HK_E_NOMEM;
        }
    }
    return rc;
}

void ike_sa_trim_context_keys(struct ike_sa *sa, enum hk_context_keys keep)
{
    if (keep < HK_CONTEXT_KEYS_DH) {
        hk_secret_free(&sa->dh_private);
        ike_bytes_clear(&sa->peer_ke);
    }
    if (keep < HK_CONTEXT_KEYS_SKEYSEED)
        hk_secret_free(&sa->skeyseed);
}
