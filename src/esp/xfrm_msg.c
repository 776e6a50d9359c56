/* NETLINK_XFRM request building: SAs and policies, bounded by the caller's buffer. */
#include "esp/xfrm_msg.h"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/udp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "common/err.h"
#include "common/secret.h"
#include "crypto/alg.h"

_Static_assert(sizeof(struct xfrm_usersa_info) % 8 == 0, "payload keeps attributes aligned");

static int addr_len(int family)
{
    return family == AF_INET ? 4 : family == AF_INET6 ? 16 : -1;
}

/*
 * Starts a message of type with a zeroed fixed header of extra octets in *out. HK_E_INVALID
 * when buf is missing or misaligned for netlink headers, HK_E_OVERFLOW when it is too small.
 */
static int put_header(uint8_t *buf, size_t cap, uint16_t type, uint16_t flags, uint32_t seq,
                      size_t extra, struct nlmsghdr **out)
{
    struct nlmsghdr *nlh;

    if (!buf || ((uintptr_t)buf & (NLMSG_ALIGNTO - 1)))
        return HK_E_INVALID;
    if (cap < MNL_NLMSG_HDRLEN || cap - MNL_NLMSG_HDRLEN < MNL_ALIGN(extra))
        return HK_E_OVERFLOW;
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = flags;
    nlh->nlmsg_seq = seq;
    mnl_nlmsg_put_extra_header(nlh, extra);
    *out = nlh;
    return HK_OK;
}

/* Appends an attribute of len zeroed payload octets if it fits in cap; its payload or NULL.
 * (libmnl's mnl_attr_put_check wants the payload ready; ours is filled in place so that
 * keys are never copied through a temporary.) */
static uint8_t *put_attr(struct nlmsghdr *nlh, size_t cap, uint16_t type, size_t len)
{
    size_t need = MNL_ALIGN(MNL_ATTR_HDRLEN + len);
    struct nlattr *a;

    if (len > UINT16_MAX - MNL_ATTR_HDRLEN || nlh->nlmsg_len > cap || cap - nlh->nlmsg_len < need)
        return NULL;
    a = mnl_nlmsg_get_payload_tail(nlh);
    memset(a, 0, need);
    a->nla_type = type;
    a->nla_len = (uint16_t)(MNL_ATTR_HDRLEN + len);
    nlh->nlmsg_len += (uint32_t)need;
    return (uint8_t *)a + MNL_ATTR_HDRLEN;
}

static void *payload(struct nlmsghdr *nlh)
{
    return mnl_nlmsg_get_payload(nlh);
}

/* A limit for xfrm_lifetime_cfg: the kernel counts 0 as "expire now", XFRM_INF as none. */
static uint64_t limit(uint64_t v)
{
    return v ? v : XFRM_INF;
}

static void set_inf_limits(struct xfrm_lifetime_cfg *l)
{
    l->soft_byte_limit = l->hard_byte_limit = XFRM_INF;
    l->soft_packet_limit = l->hard_packet_limit = XFRM_INF;
}

/* ---- algorithms ---- */

