/*
 * Where configuration meets the wire: which connection a packet or an identity
 * belongs to, our identity and addresses for a connection, and traffic selectors
 * from a child's configuration.
 */
#ifndef HIKE_IKE_CONN_MATCH_H
#define HIKE_IKE_CONN_MATCH_H

#include "ike/engine_internal.h"

/* Whether both addresses are allowed by the connection's local_addrs/remote_addrs. */
bool conn_matches_addrs(const struct hk_conn *conn, const struct sockaddr_storage *local,
                        const struct sockaddr_storage *remote);
/* Whether the peer's identity (ID type and data) is the one the connection expects. */
bool conn_matches_id(const struct hk_conn *conn, uint8_t type, const uint8_t *data, size_t len);
/* The peer's address and port an initiator sends to. */
int conn_initiator_remote(struct ike_engine *e, const struct hk_conn *conn,
                          struct sockaddr_storage *remote);
/* Addresses and ports an initiator uses for the connection. */
int conn_initiator_addrs(struct ike_engine *e, const struct hk_conn *conn,
                         struct sockaddr_storage *local, struct sockaddr_storage *remote);
/*
 * Our ID payload body for the connection (2.15 RestOfIDPayload: type, 3 reserved
 * octets, data) into out; auto identities become the local address.
 */
int conn_local_id(const struct hk_conn *conn, const struct sockaddr_storage *local,
                  struct hk_cbb *out);
/* Traffic selectors from configuration; %dynamic becomes the host address dyn. */
size_t conn_ts(const struct hk_ts_conf *tc, size_t n, const struct sockaddr_storage *dyn,
               struct ike_ts *out, size_t max);

/* A child's selectors for an SA: %dynamic is our address, or our virtual address (any before it
 * is assigned), or the peer's (virtual) address. */
size_t sa_ts_local(const struct ike_sa *sa, const struct hk_conn *conn,
                   const struct hk_child_conf *cc, struct ike_ts *out, size_t max);
size_t sa_ts_remote(const struct ike_sa *sa, const struct hk_child_conf *cc, struct ike_ts *out,
                    size_t max);

/* The responder's narrowing (2.9) of the initiator's TSi/TSr against a child's selectors:
 * false (TS_UNACCEPTABLE) when either side comes out empty. Outputs hold CHILD_MAX_TS. */
bool sa_ts_narrow(const struct ike_sa *sa, const struct hk_conn *conn,
                  const struct hk_child_conf *cc, const struct ike_pl_ts *tsi,
                  const struct ike_pl_ts *tsr, struct ike_ts *local, size_t *nlocal,
                  struct ike_ts *remote, size_t *nremote);

/* ---- limits and certificate policy of an authenticated peer (peer_limits.c) ---- */

struct auth_cert_policy;
/* The connection's remote.* certificate policy. */
void conn_cert_policy(const struct hk_conn *conn, struct auth_cert_policy *pol);

/*
 * IKE SAs per peer identity (ID type and data): an SA is counted from the moment it is
 * established (IKE_AUTH, or an IKE rekey) until it is deleted. An IKE SA and its rekeyed
 * successor count twice only until the old one's DELETE, which follows at once.
 */
void peer_ids_init(struct ike_engine *e);
void peer_ids_free(struct ike_engine *e);
void peer_id_count(struct ike_engine *e, struct ike_sa *sa);
void peer_id_uncount(struct ike_engine *e, struct ike_sa *sa);
/* IKE SAs counted for the identity now. */
uint32_t peer_id_sas(const struct ike_engine *e, uint8_t type, const uint8_t *data, size_t len);
/* Whether an initiator that authenticated as id for conn is past max_ike_sas (counted in the
 * stats and logged); the IKE_AUTH then fails with AUTHENTICATION_FAILED (2.21.2). */
bool peer_ike_sas_full(struct ike_engine *e, const struct ike_sa *sa, const struct hk_conn *conn,
                       const struct ike_pl_id *id);
/* Child SAs of sa that count against max_children: not rekeyed or being deleted. */
uint32_t sa_live_children(const struct ike_engine *e, const struct ike_sa *sa);

#endif
