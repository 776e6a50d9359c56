/*
 * ike_mutator: sends a bounded, reproducible stream of bad IKE datagrams at one UDP port,
 * for net tests of hiked's input handling (tests/net/hike_bad_input.sh).
 *
 *   ike_mutator -t ADDR -p PORT -n COUNT -s SEED [-S SPII_SPIR] [-m MSGID] [-f FLAGS]
 *               [-M|-N] [-b BURST] [-k INDEX] [-x] [-q]
 *
 * Every datagram is one of (chosen by the seeded generator):
 *   - pure random bytes, 0..1600 octets;
 *   - a random body behind a plausible IKEv2 header;
 *   - an IKE_SA_INIT request built with the codec (AES-GCM-256, PRF-SHA256, X25519, or a
 *     KE of another group), a fresh SPIi each time, sent as is (a few) or mutated;
 *   - with -S (the IKE SA's "name" from hikectl list-sas: SPIi_SPIr in hex): protected
 *     messages (IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL with SK{...} of random
 *     ciphertext, or a plaintext message with every payload type) carrying that SA's
 *     SPIs, flags -f (default 0x08, I) and message IDs around -m (the responder's
 *     msgid_in), mutated or not, and unprotected messages with those SPIs (any exchange
 *     type, IKE_SA_INIT too);
 *   - crafted containers with huge item counts: 255..1000 payloads, SA payloads with
 *     hundreds of proposals or transforms, transforms with many attributes, DELETE with
 *     65535 SPIs, TS with 255 selectors, CP with 1000 attributes, zero payload lengths;
 *   - truncations and wrong header/payload length fields of the above.
 * Mutations: bit flips, interesting bytes and 16/32-bit values, truncation, extension,
 * splices, changed exchange/flags/version/next-payload, broken payload lengths; the
 * header length is then made to match the datagram half of the time.
 *
 * On port 4500 (or with -M) a non-ESP marker (four zero octets, RFC 3948 2.2) goes in
 * front, except for 1 in 32 datagrams sent bare (they look like ESP or too short); -N: never.
 * -b: datagrams per 1 ms pause (default 16). -k INDEX sends only datagram INDEX of the
 * stream (to reproduce one), -x hex-dumps what is sent. Replies are read and counted.
 * Prints one summary line. Exit 0, or 1 on a socket error, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/cbb.h"
#include "sample_msgs.h"

#define MAXPKT 16384

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint32_t below(uint32_t n)
{
    return n ? (uint32_t)(rnd() % n) : 0;
}

static void rnd_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* What the stream aims at. */
struct target {
    bool have_sa;
    uint8_t spi_i[8], spi_r[8];
    uint32_t msgid;
    uint8_t flags;
};

enum kind {
    K_RANDOM,
    K_RANDOM_HDR,
    K_SA_INIT,
    K_SA_INIT_MUT,
    K_SA_MSG,
    K_SA_MSG_MUT,
    K_SA_PLAIN,
    K_HUGE,
    K_LENGTH,
    K__COUNT
};
static const char *const kind_names[K__COUNT] = {
    "random",     "random-hdr", "sa-init", "sa-init-mut", "sa-msg",
    "sa-msg-mut", "sa-plain",   "huge",    "length",
};

static size_t encode(struct sample *s, uint8_t *out)
{
    struct hk_cbb b;
    size_t n = 0;
    hk_cbb_init(&b, 0, MAXPKT);
    if (!ike_msg_encode(&s->msg, &b) && b.len <= MAXPKT) {
        memcpy(out, b.buf, b.len);
        n = b.len;
    }
    hk_cbb_free(&b);
    return n;
}

/* An IKE_SA_INIT request the responder's configuration accepts (or, 1 in 4, with a KE of a
 * group it did not choose: INVALID_KE_PAYLOAD), a fresh SPIi and nonce. */
