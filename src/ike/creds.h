/*
 * Certificates, keys and trust anchors of the configured connections, loaded on
 * first use and kept until the configuration changes: reading PEM files per IKE
 * SA would put file I/O and parsing on the handshake path.
 */
#ifndef HIKE_IKE_CREDS_H
#define HIKE_IKE_CREDS_H

#include <openssl/x509.h>

#include "common/secret.h"
#include "crypto/x509.h"

#include <stdint.h>

struct ike_engine;
struct hk_conn;

/* PRFs whose PSK key pad can be cached (HMAC-SHA2-256, -384, -512). */
#define IKE_CREDS_PSK_PADS 3

struct ike_conn_creds {
    char conn[64];
    struct hk_cred *cred;   /* ours (local.auth = pubkey) */
    struct hk_trust *trust; /* remote.ca (remote.auth = pubkey) */
    X509 *pin;              /* remote.cert */
    int error;              /* loading failed: no retry until the config changes */
    /* prf(PSK, "Key Pad for IKEv2") per PRF (RFC 7296 2.15), made on first use: it depends
     * on the connection only, and is as secret as the PSK itself. */
    struct hk_secret *psk_pad[IKE_CREDS_PSK_PADS];
};

/* The connection's credentials, loading them on first use; NULL (logged) when they cannot be
 * loaded. */
const struct ike_conn_creds *ike_creds_get(struct ike_engine *e, const struct hk_conn *conn);
/* prf(PSK, "Key Pad for IKEv2") of the connection for a PRF, computed once per connection
 * and PRF and kept until the configuration changes; NULL without a PSK, for an unknown PRF
 * or when out of memory. */
const struct hk_secret *ike_creds_psk_pad(struct ike_engine *e, const struct hk_conn *conn,
                                          uint16_t prf);
/* Forgets every loaded credential (configuration reloaded). */
void ike_creds_flush(struct ike_engine *e);

#endif
