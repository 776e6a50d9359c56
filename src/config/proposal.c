#include "config/proposal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "crypto/alg.h"
#include "config/conf_err.h"

enum kind { K_ENCR, K_PRF, K_INTEG, K_KE, K_ESN };

static const char *const kind_names[] = {"encryption", "PRF", "integrity", "key exchange", "ESN"};

struct keyword {
    const char *name;
    enum kind kind;
    uint16_t id;
    uint16_t key_bits;
    bool aead;
};

/* The first keyword of a (kind, id, key_bits) is the canonical one hk_proposal_format prints. */
static const struct keyword keywords[] = {
    {"aes128", K_ENCR, HK_ENCR_AES_CBC, 128, false},
    {"aes192", K_ENCR, HK_ENCR_AES_CBC, 192, false},
    {"aes256", K_ENCR, HK_ENCR_AES_CBC, 256, false},
    {"aes128gcm16", K_ENCR, HK_ENCR_AES_GCM_16, 128, true},
    {"aes256gcm16", K_ENCR, HK_ENCR_AES_GCM_16, 256, true},
    {"aes128gcm", K_ENCR, HK_ENCR_AES_GCM_16, 128, true},
    {"aes256gcm", K_ENCR, HK_ENCR_AES_GCM_16, 256, true},
    {"chacha20poly1305", K_ENCR, HK_ENCR_CHACHA20_POLY1305, 0, true},
    {"prfsha256", K_PRF, HK_PRF_HMAC_SHA2_256, 0, false},
    {"prfsha384", K_PRF, HK_PRF_HMAC_SHA2_384, 0, false},
    {"prfsha512", K_PRF, HK_PRF_HMAC_SHA2_512, 0, false},
    {"sha256", K_INTEG, HK_AUTH_HMAC_SHA2_256_128, 0, false},
    {"sha384", K_INTEG, HK_AUTH_HMAC_SHA2_384_192, 0, false},
    {"sha512", K_INTEG, HK_AUTH_HMAC_SHA2_512_256, 0, false},
    {"modp2048", K_KE, HK_KE_MODP2048, 0, false},
    {"ecp256", K_KE, HK_KE_ECP256, 0, false},
    {"ecp384", K_KE, HK_KE_ECP384, 0, false},
    {"x25519", K_KE, HK_KE_CURVE25519, 0, false},
    {"curve25519", K_KE, HK_KE_CURVE25519, 0, false},
    {"esn", K_ESN, HK_ESN_YES, 0, false},
    {"noesn", K_ESN, HK_ESN_NO, 0, false},
};
#define NKEYWORDS (sizeof(keywords) / sizeof(keywords[0]))

static const struct keyword *find_keyword(const char *tok)
{
    for (size_t i = 0; i < NKEYWORDS; i++)
        if (strcasecmp(tok, keywords[i].name) == 0)
            return &keywords[i];
    return NULL;
}

static const struct keyword *canonical(enum kind kind, uint16_t id, uint16_t key_bits)
{
    for (size_t i = 0; i < NKEYWORDS; i++)
        if (keywords[i].kind == kind && keywords[i].id == id && keywords[i].key_bits == key_bits)
            return &keywords[i];
    return NULL;
}

static bool is_aead_id(uint16_t id)
{
    return id == HK_ENCR_AES_GCM_16 || id == HK_ENCR_CHACHA20_POLY1305;
}

bool hk_proposal_is_aead(const struct hk_proposal_conf *p)
{
    return p->nencr > 0 && is_aead_id(p->encr[0].id);
}

/* Appends id to list (of n entries), refusing duplicates and overflow. */
static int add_id(uint16_t *list, uint8_t *n, uint16_t id, const char *tok, char *err,
                  size_t errlen)
{
    for (uint8_t i = 0; i < *n; i++)
        if (list[i] == id)
            return hk_conf_errf(err, errlen, "'%s' listed twice", tok);
    if (*n >= HK_PROPOSAL_MAX_ALGS)
        return hk_conf_errf(err, errlen, "more than %d algorithms of one type",
                            HK_PROPOSAL_MAX_ALGS);
    list[(*n)++] = id;
    return 0;
}

static int add_keyword(struct hk_proposal_conf *p, const struct keyword *k, const char *tok,
                       char *err, size_t errlen)
{
    bool ike = p->proto == HK_PROPOSAL_IKE;
    switch (k->kind) {
    case K_ENCR:
        for (uint8_t i = 0; i < p->nencr; i++) {
            if (p->encr[i].id == k->id && p->encr[i].key_bits == k->key_bits)
                return hk_conf_errf(err, errlen, "'%s' listed twice", tok);
            if (is_aead_id(p->encr[i].id) != k->aead) /* RFC 7296 3.3 */
                return hk_conf_errf(err, errlen,
                                    "'%s': AEAD and non-AEAD ciphers cannot share a proposal; "
                                    "write two proposals",
                                    tok);
        }
        if (p->nencr >= HK_PROPOSAL_MAX_ALGS)
            return hk_conf_errf(err, errlen, "more than %d algorithms of one type",
                                HK_PROPOSAL_MAX_ALGS);
        p->encr[p->nencr].id = k->id;
        p->encr[p->nencr].key_bits = k->key_bits;
        p->nencr++;
        return 0;
    case K_PRF:
        if (!ike)
            return hk_conf_errf(err, errlen, "'%s': ESP proposals have no PRF", tok);
        return add_id(p->prf, &p->nprf, k->id, tok, err, errlen);
    case K_INTEG:
        return add_id(p->integ, &p->ninteg, k->id, tok, err, errlen);
    case K_KE:
        return add_id(p->ke, &p->nke, k->id, tok, err, errlen);
    case K_ESN: {
        if (ike)
            return hk_conf_errf(err, errlen, "'%s': ESN is an ESP option, not IKE", tok);
        uint16_t esn[2] = {p->esn[0], p->esn[1]};
        int rc = add_id(esn, &p->nesn, k->id, tok, err, errlen);
        p->esn[0] = (uint8_t)esn[0];
        p->esn[1] = (uint8_t)esn[1];
        return rc;
    }
    }
    return HK_E_INVALID;
}

