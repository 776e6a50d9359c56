#include "ike/sk_msg.h"

#include "common/err.h"
#include "common/secret.h"
#include "crypto/crypto.h"

#include <stdlib.h>
#include <string.h>

/* Octets of an SKF payload header after the generic header (RFC 7383 2.5). */
#define SKF_EXTRA 4

/* Padding so that content | padding | pad length fills whole cipher blocks (3.14). */
static size_t pad_len_for(const struct hk_sk_cipher *c, size_t clen)
{
    size_t block = hk_sk_cipher_block_len(c);
    if (block <= 1)
        return 0;
    return (block - (clen + 1) % block) % block;
}

/*
 * Writes one protected message straight into out: hdr | SK or SKF header | IV | content |
 * padding | pad length | room for the ICV, then seals it in place. The content is either
 * the inner payloads, encoded where they will be encrypted (no plaintext copy), or a
 * chunk of them already encoded (a fragment).
 */
static int seal_one(struct hk_sk_cipher *c, const struct ike_hdr *hdr, uint8_t type,
                    uint8_t first_inner, uint16_t frag_num, uint16_t total,
                    const struct ike_payload *inner, size_t n, const uint8_t *content, size_t clen,
                    bool padded, struct hk_cbb *out)
{
    size_t iv_len = hk_sk_cipher_iv_len(c), icv_len = hk_sk_cipher_icv_len(c);
    size_t start = out->len, len_pos, pl_start, pl_len_pos;
    uint8_t *iv;
    int rc = ike_hdr_encode(hdr, type, out, &len_pos);
    pl_start = out->len;
    /* Generic payload header (3.2): next payload names the first inner one (3.14). */
    hk_cbb_add_u8(out, first_inner);
    hk_cbb_add_u8(out, 0);
    hk_cbb_reserve(out, &pl_len_pos, 2);
    if (type == IKE_PL_SKF) {
        hk_cbb_add_u16(out, frag_num);
        hk_cbb_add_u16(out, total);
    }
    if (!rc && !(rc = hk_cbb_add_space(out, &iv, iv_len)))
        rc = hk_sk_cipher_new_iv(c, iv);
    size_t iv_off = out->len - iv_len - start, ct_start = out->len;
    if (!rc)
        rc =
            inner ? ike_payloads_encode(inner, n, NULL, out) : hk_cbb_add_bytes(out, content, clen);
    if (!rc) {
        if (!padded) {
            size_t pad = pad_len_for(c, out->len - ct_start);
            hk_cbb_add_zeros(out, pad); /* padding itself stays zero */
            hk_cbb_add_u8(out, (uint8_t)pad);
        }
        hk_cbb_add_zeros(out, icv_len);
        hk_cbb_fill(out, pl_len_pos, 2, out->len - pl_start);
        rc = hk_cbb_fill(out, len_pos, 4, out->len - start);
    }
    if (!rc) {
        uint8_t *msg = out->buf + start;
        size_t ct_len = out->len - icv_len - ct_start;
        rc = hk_sk_cipher_seal(c, msg, iv_off, msg + iv_off, msg + iv_off + iv_len, ct_len,
                               msg + iv_off + iv_len + ct_len);
    }
    if (rc) {
        /* Never leave plaintext behind: a failed encoder may have written past what it
         * kept, so everything from our start to the end of the buffer goes. */
        if (out->buf && out->cap > start)
            hk_wipe(out->buf + start, out->cap - start);
        if (!hk_cbb_err(out))
            hk_cbb_truncate(out, start);
    }
    return rc;
}

int ike_sk_seal(struct hk_sk_cipher *c, const struct ike_hdr *hdr, const struct ike_payload *inner,
                size_t n, struct hk_cbb *out)
{
    return seal_one(c, hdr, IKE_PL_SK, n ? inner[0].type : IKE_PL_NONE, 0, 0, inner, n, NULL, 0,
                    false, out);
}

/*
 * Opens the protected body of the last payload (SK or SKF) in place. hdr_len is the
 * offset of the body in buf; *content and *clen get the plaintext without padding.
 */
static int open_body(struct hk_sk_cipher *c, uint8_t *buf, size_t len, struct ike_view body,
                     uint8_t **content, size_t *clen, struct hk_diag *d)
{
    size_t iv_len = hk_sk_cipher_iv_len(c), icv_len = hk_sk_cipher_icv_len(c);
    size_t block = hk_sk_cipher_block_len(c);
    if (body.p < buf || body.p + body.len != buf + len) {
        hk_diag_set(d, "encrypted payload is not at the end of the message");
        return HK_E_SYNTAX;
    }
    if (body.len < iv_len + 1 + icv_len) {
        hk_diag_set(d, "short encrypted payload: %zu < %zu", body.len, iv_len + 1 + icv_len);
        return HK_E_LENGTH;
    }
    size_t off = (size_t)(body.p - buf);
    size_t ct_len = body.len - iv_len - icv_len;
    if (block > 1 && ct_len % block) {
        hk_diag_set(d, "ciphertext length %zu not a multiple of %zu", ct_len, block);
        return HK_E_LENGTH;
    }
    uint8_t *iv = buf + off, *ct = iv + iv_len, *icv = ct + ct_len;
    int rc = hk_sk_cipher_open(c, buf, off, iv, ct, ct_len, icv);
    if (rc) {
        hk_wipe(ct, ct_len);
        hk_diag_set(d, "integrity check failed");
        return rc;
    }
    size_t pad = ct[ct_len - 1];
    if (pad + 1 > ct_len) {
        hk_diag_set(d, "pad length %zu exceeds content %zu", pad, ct_len - 1);
        return HK_E_PADDING;
    }
    *content = ct;
    *clen = ct_len - 1 - pad;
    return HK_OK;
}

