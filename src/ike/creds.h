/*
 * Certificates, keys and trust anchors of the configured connections, loaded on
 * first use and kept until the configuration changes: reading PEM files per IKE
 * SA would put file I/O and parsing on the handshake path.
 */
#ifndef HIKE_IKE_CREDS_H
#define HIKE_IKE_CREDS_H

#include <openssl/x509.h>

#include "crypto/x509.h"

struct ike_engine;
struct hk_conn;

struct ike_conn_creds {
    char conn[64];
    struct hk_cred *cred;   /* ours (local.auth = pubkey) */
    struct hk_trust *trust; /* remote.ca (remote.auth = pubkey) */
    X509 *pin;              /* remote.cert */
    int error;              /* loading failed: no retry until the config changes */
};

/* The connection's credentials, loading them on first use; NULL (logged) when they cannot be
 * loaded. */
const struct ike_conn_creds *ike_creds_get(struct ike_engine *e, const struct hk_conn *conn);
/* Forgets every loaded credential (configuration reloaded). */
void ike_creds_flush(struct ike_engine *e);

#endif
