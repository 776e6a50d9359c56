/*
 * What a data plane gets to install one Child SA: a descriptor of plain values and views,
 * built by the IKE side in one place (ike/dp_desc.h) from its records. The data plane sees
 * no IKE SA or Child SA record: the layers run one way, IKE -> this interface.
 */
#ifndef HIKE_ESP_DP_CHILD_H
#define HIKE_ESP_DP_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ts.h"
#include "esp/esp_state.h"

/* Selectors per side a Child SA brings at most (the IKE side checks its own limit
 * against this one when it builds a descriptor). */
#define HK_DP_MAX_TS 8

/* Which Child SA a call is about once it is installed: the Child SA's id (unique in the
 * daemon) and its SPIs (spi_in finds it in the userspace plane; both name it in logs). */
struct hk_dp_id {
    uint64_t child;
    uint32_t spi_in, spi_out;
};

/* The keys of one direction: views into the Child SA's own key material, valid during the
 * call only (a backend copies them into its ciphers, never keeps the pointers). */
struct hk_dp_keys {
    const uint8_t *encr, *integ; /* integ NULL (length 0) with an AEAD cipher */
    size_t encr_len, integ_len;
};

/*
 * One Child SA (ESP) to install. Lives only during the install call: every pointer in it
 * (keys, selectors, name) belongs to the caller.
 */
struct hk_dp_child {
    struct hk_dp_id id;
    const char *name; /* the child's configured name, for logs */
    /* We initiated the exchange that made it: its outbound policy takes the traffic at once
     * (see hk_spd_add). */
    bool initiator;
    bool transport; /* transport mode (RFC 4303 3.1.1); else tunnel */
    /* The negotiated transforms (IANA IKEv2 transform ids) and ESN (RFC 4303 2.2.1). */
    uint16_t encr, encr_key_bits, integ;
    bool esn;
    /* Already oriented: in protects what the peer sends us, out what we send. */
    struct hk_dp_keys in, out;
    struct hk_dp_path path;                    /* outer addresses and UDP encapsulation */
    const struct ike_ts *ts_local, *ts_remote; /* at most HK_DP_MAX_TS each */
    size_t nts_local, nts_remote;
    /* Volume lifetimes (0 = none), the same each way: soft starts a rekey, hard deletes. */
    uint64_t soft_bytes, hard_bytes, soft_packets, hard_packets;
    /* Anti-replay window in packets; 0 turns replay protection off (RFC 4303 3.4.3 lets the
     * receiver choose). */
    uint32_t replay_window;
};

#endif
