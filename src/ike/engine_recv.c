/* Receiving: ike_engine_recv, the message-ID window and cached responses, fragment
 * reassembly, refusals and dispatch to the exchanges. */
#include "ike/engine_internal.h"

#include "common/err.h"
#include "common/secret.h"
#include "common/sockaddr.h"
#include "ike/codec/notify.h"
#include "ike/sk_msg.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Stack room for a received message and its decoded payloads: the common exchanges fit,
 * certificate chains and big CREATE_CHILD_SA requests go to the heap. */
#define IKE_RX_COPY  2048
#define IKE_RX_ARENA 4096
/* Arena bound for decoding one message: generous for certificate chains, finite for attackers. */
#define IKE_RX_ARENA_LIMIT (1u << 20)
/* A cached response goes out again at most once per interval per SA (2.1 lets us choose):
 * a peer's retransmissions back off from 1 s, a replay storm gets nothing more. */
#define IKE_RESEND_INTERVAL_MS 500

/* ---- receiving ---- */

static void dispatch_request(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx)
{
    bool up = sa->state == IKE_SA_ESTABLISHED || sa->state == IKE_SA_DELETING ||
              sa->state == IKE_SA_REKEYED;
    switch (rx->msg.hdr.exchange) {
    case IKE_AUTH:
        if (!sa->initiator && sa->state == IKE_SA_INIT_RCVD) {
            x_auth_on_request(e, sa, rx);
            return;
        }
        break;
    case IKE_CREATE_CHILD_SA:
        if (up) {
            x_create_on_request(e, sa, rx);
            return;
        }
        break;
    case IKE_INFORMATIONAL:
        if (up) {
            x_info_on_request(e, sa, rx);
            return;
        }
        break;
    }
    engine_drop(e, IKE_DROP_UNEXPECTED, rx->remote, ike_exchange_name(rx->msg.hdr.exchange));
}

static void dispatch_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx)
{
    uint8_t x = rx->msg.hdr.exchange;
    if (x != sa->out.exchange) {
        engine_drop(e, IKE_DROP_UNEXPECTED, rx->remote, "response to another exchange");
        return;
    }
    /* 2.21.1: an error in an IKE_SA_INIT response is unauthenticated; the request stays out
     * and is retransmitted until a real answer comes or it times out. */
    if (x == IKE_SA_INIT && x_init_ignore_error(e, sa, rx))
        return;
    engine_disarm(sa, IKE_TIMER_RETRANSMIT);
    ike_sent_clear(&sa->out);
    /* What we asked. A CREATE_CHILD_SA's record stays until its handler is done with it (its
     * KE, nonce and the SAs it makes; queued work waits for it); any other ends here, before
     * its handler may start the next exchange, which gets its own. */
    struct ike_xchg asked = {.kind = sa->xchg.kind,
                             .msg_id = sa->xchg.msg_id,
                             .child_id = sa->xchg.child_id,
                             .old_child_id = sa->xchg.old_child_id,
                             .new_sa_id = sa->xchg.new_sa_id};
    if (x != IKE_CREATE_CHILD_SA)
        x_xchg_end(e, sa);
    if ((x == IKE_CREATE_CHILD_SA || x == IKE_INFORMATIONAL) &&
        ike_msg_find_notify(&rx->msg, IKE_N_INVALID_SYNTAX)) {
        /* 2.21.3: fatal in both peers, no Delete needed. (IKE_AUTH answers are x_auth's,
         * 2.21.2; an unprotected IKE_SA_INIT answer proves nothing, 2.21.1.) */
        engine_delete_sa(e, sa, "peer answered INVALID_SYNTAX");
        return;
    }
    switch (x) {
    case IKE_SA_INIT:
        x_init_on_response(e, sa, rx);
        break;
    case IKE_AUTH:
        x_auth_on_response(e, sa, rx);
        break;
    case IKE_CREATE_CHILD_SA:
        x_create_on_response(e, sa, rx);
        break;
    case IKE_INFORMATIONAL:
        x_info_on_response(e, sa, rx, &asked);
        break;
    default:
        engine_drop(e, IKE_DROP_UNEXPECTED, rx->remote, ike_exchange_name(x));
    }
}

/* RFC 7383 2.6: fragments are verified one by one and reassembled by number. */
#define FRAG_MAX_TOTAL 128
#define FRAG_MAX_BYTES (64u * 1024)