static size_t sa_init(uint8_t *out)
{
    static struct sample s;
    static const uint16_t groups_ok[] = {HK_KE_CURVE25519};
    static const uint16_t groups_other[] = {HK_KE_ECP256, HK_KE_CURVE25519};
    bool other = !below(4);
    sample_init(&s, (uint32_t)rnd() | 1);
    sample_hdr(&s, IKE_SA_INIT, IKE_FLAG_INITIATOR, 0, false);
    rnd_bytes(s.msg.hdr.spi_i, 8);
    if (other)
        sample_ike_sa(&s, 1, groups_other, 2);
    else
        sample_ike_sa(&s, 1, groups_ok, 1);
    struct ike_payload *ke = sample_add(&s, IKE_PL_KE);
    ke->u.ke.group = other ? HK_KE_ECP256 : HK_KE_CURVE25519;
    ke->u.ke.data = sample_bytes(&s, other ? 64 : 32);
    sample_add(&s, IKE_PL_NONCE)->u.nonce.data = sample_bytes(&s, 32);
    sample_notify(&s, IKE_N_NAT_DETECTION_SOURCE_IP, 20);
    sample_notify(&s, IKE_N_NAT_DETECTION_DESTINATION_IP, 20);
    if (below(2))
        sample_notify(&s, IKE_N_IKEV2_FRAGMENTATION_SUPPORTED, 0);
    if (below(4) == 0)
        sample_vendor(&s);
    return encode(&s, out);
}

static uint32_t pick_msgid(const struct target *t)
{
    switch (below(8)) {
    case 0:
        return t->msgid - 1;
    case 1:
    case 2:
        return t->msgid + 1;
    case 3:
        return (uint32_t)rnd();
    case 4:
        return 0;
    default:
        return t->msgid;
    }
}

/* A message of the established IKE SA: SK{...} of random ciphertext, or all payloads. */
static size_t sa_msg(const struct target *t, uint8_t *out)
{
    static struct sample s;
    static const uint8_t exchanges[] = {IKE_AUTH, IKE_CREATE_CHILD_SA, IKE_INFORMATIONAL};
    static const uint8_t inner[] = {IKE_PL_IDI, IKE_PL_SA, IKE_PL_NOTIFY, IKE_PL_DELETE, 0};
    if (below(6) == 0) {
        sample_all_payloads(&s);
    } else {
        size_t ct = below(4) ? 16 * below(24) : below(600);
        sample_protected(&s, (uint32_t)rnd() | 1, exchanges[below(3)], 0, inner[below(5)], ct);
        /* AES-CBC-sized IVs and ICVs now and then. */
        if (!below(4))
            s.pl[s.msg.npayloads - 1].u.sk.body = sample_bytes(&s, 16 + ct + 16);
    }
    memcpy(s.msg.hdr.spi_i, t->spi_i, 8);
    memcpy(s.msg.hdr.spi_r, t->spi_r, 8);
    s.msg.hdr.flags = t->flags;
    s.msg.hdr.msg_id = pick_msgid(t);
    return encode(&s, out);
}

/* A message with the SA's SPIs but nothing protected: any exchange type (IKE_SA_INIT too),
 * a Notify or a Nonce in plaintext, or no payload at all. */
static size_t sa_plain(const struct target *t, uint8_t *out)
{
    static const uint8_t exchanges[] = {IKE_SA_INIT, IKE_AUTH, IKE_CREATE_CHILD_SA,
                                        IKE_INFORMATIONAL};
    memcpy(out, t->spi_i, 8);
    memcpy(out + 8, t->spi_r, 8);
    out[17] = 0x20;
    out[18] = exchanges[below(4)];
    out[19] = t->flags;
    put32(out + 20, pick_msgid(t));
    size_t n = IKE_HDR_LEN;
    switch (below(3)) {
    case 0:
        out[16] = 0;
        break;
    case 1: /* N(COOKIE)-like, 8 + 16 */
        out[16] = IKE_PL_NOTIFY;
        memset(out + n, 0, 8);
        put16(out + n + 2, 24);
        put16(out + n + 6, (uint16_t)(below(2) ? 16390 : below(65536)));
        rnd_bytes(out + n + 8, 16);
        n += 24;
        break;
    default: /* Nonce */
        out[16] = IKE_PL_NONCE;
        memset(out + n, 0, 4);
        put16(out + n + 2, 36);
        rnd_bytes(out + n + 4, 32);
        n += 36;
    }
    put32(out + 24, (uint32_t)n);
    return n;
}