/* XFRMA_ALG_AEAD (RFC 4106, RFC 7634): key with its salt, 128-bit ICV. */
static int put_aead(struct nlmsghdr *nlh, size_t cap, const struct hk_xfrm_sa *sa)
{
    const char *name;
    struct xfrm_algo_aead hdr = {.alg_icv_len = 128};
    uint8_t *p;

    if (sa->integ != HK_AUTH_NONE || sa->ikey || sa->iklen)
        return HK_E_INVALID; /* an AEAD has no separate integrity transform (RFC 4303 3.2.3) */
    if (sa->encr == HK_ENCR_AES_GCM_16) {
        name = HK_XFRM_ALG_GCM;
        if ((sa->encr_key_bits != 128 && sa->encr_key_bits != 192 && sa->encr_key_bits != 256) ||
            sa->eklen != (size_t)sa->encr_key_bits / 8 + 4)
            return HK_E_INVALID;
    } else {
        name = HK_XFRM_ALG_CHACHA;
        if ((sa->encr_key_bits != 0 && sa->encr_key_bits != 256) || sa->eklen != 36)
            return HK_E_INVALID;
    }
    snprintf(hdr.alg_name, sizeof(hdr.alg_name), "%s", name);
    hdr.alg_key_len = (unsigned)(sa->eklen * 8);
    if (!(p = put_attr(nlh, cap, XFRMA_ALG_AEAD, sizeof(hdr) + sa->eklen)))
        return HK_E_OVERFLOW;
    memcpy(p, &hdr, sizeof(hdr));
    memcpy(p + sizeof(hdr), sa->ekey, sa->eklen);
    return HK_OK;
}

/* XFRMA_ALG_CRYPT cbc(aes) (RFC 3602) and XFRMA_ALG_AUTH_TRUNC hmac(sha2) truncated to half
 * the hash, with keys of the full hash length (RFC 4868 2.1.1, 2.3). */
static int put_cbc_hmac(struct nlmsghdr *nlh, size_t cap, const struct hk_xfrm_sa *sa)
{
    struct xfrm_algo enc = {.alg_key_len = 0};
    struct xfrm_algo_auth auth = {.alg_key_len = 0};
    const char *hmac;
    size_t ilen;
    uint8_t *p;

    if ((sa->encr_key_bits != 128 && sa->encr_key_bits != 192 && sa->encr_key_bits != 256) ||
        sa->eklen != (size_t)sa->encr_key_bits / 8)
        return HK_E_INVALID;
    switch (sa->integ) {
    case HK_AUTH_HMAC_SHA2_256_128:
        hmac = HK_XFRM_ALG_SHA256, ilen = 32;
        break;
    case HK_AUTH_HMAC_SHA2_384_192:
        hmac = HK_XFRM_ALG_SHA384, ilen = 48;
        break;
    case HK_AUTH_HMAC_SHA2_512_256:
        hmac = HK_XFRM_ALG_SHA512, ilen = 64;
        break;
    default:
        return sa->integ == HK_AUTH_NONE ? HK_E_INVALID : HK_E_UNSUPPORTED;
    }
    if (!sa->ikey || sa->iklen != ilen)
        return HK_E_INVALID;
    snprintf(enc.alg_name, sizeof(enc.alg_name), "%s", HK_XFRM_ALG_CBC);
    enc.alg_key_len = (unsigned)(sa->eklen * 8);
    if (!(p = put_attr(nlh, cap, XFRMA_ALG_CRYPT, sizeof(enc) + sa->eklen)))
        return HK_E_OVERFLOW;
    memcpy(p, &enc, sizeof(enc));
    memcpy(p + sizeof(enc), sa->ekey, sa->eklen);
    snprintf(auth.alg_name, sizeof(auth.alg_name), "%s", hmac);
    auth.alg_key_len = (unsigned)(ilen * 8);
    auth.alg_trunc_len = (unsigned)(ilen * 8 / 2);
    if (!(p = put_attr(nlh, cap, XFRMA_ALG_AUTH_TRUNC, sizeof(auth) + ilen)))
        return HK_E_OVERFLOW;
    memcpy(p, &auth, sizeof(auth));
    memcpy(p + sizeof(auth), sa->ikey, ilen);
    return HK_OK;
}

/* ---- SAs ---- */

/*
 * The replay window: up to HK_XFRM_LEGACY_WINDOW packets without ESN it fits the legacy
 * field; otherwise it goes in XFRMA_REPLAY_ESN_VAL with a zeroed bitmap of whole 32-bit
 * words, and then the kernel wants the legacy field 0 (it refuses both at once).
 */
