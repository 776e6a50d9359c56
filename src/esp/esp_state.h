/*
 * The live state of one Child SA's ESP (RFC 4303) as plain data: what must go with the SA
 * when it moves to another IKE SA, process or cluster node, so that the new owner neither
 * reuses an outbound sequence number (RFC 4303 3.3.3) nor accepts a replayed packet
 * (3.4.3), and counts the SA's lifetime from where it was. No pointers: it can be copied,
 * compared and serialised as it is.
 */
#ifndef HIKE_ESP_ESP_STATE_H
#define HIKE_ESP_ESP_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "esp/replay.h"

#define HK_ESP_STATE_WORDS (HK_REPLAY_MAX_SIZE / 64)

struct hk_esp_state {
    bool esn; /* 64-bit sequence numbers (RFC 4303 2.2.1): the high 32 bits of both counters */
    /* Outbound: the last sequence number used (0: none yet; the next packet carries +1). */
    uint64_t seq_out;
    /* Inbound anti-replay window: the highest authenticated number and which of the W
     * numbers below it arrived (bit j of the words = replay_top - j; hk_replay_export). */
    uint64_t replay_top;
    uint32_t replay_window; /* W in packets (a multiple of 64): how many words count */
    uint64_t replay_bits[HK_ESP_STATE_WORDS];
    /* Use so far, each way (lifetimes in volume, RFC 4301 4.4.2.1). */
    uint64_t bytes_in, packets_in, bytes_out, packets_out;
    /* Which volume limits have fired, each way (reported once). */
    bool soft_in, hard_in, soft_out, hard_out;
};

/* Where a Child SA's ESP packets go: the outer addresses with ports, and whether they are
 * UDP-encapsulated (RFC 3948: then the ports are the NAT-T ones in use). */
struct hk_dp_path {
    struct sockaddr_storage local, remote;
    bool udp;
};

#endif
