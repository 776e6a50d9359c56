/* Fuzzes the parser of the kernel's NETLINK_XFRM answers (ACK/error with extended ACK,
 * GETSA): a kernel bug or a hostile sender on the socket must give an error, not a crash.
 * The first 4 input octets are the sequence number looked for, the rest the datagram. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "esp/xfrm_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hk_xfrm_reply r;
    uint32_t seq = 0;
    if (size < 4)
        return 0;
    memcpy(&seq, data, 4);
    /* A copy of exactly the datagram's size, so ASan sees any read past its end. */
    uint8_t *dg = malloc(size - 4 ? size - 4 : 1);
    if (!dg)
        return 0;
    memcpy(dg, data + 4, size - 4);
    int rc = hk_xfrm_parse_reply(dg, size - 4, seq, &r);
    if (rc == HK_OK && (r.error < 0 || r.error > 4095 || memchr(r.msg, 0, sizeof(r.msg)) == NULL))
        abort();
    if (rc != HK_OK && rc != HK_E_AGAIN && rc != HK_E_LENGTH && rc != HK_E_SYNTAX)
        abort();
    free(dg);
    return 0;
}
