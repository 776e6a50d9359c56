/*
 * The kernel's answers on a NETLINK_XFRM socket: NLMSG_ERROR (an ACK when the error is 0,
 * with the extended-ACK text when the kernel sends one) and, for XFRM_MSG_GETSA, the SA
 * itself (XFRM_MSG_NEWSA with struct xfrm_usersa_info). A bounded reader: every length
 * is checked against what is left before anything is read, fields are copied out (no
 * casts of unaligned input), and a malformed datagram is an error, never a crash.
 */
#ifndef HIKE_ESP_XFRM_REPLY_H
#define HIKE_ESP_XFRM_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HK_XFRM_REPLY_WORDS 64 /* 4096 packets: the kernel's widest window */

struct hk_xfrm_reply {
    int error;               /* the kernel's errno for the request (positive); 0: it was taken */
    char msg[128];           /* the kernel's reason (NLMSGERR_ATTR_MSG), printable, "" when none */
    bool sa;                 /* an SA came back (GETSA): the fields below are set */
    uint32_t spi;            /* host order */
    uint64_t bytes, packets; /* curlft: what the SA carried */
    uint32_t replay, integrity_failed; /* stats: packets dropped */
    bool esn;                          /* XFRM_STATE_ESN */
    /* The SA's sequence numbers (XFRMA_REPLAY_ESN_VAL, or XFRMA_REPLAY_VAL for a legacy
     * window), when the kernel sent them: the last outbound number, the highest inbound one,
     * and the window in the exported form of hk_replay_export (bit j = top - j received). */
    bool replay_state;
    uint64_t oseq, top;
    uint32_t window;
    uint64_t bits[HK_XFRM_REPLY_WORDS];
};

/*
 * Looks through buf (one datagram of len octets: one or more netlink messages) for the
 * answer to request seq. HK_OK with *out set when found; HK_E_AGAIN when the datagram holds
 * none (messages of other sequence numbers are skipped); HK_E_LENGTH or HK_E_SYNTAX when a
 * message is malformed (*out then says nothing).
 */
int hk_xfrm_parse_reply(const uint8_t *buf, size_t len, uint32_t seq, struct hk_xfrm_reply *out);

#endif
