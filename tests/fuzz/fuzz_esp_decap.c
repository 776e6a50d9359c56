/*
 * Fuzzes inbound ESP: SPI peek, replay window, decapsulation and the inner header parse,
 * as the data plane runs them on every packet from the network. Byte 0 picks the suite
 * (GCM, ChaCha20-Poly1305, CBC+HMAC) and ESN; byte 1 selects a mode: odd seals the rest as
 * a payload with a known key first (so the padding and next-header checks are reached),
 * even feeds it as a received packet.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/alg.h"
#include "crypto/crypto.h"
#include "esp/esp_packet.h"
#include "esp/replay.h"
#include "esp/spd.h"

struct fuzz_state {
    struct hk_crypto crypto;
    struct hk_esp_sa_crypto sa[6];
};

static struct fuzz_state *state(void)
{
    /* libFuzzer runs in one process: the keyed contexts are made once. */
    static struct fuzz_state s;
    static int ready;
    if (!ready) {
        static const uint8_t ek[36] = {1, 2, 3}, ik[32] = {4, 5, 6};
        if (hk_crypto_init(&s.crypto))
            abort();
        for (int esn = 0; esn < 2; esn++)
            if (hk_esp_sa_crypto_init(&s.sa[0 + esn], &s.crypto, 0x1234, esn, HK_ENCR_AES_GCM_16,
                                      256, HK_AUTH_NONE, ek, 36, NULL, 0) ||
                hk_esp_sa_crypto_init(&s.sa[2 + esn], &s.crypto, 0x1234, esn,
                                      HK_ENCR_CHACHA20_POLY1305, 0, HK_AUTH_NONE, ek, 36, NULL,
                                      0) ||
                hk_esp_sa_crypto_init(&s.sa[4 + esn], &s.crypto, 0x1234, esn, HK_ENCR_AES_CBC, 128,
                                      HK_AUTH_HMAC_SHA2_256_128, ek, 16, ik, 32))
                abort();
        ready = 1;
    }
    return &s;
}

static void receive(struct hk_esp_sa_crypto *sa, bool esn, uint8_t *pkt, size_t len)
{
    struct hk_replay w;
    uint32_t spi, seq_lo;
    uint64_t seq;
    const uint8_t *inner;
    size_t ilen;
    uint8_t nh;
    struct hk_pkt_sel sel;
    if (hk_replay_init(&w, 64, esn))
        abort();
    if (!hk_esp_peek_spi(pkt, len, &spi, &seq_lo) && !hk_replay_check(&w, seq_lo, &seq) &&
        !hk_esp_decap(sa, seq, pkt, len, &inner, &ilen, &nh)) {
        hk_replay_update(&w, seq);
        hk_pkt_sel_parse(inner, ilen, &sel);
    }
    hk_replay_free(&w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[8192];
    struct fuzz_state *s = state();
    if (size < 2 || size > 4096)
        return 0;
    bool esn = data[0] & 1;
    struct hk_esp_sa_crypto *sa = &s->sa[(data[0] >> 1) % 3 * 2 + esn];
    if (data[1] & 1) {
        size_t len;
        uint64_t seq = 1 + (data[1] >> 1);
        if (hk_esp_encap(sa, seq, data[1] >> 4, data + 2, size - 2, 0, buf, sizeof(buf), &len))
            return 0;
        receive(sa, esn, buf, len);
    } else {
        memcpy(buf, data + 2, size - 2);
        receive(sa, esn, buf, size - 2);
    }
    return 0;
}