static int frag_in(struct ike_engine *e, struct ike_sa *sa, uint8_t *buf, size_t len,
                   struct ike_msg *msg, struct hk_arena *a, uint8_t *first, struct ike_view *inner,
                   struct hk_diag *d)
{
    struct ike_frag_in *f = &sa->frag;
    const struct ike_pl_skf *skf = &msg->payloads[msg->npayloads - 1].u.skf;
    struct ike_view chunk;
    bool response = msg->hdr.flags & IKE_FLAG_RESPONSE;
    if (!(sa->ext & IKE_EXT_FRAGMENTATION)) {
        hk_diag_set(d, "fragment without negotiated fragmentation");
        return HK_E_SYNTAX;
    }
    if (skf->total_frags > FRAG_MAX_TOTAL) {
        hk_diag_set(d, "%u fragments > %u", skf->total_frags, FRAG_MAX_TOTAL);
        return HK_E_SYNTAX;
    }
    int rc = ike_skf_open(sa->sk_in, buf, len, msg, &chunk, d);
    if (rc)
        return rc;
    /* A new message, or a retransmission split differently (2.6.1: higher total wins). */
    if (f->total &&
        (f->msg_id != msg->hdr.msg_id || f->response != response || f->total != skf->total_frags)) {
        if (f->msg_id == msg->hdr.msg_id && f->response == response && skf->total_frags < f->total)
            return HK_E_AGAIN; /* stale, smaller split of the same message */
        ike_frag_in_clear(f);
    }
    if (!f->total) {
        f->part = calloc(skf->total_frags, sizeof(*f->part));
        if (!f->part)
            return HK_E_NOMEM;
        f->total = skf->total_frags;
        f->msg_id = msg->hdr.msg_id;
        f->response = response;
    }
    struct ike_bytes *p = &f->part[skf->frag_num - 1];
    if (p->p || (!chunk.len && skf->frag_num != 1))
        return HK_E_AGAIN; /* duplicate */
    if (f->bytes + chunk.len > FRAG_MAX_BYTES) {
        ike_frag_in_clear(f);
        hk_diag_set(d, "reassembled message over %u octets", FRAG_MAX_BYTES);
        return HK_E_OVERFLOW;
    }
    if (ike_bytes_set(p, chunk.p, chunk.len) || (!chunk.len && !(p->p = malloc(1))))
        return HK_E_NOMEM;
    if (skf->frag_num == 1) {
        f->first_inner = skf->first_inner;
        if (!response && sa->frag1_cand_len == len) {
            /* Verified (its own ICV): what a retransmission of the request will repeat, as
             * check_msg_id saw it before decryption. */
            sa->frag1_msg_id = msg->hdr.msg_id;
            sa->frag1_len = sa->frag1_cand_len;
            memcpy(sa->frag1_tail, sa->frag1_cand_tail, IKE_REQ_TAIL);
        }
    }
    f->bytes += chunk.len;
    if (++f->have < f->total)
        return HK_E_AGAIN;
    /* Complete: the inner payloads replace the SKF payload. */
    uint8_t *all = hk_arena_alloc(a, f->bytes);
    size_t off = 0;
    if (!all) {
        ike_frag_in_clear(f);
        return HK_E_NOMEM;
    }
    for (uint16_t i = 0; i < f->total; i++) {
        memcpy(all + off, f->part[i].p, f->part[i].len);
        off += f->part[i].len;
    }
    *first = f->first_inner;
    *inner = (struct ike_view){all, off};
    ike_frag_in_clear(f);
    msg->npayloads--;
    e->stats.reassembled++;
    return HK_OK;
}

/*
 * Remembers the authenticated request a response answers (2.1). Its last octets are its ICV,
 * which covers everything before it: a datagram with the same length and tail is a copy of
 * it, or a forgery made by someone who saw it and could as well have replayed it. Either way
 * only the cached response goes out, to the peer. Cheaper than hashing the whole request.
 */
static void note_request(struct ike_sa *sa, uint16_t frag_num, const uint8_t *buf, size_t len)
{
    sa->resp_req_len = 0;
    if (frag_num) {
        /* A fragmented request is answered again on its fragment 1 only (RFC 7383 2.6.1):
         * the one frag_in kept (each fragment has its own ICV). The request's ID is the one
         * just counted in peer_req_next. */
        if (sa->frag1_len && sa->frag1_msg_id == sa->peer_req_next - 1) {
            sa->resp_req_len = sa->frag1_len;
            memcpy(sa->resp_req_tail, sa->frag1_tail, IKE_REQ_TAIL);
        }
        sa->frag1_len = 0;
        return;
    }
    if (len < IKE_REQ_TAIL || len > UINT32_MAX)
        return;
    sa->resp_req_len = (uint32_t)len;
    memcpy(sa->resp_req_tail, buf + len - IKE_REQ_TAIL, IKE_REQ_TAIL);
}

