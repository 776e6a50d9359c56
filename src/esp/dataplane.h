/*
 * The one interface through which Child SAs reach a data plane. The IKE engine reports
 * Child SAs through its ops; hiked turns each into a descriptor (dp_child.h, built by
 * ike/dp_desc.h) and calls install/update/remove here. hiked picks the backend: the
 * userspace ESP plane (dp_user.h), the kernel's XFRM (dp_xfrm.h) where the kernel has ESP,
 * or the logging backend, which records what would be installed.
 */
#ifndef HIKE_ESP_DATAPLANE_H
#define HIKE_ESP_DATAPLANE_H

#include "common/log.h"
#include "config/ts_conf.h"
#include "common/ts.h"
#include "esp/dp_child.h"
#include "esp/esp_state.h"

struct hk_dataplane;

/* Traffic counters of one Child SA (hikectl list-sas). */
struct hk_dp_child_stats {
    uint64_t packets_in, bytes_in, packets_out, bytes_out;
    uint64_t replay_drops, auth_failures;
};

/* One named counter of a backend (hikectl stats shows them under "dataplane"). */
struct hk_dp_counter {
    const char *name;
    uint64_t value;
};
#define HK_DP_MAX_COUNTERS 16

struct hk_dataplane_ops {
    const char *name;
    /* initial: the ESP state to continue from (an SA moved here from another owner), or
     * NULL for a fresh SA (sequence numbers from 1, an empty replay window). */
    int (*install)(struct hk_dataplane *dp, const struct hk_dp_child *c,
                   const struct hk_esp_state *initial);
    /* The live ESP state of an installed Child SA. HK_E_NOTFOUND when the backend does not
     * carry it, HK_E_UNSUPPORTED when it cannot read it. Optional. */
    int (*state_get)(struct hk_dataplane *dp, const struct hk_dp_id *c, struct hk_esp_state *out);
    /* New outer addresses or encapsulation for an installed Child SA (its IKE SA moved or
     * was replaced: rekey, MOBIKE, hand-over); its keys and state stay. Optional. */
    int (*update)(struct hk_dataplane *dp, const struct hk_dp_id *c, const struct hk_dp_path *p);
    void (*remove)(struct hk_dataplane *dp, const struct hk_dp_id *c);
    /* An ESP packet arrived on the NAT-T port (RFC 3948); the backend decides. */
    void (*esp_in)(struct hk_dataplane *dp, const uint8_t *buf, size_t len);
    /* The end of a burst of esp_in calls: what the backend held back (to coalesce it) goes
     * out now. Optional. */
    void (*esp_flush)(struct hk_dataplane *dp);
    /* Trap policies (on-demand): traffic matching them with no Child SA yet is queued
     * (bounded) and reported through the backend's acquire callback. Optional. */
    int (*trap_add)(struct hk_dataplane *dp, const char *conn, const struct ike_ts *local,
                    size_t nlocal, const struct ike_ts *remote, size_t nremote);
    void (*trap_clear)(struct hk_dataplane *dp);
    /* Counters of a Child SA; HK_E_NOTFOUND when the backend does not carry it. Optional. */
    int (*child_stats)(struct hk_dataplane *dp, const struct hk_dp_id *c,
                       struct hk_dp_child_stats *out);
    /* Called for each IKE socket hiked opens (natt: the RFC 3948 port). A kernel data plane
     * exempts it from IPsec policies and has the kernel take the ESP in UDP arriving on the
     * NAT-T port. Optional. */
    int (*prepare_socket)(struct hk_dataplane *dp, int fd, int family, bool natt);
    /* The address pools hiked hands out (config pools), at start and after each reload. The
     * userspace plane routes them into its TUN device once; a child whose remote selector lies
     * inside one adds no route of its own. Optional. */
    int (*set_pools)(struct hk_dataplane *dp, const struct hk_ip_range *pools, size_t n);
    /* The backend's own counters (drops by reason...), at most HK_DP_MAX_COUNTERS;
     * returns how many it wrote. Optional. */
    size_t (*counters)(struct hk_dataplane *dp, struct hk_dp_counter *out);
    void (*destroy)(struct hk_dataplane *dp);
};

struct hk_dataplane {
    const struct hk_dataplane_ops *ops;
    const struct hk_log *log;
    uint64_t installed, removed, esp_dropped;
    uint64_t clear_dropped; /* clear packets a matching SA cannot carry (transport mode) */
};

/* The logging backend: installs nothing, logs each Child SA (never its keys). */
struct hk_dataplane *hk_dataplane_log_new(const struct hk_log *log);

#endif
