/*
 * Fuzzes SK unprotection. Random bytes almost never pass an ICV, so two modes:
 * byte 0 even: the input is a whole message, decoded and opened as received;
 * byte 0 odd: the rest is sealed as SK content with a known key (its last byte
 * acting as the pad length, often wrong), then opened and its inner chain decoded,
 * which drives the padding checks and the inner payload decoder.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "crypto/alg.h"
#include "crypto/crypto.h"
#include "crypto/sk_cipher.h"
#include "ike/sk_msg.h"

struct fuzz_state {
    struct hk_crypto crypto;
    struct hk_sk_cipher *gcm;
    struct hk_sk_cipher *cbc;
};

static struct fuzz_state *state(void)
{
    /* libFuzzer calls us in one process; the keys are set up once. */
    static struct fuzz_state s;
    static int ready;
    if (!ready) {
        static const uint8_t key[36] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        static const uint8_t ikey[32] = {9, 8, 7};
        if (hk_crypto_init(&s.crypto) ||
            hk_sk_cipher_new(&s.crypto, HK_ENCR_AES_GCM_16, 256, HK_AUTH_NONE, key, 36, NULL, 0,
                             &s.gcm) ||
            hk_sk_cipher_new(&s.crypto, HK_ENCR_AES_CBC, 128, HK_AUTH_HMAC_SHA2_256_128, key, 16,
                             ikey, 32, &s.cbc))
            abort();
        ready = 1;
    }
    return &s;
}

static void open_message(struct hk_sk_cipher *c, const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    struct hk_arena a;
    struct ike_msg msg;
    struct hk_diag d = {0};
    memcpy(buf, data, size);
    hk_arena_init(&a, 1 << 20);
    if (ike_msg_decode(buf, size, &msg, &a, &d) == 0 && msg.npayloads) {
        uint8_t last = msg.payloads[msg.npayloads - 1].type;
        struct ike_view chunk;
        if (last == IKE_PL_SK)
            ike_sk_open(c, buf, size, &msg, &a, &d);
        else if (last == IKE_PL_SKF)
            ike_skf_open(c, buf, size, &msg, &chunk, &d);
    }
    hk_arena_free(&a);
    free(buf);
}

static void seal_then_open(struct hk_sk_cipher *c, const uint8_t *data, size_t size)
{
    /* Header with a valid length is written by the codec; the content is raw fuzz bytes. */
    size_t iv = hk_sk_cipher_iv_len(c), icv = hk_sk_cipher_icv_len(c);
    size_t block = hk_sk_cipher_block_len(c);
    size_t ct = size ? size : 1;
    if (block > 1)
        ct = (ct + block - 1) / block * block;
    size_t body_len = iv + ct + icv;
    uint8_t *body = calloc(1, body_len);
    memcpy(body + iv, data, size);
    struct ike_payload pl = {.type = IKE_PL_SK};
    pl.u.sk.first_inner = size ? data[0] : 0;
    pl.u.sk.body = (struct ike_view){body, body_len};
    struct ike_msg m = {.hdr = {.version = 0x20, .exchange = IKE_AUTH, .flags = IKE_FLAG_INITIATOR},
                        .npayloads = 1,
                        .payloads = &pl};
    struct hk_cbb out;
    hk_cbb_init(&out, 0, 0);
    if (ike_msg_encode(&m, &out) == 0) {
        size_t off = out.len - body_len;
        if (hk_sk_cipher_seal(c, out.buf, off, out.buf + off, out.buf + off + iv, ct,
                              out.buf + off + iv + ct) == 0)
            open_message(c, out.buf, out.len);
    }
    hk_cbb_free(&out);
    free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_state *s = state();
    if (size < 2)
        return 0;
    struct hk_sk_cipher *c = (data[0] & 2) ? s->cbc : s->gcm;
    if (data[0] & 1)
        seal_then_open(c, data + 1, size - 1);
    else
        open_message(c, data + 1, size - 1);
    return 0;
}
