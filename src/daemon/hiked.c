/* hiked: the IKEv2 daemon. Foreground process, logs on stderr (systemd keeps them). */
#include "daemon/hiked.h"

#include "common/err.h"
#include "daemon/control.h"
#include "daemon/privdrop.h"
#include "esp/dp_user.h"
#include "esp/dp_xfrm.h"
#include "ike/dp_desc.h"
#include "ike/keylog.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define HIKED_VERSION        "0.1"
#define HIKED_DEFAULT_CONFIG "/etc/hike/hiked.conf"
/* On SIGTERM, how long DELETE requests may wait for their answers. */
#define SHUTDOWN_GRACE_MS 2000

static uint64_t now_ms(void *arg)
{
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    hiked_kick(arg);
}

void hiked_kick(struct hiked *d)
{
    uint64_t next = ike_engine_tick(&d->engine);
    if (d->stopping && !ike_engine_sa_count(&d->engine)) {
        event_base_loopexit(d->base, NULL);
        return;
    }
    evtimer_del(d->timer);
    if (next == UINT64_MAX)
        return;
    uint64_t now = now_ms(NULL), wait = next > now ? next - now : 0;
    struct timeval tv = {.tv_sec = (time_t)(wait / 1000),
                         .tv_usec = (suseconds_t)(wait % 1000) * 1000};
    evtimer_add(d->timer, &tv);
}

/* Debugging aid (daemon.keylog_dir): keys in Wireshark's decryption-table files. */
static void keylog_write(struct hiked *d, const char *table, const char *text)
{
    char err[512] = "";
    if (hk_keylog_write(d->cfg->daemon.keylog_dir, table, text, err, sizeof(err)))
        hk_warn(&d->log, "keylog: %s", err);
}

static void ike_up(void *arg, const struct ike_sa *sa)
{
    struct hiked *d = arg;
    char line[HK_KEYLOG_MAXLINE];
    if (d->cfg->daemon.keylog_dir && !hk_keylog_ike_line(sa, line, sizeof(line)))
        keylog_write(d, "ikev2_decryption_table", line);
}

static int dp_up(void *arg, const struct ike_sa *sa, const struct child_sa *c)
{
    struct hiked *d = arg;
    char lines[2 * HK_KEYLOG_MAXLINE];
    if (d->cfg->daemon.keylog_dir && !hk_keylog_esp_lines(sa, c, NULL, NULL, lines, sizeof(lines)))
        keylog_write(d, "esp_sa", lines);
    struct hk_dp_child desc;
    ike_child_dp_desc(sa, c, &desc);
    return d->dp->ops->install(d->dp, &desc, NULL);
}

/* A Child SA moved to another IKE SA: its ESP follows that SA's addresses. */
static void dp_moved(void *arg, const struct ike_sa *sa, const struct child_sa *c)
{
    struct hiked *d = arg;
    struct hk_dp_path p = ike_sa_dp_path(sa);
    struct hk_dp_id id = ike_child_dp_id(c);
    if (d->dp->ops->update && d->dp->ops->update(d->dp, &id, &p))
        hk_warn(&d->log, "Child SA %s %08x/%08x: the data plane did not take its new addresses",
                c->name, c->spi_in, c->spi_out);
}

static void dp_down(void *arg, const struct child_sa *c)
{
    struct hiked *d = arg;
    struct hk_dp_id id = ike_child_dp_id(c);
    d->dp->ops->remove(d->dp, &id);
}

/* Whether an IKE SA of the connection exists already (a reload must not duplicate it). */
static bool conn_has_sa(struct hiked *d, const char *name)
{
    size_t pos = 0;
    struct ike_sa *sa;
    while ((sa = ike_engine_next_sa(&d->engine, &pos)))
        if (!strcmp(sa->conn, name) && sa->state != IKE_SA_DELETING)
            return true;
    return false;
}

/* The data plane on a Child SA: liveness for DPD, volume limits for rekey and delete. */
static void on_dp_event(void *arg, uint64_t child, enum hk_dp_event ev)
{
    struct hiked *d = arg;
    switch (ev) {
    case HK_DP_ACTIVITY:
        ike_engine_child_activity(&d->engine, child);
        return;
    case HK_DP_SOFT_EXPIRED:
        hk_info(&d->log, "Child SA %llu: volume limit for rekeying reached",
                (unsigned long long)child);
        ike_engine_rekey_child(&d->engine, child);
        break;
    case HK_DP_HARD_EXPIRED:
        hk_info(&d->log, "Child SA %llu: hard volume limit reached, deleting",
                (unsigned long long)child);
        ike_engine_delete_child(&d->engine, child);
        break;
    }
    hiked_kick(d);
}

