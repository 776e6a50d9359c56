/* Fuzzes the parser of route netlink answers (ACK, error with extended ACK TLVs, other
 * messages): a kernel bug or a hostile sender on the socket must give an error, not a crash.
 * The first 4 input octets are the sequence number waited for, the next 4 our port id, the
 * rest the datagram. */
#include <libmnl/libmnl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esp/rtnl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t seq, portid;
    char msg[128];
    int error = -1;
    if (size < 8)
        return 0;
    memcpy(&seq, data, 4);
    memcpy(&portid, data + 4, 4);
    /* A copy of exactly the datagram's size, aligned as a receive buffer is, so ASan sees
     * any read past its end. */
    size_t len = size - 8;
    uint8_t *dg = malloc(len ? len : 1);
    if (!dg)
        return 0;
    memcpy(dg, data + 8, len);
    int rc = hk_rtnl_parse_reply(dg, len, seq, portid, &error, msg, sizeof(msg));
    if (rc != MNL_CB_OK && rc != MNL_CB_STOP && rc != MNL_CB_ERROR)
        abort();
    if (error < 0 || memchr(msg, 0, sizeof(msg)) == NULL)
        abort();
    if (rc == MNL_CB_STOP && error != 0)
        abort(); /* an ACK carries no error */
    free(dg);
    return 0;
}
