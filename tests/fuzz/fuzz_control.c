/*
 * Fuzzes the control protocol's request handling (hiked_control_run: JSON parsing, command
 * and field checks, every handler) against a daemon state with SAs in it: hiked's engine
 * (initiator) has an established IKE SA with a Child SA to a responder engine and a half-made
 * one. The input is up to 8 requests, one a line, run in order with the network running
 * between them, so initiate/terminate/rekey act on what earlier lines made. Every reply must
 * be an object with a boolean "ok" that serialises as the socket would send it.
 * hiked.c is not linked (its main); hiked_kick and hiked_reload are the harness's own below.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/control_internal.h"
#include "fw_world.h"

#define PSK "0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static const char hiked_conf[] =
    "connections = {\n"
    "  gw = { remote_addrs = \"192.0.2.2\";\n"
    "    local = { auth = \"psk\"; id = \"alice.example.net\"; };\n"
    "    remote = { auth = \"psk\"; id = \"gw.example.net\"; };\n"
    "    psk = \"" PSK "\"; ike = [\"aes128gcm16-prfsha256-x25519\"];\n"
    "    children = { lan = { local_ts = \"10.1.0.0/16\"; remote_ts = \"10.2.0.0/16\"; };\n"
    "                 web = { local_ts = \"10.1.0.0/16\"; remote_ts = \"10.3.0.0/24[tcp/443]\"; }; "
    "};\n"
    "  };\n"
    "  silent = { remote_addrs = \"192.0.2.9\";\n"
    "    local = { auth = \"psk\"; }; remote = { auth = \"psk\"; }; psk = \"" PSK "\";\n"
    "    children = { any = { remote_ts = \"0.0.0.0/0\"; }; };\n"
    "  };\n"
    "};\n";

static const char resp_conf[] =
    "connections = { gw = { remote_addrs = \"%any\";\n"
    "  local = { auth = \"psk\"; id = \"gw.example.net\"; };\n"
    "  remote = { auth = \"psk\"; id = \"%any\"; };\n"
    "  psk = \"" PSK "\"; ike = [\"aes128gcm16-prfsha256-x25519\"];\n"
    "  children = { lan = { local_ts = \"10.2.0.0/16\"; remote_ts = \"10.1.0.0/16\"; };\n"
    "               web = { local_ts = \"10.3.0.0/16\"; remote_ts = \"10.1.0.0/16\"; }; };\n"
    "}; };\n";

void hiked_kick(struct hiked *d)
{
    ike_engine_tick(&d->engine);
}

/* The configuration file is the same text again: a reload swaps in a new copy of it. */
int hiked_reload(struct hiked *d, char *err, size_t errlen)
{
    struct hk_config *n = NULL;
    int rc = hk_config_load_string(hiked_conf, &n, err, errlen);
    if (rc)
        return rc;
    struct hk_config *old = d->cfg;
    d->cfg = n;
    ike_engine_set_config(&d->engine, n);
    hk_config_free(old);
    return 0;
}

static void quiet(void *arg, enum hk_log_level lvl, const char *line)
{
    (void)arg, (void)lvl, (void)line;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hiked d; /* large (receive batch and sockets): not on the stack */
    struct fw_world w;
    struct hiked_control_stats stats = {0};
    char err[256];
    memset(&d, 0, sizeof(d));
    fw_world_init(&w);
    struct fw_peer *me = fw_peer_shell(&w, "192.0.2.1", &d.engine);
    fw_peer_add(&w, "192.0.2.2", resp_conf);
    hk_log_init(&d.log, HK_LOG_DEBUG, NULL);
    d.log.sink = quiet; /* every line formatted, none printed */
    d.config_path = "/etc/hike/hiked.conf";
    if (hk_config_load_string(hiked_conf, &d.cfg, err, sizeof(err)))
        abort();
    struct ike_engine_ops ops;
    fw_ops(me, &ops);
    if (ike_engine_init(&d.engine, fw_crypto(), &d.log, d.cfg, &ops))
        abort();
    ike_engine_initiate(&d.engine, "gw", NULL);
    fw_pump(&w, 8);
    ike_engine_initiate(&d.engine, "silent", NULL); /* never answered: stays half-made */

    for (int n = 0; n < 8 && size; n++) {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t len = nl ? (size_t)(nl - data) : size;
        char *req = malloc(len ? len : 1); /* exactly the request, for ASan */
        if (!req)
            abort();
        memcpy(req, data, len);
        json_t *reply = hiked_control_run(&d, &stats, 1000, req, len);
        free(req);
        if (!json_is_object(reply) || !json_is_boolean(json_object_get(reply, "ok")))
            abort();
        char *text = json_dumps(reply, JSON_COMPACT);
        if (!text)
            abort();
        if (getenv("FUZZ_VERBOSE"))
            fprintf(stderr, "%s\n", text);
        free(text);
        json_decref(reply);
        data += len + (nl ? 1 : 0);
        size -= len + (nl ? 1 : 0);
        fw_pump(&w, 8);
        fw_advance(&w, 2000);
        fw_check(&d.engine);
    }
    if (stats.requests == 0 && stats.errors)
        abort();
    ike_engine_free(&d.engine);
    hk_config_free(d.cfg);
    fw_world_free(&w);
    return 0;
}
