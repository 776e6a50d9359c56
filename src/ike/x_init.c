/* IKE_SA_INIT (RFC 7296 1.2, 2.6 cookies, 2.10 nonces, 2.23 NAT detection), both roles. */
#include "ike/engine_internal.h"

#include "common/err.h"
#include "common/secret.h"
#include "crypto/alg.h"
#include "crypto/kdf.h"
#include "crypto/x509.h"
#include "ike/codec/notify.h"
#include "ike/conn_match.h"
#include "ike/creds.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <stdalign.h>
#include <stddef.h>
#include <string.h>

#define COOKIE_TRIES 3
#define KE_RETRIES   2
#define NATD_LEN     20 /* SHA-1 (2.23) */
#define COOKIE_LEN   33 /* version octet, SHA-256 */
/* 2.6: the secret changes this often; a cookie of the previous secret is still taken, so one
 * lives between 60 and 120 s, plenty for an initiator that retries at once. */
#define IKE_COOKIE_ROTATE_MS 60000

/* 2.23: SHA-1(SPIi | SPIr | IP address | port). */
static int natd_hash(const struct ike_engine *e, const uint8_t *spi_i, const uint8_t *spi_r,
                     const struct sockaddr_storage *a, uint8_t out[NATD_LEN])
{
    const uint8_t *ip;
    size_t iplen;
    uint16_t port;
    engine_addr_bytes(a, &ip, &iplen, &port);
    /* One update of the whole input, in the engine's digest context. */
    uint8_t in[2 * IKE_SPI_LEN + 16 + 2];
    memcpy(in, spi_i, IKE_SPI_LEN);
    memcpy(in + IKE_SPI_LEN, spi_r, IKE_SPI_LEN);
    memcpy(in + 2 * IKE_SPI_LEN, ip, iplen);
    in[2 * IKE_SPI_LEN + iplen] = (uint8_t)(port >> 8);
    in[2 * IKE_SPI_LEN + iplen + 1] = (uint8_t)port;
    unsigned int len = 0;
    int ok = EVP_DigestInit_ex(e->natd_md, e->crypto->sha1, NULL) &&
             EVP_DigestUpdate(e->natd_md, in, 2 * IKE_SPI_LEN + iplen + 2) &&
             EVP_DigestFinal_ex(e->natd_md, out, &len);
    return ok && len == NATD_LEN ? HK_OK : HK_E_CRYPTO;
}

/* 2.6: Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi | <secret>). */
static int make_cookie(const struct ike_engine *e, const uint8_t *secret, uint8_t version,
                       const struct ike_view *ni, const struct sockaddr_storage *remote,
                       const uint8_t *spi_i, uint8_t out[COOKIE_LEN])
{
    const uint8_t *ip;
    size_t iplen;
    uint16_t port;
    engine_addr_bytes(remote, &ip, &iplen, &port);
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    unsigned int len = 0;
    out[0] = version;
    int ok = m && EVP_DigestInit_ex(m, e->crypto->sha256, NULL) &&
             EVP_DigestUpdate(m, ni->p, ni->len) && EVP_DigestUpdate(m, ip, iplen) &&
             EVP_DigestUpdate(m, spi_i, IKE_SPI_LEN) &&
             EVP_DigestUpdate(m, secret, sizeof(e->cookie_secret)) &&
             EVP_DigestFinal_ex(m, out + 1, &len);
    EVP_MD_CTX_free(m);
    return ok && len == COOKIE_LEN - 1 ? HK_OK : HK_E_CRYPTO;
}

/*
 * 2.6: "the responder should change the value of <secret> frequently"; the version octet
 * tells which secret made a cookie, and the previous one is kept for a while so that a cookie
 * handed out just before the change still works. The engine has no clock of its own: the
 * change happens here, when a cookie is made or checked.
 */
static int cookie_secret_update(struct ike_engine *e)
{
    uint64_t now = engine_now(e);
    if (!e->cookie_rotated_ms) {
        e->cookie_rotated_ms = now ? now : 1;
        return HK_OK;
    }
    if (now - e->cookie_rotated_ms < IKE_COOKIE_ROTATE_MS)
        return HK_OK;
    /* The previous secret is good for one period after the change, not longer. */
    bool keep_old = now - e->cookie_rotated_ms < 2 * (uint64_t)IKE_COOKIE_ROTATE_MS;
    memcpy(e->cookie_secret_old, e->cookie_secret, sizeof(e->cookie_secret));
    e->cookie_have_old = keep_old;
    e->cookie_version++;
    e->cookie_rotated_ms = now;
    return hk_random(e->cookie_secret, sizeof(e->cookie_secret));
}

