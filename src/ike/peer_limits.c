/*
 * Limits of an authenticated peer (max_children, max_ike_sas; max_leases is vip.c's) and the
 * connection's certificate policy. IKE SAs are counted per peer identity in a hash of
 * identities (seeded, full comparison in each chain), so the check at IKE_AUTH costs the same
 * with 100,000 SAs as with one.
 */
#include "ike/conn_match.h"

#include "common/err.h"
#include "crypto/crypto.h"
#include "ike/auth_cert.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(HK_EKU_CONF_SERVER_AUTH == HK_X509_EKU_SERVER_AUTH &&
                   HK_EKU_CONF_CLIENT_AUTH == HK_X509_EKU_CLIENT_AUTH &&
                   HK_EKU_CONF_IPSEC_IKE == HK_X509_EKU_IPSEC_IKE &&
                   HK_EKU_CONF_ANY_EKU == HK_X509_EKU_ANY,
               "remote.eku bits are those of crypto/x509.h");

void conn_cert_policy(const struct hk_conn *conn, struct auth_cert_policy *pol)
{
    const struct hk_remote_auth_conf *r = &conn->remote;
    *pol = (struct auth_cert_policy){
        .eku = r->eku,
        .eku_any = r->eku_any,
        .min_rsa = r->min_rsa_bits,
        .min_ec = r->min_ec_bits,
        .allow_sha1 = r->signature == HK_SIG_CONF_CLASSIC,
    };
}

/* One identity with IKE SAs; the entries of one hash value are chained. */
struct peer_ident {
    struct peer_ident *next;
    uint32_t sas;
    uint8_t type;
    size_t len;
    uint8_t data[];
};

static uint64_t mix(uint64_t x)
{
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* Seeded: a peer cannot choose identities that collide in our table. */
static uint64_t ident_hash(const struct ike_engine *e, uint8_t type, const uint8_t *p, size_t n)
{
    uint64_t h = mix(e->peer_ids.seed ^ ((uint64_t)type << 56) ^ n);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = mix(h ^ w);
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    return mix(h ^ w ^ 0x9e3779b97f4a7c15ULL);
}

static struct peer_ident *ident_find(const struct ike_engine *e, uint64_t h, uint8_t type,
                                     const uint8_t *data, size_t len, struct peer_ident ***link)
{
    struct peer_ident **pp = NULL, *head = hk_u64map_get(&e->peer_ids, h);
    for (struct peer_ident *x = head; x; pp = &x->next, x = x->next) {
        if (x->type == type && x->len == len && (!len || !memcmp(x->data, data, len))) {
            if (link)
                *link = pp; /* NULL: x is the head */
            return x;
        }
    }
    return NULL;
}

void peer_ids_init(struct ike_engine *e)
{
    uint64_t seed = 0;
    hk_random(&seed, sizeof(seed));
    hk_u64map_init(&e->peer_ids, seed);
}

void peer_ids_free(struct ike_engine *e)
{
    size_t pos = 0;
    struct peer_ident *x;
    while ((x = hk_u64map_next(&e->peer_ids, &pos, NULL))) {
        while (x) {
            struct peer_ident *next = x->next;
            free(x);
            x = next;
        }
    }
    hk_u64map_free(&e->peer_ids);
}

void peer_id_count(struct ike_engine *e, struct ike_sa *sa)
{
    const struct ike_id *id = &sa->peer_id;
    if (sa->peer_id_counted || (!id->data.len && !id->type))
        return;
    uint64_t h = ident_hash(e, id->type, id->data.p, id->data.len);
    struct peer_ident *x = ident_find(e, h, id->type, id->data.p, id->data.len, NULL);
    if (!x) {
        x = malloc(sizeof(*x) + id->data.len);
        if (!x)
            return; /* not counted: the limit is lenient rather than the SA refused */
        *x = (struct peer_ident){.type = id->type, .len = id->data.len};
        if (id->data.len)
            memcpy(x->data, id->data.p, id->data.len);
        struct peer_ident *head = hk_u64map_get(&e->peer_ids, h);
        if (head) { /* another identity with this hash: chained behind it */
            x->next = head->next;
            head->next = x;
        } else if (hk_u64map_put(&e->peer_ids, h, x)) {
            free(x);
            return;
        }
    }
    x->sas++;
    sa->peer_id_counted = true;
}

void peer_id_uncount(struct ike_engine *e, struct ike_sa *sa)
{
    const struct ike_id *id = &sa->peer_id;
    if (!sa->peer_id_counted)
        return;
    sa->peer_id_counted = false;
    uint64_t h = ident_hash(e, id->type, id->data.p, id->data.len);
    struct peer_ident **link = NULL;
    struct peer_ident *x = ident_find(e, h, id->type, id->data.p, id->data.len, &link);
    if (!x || --x->sas)
        return;
    if (link) {
        *link = x->next;
    } else {
        hk_u64map_del(&e->peer_ids, h);
        /* The map shrinks never, so the slot just freed takes the next one (a chain exists only
         * for two identities with one 64-bit seeded hash). */
        if (x->next && hk_u64map_put(&e->peer_ids, h, x->next)) {
            for (struct peer_ident *y = x->next, *n; y; y = n) { /* out of memory: lenient */
                n = y->next;
                free(y);
            }
        }
    }
    free(x);
}

uint32_t peer_id_sas(const struct ike_engine *e, uint8_t type, const uint8_t *data, size_t len)
{
    uint64_t h = ident_hash(e, type, data, len);
    const struct peer_ident *x = ident_find(e, h, type, data, len, NULL);
    return x ? x->sas : 0;
}

uint32_t sa_live_children(const struct ike_engine *e, const struct ike_sa *sa)
{
    uint32_t n = 0;
    for (size_t i = 0; i < sa->nchildren; i++) {
        const struct child_sa *c = ike_engine_child(e, sa->children[i]);
        /* A rekeyed child has its successor counted already (a rekey replaces). */
        if (c && (c->state == CHILD_SA_CREATING || c->state == CHILD_SA_INSTALLED))
            n++;
    }
    return n;
}

bool peer_ike_sas_full(struct ike_engine *e, const struct ike_sa *sa, const struct hk_conn *conn,
                       const struct ike_pl_id *id)
{
    uint32_t n = conn->max_ike_sas ? peer_id_sas(e, id->type, id->data.p, id->data.len) : 0;
    if (!conn->max_ike_sas || n < conn->max_ike_sas)
        return false;
    char name[40];
    e->stats.refused_ike_sas++;
    hk_info(e->log,
            "IKE SA %s [%s]: refused: the peer's identity has %u IKE SAs already (max_ike_sas)",
            ike_sa_name(sa, name, sizeof(name)), conn->name, n);
    return true;
}
