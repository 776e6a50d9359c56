/* Sending: encoding and protecting a message, fragmenting it, retransmitting requests. */
#include "ike/engine_internal.h"

#include "common/err.h"
#include "ike/codec/notify.h"
#include "ike/sk_msg.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* RFC 7383 2.5.1: fragment so that a message fits a minimal path MTU. */
#define IKE_FRAG_LEN_V4 576
#define IKE_FRAG_LEN_V6 1280
/* Stack room for encoding one message: IKE_AUTH with a Child SA and CP fits; certificate
 * chains move to the heap. */
#define IKE_SEND_SCRATCH 2048
/* Retransmission back-off stops growing here (2.4 leaves the schedule to us). */
#define IKE_RETRANSMIT_MAX_MS 30000

/* ---- sending ---- */

void engine_send_pkts_to(struct ike_engine *e, const struct sockaddr_storage *local,
                         const struct sockaddr_storage *remote, const struct ike_sent *s)
{
    for (size_t i = 0; i < s->npkts; i++) {
        e->ops.send(e->ops.arg, local, remote, s->pkts[i].p, s->pkts[i].len);
        e->stats.tx++;
    }
}

void engine_send_pkts(struct ike_engine *e, struct ike_sa *sa, const struct ike_sent *s)
{
    engine_send_pkts_to(e, &sa->local, &sa->remote, s);
}

/* "[ SA KE No N(NATD_S_IP) ... ]": what a message carries, for the debug log (never keys:
 * only payload types and notify names). */
static char *summary(const struct ike_payload *pl, size_t n, char *buf, size_t len)
{
    size_t off = 0;
    int k = snprintf(buf, len, "[");
    off = k > 0 ? (size_t)k : 0;
    for (size_t i = 0; i < n && off < len; i++) {
        if (pl[i].type == IKE_PL_SK || pl[i].type == IKE_PL_SKF)
            continue;
        if (pl[i].type == IKE_PL_NOTIFY)
            k = snprintf(buf + off, len - off, " N(%s)", ike_notify_name(pl[i].u.notify.type));
        else if (pl[i].type == IKE_PL_DELETE)
            k = snprintf(buf + off, len - off, " D(%s)",
                         pl[i].u.del.protocol == IKE_PROTO_IKE ? "IKE" : "ESP");
        else
            k = snprintf(buf + off, len - off, " %s", ike_payload_name(pl[i].type));
        off += k > 0 ? (size_t)k : 0;
    }
    if (off < len)
        snprintf(buf + off, len - off, " ]");
    return buf;
}

void engine_log_msg(struct ike_engine *e, const struct ike_sa *sa, const char *dir, uint8_t x,
                    bool response, uint32_t id, const struct ike_payload *pl, size_t n,
                    size_t npkts)
{
    char name[40], sum[512];
    if (!hk_log_enabled(e->log, HK_LOG_DEBUG))
        return;
    hk_debug(e->log, "IKE SA %s [%s]: %s %s %s %u %s%s", ike_sa_name(sa, name, sizeof(name)),
             sa->conn, dir, ike_exchange_name(x), response ? "response" : "request", id,
             summary(pl, n, sum, sizeof(sum)), npkts > 1 ? " (fragmented)" : "");
}

int engine_send(struct ike_engine *e, struct ike_sa *sa, bool response, uint32_t msg_id,
                uint8_t exchange, const struct ike_payload *pl, size_t n)
{
    struct ike_hdr h = {.version = 0x20, .exchange = exchange, .msg_id = msg_id};
    memcpy(h.spi_i, sa->spi_i, IKE_SPI_LEN);
    memcpy(h.spi_r, sa->spi_r, IKE_SPI_LEN);
    h.flags = (sa->initiator ? IKE_FLAG_INITIATOR : 0) | (response ? IKE_FLAG_RESPONSE : 0);

    struct ike_sent s = {.msg_id = msg_id, .exchange = exchange};
    /* Encoded on the stack, then kept at its exact length: one malloc per message. */
    uint8_t scratch[IKE_SEND_SCRATCH];
    struct hk_cbb b;
    int rc;
    hk_cbb_init_buf(&b, scratch, sizeof(scratch), 0);
    if (exchange == IKE_SA_INIT || !sa->sk_out) {
        struct ike_msg m = {.hdr = h, .npayloads = n, .payloads = (struct ike_payload *)pl};
        rc = ike_msg_encode(&m, &b);
        if (!rc)
            rc = ike_sent_set(&s, &b, 1);
    } else {
        rc = ike_sk_seal(sa->sk_out, &h, pl, n, &b);
        size_t limit = sa->remote.ss_family == AF_INET6 ? IKE_FRAG_LEN_V6 : IKE_FRAG_LEN_V4;
        if (!rc && (sa->ext & IKE_EXT_FRAGMENTATION) && b.len > limit) {
            /* RFC 7383 2.5: only encrypted messages are fragmented. */
            struct ike_frags f;
            rc = ike_skf_seal(sa->sk_out, &h, pl, n, limit, &f);
            if (!rc)
                rc = ike_sent_set(&s, f.msgs, f.n);
            ike_frags_free(&f);
        } else if (!rc) {
            rc = ike_sent_set(&s, &b, 1);
        }
    }
    /* No wipe: the scratch holds the message as sent (SK is sealed in place, and a failed
     * seal wipes its plaintext), and a writer moving to the heap wipes what it leaves. */
    hk_cbb_free(&b);
    if (rc) {
        ike_sent_clear(&s);
        hk_err(e->log, "cannot build %s message: %s", ike_exchange_name(exchange), hk_strerror(rc));
        return rc;
    }
    engine_log_msg(e, sa, "send", exchange, response, msg_id, pl, n, s.npkts);
    if (response && sa->reply_local)
        /* 2.11: a response goes to where its request came from, from where it arrived
         * (under MOBIKE that need not be the SA's addresses, RFC 4555 2.2, 3.10). */
        engine_send_pkts_to(e, sa->reply_local, sa->reply_remote, &s);
    else
        engine_send_pkts(e, sa, &s);
    if (response) {
        ike_sent_clear(&sa->resp);
        sa->resp = s;
    } else {
        ike_sent_clear(&sa->out);
        sa->out = s;
        sa->out.next_ms = engine_now(e) + e->cfg->daemon.retransmit_timeout_ms;
        engine_arm(e, sa, IKE_TIMER_RETRANSMIT, sa->out.next_ms);
    }
    return HK_OK;
}