/* The notifies both IKE_SA_INIT messages carry after SA, KE and Nonce: NAT detection
 * (2.23), fragmentation (RFC 7383), signature hashes (RFC 7427 4), childless (RFC 6023). */
static void init_notifies(const struct ike_engine *e, struct ike_payload *pl, size_t *n,
                          const uint8_t *natd_src, const uint8_t *natd_dst, bool frag)
{
    static const uint8_t sig_hashes[] = {0, 2, 0, 3, 0, 4, 0, 5}; /* SHA2-256/384/512, Identity */
    pl[(*n)++] = (struct ike_payload){
        .type = IKE_PL_NOTIFY,
        .u.notify = {.type = IKE_N_NAT_DETECTION_SOURCE_IP, .data = {natd_src, NATD_LEN}}};
    pl[(*n)++] = (struct ike_payload){
        .type = IKE_PL_NOTIFY,
        .u.notify = {.type = IKE_N_NAT_DETECTION_DESTINATION_IP, .data = {natd_dst, NATD_LEN}}};
    if (frag)
        pl[(*n)++] = (struct ike_payload){.type = IKE_PL_NOTIFY,
                                          .u.notify.type = IKE_N_IKEV2_FRAGMENTATION_SUPPORTED};
    pl[(*n)++] = (struct ike_payload){.type = IKE_PL_NOTIFY,
                                      .u.notify = {.type = IKE_N_SIGNATURE_HASH_ALGORITHMS,
                                                   .data = {sig_hashes, sizeof(sig_hashes)}}};
    if (e->cfg->daemon.childless)
        pl[(*n)++] = (struct ike_payload){.type = IKE_PL_NOTIFY,
                                          .u.notify.type = IKE_N_CHILDLESS_IKEV2_SUPPORTED};
}

/* NAT detection from the peer's notifies: who is behind a NAT (2.23). */
static void natd_check(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m,
                       const uint8_t *spi_r)
{
    uint8_t want_src[NATD_LEN], want_dst[NATD_LEN];
    bool have_src = false, src_ok = false, have_dst = false, dst_ok = false;
    if (natd_hash(e, sa->spi_i, spi_r, &sa->remote, want_src) ||
        natd_hash(e, sa->spi_i, spi_r, &sa->local, want_dst))
        return;
    for (size_t i = 0; i < m->npayloads; i++) {
        const struct ike_payload *p = &m->payloads[i];
        if (p->type != IKE_PL_NOTIFY)
            continue;
        const struct ike_pl_notify *n = &p->u.notify;
        if (n->type == IKE_N_NAT_DETECTION_SOURCE_IP) {
            have_src = true;
            src_ok |= n->data.len == NATD_LEN && !memcmp(n->data.p, want_src, NATD_LEN);
        } else if (n->type == IKE_N_NAT_DETECTION_DESTINATION_IP) {
            have_dst = true;
            dst_ok |= n->data.len == NATD_LEN && !memcmp(n->data.p, want_dst, NATD_LEN);
        }
    }
    sa->nat_remote = have_src && !src_ok;
    sa->nat_local = have_dst && !dst_ok;
    sa->peer_natt = have_src && have_dst;
}

static void note_extensions(struct ike_engine *e, struct ike_sa *sa, const struct hk_conn *conn,
                            const struct ike_msg *m)
{
    if (conn->fragmentation && ike_msg_find_notify(m, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED))
        sa->ext |= IKE_EXT_FRAGMENTATION;
    if (e->cfg->daemon.childless && ike_msg_find_notify(m, IKE_N_CHILDLESS_IKEV2_SUPPORTED))
        sa->ext |= IKE_EXT_CHILDLESS;
    if (ike_msg_find_notify(m, IKE_N_SIGNATURE_HASH_ALGORITHMS))
        sa->ext |= IKE_EXT_SIG_HASH;
}