static size_t hdr(uint8_t *out, const struct target *t, uint8_t first, uint8_t exchange)
{
    if (t->have_sa && below(2)) {
        memcpy(out, t->spi_i, 8);
        memcpy(out + 8, t->spi_r, 8);
        out[19] = t->flags;
        put32(out + 20, pick_msgid(t));
    } else {
        rnd_bytes(out, 8);
        memset(out + 8, 0, 8);
        out[19] = IKE_FLAG_INITIATOR;
        put32(out + 20, 0);
    }
    out[16] = first;
    out[17] = 0x20;
    out[18] = exchange;
    return IKE_HDR_LEN;
}

/* Containers with huge item counts, or lengths that cannot be (0, < 4). */
static size_t huge(const struct target *t, uint8_t *out)
{
    static const uint8_t exchanges[] = {IKE_SA_INIT, IKE_AUTH, IKE_INFORMATIONAL};
    size_t n;
    unsigned k;
    uint8_t *p;
    switch (below(9)) {
    case 0: { /* a chain of k empty Vendor ID payloads */
        static const unsigned counts[] = {255, 256, 257, 300, 1000, 2000};
        k = counts[below(6)];
        n = hdr(out, t, IKE_PL_VENDOR, exchanges[below(3)]);
        for (unsigned i = 0; i < k; i++, n += 4) {
            out[n] = i + 1 < k ? IKE_PL_VENDOR : 0;
            out[n + 1] = 0;
            put16(out + n + 2, 4);
        }
        break;
    }
    case 1: { /* SA with k proposals, each without transforms */
        k = 200 + below(700);
        n = hdr(out, t, IKE_PL_SA, IKE_SA_INIT);
        p = out + n;
        n += 4;
        for (unsigned i = 0; i < k; i++, n += 8) {
            out[n] = i + 1 < k ? 2 : 0;
            out[n + 1] = 0;
            put16(out + n + 2, 8);
            out[n + 4] = (uint8_t)(i + 1);
            out[n + 5] = IKE_PROTO_IKE;
            out[n + 6] = 0;
            out[n + 7] = (uint8_t)below(256); /* transforms it claims */
        }
        p[0] = 0;
        p[1] = 0;
        put16(p + 2, (uint16_t)(out + n - p));
        break;
    }
    case 2: { /* one proposal with k transforms (claims min(k, 255), or 255) */
        k = 100 + below(700);
        n = hdr(out, t, IKE_PL_SA, IKE_SA_INIT);
        p = out + n;
        n += 4;
        uint8_t *prop = out + n;
        prop[0] = 0;
        prop[1] = 0;
        prop[4] = 1;
        prop[5] = IKE_PROTO_IKE;
        prop[6] = 0;
        prop[7] = below(2) ? 255 : (uint8_t)k;
        n += 8;
        for (unsigned i = 0; i < k; i++, n += 8) {
            out[n] = i + 1 < k ? 3 : 0;
            out[n + 1] = 0;
            put16(out + n + 2, 8);
            out[n + 4] = (uint8_t)(1 + below(5));
            out[n + 5] = 0;
            put16(out + n + 6, (uint16_t)below(40));
        }
        put16(prop + 2, (uint16_t)(out + n - prop));
        p[0] = 0;
        p[1] = 0;
        put16(p + 2, (uint16_t)(out + n - p));
        break;
    }
    case 3: { /* a transform with k attributes, TV or TLV with odd lengths */
        k = 5 + below(500);
        n = hdr(out, t, IKE_PL_SA, IKE_SA_INIT);
        p = out + n;
        n += 4;
        uint8_t *prop = out + n;
        memset(prop, 0, 8);
        prop[4] = 1;
        prop[5] = IKE_PROTO_IKE;
        prop[7] = 1;
        n += 8;
        uint8_t *tr = out + n;
        memset(tr, 0, 8);
        tr[4] = IKE_TRANS_ENCR;
        put16(tr + 6, HK_ENCR_AES_GCM_16);
        n += 8;
        for (unsigned i = 0; i < k; i++) {
            if (below(2)) {
                put16(out + n, 0x8000 | IKE_ATTR_KEY_LENGTH);
                put16(out + n + 2, 256);
                n += 4;
            } else {
                unsigned l = below(3) ? below(8) : 60000;
                put16(out + n, (uint16_t)below(30));
                put16(out + n + 2, (uint16_t)l);
                n += 4;
                if (l < 8) {
                    rnd_bytes(out + n, l);
                    n += l;
                }
            }
        }
        put16(tr + 2, (uint16_t)(out + n - tr));
        put16(prop + 2, (uint16_t)(out + n - prop));
        p[0] = 0;
        p[1] = 0;
        put16(p + 2, (uint16_t)(out + n - p));
        break;
    }
    case 4: { /* DELETE claiming 65535 SPIs (or k, present) */
        n = hdr(out, t, IKE_PL_DELETE, IKE_INFORMATIONAL);
        k = below(2) ? 65535 : 1000;
        unsigned have = k == 65535 ? below(64) : k;
        out[n] = 0;
        out[n + 1] = 0;
        put16(out + n + 2, (uint16_t)(8 + 4 * have));
        out[n + 4] = IKE_PROTO_ESP;
        out[n + 5] = below(4) ? 4 : (uint8_t)below(256);
        put16(out + n + 6, (uint16_t)k);
        rnd_bytes(out + n + 8, 4 * have);
        n += 8 + 4 * have;
        break;
    }
    case 5: { /* TSi with 255 selectors, some truncated or of unknown types */
        n = hdr(out, t, IKE_PL_TSI, IKE_AUTH);
        p = out + n;
        out[n + 4] = 255;
        memset(out + n + 5, 0, 3);
        n += 8;
        k = 255 - below(3) * 100;
        for (unsigned i = 0; i < k; i++, n += 16) {
            out[n] = below(50) ? IKE_TS_IPV4_ADDR_RANGE : (uint8_t)below(256);
            out[n + 1] = 0;
            put16(out + n + 2, 16);
            rnd_bytes(out + n + 4, 12);
        }
        p[0] = 0;
        p[1] = 0;
        put16(p + 2, (uint16_t)(out + n - p));
        break;
    }
    case 6: { /* CP with k empty attributes */
        k = 300 + below(1000);
        n = hdr(out, t, IKE_PL_CP, IKE_AUTH);
        p = out + n;
        out[n + 4] = IKE_CFG_REQUEST;
        memset(out + n + 5, 0, 3);
        n += 8;
        for (unsigned i = 0; i < k; i++, n += 4) {
            put16(out + n, (uint16_t)(1 + below(16)));
            put16(out + n + 2, 0);
        }
        p[0] = 0;
        p[1] = 0;
        put16(p + 2, (uint16_t)(out + n - p));
        break;
    }
    case 7: { /* Notify with an SPI size of 255 and too little behind it */
        n = hdr(out, t, IKE_PL_NOTIFY, exchanges[below(3)]);
        unsigned have = below(300);
        out[n] = 0;
        out[n + 1] = 0;
        put16(out + n + 2, (uint16_t)(8 + have));
        out[n + 4] = IKE_PROTO_ESP;
        out[n + 5] = 255;
        put16(out + n + 6, (uint16_t)below(65536));
        rnd_bytes(out + n + 8, have);
        n += 8 + have;
        break;
    }
    default: { /* payload lengths 0..3 (a parser that does not advance loops) */
        n = hdr(out, t, (uint8_t)(33 + below(16)), exchanges[below(3)]);
        unsigned m = 1 + below(4);
        for (unsigned i = 0; i < m; i++) {
            out[n] = (uint8_t)(33 + below(16));
            out[n + 1] = 0;
            put16(out + n + 2, (uint16_t)below(4));
            n += 4;
        }
        break;
    }
    }
    put32(out + 24, (uint32_t)n);
    return n;
}

