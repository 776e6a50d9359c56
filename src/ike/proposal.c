#include "ike/proposal.h"

#include "common/err.h"
#include "crypto/alg.h"

#include <stdio.h>
#include <string.h>

static bool is_aead(uint16_t encr)
{
    return encr == HK_ENCR_AES_GCM_16 || encr == HK_ENCR_CHACHA20_POLY1305;
}

/* The Key Length attribute of a transform: 0 when absent, -1 when an attribute is unknown. */
static int transform_key_bits(const struct ike_transform *t)
{
    int bits = 0;
    for (uint8_t i = 0; i < t->nattrs; i++) {
        if (t->attrs[i].type != IKE_ATTR_KEY_LENGTH || !t->attrs[i].tv)
            return -1; /* 3.3.6: a transform with an unknown attribute is not acceptable */
        bits = t->attrs[i].value;
    }
    return bits;
}

/* Whether configured proposal c lists transform (type, id, bits). */
static bool conf_has(const struct hk_proposal_conf *c, uint8_t type, uint16_t id, int bits)
{
    switch (type) {
    case IKE_TRANS_ENCR:
        for (uint8_t i = 0; i < c->nencr; i++)
            if (c->encr[i].id == id && c->encr[i].key_bits == bits)
                return true;
        return false;
    case IKE_TRANS_PRF:
        for (uint8_t i = 0; i < c->nprf; i++)
            if (c->prf[i] == id && bits == 0)
                return true;
        return false;
    case IKE_TRANS_INTEG:
        for (uint8_t i = 0; i < c->ninteg; i++)
            if (c->integ[i] == id && bits == 0)
                return true;
        /* AUTH_NONE alongside an AEAD cipher is harmless (RFC 5282 8). */
        return c->ninteg == 0 && id == HK_AUTH_NONE && bits == 0;
    case IKE_TRANS_KE:
        for (uint8_t i = 0; i < c->nke; i++)
            if (c->ke[i] == id && bits == 0)
                return true;
        return false;
    case IKE_TRANS_ESN:
        for (uint8_t i = 0; i < c->nesn; i++)
            if (c->esn[i] == id && bits == 0)
                return true;
        return c->nesn == 0 && id == HK_ESN_NO && bits == 0;
    }
    return false;
}

/*
 * Tries to match one offered proposal against one configured proposal; fills out with
 * the first acceptable transform of each type.
 */
static bool match(const struct ike_proposal *p, const struct hk_proposal_conf *c, bool ignore_ke,
                  struct ike_chosen *out)
{
    struct ike_chosen r = {.num = p->num, .protocol = p->protocol, .esn = HK_ESN_NO};
    bool seen[6] = {false}, got[6] = {false};
    if (p->spi.len > sizeof(r.spi))
        return false;
    r.spi_len = (uint8_t)p->spi.len;
    if (p->spi.len)
        memcpy(r.spi, p->spi.p, p->spi.len);

    for (size_t i = 0; i < p->ntransforms; i++) {
        const struct ike_transform *t = &p->transforms[i];
        if (t->type < IKE_TRANS_ENCR || t->type > IKE_TRANS_ESN)
            return false; /* 2.7: an unsupported transform type rejects the proposal */
        seen[t->type] = true;
        if (got[t->type] || (t->type == IKE_TRANS_KE && ignore_ke))
            continue;
        int bits = transform_key_bits(t);
        if (bits < 0 || !conf_has(c, t->type, t->id, bits))
            continue;
        got[t->type] = true;
        switch (t->type) {
        case IKE_TRANS_ENCR:
            r.encr = t->id, r.encr_key_bits = (uint16_t)bits;
            break;
        case IKE_TRANS_PRF:
            r.prf = t->id;
            break;
        case IKE_TRANS_INTEG:
            r.integ = t->id;
            break;
        case IKE_TRANS_KE:
            r.ke = t->id;
            break;
        case IKE_TRANS_ESN:
            r.esn = (uint8_t)t->id;
            break;
        }
    }
    /* Every type the peer offered must be matched... */
    for (int t = IKE_TRANS_ENCR; t <= IKE_TRANS_ESN; t++)
        if (seen[t] && !got[t] && !(t == IKE_TRANS_KE && ignore_ke))
            return false;
    /* ...and every type we require must have been offered (3.3.3). */
    if (!got[IKE_TRANS_ENCR])
        return false;
    if (!is_aead(r.encr) && !r.integ)
        return false;
    if (is_aead(r.encr) && r.integ)
        return false;
    if (p->protocol == IKE_PROTO_IKE && (!got[IKE_TRANS_PRF] || !got[IKE_TRANS_KE]))
        return false;
    if (p->protocol == IKE_PROTO_ESP && c->nke && !ignore_ke && !got[IKE_TRANS_KE])
        return false; /* we require PFS */
    *out = r;
    return true;
}