/* Keys from the shared secret (2.14), and the SK ciphers for each direction. */
static int derive_keys(struct ike_engine *e, struct ike_sa *sa, const struct ike_view *peer_ke)
{
    struct hk_secret *g_ir = NULL, *skeyseed = NULL;
    int rc = hk_ke_derive(sa->ke, peer_ke->p, peer_ke->len, &g_ir);
    if (!rc)
        rc = hk_skeyseed(e->crypto, sa->alg.prf, sa->ni.p, sa->ni.len, sa->nr.p, sa->nr.len,
                         g_ir->data, g_ir->len, &skeyseed);
    if (!rc)
        rc = engine_ike_keys(e, sa, skeyseed);
    /* What the connection keeps for a context export (the draft's first two ways to carry
     * IKE keys); by default only the derived keys stay. */
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    enum hk_context_keys keep = conn ? conn->context_keys : HK_CONTEXT_KEYS_DERIVED;
    if (!rc && keep >= HK_CONTEXT_KEYS_SKEYSEED) {
        sa->skeyseed = skeyseed;
        skeyseed = NULL;
    }
    if (!rc && keep >= HK_CONTEXT_KEYS_DH && !(rc = hk_ke_private(sa->ke, &sa->dh_private)))
        rc = ike_bytes_set(&sa->peer_ke, peer_ke->p, peer_ke->len);
    hk_secret_free(&g_ir);
    hk_secret_free(&skeyseed);
    /* The private key has done its job; drop it now rather than with the SA. */
    hk_ke_free(sa->ke);
    sa->ke = NULL;
    return rc;
}

/* ---- initiator ---- */

int x_init_start(struct ike_engine *e, struct ike_sa *sa)
{
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    if (!conn)
        return HK_E_NOTFOUND;
    int rc = sa->local_fixed ? conn_initiator_remote(e, conn, &sa->remote)
                             : conn_initiator_addrs(e, conn, &sa->local, &sa->remote);
    if (rc)
        return rc;
    if (sa->local.ss_family != sa->remote.ss_family)
        return HK_E_INVALID;
    uint16_t group = sa->alg.ke ? sa->alg.ke : conn->ike[0].ke[0];
    sa->alg.ke = group;
    /* 2.6: a retry with a cookie repeats the other payloads unchanged; after
     * INVALID_KE_PAYLOAD only the KE changes (the caller dropped the old key). */
    if (sa->ke && hk_ke_group(sa->ke) != group) {
        hk_ke_free(sa->ke);
        sa->ke = NULL;
    }
    size_t publen = hk_ke_public_len(group);
    uint8_t pub[512];
    if (!publen || publen > sizeof(pub))
        return HK_E_UNSUPPORTED;
    if (!sa->ke && (rc = hk_ke_new(e->crypto, group, &sa->ke)))
        return rc;
    if ((rc = hk_ke_public(sa->ke, pub, publen)))
        return rc;
    if (!sa->ni.len) {
        uint8_t fresh[IKE_NONCE_LEN];
        if ((rc = hk_crypto_random(e->crypto, fresh, sizeof(fresh))) ||
            (rc = ike_bytes_set(&sa->ni, fresh, IKE_NONCE_LEN)))
            return rc;
    }

    static const uint8_t zero_spi[IKE_SPI_LEN];
    uint8_t natd_src[NATD_LEN], natd_dst[NATD_LEN];
    if ((rc = natd_hash(e, sa->spi_i, zero_spi, &sa->local, natd_src)) ||
        (rc = natd_hash(e, sa->spi_i, zero_spi, &sa->remote, natd_dst)))
        return rc;
    /* encap = yes: a source hash that cannot match makes both sides use UDP encapsulation,
     * as if we were behind a NAT (2.23 allows sending any value). */
    if (conn->encap && (rc = hk_crypto_random(e->crypto, natd_src, sizeof(natd_src))))
        return rc;

    struct hk_arena a;
    alignas(max_align_t) uint8_t abuf[IKE_BUILD_ARENA];
    struct ike_payload pl[12];
    size_t n = 0;
    hk_arena_init_buf(&a, 0, abuf, sizeof(abuf));
    if (sa->cookie.len) /* 2.6: COOKIE first */
        pl[n++] = (struct ike_payload){
            .type = IKE_PL_NOTIFY,
            .u.notify = {.type = IKE_N_COOKIE, .data = {sa->cookie.p, sa->cookie.len}}};
    pl[n] = (struct ike_payload){.type = IKE_PL_SA};
    rc = ike_sa_build(conn->ike, conn->nike, IKE_PROTO_IKE, NULL, 0, false, &a, &pl[n++].u.sa);
    if (rc)
        goto out;
    pl[n++] =
        (struct ike_payload){.type = IKE_PL_KE, .u.ke = {.group = group, .data = {pub, publen}}};
    pl[n++] = (struct ike_payload){.type = IKE_PL_NONCE, .u.nonce.data = {sa->ni.p, sa->ni.len}};
    init_notifies(e, pl, &n, natd_src, natd_dst, conn->fragmentation);
    sa->req_next = 0; /* a retried IKE_SA_INIT keeps message ID 0 (2.6, 1.2) */
    sa->init_error = 0;
    ike_sent_clear(&sa->out); /* a retry: the same exchange again */
    x_xchg_end(e, sa);
    rc = engine_request(e, sa, IKE_XCHG_SA_INIT, pl, n);
    if (!rc)
        rc = ike_bytes_set(&sa->init_req, sa->out.pkts[0].p, sa->out.pkts[0].len);
    if (!rc) {
        char peer[64];
        e->stats.exchanges_init++;
        hk_info(e->log, "IKE SA [%s]: initiating IKE_SA_INIT to %s", sa->conn,
                engine_addr_str(&sa->remote, peer, sizeof(peer)));
    }
out:
    hk_arena_free(&a);
    return rc;
}