/* The PRF matching an integrity algorithm's hash. */
static uint16_t prf_for_integ(uint16_t integ)
{
    switch (integ) {
    case HK_AUTH_HMAC_SHA2_256_128:
        return HK_PRF_HMAC_SHA2_256;
    case HK_AUTH_HMAC_SHA2_384_192:
        return HK_PRF_HMAC_SHA2_384;
    default:
        return HK_PRF_HMAC_SHA2_512;
    }
}

static int complete(struct hk_proposal_conf *p, const char *s, char *err, size_t errlen)
{
    bool ike = p->proto == HK_PROPOSAL_IKE;
    if (p->nencr == 0)
        return hk_conf_errf(err, errlen, "'%.100s': no encryption algorithm", s);
    bool aead = hk_proposal_is_aead(p);
    if (aead && p->ninteg)
        return hk_conf_errf(err, errlen,
                            "'%.100s': AEAD ciphers take no integrity algorithm (RFC 5282 8)", s);
    if (!aead && !p->ninteg)
        return hk_conf_errf(err, errlen, "'%.100s': no integrity algorithm", s);
    if (ike && !p->nprf) {
        if (aead)
            return hk_conf_errf(err, errlen,
                                "'%.100s': no PRF (an AEAD proposal needs one, e.g. prfsha256)", s);
        for (uint8_t i = 0; i < p->ninteg; i++)
            add_id(p->prf, &p->nprf, prf_for_integ(p->integ[i]), "", NULL, 0);
    }
    if (ike && !p->nke)
        return hk_conf_errf(err, errlen, "'%.100s': no key exchange group", s);
    if (!ike && !p->nesn)
        p->esn[p->nesn++] = HK_ESN_NO;
    return 0;
}

int hk_proposal_parse(const char *s, int proto, struct hk_proposal_conf *out, char *err,
                      size_t errlen)
{
    char buf[256];
    memset(out, 0, sizeof(*out));
    if (proto != HK_PROPOSAL_IKE && proto != HK_PROPOSAL_ESP)
        return HK_E_INVALID;
    out->proto = proto;
    if (s[0] == '\0')
        return hk_conf_errf(err, errlen, "empty proposal");
    if (strlen(s) >= sizeof(buf))
        return hk_conf_errf(err, errlen, "proposal too long");
    strcpy(buf, s);

    char *tok = buf;
    for (;;) {
        char *dash = strchr(tok, '-');
        if (dash)
            *dash = '\0';
        if (tok[0] == '\0')
            return hk_conf_errf(err, errlen, "'%.100s': empty algorithm name", s);
        const struct keyword *k = find_keyword(tok);
        if (!k)
            return hk_conf_errf(err, errlen, "unknown algorithm '%.32s'", tok);
        int rc = add_keyword(out, k, k->name, err, errlen);
        if (rc < 0)
            return rc;
        if (!dash)
            break;
        tok = dash + 1;
    }
    return complete(out, s, err, errlen);
}

static int append(char *buf, size_t len, size_t *off, const char *word)
{
    int n = snprintf(buf + *off, len - *off, "%s%s", *off ? "-" : "", word);
    if (n < 0 || (size_t)n >= len - *off)
        return HK_E_OVERFLOW;
    *off += (size_t)n;
    return 0;
}

static int append_kw(char *buf, size_t len, size_t *off, enum kind kind, uint16_t id,
                     uint16_t key_bits)
{
    const struct keyword *k = canonical(kind, id, key_bits);
    char num[32];
    if (!k) { /* not from hk_proposal_parse; still say something useful */
        snprintf(num, sizeof(num), "%s%u", kind_names[kind], id);
        return append(buf, len, off, num);
    }
    return append(buf, len, off, k->name);
}

int hk_proposal_format(const struct hk_proposal_conf *p, char *buf, size_t len)
{
    size_t off = 0;
    int rc = 0;
    if (!len)
        return HK_E_OVERFLOW;
    buf[0] = '\0';
    for (uint8_t i = 0; i < p->nencr && !rc; i++)
        rc = append_kw(buf, len, &off, K_ENCR, p->encr[i].id, p->encr[i].key_bits);
    for (uint8_t i = 0; i < p->ninteg && !rc; i++)
        rc = append_kw(buf, len, &off, K_INTEG, p->integ[i], 0);
    for (uint8_t i = 0; i < p->nprf && !rc; i++)
        rc = append_kw(buf, len, &off, K_PRF, p->prf[i], 0);
    for (uint8_t i = 0; i < p->nke && !rc; i++)
        rc = append_kw(buf, len, &off, K_KE, p->ke[i], 0);
    bool default_esn = p->nesn == 1 && p->esn[0] == HK_ESN_NO;
    for (uint8_t i = 0; i < p->nesn && !default_esn && !rc; i++)
        rc = append_kw(buf, len, &off, K_ESN, p->esn[i], 0);
    return rc;
}