static int put_replay(struct nlmsghdr *nlh, size_t cap, const struct hk_xfrm_sa *sa,
                      struct xfrm_usersa_info *info)
{
    struct xfrm_replay_state_esn rs = {.replay_window = sa->replay_window};
    uint8_t *p;

    if (!sa->esn && sa->replay_window <= HK_XFRM_LEGACY_WINDOW) {
        info->replay_window = (uint8_t)sa->replay_window;
        return HK_OK;
    }
    info->replay_window = 0;
    rs.bmp_len = (sa->replay_window + 31) / 32;
    if (!(p = put_attr(nlh, cap, XFRMA_REPLAY_ESN_VAL, sizeof(rs) + rs.bmp_len * 4u)))
        return HK_E_OVERFLOW;
    memcpy(p, &rs, sizeof(rs));
    return HK_OK;
}

/*
 * A carried-over state: always XFRMA_REPLAY_ESN_VAL (the kernel takes it with or without
 * ESN), the window translated from the exported form (bit j = top - j) into the kernel's ring
 * (sequence number s at bit (s - 1) mod W of 32-bit words, counted from the low 32 bits as
 * the kernel's replay code does), and the use so far in XFRMA_LTIME_VAL.
 */
static int put_state(struct nlmsghdr *nlh, size_t cap, const struct hk_xfrm_sa *sa,
                     struct xfrm_usersa_info *info)
{
    const struct hk_xfrm_sa_state *st = sa->state;
    uint32_t w = sa->replay_window;
    struct xfrm_replay_state_esn rs = {.bmp_len = (w + 31) / 32,
                                       .oseq = (uint32_t)st->oseq,
                                       .oseq_hi = (uint32_t)(st->oseq >> 32),
                                       .seq = (uint32_t)st->top,
                                       .seq_hi = (uint32_t)(st->top >> 32),
                                       .replay_window = w};
    uint8_t *p;
    if (!sa->esn && (st->oseq > UINT32_MAX || st->top > UINT32_MAX))
        return HK_E_INVALID;
    info->replay_window = 0;
    if (!(p = put_attr(nlh, cap, XFRMA_REPLAY_ESN_VAL, sizeof(rs) + rs.bmp_len * 4u)))
        return HK_E_OVERFLOW;
    memcpy(p, &rs, sizeof(rs));
    uint32_t *bmp = (uint32_t *)(p + sizeof(rs));
    uint32_t pos = w ? ((uint32_t)st->top - 1) % w : 0;
    for (uint32_t j = 0; st->bits && w && j < w && j < st->nbits && j < st->top; j++) {
        if (!(st->bits[j / 64] >> (j % 64) & 1))
            continue;
        uint32_t bit = pos >= j ? pos - j : w - (j - pos);
        bmp[bit / 32] |= (uint32_t)1 << (bit % 32);
    }
    if (st->bytes || st->packets) {
        struct xfrm_lifetime_cur cur = {.bytes = st->bytes, .packets = st->packets};
        if (!(p = put_attr(nlh, cap, XFRMA_LTIME_VAL, sizeof(cur))))
            return HK_E_OVERFLOW;
        memcpy(p, &cur, sizeof(cur));
    }
    return HK_OK;
}

