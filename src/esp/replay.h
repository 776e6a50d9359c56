/*
 * ESP anti-replay window (RFC 4303 3.4.3) with optional Extended Sequence Numbers
 * (RFC 4303 Appendix A2). Built for the inbound hot path and for many idle SAs: the
 * bitmap is allocated by the first hk_replay_update() (or hk_replay_set_top()), so an SA
 * that never receives holds none; after that, check and update never allocate.
 *
 * Use, per inbound packet, after the SA lookup:
 *   1. hk_replay_check(w, seq_lo, &seq)  -- before the ICV; infers the 64-bit number
 *      (needed for the ICV when ESN is on) and rejects duplicates and old packets;
 *   2. verify the ICV with seq;
 *   3. hk_replay_update(w, seq)          -- only once the ICV verified.
 *
 * Result codes (err.h has no replay-specific codes):
 *   HK_OK        could be accepted (sequence number is in the window and unseen, or
 *                to the right of it);
 *   HK_E_EXISTS  duplicate: already received and authenticated inside the window;
 *   HK_E_STATE   never acceptable: left of the window (too old), the sequence number
 *                0 (RFC 4303 3.3.3: the first packet carries 1), or a value past the
 *                counter's end (no rollover: 2^32-1 without ESN, 2^64-1 with ESN).
 *   HK_E_NOMEM   from the first hk_replay_update() or hk_replay_set_top(): no memory
 *                for the bitmap; the window is unchanged and the caller drops the packet.
 *   HK_E_INVALID from hk_replay_init() and hk_replay_set_top() only.
 *
 * Not thread-safe: one window belongs to one SA owned by one thread.
 */
#ifndef HIKE_ESP_REPLAY_H
#define HIKE_ESP_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HK_REPLAY_DEFAULT_SIZE 1024u
#define HK_REPLAY_MAX_SIZE     65536u

struct hk_replay {
    uint64_t *bits; /* ring of 64-bit words, bit (s mod 64*nwords) for sequence number s;
                       NULL until the first update: nothing received, nothing to remember */
    uint64_t top;   /* T: highest authenticated sequence number, 0 before any */
    uint32_t size;  /* W: packets in the window */
    uint16_t mask;  /* nwords - 1; nwords is a power of two > size / 64 (at most 2048) */
    bool esn;
};

/*
 * size: a multiple of 64 from 64 to 65536, or 0 for the default (1024). Anything
 * else is HK_E_INVALID. The window starts empty with T = 0 and allocates nothing.
 */
int hk_replay_init(struct hk_replay *w, uint32_t size, bool esn);
void hk_replay_free(struct hk_replay *w);

/*
 * Preliminary check of a received packet's Sequence Number field (RFC 4303 3.4.3).
 * *seq_out gets the full sequence number: seq_lo without ESN; with ESN the high-order
 * 32 bits are inferred from the window (Appendix A2.2), i.e. the one value that is
 * congruent to seq_lo mod 2^32 and lies in [B, B + 2^32) where B = T - W + 1 is the
 * window's bottom (B is taken as 0 while T < W - 1: no number below 0 exists, where
 * the appendix's Th - 1 would underflow). *seq_out is set on every result; changes
 * nothing.
 */
int hk_replay_check(const struct hk_replay *w, uint32_t seq_lo, uint64_t *seq_out);

/*
 * Marks seq (from hk_replay_check) as authenticated, sliding the window if seq > T.
 * Call only after the ICV verified. Returns HK_OK when seq was newly marked. If two
 * copies of one packet passed the check before either was marked (batched or
 * pipelined processing), the second update returns HK_E_EXISTS and the caller must
 * drop that copy; HK_E_STATE likewise if the window moved past seq meanwhile;
 * HK_E_NOMEM when the first update cannot allocate the bitmap. The window is unchanged
 * on error.
 */
int hk_replay_update(struct hk_replay *w, uint64_t seq);

/* T: the highest authenticated sequence number (0 before any), for RFC 6311 sync. */
uint64_t hk_replay_window_top(const struct hk_replay *w);
uint32_t hk_replay_window_size(const struct hk_replay *w);
/* Octets of the bitmap held now: 0 before the first update. */
size_t hk_replay_bitmap_bytes(const struct hk_replay *w);

/*
 * Restarts the window at top with every number up to top counted as received (a
 * conservative take-over when the old owner's bitmap is not known, RFC 6311):
 * only numbers above top are accepted afterwards. HK_E_INVALID for a top above
 * 2^32-1 without ESN, HK_E_NOMEM (window unchanged) when the bitmap cannot be allocated.
 */
int hk_replay_set_top(struct hk_replay *w, uint64_t top);

/*
 * The window as plain data, to move it to another process or node: *top = T, and bit j of
 * bits (word j / 64, bit j % 64) tells whether sequence number T - j was received, for
 * j < W (hk_replay_window_size). bits holds W / 64 words. The in-memory ring is not exported:
 * its layout is this file's business.
 */
void hk_replay_export(const struct hk_replay *w, uint64_t *top, uint64_t *bits);
/*
 * Sets the window (of an initialised hk_replay, same W) to an exported one. HK_E_INVALID for a
 * top above 2^32-1 without ESN, HK_E_NOMEM (window unchanged) without memory for the bitmap.
 */
int hk_replay_import(struct hk_replay *w, uint64_t top, const uint64_t *bits);

#endif