int ike_sa_choose(const struct ike_pl_sa *offer, const struct hk_proposal_conf *conf, size_t n,
                  uint8_t protocol, bool ignore_ke, struct ike_chosen *out)
{
    for (size_t i = 0; i < offer->nproposals; i++) {
        const struct ike_proposal *p = &offer->proposals[i];
        if (p->protocol != protocol)
            continue;
        for (size_t j = 0; j < n; j++)
            if (match(p, &conf[j], ignore_ke, out))
                return HK_OK;
    }
    return HK_E_NOTFOUND;
}

int ike_sa_check_reply(const struct ike_pl_sa *reply, const struct hk_proposal_conf *conf, size_t n,
                       uint8_t protocol, bool ignore_ke, struct ike_chosen *out)
{
    if (reply->nproposals != 1 || reply->proposals[0].protocol != protocol)
        return HK_E_SYNTAX;
    const struct ike_proposal *p = &reply->proposals[0];
    bool seen[6] = {false};
    for (size_t i = 0; i < p->ntransforms; i++) {
        uint8_t t = p->transforms[i].type;
        if (t >= 1 && t <= 5) {
            if (seen[t])
                return HK_E_SYNTAX; /* 3.3: a reply has one transform of each type */
            seen[t] = true;
        }
    }
    return ike_sa_choose(reply, conf, n, protocol, ignore_ke, out) ? HK_E_SYNTAX : HK_OK;
}

bool ike_conf_allows_ke(const struct hk_proposal_conf *conf, size_t n, uint16_t g)
{
    for (size_t j = 0; j < n; j++)
        for (uint8_t i = 0; i < conf[j].nke; i++)
            if (conf[j].ke[i] == g)
                return true;
    return false;
}

static void add_transform(struct ike_transform *t, size_t *k, uint8_t type, uint16_t id,
                          uint16_t bits)
{
    struct ike_transform *x = &t[(*k)++];
    memset(x, 0, sizeof(*x));
    x->type = type;
    x->id = id;
    if (bits) {
        x->nattrs = 1;
        x->attrs[0] = (struct ike_attr){.type = IKE_ATTR_KEY_LENGTH, .tv = true, .value = bits};
    }
}

int ike_sa_build(const struct hk_proposal_conf *conf, size_t n, uint8_t protocol,
                 const uint8_t *spi, size_t spi_len, bool no_ke, struct hk_arena *a,
                 struct ike_pl_sa *out)
{
    if (n == 0 || n > 255)
        return HK_E_INVALID;
    struct ike_proposal *props = hk_arena_calloc(a, n, sizeof(*props));
    if (!props)
        return HK_E_NOMEM;
    for (size_t j = 0; j < n; j++) {
        const struct hk_proposal_conf *c = &conf[j];
        size_t max = (size_t)c->nencr + c->nprf + c->ninteg + c->nke + c->nesn + 1;
        struct ike_transform *t = hk_arena_calloc(a, max, sizeof(*t));
        size_t k = 0;
        if (!t)
            return HK_E_NOMEM;
        for (uint8_t i = 0; i < c->nencr; i++)
            add_transform(t, &k, IKE_TRANS_ENCR, c->encr[i].id, c->encr[i].key_bits);
        if (protocol == IKE_PROTO_IKE)
            for (uint8_t i = 0; i < c->nprf; i++)
                add_transform(t, &k, IKE_TRANS_PRF, c->prf[i], 0);
        for (uint8_t i = 0; i < c->ninteg; i++)
            add_transform(t, &k, IKE_TRANS_INTEG, c->integ[i], 0);
        if (!no_ke)
            for (uint8_t i = 0; i < c->nke; i++)
                add_transform(t, &k, IKE_TRANS_KE, c->ke[i], 0);
        if (protocol == IKE_PROTO_ESP) {
            if (c->nesn == 0)
                add_transform(t, &k, IKE_TRANS_ESN, HK_ESN_NO, 0);
            for (uint8_t i = 0; i < c->nesn; i++)
                add_transform(t, &k, IKE_TRANS_ESN, c->esn[i], 0);
        }
        props[j] = (struct ike_proposal){.num = (uint8_t)(j + 1),
                                         .protocol = protocol,
                                         .spi = {spi, spi_len},
                                         .ntransforms = k,
                                         .transforms = t};
    }
    out->nproposals = n;
    out->proposals = props;
    return HK_OK;
}