static int newsa(struct nlmsghdr *nlh, size_t cap, const struct hk_xfrm_sa *sa)
{
    struct xfrm_usersa_info info;
    size_t alen = (size_t)addr_len(sa->family);
    int rc;

    memset(&info, 0, sizeof(info));
    memcpy(&info.id.daddr, sa->dst, alen);
    memcpy(&info.saddr, sa->src, alen);
    info.id.spi = htonl(sa->spi);
    info.id.proto = IPPROTO_ESP;
    info.family = (uint16_t)sa->family;
    info.mode = sa->tunnel ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT;
    info.reqid = sa->reqid;
    /* The SA's own selector stays open: the policies select. In tunnel mode it must stay
     * open to either inner family, or IPv6 in IPv4 would never find the SA. */
    if (sa->tunnel)
        info.flags |= XFRM_STATE_AF_UNSPEC;
    if (sa->esn)
        info.flags |= XFRM_STATE_ESN;
    info.lft.soft_byte_limit = limit(sa->soft_bytes);
    info.lft.hard_byte_limit = limit(sa->hard_bytes);
    info.lft.soft_packet_limit = limit(sa->soft_packets);
    info.lft.hard_packet_limit = limit(sa->hard_packets);
    if (sa->encr == HK_ENCR_AES_GCM_16 || sa->encr == HK_ENCR_CHACHA20_POLY1305)
        rc = put_aead(nlh, cap, sa);
    else if (sa->encr == HK_ENCR_AES_CBC)
        rc = put_cbc_hmac(nlh, cap, sa);
    else
        rc = HK_E_UNSUPPORTED;
    if (rc)
        return rc;
    if (sa->encap) {
        struct xfrm_encap_tmpl enc = {.encap_type = UDP_ENCAP_ESPINUDP,
                                      .encap_sport = htons(sa->encap_sport),
                                      .encap_dport = htons(sa->encap_dport)};
        uint8_t *p = put_attr(nlh, cap, XFRMA_ENCAP, sizeof(enc));
        if (!p)
            return HK_E_OVERFLOW;
        memcpy(p, &enc, sizeof(enc));
    }
    if ((rc = sa->state ? put_state(nlh, cap, sa, &info) : put_replay(nlh, cap, sa, &info)))
        return rc;
    memcpy(payload(nlh), &info, sizeof(info));
    return HK_OK;
}

static int sa_msg(uint8_t *buf, size_t cap, uint16_t type, uint32_t seq,
                  const struct hk_xfrm_sa *sa, size_t *len)
{
    struct nlmsghdr *nlh;
    int rc;

    if (!sa || !len || addr_len(sa->family) < 0 || !sa->ekey || !sa->spi ||
        sa->replay_window > HK_XFRM_MAX_WINDOW || (sa->esn && !sa->replay_window))
        return HK_E_INVALID;
    if ((rc = put_header(buf, cap, type, NLM_F_REQUEST | NLM_F_ACK, seq,
                         sizeof(struct xfrm_usersa_info), &nlh)))
        return rc;
    if ((rc = newsa(nlh, cap, sa))) {
        hk_wipe(buf, nlh->nlmsg_len <= cap ? nlh->nlmsg_len : cap); /* may hold a key */
        return rc;
    }
    *len = nlh->nlmsg_len;
    return HK_OK;
}

int hk_xfrm_newsa(uint8_t *buf, size_t cap, uint32_t seq, const struct hk_xfrm_sa *sa, size_t *len)
{
    return sa_msg(buf, cap, XFRM_MSG_NEWSA, seq, sa, len);
}

int hk_xfrm_updsa(uint8_t *buf, size_t cap, uint32_t seq, const struct hk_xfrm_sa *sa, size_t *len)
{
    return sa_msg(buf, cap, XFRM_MSG_UPDSA, seq, sa, len);
}

/* DELSA / GETSA: xfrm_usersa_id and the source address (XFRMA_SRCADDR) that, with the
 * destination and SPI, names one SA. */
