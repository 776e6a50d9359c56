#include "esp/csum.h"

#include <arpa/inet.h>
#include <string.h>

uint64_t hk_csum_add(uint64_t sum, const void *p, size_t len)
{
    const uint8_t *b = p;
    /* 32-bit words into two 64-bit accumulators: no carry can be lost below 2^32 words,
     * and the loop has no carry test, so the compiler vectorizes it. */
    uint64_t acc0 = 0, acc1 = 0;
    while (len >= 8) {
        uint32_t v0, v1;
        memcpy(&v0, b, 4);
        memcpy(&v1, b + 4, 4);
        acc0 += v0;
        acc1 += v1;
        b += 8;
        len -= 8;
    }
    uint64_t tail = 0; /* an odd last octet is padded with zero (RFC 1071 1) */
    memcpy(&tail, b, len);
    acc0 += (tail & 0xffffffffu) + (tail >> 32) + acc1;
    sum += acc0;
    return sum + (sum < acc0); /* end-around carry */
}

uint64_t hk_csum_add16(uint64_t sum, uint16_t v_net)
{
    uint8_t b[2];
    memcpy(b, &v_net, 2);
    return hk_csum_add(sum, b, 2);
}

uint16_t hk_csum_fold(uint64_t sum)
{
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffffffu) + (sum >> 32);
    sum = (sum & 0xffffu) + (sum >> 16);
    sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)sum;
}

uint64_t hk_csum_pseudo(const uint8_t *src, const uint8_t *dst, size_t alen, uint8_t proto,
                        uint32_t l4len)
{
    uint64_t s = hk_csum_add(0, src, alen);
    s = hk_csum_add(s, dst, alen);
    s = hk_csum_add16(s, htons(proto));
    if (alen == 16) /* IPv6: a 32-bit length */
        s = hk_csum_add16(s, htons((uint16_t)(l4len >> 16)));
    return hk_csum_add16(s, htons((uint16_t)l4len));
}