/* Traffic hit a trap policy: set up the connection unless it is already being set up. */
static void on_acquire(void *arg, const char *conn)
{
    struct hiked *d = arg;
    if (conn_has_sa(d, conn))
        return;
    hk_info(&d->log, "connection %s: traffic for its trap policy, initiating", conn);
    int rc = ike_engine_initiate(&d->engine, conn, NULL);
    if (rc)
        hk_err(&d->log, "connection %s: cannot initiate: %s", conn, hk_strerror(rc));
    hiked_kick(d);
}

/*
 * The data plane daemon.dataplane asks for. "auto" and "xfrm" probe the kernel (an ESP SA
 * added and deleted again); where it refuses ESP, one line says why and the userspace plane
 * carries the traffic. A plane that cannot start at all leaves the logging one.
 */
static struct hk_dataplane *dp_choose(struct hiked *d)
{
    enum hk_dataplane_kind kind = d->cfg->daemon.dataplane;
    struct hk_dataplane *dp = NULL;
    if (kind == HK_DATAPLANE_AUTO || kind == HK_DATAPLANE_XFRM) {
        struct hk_xfrm_probe pr;
        if (hk_dp_xfrm_probe(&d->log, &pr))
            dp = hk_dp_xfrm_new(&d->log);
        else if (kind == HK_DATAPLANE_AUTO)
            hk_info(&d->log,
                    "dataplane: the kernel rejects ESP SAs (%s); using the userspace ESP plane",
                    pr.why);
        else
            hk_warn(&d->log,
                    "dataplane: \"xfrm\" configured but the kernel rejects ESP SAs (%s); "
                    "using the userspace ESP plane",
                    pr.why);
        if (dp)
            return dp;
        kind = HK_DATAPLANE_USERSPACE;
    }
    if (kind == HK_DATAPLANE_USERSPACE) {
        struct hk_dp_user_conf dc = {.ifname = d->cfg->daemon.tun_name,
                                     .no_offload = !d->cfg->daemon.tun_offload,
                                     .send_udp = hiked_net_send_esp,
                                     .acquire = on_acquire,
                                     .event = on_dp_event,
                                     .send_arg = d,
                                     .fwmark = d->cfg->daemon.fwmark,
                                     .route_table = d->cfg->daemon.route_table};
        dp = hk_dp_user_new(d->base, &d->crypto, &d->log, &dc);
        if (!dp)
            hk_warn(&d->log, "falling back to the logging data plane: Child SAs carry no traffic");
    }
    return dp ? dp : hk_dataplane_log_new(&d->log);
}

/* The pools' routes into the data plane (one per prefix, not one per client). */
static void dp_set_pools(struct hiked *d)
{
    size_t n = d->cfg->npools;
    struct hk_ip_range *r = n ? calloc(n, sizeof(*r)) : NULL;
    if (n && !r) {
        hk_err(&d->log, "dataplane: no memory for the address pools' routes");
        return;
    }
    for (size_t i = 0; i < n; i++)
        r[i] = d->cfg->pools[i].block;
    d->dp->ops->set_pools(d->dp, r, n);
    free(r);
}

void hiked_start_conns(struct hiked *d)
{
    if (d->dp->ops->set_pools)
        dp_set_pools(d);
    if (d->dp->ops->trap_clear)
        d->dp->ops->trap_clear(d->dp);
    for (size_t i = 0; i < d->cfg->nconns; i++) {
        const struct hk_conn *c = &d->cfg->conns[i];
        bool trap = c->start_action == HK_START_TRAP;
        for (size_t k = 0; k < c->nchildren; k++)
            trap |= c->children[k].start_action == HK_START_TRAP;
        if (trap && !d->dp->ops->trap_add)
            hk_warn(&d->log,
                    "connection %s: start_action trap needs the userspace data plane; it waits "
                    "for the peer or hikectl",
                    c->name);
        for (size_t k = 0; trap && d->dp->ops->trap_add && k < c->nchildren; k++) {
            if (c->children[k].start_action != HK_START_TRAP && c->start_action != HK_START_TRAP)
                continue;
            /* A trap routes the remote selectors via the main table, which for a transport
             * child (the peer's own address) would take our IKE packets too. */
            if (c->children[k].mode == HK_MODE_TRANSPORT) {
                hk_warn(&d->log, "connection %s: no trap policy for transport-mode child %s",
                        c->name, c->children[k].name);
                continue;
            }
            struct ike_ts l[8], r[8];
            size_t nl, nr;
            if (ike_engine_trap_selectors(&d->engine, c->name, k, l, &nl, r, &nr, 8) ||
                d->dp->ops->trap_add(d->dp, c->name, l, nl, r, nr))
                hk_err(&d->log, "connection %s: cannot install its trap policy", c->name);
        }
        if (conn_has_sa(d, c->name))
            continue;
        bool start = c->start_action == HK_START_START;
        for (size_t k = 0; k < c->nchildren; k++)
            start |= c->children[k].start_action == HK_START_START;
        if (!start)
            continue;
        int rc = ike_engine_initiate(&d->engine, c->name, NULL);
        if (rc)
            hk_err(&d->log, "connection %s: cannot initiate: %s", c->name, hk_strerror(rc));
    }
    hiked_kick(d);
}

