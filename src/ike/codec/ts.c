/* Traffic Selector payloads TSi/TSr (RFC 7296 3.13). */
#include "ike/codec/codec_internal.h"

#define TS_HDR_LEN 4  /* TS Type, IP Protocol ID, Selector Length */
#define TS_V4_LEN  16 /* 3.13.1: header, ports, two 4-octet addresses */
#define TS_V6_LEN  40 /* 3.13.1: header, ports, two 16-octet addresses */

static size_t addr_len(uint8_t type)
{
    return type == IKE_TS_IPV4_ADDR_RANGE ? 4 : type == IKE_TS_IPV6_ADDR_RANGE ? 16 : 0;
}

int ike_ts_decode(struct hk_cbs *b, struct ike_pl_ts *ts, struct hk_arena *a, struct hk_diag *d)
{
    uint8_t nts;
    const uint8_t *sels;
    if (hk_cbs_len(b) < 4) {
        hk_diag_set(d, "short TS payload: %zu < 8", hk_cbs_len(b) + IKE_GENERIC_HDR_LEN);
        return HK_E_SHORT;
    }
    hk_cbs_get_u8(b, &nts);
    hk_cbs_copy_bytes(b, ts->reserved, sizeof(ts->reserved));
    if (nts == 0) {
        hk_diag_set(d, "TS payload without traffic selectors");
        return HK_E_SYNTAX;
    }
    /* Bound the allocation by what the bytes can hold before trusting the count. */
    if ((size_t)nts * TS_HDR_LEN > hk_cbs_len(b)) {
        hk_diag_set(d, "%u traffic selectors need at least %zu octets > %zu", nts,
                    (size_t)nts * TS_HDR_LEN, hk_cbs_len(b));
        return HK_E_LENGTH;
    }
    ts->ts = hk_arena_calloc(a, nts, sizeof(*ts->ts));
    if (!ts->ts) {
        hk_diag_set(d, "arena refused %u traffic selectors", nts);
        return HK_E_NOMEM;
    }
    ts->nts = nts;
    sels = hk_cbs_data(b);
    bool unknown = false;
    for (size_t i = 0; i < nts; i++) {
        struct ike_ts *t = &ts->ts[i];
        uint16_t len;
        if (hk_cbs_len(b) < TS_HDR_LEN) {
            /* The count disagrees with the payload length. */
            hk_diag_set(d, "%u traffic selectors announced, selector %zu has %zu < %d octets", nts,
                        i + 1, hk_cbs_len(b), TS_HDR_LEN);
            return HK_E_LENGTH;
        }
        hk_cbs_get_u8(b, &t->type);
        hk_cbs_get_u8(b, &t->ip_proto);
        hk_cbs_get_u16(b, &len);
        size_t alen = addr_len(t->type);
        if (!alen) {
            /* 3.13.1: the Selector Length frames every type; one we do not know is kept
             * (type only) and matches nothing, so the exchange can answer TS_UNACCEPTABLE. */
            if (len < TS_HDR_LEN || hk_cbs_skip(b, len - TS_HDR_LEN)) {
                hk_diag_set(d, "traffic selector %zu (type %u) length %u outside %d..%zu", i + 1,
                            t->type, len, TS_HDR_LEN, hk_cbs_len(b) + TS_HDR_LEN);
                return HK_E_LENGTH;
            }
            unknown = true;
            continue;
        }
        size_t want = TS_HDR_LEN + 4 + 2 * alen;
        if (len != want) {
            hk_diag_set(d, "traffic selector %zu (type %u) length %u != %zu", i + 1, t->type, len,
                        want);
            return HK_E_LENGTH;
        }
        if (hk_cbs_len(b) < want - TS_HDR_LEN) {
            hk_diag_set(d, "traffic selector %zu length %u > %zu remaining", i + 1, len,
                        hk_cbs_len(b) + TS_HDR_LEN);
            return HK_E_LENGTH;
        }
        hk_cbs_get_u16(b, &t->start_port);
        hk_cbs_get_u16(b, &t->end_port);
        hk_cbs_copy_bytes(b, t->start_addr, alen);
        hk_cbs_copy_bytes(b, t->end_addr, alen);
    }
    if (hk_cbs_len(b)) {
        hk_diag_set(d, "%zu octets after %u traffic selectors", hk_cbs_len(b), nts);
        return HK_E_LENGTH;
    }
    /* The selectors as received, for re-encoding what the model cannot hold. */
    if (unknown)
        ts->raw = (struct ike_view){sels, (size_t)(hk_cbs_data(b) - sels)};
    return HK_OK;
}

int ike_ts_encode(const struct ike_pl_ts *ts, struct hk_cbb *out)
{
    if (ts->nts > UINT8_MAX || (ts->nts && !ts->ts))
        return HK_E_INVALID;
    bool unknown = false;
    for (size_t i = 0; i < ts->nts; i++)
        unknown |= !addr_len(ts->ts[i].type);
    if (unknown && !ts->raw.p)
        return HK_E_INVALID;
    hk_cbb_add_u8(out, (uint8_t)ts->nts);
    hk_cbb_add_bytes(out, ts->reserved, sizeof(ts->reserved));
    if (unknown)
        return ike_view_put(out, &ts->raw); /* a decoded payload, written back as it came */
    for (size_t i = 0; i < ts->nts; i++) {
        const struct ike_ts *t = &ts->ts[i];
        size_t alen = addr_len(t->type);
        hk_cbb_add_u8(out, t->type);
        hk_cbb_add_u8(out, t->ip_proto);
        hk_cbb_add_u16(out, (uint16_t)(TS_HDR_LEN + 4 + 2 * alen));
        hk_cbb_add_u16(out, t->start_port);
        hk_cbb_add_u16(out, t->end_port);
        hk_cbb_add_bytes(out, t->start_addr, alen);
        hk_cbb_add_bytes(out, t->end_addr, alen);
    }
    return hk_cbb_err(out);
}
