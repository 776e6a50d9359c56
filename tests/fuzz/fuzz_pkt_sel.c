/* Fuzzes the data plane's IP header parser (packets come from the TUN device and from
 * decrypted ESP, so from anyone a tunnel reaches). */
#include <stdint.h>
#include <stdlib.h>

#include "esp/spd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hk_pkt_sel sel;
    if (hk_pkt_sel_parse(data, size, &sel) == 0 && sel.family != 2 && sel.family != 10)
        abort();
    return 0;
}
