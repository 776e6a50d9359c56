/* Bounded parsing of NETLINK_XFRM answers: ACK / error (with extended ACK) and GETSA. */
#include "esp/xfrm_reply.h"

#include <arpa/inet.h>
#include <netinet/in.h> /* before <linux/xfrm.h> */
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <string.h>

#include "common/err.h"

#define HDR       sizeof(struct nlmsghdr)
#define ALIGN4(n) (((n) + 3u) & ~(size_t)3u)

/* The extended ACK attributes in b[0..len): copies NLMSGERR_ATTR_MSG into out->msg. */
static int extack(const uint8_t *b, size_t len, struct hk_xfrm_reply *out)
{
    size_t off = 0;

    while (len - off >= sizeof(struct nlattr)) {
        struct nlattr a;
        memcpy(&a, b + off, sizeof(a));
        if (a.nla_len < sizeof(a) || a.nla_len > len - off)
            return HK_E_LENGTH;
        if ((a.nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
            const uint8_t *s = b + off + sizeof(a);
            size_t n = a.nla_len - sizeof(a), k = 0;
            /* Up to the first NUL, the attribute's end or our room; only printable ASCII
             * (the text goes into log lines). */
            for (; k < n && k < sizeof(out->msg) - 1 && s[k]; k++)
                out->msg[k] = s[k] >= 0x20 && s[k] < 0x7f ? (char)s[k] : '?';
            out->msg[k] = '\0';
        }
        size_t step = ALIGN4((size_t)a.nla_len);
        if (step >= len - off)
            break;
        off += step;
    }
    return HK_OK;
}

/* NLMSG_ERROR: struct nlmsgerr, then (NLM_F_ACK_TLVS) the request unless NLM_F_CAPPED, then
 * the attributes. */
static int error_msg(const struct nlmsghdr *h, const uint8_t *p, size_t plen,
                     struct hk_xfrm_reply *out)
{
    struct nlmsgerr e;

    if (plen < sizeof(e))
        return HK_E_LENGTH;
    memcpy(&e, p, sizeof(e));
    /* errno values are small; anything else (positive, INT_MIN) is not an answer. */
    if (e.error > 0 || e.error < -4095)
        return HK_E_SYNTAX;
    out->error = -e.error;
    if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
        return HK_OK;
    size_t off = sizeof(e);
    if (!(h->nlmsg_flags & NLM_F_CAPPED)) {
        if (e.msg.nlmsg_len < HDR || e.msg.nlmsg_len - HDR > plen - off)
            return HK_E_LENGTH;
        off += ALIGN4((size_t)e.msg.nlmsg_len - HDR);
        if (off > plen)
            return HK_E_LENGTH;
    }
    return extack(p + off, plen - off, out);
}

/*
 * The kernel's replay window (a ring: sequence number s at bit (s - 1) mod W of 32-bit words,
 * counted from the low 32 bits of the top as its replay code does) in the exported form.
 */
static void ring_to_bits(const uint8_t *bmp, uint32_t w, uint64_t top, uint64_t *bits)
{
    uint32_t pos = w ? ((uint32_t)top - 1) % w : 0;
    for (uint32_t j = 0; j < w && j < top; j++) {
        uint32_t bit = pos >= j ? pos - j : w - (j - pos), word;
        memcpy(&word, bmp + (bit / 32) * 4, 4);
        if (word >> (bit % 32) & 1)
            bits[j / 64] |= (uint64_t)1 << (j % 64);
    }
}

/* XFRMA_REPLAY_ESN_VAL: the counters and the window, its bitmap checked against its length. */
static int replay_esn(const uint8_t *p, size_t n, struct hk_xfrm_reply *out)
{
    struct xfrm_replay_state_esn rs;
    if (n < sizeof(rs))
        return HK_E_LENGTH;
    memcpy(&rs, p, sizeof(rs));
    if (rs.bmp_len > HK_XFRM_REPLY_WORDS * 2 || (size_t)rs.bmp_len * 4 > n - sizeof(rs) ||
        rs.replay_window > rs.bmp_len * 32)
        return HK_E_SYNTAX;
    out->replay_state = true;
    out->oseq = (uint64_t)rs.oseq_hi << 32 | rs.oseq;
    out->top = (uint64_t)rs.seq_hi << 32 | rs.seq;
    out->window = rs.replay_window;
    memset(out->bits, 0, sizeof(out->bits));
    ring_to_bits(p + sizeof(rs), rs.replay_window, out->top, out->bits);
    return HK_OK;
}

/* XFRMA_REPLAY_VAL: the legacy window of up to 32 packets, bit i = top - i already. */
static int replay_legacy(const uint8_t *p, size_t n, uint8_t window, struct hk_xfrm_reply *out)
{
    struct xfrm_replay_state rs;
    if (n < sizeof(rs))
        return HK_E_LENGTH;
    memcpy(&rs, p, sizeof(rs));
    out->replay_state = true;
    out->oseq = rs.oseq;
    out->top = rs.seq;
    out->window = window > 32 ? 32 : window;
    out->bits[0] = out->window == 32 ? rs.bitmap : rs.bitmap & ((1u << out->window) - 1);
    return HK_OK;
}

static int sa_msg(const uint8_t *p, size_t plen, struct hk_xfrm_reply *out)
{
    struct xfrm_usersa_info info;

    if (plen < sizeof(info))
        return HK_E_LENGTH;
    memcpy(&info, p, sizeof(info));
    if (info.id.proto != IPPROTO_ESP)
        return HK_E_SYNTAX;
    out->sa = true;
    out->spi = ntohl(info.id.spi);
    out->bytes = info.curlft.bytes;
    out->packets = info.curlft.packets;
    out->replay = info.stats.replay;
    out->integrity_failed = info.stats.integrity_failed;
    out->esn = info.flags & XFRM_STATE_ESN;
    /* The attributes after the fixed part (aligned: xfrm_usersa_info is a multiple of 8). */
    size_t off = ALIGN4(sizeof(info));
    while (off < plen && plen - off >= sizeof(struct nlattr)) {
        struct nlattr a;
        memcpy(&a, p + off, sizeof(a));
        if (a.nla_len < sizeof(a) || a.nla_len > plen - off)
            return HK_E_LENGTH;
        const uint8_t *v = p + off + sizeof(a);
        size_t n = a.nla_len - sizeof(a);
        int rc = HK_OK;
        if ((a.nla_type & NLA_TYPE_MASK) == XFRMA_REPLAY_ESN_VAL)
            rc = replay_esn(v, n, out);
        else if ((a.nla_type & NLA_TYPE_MASK) == XFRMA_REPLAY_VAL && !out->replay_state)
            rc = replay_legacy(v, n, info.replay_window, out);
        if (rc)
            return rc;
        off += ALIGN4((size_t)a.nla_len);
    }
    return HK_OK;
}

int hk_xfrm_parse_reply(const uint8_t *buf, size_t len, uint32_t seq, struct hk_xfrm_reply *out)
{
    size_t off = 0;

    if (!buf || !out)
        return HK_E_INVALID;
    memset(out, 0, sizeof(*out));
    while (len - off >= HDR) {
        struct nlmsghdr h;
        memcpy(&h, buf + off, HDR);
        if (h.nlmsg_len < HDR || h.nlmsg_len > len - off)
            return HK_E_LENGTH;
        const uint8_t *p = buf + off + HDR;
        size_t plen = h.nlmsg_len - HDR;
        if (h.nlmsg_seq == seq) {
            int rc = HK_E_AGAIN;
            if (h.nlmsg_type == NLMSG_ERROR)
                rc = error_msg(&h, p, plen, out);
            else if (h.nlmsg_type == XFRM_MSG_NEWSA)
                rc = sa_msg(p, plen, out);
            if (rc != HK_E_AGAIN) {
                if (rc)
                    memset(out, 0, sizeof(*out));
                return rc;
            }
        }
        size_t step = ALIGN4((size_t)h.nlmsg_len);
        if (step >= len - off)
            break;
        off += step;
    }
    return HK_E_AGAIN;
}