bool x_init_ignore_error(struct ike_engine *e, struct ike_sa *sa, const struct ike_rx *rx)
{
    const struct ike_msg *m = &rx->msg;
    uint16_t err = x_first_error(m);
    /* COOKIE and INVALID_KE_PAYLOAD are part of the exchange (2.6, 1.2): handled at once. */
    if (ike_msg_find_notify(m, IKE_N_COOKIE) || ike_msg_find_notify(m, IKE_N_INVALID_KE_PAYLOAD) ||
        !err)
        return false;
    /* 2.21.1: anyone can send this; a real answer may still come. */
    char why[208];
    sa->init_error = err;
    snprintf(why, sizeof(why),
             "unauthenticated %s answers IKE_SA_INIT [%s]: waiting for a real answer (2.21.1)",
             ike_notify_name(err), sa->conn);
    engine_drop(e, IKE_DROP_UNEXPECTED, rx->remote, why);
    return true;
}

void x_init_on_response(struct ike_engine *e, struct ike_sa *sa, struct ike_rx *rx)
{
    const struct ike_msg *m = &rx->msg;
    const struct hk_conn *conn = hk_config_find_conn(e->cfg, sa->conn);
    const struct ike_pl_notify *n;
    int rc;
    if (!conn) {
        engine_delete_sa(e, sa, "connection removed");
        return;
    }
    if ((n = ike_msg_find_notify(m, IKE_N_COOKIE))) {
        if (n->data.len < 1 || n->data.len > 64 || sa->cookie.len >= 1 + 64 ||
            ++sa->ke_retries > COOKIE_TRIES + KE_RETRIES) {
            engine_delete_sa(e, sa, "bad or repeated COOKIE");
            return;
        }
        hk_info(e->log, "IKE SA [%s]: responder demands a cookie, retrying", sa->conn);
        if (ike_bytes_set(&sa->cookie, n->data.p, n->data.len) || x_init_start(e, sa))
            engine_delete_sa(e, sa, "cannot retry with cookie");
        return;
    }
    if ((n = ike_msg_find_notify(m, IKE_N_INVALID_KE_PAYLOAD))) {
        uint16_t g = n->data.len == 2 ? (uint16_t)(n->data.p[0] << 8 | n->data.p[1]) : 0;
        /* 1.2: retry with the group the responder wants, if we allow it. */
        if (!g || g == sa->alg.ke || !ike_conf_allows_ke(conn->ike, conn->nike, g) ||
            ++sa->ke_retries > KE_RETRIES) {
            engine_delete_sa(e, sa, "INVALID_KE_PAYLOAD for a group we cannot use");
            return;
        }
        hk_info(e->log, "IKE SA [%s]: responder wants KE group %u, retrying", sa->conn, g);
        sa->alg.ke = g;
        if (x_init_start(e, sa))
            engine_delete_sa(e, sa, "cannot retry with the requested group");
        return;
    }
    uint16_t err = x_first_error(m);
    if (err) { /* not reached: x_init_ignore_error took it (2.21.1) */
        engine_delete_sa(e, sa, ike_notify_name(err));
        return;
    }
    size_t from = 0;
    const struct ike_payload *sap = ike_msg_find(m, IKE_PL_SA, &from);
    from = 0;
    const struct ike_payload *kep = ike_msg_find(m, IKE_PL_KE, &from);
    from = 0;
    const struct ike_payload *np = ike_msg_find(m, IKE_PL_NONCE, &from);
    static const uint8_t zero[IKE_SPI_LEN];
    struct ike_chosen c;
    if (!sap || !kep || !np || !memcmp(m->hdr.spi_r, zero, IKE_SPI_LEN)) {
        engine_delete_sa(e, sa, "IKE_SA_INIT response lacks SA, KE, Nonce or SPI");
        return;
    }
    if (ike_sa_check_reply(&sap->u.sa, conn->ike, conn->nike, IKE_PROTO_IKE, false, &c) ||
        c.ke != sa->alg.ke || kep->u.ke.group != c.ke) {
        engine_delete_sa(e, sa, "responder chose a proposal we did not offer");
        return;
    }
    memcpy(sa->spi_r, m->hdr.spi_r, IKE_SPI_LEN);
    engine_set_alg(sa, &c);
    if ((rc = ike_bytes_set(&sa->nr, np->u.nonce.data.p, np->u.nonce.data.len)) ||
        (rc = ike_bytes_set(&sa->init_resp, rx->raw, rx->raw_len))) {
        engine_delete_sa(e, sa, hk_strerror(rc));
        return;
    }
    natd_check(e, sa, m, sa->spi_r);
    if (conn->encap)
        sa->nat_local = true; /* our NAT-D hash was made not to match: act as behind a NAT */
    note_extensions(e, sa, conn, m);
    if ((rc = derive_keys(e, sa, &kep->u.ke.data))) {
        engine_delete_sa(e, sa,
                         rc == HK_E_PEER_KE ? "invalid KE value from peer" : hk_strerror(rc));
        return;
    }
    engine_float_natt(e, sa);
    if ((rc = x_auth_start(e, sa)))
        engine_delete_sa(e, sa, hk_strerror(rc));
}

