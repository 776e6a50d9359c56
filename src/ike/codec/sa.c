/* SA payload: proposals, transforms, attributes (RFC 7296 3.3). */
#include "ike/codec/codec_internal.h"

#define PROPOSAL_HDR_LEN  8
#define TRANSFORM_HDR_LEN 8
#define ATTR_HDR_LEN      4
#define SUB_HDR_LEN       4 /* Last Substruc, RESERVED, Length */
#define ATTR_AF           0x8000
#define LAST_NONE         0 /* last substructure */
#define LAST_PROPOSAL     2 /* more proposals follow (3.3.1) */
#define LAST_TRANSFORM    3 /* more transforms follow (3.3.2) */

static int decode_attrs(struct hk_cbs *c, struct ike_transform *t, struct hk_diag *d)
{
    while (hk_cbs_len(c)) {
        uint16_t raw;
        if (t->nattrs >= IKE_ATTR_MAX) {
            hk_diag_set(d, "transform %u/%u: more than %d attributes", t->type, t->id,
                        IKE_ATTR_MAX);
            return HK_E_SYNTAX;
        }
        struct ike_attr *at = &t->attrs[t->nattrs];
        if (hk_cbs_len(c) < ATTR_HDR_LEN) {
            hk_diag_set(d, "short transform attribute: %zu < %d", hk_cbs_len(c), ATTR_HDR_LEN);
            return HK_E_SHORT;
        }
        hk_cbs_get_u16(c, &raw);
        hk_cbs_get_u16(c, &at->value);
        at->type = raw & (uint16_t)~ATTR_AF;
        at->tv = (raw & ATTR_AF) != 0;
        if (!at->tv) {
            /* TLV: value is the length of the data that follows. */
            const uint8_t *p;
            if (hk_cbs_get_bytes(c, &p, at->value)) {
                hk_diag_set(d, "attribute %u length %u > %zu remaining", at->type, at->value,
                            hk_cbs_len(c));
                return HK_E_LENGTH;
            }
            at->data.p = p;
            at->data.len = at->value;
            at->value = 0;
        }
        t->nattrs++;
    }
    return HK_OK;
}

static int decode_transforms(struct hk_cbs *c, struct ike_proposal *prop, struct hk_arena *a,
                             struct hk_diag *d)
{
    /* Bound the allocation by what the bytes can hold before trusting the count. */
    if (prop->ntransforms * TRANSFORM_HDR_LEN > hk_cbs_len(c)) {
        hk_diag_set(d, "proposal %u: %zu transforms need %zu octets > %zu", prop->num,
                    prop->ntransforms, prop->ntransforms * TRANSFORM_HDR_LEN, hk_cbs_len(c));
        return HK_E_LENGTH;
    }
    prop->transforms = hk_arena_calloc(a, prop->ntransforms, sizeof(*prop->transforms));
    if (!prop->transforms) {
        hk_diag_set(d, "arena refused %zu transforms", prop->ntransforms);
        return HK_E_NOMEM;
    }
    for (size_t i = 0; i < prop->ntransforms; i++) {
        struct ike_transform *t = &prop->transforms[i];
        struct hk_cbs tc;
        uint8_t last;
        uint16_t len;
        if (hk_cbs_len(c) < TRANSFORM_HDR_LEN) {
            hk_diag_set(d, "proposal %u: short transform %zu: %zu < %d", prop->num, i + 1,
                        hk_cbs_len(c), TRANSFORM_HDR_LEN);
            return HK_E_SHORT;
        }
        hk_cbs_get_u8(c, &last);
        hk_cbs_get_u8(c, &t->reserved[0]);
        hk_cbs_get_u16(c, &len);
        if (len < TRANSFORM_HDR_LEN || hk_cbs_get_sub(c, &tc, len - SUB_HDR_LEN)) {
            hk_diag_set(d, "proposal %u: transform %zu length %u outside %d..%zu", prop->num, i + 1,
                        len, TRANSFORM_HDR_LEN, hk_cbs_len(c) + SUB_HDR_LEN);
            return HK_E_LENGTH;
        }
        uint8_t want = i + 1 < prop->ntransforms ? LAST_TRANSFORM : LAST_NONE;
        if (last != want) {
            hk_diag_set(d, "proposal %u: transform %zu of %zu has last-substructure %u != %u",
                        prop->num, i + 1, prop->ntransforms, last, want);
            return HK_E_SYNTAX;
        }
        hk_cbs_get_u8(&tc, &t->type);
        hk_cbs_get_u8(&tc, &t->reserved[1]);
        hk_cbs_get_u16(&tc, &t->id);
        int rc = decode_attrs(&tc, t, d);
        if (rc)
            return rc;
    }
    if (hk_cbs_len(c)) {
        hk_diag_set(d, "proposal %u: %zu octets after %zu transforms", prop->num, hk_cbs_len(c),
                    prop->ntransforms);
        return HK_E_LENGTH;
    }
    return HK_OK;
}

