#include "ike/creds.h"

#include "common/err.h"
#include "crypto/alg.h"
#include "crypto/auth.h"
#include "crypto/prf.h"
#include "ike/engine_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void creds_free(struct ike_conn_creds *c)
{
    hk_cred_free(c->cred);
    hk_trust_free(c->trust);
    X509_free(c->pin);
    for (size_t i = 0; i < IKE_CREDS_PSK_PADS; i++)
        hk_secret_free(&c->psk_pad[i]);
    free(c);
}

void ike_creds_flush(struct ike_engine *e)
{
    for (size_t i = 0; i < e->ncreds; i++)
        creds_free(e->creds[i]);
    free(e->creds);
    e->creds = NULL;
    e->ncreds = 0;
}

static int load(struct ike_engine *e, const struct hk_conn *conn, struct ike_conn_creds *c)
{
    char err[256] = "";
    int rc = HK_OK;
    if (conn->local.auth == HK_AUTH_CONF_PUBKEY)
        rc = hk_cred_load(conn->local.cert, conn->local.key, conn->local.certs, conn->local.ncerts,
                          &c->cred, err, sizeof(err));
    if (!rc && conn->remote.auth == HK_AUTH_CONF_PUBKEY && conn->remote.nca)
        rc = hk_trust_load(conn->remote.ca, conn->remote.nca, &c->trust, err, sizeof(err));
    if (!rc && conn->remote.auth == HK_AUTH_CONF_PUBKEY && conn->remote.cert)
        rc = hk_cert_load(conn->remote.cert, &c->pin, err, sizeof(err));
    if (rc)
        hk_err(e->log, "connection %s: cannot load credentials: %s", conn->name, err);
    return rc;
}

/* The connection's entry, loaded on first use; a failed load is an entry too (with error). */
static struct ike_conn_creds *entry(struct ike_engine *e, const struct hk_conn *conn)
{
    for (size_t i = 0; i < e->ncreds; i++)
        if (!strcmp(e->creds[i]->conn, conn->name))
            return e->creds[i];
    struct ike_conn_creds *c = calloc(1, sizeof(*c));
    struct ike_conn_creds **n = realloc(e->creds, (e->ncreds + 1) * sizeof(*n));
    if (!c || !n) {
        free(c);
        if (n)
            e->creds = n;
        return NULL;
    }
    e->creds = n;
    snprintf(c->conn, sizeof(c->conn), "%s", conn->name);
    c->error = load(e, conn, c);
    e->creds[e->ncreds++] = c;
    return c;
}

const struct ike_conn_creds *ike_creds_get(struct ike_engine *e, const struct hk_conn *conn)
{
    const struct ike_conn_creds *c = entry(e, conn);
    return c && !c->error ? c : NULL;
}

const struct hk_secret *ike_creds_psk_pad(struct ike_engine *e, const struct hk_conn *conn,
                                          uint16_t prf)
{
    size_t slot = (size_t)prf - HK_PRF_HMAC_SHA2_256;
    size_t len = hk_prf_out_len(prf);
    if (!conn->psk || !len || slot >= IKE_CREDS_PSK_PADS)
        return NULL;
    /* Certificates that failed to load (the other side's) do not matter for the PSK. */
    struct ike_conn_creds *c = entry(e, conn);
    if (!c)
        return NULL;
    if (!c->psk_pad[slot]) {
        struct hk_secret *pad = hk_secret_new(len);
        if (!pad || hk_auth_psk_pad(e->crypto, prf, conn->psk->data, conn->psk->len, pad->data)) {
            hk_secret_free(&pad);
            return NULL;
        }
        c->psk_pad[slot] = pad;
    }
    return c->psk_pad[slot];
}
