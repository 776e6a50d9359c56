#include "esp/dataplane.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

/* "10.1.0.0-10.1.255.255" (addresses only: the log shows where the SA leads). */
static const char *range(const struct ike_ts *ts, size_t n, char *buf, size_t len)
{
    char a[INET6_ADDRSTRLEN] = "?", b[INET6_ADDRSTRLEN] = "?";
    if (n) {
        int af = ts->type == IKE_TS_IPV6_ADDR_RANGE ? AF_INET6 : AF_INET;
        inet_ntop(af, ts->start_addr, a, sizeof(a));
        inet_ntop(af, ts->end_addr, b, sizeof(b));
    }
    snprintf(buf, len, "%s-%s%s", a, b, n > 1 ? ",..." : "");
    return buf;
}

static int log_install(struct hk_dataplane *dp, const struct hk_dp_child *c,
                       const struct hk_esp_state *initial)
{
    char l[112], r[112];
    dp->installed++;
    hk_info(dp->log,
            "dataplane(log): would install ESP SA %s in %08x out %08x %s === %s (encr %u/%u, "
            "integ %u%s, %s%s)",
            c->name ? c->name : "?", c->id.spi_in, c->id.spi_out,
            range(c->ts_local, c->nts_local, l, sizeof(l)),
            range(c->ts_remote, c->nts_remote, r, sizeof(r)), c->encr, c->encr_key_bits, c->integ,
            c->esn ? ", esn" : "", c->transport ? "transport" : "tunnel",
            initial ? ", continuing a moved SA" : "");
    return 0;
}

static void log_remove(struct hk_dataplane *dp, const struct hk_dp_id *c)
{
    dp->removed++;
    hk_info(dp->log, "dataplane(log): would remove ESP SA in %08x out %08x", c->spi_in, c->spi_out);
}

static int log_update(struct hk_dataplane *dp, const struct hk_dp_id *c, const struct hk_dp_path *p)
{
    hk_info(dp->log, "dataplane(log): would move ESP SA in %08x out %08x (%s)", c->spi_in,
            c->spi_out, p->udp ? "ESP in UDP" : "ESP");
    return 0;
}

static void log_esp_in(struct hk_dataplane *dp, const uint8_t *buf, size_t len)
{
    (void)buf;
    dp->esp_dropped++;
    hk_debug(dp->log, "dataplane(log): dropped %zu-octet ESP packet (no ESP data plane)", len);
}

static void log_destroy(struct hk_dataplane *dp)
{
    free(dp);
}

static const struct hk_dataplane_ops log_ops = {
    .name = "log",
    .install = log_install,
    .update = log_update,
    .remove = log_remove,
    .esp_in = log_esp_in,
    .destroy = log_destroy,
};

struct hk_dataplane *hk_dataplane_log_new(const struct hk_log *log)
{
    struct hk_dataplane *dp = calloc(1, sizeof(*dp));
    if (dp) {
        dp->ops = &log_ops;
        dp->log = log;
    }
    return dp;
}