/* RFC 7296 3.3.1: 0 for an initial IKE SA, else 8 for IKE and 4 for AH/ESP. */
static bool spi_size_ok(uint8_t protocol, uint8_t size)
{
    switch (protocol) {
    case IKE_PROTO_IKE:
        return size == 0 || size == IKE_SPI_LEN;
    case IKE_PROTO_AH:
    case IKE_PROTO_ESP:
        return size == 4;
    }
    return true; /* unknown protocol: the proposal is unacceptable, not malformed */
}

static int decode_proposal(struct hk_cbs *c, struct ike_proposal *prop, uint8_t want_last,
                           struct hk_arena *a, struct hk_diag *d)
{
    struct hk_cbs pc;
    uint8_t last, spi_size, ntrans;
    uint16_t len;
    const uint8_t *spi;
    hk_cbs_get_u8(c, &last);
    hk_cbs_get_u8(c, &prop->reserved);
    hk_cbs_get_u16(c, &len);
    hk_cbs_get_sub(c, &pc, len - SUB_HDR_LEN); /* framing checked by count_proposals */
    hk_cbs_get_u8(&pc, &prop->num);
    hk_cbs_get_u8(&pc, &prop->protocol);
    hk_cbs_get_u8(&pc, &spi_size);
    hk_cbs_get_u8(&pc, &ntrans);
    if (last != want_last) {
        hk_diag_set(d, "proposal %u has last-substructure %u != %u", prop->num, last, want_last);
        return HK_E_SYNTAX;
    }
    if (!spi_size_ok(prop->protocol, spi_size)) {
        hk_diag_set(d, "proposal %u: SPI size %u invalid for protocol %u", prop->num, spi_size,
                    prop->protocol);
        return HK_E_SYNTAX;
    }
    if (hk_cbs_get_bytes(&pc, &spi, spi_size)) {
        hk_diag_set(d, "proposal %u: SPI size %u > %zu remaining", prop->num, spi_size,
                    hk_cbs_len(&pc));
        return HK_E_LENGTH;
    }
    prop->spi.p = spi;
    prop->spi.len = spi_size;
    if (ntrans == 0) {
        hk_diag_set(d, "proposal %u has no transforms", prop->num);
        return HK_E_SYNTAX;
    }
    prop->ntransforms = ntrans;
    return decode_transforms(&pc, prop, a, d);
}

/* Counts proposals by their lengths; checks each header fits. */
static int count_proposals(struct hk_cbs c, size_t *count, struct hk_diag *d)
{
    size_t n = 0;
    while (hk_cbs_len(&c)) {
        uint16_t len;
        if (n >= IKE_MAX_ITEMS) {
            hk_diag_set(d, "too many proposals: more than %d", IKE_MAX_ITEMS);
            return HK_E_SYNTAX;
        }
        if (hk_cbs_len(&c) < PROPOSAL_HDR_LEN) {
            hk_diag_set(d, "short proposal %zu: %zu < %d", n + 1, hk_cbs_len(&c), PROPOSAL_HDR_LEN);
            return HK_E_SHORT;
        }
        hk_cbs_skip(&c, 2);
        hk_cbs_get_u16(&c, &len);
        if (len < PROPOSAL_HDR_LEN || hk_cbs_skip(&c, len - SUB_HDR_LEN)) {
            hk_diag_set(d, "proposal %zu length %u outside %d..%zu", n + 1, len, PROPOSAL_HDR_LEN,
                        hk_cbs_len(&c) + SUB_HDR_LEN);
            return HK_E_LENGTH;
        }
        n++;
    }
    *count = n;
    return HK_OK;
}