int ike_sk_seal_raw(struct hk_sk_cipher *c, const struct ike_hdr *hdr, uint8_t first_inner,
                    const uint8_t *plain, size_t plen, struct hk_cbb *out)
{
    return seal_one(c, hdr, IKE_PL_SK, first_inner, 0, 0, NULL, 0, plain, plen, true, out);
}

int ike_sk_decrypt(struct hk_sk_cipher *c, uint8_t *buf, size_t len, const struct ike_msg *msg,
                   struct ike_view *inner, struct hk_diag *d)
{
    if (!msg->npayloads || msg->payloads[msg->npayloads - 1].type != IKE_PL_SK) {
        hk_diag_set(d, "no encrypted payload");
        return HK_E_SYNTAX;
    }
    uint8_t *content;
    size_t clen;
    int rc =
        open_body(c, buf, len, msg->payloads[msg->npayloads - 1].u.sk.body, &content, &clen, d);
    if (!rc)
        *inner = (struct ike_view){content, clen};
    return rc;
}

int ike_sk_open(struct hk_sk_cipher *c, uint8_t *buf, size_t len, struct ike_msg *msg,
                struct hk_arena *a, struct hk_diag *d)
{
    struct ike_view inner;
    int rc = ike_sk_decrypt(c, buf, len, msg, &inner, d);
    if (rc)
        return rc;
    uint8_t first = msg->payloads[msg->npayloads - 1].u.sk.first_inner;
    if (inner.len == 0 && first == IKE_PL_NONE)
        return HK_OK; /* an empty INFORMATIONAL (liveness check, 1.4) */
    return ike_payloads_decode(first, inner.p, inner.len, msg, a, d);
}

void ike_frags_free(struct ike_frags *f)
{
    for (size_t i = 0; f->msgs && i < f->n; i++)
        hk_cbb_free(&f->msgs[i]);
    free(f->msgs);
    f->msgs = NULL;
    f->n = 0;
}

int ike_skf_seal(struct hk_sk_cipher *c, const struct ike_hdr *hdr, const struct ike_payload *inner,
                 size_t n, size_t max_len, struct ike_frags *out)
{
    size_t iv_len = hk_sk_cipher_iv_len(c), icv_len = hk_sk_cipher_icv_len(c);
    size_t block = hk_sk_cipher_block_len(c);
    size_t overhead = IKE_HDR_LEN + IKE_GENERIC_HDR_LEN + SKF_EXTRA + iv_len + icv_len;
    memset(out, 0, sizeof(*out));
    if (max_len <= overhead + block + 1)
        return HK_E_OVERFLOW;
    /* Largest chunk whose padded ciphertext still fits in max_len. */
    size_t room = max_len - overhead;
    if (block > 1)
        room -= room % block;
    size_t chunk = room - 1;

    struct hk_cbb plain;
    uint8_t first = IKE_PL_NONE;
    hk_cbb_init(&plain, 1024, 0);
    int rc = ike_payloads_encode(inner, n, &first, &plain);
    if (rc)
        goto out;
    size_t total = plain.len ? (plain.len + chunk - 1) / chunk : 1;
    if (total > 0xffff) {
        rc = HK_E_OVERFLOW;
        goto out;
    }
    out->msgs = calloc(total, sizeof(*out->msgs));
    if (!out->msgs) {
        rc = HK_E_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < total && !rc; i++) {
        size_t off = i * chunk;
        size_t clen = plain.len - off < chunk ? plain.len - off : chunk;
        hk_cbb_init(&out->msgs[i], max_len, 0);
        out->n = i + 1;
        /* RFC 7383 2.5: Next Payload names the first inner payload in fragment 1 only. */
        rc = seal_one(c, hdr, IKE_PL_SKF, i == 0 ? first : IKE_PL_NONE, (uint16_t)(i + 1),
                      (uint16_t)total, NULL, 0, plain.buf + off, clen, false, &out->msgs[i]);
    }
out:
    hk_cbb_free_wipe(&plain);
    if (rc)
        ike_frags_free(out);
    return rc;
}

int ike_skf_open(struct hk_sk_cipher *c, uint8_t *buf, size_t len, const struct ike_msg *msg,
                 struct ike_view *chunk, struct hk_diag *d)
{
    if (!msg->npayloads || msg->payloads[msg->npayloads - 1].type != IKE_PL_SKF) {
        hk_diag_set(d, "no encrypted fragment payload");
        return HK_E_SYNTAX;
    }
    uint8_t *content;
    size_t clen;
    int rc =
        open_body(c, buf, len, msg->payloads[msg->npayloads - 1].u.skf.body, &content, &clen, d);
    if (!rc)
        *chunk = (struct ike_view){content, clen};
    return rc;
}
