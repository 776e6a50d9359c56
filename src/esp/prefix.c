/* Range to CIDR split: take the largest aligned block at the start that stays in range. */
#include "esp/prefix.h"

#include <string.h>
#include <sys/socket.h>

/* 128-bit big-endian addresses as two 64-bit halves. */
struct u128 {
    uint64_t hi, lo;
};

static struct u128 load(const uint8_t *a, size_t n)
{
    uint8_t b[16] = {0};
    struct u128 v = {0, 0};

    memcpy(b + 16 - n, a, n); /* right-aligned: IPv4 lives in the low 32 bits */
    for (int i = 0; i < 8; i++) {
        v.hi = (v.hi << 8) | b[i];
        v.lo = (v.lo << 8) | b[8 + i];
    }
    return v;
}

static void store(struct u128 v, uint8_t *a, size_t n)
{
    uint8_t b[16];

    for (int i = 7; i >= 0; i--) {
        b[i] = (uint8_t)v.hi;
        b[8 + i] = (uint8_t)v.lo;
        v.hi >>= 8;
        v.lo >>= 8;
    }
    memcpy(a, b + 16 - n, n);
}

static int cmp(struct u128 a, struct u128 b)
{
    if (a.hi != b.hi)
        return a.hi < b.hi ? -1 : 1;
    if (a.lo != b.lo)
        return a.lo < b.lo ? -1 : 1;
    return 0;
}

/* Number of trailing zero bits (128 for zero). */
static unsigned ctz128(struct u128 v)
{
    if (v.lo)
        return (unsigned)__builtin_ctzll(v.lo);
    if (v.hi)
        return 64 + (unsigned)__builtin_ctzll(v.hi);
    return 128;
}

/* v + 2^k - 1 (the last address of a block of size 2^k at v); k < 128, no overflow
 * when v is aligned to 2^k. */
static struct u128 block_last(struct u128 v, unsigned k)
{
    struct u128 m;

    if (k >= 64) {
        m.lo = UINT64_MAX;
        m.hi = k == 64 ? 0 : (UINT64_MAX >> (128 - k));
    } else {
        m.hi = 0;
        m.lo = k == 0 ? 0 : (UINT64_MAX >> (64 - k));
    }
    v.hi |= m.hi; /* aligned: adding the mask is or-ing it */
    v.lo |= m.lo;
    return v;
}

static struct u128 inc(struct u128 v)
{
    v.lo++;
    if (v.lo == 0)
        v.hi++;
    return v;
}

size_t hk_range_to_prefixes(const struct hk_ip_range *r, struct hk_ip *addrs, uint8_t *lens,
                            size_t max)
{
    unsigned bits;
    size_t n, count = 0;

    if (!r)
        return 0;
    if (r->family == AF_INET) {
        bits = 32;
        n = 4;
    } else if (r->family == AF_INET6) {
        bits = 128;
        n = 16;
    } else {
        return 0;
    }
    struct u128 cur = load(r->start, n), end = load(r->end, n);
    if (cmp(cur, end) > 0)
        return 0;

    for (;;) {
        unsigned k = ctz128(cur);
        if (k > bits)
            k = bits; /* cur == 0: any size up to the whole space */
        /* Shrink until the block ends at or before end. */
        struct u128 last;
        for (;; k--) {
            last = k == 128 ? (struct u128){UINT64_MAX, UINT64_MAX} : block_last(cur, k);
            if (k == 0 || cmp(last, end) <= 0)
                break;
        }
        if (count < max) {
            addrs[count].family = r->family;
            memset(addrs[count].addr, 0, sizeof(addrs[count].addr));
            store(cur, addrs[count].addr, n);
            lens[count] = (uint8_t)(bits - k);
        }
        count++;
        if (cmp(last, end) == 0)
            break;
        cur = inc(last);
    }
    return count;
}