/* ---- responder ---- */

/*
 * 1.2: CERTREQ in the IKE_SA_INIT response. Which connection the peer is for is known only
 * from its IDi in IKE_AUTH, so the request names the trust anchors of every connection for
 * these addresses that authenticates its peer by certificate, not only of the first one that
 * matched: an initiator that sends its certificate only when asked (strongSwan's
 * send_cert = ifasked) must be asked even when a PSK connection comes first.
 */
static void init_add_certreq(struct ike_engine *e, const struct ike_rx *rx, struct hk_arena *a,
                             struct ike_payload *pl, size_t *n)
{
    struct hk_cbb b;
    if (hk_cbb_init(&b, 8 * HK_CERTREQ_HASH_LEN, 0))
        return;
    for (size_t i = 0; i < e->cfg->nconns; i++) {
        const struct hk_conn *k = &e->cfg->conns[i];
        if (k->remote.auth != HK_AUTH_CONF_PUBKEY || !conn_matches_addrs(k, rx->local, rx->remote))
            continue;
        const struct ike_conn_creds *cr = ike_creds_get(e, k);
        struct hk_cbb one;
        if (!cr || !cr->trust || hk_cbb_init(&one, HK_CERTREQ_HASH_LEN, 0))
            continue;
        if (!hk_trust_certreq_hashes(cr->trust, &one))
            for (size_t off = 0; off + HK_CERTREQ_HASH_LEN <= one.len; off += HK_CERTREQ_HASH_LEN) {
                bool dup = false; /* connections often share their CA */
                for (size_t j = 0; j + HK_CERTREQ_HASH_LEN <= b.len && !dup;
                     j += HK_CERTREQ_HASH_LEN)
                    dup = !memcmp(b.buf + j, one.buf + off, HK_CERTREQ_HASH_LEN);
                if (!dup)
                    hk_cbb_add_bytes(&b, one.buf + off, HK_CERTREQ_HASH_LEN);
            }
        hk_cbb_free(&one);
    }
    uint8_t *p = b.len && !b.err ? hk_arena_alloc(a, b.len) : NULL;
    if (p) {
        memcpy(p, b.buf, b.len);
        pl[*n] = (struct ike_payload){.type = IKE_PL_CERTREQ};
        pl[*n].u.cert.encoding = IKE_CERT_X509_SIG;
        pl[*n].u.cert.data = (struct ike_view){p, b.len};
        (*n)++;
    }
    hk_cbb_free(&b);
}