/* Fixes or breaks the header's Length field. */
static void set_hdr_len(uint8_t *buf, size_t len, bool fix)
{
    if (len < IKE_HDR_LEN)
        return;
    if (fix) {
        put32(buf + 24, (uint32_t)len);
        return;
    }
    static const uint32_t odd[] = {0, 1, 27, 28, 29, 0x7fffffff, 0xffffffff, 65535, 65536};
    switch (below(4)) {
    case 0:
        put32(buf + 24, odd[below(9)]);
        break;
    case 1:
        put32(buf + 24, (uint32_t)len + 1 + below(64));
        break;
    case 2:
        put32(buf + 24, (uint32_t)(len - 1 - below((uint32_t)len - 1)));
        break;
    default:
        put32(buf + 24, (uint32_t)rnd());
    }
}

/* Offsets of the generic payload headers of the plaintext chain (up to 32). */
static size_t payload_offsets(const uint8_t *buf, size_t len, size_t *offs)
{
    size_t n = 0, at = IKE_HDR_LEN;
    uint8_t next = len > 16 ? buf[16] : 0;
    while (next && at + 4 <= len && n < 32) {
        offs[n++] = at;
        size_t l = get16(buf + at + 2);
        if (next == IKE_PL_SK || l < 4)
            break;
        next = buf[at];
        at += l;
    }
    return n;
}

