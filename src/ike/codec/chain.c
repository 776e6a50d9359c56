/*
 * The payload chain (RFC 7296 3.2): generic headers, dispatch to the payload
 * codecs, whole-message decode/encode, lookups and names.
 */
#include <string.h>

#include "ike/codec/codec_internal.h"

bool ike_payload_known(uint8_t type)
{
    return (type >= IKE_PL_SA && type <= IKE_PL_EAP) || type == IKE_PL_SKF;
}

static bool is_sk(uint8_t type)
{
    return type == IKE_PL_SK || type == IKE_PL_SKF;
}

const char *ike_payload_name(uint8_t type)
{
    switch (type) {
    case IKE_PL_NONE:
        return "NONE";
    case IKE_PL_SA:
        return "SA";
    case IKE_PL_KE:
        return "KE";
    case IKE_PL_IDI:
        return "IDi";
    case IKE_PL_IDR:
        return "IDr";
    case IKE_PL_CERT:
        return "CERT";
    case IKE_PL_CERTREQ:
        return "CERTREQ";
    case IKE_PL_AUTH:
        return "AUTH";
    case IKE_PL_NONCE:
        return "Nonce";
    case IKE_PL_NOTIFY:
        return "N";
    case IKE_PL_DELETE:
        return "D";
    case IKE_PL_VENDOR:
        return "V";
    case IKE_PL_TSI:
        return "TSi";
    case IKE_PL_TSR:
        return "TSr";
    case IKE_PL_SK:
        return "SK";
    case IKE_PL_CP:
        return "CP";
    case IKE_PL_EAP:
        return "EAP";
    case IKE_PL_SKF:
        return "SKF";
    }
    return "UNKNOWN";
}

const char *ike_exchange_name(uint8_t type)
{
    switch (type) {
    case IKE_SA_INIT:
        return "IKE_SA_INIT";
    case IKE_AUTH:
        return "IKE_AUTH";
    case IKE_CREATE_CHILD_SA:
        return "CREATE_CHILD_SA";
    case IKE_INFORMATIONAL:
        return "INFORMATIONAL";
    case IKE_SESSION_RESUME:
        return "IKE_SESSION_RESUME";
    }
    return "UNKNOWN";
}

/* One payload as framed by its generic header. */
struct raw_payload {
    uint8_t type;
    uint8_t next;
    uint8_t flags;
    struct hk_cbs body;
};

/*
 * Reads the generic header of a payload of the given type and splits off its body.
 * Checks only framing: length >= 4 and within the container.
 */
static int read_raw(struct hk_cbs *c, uint8_t type, struct raw_payload *r, struct hk_diag *d)
{
    uint16_t len;
    if (hk_cbs_len(c) < IKE_GENERIC_HDR_LEN) {
        hk_diag_set(d, "short %s payload header: %zu < %d", ike_payload_name(type), hk_cbs_len(c),
                    IKE_GENERIC_HDR_LEN);
        return HK_E_SHORT;
    }
    r->type = type;
    hk_cbs_get_u8(c, &r->next);
    hk_cbs_get_u8(c, &r->flags);
    hk_cbs_get_u16(c, &len);
    if (len < IKE_GENERIC_HDR_LEN) {
        hk_diag_set(d, "%s payload length %u < %d", ike_payload_name(type), len,
                    IKE_GENERIC_HDR_LEN);
        return HK_E_LENGTH;
    }
    if (hk_cbs_get_sub(c, &r->body, len - IKE_GENERIC_HDR_LEN)) {
        hk_diag_set(d, "%s payload length %u > %zu remaining", ike_payload_name(type), len,
                    hk_cbs_len(c) + IKE_GENERIC_HDR_LEN);
        return HK_E_LENGTH;
    }
    return HK_OK;
}

/*
 * Walks the chain once without interpreting bodies and counts the payloads, so that
 * the array can be sized before anything is decoded. outer: SK/SKF allowed (last).
 */
