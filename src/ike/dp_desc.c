#include "ike/dp_desc.h"

#include "crypto/alg.h"
#include "crypto/kdf.h"

_Static_assert(CHILD_MAX_TS <= HK_DP_MAX_TS,
               "a data plane takes fewer selectors than we negotiate");

static struct hk_dp_keys keys_of(const struct hk_secret *encr, const struct hk_secret *integ)
{
    /* A key of length 0 is NULL (an AEAD cipher has no integrity key). */
    return (struct hk_dp_keys){.encr = encr ? encr->data : NULL,
                               .encr_len = encr ? encr->len : 0,
                               .integ = integ ? integ->data : NULL,
                               .integ_len = integ ? integ->len : 0};
}

struct hk_dp_id ike_child_dp_id(const struct child_sa *c)
{
    return (struct hk_dp_id){.child = c->id, .spi_in = c->spi_in, .spi_out = c->spi_out};
}

void ike_child_dp_desc(const struct ike_sa *sa, const struct child_sa *c, struct hk_dp_child *out)
{
    const struct hk_child_keys *k = &c->keys;
    /* RFC 7296 2.17: the ir keys protect what the exchange initiator sends. */
    struct hk_dp_keys ir = keys_of(k->encr_ir, k->integ_ir), ri = keys_of(k->encr_ri, k->integ_ri);
    *out = (struct hk_dp_child){.id = ike_child_dp_id(c),
                                .name = c->name,
                                .initiator = c->initiator,
                                .transport = c->transport,
                                .encr = c->chosen.encr,
                                .encr_key_bits = c->chosen.encr_key_bits,
                                .integ = c->chosen.integ,
                                .esn = c->chosen.esn == HK_ESN_YES,
                                .in = c->initiator ? ri : ir,
                                .out = c->initiator ? ir : ri,
                                .path = ike_sa_dp_path(sa),
                                .ts_local = c->ts_local,
                                .ts_remote = c->ts_remote,
                                .nts_local = c->nts_local,
                                .nts_remote = c->nts_remote,
                                .soft_bytes = c->rekey_bytes,
                                .hard_bytes = c->life_bytes,
                                .soft_packets = c->rekey_packets,
                                .hard_packets = c->life_packets,
                                .replay_window = c->replay_window};
}