/* Under load, answer IKE_SA_INIT without a valid cookie with one (2.6). True to go on. */
static bool cookie_ok(struct ike_engine *e, struct ike_rx *rx, const struct ike_view *ni)
{
    if (e->nhalf_open < e->cfg->daemon.cookie_threshold)
        return true;
    uint8_t want[COOKIE_LEN];
    if (cookie_secret_update(e) || make_cookie(e, e->cookie_secret, e->cookie_version, ni,
                                               rx->remote, rx->msg.hdr.spi_i, want))
        return false;
    const struct ike_msg *m = &rx->msg;
    if (m->npayloads && m->payloads[0].type == IKE_PL_NOTIFY &&
        m->payloads[0].u.notify.type == IKE_N_COOKIE &&
        m->payloads[0].u.notify.data.len == COOKIE_LEN) {
        const uint8_t *got = m->payloads[0].u.notify.data.p;
        uint8_t old[COOKIE_LEN];
        /* Constant-time comparisons: the time taken must not tell how much of a guess was
         * right. */
        if (got[0] == e->cookie_version && !CRYPTO_memcmp(got, want, COOKIE_LEN))
            return true;
        if (e->cookie_have_old && got[0] == (uint8_t)(e->cookie_version - 1) &&
            !make_cookie(e, e->cookie_secret_old, got[0], ni, rx->remote, rx->msg.hdr.spi_i, old) &&
            !CRYPTO_memcmp(got, old, COOKIE_LEN))
            return true;
    }
    engine_drop(e, IKE_DROP_COOKIE, rx->remote, NULL);
    engine_send_stateless(e, rx, IKE_N_COOKIE, want, sizeof(want));
    return false;
}

