/*
 * One Child SA of the userspace ESP plane: both directions, their crypto, the replay window,
 * counters and selectors in one block, and the SA's state as plain data (esp_state.h): read
 * it, start from it, move the SA to other outer addresses. dp_user.c runs the packets.
 */
#ifndef HIKE_ESP_DP_SA_H
#define HIKE_ESP_DP_SA_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "crypto/crypto.h"
#include "esp/dp_child.h"
#include "esp/esp_packet.h"
#include "esp/esp_state.h"
#include "esp/replay.h"
#include "esp/spd.h"

/* Volume limits of a Child SA: the same values each way, counted and fired per direction
 * (RFC 4301 4.4.2.1: each SA has its own). */
struct dp_limits {
    uint64_t soft_bytes, hard_bytes, soft_packets, hard_packets;
};

struct dp_fired {
    bool soft, hard;
};

/* An address with its port (a sockaddr_storage would take 128 octets per SA and side). */
union dp_addr {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
};

struct dp_in {
    uint32_t spi;
    bool no_replay;         /* replay_window = 0 */
    bool transport, tp_fix; /* transport mode; tp_fix: recompute checksums (RFC 3948 3.1.2) */
    struct dp_fired fired;
    uint32_t last_activity; /* in 100 ms ticks, compared for change only */
    time_t dies;            /* removed: still accepted until then (in-flight packets), 0 = alive */
    struct hk_esp_sa_crypto cr;
    struct hk_replay rw;
    uint64_t packets, bytes, replay_drops, auth_fails;
};

struct dp_out {
    bool live; /* in service: the SPD points here (not after removal) */
    bool esn, udp, transport;
    struct dp_fired fired;
    uint64_t seq; /* last used */
    struct hk_esp_sa_crypto cr;
    union dp_addr local, remote; /* with ports: the NAT-T ports when udp */
    uint64_t packets, bytes, seq_exhausted;
};

/*
 * One Child SA: both directions and its selectors in one block (a remote-access gateway
 * holds one per client). The outbound half goes out of service with the SA's removal; the
 * block goes DP_GRACE seconds later, with the inbound half.
 */
struct dp_sa {
    uint64_t child;
    struct dp_limits lim;
    struct dp_in in;
    struct dp_out out;
    /* then the selectors (sa_sel): checked inbound even while dying (RFC 4301 5.2); transport
     * mode rebuilds the IP header from their addresses */
};

static inline const struct hk_sel *sa_sel(const struct dp_sa *s)
{
    return (const struct hk_sel *)(s + 1);
}

/*
 * A new SA for Child SA c, sending on c->path, continuing from initial (NULL: fresh). The
 * replay window is c's, or default_window when c has replay protection off (0: the window
 * still keeps the state). The selectors are filled; the SA is in no table yet.
 */
int dp_sa_new(const struct hk_crypto *crypto, const struct hk_dp_child *c, uint32_t default_window,
              const struct hk_esp_state *initial, struct dp_sa **out);
void dp_sa_free(struct dp_sa *s);
void dp_sa_state_get(const struct dp_sa *s, struct hk_esp_state *st);
/* HK_E_INVALID when st does not fit the SA (ESN or window size differ, a counter past its
 * end); HK_E_NOMEM without memory for the replay bitmap. The SA is unchanged on error. */
int dp_sa_state_set(struct dp_sa *s, const struct hk_esp_state *st);
/* New outer addresses and encapsulation; nothing else changes. */
void dp_sa_set_path(struct dp_sa *s, const struct hk_dp_path *p);

#endif