static bool is_last_request(const struct ike_sa *sa, const uint8_t *buf, size_t len)
{
    return sa->resp_req_len && len == sa->resp_req_len &&
           !memcmp(buf + len - IKE_REQ_TAIL, sa->resp_req_tail, IKE_REQ_TAIL);
}

/* A cached response goes out again at most once per IKE_RESEND_INTERVAL_MS per SA. */
static bool resend_allowed(struct ike_engine *e, struct ike_sa *sa,
                           const struct sockaddr_storage *from)
{
    uint64_t now = engine_now(e);
    if (sa->resend_ms && now - sa->resend_ms < IKE_RESEND_INTERVAL_MS) {
        engine_drop(e, IKE_DROP_RESEND_LIMIT, from, "cached response sent again just now");
        return false;
    }
    sa->resend_ms = now;
    return true;
}

/* Message-ID window (2.3) and retransmission detection (2.1). Returns true to process. */
static bool check_msg_id(struct ike_engine *e, struct ike_sa *sa, const struct ike_hdr *h,
                         uint16_t frag_num, const uint8_t *buf, size_t len,
                         const struct sockaddr_storage *local, const struct sockaddr_storage *from)
{
    char d[64];
    if (h->flags & IKE_FLAG_RESPONSE) {
        if (sa->out.npkts && h->msg_id == sa->out.msg_id)
            return true;
        snprintf(d, sizeof(d), "response %u, expected %u", h->msg_id,
                 sa->out.npkts ? sa->out.msg_id : 0);
        engine_drop(e, IKE_DROP_MSGID, from, d);
        return false;
    }
    if (h->msg_id == sa->peer_req_next) {
        sa->frag1_cand_len = 0;
        if (frag_num == 1 && len >= IKE_REQ_TAIL && len <= UINT32_MAX) {
            sa->frag1_cand_len = (uint32_t)len; /* frag_in keeps it once verified */
            memcpy(sa->frag1_cand_tail, buf + len - IKE_REQ_TAIL, IKE_REQ_TAIL);
        }
        return true;
    }
    if (sa->resp.npkts && h->msg_id == sa->resp.msg_id) {
        /* A retransmitted request: answer with the same response, do not process (2.1).
         * A fragmented one is answered once, on its first fragment (RFC 7383 2.6.1). */
        if (frag_num > 1)
            return false;
        /* Only the same request (or its fragment 1) again gets the response again, and not
         * faster than resend_allowed says: a forged or replayed one must not make us send to
         * the peer (2.1 leaves this to us; note_request says how it is known). */
        if (!is_last_request(sa, buf, len)) {
            engine_drop(e, IKE_DROP_MSGID, from, "not a retransmission of the last request");
            return false;
        }
        if (!resend_allowed(e, sa, from))
            return false;
        e->stats.cached_responses++;
        engine_send_pkts_to(e, local, from, &sa->resp); /* 2.11: back where it came from */
        return false;
    }
    snprintf(d, sizeof(d), "request %u, expected %u", h->msg_id, sa->peer_req_next);
    engine_drop(e, IKE_DROP_MSGID, from, d);
    return false;
}

/*
 * Answers an authenticated request that is refused whole (2.21.2, 2.21.3) with one notify,
 * under its message ID; the window moves on, so a retransmission gets the same answer.
 * INVALID_SYNTAX is fatal in both peers (2.21.3), and in IKE_AUTH so is
 * UNSUPPORTED_CRITICAL_PAYLOAD (2.21.2): the IKE SA then goes at once, without a Delete.
 */