void x_init_on_request(struct ike_engine *e, struct ike_rx *rx)
{
    const struct ike_msg *m = &rx->msg;
    size_t from = 0;
    const struct ike_payload *sap = ike_msg_find(m, IKE_PL_SA, &from);
    from = 0;
    const struct ike_payload *kep = ike_msg_find(m, IKE_PL_KE, &from);
    from = 0;
    const struct ike_payload *np = ike_msg_find(m, IKE_PL_NONCE, &from);
    if (!sap || !kep || !np) {
        engine_drop(e, IKE_DROP_UNEXPECTED, rx->remote, "IKE_SA_INIT without SA, KE or Nonce");
        return;
    }
    /* RFC 8019 4.1: limits on half-open SAs, in all and per peer, before any work. */
    if (!engine_half_open_admit(e, rx->remote) || !cookie_ok(e, rx, &np->u.nonce.data))
        return;

    /* The first connection for these addresses whose IKE proposals accept the offer. */
    const struct hk_conn *conn = NULL;
    struct ike_chosen c;
    for (size_t i = 0; i < e->cfg->nconns && !conn; i++) {
        const struct hk_conn *k = &e->cfg->conns[i];
        if (conn_matches_addrs(k, rx->local, rx->remote) &&
            !ike_sa_choose(&sap->u.sa, k->ike, k->nike, IKE_PROTO_IKE, false, &c))
            conn = k;
    }
    if (!conn) {
        engine_drop(e, IKE_DROP_UNEXPECTED, rx->remote, "no acceptable proposal");
        engine_send_stateless(e, rx, IKE_N_NO_PROPOSAL_CHOSEN, NULL, 0);
        return;
    }
    if (kep->u.ke.group != c.ke) {
        /* 1.2: tell the initiator which group we chose; keep no state. */
        uint8_t g[2] = {(uint8_t)(c.ke >> 8), (uint8_t)c.ke};
        hk_info(e->log, "IKE_SA_INIT from peer with KE group %u, asking for %u", kep->u.ke.group,
                c.ke);
        engine_send_stateless(e, rx, IKE_N_INVALID_KE_PAYLOAD, g, 2);
        return;
    }

    struct ike_sa *sa = engine_new_sa(e, false, conn->name);
    if (!sa) {
        hk_err(e->log, "out of memory for a new IKE SA");
        return;
    }
    memcpy(sa->spi_i, m->hdr.spi_i, IKE_SPI_LEN);
    sa->local = *rx->local;
    sa->remote = *rx->remote;
    sa->peer_req_next = 1;
    engine_set_alg(sa, &c);
    uint8_t pub[512], nonce[IKE_NONCE_LEN];
    size_t publen = hk_ke_public_len(c.ke);
    int rc;
    if ((rc = ike_bytes_set(&sa->ni, np->u.nonce.data.p, np->u.nonce.data.len)) ||
        (rc = ike_bytes_set(&sa->init_req, rx->raw, rx->raw_len)) ||
        (rc = hk_crypto_random(e->crypto, nonce, IKE_NONCE_LEN)) ||
        (rc = ike_bytes_set(&sa->nr, nonce, IKE_NONCE_LEN)) ||
        (rc = hk_ke_new(e->crypto, c.ke, &sa->ke)) || (rc = hk_ke_public(sa->ke, pub, publen)) ||
        (rc = derive_keys(e, sa, &kep->u.ke.data))) {
        engine_delete_sa(e, sa,
                         rc == HK_E_PEER_KE ? "invalid KE value from peer" : hk_strerror(rc));
        return;
    }
    static const uint8_t zero_spi[IKE_SPI_LEN];
    natd_check(e, sa, m, zero_spi);
    note_extensions(e, sa, conn, m);

    uint8_t natd_src[NATD_LEN], natd_dst[NATD_LEN];
    natd_hash(e, sa->spi_i, sa->spi_r, &sa->local, natd_src);
    natd_hash(e, sa->spi_i, sa->spi_r, &sa->remote, natd_dst);
    /* Built payloads live in the request's arena (stack first, freed with the message). */
    struct hk_arena *a = rx->arena;
    struct ike_payload pl[12];
    size_t n = 0;
    pl[n] = (struct ike_payload){.type = IKE_PL_SA};
    rc = ike_sa_build_chosen(&c, NULL, 0, a, &pl[n++].u.sa);
    pl[n++] =
        (struct ike_payload){.type = IKE_PL_KE, .u.ke = {.group = c.ke, .data = {pub, publen}}};
    pl[n++] = (struct ike_payload){.type = IKE_PL_NONCE, .u.nonce.data = {nonce, IKE_NONCE_LEN}};
    init_notifies(e, pl, &n, natd_src, natd_dst, sa->ext & IKE_EXT_FRAGMENTATION);
    /* init_notifies sent CHILDLESS_IKEV2_SUPPORTED just when this holds (RFC 6023 3). */
    sa->childless_offered = e->cfg->daemon.childless;
    init_add_certreq(e, rx, a, pl, &n); /* 1.2: CERTREQ in the IKE_SA_INIT response */
    if (!rc)
        rc = engine_send(e, sa, true, 0, IKE_SA_INIT, pl, n);
    if (!rc)
        rc = ike_bytes_set(&sa->init_resp, sa->resp.pkts[0].p, sa->resp.pkts[0].len);
    if (!rc)
        rc = engine_half_open_add(e, sa);
    if (rc) {
        engine_delete_sa(e, sa, hk_strerror(rc));
        return;
    }
    e->stats.exchanges_init++;
    char name[40], peer[64], alg[128];
    hk_info(e->log, "IKE SA %s [%s]: IKE_SA_INIT from %s answered (%s%s%s)",
            ike_sa_name(sa, name, sizeof(name)), sa->conn,
            engine_addr_str(&sa->remote, peer, sizeof(peer)),
            ike_chosen_format(&c, alg, sizeof(alg)), sa->nat_remote ? ", peer behind NAT" : "",
            sa->nat_local ? ", we are behind NAT" : "");
    engine_arm(e, sa, IKE_TIMER_HALF_OPEN,
               engine_now(e) + (uint64_t)e->cfg->daemon.half_open_timeout * 1000);
}

void x_init_half_open_expired(struct ike_engine *e, struct ike_sa *sa)
{
    if (sa->state == IKE_SA_INIT_RCVD)
        engine_delete_sa(e, sa, "half-open timeout");
}

/* For MOBIKE (x_mobike.c): the same NAT-D hashes and check after IKE_SA_INIT (RFC 4555 3.5). */
int x_natd_hash(const struct ike_engine *e, const struct ike_sa *sa,
                const struct sockaddr_storage *a, uint8_t out[20])
{
    return natd_hash(e, sa->spi_i, sa->spi_r, a, out);
}

void x_natd_check(struct ike_engine *e, struct ike_sa *sa, const struct ike_msg *m)
{
    natd_check(e, sa, m, sa->spi_r);
}
