#include "ike/creds.h"

#include "common/err.h"
#include "ike/engine_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void creds_free(struct ike_conn_creds *c)
{
    hk_cred_free(c->cred);
    hk_trust_free(c->trust);
    X509_free(c->pin);
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

const struct ike_conn_creds *ike_creds_get(struct ike_engine *e, const struct hk_conn *conn)
{
    for (size_t i = 0; i < e->ncreds; i++)
        if (!strcmp(e->creds[i]->conn, conn->name))
            return e->creds[i]->error ? NULL : e->creds[i];
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
    return c->error ? NULL : c;
}