int ike_sa_decode(struct hk_cbs *body, struct ike_pl_sa *sa, struct hk_arena *a, struct hk_diag *d)
{
    size_t n;
    int rc = count_proposals(*body, &n, d);
    if (rc)
        return rc;
    if (n == 0) {
        hk_diag_set(d, "SA payload without proposals");
        return HK_E_SYNTAX;
    }
    sa->proposals = hk_arena_calloc(a, n, sizeof(*sa->proposals));
    if (!sa->proposals) {
        hk_diag_set(d, "arena refused %zu proposals", n);
        return HK_E_NOMEM;
    }
    sa->nproposals = n;
    for (size_t i = 0; i < n; i++) {
        rc = decode_proposal(body, &sa->proposals[i], i + 1 < n ? LAST_PROPOSAL : LAST_NONE, a, d);
        if (rc)
            return rc;
        /* RFC 7296 3.3.1: numbers start at 1 (an answer echoes the chosen one) and increase
         * by one. */
        uint8_t num = sa->proposals[i].num;
        if (i == 0 ? num == 0 : (unsigned)num != sa->proposals[i - 1].num + 1u) {
            hk_diag_set(d, "proposal %zu has number %u", i + 1, num);
            return HK_E_SYNTAX;
        }
    }
    return HK_OK;
}

int ike_sa_encode(const struct ike_pl_sa *sa, struct hk_cbb *out)
{
    if (sa->nproposals && !sa->proposals)
        return HK_E_INVALID;
    for (size_t i = 0; i < sa->nproposals; i++) {
        const struct ike_proposal *prop = &sa->proposals[i];
        size_t pstart = out->len, plen;
        if (prop->spi.len > UINT8_MAX || prop->ntransforms > UINT8_MAX ||
            (prop->ntransforms && !prop->transforms))
            return HK_E_INVALID;
        hk_cbb_add_u8(out, i + 1 < sa->nproposals ? LAST_PROPOSAL : LAST_NONE);
        hk_cbb_add_u8(out, prop->reserved);
        hk_cbb_reserve(out, &plen, 2);
        hk_cbb_add_u8(out, prop->num);
        hk_cbb_add_u8(out, prop->protocol);
        hk_cbb_add_u8(out, (uint8_t)prop->spi.len);
        hk_cbb_add_u8(out, (uint8_t)prop->ntransforms);
        int rc = ike_view_put(out, &prop->spi);
        if (rc)
            return rc;
        for (size_t j = 0; j < prop->ntransforms; j++) {
            const struct ike_transform *t = &prop->transforms[j];
            size_t tstart = out->len, tlen;
            if (t->nattrs > IKE_ATTR_MAX)
                return HK_E_INVALID;
            hk_cbb_add_u8(out, j + 1 < prop->ntransforms ? LAST_TRANSFORM : LAST_NONE);
            hk_cbb_add_u8(out, t->reserved[0]);
            hk_cbb_reserve(out, &tlen, 2);
            hk_cbb_add_u8(out, t->type);
            hk_cbb_add_u8(out, t->reserved[1]);
            hk_cbb_add_u16(out, t->id);
            for (size_t k = 0; k < t->nattrs; k++) {
                const struct ike_attr *at = &t->attrs[k];
                if (at->type & ATTR_AF)
                    return HK_E_INVALID;
                if (at->tv) {
                    hk_cbb_add_u16(out, at->type | ATTR_AF);
                    hk_cbb_add_u16(out, at->value);
                } else {
                    if (at->data.len > UINT16_MAX)
                        return HK_E_INVALID;
                    hk_cbb_add_u16(out, at->type);
                    hk_cbb_add_u16(out, (uint16_t)at->data.len);
                    if ((rc = ike_view_put(out, &at->data)))
                        return rc;
                }
            }
            if ((rc = hk_cbb_fill(out, tlen, 2, out->len - tstart)))
                return rc;
        }
        if ((rc = hk_cbb_fill(out, plen, 2, out->len - pstart)))
            return rc;
    }
    return hk_cbb_err(out);
}
