/*
 * Internal interface between the payload chain (chain.c) and the per-payload
 * codecs. Each decoder reads one payload body (everything after the generic
 * header) and must consume all of it; each encoder appends one body.
 *
 * Error classes: HK_E_SHORT when a fixed field is missing, HK_E_LENGTH when a
 * length field disagrees with its container, HK_E_SYNTAX when a value is out of
 * range, HK_E_NOMEM when the arena refuses. Encoders write fields as given and
 * refuse (HK_E_INVALID) only what does not fit its field.
 */
#ifndef HIKE_IKE_CODEC_INTERNAL_H
#define HIKE_IKE_CODEC_INTERNAL_H

#include "common/cbs.h"
#include "common/err.h"
#include "ike/codec/msg.h"

/* Header (hdr.c): ike_hdr_encode is in msg.h. */

/* SA (sa.c). */
int ike_sa_decode(struct hk_cbs *body, struct ike_pl_sa *sa, struct hk_arena *a, struct hk_diag *d);
int ike_sa_encode(const struct ike_pl_sa *sa, struct hk_cbb *out);

/* KE, ID, CERT/CERTREQ, AUTH, Nonce, Vendor ID, EAP, unknown (simple.c). */
int ike_ke_decode(struct hk_cbs *body, struct ike_pl_ke *ke, struct hk_diag *d);
int ike_ke_encode(const struct ike_pl_ke *ke, struct hk_cbb *out);
int ike_id_decode(struct hk_cbs *body, struct ike_pl_id *id, struct hk_diag *d);
int ike_id_encode(const struct ike_pl_id *id, struct hk_cbb *out);
int ike_cert_decode(struct hk_cbs *body, struct ike_pl_cert *cert, struct hk_diag *d);
int ike_cert_encode(const struct ike_pl_cert *cert, struct hk_cbb *out);
int ike_auth_decode(struct hk_cbs *body, struct ike_pl_auth *auth, struct hk_diag *d);
int ike_auth_encode(const struct ike_pl_auth *auth, struct hk_cbb *out);
int ike_nonce_decode(struct hk_cbs *body, struct ike_pl_nonce *nonce, struct hk_diag *d);
int ike_nonce_encode(const struct ike_pl_nonce *nonce, struct hk_cbb *out);
int ike_vendor_decode(struct hk_cbs *body, struct ike_pl_vendor *v, struct hk_diag *d);
int ike_vendor_encode(const struct ike_pl_vendor *v, struct hk_cbb *out);
int ike_eap_decode(struct hk_cbs *body, struct ike_pl_eap *eap, struct hk_diag *d);
int ike_eap_encode(const struct ike_pl_eap *eap, struct hk_cbb *out);

/* Notify (notify.c), Delete (delete.c). */
int ike_notify_decode(struct hk_cbs *body, struct ike_pl_notify *n, struct hk_diag *d);
int ike_notify_encode(const struct ike_pl_notify *n, struct hk_cbb *out);
int ike_delete_decode(struct hk_cbs *body, struct ike_pl_delete *del, struct hk_diag *d);
int ike_delete_encode(const struct ike_pl_delete *del, struct hk_cbb *out);

/* TSi/TSr (ts.c), CP (cp.c). */
int ike_ts_decode(struct hk_cbs *body, struct ike_pl_ts *ts, struct hk_arena *a, struct hk_diag *d);
int ike_ts_encode(const struct ike_pl_ts *ts, struct hk_cbb *out);
int ike_cp_decode(struct hk_cbs *body, struct ike_pl_cp *cp, struct hk_arena *a, struct hk_diag *d);
int ike_cp_encode(const struct ike_pl_cp *cp, struct hk_cbb *out);

/* SK and SKF (sk.c); first_inner is the Next Payload field of their generic header. */
int ike_sk_decode(struct hk_cbs *body, uint8_t first_inner, struct ike_pl_sk *sk,
                  struct hk_diag *d);
int ike_sk_encode(const struct ike_pl_sk *sk, struct hk_cbb *out);
int ike_skf_decode(struct hk_cbs *body, uint8_t first_inner, struct ike_pl_skf *skf,
                   struct hk_diag *d);
int ike_skf_encode(const struct ike_pl_skf *skf, struct hk_cbb *out);

/* Takes the rest of a reader as a view. */
static inline void ike_view_rest(struct hk_cbs *c, struct ike_view *v)
{
    v->p = hk_cbs_data(c);
    v->len = hk_cbs_len(c);
    hk_cbs_skip(c, v->len);
}

/* Appends a view's bytes (a NULL pointer is fine when len is 0). */
static inline int ike_view_put(struct hk_cbb *out, const struct ike_view *v)
{
    if (v->len && !v->p)
        return HK_E_INVALID;
    return hk_cbb_add_bytes(out, v->p, v->len);
}

#endif
