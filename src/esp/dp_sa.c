#include "esp/dp_sa.h"

#include "common/err.h"

#include <stdlib.h>
#include <string.h>

/* The address and port as the IKE SA has it, in the SA's compact form. */
static union dp_addr addr_of(const struct sockaddr_storage *a)
{
    union dp_addr d = {0};
    memcpy(&d, a, a->ss_family == AF_INET6 ? sizeof(d.v6) : sizeof(d.v4));
    return d;
}

void dp_sa_set_path(struct dp_sa *s, const struct hk_dp_path *p)
{
    s->out.local = addr_of(&p->local);
    s->out.remote = addr_of(&p->remote);
    s->out.udp = p->udp;
    s->in.tp_fix = p->udp; /* a NAT may have changed what the sender's checksums cover */
}

int dp_sa_new(const struct hk_crypto *crypto, const struct child_sa *c, const struct hk_dp_path *p,
              uint32_t default_window, const struct hk_esp_state *initial, struct dp_sa **out)
{
    const struct hk_child_keys *k = &c->keys;
    /* RFC 7296 2.17: the ir keys protect what the exchange initiator sends. */
    const struct hk_secret *eo = c->initiator ? k->encr_ir : k->encr_ri;
    const struct hk_secret *io = c->initiator ? k->integ_ir : k->integ_ri;
    const struct hk_secret *ei = c->initiator ? k->encr_ri : k->encr_ir;
    const struct hk_secret *ii = c->initiator ? k->integ_ri : k->integ_ir;
    bool esn = c->chosen.esn == 1;
    struct dp_sa *s = calloc(1, sizeof(*s) + hk_sel_size(c->nts_local, c->nts_remote));
    if (!s)
        return HK_E_NOMEM;
    struct dp_in *in = &s->in;
    struct dp_out *o = &s->out;
    hk_sel_fill((struct hk_sel *)(s + 1), c->ts_local, c->nts_local, c->ts_remote, c->nts_remote);
    int rc = hk_esp_sa_crypto_init(&in->cr, crypto, c->spi_in, esn, c->chosen.encr,
                                   c->chosen.encr_key_bits, c->chosen.integ, ei->data, ei->len,
                                   ii ? ii->data : NULL, ii ? ii->len : 0);
    if (!rc)
        rc = hk_esp_sa_crypto_init(&o->cr, crypto, c->spi_out, esn, c->chosen.encr,
                                   c->chosen.encr_key_bits, c->chosen.integ, eo->data, eo->len,
                                   io ? io->data : NULL, io ? io->len : 0);
    /* The child's window (default 1024); 0 turns replay protection off (RFC 4303 3.4.3
     * lets the receiver choose). */
    uint32_t window = c->replay_window ? c->replay_window : default_window;
    window = (window + 63) / 64 * 64; /* the window works in 64-packet words */
    if (!rc)
        rc = hk_replay_init(&in->rw, window, esn);
    if (!rc && initial)
        rc = dp_sa_state_set(s, initial);
    if (rc) {
        dp_sa_free(s);
        return rc;
    }
    in->no_replay = c->replay_window == 0;
    s->lim = (struct dp_limits){.soft_bytes = c->rekey_bytes,
                                .hard_bytes = c->life_bytes,
                                .soft_packets = c->rekey_packets,
                                .hard_packets = c->life_packets};
    in->spi = c->spi_in;
    s->child = c->id;
    o->esn = esn;
    dp_sa_set_path(s, p);
    o->transport = in->transport = c->transport;
    o->live = true;
    *out = s;
    return HK_OK;
}

void dp_sa_free(struct dp_sa *s)
{
    hk_esp_sa_crypto_clear(&s->in.cr);
    hk_esp_sa_crypto_clear(&s->out.cr);
    hk_replay_free(&s->in.rw);
    free(s);
}

void dp_sa_state_get(const struct dp_sa *s, struct hk_esp_state *st)
{
    memset(st, 0, sizeof(*st));
    st->esn = s->out.esn;
    st->seq_out = s->out.seq;
    st->replay_window = hk_replay_window_size(&s->in.rw);
    hk_replay_export(&s->in.rw, &st->replay_top, st->replay_bits);
    st->bytes_in = s->in.bytes;
    st->packets_in = s->in.packets;
    st->bytes_out = s->out.bytes;
    st->packets_out = s->out.packets;
    st->soft_in = s->in.fired.soft;
    st->hard_in = s->in.fired.hard;
    st->soft_out = s->out.fired.soft;
    st->hard_out = s->out.fired.hard;
}

int dp_sa_state_set(struct dp_sa *s, const struct hk_esp_state *st)
{
    /* The ESN choice is part of the negotiated SA (RFC 7296 3.3.2), the window the receiver's:
     * a state made for another SA is refused rather than bent. */
    if (st->esn != (s->in.cr.esn) || st->replay_window != hk_replay_window_size(&s->in.rw) ||
        (!st->esn && st->seq_out > UINT32_MAX))
        return HK_E_INVALID;
    int rc = hk_replay_import(&s->in.rw, st->replay_top, st->replay_bits);
    if (rc)
        return rc;
    s->out.seq = st->seq_out;
    s->in.bytes = st->bytes_in;
    s->in.packets = st->packets_in;
    s->out.bytes = st->bytes_out;
    s->out.packets = st->packets_out;
    s->in.fired = (struct dp_fired){.soft = st->soft_in, .hard = st->hard_in};
    s->out.fired = (struct dp_fired){.soft = st->soft_out, .hard = st->hard_out};
    return HK_OK;
}
