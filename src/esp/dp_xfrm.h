/*
 * The Linux XFRM data plane: Child SAs become kernel ESP SAs (both directions) and
 * policies (out, in, and fwd in tunnel mode) over NETLINK_XFRM; the kernel then carries
 * the traffic. Only for kernels with ESP: hk_dp_xfrm_probe tells at start-up, and hiked
 * uses the userspace plane where it fails (this project's build machines).
 */
#ifndef HIKE_ESP_DP_XFRM_H
#define HIKE_ESP_DP_XFRM_H

#include <stdbool.h>

#include "esp/dataplane.h"

/* The throw-away probe SA: an SPI from the range IKE never assigns (1..255, RFC 4303 2.1)
 * between two TEST-NET-2 addresses (RFC 5737), so it can clash with nothing real. */
#define HK_XFRM_PROBE_SPI 0x000000ffu
#define HK_XFRM_PROBE_SRC "198.51.100.1"
#define HK_XFRM_PROBE_DST "198.51.100.2"

struct hk_xfrm_probe {
    bool esp;      /* the kernel takes ESP SAs */
    int err;       /* errno of the refusal when not */
    char why[256]; /* the refusal: 'XFRM_MSG_NEWSA: Protocol not supported, "..."' */
};

/*
 * Asks the kernel (of the current network namespace) whether it takes ESP SAs: adds the
 * probe SA (AES-CBC + HMAC-SHA-256, random keys) and deletes it again, leaving nothing
 * behind. Returns out->esp. log (may be NULL) hears only of trouble deleting the probe SA.
 */
bool hk_dp_xfrm_probe(const struct hk_log *log, struct hk_xfrm_probe *out);

/* Opens the NETLINK_XFRM socket; NULL (logged) when that fails. */
struct hk_dataplane *hk_dp_xfrm_new(const struct hk_log *log);

#endif
