#include "esp/dataplane.h"

#include "ike/ts.h"

#include <stdlib.h>

static int log_install(struct hk_dataplane *dp, const struct ike_sa *sa, const struct child_sa *c,
                       const struct hk_esp_state *initial)
{
    char l[96], r[96], alg[128];
    (void)sa;
    dp->installed++;
    hk_info(dp->log, "dataplane(log): would install ESP SA in %08x out %08x %s === %s (%s, %s%s)",
            c->spi_in, c->spi_out, ike_ts_format(&c->ts_local[0], l, sizeof(l)),
            ike_ts_format(&c->ts_remote[0], r, sizeof(r)),
            ike_chosen_format(&c->chosen, alg, sizeof(alg)), c->transport ? "transport" : "tunnel",
            initial ? ", continuing a moved SA" : "");
    return 0;
}

static void log_remove(struct hk_dataplane *dp, const struct child_sa *c)
{
    dp->removed++;
    hk_info(dp->log, "dataplane(log): would remove ESP SA in %08x out %08x", c->spi_in, c->spi_out);
}

static int log_update(struct hk_dataplane *dp, const struct child_sa *c, const struct hk_dp_path *p)
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