static size_t mutate(uint8_t *buf, size_t len)
{
    static const uint8_t bytes[] = {0, 1, 0x7f, 0x80, 0xfe, 0xff, 33, 46, 53};
    static const uint16_t words[] = {0, 1, 3, 4, 5, 7, 8, 0x7fff, 0x8000, 0xfffe, 0xffff};
    unsigned rounds = 1 + below(4);
    for (unsigned r = 0; r < rounds; r++) {
        size_t offs[32], np;
        switch (below(12)) {
        case 0: /* flip bits */
            for (unsigned i = 1 + below(8); len && i; i--)
                buf[below((uint32_t)len)] ^= (uint8_t)(1u << below(8));
            break;
        case 1: /* an interesting byte */
            if (len)
                buf[below((uint32_t)len)] = bytes[below(9)];
            break;
        case 2: /* an interesting 16-bit value */
            if (len >= 2)
                put16(buf + below((uint32_t)len - 1), words[below(11)]);
            break;
        case 3: /* a random 32-bit value */
            if (len >= 4)
                put32(buf + below((uint32_t)len - 3), (uint32_t)rnd());
            break;
        case 4: /* truncate */
            if (len)
                len = below((uint32_t)len);
            break;
        case 5: /* extend with random bytes */
        {
            size_t add = 1 + below(512);
            if (len + add <= MAXPKT) {
                rnd_bytes(buf + len, add);
                len += add;
            }
            break;
        }
        case 6: /* splice: copy a block elsewhere */
            if (len >= 8) {
                size_t from = below((uint32_t)len), to = below((uint32_t)len);
                size_t n = 1 + below(64);
                if (from + n > len)
                    n = len - from;
                if (to + n <= MAXPKT) {
                    memmove(buf + to, buf + from, n);
                    if (to + n > len)
                        len = to + n;
                }
            }
            break;
        case 7: /* exchange type */
            if (len > 18)
                buf[18] = below(2) ? (uint8_t)(33 + below(6)) : (uint8_t)rnd();
            break;
        case 8: /* flags */
            if (len > 19)
                buf[19] = below(2) ? (uint8_t)(buf[19] ^ (1u << below(8))) : (uint8_t)rnd();
            break;
        case 9: /* version, or the first payload type */
            if (len > 17)
                buf[below(2) ? 17 : 16] = below(2) ? (uint8_t)rnd() : bytes[below(9)];
            break;
        case 10: /* a payload's length */
            np = payload_offsets(buf, len, offs);
            if (np) {
                uint8_t *p = buf + offs[below((uint32_t)np)] + 2;
                uint16_t l = get16(p);
                switch (below(4)) {
                case 0:
                    put16(p, words[below(11)]);
                    break;
                case 1:
                    put16(p, (uint16_t)(l + 1 + below(16)));
                    break;
                case 2:
                    put16(p, (uint16_t)(l - 1 - below(l > 1 ? l - 1 : 1)));
                    break;
                default:
                    put16(p, (uint16_t)rnd());
                }
            }
            break;
        default: /* a payload's next-payload type or critical bit */
            np = payload_offsets(buf, len, offs);
            if (np) {
                uint8_t *p = buf + offs[below((uint32_t)np)];
                if (below(2))
                    p[0] = below(2) ? (uint8_t)(33 + below(21)) : (uint8_t)rnd();
                else
                    p[1] ^= 0x80;
            }
        }
    }
    if (len >= IKE_HDR_LEN)
        set_hdr_len(buf, len, below(2));
    return len;
}

