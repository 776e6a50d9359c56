/*
 * Plausible IKEv2 messages built with the codec's structures, shared by the test
 * tools (pcap writer, fuzz seed writer) and the unit tests. Content is
 * deterministic: "random" fields come from a fixed xorshift generator.
 *
 * A struct sample holds the message and all storage its views point into, so it
 * must not be copied once built.
 */
#ifndef HIKE_TESTS_SAMPLE_MSGS_H
#define HIKE_TESTS_SAMPLE_MSGS_H

#include <string.h>

#include "crypto/alg.h"
#include "ike/codec/msg.h"
#include "ike/codec/notify.h"

#define SAMPLE_MAX_PL   24
#define SAMPLE_MAX_PROP 4
#define SAMPLE_MAX_TR   16
#define SAMPLE_DATA     4096

struct sample {
    struct ike_msg msg;
    struct ike_payload pl[SAMPLE_MAX_PL];
    struct ike_proposal prop[SAMPLE_MAX_PROP];
    struct ike_transform tr[SAMPLE_MAX_TR];
    struct ike_ts ts[4];
    struct ike_cfg_attr cfg[4];
    uint8_t data[SAMPLE_DATA];
    size_t used;
    uint32_t rng;
    size_t ntr;
};

static inline void sample_init(struct sample *s, uint32_t seed)
{
    memset(s, 0, sizeof(*s));
    s->rng = seed ? seed : 0x2545f491u;
    s->msg.payloads = s->pl;
    s->msg.hdr.version = 0x20;
}

/* n deterministic pseudo-random octets from the sample's storage. */
static inline struct ike_view sample_bytes(struct sample *s, size_t n)
{
    struct ike_view v = {s->data + s->used, n};
    for (size_t i = 0; i < n; i++) {
        s->rng ^= s->rng << 13;
        s->rng ^= s->rng >> 17;
        s->rng ^= s->rng << 5;
        s->data[s->used + i] = (uint8_t)s->rng;
    }
    s->used += n;
    return v;
}

static inline struct ike_view sample_copy(struct sample *s, const void *p, size_t n)
{
    struct ike_view v = {s->data + s->used, n};
    memcpy(s->data + s->used, p, n);
    s->used += n;
    return v;
}

static inline struct ike_payload *sample_add(struct sample *s, uint8_t type)
{
    struct ike_payload *p = &s->pl[s->msg.npayloads++];
    p->type = type;
    return p;
}

static inline void sample_hdr(struct sample *s, uint8_t exchange, uint8_t flags, uint32_t msg_id,
                              bool with_spi_r)
{
    static const uint8_t spi_i[8] = {0x5a, 0x1c, 0x3e, 0x90, 0x11, 0x72, 0x08, 0xd4};
    static const uint8_t spi_r[8] = {0xc3, 0x07, 0x9b, 0x2e, 0x64, 0xf1, 0x5d, 0x80};
    memcpy(s->msg.hdr.spi_i, spi_i, 8);
    if (with_spi_r)
        memcpy(s->msg.hdr.spi_r, spi_r, 8);
    s->msg.hdr.exchange = exchange;
    s->msg.hdr.flags = flags;
    s->msg.hdr.msg_id = msg_id;
}

static inline struct ike_transform *sample_tr(struct sample *s, uint8_t type, uint16_t id,
                                              int keylen)
{
    struct ike_transform *t = &s->tr[s->ntr++];
    t->type = type;
    t->id = id;
    if (keylen) {
        t->nattrs = 1;
        t->attrs[0].type = IKE_ATTR_KEY_LENGTH;
        t->attrs[0].tv = true;
        t->attrs[0].value = (uint16_t)keylen;
    }
    return t;
}

/* IKE proposal: AES-GCM-16/256, PRF HMAC-SHA2-256, then the given KE groups. */
static inline void sample_ike_sa(struct sample *s, uint8_t num, const uint16_t *groups,
                                 size_t ngroups)
{
    struct ike_payload *p = sample_add(s, IKE_PL_SA);
    struct ike_proposal *prop = &s->prop[0];
    prop->num = num;
    prop->protocol = IKE_PROTO_IKE;
    prop->transforms = &s->tr[s->ntr];
    sample_tr(s, IKE_TRANS_ENCR, HK_ENCR_AES_GCM_16, 256);
    sample_tr(s, IKE_TRANS_PRF, HK_PRF_HMAC_SHA2_256, 0);
    for (size_t i = 0; i < ngroups; i++)
        sample_tr(s, IKE_TRANS_KE, groups[i], 0);
    prop->ntransforms = 2 + ngroups;
    p->u.sa.nproposals = 1;
    p->u.sa.proposals = prop;
}

static inline void sample_notify(struct sample *s, uint16_t type, size_t data_len)
{
    struct ike_payload *p = sample_add(s, IKE_PL_NOTIFY);
    p->u.notify.type = type;
    if (data_len)
        p->u.notify.data = sample_bytes(s, data_len);
}