static void refuse_request(struct ike_engine *e, struct ike_sa *sa, const struct ike_hdr *h,
                           uint16_t frag_num, const uint8_t *buf, size_t len,
                           const struct sockaddr_storage *local,
                           const struct sockaddr_storage *remote, uint16_t notify,
                           const uint8_t *data, size_t dlen)
{
    char name[40];
    struct ike_payload n = {.type = IKE_PL_NOTIFY,
                            .u.notify = {.type = notify, .data = {data, dlen}}};
    bool fatal = notify == IKE_N_INVALID_SYNTAX || sa->state == IKE_SA_INIT_RCVD;
    sa->peer_req_next++;
    note_request(sa, frag_num, buf, len);
    hk_info(e->log, "IKE SA %s [%s]: %s request %u refused with %s%s",
            ike_sa_name(sa, name, sizeof(name)), sa->conn, ike_exchange_name(h->exchange),
            h->msg_id, ike_notify_name(notify), fatal ? ", the IKE SA is deleted" : "");
    if (!fatal) {
        engine_send(e, sa, true, h->msg_id, h->exchange, &n, 1);
        return;
    }
    /* The answer goes where the request came from (2.23); the SA, about to go, is not
     * moved. */
    struct sockaddr_storage was_local = sa->local, was_remote = sa->remote;
    sa->local = *local;
    sa->remote = *remote;
    engine_send(e, sa, true, h->msg_id, h->exchange, &n, 1);
    sa->local = was_local;
    sa->remote = was_remote;
    engine_delete_sa(e, sa,
                     notify == IKE_N_INVALID_SYNTAX ? "malformed request (INVALID_SYNTAX)"
                                                    : "unsupported critical payload");
}