static size_t make(enum kind k, const struct target *t, uint8_t *buf)
{
    size_t n;
    switch (k) {
    case K_RANDOM:
        n = below(3) ? below(1601) : IKE_HDR_LEN + below(64);
        rnd_bytes(buf, n);
        return n;
    case K_RANDOM_HDR:
        n = IKE_HDR_LEN + below(1200);
        rnd_bytes(buf, n);
        hdr(buf, t, (uint8_t)(below(2) ? 33 + below(21) : rnd()), (uint8_t)(33 + below(6)));
        set_hdr_len(buf, n, below(4) != 0);
        return n;
    case K_SA_INIT:
        return sa_init(buf);
    case K_SA_INIT_MUT:
        return mutate(buf, sa_init(buf));
    case K_SA_MSG:
        return sa_msg(t, buf);
    case K_SA_MSG_MUT:
        return mutate(buf, sa_msg(t, buf));
    case K_SA_PLAIN:
        return sa_plain(t, buf);
    case K_HUGE:
        n = huge(t, buf);
        return below(4) ? n : mutate(buf, n);
    default: /* K_LENGTH: a truncated or length-broken valid message */
        n = t->have_sa && below(2) ? sa_msg(t, buf) : sa_init(buf);
        if (below(2)) {
            n = below((uint32_t)n);
            if (below(2))
                set_hdr_len(buf, n, true);
        } else {
            set_hdr_len(buf, n, false);
        }
        return n;
    }
}

static enum kind pick_kind(const struct target *t)
{
    for (;;) {
        unsigned r = below(100);
        enum kind k = r < 10   ? K_RANDOM
                      : r < 20 ? K_RANDOM_HDR
                      : r < 22 ? K_SA_INIT
                      : r < 45 ? K_SA_INIT_MUT
                      : r < 50 ? K_SA_MSG
                      : r < 73 ? K_SA_MSG_MUT
                      : r < 75 ? K_SA_PLAIN
                      : r < 87 ? K_HUGE
                               : K_LENGTH;
        if (t->have_sa || (k != K_SA_MSG && k != K_SA_MSG_MUT && k != K_SA_PLAIN))
            return k;
    }
}

static int parse_spis(const char *s, struct target *t)
{
    unsigned v;
    if (strlen(s) != 33 || s[16] != '_')
        return -1;
    for (int i = 0; i < 16; i++) {
        if (sscanf(s + 2 * i + (i >= 8), "%2x", &v) != 1)
            return -1;
        (i < 8 ? t->spi_i : t->spi_r)[i % 8] = (uint8_t)v;
    }
    t->have_sa = true;
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: ike_mutator -t ADDR -p PORT -n COUNT -s SEED [-S SPII_SPIR] [-m MSGID]\n"
            "                   [-f FLAGS] [-M|-N] [-b BURST] [-k INDEX] [-x] [-q]\n");
}