static inline void sample_vendor(struct sample *s)
{
    static const char vid[] = "hike IKEv2 test";
    sample_add(s, IKE_PL_VENDOR)->u.vendor.id = sample_copy(s, vid, sizeof(vid) - 1);
}

/* IKE_SA_INIT request: SA, KE(19), Ni, N(NAT-D src/dst), N(FRAGMENTATION), V. */
static inline void sample_sa_init_req(struct sample *s)
{
    static const uint16_t groups[] = {HK_KE_ECP256, HK_KE_CURVE25519};
    sample_init(s, 1);
    sample_hdr(s, IKE_SA_INIT, IKE_FLAG_INITIATOR, 0, false);
    sample_ike_sa(s, 1, groups, 2);
    struct ike_payload *ke = sample_add(s, IKE_PL_KE);
    ke->u.ke.group = HK_KE_ECP256;
    ke->u.ke.data = sample_bytes(s, 64); /* RFC 5903: x | y, 32 octets each */
    sample_add(s, IKE_PL_NONCE)->u.nonce.data = sample_bytes(s, 32);
    sample_notify(s, IKE_N_NAT_DETECTION_SOURCE_IP, 20);
    sample_notify(s, IKE_N_NAT_DETECTION_DESTINATION_IP, 20);
    sample_notify(s, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, 0);
    sample_vendor(s);
}

/* IKE_SA_INIT response: SA, KE(31), Nr, N(NAT-D src/dst), CERTREQ, N(FRAGMENTATION), V. */
static inline void sample_sa_init_resp(struct sample *s)
{
    static const uint16_t groups[] = {HK_KE_CURVE25519};
    sample_init(s, 2);
    sample_hdr(s, IKE_SA_INIT, IKE_FLAG_RESPONSE, 0, true);
    sample_ike_sa(s, 1, groups, 1);
    struct ike_payload *ke = sample_add(s, IKE_PL_KE);
    ke->u.ke.group = HK_KE_CURVE25519;
    ke->u.ke.data = sample_bytes(s, 32); /* RFC 8031 */
    sample_add(s, IKE_PL_NONCE)->u.nonce.data = sample_bytes(s, 32);
    sample_notify(s, IKE_N_NAT_DETECTION_SOURCE_IP, 20);
    sample_notify(s, IKE_N_NAT_DETECTION_DESTINATION_IP, 20);
    struct ike_payload *cr = sample_add(s, IKE_PL_CERTREQ);
    cr->u.cert.encoding = IKE_CERT_X509_SIG;
    cr->u.cert.data = sample_bytes(s, 40); /* two SHA-1 hashes of CA public keys */
    sample_notify(s, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, 0);
    sample_vendor(s);
}

/* A protected message: SK with IV (8, GCM) | ciphertext | ICV (16). */
static inline void sample_protected(struct sample *s, uint32_t seed, uint8_t exchange,
                                    uint32_t msg_id, uint8_t first_inner, size_t ct_len)
{
    sample_init(s, seed);
    sample_hdr(s, exchange, IKE_FLAG_INITIATOR, msg_id, true);
    struct ike_payload *sk = sample_add(s, IKE_PL_SK);
    sk->u.sk.first_inner = first_inner;
    sk->u.sk.body = sample_bytes(s, 8 + ct_len + 16);
}

/* IKE_AUTH request: SK{IDi, AUTH, SA, TSi, TSr, ...} of a plausible size. */
static inline void sample_ike_auth_req(struct sample *s)
{
    sample_protected(s, 3, IKE_AUTH, 1, IKE_PL_IDI, 256);
}

/* INFORMATIONAL request: SK{D}. */
static inline void sample_informational(struct sample *s)
{
    sample_protected(s, 4, IKE_INFORMATIONAL, 2, IKE_PL_DELETE, 16);
}

/* Fragment 2 of 3 of an IKE_AUTH request (RFC 7383). */
static inline void sample_skf(struct sample *s)
{
    sample_init(s, 5);
    sample_hdr(s, IKE_AUTH, IKE_FLAG_INITIATOR, 1, true);
    struct ike_payload *p = sample_add(s, IKE_PL_SKF);
    p->u.skf.frag_num = 2;
    p->u.skf.total_frags = 3;
    p->u.skf.body = sample_bytes(s, 8 + 64 + 16);
}

/*
 * Every payload type the codec knows, plus an unknown one, in one plaintext message
 * ending with SK (not a real exchange: it exercises the codec).
 */