static int sa_id_msg(uint8_t *buf, size_t cap, uint16_t type, uint16_t flags, uint32_t seq,
                     const struct hk_xfrm_sa_id *id, size_t *len)
{
    struct xfrm_usersa_id uid;
    struct nlmsghdr *nlh;
    uint8_t *p;
    int alen, rc;

    if (!id || !len || (alen = addr_len(id->family)) < 0)
        return HK_E_INVALID;
    if ((rc = put_header(buf, cap, type, flags, seq, sizeof(uid), &nlh)))
        return rc;
    memset(&uid, 0, sizeof(uid));
    memcpy(&uid.daddr, id->dst, (size_t)alen);
    uid.spi = htonl(id->spi);
    uid.family = (uint16_t)id->family;
    uid.proto = IPPROTO_ESP;
    memcpy(payload(nlh), &uid, sizeof(uid));
    if (!(p = put_attr(nlh, cap, XFRMA_SRCADDR, sizeof(xfrm_address_t)))) {
        hk_wipe(buf, cap < nlh->nlmsg_len ? cap : nlh->nlmsg_len);
        return HK_E_OVERFLOW;
    }
    memcpy(p, id->src, (size_t)alen);
    *len = nlh->nlmsg_len;
    return HK_OK;
}

int hk_xfrm_delsa(uint8_t *buf, size_t cap, uint32_t seq, const struct hk_xfrm_sa_id *id,
                  size_t *len)
{
    return sa_id_msg(buf, cap, XFRM_MSG_DELSA, NLM_F_REQUEST | NLM_F_ACK, seq, id, len);
}

int hk_xfrm_getsa(uint8_t *buf, size_t cap, uint32_t seq, const struct hk_xfrm_sa_id *id,
                  size_t *len)
{
    return sa_id_msg(buf, cap, XFRM_MSG_GETSA, NLM_F_REQUEST, seq, id, len);
}

/* ---- policies ---- */

static int fill_sel(const struct hk_xfrm_sel *s, struct xfrm_selector *k)
{
    int alen = addr_len(s->family);

    if (alen < 0 || s->src_len > alen * 8 || s->dst_len > alen * 8)
        return HK_E_INVALID;
    memset(k, 0, sizeof(*k));
    memcpy(&k->saddr, s->src, (size_t)alen);
    memcpy(&k->daddr, s->dst, (size_t)alen);
    k->prefixlen_s = s->src_len;
    k->prefixlen_d = s->dst_len;
    k->family = (uint16_t)s->family;
    k->proto = s->proto;
    k->sport = htons(s->sport);
    k->sport_mask = htons(s->sport_mask);
    k->dport = htons(s->dport);
    k->dport_mask = htons(s->dport_mask);
    return HK_OK;
}

static bool valid_dir(uint8_t dir)
{
    return dir == XFRM_POLICY_IN || dir == XFRM_POLICY_OUT || dir == XFRM_POLICY_FWD;
}

int hk_xfrm_newpolicy(uint8_t *buf, size_t cap, uint32_t seq, const struct hk_xfrm_policy *p,
                      size_t *len)
{
    struct xfrm_userpolicy_info info;
    struct xfrm_user_tmpl t;
    struct nlmsghdr *nlh;
    uint8_t *a;
    int alen, rc;

    if (!p || !len || !valid_dir(p->dir) || (alen = addr_len(p->family)) < 0)
        return HK_E_INVALID;
    memset(&info, 0, sizeof(info));
    if (fill_sel(&p->sel, &info.sel))
        return HK_E_INVALID;
    set_inf_limits(&info.lft);
    info.priority = p->priority;
    info.dir = p->dir;
    info.action = XFRM_POLICY_ALLOW;
    info.share = XFRM_SHARE_ANY;

    memset(&t, 0, sizeof(t));
    memcpy(&t.id.daddr, p->tdst, (size_t)alen);
    memcpy(&t.saddr, p->tsrc, (size_t)alen);
    t.id.proto = IPPROTO_ESP;
    t.family = (uint16_t)p->family;
    t.reqid = p->reqid;
    t.mode = p->tunnel ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT;
    t.share = XFRM_SHARE_ANY;
    t.aalgos = t.ealgos = t.calgos = ~0u; /* the SA's algorithms are IKE's business */

    if ((rc = put_header(buf, cap, XFRM_MSG_NEWPOLICY, NLM_F_REQUEST | NLM_F_ACK, seq, sizeof(info),
                         &nlh)))
        return rc;
    memcpy(payload(nlh), &info, sizeof(info));
    if (!(a = put_attr(nlh, cap, XFRMA_TMPL, sizeof(t)))) {
        hk_wipe(buf, cap < nlh->nlmsg_len ? cap : nlh->nlmsg_len);
        return HK_E_OVERFLOW;
    }
    memcpy(a, &t, sizeof(t));
    *len = nlh->nlmsg_len;
    return HK_OK;
}

