/*
 * Drives a responder engine's message handling: the input is a sequence of
 * datagrams (2-octet length prefix each) from one peer, delivered in order with
 * the clock advancing between them, so half-open SAs, cached responses, timers and
 * every drop path are reached. Nothing may crash, leak or trip a sanitizer.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "crypto/crypto.h"
#include "ike/engine.h"

static const char conf_text[] =
    "daemon = { cookie_threshold = 2; };\n"
    "connections = { gw = {\n"
    "  remote_addrs = \"%any\";\n"
    "  local = { auth = \"psk\"; id = \"gw.example.net\"; };\n"
    "  remote = { auth = \"psk\"; id = \"%any\"; };\n"
    "  psk = \"fuzzing psk fuzzing psk\";\n"
    "  ike = [\"aes256gcm16-prfsha256-x25519-ecp256\", \"aes128-sha256-modp2048\"];\n"
    "  children = { lan = { local_ts = \"10.2.0.0/16\"; remote_ts = \"0.0.0.0/0\"; }; };\n"
    "}; };\n";

struct fuzz_ctx {
    uint64_t now;
    size_t sent;
};

static uint64_t f_now(void *arg)
{
    return ((struct fuzz_ctx *)arg)->now;
}

static void f_send(void *arg, const struct sockaddr_storage *l, const struct sockaddr_storage *r,
                   const uint8_t *buf, size_t len)
{
    (void)l, (void)r, (void)buf, (void)len;
    ((struct fuzz_ctx *)arg)->sent++;
}

static void addr(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
    struct sockaddr_in *s = (struct sockaddr_in *)ss;
    memset(ss, 0, sizeof(*ss));
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    inet_pton(AF_INET, ip, &s->sin_addr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Config and crypto are rebuilt per input: no state may leak between runs. */
    struct hk_crypto crypto;
    struct hk_config *cfg = NULL;
    char err[256];
    struct fuzz_ctx fc = {.now = 1000};
    struct ike_engine e;
    struct sockaddr_storage local, remote;
    if (hk_crypto_init(&crypto))
        abort();
    if (hk_config_load_string(conf_text, &cfg, err, sizeof(err)))
        abort();
    struct ike_engine_ops ops = {.arg = &fc, .now = f_now, .send = f_send};
    if (ike_engine_init(&e, &crypto, NULL, cfg, &ops))
        abort();
    addr(&local, "192.0.2.2", 500);
    addr(&remote, "192.0.2.1", 500);
    while (size >= 2) {
        size_t len = (size_t)data[0] << 8 | data[1];
        data += 2;
        size -= 2;
        if (len > size)
            len = size;
        ike_engine_recv(&e, &local, &remote, data, len);
        data += len;
        size -= len;
        fc.now += 700;
        ike_engine_tick(&e);
    }
    fc.now += 3600 * 1000;
    ike_engine_tick(&e);
    ike_engine_free(&e);
    hk_config_free(cfg);
    hk_crypto_free(&crypto);
    return 0;
}
