/*
 * The one place where the engine's records become what a data plane installs: a Child SA
 * and its IKE SA as a struct hk_dp_child (esp/dp_child.h), and a Child SA's identity for
 * the later calls (update, remove, state_get, child_stats).
 */
#ifndef HIKE_IKE_DP_DESC_H
#define HIKE_IKE_DP_DESC_H

#include "esp/dp_child.h"
#include "ike/sa.h"

/* Fills out from c and its owner sa. out points into c (keys, selectors, name): it is valid
 * while c is unchanged, for the one data-plane call it is built for. */
void ike_child_dp_desc(const struct ike_sa *sa, const struct child_sa *c, struct hk_dp_child *out);

struct hk_dp_id ike_child_dp_id(const struct child_sa *c);

#endif
