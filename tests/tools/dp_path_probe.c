/*
 * dp_path_probe: the userspace data plane's `update` on the wire, for tests/net/hike_dp_path.sh.
 * Run it in a network namespace of its own. It opens the userspace plane (TUN "hkpath%d"),
 * installs one Child SA (10.1.0.0/16 === 10.2.0.0/16, AES-GCM, raw ESP) from LOCAL to
 * REMOTE_A and prints "READY"; after SWITCH_MS it moves the SA to REMOTE_B through the
 * backend's update op (what hiked does when an IKE SA is rekeyed, moved by MOBIKE or handed
 * over) and prints "MOVED"; after TOTAL_MS it prints "OUT <packets sent>" and exits.
 *
 *   dp_path_probe LOCAL REMOTE_A REMOTE_B SWITCH_MS TOTAL_MS
 */
#include <arpa/inet.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "crypto/alg.h"
#include "crypto/crypto.h"
#include "esp/dp_user.h"

struct probe {
    struct event_base *base;
    struct hk_dataplane *dp;
    struct hk_dp_id c;
    struct hk_dp_path to;
};

static int v4(const char *s, uint16_t port, struct sockaddr_storage *out)
{
    struct sockaddr_in *a = (struct sockaddr_in *)out;
    memset(out, 0, sizeof(*out));
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    return inet_pton(AF_INET, s, &a->sin_addr) == 1 ? 0 : -1;
}

/* Raw ESP only: the ESP in UDP sender is hiked's, not this probe's. */
static void no_udp(void *arg, const struct sockaddr_storage *l, const struct sockaddr_storage *r,
                   const struct iovec *pkts, size_t n, size_t seg)
{
    (void)arg, (void)l, (void)r, (void)pkts, (void)n, (void)seg;
}

static void on_switch(evutil_socket_t fd, short what, void *arg)
{
    struct probe *p = arg;
    (void)fd, (void)what;
    int rc = p->dp->ops->update(p->dp, &p->c, &p->to);
    printf(rc ? "MOVE-FAILED %d\n" : "MOVED\n", rc);
    fflush(stdout);
}

static void on_end(evutil_socket_t fd, short what, void *arg)
{
    struct probe *p = arg;
    (void)fd, (void)what;
    struct hk_dp_child_stats st = {0};
    p->dp->ops->child_stats(p->dp, &p->c, &st);
    printf("OUT %llu\n", (unsigned long long)st.packets_out);
    fflush(stdout);
    event_base_loopbreak(p->base);
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: dp_path_probe LOCAL REMOTE_A REMOTE_B SWITCH_MS TOTAL_MS\n");
        return 2;
    }
    struct probe p = {0};
    struct hk_dp_path from = {0}; /* raw ESP on port 500 addresses: no UDP */
    if (v4(argv[1], 500, &from.local) || v4(argv[2], 500, &from.remote) ||
        v4(argv[1], 500, &p.to.local) || v4(argv[3], 500, &p.to.remote)) {
        fprintf(stderr, "bad address\n");
        return 2;
    }
    long sw = atol(argv[4]), total = atol(argv[5]);
    struct hk_crypto crypto;
    struct hk_log log;
    hk_log_init(&log, HK_LOG_INFO, stderr);
    p.base = event_base_new();
    if (!p.base || hk_crypto_init(&crypto))
        return 1;
    struct hk_dp_user_conf conf = {.ifname = "hkpath%d", .send_udp = no_udp};
    p.dp = hk_dp_user_new(p.base, &crypto, &log, &conf);
    if (!p.dp)
        return 1;

    static const uint8_t kir[20] = "0123456789abcdefghij", kri[20] = "ABCDEFGHIJ9876543210";
    struct ike_ts ts[2];
    for (int i = 0; i < 2; i++)
        ts[i] = (struct ike_ts){.type = IKE_TS_IPV4_ADDR_RANGE,
                                .end_port = 65535,
                                .start_addr = {10, (uint8_t)(i + 1), 0, 0},
                                .end_addr = {10, (uint8_t)(i + 1), 255, 255}};
    /* We initiated it: the ir key protects what we send (RFC 7296 2.17). */
    p.c = (struct hk_dp_id){.child = 7, .spi_in = 0x1001, .spi_out = 0x2002};
    struct hk_dp_child desc = {.id = p.c,
                               .name = "probe",
                               .initiator = true,
                               .encr = HK_ENCR_AES_GCM_16,
                               .encr_key_bits = 128,
                               .in = {.encr = kri, .encr_len = sizeof(kri)},
                               .out = {.encr = kir, .encr_len = sizeof(kir)},
                               .path = from,
                               .ts_local = &ts[0],
                               .ts_remote = &ts[1],
                               .nts_local = 1,
                               .nts_remote = 1,
                               .replay_window = 1024};
    int rc = p.dp->ops->install(p.dp, &desc, NULL);
    if (rc) {
        fprintf(stderr, "install: %s\n", hk_strerror(rc));
        return 1;
    }
    printf("READY\n");
    fflush(stdout);
    struct timeval tsw = {sw / 1000, sw % 1000 * 1000}, tend = {total / 1000, total % 1000 * 1000};
    struct event *e1 = evtimer_new(p.base, on_switch, &p), *e2 = evtimer_new(p.base, on_end, &p);
    evtimer_add(e1, &tsw);
    evtimer_add(e2, &tend);
    event_base_dispatch(p.base);
    event_free(e1);
    event_free(e2);
    p.dp->ops->remove(p.dp, &p.c);
    p.dp->ops->destroy(p.dp);
    hk_crypto_free(&crypto);
    event_base_free(p.base);
    return 0;
}