int main(int argc, char **argv)
{
    const char *addr = NULL;
    unsigned long port = 0, count = 0, burst = 16, only = (unsigned long)-1;
    unsigned long long seed = 0;
    int marker = -1, opt;
    bool hex = false, quiet = false;
    struct target t = {.flags = IKE_FLAG_INITIATOR, .msgid = 2};
    while ((opt = getopt(argc, argv, "t:p:n:s:S:m:f:MNb:k:xq")) != -1) {
        switch (opt) {
        case 't':
            addr = optarg;
            break;
        case 'p':
            port = strtoul(optarg, NULL, 0);
            break;
        case 'n':
            count = strtoul(optarg, NULL, 0);
            break;
        case 's':
            seed = strtoull(optarg, NULL, 0);
            break;
        case 'S':
            if (parse_spis(optarg, &t)) {
                fprintf(stderr, "ike_mutator: -S wants SPIi_SPIr, 16 hex digits each\n");
                return 2;
            }
            break;
        case 'm':
            t.msgid = (uint32_t)strtoul(optarg, NULL, 0);
            break;
        case 'f':
            t.flags = (uint8_t)strtoul(optarg, NULL, 0);
            break;
        case 'M':
            marker = 1;
            break;
        case 'N':
            marker = 0;
            break;
        case 'b':
            burst = strtoul(optarg, NULL, 0);
            break;
        case 'k':
            only = strtoul(optarg, NULL, 0);
            break;
        case 'x':
            hex = true;
            break;
        case 'q':
            quiet = true;
            break;
        default:
            usage();
            return 2;
        }
    }
    if (!addr || !port || port > 65535 || !count || optind != argc) {
        usage();
        return 2;
    }
    if (marker < 0)
        marker = port == 4500;
    rng_state = seed * 0x9e3779b97f4a7c15ULL + 0x1234567;
    if (!rng_state)
        rng_state = 1;

    struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST}, *ai;
    char portstr[8];
    snprintf(portstr, sizeof(portstr), "%lu", port);
    if (getaddrinfo(addr, portstr, &hints, &ai)) {
        fprintf(stderr, "ike_mutator: bad address %s\n", addr);
        return 2;
    }
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen)) {
        perror("ike_mutator: socket");
        return 1;
    }
    freeaddrinfo(ai);

    static uint8_t pkt[4 + MAXPKT], rx[65536];
    unsigned long sent = 0, replies = 0, errors = 0, by_kind[K__COUNT] = {0};
    for (unsigned long i = 0; i < count; i++) {
        enum kind k = pick_kind(&t);
        size_t n = make(k, &t, pkt + 4);
        bool bare = !marker || !below(32);
        if (only != (unsigned long)-1 && i != only)
            continue;
        const uint8_t *p = bare ? pkt + 4 : pkt;
        size_t len = bare ? n : n + 4;
        if (!bare)
            memset(pkt, 0, 4);
        if (hex) {
            printf("# %lu %s %zu octets\n", i, kind_names[k], len);
            for (size_t j = 0; j < len; j++)
                printf("%02x%s", p[j], (j + 1) % 32 && j + 1 < len ? "" : "\n");
        }
        by_kind[k]++;
        for (;;) {
            if (send(fd, p, len, 0) >= 0) {
                sent++;
                break;
            }
            if (errno == EAGAIN || errno == ENOBUFS) {
                nanosleep(&(struct timespec){.tv_nsec = 200000}, NULL);
                continue;
            }
            errors++; /* ECONNREFUSED from an earlier ICMP error, EMSGSIZE: go on */
            break;
        }
        while (recv(fd, rx, sizeof(rx), 0) >= 0)
            replies++;
        if (burst && sent % burst == 0)
            nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
    /* Answers still on their way. */
    nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
    while (recv(fd, rx, sizeof(rx), 0) >= 0)
        replies++;
    close(fd);
    if (!quiet) {
        printf("sent %lu to %s port %lu%s (", sent, addr, port,
               marker ? " with non-ESP marker" : "");
        for (int k = 0; k < K__COUNT; k++)
            printf("%s%s %lu", k ? ", " : "", kind_names[k], by_kind[k]);
        printf("), %lu replies, %lu send errors\n", replies, errors);
    }
    return 0;
}