/*
 * What a reload must pass besides the parser: daemon.user must exist (as for hiked -t), and
 * every certificate and key must be readable now, by the user hiked runs as; they are loaded
 * on first use, so an unreadable one would otherwise show only when a peer authenticates.
 * The user itself is switched at start only: a change is reported, not applied.
 */
static int reload_check(struct hiked *d, const struct hk_config *n, char *err, size_t errlen)
{
    struct hiked_privdrop p;
    int rc = hiked_privdrop_resolve(&n->daemon, &p, err, errlen);
    if (!rc)
        rc = hiked_files_readable(NULL, n, err, errlen);
    if (rc)
        return rc;
    const char *was = d->cfg->daemon.user;
    if (p.set && (p.uid != getuid() || p.gid != getgid()))
        hk_warn(&d->log,
                "daemon.user/daemon.group changed: applied at the next start; still "
                "running as uid %u, gid %u",
                (unsigned)getuid(), (unsigned)getgid());
    else if (!p.set && was)
        hk_warn(&d->log, "daemon.user removed: applied at the next start; still running as %s",
                was);
    return HK_OK;
}

int hiked_reload(struct hiked *d, char *err, size_t errlen)
{
    struct hk_config *n = NULL;
    int rc = hk_config_load_file(d->config_path, &n, err, errlen);
    if (!rc)
        rc = reload_check(d, n, err, errlen);
    if (rc) {
        hk_err(&d->log, "reload failed, keeping the running configuration: %s", err);
        hk_config_free(n);
        return rc;
    }
    /* SAs refer to connections by name, so swapping the records is safe; a connection that
     * went away is noticed by the SAs that need it. Listen addresses need a restart. */
    struct hk_config *old = d->cfg;
    d->cfg = n;
    ike_engine_set_config(&d->engine, n);
    if (d->cfg->daemon.log_level >= 0)
        d->log.level = (enum hk_log_level)d->cfg->daemon.log_level;
    hk_config_free(old);
    hk_info(&d->log, "configuration reloaded from %s: %zu connections", d->config_path,
            d->cfg->nconns);
    hiked_start_conns(d);
    return HK_OK;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct hiked *d = arg;
    (void)what;
    if (sig == SIGHUP) {
        char err[256];
        hk_info(&d->log, "SIGHUP: reloading configuration");
        hiked_reload(d, err, sizeof(err));
        return;
    }
    if (d->stopping) {
        event_base_loopexit(d->base, NULL);
        return;
    }
    hk_info(&d->log, "%s: deleting %zu IKE SAs and stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT",
            ike_engine_sa_count(&d->engine));
    d->stopping = true;
    ike_engine_shutdown(&d->engine);
    struct timeval grace = {.tv_sec = SHUTDOWN_GRACE_MS / 1000,
                            .tv_usec = (SHUTDOWN_GRACE_MS % 1000) * 1000};
    event_base_loopexit(d->base, &grace);
    hiked_kick(d);
}

/* Whether the control socket's directory is there before hiked makes it. */
static bool ctl_dir_exists(const struct hk_config *cfg)
{
    const char *path =
        cfg->daemon.control_socket ? cfg->daemon.control_socket : HK_CONF_CONTROL_SOCKET;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return true;
    *slash = '\0';
    struct stat st;
    return !stat(dir, &st);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: hiked [-c FILE] [-l LEVEL] [-t] [-h] [-V]\n"
               "  -c FILE   configuration file (default " HIKED_DEFAULT_CONFIG ")\n"
               "  -l LEVEL  log level: error, warn, info, debug (overrides the file)\n"
               "  -t        check the configuration and exit\n"
               "  -h        this help\n"
               "  -V        version\n"
               "Runs in the foreground and logs to stderr. SIGTERM deletes the SAs and stops;\n"
               "SIGHUP reloads the configuration.\n");
}