static int count_chain(uint8_t first, struct hk_cbs c, bool outer, size_t *count, struct hk_diag *d)
{
    size_t n = 0;
    uint8_t type = first;
    while (type != IKE_PL_NONE) {
        struct raw_payload r;
        if (n >= IKE_MAX_ITEMS) {
            hk_diag_set(d, "too many payloads: more than %d", IKE_MAX_ITEMS);
            return HK_E_SYNTAX;
        }
        /* RFC 7296 3.1: an Encrypted payload MUST NOT contain another one. */
        if (!outer && is_sk(type)) {
            hk_diag_set(d, "%s payload inside an encrypted payload", ike_payload_name(type));
            return HK_E_SYNTAX;
        }
        int rc = read_raw(&c, type, &r, d);
        if (rc)
            return rc;
        n++;
        if (is_sk(type)) {
            /* RFC 7296 3.14, RFC 7383 2.5: SK/SKF MUST be the last payload. */
            if (hk_cbs_len(&c)) {
                hk_diag_set(d, "%s payload not last: %zu octets follow", ike_payload_name(type),
                            hk_cbs_len(&c));
                return HK_E_SYNTAX;
            }
            break;
        }
        type = r.next;
    }
    if (hk_cbs_len(&c)) {
        hk_diag_set(d, "%zu octets after the last payload", hk_cbs_len(&c));
        return HK_E_LENGTH;
    }
    *count = n;
    return HK_OK;
}

static int decode_body(struct raw_payload *r, struct ike_payload *pl, struct hk_arena *a,
                       struct hk_diag *d)
{
    struct hk_cbs *b = &r->body;
    int rc;
    pl->type = r->type;
    pl->critical = (r->flags & IKE_PL_CRITICAL) != 0;
    pl->reserved = r->flags & (uint8_t)~IKE_PL_CRITICAL;
    switch (r->type) {
    case IKE_PL_SA:
        rc = ike_sa_decode(b, &pl->u.sa, a, d);
        break;
    case IKE_PL_KE:
        rc = ike_ke_decode(b, &pl->u.ke, d);
        break;
    case IKE_PL_IDI:
    case IKE_PL_IDR:
        rc = ike_id_decode(b, &pl->u.id, d);
        break;
    case IKE_PL_CERT:
    case IKE_PL_CERTREQ:
        rc = ike_cert_decode(b, &pl->u.cert, d);
        break;
    case IKE_PL_AUTH:
        rc = ike_auth_decode(b, &pl->u.auth, d);
        break;
    case IKE_PL_NONCE:
        rc = ike_nonce_decode(b, &pl->u.nonce, d);
        break;
    case IKE_PL_NOTIFY:
        rc = ike_notify_decode(b, &pl->u.notify, d);
        break;
    case IKE_PL_DELETE:
        rc = ike_delete_decode(b, &pl->u.del, d);
        break;
    case IKE_PL_VENDOR:
        rc = ike_vendor_decode(b, &pl->u.vendor, d);
        break;
    case IKE_PL_TSI:
    case IKE_PL_TSR:
        rc = ike_ts_decode(b, &pl->u.ts, a, d);
        break;
    case IKE_PL_SK:
        rc = ike_sk_decode(b, r->next, &pl->u.sk, d);
        break;
    case IKE_PL_SKF:
        rc = ike_skf_decode(b, r->next, &pl->u.skf, d);
        break;
    case IKE_PL_CP:
        rc = ike_cp_decode(b, &pl->u.cp, a, d);
        break;
    case IKE_PL_EAP:
        rc = ike_eap_decode(b, &pl->u.eap, d);
        break;
    default:
        /* RFC 7296 2.5: unknown payloads are skipped unless critical; keep them either way. */
        ike_view_rest(b, &pl->u.unknown.body);
        rc = HK_OK;
        break;
    }
    if (!rc && hk_cbs_len(b)) {
        /* Every decoder consumes its body; this guards the round-trip contract. */
        hk_diag_set(d, "%zu octets left in %s payload", hk_cbs_len(b), ike_payload_name(r->type));
        rc = HK_E_LENGTH;
    }
    return rc;
}

