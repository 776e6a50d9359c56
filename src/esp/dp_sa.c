#include "esp/dp_sa.h"

#include "common/err.h"

#include <stdlib.h>
#include <string.h>

/* The address and port of a path, in the SA's compact form. */
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

int dp_sa_new(const struct hk_crypto *crypto, const struct hk_dp_child *c, uint32_t default_window,
              const struct hk_esp_state *initial, struct dp_sa **out)
{
    bool esn = c->esn;
    struct dp_sa *s = calloc(1, sizeof(*s) + hk_sel_size(c->nts_local, c->nts_remote));
    if (!s)
        return HK_E_NOMEM;
    struct dp_in *in = &s->in;
    struct dp_out *o = &s->out;
    hk_sel_fill((struct hk_sel *)(s + 1), c->ts_local, c->nts_local, c->ts_remote, c->nts_remote);
    int rc =
        hk_esp_sa_crypto_init(&in->cr, crypto, c->id.spi_in, esn, c->encr, c->encr_key_bits,
                              c->integ, c->in.encr, c->in.encr_len, c->in.integ, c->in.integ_len);
    if (!rc)
        rc = hk_esp_sa_crypto_init(&o->cr, crypto, c->id.spi_out, esn, c->encr, c->encr_key_bits,
                                   c->integ, c->out.encr, c->out.encr_len, c->out.integ,
                                   c->out.integ_len);
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
    s->lim = (struct dp_limits){.soft_bytes = c->soft_bytes,
                                .hard_bytes = c->hard_bytes,
                                .soft_packets = c->soft_packets,
                                .hard_packets = c->hard_packets};
    in->spi = c->id.spi_in;
    s->child = c->id.child;
    o->esn = esn;
    dp_sa_set_path(s, &c->path);
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