int main(int argc, char **argv)
{
    struct hiked d = {0};
    const char *level = NULL;
    bool check_only = false;
    int opt, rc;
    d.config_path = HIKED_DEFAULT_CONFIG;
    while ((opt = getopt(argc, argv, "c:l:thV")) != -1) {
        switch (opt) {
        case 'c':
            d.config_path = optarg;
            break;
        case 'l':
            level = optarg;
            break;
        case 't':
            check_only = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("hiked %s\n", HIKED_VERSION);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    hk_log_init(&d.log, HK_LOG_INFO, stderr);
    if (level && hk_log_level_parse(level) < 0) {
        fprintf(stderr, "hiked: unknown log level '%s'\n", level);
        return 2;
    }
    char err[512];
    struct hiked_privdrop priv;
    if (hk_config_load_file(d.config_path, &d.cfg, err, sizeof(err)) ||
        hiked_privdrop_resolve(&d.cfg->daemon, &priv, err, sizeof(err))) {
        fprintf(stderr, "hiked: %s\n", err);
        hk_config_free(d.cfg);
        return 1;
    }
    if (check_only) {
        printf("%s: OK, %zu connections\n", d.config_path, d.cfg->nconns);
        hk_config_free(d.cfg);
        return 0;
    }
    d.log.level = level ? (enum hk_log_level)hk_log_level_parse(level)
                        : (enum hk_log_level)d.cfg->daemon.log_level;
    signal(SIGPIPE, SIG_IGN);
    rc = 1;
    d.base = event_base_new();
    if (!d.base || hk_crypto_init(&d.crypto)) {
        fprintf(stderr, "hiked: cannot initialise (memory, libevent or OpenSSL)\n");
        goto out;
    }
    d.dp = dp_choose(&d);
    hk_info(&d.log, "hiked %s starting, data plane: %s", HIKED_VERSION,
            d.dp ? d.dp->ops->name : "none");
    struct ike_engine_ops ops = {.arg = &d,
                                 .now = now_ms,
                                 .send = hiked_net_send,
                                 .keepalive = hiked_net_keepalive,
                                 .local_addr = hiked_net_local_addr,
                                 .child_up = dp_up,
                                 .ike_up = ike_up,
                                 .child_down = dp_down,
                                 .child_moved = dp_moved};
    if (!d.dp || ike_engine_init(&d.engine, &d.crypto, &d.log, d.cfg, &ops))
        goto out;
    d.timer = evtimer_new(d.base, on_timer, &d);
    d.sig_term = evsignal_new(d.base, SIGTERM, on_signal, &d);
    d.sig_int = evsignal_new(d.base, SIGINT, on_signal, &d);
    d.sig_hup = evsignal_new(d.base, SIGHUP, on_signal, &d);
    if (!d.timer || !d.sig_term || !d.sig_int || !d.sig_hup || evsignal_add(d.sig_term, NULL) ||
        evsignal_add(d.sig_int, NULL) || evsignal_add(d.sig_hup, NULL))
        goto out;
    /* Everything that needs root comes before the drop: the data plane's TUN device, raw
     * ESP and netlink sockets (dp_choose above), the IKE ports, the control socket. */
    if (hiked_net_open(&d))
        goto out;
    bool ctl_dir_created = !ctl_dir_exists(d.cfg);
    if (hiked_control_open(&d)) {
        hk_err(&d.log, "cannot open the control socket %s", d.cfg->daemon.control_socket);
        goto out;
    }
    if (hiked_privdrop_prepare(&priv, &d.cfg->daemon, ctl_dir_created, &d.log) ||
        hiked_privdrop_apply(&priv, &d.log))
        goto out;
    /* Reloads and credentials are read as the user from now on: find out now, not when a
     * peer first authenticates. */
    if (priv.set && hiked_files_readable(d.config_path, d.cfg, err, sizeof(err))) {
        hk_err(&d.log, "as user %s: %s", priv.user, err);
        goto out;
    }
    hiked_start_conns(&d);
    rc = hiked_net_run(&d) ? 1 : 0;
    hk_info(&d.log, "hiked stopped");
out:
    hiked_control_close(&d);
    hiked_net_close(&d);
    if (d.timer)
        event_free(d.timer);
    if (d.sig_term)
        event_free(d.sig_term);
    if (d.sig_int)
        event_free(d.sig_int);
    if (d.sig_hup)
        event_free(d.sig_hup);
    ike_engine_free(&d.engine);
    if (d.dp)
        d.dp->ops->destroy(d.dp);
    hk_crypto_free(&d.crypto);
    hk_config_free(d.cfg);
    if (d.base)
        event_base_free(d.base);
    return rc;
}