void ike_engine_recv(struct ike_engine *e, const struct sockaddr_storage *local,
                     const struct sockaddr_storage *remote, const uint8_t *buf, size_t len)
{
    struct hk_diag d = {0};
    struct ike_hdr h;
    e->stats.rx++;
    if (len > e->cfg->daemon.max_packet) {
        /* Bounds what one datagram can make us hold (a half-open SA keeps its IKE_SA_INIT
         * request for AUTH, 2.15) and decode. */
        char why[48];
        snprintf(why, sizeof(why), "%zu octets > daemon.max_packet", len);
        engine_drop(e, IKE_DROP_TOO_BIG, remote, why);
        return;
    }
    int rc = ike_hdr_decode(buf, len, &h, &d);
    if (rc == HK_E_UNSUPPORTED && h.exchange == IKE_SA_INIT && !(h.flags & IKE_FLAG_RESPONSE)) {
        /* 2.5: a higher major version is answered with the highest one we speak. */
        struct ike_rx vx = {.local = local, .remote = remote, .msg = {.hdr = h}};
        vx.msg.hdr.version = 0x20;
        engine_send_stateless(e, &vx, IKE_N_INVALID_MAJOR_VERSION, NULL, 0);
    }
    if (rc) {
        engine_drop(e, rc == HK_E_UNSUPPORTED ? IKE_DROP_VERSION : IKE_DROP_HEADER, remote,
                    hk_diag_msg(&d));
        return;
    }
    bool peer_is_orig_initiator = h.flags & IKE_FLAG_INITIATOR;
    static const uint8_t zero[IKE_SPI_LEN];
    /* 3.1: the initiator's SPI MUST NOT be zero, in any message. */
    if (!memcmp(h.spi_i, zero, IKE_SPI_LEN)) {
        engine_drop(e, IKE_DROP_HEADER, remote, "zero initiator SPI");
        return;
    }

    uint64_t sa_id = 0; /* an existing SA the message is for */
    /* Work on a private copy: SK is decrypted in place, and the raw form is signed. The
     * copy and the decoded payloads live on the stack unless the message is large. */
    alignas(max_align_t) uint8_t copy_buf[IKE_RX_COPY], arena_buf[IKE_RX_ARENA];
    uint8_t *copy = len <= sizeof(copy_buf) ? copy_buf : malloc(len);
    struct hk_arena a;
    hk_arena_init_buf(&a, IKE_RX_ARENA_LIMIT, arena_buf, sizeof(arena_buf));
    struct ike_rx rx = {.local = local, .remote = remote, .raw = buf, .raw_len = len, .arena = &a};
    if (!copy)
        goto out;
    memcpy(copy, buf, len);

    struct ike_sa *sa = NULL;
    if (peer_is_orig_initiator && !memcmp(h.spi_r, zero, IKE_SPI_LEN)) {
        if (h.exchange != IKE_SA_INIT || (h.flags & IKE_FLAG_RESPONSE) || h.msg_id != 0) {
            engine_drop(e, IKE_DROP_NO_SA, remote, "zero responder SPI");
            goto out;
        }
        sa = engine_half_open_find(e, h.spi_i, remote);
        if (sa) {
            /* Retransmitted IKE_SA_INIT: the cached response, nothing else (2.1); only for a
             * copy of the request answered (kept for AUTH anyway, 2.15), at a bounded rate:
             * a bare header with a known SPI must not make us send kilobytes to an address
             * it claims. */
            if (len != sa->init_req.len || !sa->init_req.p || memcmp(buf, sa->init_req.p, len))
                engine_drop(e, IKE_DROP_MSGID, remote, "not a retransmission of IKE_SA_INIT");
            else if (resend_allowed(e, sa, remote)) {
                e->stats.cached_responses++;
                engine_send_pkts(e, sa, &sa->resp);
            }
            sa = NULL;
            goto out;
        }
        rc = ike_msg_decode(copy, len, &rx.msg, &a, &d);
        if (rc) {
            engine_drop(e, IKE_DROP_DECODE, remote, hk_diag_msg(&d));
            goto out;
        }
        if (rx.msg.unknown_critical) {
            /* 2.5: refuse the message, naming the payload type. */
            uint8_t t = rx.msg.unknown_critical;
            engine_drop(e, IKE_DROP_UNEXPECTED, remote, "unsupported critical payload");
            engine_send_stateless(e, &rx, IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD, &t, 1);
            goto out;
        }
        x_init_on_request(e, &rx);
        goto out;
    }

    sa = hk_u64map_get(&e->sa_by_spi, engine_spi_key(peer_is_orig_initiator ? h.spi_r : h.spi_i));
    if (!sa || sa->initiator == peer_is_orig_initiator || sa->state == IKE_SA_DEAD) {
        engine_drop(e, IKE_DROP_NO_SA, remote, NULL);
        goto out;
    }
    sa_id = sa->id;
    /* IKE_SA_INIT is unprotected: past the request that makes an SA (above), the only one
     * we take is the response to our own outstanding request. Anything else must not touch
     * the message-ID window or the SA. */
    if (h.exchange == IKE_SA_INIT &&
        !(sa->initiator && sa->state == IKE_SA_INIT_SENT && (h.flags & IKE_FLAG_RESPONSE))) {
        engine_drop(e, IKE_DROP_UNEXPECTED, remote, "IKE_SA_INIT for an existing SA");
        goto out;
    }
    /* The peer's SPI must agree too, except in the IKE_SA_INIT response that tells it. */
    const uint8_t *peer_spi = sa->initiator ? h.spi_r : h.spi_i;
    const uint8_t *known = sa->initiator ? sa->spi_r : sa->spi_i;
    if (!(sa->initiator && h.exchange == IKE_SA_INIT) && memcmp(peer_spi, known, IKE_SPI_LEN)) {
        engine_drop(e, IKE_DROP_NO_SA, remote, "peer SPI mismatch");
        goto out;
    }
    /* The fragment number of an SKF message, read before decoding (0 when not SKF). */
    uint16_t frag_num = h.next_payload == IKE_PL_SKF && len >= IKE_HDR_LEN + 6
                            ? (uint16_t)(buf[IKE_HDR_LEN + 4] << 8 | buf[IKE_HDR_LEN + 5])
                            : 0;
    if (!check_msg_id(e, sa, &h, frag_num, buf, len, local, remote))
        goto out;
    rc = ike_msg_decode(copy, len, &rx.msg, &a, &d);
    if (rc) {
        engine_drop(e, IKE_DROP_DECODE, remote, hk_diag_msg(&d));
        goto out;
    }
    if (h.exchange != IKE_SA_INIT) {
        const struct ike_payload *last =
            rx.msg.npayloads ? &rx.msg.payloads[rx.msg.npayloads - 1] : NULL;
        if (!sa->sk_in || !last || (last->type != IKE_PL_SK && last->type != IKE_PL_SKF)) {
            engine_drop(e, IKE_DROP_UNEXPECTED, remote, "not protected by SK");
            goto out;
        }
        struct ike_view inner = {0};
        uint8_t first = last->type == IKE_PL_SK ? last->u.sk.first_inner : IKE_PL_NONE;
        rc = last->type == IKE_PL_SK ? ike_sk_decrypt(sa->sk_in, copy, len, &rx.msg, &inner, &d)
                                     : frag_in(e, sa, copy, len, &rx.msg, &a, &first, &inner, &d);
        if (rc == HK_E_AGAIN)
            goto out; /* a fragment kept; the message is not complete yet */
        if (rc && rc != HK_E_PADDING) {
            /* Not authenticated (or our own trouble): never answered (2.21.2, 2.21.4). */
            engine_drop(e, rc == HK_E_AUTH ? IKE_DROP_ICV : IKE_DROP_DECODE, remote,
                        hk_diag_msg(&d));
            goto out;
        }
        /* The ICV is good from here on: what does not parse is the peer's error. */
        if (!rc && (inner.len || first != IKE_PL_NONE)) /* else an empty message (1.4) */
            rc = ike_payloads_decode(first, inner.p, inner.len, &rx.msg, &a, &d);
        if (rc == HK_E_NOMEM) {
            engine_drop(e, IKE_DROP_DECODE, remote, hk_diag_msg(&d)); /* ours: a retry may do */
            goto out;
        }
        if (rc) {
            sa->last_in_ms = engine_now(e);
            engine_drop(e, IKE_DROP_DECODE, remote, hk_diag_msg(&d));
            if (h.flags & IKE_FLAG_RESPONSE) {
                /* 2.21: a response is never answered, but the exchange cannot complete. */
                x_info_abandon_ike(e, sa, "malformed response");
            } else {
                refuse_request(e, sa, &h, frag_num, buf, len, local, remote, IKE_N_INVALID_SYNTAX,
                               NULL, 0);
            }
            goto out;
        }
    }
    sa->last_in_ms = engine_now(e);
    /* The peer proved it holds the keys: the SA is no longer half-open (2.6), and leaves the
     * table before anything below may move its address. */
    engine_half_open_done(e, sa);
    if (rx.msg.unknown_critical && !(h.flags & IKE_FLAG_RESPONSE)) {
        /* 2.5: an authenticated request with an unknown critical payload is refused whole. */
        uint8_t t = rx.msg.unknown_critical;
        engine_drop(e, IKE_DROP_UNEXPECTED, remote, "unsupported critical payload");
        refuse_request(e, sa, &h, frag_num, buf, len, local, remote,
                       IKE_N_UNSUPPORTED_CRITICAL_PAYLOAD, &t, 1);
        goto out;
    }
    /* 2.23: with a NAT in the path, answer where the last authenticated message came from.
     * With MOBIKE only a host behind a NAT does so (RFC 4555 3.8): for the other the
     * addresses move by UPDATE_SA_ADDRESSES alone, so any other INFORMATIONAL may test a
     * path without moving the SA. */
    bool mobike = sa->ext & IKE_EXT_MOBIKE;
    if (h.exchange != IKE_SA_INIT && (!mobike || sa->nat_local) &&
        (sa->nat_local || sa->nat_remote ||
         hk_sockaddr_port(local) != hk_sockaddr_port(&sa->local))) {
        sa->remote = *remote;
        sa->local = *local;
    }
    engine_log_msg(e, sa, "recv", h.exchange, h.flags & IKE_FLAG_RESPONSE, h.msg_id,
                   rx.msg.payloads, rx.msg.npayloads, 1);
    if (h.flags & IKE_FLAG_RESPONSE) {
        dispatch_response(e, sa, &rx);
    } else {
        sa->peer_req_next++;
        /* The request the coming response answers (a fragmented one: its last fragment,
         * which is not used: fragments are answered on fragment 1 only). */
        note_request(sa, frag_num, buf, len);
        sa->reply_local = local;
        sa->reply_remote = remote;
        dispatch_request(e, sa, &rx);
        if ((sa = hk_u64map_get(&e->sa_by_id, sa_id)))
            sa->reply_local = sa->reply_remote = NULL;
    }
    /* The handler may have freed the SA; a window that came free runs queued work. */
    if ((sa = hk_u64map_get(&e->sa_by_id, sa_id))) {
        x_mobike_run(e, sa); /* a waiting address update or check first (RFC 4555 3.5) */
        engine_run_tasks(e, sa);
    }
out:
    /* With no request of ours outstanding the exchange is over: the cipher contexts go until
     * the next one (a rebuild costs microseconds, an idle SA keeps kilobytes). A request we
     * are waiting on keeps them for its response. */
    if (sa_id && (sa = hk_u64map_get(&e->sa_by_id, sa_id)) && !sa->out.npkts)
        ike_sa_idle(sa);
    hk_arena_free(&a);
    if (copy) {
        hk_wipe(copy, len);
        if (copy != copy_buf)
            free(copy);
    }
}