int ike_sa_build_chosen(const struct ike_chosen *c, const uint8_t *spi, size_t spi_len,
                        struct hk_arena *a, struct ike_pl_sa *out)
{
    struct ike_proposal *p = hk_arena_calloc(a, 1, sizeof(*p));
    struct ike_transform *t = hk_arena_calloc(a, 5, sizeof(*t));
    size_t k = 0;
    if (!p || !t)
        return HK_E_NOMEM;
    add_transform(t, &k, IKE_TRANS_ENCR, c->encr, c->encr_key_bits);
    if (c->prf)
        add_transform(t, &k, IKE_TRANS_PRF, c->prf, 0);
    if (c->integ)
        add_transform(t, &k, IKE_TRANS_INTEG, c->integ, 0);
    if (c->ke)
        add_transform(t, &k, IKE_TRANS_KE, c->ke, 0);
    if (c->protocol == IKE_PROTO_ESP)
        add_transform(t, &k, IKE_TRANS_ESN, c->esn, 0);
    *p = (struct ike_proposal){.num = c->num,
                               .protocol = c->protocol,
                               .spi = {spi, spi_len},
                               .ntransforms = k,
                               .transforms = t};
    out->nproposals = 1;
    out->proposals = p;
    return HK_OK;
}

static const char *encr_name(uint16_t id)
{
    switch (id) {
    case HK_ENCR_AES_CBC:
        return "AES_CBC";
    case HK_ENCR_AES_GCM_16:
        return "AES_GCM_16";
    case HK_ENCR_CHACHA20_POLY1305:
        return "CHACHA20_POLY1305";
    }
    return "ENCR_?";
}

static const char *prf_name(uint16_t id)
{
    switch (id) {
    case HK_PRF_HMAC_SHA2_256:
        return "PRF_HMAC_SHA2_256";
    case HK_PRF_HMAC_SHA2_384:
        return "PRF_HMAC_SHA2_384";
    case HK_PRF_HMAC_SHA2_512:
        return "PRF_HMAC_SHA2_512";
    }
    return "PRF_?";
}

static const char *integ_name(uint16_t id)
{
    switch (id) {
    case HK_AUTH_HMAC_SHA2_256_128:
        return "HMAC_SHA2_256_128";
    case HK_AUTH_HMAC_SHA2_384_192:
        return "HMAC_SHA2_384_192";
    case HK_AUTH_HMAC_SHA2_512_256:
        return "HMAC_SHA2_512_256";
    }
    return "INTEG_?";
}

static const char *ke_name(uint16_t id)
{
    switch (id) {
    case HK_KE_MODP2048:
        return "MODP_2048";
    case HK_KE_ECP256:
        return "ECP_256";
    case HK_KE_ECP384:
        return "ECP_384";
    case HK_KE_CURVE25519:
        return "CURVE_25519";
    }
    return "KE_?";
}

char *ike_chosen_format(const struct ike_chosen *c, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s", encr_name(c->encr));
    if (c->encr_key_bits && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - n, "_%u", c->encr_key_bits);
    if (c->integ && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - n, "/%s", integ_name(c->integ));
    if (c->prf && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - n, "/%s", prf_name(c->prf));
    if (c->ke && n >= 0 && (size_t)n < len)
        n += snprintf(buf + n, len - n, "/%s", ke_name(c->ke));
    if (c->protocol == IKE_PROTO_ESP && n >= 0 && (size_t)n < len)
        snprintf(buf + n, len - n, "/%s", c->esn ? "ESN" : "NO_EXT_SEQ");
    return buf;
}