static inline void sample_all_payloads(struct sample *s)
{
    sample_init(s, 6);
    sample_hdr(s, IKE_CREATE_CHILD_SA, IKE_FLAG_INITIATOR, 7, true);

    struct ike_payload *sa = sample_add(s, IKE_PL_SA);
    for (int i = 0; i < 2; i++) {
        struct ike_proposal *prop = &s->prop[i];
        prop->num = (uint8_t)(i + 1);
        prop->protocol = IKE_PROTO_ESP;
        prop->spi = sample_bytes(s, 4);
        prop->transforms = &s->tr[s->ntr];
        if (i == 0) {
            sample_tr(s, IKE_TRANS_ENCR, HK_ENCR_AES_CBC, 128);
            sample_tr(s, IKE_TRANS_ENCR, HK_ENCR_AES_CBC, 256);
            sample_tr(s, IKE_TRANS_INTEG, HK_AUTH_HMAC_SHA2_256_128, 0);
            prop->ntransforms = 3;
        } else {
            sample_tr(s, IKE_TRANS_ENCR, HK_ENCR_AES_GCM_16, 256);
            prop->ntransforms = 1;
        }
        sample_tr(s, IKE_TRANS_ESN, HK_ESN_NO, 0);
        prop->ntransforms++;
    }
    sa->u.sa.nproposals = 2;
    sa->u.sa.proposals = s->prop;

    struct ike_payload *ke = sample_add(s, IKE_PL_KE);
    ke->u.ke.group = HK_KE_CURVE25519;
    ke->u.ke.data = sample_bytes(s, 32);
    struct ike_payload *idi = sample_add(s, IKE_PL_IDI);
    idi->u.id.type = IKE_ID_FQDN;
    idi->u.id.data = sample_copy(s, "client.example.org", 18);
    struct ike_payload *idr = sample_add(s, IKE_PL_IDR);
    idr->u.id.type = IKE_ID_IPV4_ADDR;
    idr->u.id.data = sample_copy(s, "\xc0\x00\x02\x01", 4);
    struct ike_payload *cert = sample_add(s, IKE_PL_CERT);
    cert->u.cert.encoding = IKE_CERT_X509_SIG;
    cert->u.cert.data = sample_bytes(s, 48);
    struct ike_payload *cr = sample_add(s, IKE_PL_CERTREQ);
    cr->u.cert.encoding = IKE_CERT_X509_SIG;
    cr->u.cert.data = sample_bytes(s, 20);
    struct ike_payload *auth = sample_add(s, IKE_PL_AUTH);
    auth->u.auth.method = IKE_AUTH_SHARED_KEY;
    auth->u.auth.data = sample_bytes(s, 32);
    sample_add(s, IKE_PL_NONCE)->u.nonce.data = sample_bytes(s, 16);
    struct ike_payload *n = sample_add(s, IKE_PL_NOTIFY);
    n->u.notify.protocol = IKE_PROTO_ESP;
    n->u.notify.type = IKE_N_REKEY_SA;
    n->u.notify.spi = sample_bytes(s, 4);
    sample_notify(s, IKE_N_USE_TRANSPORT_MODE, 0);
    struct ike_payload *del = sample_add(s, IKE_PL_DELETE);
    del->u.del.protocol = IKE_PROTO_ESP;
    del->u.del.spi_size = 4;
    del->u.del.nspis = 3;
    del->u.del.spis = sample_bytes(s, 12);
    sample_vendor(s);

    struct ike_payload *tsi = sample_add(s, IKE_PL_TSI);
    s->ts[0] = (struct ike_ts){IKE_TS_IPV4_ADDR_RANGE, 0, 0, 65535, {10, 0, 0, 0}, {10, 0, 0, 255}};
    s->ts[1] = (struct ike_ts){IKE_TS_IPV6_ADDR_RANGE,  17, 500, 500, {0x20, 0x01, 0x0d, 0xb8},
                               {0x20, 0x01, 0x0d, 0xb8}};
    memset(s->ts[1].end_addr + 4, 0xff, 12);
    tsi->u.ts.nts = 2;
    tsi->u.ts.ts = &s->ts[0];
    struct ike_payload *tsr = sample_add(s, IKE_PL_TSR);
    s->ts[2] =
        (struct ike_ts){IKE_TS_IPV4_ADDR_RANGE, 6, 80, 443, {192, 0, 2, 0}, {192, 0, 2, 255}};
    tsr->u.ts.nts = 1;
    tsr->u.ts.ts = &s->ts[2];

    struct ike_payload *cp = sample_add(s, IKE_PL_CP);
    cp->u.cp.cfg_type = IKE_CFG_REPLY;
    s->cfg[0].type = IKE_CFG_INTERNAL_IP4_ADDRESS;
    s->cfg[0].value = sample_copy(s, "\x0a\x01\x02\x03", 4);
    s->cfg[1].type = IKE_CFG_INTERNAL_IP4_DNS;
    s->cfg[1].value = sample_copy(s, "\x0a\x01\x00\x01", 4);
    s->cfg[2].type = IKE_CFG_INTERNAL_IP6_ADDRESS; /* empty: as in a request */
    cp->u.cp.nattrs = 3;
    cp->u.cp.attrs = s->cfg;

    /* EAP Response/Identity "user". */
    sample_add(s, IKE_PL_EAP)->u.eap.msg = sample_copy(s, "\x02\x05\x00\x09\x01user", 9);
    sample_add(s, 200)->u.unknown.body = sample_bytes(s, 6);
    struct ike_payload *sk = sample_add(s, IKE_PL_SK);
    sk->u.sk.first_inner = IKE_PL_NOTIFY;
    sk->u.sk.body = sample_bytes(s, 8 + 32 + 16);
}

#endif
