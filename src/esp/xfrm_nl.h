/*
 * A NETLINK_XFRM socket that sends one request at a time and waits (bounded) for its
 * answer, so a call returns once the kernel has applied the request or refused it. Used by
 * the XFRM backend and its start-up probe; the messages come from xfrm_msg.h.
 */
#ifndef HIKE_ESP_XFRM_NL_H
#define HIKE_ESP_XFRM_NL_H

#include <stddef.h>
#include <stdint.h>

#include "esp/xfrm_reply.h"

struct mnl_socket;

struct hk_xfrm_nl {
    struct mnl_socket *nl;
    uint32_t portid;
    uint32_t seq;   /* of the last request */
    int last_errno; /* of the last failure: the kernel's refusal or a socket error */
    char err[192];  /* its text ('Protocol not supported, "Requested type not found"'), "" */
};

/* Opens and binds the socket (close-on-exec, a receive timeout). 0 or HK_E_IO (err set). */
int hk_xfrm_nl_open(struct hk_xfrm_nl *x);
/* Safe on a zeroed or closed x. */
void hk_xfrm_nl_close(struct hk_xfrm_nl *x);
/* The sequence number to build the next request with. */
uint32_t hk_xfrm_nl_next_seq(struct hk_xfrm_nl *x);

/*
 * Sends req (len octets, built with seq) and waits for the answer to seq: 0 when the kernel
 * took it (and reply, optional, holds what came back, an SA for GETSA); HK_E_IO when it
 * refused it or the socket failed (last_errno, err); HK_E_TIMEOUT when no answer came;
 * HK_E_SYNTAX / HK_E_LENGTH for a malformed answer.
 */
int hk_xfrm_nl_talk(struct hk_xfrm_nl *x, const uint8_t *req, size_t len, uint32_t seq,
                    struct hk_xfrm_reply *reply);

#endif