/* Decodes a chain and appends it to msg; msg is unchanged on failure. */
static int decode_chain(uint8_t first, const uint8_t *buf, size_t len, bool outer,
                        struct ike_msg *msg, struct hk_arena *a, struct hk_diag *d)
{
    struct hk_cbs c;
    size_t n;
    if (!buf && len)
        return HK_E_INVALID;
    hk_cbs_init(&c, buf, len);
    int rc = count_chain(first, c, outer, &n, d);
    if (rc)
        return rc;
    if (n == 0)
        return HK_OK;
    struct ike_payload *pl = hk_arena_calloc(a, msg->npayloads + n, sizeof(*pl));
    if (!pl) {
        hk_diag_set(d, "arena refused %zu payloads", msg->npayloads + n);
        return HK_E_NOMEM;
    }
    if (msg->npayloads)
        memcpy(pl, msg->payloads, msg->npayloads * sizeof(*pl));
    uint8_t unknown_critical = msg->unknown_critical;
    uint8_t type = first;
    for (size_t i = msg->npayloads; i < msg->npayloads + n; i++) {
        struct raw_payload r;
        rc = read_raw(&c, type, &r, d); /* cannot fail: count_chain walked the same bytes */
        if (!rc)
            rc = decode_body(&r, &pl[i], a, d);
        if (rc)
            return rc;
        if (!ike_payload_known(r.type) && pl[i].critical && !unknown_critical)
            unknown_critical = r.type;
        type = r.next;
    }
    msg->payloads = pl;
    msg->npayloads += n;
    msg->unknown_critical = unknown_critical;
    return HK_OK;
}

int ike_msg_decode(const uint8_t *buf, size_t len, struct ike_msg *msg, struct hk_arena *a,
                   struct hk_diag *d)
{
    memset(msg, 0, sizeof(*msg));
    int rc = ike_hdr_decode(buf, len, &msg->hdr, d);
    if (rc)
        return rc;
    if (msg->hdr.length != len) {
        hk_diag_set(d, "header length %u != message length %zu", msg->hdr.length, len);
        return HK_E_LENGTH;
    }
    return decode_chain(msg->hdr.next_payload, buf + IKE_HDR_LEN, len - IKE_HDR_LEN, true, msg, a,
                        d);
}

int ike_payloads_decode(uint8_t first, const uint8_t *buf, size_t len, struct ike_msg *msg,
                        struct hk_arena *a, struct hk_diag *d)
{
    return decode_chain(first, buf, len, false, msg, a, d);
}

/* ---- encoding ---- */

static int encode_body(const struct ike_payload *pl, struct hk_cbb *out)
{
    switch (pl->type) {
    case IKE_PL_SA:
        return ike_sa_encode(&pl->u.sa, out);
    case IKE_PL_KE:
        return ike_ke_encode(&pl->u.ke, out);
    case IKE_PL_IDI:
    case IKE_PL_IDR:
        return ike_id_encode(&pl->u.id, out);
    case IKE_PL_CERT:
    case IKE_PL_CERTREQ:
        return ike_cert_encode(&pl->u.cert, out);
    case IKE_PL_AUTH:
        return ike_auth_encode(&pl->u.auth, out);
    case IKE_PL_NONCE:
        return ike_nonce_encode(&pl->u.nonce, out);
    case IKE_PL_NOTIFY:
        return ike_notify_encode(&pl->u.notify, out);
    case IKE_PL_DELETE:
        return ike_delete_encode(&pl->u.del, out);
    case IKE_PL_VENDOR:
        return ike_vendor_encode(&pl->u.vendor, out);
    case IKE_PL_TSI:
    case IKE_PL_TSR:
        return ike_ts_encode(&pl->u.ts, out);
    case IKE_PL_SK:
        return ike_sk_encode(&pl->u.sk, out);
    case IKE_PL_SKF:
        return ike_skf_encode(&pl->u.skf, out);
    case IKE_PL_CP:
        return ike_cp_encode(&pl->u.cp, out);
    case IKE_PL_EAP:
        return ike_eap_encode(&pl->u.eap, out);
    }
    return ike_view_put(out, &pl->u.unknown.body);
}

