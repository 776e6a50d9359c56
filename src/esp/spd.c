#include "esp/spd.h"

#include "common/err.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

struct hk_spd_entry {
    uint64_t id;
    int64_t order; /* lower goes first */
    const struct hk_sel *sel;
    void *arg;      /* the caller's, returned by hk_spd_lookup_arg */
    uint8_t nnodes; /* indexed: one per remote selector; else one, in the scan list */
    bool indexed;
    bool own_sel; /* sel is a copy of the entry's own (hk_spd_add), else the caller's */
    struct hk_spd_node nodes[];
};

static uint64_t mix(uint64_t x)
{
    /* splitmix64 finaliser */
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static bool ts_v6(const struct ike_ts *ts)
{
    return ts->type == IKE_TS_IPV6_ADDR_RANGE; /* hk_ts_match takes every other type as IPv4 */
}

/* The length of the CIDR prefix the selector's address range is, or -1 when it is none. */
static int ts_prefix_len(const struct ike_ts *ts)
{
    size_t alen = ts_v6(ts) ? 16 : 4, i = 0;
    const uint8_t *a = ts->start_addr, *b = ts->end_addr;
    while (i < alen && a[i] == b[i])
        i++;
    if (i == alen)
        return (int)(8 * alen);
    uint8_t d = a[i] ^ b[i];
    int k = 0;
    while (!(d & (0x80 >> k)))
        k++;
    uint8_t host = (uint8_t)(0xff >> k);
    if ((a[i] & host) || (b[i] & host) != host)
        return -1;
    for (size_t j = i + 1; j < alen; j++)
        if (a[j] != 0 || b[j] != 0xff)
            return -1;
    return (int)(8 * i) + k;
}

/*
 * The bucket of addr/len. Seeded, so a peer cannot pick selectors that share a bucket; a
 * collision would cost only time, since every candidate is matched in full.
 */
static uint64_t prefix_key(const struct hk_spd *s, bool v6, unsigned len, const uint8_t *addr)
{
    uint8_t m[16] = {0};
    memcpy(m, addr, len / 8);
    if (len % 8)
        m[len / 8] = addr[len / 8] & (uint8_t)(0xff << (8 - len % 8));
    uint64_t a, b;
    memcpy(&a, m, 8);
    memcpy(&b, m + 8, 8);
    uint64_t h = mix(s->seed ^ ((uint64_t)len << 1 | v6));
    h = mix(h ^ a);
    return mix(h ^ b);
}

/* Entries get order numbers below or above all others, so a list stays sorted when an
 * entry added first goes to its head and one added last to its tail. */
static void list_link(struct hk_spd_list *l, struct hk_spd_node *n, bool first)
{
    if (first) {
        n->prev = NULL;
        n->next = l->head;
        if (l->head)
            l->head->prev = n;
        else
            l->tail = n;
        l->head = n;
    } else {
        n->next = NULL;
        n->prev = l->tail;
        if (l->tail)
            l->tail->next = n;
        else
            l->head = n;
        l->tail = n;
    }
}

static void list_unlink(struct hk_spd_list *l, struct hk_spd_node *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        l->head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        l->tail = n->prev;
}

void hk_spd_init(struct hk_spd *s, uint64_t seed)
{
    memset(s, 0, sizeof(*s));
    s->seed = seed;
    hk_u64map_init(&s->by_id, seed ^ 0x9e3779b97f4a7c15ULL);
    hk_u64map_init(&s->by_prefix, seed ^ 0x2545f4914f6cdd1dULL);
}

static void entry_free(struct hk_spd_entry *e)
{
    if (e->own_sel)
        free((void *)e->sel);
    free(e);
}

void hk_spd_free(struct hk_spd *s)
{
    size_t pos = 0;
    void *v;
    while ((v = hk_u64map_next(&s->by_id, &pos, NULL)))
        entry_free(v);
    pos = 0;
    while ((v = hk_u64map_next(&s->by_prefix, &pos, NULL)))
        free(v);
    hk_u64map_free(&s->by_id);
    hk_u64map_free(&s->by_prefix);
    memset(s, 0, sizeof(*s));
}

/* Takes node i of e (remote selector i, of prefix length len) into its bucket. */
static int index_link(struct hk_spd *s, struct hk_spd_entry *e, size_t i, int len, bool first)
{
    const struct ike_ts *ts = &hk_sel_remote(e->sel)[i];
    struct hk_spd_node *n = &e->nodes[i];
    n->key = prefix_key(s, ts_v6(ts), (unsigned)len, ts->start_addr);
    struct hk_spd_list *b = hk_u64map_get(&s->by_prefix, n->key);
    if (!b) {
        b = calloc(1, sizeof(*b));
        if (!b)
            return HK_E_NOMEM;
        int rc = hk_u64map_put(&s->by_prefix, n->key, b);
        if (rc) {
            free(b);
            return rc;
        }
    }
    list_link(b, n, first);
    s->nlen[ts_v6(ts)][len]++;
    return HK_OK;
}

static void index_unlink(struct hk_spd *s, struct hk_spd_entry *e, size_t i)
{
    const struct ike_ts *ts = &hk_sel_remote(e->sel)[i];
    struct hk_spd_node *n = &e->nodes[i];
    struct hk_spd_list *b = hk_u64map_get(&s->by_prefix, n->key);
    list_unlink(b, n);
    if (!b->head)
        free(hk_u64map_del(&s->by_prefix, n->key));
    s->nlen[ts_v6(ts)][ts_prefix_len(ts)]--;
}

static void entry_unlink(struct hk_spd *s, struct hk_spd_entry *e, size_t nlinked)
{
    for (size_t i = 0; i < nlinked; i++)
        if (e->indexed)
            index_unlink(s, e, i);
        else
            list_unlink(&s->scan, &e->nodes[i]);
}

/* Adds the entry of id over sel; own: the entry frees sel with itself (also on failure). */
static int spd_add(struct hk_spd *s, uint64_t id, const struct hk_sel *sel, bool own, void *arg,
                   bool first)
{
    if (!sel)
        return HK_E_NOMEM;
    if (sel->nlocal > HK_SPD_MAX_TS || sel->nremote > HK_SPD_MAX_TS) {
        if (own)
            free((void *)sel);
        return HK_E_INVALID;
    }
    hk_spd_del(s, id);
    int lens[HK_SPD_MAX_TS];
    const struct ike_ts *remote = hk_sel_remote(sel);
    bool indexed = sel->nremote > 0;
    for (size_t i = 0; i < sel->nremote; i++)
        if ((lens[i] = ts_prefix_len(&remote[i])) < 0)
            indexed = false;
    size_t nn = indexed ? sel->nremote : 1;
    struct hk_spd_entry *e = calloc(1, sizeof(*e) + nn * sizeof(e->nodes[0]));
    if (!e) {
        if (own)
            free((void *)sel);
        return HK_E_NOMEM;
    }
    e->sel = sel;
    e->own_sel = own;
    e->arg = arg;
    e->id = id;
    e->order = first ? --s->lo : ++s->hi;
    e->nnodes = (uint8_t)nn;
    e->indexed = indexed;
    int rc = hk_u64map_put(&s->by_id, id, e);
    for (size_t i = 0; i < nn && !rc; i++) {
        e->nodes[i].e = e;
        if (!indexed) {
            list_link(&s->scan, &e->nodes[i], first);
        } else if ((rc = index_link(s, e, i, lens[i], first))) {
            entry_unlink(s, e, i);
            hk_u64map_del(&s->by_id, id);
        }
    }
    if (rc)
        entry_free(e);
    return rc;
}

int hk_spd_add(struct hk_spd *s, uint64_t id, const struct ike_ts *local, size_t nlocal,
               const struct ike_ts *remote, size_t nremote, bool first)
{
    if (nlocal > HK_SPD_MAX_TS || nremote > HK_SPD_MAX_TS)
        return HK_E_INVALID;
    return spd_add(s, id, hk_sel_new(local, nlocal, remote, nremote), true, NULL, first);
}

int hk_spd_add_sel(struct hk_spd *s, uint64_t id, const struct hk_sel *sel, void *arg, bool first)
{
    return spd_add(s, id, sel, false, arg, first);
}

void hk_spd_del(struct hk_spd *s, uint64_t id)
{
    struct hk_spd_entry *e = hk_u64map_del(&s->by_id, id);
    if (!e)
        return;
    entry_unlink(s, e, e->nnodes);
    entry_free(e);
}

size_t hk_spd_count(const struct hk_spd *s)
{
    return hk_u64map_count(&s->by_id);
}

/* The first entry of l (in order) that takes the packet, if it goes before best. */
static const struct hk_spd_entry *first_match(const struct hk_spd_list *l,
                                              const struct hk_pkt_sel *p,
                                              const struct hk_spd_entry *best)
{
    for (const struct hk_spd_node *n = l->head; n; n = n->next) {
        if (best && n->e->order >= best->order)
            break;
        if (hk_sel_out(n->e->sel, p))
            return n->e;
    }
    return best;
}

static const struct hk_spd_entry *lookup_out(const struct hk_spd *s, const struct hk_pkt_sel *p)
{
    const struct hk_spd_entry *best = NULL;
    bool v6 = p->family == AF_INET6;
    for (unsigned len = 0; len <= (v6 ? 128u : 32u); len++) {
        if (!s->nlen[v6][len])
            continue;
        const struct hk_spd_list *b = hk_u64map_get(&s->by_prefix, prefix_key(s, v6, len, p->dst));
        if (b)
            best = first_match(b, p, best);
    }
    return first_match(&s->scan, p, best);
}

uint64_t hk_spd_lookup_out(const struct hk_spd *s, const struct hk_pkt_sel *p)
{
    const struct hk_spd_entry *e = lookup_out(s, p);
    return e ? e->id : 0;
}

void *hk_spd_lookup_arg(const struct hk_spd *s, const struct hk_pkt_sel *p)
{
    const struct hk_spd_entry *e = lookup_out(s, p);
    return e ? e->arg : NULL;
}

bool hk_spd_check_in(const struct hk_spd *s, uint64_t id, const struct hk_pkt_sel *p)
{
    const struct hk_spd_entry *e = hk_u64map_get(&s->by_id, id);
    return e && hk_sel_in(e->sel, p);
}