int engine_request(struct ike_engine *e, struct ike_sa *sa, enum ike_xchg_kind kind,
                   const struct ike_payload *pl, size_t n)
{
    if (sa->out.npkts)
        return HK_E_STATE; /* window size 1 (2.3): one request at a time */
    uint32_t id = sa->req_next;
    int rc = engine_send(e, sa, false, id, ike_xchg_exchange(kind), pl, n);
    if (!rc) {
        sa->req_next++;
        sa->xchg.kind = (uint8_t)kind;
        sa->xchg.msg_id = id;
    }
    return rc;
}

void engine_send_stateless(struct ike_engine *e, const struct ike_rx *rx, uint16_t notify,
                           const uint8_t *data, size_t len)
{
    struct ike_payload pl = {.type = IKE_PL_NOTIFY,
                             .u.notify = {.type = notify, .data = {data, len}}};
    struct ike_msg m = {.hdr = rx->msg.hdr, .npayloads = 1, .payloads = &pl};
    m.hdr.flags = IKE_FLAG_RESPONSE;
    memset(m.hdr.spi_r, 0, IKE_SPI_LEN);
    struct hk_cbb b;
    hk_cbb_init(&b, 128, 0);
    if (!ike_msg_encode(&m, &b)) {
        e->ops.send(e->ops.arg, rx->local, rx->remote, b.buf, b.len);
        e->stats.tx++;
    }
    hk_cbb_free(&b);
}

void engine_retransmit(struct ike_engine *e, struct ike_sa *sa)
{
    char name[40];
    if (!sa->out.npkts)
        return;
    if (sa->out.tries >= e->cfg->daemon.retransmit_tries) {
        hk_info(e->log, "IKE SA %s [%s]: %s request %u not answered after %u retransmissions",
                ike_sa_name(sa, name, sizeof(name)), sa->conn, ike_exchange_name(sa->out.exchange),
                sa->out.msg_id, sa->out.tries);
        const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
        bool restart = sa->state == IKE_SA_ESTABLISHED && conn &&
                       conn->dpd_action == HK_ACTION_RESTART && sa->initiator;
        char cname[sizeof(sa->conn)];
        snprintf(cname, sizeof(cname), "%s", sa->conn);
        if (sa->state == IKE_SA_ESTABLISHED)
            e->stats.dpd_dead++;
        /* An unprotected error that came in the meantime (2.21.1) is the likely reason. */
        bool refused = sa->state == IKE_SA_INIT_SENT && sa->init_error;
        engine_delete_sa(e, sa, refused ? ike_notify_name(sa->init_error) : "peer not responding");
        if (restart) {
            hk_info(e->log, "connection %s: peer dead, initiating again (dpd_action restart)",
                    cname);
            ike_engine_initiate(e, cname, NULL);
        }
        return;
    }
    sa->out.tries++;
    e->stats.retransmits++;
    hk_debug(e->log, "IKE SA %s: retransmitting %s request %u (%u)", ike_sa_name(sa, name, 40),
             ike_exchange_name(sa->out.exchange), sa->out.msg_id, sa->out.tries);
    engine_send_pkts(e, sa, &sa->out);
    uint64_t delay = (uint64_t)e->cfg->daemon.retransmit_timeout_ms << sa->out.tries;
    if (delay > IKE_RETRANSMIT_MAX_MS)
        delay = IKE_RETRANSMIT_MAX_MS;
    sa->out.next_ms = engine_now(e) + delay;
    engine_arm(e, sa, IKE_TIMER_RETRANSMIT, sa->out.next_ms);
}