static int encode_chain(const struct ike_payload *pl, size_t n, bool outer, struct hk_cbb *out)
{
    if (n && !pl)
        return HK_E_INVALID;
    for (size_t i = 0; i < n; i++) {
        const struct ike_payload *p = &pl[i];
        uint8_t next;
        size_t start = out->len, len_pos;
        if (p->type == IKE_PL_NONE)
            return HK_E_INVALID;
        if (is_sk(p->type)) {
            if (!outer || i + 1 != n)
                return HK_E_INVALID; /* SK/SKF only last, never inside SK (3.14) */
            next = p->type == IKE_PL_SK ? p->u.sk.first_inner : p->u.skf.first_inner;
        } else {
            next = i + 1 < n ? pl[i + 1].type : IKE_PL_NONE;
        }
        hk_cbb_add_u8(out, next);
        hk_cbb_add_u8(out, (uint8_t)((p->critical ? IKE_PL_CRITICAL : 0) |
                                     (p->reserved & (uint8_t)~IKE_PL_CRITICAL)));
        hk_cbb_reserve(out, &len_pos, 2);
        int rc = encode_body(p, out);
        if (!rc)
            rc = hk_cbb_fill(out, len_pos, 2, out->len - start);
        if (rc)
            return rc;
    }
    return hk_cbb_err(out);
}

int ike_msg_encode(const struct ike_msg *msg, struct hk_cbb *out)
{
    size_t start = out->len, len_pos;
    if (hk_cbb_err(out))
        return hk_cbb_err(out);
    uint8_t first = msg->npayloads && msg->payloads ? msg->payloads[0].type : IKE_PL_NONE;
    int rc = ike_hdr_encode(&msg->hdr, first, out, &len_pos);
    if (!rc)
        rc = encode_chain(msg->payloads, msg->npayloads, true, out);
    if (!rc)
        rc = hk_cbb_fill(out, len_pos, 4, out->len - start);
    if (rc && !hk_cbb_err(out))
        hk_cbb_truncate(out, start);
    return rc;
}

int ike_payloads_encode(const struct ike_payload *pl, size_t n, uint8_t *first, struct hk_cbb *out)
{
    size_t start = out->len;
    if (hk_cbb_err(out))
        return hk_cbb_err(out);
    int rc = encode_chain(pl, n, false, out);
    if (rc) {
        if (!hk_cbb_err(out))
            hk_cbb_truncate(out, start);
        return rc;
    }
    if (first)
        *first = n ? pl[0].type : IKE_PL_NONE;
    return HK_OK;
}

/* ---- lookups ---- */

const struct ike_payload *ike_msg_find(const struct ike_msg *msg, uint8_t type, size_t *from)
{
    size_t i = from ? *from : 0;
    for (; i < msg->npayloads; i++) {
        if (msg->payloads[i].type == type) {
            if (from)
                *from = i + 1;
            return &msg->payloads[i];
        }
    }
    if (from)
        *from = msg->npayloads;
    return NULL;
}

const struct ike_pl_notify *ike_msg_find_notify(const struct ike_msg *msg, uint16_t type)
{
    size_t from = 0;
    const struct ike_payload *p;
    while ((p = ike_msg_find(msg, IKE_PL_NOTIFY, &from)))
        if (p->u.notify.type == type)
            return &p->u.notify;
    return NULL;
}
