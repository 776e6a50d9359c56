/*
 * Traffic selector arithmetic (RFC 7296 2.9): intersection for the responder's
 * narrowing, containment for the initiator's check of what came back, and a
 * printable form for logs and hikectl.
 */
#ifndef HIKE_IKE_TS_H
#define HIKE_IKE_TS_H

#include <stdbool.h>
#include <stddef.h>

#include "ike/codec/msg.h"

/* Address octets of a selector: 4 for IPv4, 16 for IPv6. */
size_t ike_ts_addr_len(const struct ike_ts *t);

/* a ∩ b into out; false when the intersection is empty (or the families differ). */
bool ike_ts_intersect(const struct ike_ts *a, const struct ike_ts *b, struct ike_ts *out);

/* True when a lies wholly within b. */
bool ike_ts_within(const struct ike_ts *a, const struct ike_ts *b);

/*
 * Narrowing (2.9): every non-empty intersection of a proposed selector with a
 * configured one, without duplicates, written to out (at most max entries).
 * Returns how many were written; 0 means TS_UNACCEPTABLE.
 */
size_t ike_ts_narrow(const struct ike_ts *proposed, size_t np, const struct ike_ts *conf, size_t nc,
                     struct ike_ts *out, size_t max);

/* True when every selector of got lies within one of sent (the initiator's check). */
bool ike_ts_all_within(const struct ike_ts *got, size_t ng, const struct ike_ts *sent, size_t ns);

/* "10.0.0.0-10.0.0.255[tcp/80-80]" style text; returns buf. */
char *ike_ts_format(const struct ike_ts *t, char *buf, size_t len);

#endif
