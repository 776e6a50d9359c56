/*
 * The Internet checksum (RFC 1071) for the data plane's segmentation and coalescing.
 * Sums run in host byte order over memory (RFC 1071 2(B): the one's complement sum is
 * byte-order independent), so a folded result is stored back with memcpy, unswapped.
 */
#ifndef HIKE_ESP_CSUM_H
#define HIKE_ESP_CSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adds len octets at p (starting at an even offset of the checksummed data) to sum. */
uint64_t hk_csum_add(uint64_t sum, const void *p, size_t len);
/* Adds a 16-bit value given in network byte order (a length, a protocol). */
uint64_t hk_csum_add16(uint64_t sum, uint16_t v_net);
/* Folds a sum to 16 bits (not complemented). */
uint16_t hk_csum_fold(uint64_t sum);
/* The checksum field value: the complement of the folded sum, ready for memcpy. */
static inline uint16_t hk_csum_final(uint64_t sum)
{
    return (uint16_t)~hk_csum_fold(sum);
}
/* The pseudo-header sum of TCP/UDP (RFC 793 3.1, RFC 8200 8.1): addresses (4 or 16 octets
 * each), the protocol and the upper-layer length. */
uint64_t hk_csum_pseudo(const uint8_t *src, const uint8_t *dst, size_t alen, uint8_t proto,
                        uint32_t l4len);

#endif