int hk_xfrm_delpolicy(uint8_t *buf, size_t cap, uint32_t seq, const struct hk_xfrm_policy *p,
                      size_t *len)
{
    struct xfrm_userpolicy_id id;
    struct nlmsghdr *nlh;
    int rc;

    if (!p || !len || !valid_dir(p->dir))
        return HK_E_INVALID;
    memset(&id, 0, sizeof(id));
    if (fill_sel(&p->sel, &id.sel))
        return HK_E_INVALID;
    id.dir = p->dir;
    if ((rc = put_header(buf, cap, XFRM_MSG_DELPOLICY, NLM_F_REQUEST | NLM_F_ACK, seq, sizeof(id),
                         &nlh)))
        return rc;
    memcpy(payload(nlh), &id, sizeof(id));
    *len = nlh->nlmsg_len;
    return HK_OK;
}

int hk_xfrm_migrate(uint8_t *buf, size_t cap, uint32_t seq, const struct hk_xfrm_policy *p,
                    const struct hk_xfrm_move *to, size_t *len)
{
    struct xfrm_userpolicy_id pid;
    struct xfrm_user_migrate m;
    struct nlmsghdr *nlh;
    uint8_t *a;
    int alen, nlen, rc;

    if (!p || !to || !len || !valid_dir(p->dir) || (alen = addr_len(p->family)) < 0 ||
        (nlen = addr_len(to->family)) < 0)
        return HK_E_INVALID;
    memset(&pid, 0, sizeof(pid));
    if (fill_sel(&p->sel, &pid.sel))
        return HK_E_INVALID;
    pid.dir = p->dir;
    memset(&m, 0, sizeof(m));
    memcpy(&m.old_saddr, p->tsrc, (size_t)alen);
    memcpy(&m.old_daddr, p->tdst, (size_t)alen);
    memcpy(&m.new_saddr, to->src, (size_t)nlen);
    memcpy(&m.new_daddr, to->dst, (size_t)nlen);
    m.proto = IPPROTO_ESP;
    m.mode = p->tunnel ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT;
    m.reqid = p->reqid;
    m.old_family = (uint16_t)p->family;
    m.new_family = (uint16_t)to->family;
    if ((rc = put_header(buf, cap, XFRM_MSG_MIGRATE, NLM_F_REQUEST | NLM_F_ACK, seq, sizeof(pid),
                         &nlh)))
        return rc;
    memcpy(payload(nlh), &pid, sizeof(pid));
    if (!(a = put_attr(nlh, cap, XFRMA_MIGRATE, sizeof(m))))
        return HK_E_OVERFLOW;
    memcpy(a, &m, sizeof(m));
    if (to->encap) {
        struct xfrm_encap_tmpl enc = {.encap_type = UDP_ENCAP_ESPINUDP,
                                      .encap_sport = htons(to->encap_sport),
                                      .encap_dport = htons(to->encap_dport)};
        if (!(a = put_attr(nlh, cap, XFRMA_ENCAP, sizeof(enc))))
            return HK_E_OVERFLOW;
        memcpy(a, &enc, sizeof(enc));
    }
    *len = nlh->nlmsg_len;
    return HK_OK;
}

void hk_xfrm_bypass(uint8_t dir, struct xfrm_userpolicy_info *out)
{
    memset(out, 0, sizeof(*out));
    set_inf_limits(&out->lft);
    out->dir = dir;
    out->action = XFRM_POLICY_ALLOW;
}
