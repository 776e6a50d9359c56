/* hiked.conf loading: records, defaults, every validation error, secrets, the examples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/err.h"
#include "common/log.h"
#include "crypto/alg.h"
#include "config/config.h"

static char *data_path(const char *name)
{
    const char *src = getenv("HIKE_SOURCE_DIR");
    static char buf[4096];
    snprintf(buf, sizeof(buf), "%s/tests/unit/data/config/%s", src ? src : ".", name);
    return buf;
}

static struct hk_config *load_ok(const char *text)
{
    struct hk_config *cfg = NULL;
    char err[256];
    int rc = hk_config_load_string(text, &cfg, err, sizeof(err));
    if (rc != 0)
        fail_msg("unexpected error: %s", err);
    return cfg;
}

static void check_range(const struct hk_ip_range *r, const char *want)
{
    char buf[128];
    assert_int_equal(hk_ip_range_format(r, buf, sizeof(buf)), 0);
    assert_string_equal(buf, want);
}

static void check_ts(const struct hk_ts_conf *ts, const char *want)
{
    char buf[HK_TS_STRLEN];
    assert_int_equal(hk_ts_format(ts, buf, sizeof(buf)), 0);
    assert_string_equal(buf, want);
}

static void check_prop(const struct hk_proposal_conf *p, const char *want)
{
    char buf[HK_PROPOSAL_STRLEN];
    assert_int_equal(hk_proposal_format(p, buf, sizeof(buf)), 0);
    assert_string_equal(buf, want);
}

static void check_ip(const struct hk_ip *ip, const char *want)
{
    char buf[64];
    assert_int_equal(hk_ip_format(ip, buf, sizeof(buf)), 0);
    assert_string_equal(buf, want);
}

static void full_example(void **state)
{
    (void)state;
    struct hk_config *cfg = NULL;
    char err[256] = "";
    char path[4096];
    snprintf(path, sizeof(path), "%s", data_path("full.conf"));
    int rc = hk_config_load_file(path, &cfg, err, sizeof(err));
    if (rc)
        fail_msg("%s", err);
    assert_string_equal(cfg->path, path);

    const struct hk_daemon_conf *d = &cfg->daemon;
    assert_int_equal(d->nlisten, 2);
    check_ip(&d->listen[0], "192.0.2.1");
    check_ip(&d->listen[1], "2001:db8::1");
    assert_int_equal(d->port, 1500);
    assert_int_equal(d->natt_port, 14500);
    assert_int_equal(d->log_level, HK_LOG_DEBUG);
    assert_string_equal(d->control_socket, "/tmp/hiked-test.ctl");
    assert_int_equal(d->cookie_threshold, 0);
    assert_int_equal(d->retransmit_timeout_ms, 500);
    assert_int_equal(d->retransmit_tries, 3);
    assert_int_equal(d->half_open_timeout, 60);
    assert_int_equal(d->half_open_max, 200);
    assert_int_equal(d->half_open_per_address, 0);
    assert_int_equal(d->max_packet, 20000);
    /* relative to the file's directory */
    assert_non_null(strstr(d->keylog_dir, "/tests/unit/data/config/keys"));
    assert_true(d->keylog_dir[0] == '/');
    assert_int_equal(d->hand_over_notify, 40961);
    assert_false(d->fragmentation);
    assert_false(d->childless);
    assert_int_equal(d->dataplane, HK_DATAPLANE_XFRM);
    assert_int_equal(d->fwmark, 0x100);
    assert_int_equal(d->route_table, 300);

    assert_int_equal(cfg->npools, 2);
    const struct hk_pool *v4 = hk_config_find_pool(cfg, "v4");
    assert_non_null(v4);
    check_range(&v4->range, "10.3.0.1-10.3.0.254"); /* network and broadcast kept back */
    assert_int_equal(v4->ndns, 2);
    check_ip(&v4->dns[0], "10.3.0.1");
    check_ip(&v4->dns[1], "2001:db8::53");
    const struct hk_pool *v6 = hk_config_find_pool(cfg, "v6");
    check_range(&v6->range, "fd00::10-fd00::ff"); /* a range is taken as written */
    assert_int_equal(v6->ndns, 0);

    assert_int_equal(cfg->nconns, 1);
    const struct hk_conn *c = hk_config_find_conn(cfg, "gw");
    assert_non_null(c);
    assert_ptr_equal(c, &cfg->conns[0]);
    assert_string_equal(c->name, "gw");
    assert_int_equal(c->nlocal_addrs, 2);
    assert_int_equal(c->local_addrs[0].kind, HK_ADDR_RANGE);
    check_range(&c->local_addrs[0].range, "192.0.2.1/32");
    check_range(&c->local_addrs[1].range, "2001:db8::1/128");
    assert_int_equal(c->nremote_addrs, 2);
    assert_int_equal(c->remote_addrs[0].kind, HK_ADDR_HOST);
    assert_string_equal(c->remote_addrs[0].host, "gw.example.net");
    assert_int_equal(c->remote_addrs[1].kind, HK_ADDR_RANGE);
    check_range(&c->remote_addrs[1].range, "198.51.100.0/24");
    assert_int_equal(c->local_port, 14500);
    assert_int_equal(c->remote_port, 4501);

    assert_int_equal(c->local.auth, HK_AUTH_CONF_PUBKEY);
    assert_int_equal(c->local.id.type, HK_ID_DN);
    assert_string_equal(c->local.id.text, "CN=gw.example.com,O=Example\\, Inc.,C=CH");
    assert_true(c->local.id.len > 0);
    assert_non_null(strstr(c->local.cert, "/tests/unit/data/config/certs/gw.pem"));
    assert_string_equal(c->local.key, "/etc/hike/gw.key");
    assert_int_equal(c->local.ncerts, 2);
    assert_non_null(strstr(c->local.certs[1], "/certs/int2.pem"));
    assert_int_equal(c->local.signature, HK_SIG_CONF_CLASSIC);
    assert_int_equal(c->remote.auth, HK_AUTH_CONF_PSK);
    assert_int_equal(c->remote.id.type, HK_ID_KEY_ID);
    const uint8_t keyid[] = {1, 2, 0x0a, 0xff};
    assert_int_equal(c->remote.id.len, sizeof(keyid));
    assert_memory_equal(c->remote.id.data, keyid, sizeof(keyid));
    assert_int_equal(c->remote.nca, 0);

    assert_non_null(c->psk);
    assert_int_equal(c->psk->len, 16);
    for (size_t i = 0; i < 16; i++)
        assert_int_equal(c->psk->data[i], i);

    assert_int_equal(c->nike, 2);
    check_prop(&c->ike[0], "aes128gcm16-prfsha512-ecp384-modp2048");
    check_prop(&c->ike[1], "aes192-aes256-sha512-sha384-prfsha512-prfsha384-x25519");
    assert_int_equal(c->rekey_time, 7200);
    assert_int_equal(c->reauth_time, 0);
    assert_int_equal(c->life_time, 25 * 3600);
    assert_int_equal(c->rekey_jitter, 300);
    assert_int_equal(c->dpd_delay, 0);
    assert_int_equal(c->dpd_action, HK_ACTION_CLEAR);
    assert_int_equal(c->start_action, HK_START_TRAP);
    assert_int_equal(c->close_action, HK_ACTION_CLEAR);
    assert_false(c->request_vip4);
    assert_true(c->request_vip6);
    assert_int_equal(c->npools, 2);
    assert_string_equal(c->pools[0], "v6");
    assert_string_equal(c->pools[1], "v4");
    assert_true(c->mobike);
    assert_true(c->fragmentation); /* overrides daemon.fragmentation = false */
    assert_true(c->encap);

    assert_int_equal(c->nchildren, 2);
    const struct hk_child_conf *web = hk_conn_find_child(c, "web");
    assert_non_null(web);
    assert_int_equal(web->nlocal_ts, 2);
    check_ts(&web->local_ts[0], "10.1.0.0/16");
    check_ts(&web->local_ts[1], "192.0.2.1/32[tcp/443]");
    assert_int_equal(web->nremote_ts, 3);
    check_ts(&web->remote_ts[0], "10.2.0.1-10.2.0.9");
    assert_true(web->remote_ts[1].dynamic);
    check_ts(&web->remote_ts[1], "%dynamic[udp/1024-65535]");
    check_ts(&web->remote_ts[2], "::/0[ipv6-icmp]");
    assert_int_equal(web->nesp, 2);
    check_prop(&web->esp[0], "chacha20poly1305-x25519-esn-noesn");
    check_prop(&web->esp[1], "aes256-sha256");
    assert_int_equal(web->mode, HK_MODE_TRANSPORT);
    assert_int_equal(web->lifetime.rekey_time, 1800);
    assert_int_equal(web->lifetime.life_time, 2400);
    assert_int_equal(web->lifetime.rekey_jitter, 60);
    assert_int_equal(web->lifetime.rekey_bytes, 1ULL << 30);
    assert_int_equal(web->lifetime.life_bytes, 2000000000ULL);
    assert_int_equal(web->lifetime.rekey_packets, 1000000);
    assert_int_equal(web->lifetime.life_packets, 5000000000ULL);
    assert_int_equal(web->start_action, HK_START_START);
    assert_int_equal(web->dpd_action, HK_ACTION_CLEAR);
    assert_int_equal(web->close_action, HK_ACTION_CLEAR);
    assert_int_equal(web->replay_window, 0);

    /* An empty child inherits the connection's actions and takes the defaults. */
    const struct hk_child_conf *dflt = hk_conn_find_child(c, "dflt");
    assert_non_null(dflt);
    assert_int_equal(dflt->start_action, HK_START_TRAP);
    assert_int_equal(dflt->dpd_action, HK_ACTION_CLEAR);
    assert_int_equal(dflt->close_action, HK_ACTION_CLEAR);
    assert_null(hk_conn_find_child(c, "nope"));
    assert_null(hk_config_find_conn(cfg, "nope"));
    assert_null(hk_config_find_pool(cfg, "nope"));
    hk_config_free(cfg);
}

static void defaults_applied(void **state)
{
    (void)state;
    struct hk_config *cfg = load_ok("connections = { a = { local = { auth = \"psk\"; };"
                                    " psk = \"a shared secret\"; children = { c = {}; }; }; };");
    const struct hk_daemon_conf *d = &cfg->daemon;
    assert_null(cfg->path);
    assert_int_equal(d->nlisten, 2);
    check_ip(&d->listen[0], "0.0.0.0");
    check_ip(&d->listen[1], "::");
    assert_int_equal(d->port, 500);
    assert_int_equal(d->natt_port, 4500);
    assert_int_equal(d->log_level, HK_LOG_INFO);
    assert_string_equal(d->control_socket, "/run/hike/hiked.ctl");
    assert_int_equal(d->cookie_threshold, HK_CONF_COOKIE_THRESHOLD);
    assert_int_equal(d->retransmit_timeout_ms, 1000);
    assert_int_equal(d->retransmit_tries, 5);
    assert_int_equal(d->half_open_timeout, 30);
    assert_int_equal(d->half_open_max, 10000);
    assert_int_equal(d->half_open_per_address, 5);
    assert_int_equal(d->max_packet, 10000);
    assert_null(d->keylog_dir);
    assert_int_equal(d->hand_over_notify, 49152);
    assert_true(d->fragmentation);
    assert_true(d->childless);
    assert_int_equal(d->dataplane, HK_DATAPLANE_AUTO);
    assert_int_equal(d->fwmark, HK_CONF_FWMARK);
    assert_int_equal(d->route_table, HK_CONF_ROUTE_TABLE);
    assert_int_equal(cfg->npools, 0);

    const struct hk_conn *c = hk_config_find_conn(cfg, "a");
    assert_non_null(c);
    assert_int_equal(c->nlocal_addrs, 1);
    assert_int_equal(c->local_addrs[0].kind, HK_ADDR_ANY);
    assert_int_equal(c->nremote_addrs, 1);
    assert_int_equal(c->remote_addrs[0].kind, HK_ADDR_ANY);
    assert_int_equal(c->local_port, 500);
    assert_int_equal(c->remote_port, 500);
    assert_int_equal(c->local.auth, HK_AUTH_CONF_PSK);
    assert_int_equal(c->local.id.type, HK_ID_AUTO);
    assert_int_equal(c->remote.auth, HK_AUTH_CONF_PSK); /* follows local.auth */
    assert_int_equal(c->remote.id.type, HK_ID_ANY);
    assert_int_equal(c->nike, 3);
    check_prop(&c->ike[0], "aes256gcm16-prfsha256-x25519-ecp256");
    check_prop(&c->ike[1], "chacha20poly1305-prfsha256-x25519-ecp256");
    check_prop(&c->ike[2], "aes128-sha256-prfsha256-x25519-ecp256-modp2048");
    assert_int_equal(c->rekey_time, 4 * 3600);
    assert_int_equal(c->reauth_time, 0);
    assert_int_equal(c->life_time, 4 * 3600 + 1440);
    assert_int_equal(c->rekey_jitter, 1440);
    assert_int_equal(c->dpd_delay, 30);
    assert_int_equal(c->dpd_action, HK_ACTION_CLEAR);
    assert_int_equal(c->start_action, HK_START_NONE);
    assert_int_equal(c->close_action, HK_ACTION_CLEAR);
    assert_false(c->request_vip4);
    assert_false(c->request_vip6);
    assert_int_equal(c->npools, 0);
    assert_false(c->mobike); /* off unless asked for */
    assert_true(c->fragmentation);
    assert_false(c->encap);

    assert_int_equal(c->nchildren, 1);
    const struct hk_child_conf *ch = &c->children[0];
    assert_string_equal(ch->name, "c");
    assert_int_equal(ch->nlocal_ts, 1);
    assert_true(ch->local_ts[0].dynamic);
    check_ts(&ch->local_ts[0], "%dynamic");
    assert_int_equal(ch->nremote_ts, 1);
    assert_true(ch->remote_ts[0].dynamic);
    assert_int_equal(ch->nesp, 3);
    check_prop(&ch->esp[0], "aes256gcm16");
    check_prop(&ch->esp[1], "chacha20poly1305");
    check_prop(&ch->esp[2], "aes128-sha256");
    assert_int_equal(ch->esp[0].esn[0], HK_ESN_NO);
    assert_int_equal(ch->mode, HK_MODE_TUNNEL);
    assert_int_equal(ch->lifetime.rekey_time, 3600);
    assert_int_equal(ch->lifetime.life_time, 3960);
    assert_int_equal(ch->lifetime.rekey_jitter, 360);
    assert_int_equal(ch->lifetime.rekey_bytes, 0);
    assert_int_equal(ch->lifetime.life_bytes, 0);
    assert_int_equal(ch->lifetime.rekey_packets, 0);
    assert_int_equal(ch->lifetime.life_packets, 0);
    assert_int_equal(ch->start_action, HK_START_NONE);
    assert_int_equal(ch->dpd_action, HK_ACTION_CLEAR);
    assert_int_equal(ch->close_action, HK_ACTION_CLEAR);
    assert_int_equal(ch->replay_window, 1024);
    hk_config_free(cfg);
}

static void derived_limits(void **state)
{
    (void)state;
    /* Hard limits follow the soft ones (+10%), jitter a tenth of the rekey time (reauth_time
     * stays 0 until re-authentication is implemented). */
    struct hk_config *cfg = load_ok(
        "connections = { a = { local = { auth = \"psk\"; }; psk = \"a shared secret\";\n"
        " rekey_time = \"10h\";\n"
        " children = { c = { rekey_time = \"20m\"; rekey_bytes = \"10M\"; rekey_packets = 1000;"
        " }; }; }; };");
    const struct hk_conn *c = &cfg->conns[0];
    assert_int_equal(c->rekey_time, 36000);
    assert_int_equal(c->reauth_time, 0);
    assert_int_equal(c->life_time, 39600);
    assert_int_equal(c->rekey_jitter, 3600);
    const struct hk_child_lifetime *l = &c->children[0].lifetime;
    assert_int_equal(l->life_time, 1320);
    assert_int_equal(l->rekey_jitter, 120);
    assert_int_equal(l->rekey_bytes, 10 << 20);
    assert_int_equal(l->life_bytes, (10 << 20) + (1 << 20));
    assert_int_equal(l->life_packets, 1100);
    hk_config_free(cfg);

    /* No rekeying at all: no hard limit either, unless one is given. */
    cfg = load_ok("connections = { a = { local = { auth = \"psk\"; }; psk = \"a shared secret\";"
                  " rekey_time = 0; children = { c = { rekey_time = 0; life_time = \"2h\"; };"
                  " }; }; };");
    assert_int_equal(cfg->conns[0].life_time, 0);
    assert_int_equal(cfg->conns[0].rekey_jitter, 0);
    assert_int_equal(cfg->conns[0].children[0].lifetime.life_time, 7200);
    hk_config_free(cfg);
}

static void empty_and_childless(void **state)
{
    (void)state;
    struct hk_config *cfg = load_ok("");
    assert_int_equal(cfg->nconns, 0);
    assert_int_equal(cfg->daemon.port, 500);
    hk_config_free(cfg);

    cfg = load_ok("connections = { a = { remote_addrs = \"192.0.2.9\"; start_action = \"start\";"
                  " local = { auth = \"psk\"; }; psk = \"a shared secret\"; }; };");
    assert_int_equal(cfg->conns[0].nchildren, 0);
    assert_int_equal(cfg->conns[0].start_action, HK_START_START);
    hk_config_free(cfg);
    hk_config_free(NULL);
}

/* Each case: a configuration and the exact message it must produce. */
struct bad {
    const char *text;
    const char *want;
};

/* A valid PSK connection "a" that initiates to 192.0.2.2; lines 1-5, the case adds line 6. */
#define HEAD                                                                                       \
    "connections = {\n"                                                                            \
    "  a = {\n"                                                                                    \
    "    remote_addrs = \"192.0.2.2\";\n"                                                          \
    "    local = { auth = \"psk\"; };\n"                                                           \
    "    psk = \"a shared secret\";\n"
#define TAIL     "  };\n};\n"
#define CHILD(x) HEAD "    children = { c = {\n" x "\n    }; };\n" TAIL /* x on line 7 */

static const struct bad bad_cases[] = {
    /* limits on unauthenticated traffic (issue 10) */
    {"daemon = { max_packet = 1000; };",
     "<string>:1: daemon.max_packet: 1000 is out of range (1280..65535)"},
    {"daemon = { half_open_per_address = -1; };",
     "<string>:1: daemon.half_open_per_address: -1 is out of range (0..1000000)"},
    /* settings accepted but not acted on yet are refused (issue 10) */
    {HEAD "    close_action = \"restart\";\n" TAIL,
     "<string>:6: connections.a.close_action: \"restart\" is not implemented yet (a child the "
     "peer deletes is removed): use \"clear\""},
    {CHILD("      close_action = \"trap\";"),
     "<string>:7: connections.a.children.c.close_action: \"trap\" is not implemented yet (a "
     "child the peer deletes is removed): use \"clear\""},
    /* unknown names, with a hint for typos */
    {"dameon = {};", "<string>:1: dameon: unknown setting (did you mean 'daemon'?)"},
    {HEAD "    rekey_tme = 10;\n" TAIL,
     "<string>:6: connections.a.rekey_tme: unknown setting (did you mean 'rekey_time'?)"},
    {HEAD "    colour = \"blue\";\n" TAIL, "<string>:6: connections.a.colour: unknown setting"},
    {CHILD("      espp = \"aes128-sha256\";"),
     "<string>:7: connections.a.children.c.espp: unknown setting (did you mean 'esp'?)"},
    {"pools = { p = { addrs = \"10.0.0.0/24\"; dsn = \"10.0.0.1\"; }; };",
     "<string>:1: pools.p.dsn: unknown setting (did you mean 'dns'?)"},
    /* wrong types */
    {"daemon = {\n  port = \"500\";\n};", "<string>:2: daemon.port: expected an integer, found a "
                                          "string"},
    {HEAD "    mobike = \"yes\";\n" TAIL,
     "<string>:6: connections.a.mobike: expected true or false, found a string"},
    {HEAD "    reauth_time = \"12h\";\n" TAIL,
     "<string>:6: connections.a.reauth_time: re-authentication is not implemented yet: leave it "
     "0 or out (rekey_time renews the keys)"},
    {HEAD "    dpd_action = \"trap\";\n" TAIL,
     "<string>:6: connections.a.dpd_action: \"trap\" is not implemented yet: use \"clear\" or "
     "\"restart\""},
    {CHILD("      dpd_action = \"restart\";"),
     "<string>:7: connections.a.children.c.dpd_action: a dpd_action of its own per child is not "
     "implemented yet: set it on the connection"},
    {HEAD "    context_keys = \"private\";\n" TAIL,
     "<string>:6: connections.a.context_keys: unknown value 'private' (one of \"derived\", "
     "\"skeyseed\", \"dh\")"},
    {HEAD "    local_addrs = 5;\n" TAIL, "<string>:6: connections.a.local_addrs: expected a "
                                         "string or a list of strings, found an integer"},
    {HEAD "    ike = [\"aes128-sha256-ecp256\", 3];\n" TAIL, ""}, /* libconfig: mixed array */
    {HEAD "    ike = (\"aes128-sha256-ecp256\", 3);\n" TAIL,
     "<string>:6: connections.a.ike[1]: expected a string, found an integer"},
    {HEAD "    children = 1;\n" TAIL,
     "<string>:6: connections.a.children: expected a group { ... }, found an integer"},
    {"connections = { a = 1; };", "<string>:1: connections.a: expected a connection group"},
    {HEAD "    rekey_time = 1.5;\n" TAIL, "<string>:6: connections.a.rekey_time: expected a "
                                          "duration"},
    {HEAD "    rekey_time = \"4 hours\";\n" TAIL,
     "<string>:6: connections.a.rekey_time: bad duration '4 hours'"},
    {CHILD("      rekey_bytes = \"1X\";"),
     "<string>:7: connections.a.children.c.rekey_bytes: bad byte count '1X'"},
    {CHILD("      rekey_bytes = -1;"),
     "<string>:7: connections.a.children.c.rekey_bytes: negative byte count -1"},
    /* out of range */
    {"daemon = {\n  port = 70000;\n};",
     "<string>:2: daemon.port: 70000 is out of range (1..65535)"},
    {HEAD "    remote_port = 0;\n" TAIL,
     "<string>:6: connections.a.remote_port: 0 is out of range (1..65535)"},
    {HEAD "    rekey_time = \"400d\";\n" TAIL,
     "<string>:6: connections.a.rekey_time: 34560000 s is too long (at most 31622400 s)"},
    {HEAD "    dpd_delay = \"1500ms\";\n" TAIL,
     "<string>:6: connections.a.dpd_delay: must be whole seconds"},
    {CHILD("      replay_window = 100000;"),
     "<string>:7: connections.a.children.c.replay_window: 100000 is out of range (0..65536)"},
    {"daemon = { fwmark = 0; };", "<string>:1: daemon.fwmark: 0 is out of range (1..4294967295)"},
    {"daemon = { route_table = 254; };",
     "daemon.route_table: 254 is a kernel table (default, main or local)"},
    {"daemon = { hand_over_notify = 16384; };",
     "<string>:1: daemon.hand_over_notify: 16384 is out of range (40960..65535)"},
    {"daemon = { retransmit_timeout = \"10ms\"; };",
     "<string>:1: daemon.retransmit_timeout: 10 ms is out of range (100..60000 ms)"},
    {"daemon = { port = 4500; };", "daemon.natt_port: must differ from port (4500)"},
    {"daemon = { log_level = \"loud\"; };",
     "<string>:1: daemon.log_level: unknown level 'loud' (error, warn, info or debug)"},
    {"daemon = { half_open_timeout = 0; };", "daemon.half_open_timeout: must be at least 1 s"},
    {"daemon = { dataplane = \"kernel\"; };",
     "<string>:1: daemon.dataplane: unknown value 'kernel' (one of \"userspace\", \"log\", "
     "\"xfrm\", \"auto\")"},
    {"daemon = { listen = [\"192.0.2.1\", \"192.0.2.1\"]; };",
     "<string>:1: daemon.listen[1]: '192.0.2.1' listed twice"},
    {"daemon = { listen = \"%any\"; };",
     "<string>:1: daemon.listen: '%any' is not an IPv4 or IPv6 address"},
    {"daemon = { keylog_dir = \"\"; };", "<string>:1: daemon.keylog_dir: empty file name"},
    /* traffic selectors */
    {CHILD("      local_ts = \"10.0.0.0/33\";"),
     "<string>:7: connections.a.children.c.local_ts: bad prefix length '33' (0..32)"},
    {CHILD("      local_ts = [\"10.0.0.0/8\", \"10.1.2.3/16\"];"),
     "<string>:7: connections.a.children.c.local_ts[1]: host bits set in 10.1.2.3/16 (did you "
     "mean 10.1.0.0/16?)"},
    {CHILD("      remote_ts = \"0.0.0.0/0[tcp/99999]\";"),
     "<string>:7: connections.a.children.c.remote_ts: bad port '99999' (N or N-M, 0..65535)"},
    {CHILD("      remote_ts = [];"),
     "<string>:7: connections.a.children.c.remote_ts: empty list (leave the setting out for its "
     "default)"},
    /* proposals */
    {HEAD "    ike = \"aes999-sha256-ecp256\";\n" TAIL,
     "<string>:6: connections.a.ike: unknown algorithm 'aes999'"},
    {HEAD "    ike = [\"aes128-sha256-ecp256\", \"aes128-sha256\"];\n" TAIL,
     "<string>:6: connections.a.ike[1]: 'aes128-sha256': no key exchange group"},
    {HEAD "    ike = \"aes128-ecp256\";\n" TAIL,
     "<string>:6: connections.a.ike: 'aes128-ecp256': no integrity algorithm"},
    {HEAD "    ike = \"aes256gcm16-x25519\";\n" TAIL, "<string>:6: connections.a.ike: "
                                                      "'aes256gcm16-x25519': no PRF"},
    {HEAD "    ike = [\"aes128-sha256-ecp256\", \"AES128-SHA256-ECP256\"];\n" TAIL,
     "<string>:6: connections.a.ike[1]: same proposal as [0]"},
    {CHILD("      esp = \"aes256gcm16-sha256\";"),
     "<string>:7: connections.a.children.c.esp: 'aes256gcm16-sha256': AEAD ciphers take no "
     "integrity algorithm"},
    {CHILD("      esp = \"aes128-sha256-prfsha256\";"),
     "<string>:7: connections.a.children.c.esp: 'prfsha256': ESP proposals have no PRF"},
    /* authentication */
    {"connections = {\n  a = {\n    psk = \"x\";\n  };\n};",
     "<string>:2: connections.a.local.auth: required setting missing"},
    {"connections = {\n  a = {\n    local = { id = \"me\"; };\n  };\n};",
     "<string>:3: connections.a.local.auth: required setting missing (\"psk\" or \"pubkey\")"},
    {"connections = {\n  a = {\n    local = { auth = \"psk\"; };\n  };\n};",
     "<string>:2: connections.a.psk: required: a side authenticates with \"psk\""},
    {"connections = { a = { local = { auth = \"password\"; }; }; };",
     "<string>:1: connections.a.local.auth: unknown value 'password' (one of \"psk\", "
     "\"pubkey\")"},
    {"connections = {\n  a = {\n    local = { auth = \"pubkey\";\n      cert = \"a.pem\"; };\n"
     "  };\n};",
     "<string>:3: connections.a.local.key: required with auth = \"pubkey\""},
    {"connections = {\n  a = {\n    local = { auth = \"pubkey\"; cert = \"a.pem\"; key = "
     "\"a.key\"; };\n  };\n};",
     "<string>:2: connections.a.remote.ca: required with auth = \"pubkey\""},
    {HEAD "    remote = { auth = \"pubkey\"; };\n" TAIL,
     "<string>:6: connections.a.remote.ca: required with auth = \"pubkey\""},
    {"connections = {\n  a = {\n    local = { auth = \"psk\";\n      cert = \"a.pem\"; };\n"
     "    psk = \"a shared secret\";\n  };\n};",
     "<string>:4: connections.a.local.cert: only with auth = \"pubkey\""},
    {"connections = {\n  a = {\n    local = { auth = \"pubkey\"; cert = \"a.pem\"; key = \"k\";"
     " };\n    remote = { auth = \"pubkey\"; ca = \"ca.pem\"; };\n    psk = \"unused\";\n  };\n};",
     "<string>:5: connections.a.psk: set, but no side uses auth = \"psk\""},
    {HEAD "    local = { auth = \"psk\"; id = \"%any\"; };\n" TAIL, ""}, /* duplicate 'local' */
    {"connections = { a = { local = { auth = \"psk\"; id = \"%any\"; }; psk = \"s\"; }; };",
     "<string>:1: connections.a.local.id: %any is only for the remote identity"},
    {HEAD "    remote = { id = \"keyid:123\"; };\n" TAIL,
     "<string>:6: connections.a.remote.id: key ID '123' needs an even, non-zero number of hex "
     "digits"},
    {HEAD "    remote = { id = \"dn:CN=x,XX=y\"; };\n" TAIL,
     "<string>:6: connections.a.remote.id: DN: unknown attribute 'XX'"},
    {HEAD "    remote = { id = \"ipv4:300.1.1.1\"; };\n" TAIL,
     "<string>:6: connections.a.remote.id: '300.1.1.1' is not an IPv4 address"},
    /* lifetimes */
    {HEAD "    rekey_time = \"1h\";\n    life_time = \"1h\";\n" TAIL,
     "<string>:7: connections.a.life_time: 3600 s must be longer than rekey_time and reauth_time "
     "(3600 s)"},
    {HEAD "    rekey_jitter = \"5h\";\n" TAIL,
     "<string>:6: connections.a.rekey_jitter: 18000 s must be shorter than rekey_time and "
     "reauth_time (14400 s)"},
    {CHILD("      rekey_bytes = \"2G\"; life_bytes = \"1G\";"),
     "<string>:7: connections.a.children.c.life_bytes: 1073741824 must be more than rekey_bytes "
     "(2147483648)"},
    {CHILD("      rekey_jitter = \"1h\";"),
     "<string>:7: connections.a.children.c.rekey_jitter: 3600 s must be shorter than rekey_time "
     "(3600 s)"},
    /* addresses, pools, actions */
    {HEAD "    local_addrs = \"10.0.0.0/8\";\n" TAIL,
     "<string>:6: connections.a.local_addrs: a local address must be a single address"},
    {HEAD "    local_addrs = \"me.example.com\";\n" TAIL,
     "<string>:6: connections.a.local_addrs: a local address must be an IP address or %any"},
    {HEAD "    local_addrs = [\"%any\", \"192.0.2.1\"];\n" TAIL,
     "<string>:6: connections.a.local_addrs[0]: %any cannot be combined with other addresses"},
    {HEAD "    local_port = 4501;\n" TAIL,
     "<string>:6: connections.a.local_port: 4501 is neither daemon.port (500) nor "
     "daemon.natt_port (4500)"},
    {HEAD "    pools = \"nope\";\n" TAIL,
     "<string>:6: connections.a.pools: pool 'nope' is not defined in pools"},
    {"pools = {\n  p = { addrs = \"10.0.0.0/24\"; };\n  q = { addrs = \"10.0.0.128/25\"; };\n};",
     "<string>:3: pools.q.addrs: overlaps pool 'p'"},
    {"pools = {\n  p = { dns = \"10.0.0.1\"; };\n};",
     "<string>:2: pools.p.addrs: required setting missing"},
    {"pools = { p = { addrs = \"10.0.0.0/24\"; dns = \"dns.example\"; }; };",
     "<string>:1: pools.p.dns: 'dns.example' is not an IPv4 or IPv6 address"},
    {"connections = {\n  a = {\n    local = { auth = \"psk\"; };\n    psk = \"s\";\n"
     "    start_action = \"start\";\n  };\n};",
     "<string>:2: connections.a.remote_addrs: the first entry must be one address or host name"},
    {HEAD "    start_action = \"trap\";\n" TAIL,
     "<string>:6: connections.a.start_action: \"trap\" needs at least one child"},
    {HEAD "    start_action = \"go\";\n" TAIL, "<string>:6: connections.a.start_action: unknown "
                                               "value 'go' (one of \"none\", \"trap\", "
                                               "\"start\")"},
    {CHILD("      mode = \"beet\";"), "<string>:7: connections.a.children.c.mode: unknown value "
                                      "'beet' (one of \"tunnel\", \"transport\")"},
    {"daemon = { childless = false; };\n" HEAD TAIL,
     "<string>:3: connections.a.children: no children, and daemon.childless is off"},
    /* duplicates (libconfig refuses a name twice in one group) and syntax */
    {HEAD TAIL "connections = {};", "<string>:8: duplicate setting name"},
    {"connections = {\n  a = { local = { auth = \"psk\"; }; psk = \"s\"; };\n  a = {};\n};",
     "<string>:3: duplicate setting name"},
    {"connections = {\n  a = {\n", "<string>:3: syntax error"},
};

static void validation_errors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
        struct hk_config *cfg = (struct hk_config *)1;
        char err[512] = "";
        int rc = hk_config_load_string(bad_cases[i].text, &cfg, err, sizeof(err));
        if (rc != HK_E_CONFIG || cfg != NULL || !strstr(err, bad_cases[i].want) ||
            strncmp(err, "<string>:", 9) != 0)
            fail_msg("case %zu: rc %d, got \"%s\", want \"%s\"", i, rc, err, bad_cases[i].want);
    }
}

static void file_errors_name_the_file(void **state)
{
    (void)state;
    struct hk_config *cfg;
    char err[512], path[4096], want[4200];
    snprintf(path, sizeof(path), "%s", data_path("bad-alg.conf"));
    assert_int_equal(hk_config_load_file(path, &cfg, err, sizeof(err)), HK_E_CONFIG);
    assert_null(cfg);
    snprintf(want, sizeof(want), "%s:6: connections.office.ike: unknown algorithm 'aes999'", path);
    assert_string_equal(err, want);

    snprintf(path, sizeof(path), "%s", data_path("no-such-file.conf"));
    assert_int_equal(hk_config_load_file(path, &cfg, err, sizeof(err)), HK_E_CONFIG);
    snprintf(want, sizeof(want), "%s: No such file or directory", path);
    assert_string_equal(err, want);

    /* A tiny buffer truncates but never overflows; none at all is allowed too. */
    assert_int_equal(hk_config_load_string("x = 1;", &cfg, err, 4), HK_E_CONFIG);
    assert_int_equal(strlen(err), 3);
    assert_int_equal(hk_config_load_string("x = 1;", &cfg, NULL, 0), HK_E_CONFIG);
}

static void include_relative_to_file(void **state)
{
    (void)state;
    struct hk_config *cfg;
    char err[512];
    char path[4096];
    snprintf(path, sizeof(path), "%s", data_path("include-main.conf"));
    if (hk_config_load_file(path, &cfg, err, sizeof(err)))
        fail_msg("%s", err);
    const struct hk_conn *c = hk_config_find_conn(cfg, "inc");
    assert_non_null(c);
    assert_non_null(c->psk);
    assert_int_equal(c->psk->len, strlen("included secret value"));
    assert_memory_equal(c->psk->data, "included secret value", c->psk->len);
    hk_config_free(cfg);
}

static void psk_kept_secret(void **state)
{
    (void)state;
    struct hk_config *cfg = load_ok("connections = { a = { local = { auth = \"psk\"; };"
                                    " psk = \"correct horse battery staple\"; }; };");
    struct hk_conn *c = &cfg->conns[0];
    assert_non_null(c->psk);
    assert_int_equal(c->psk->len, 28);
    assert_memory_equal(c->psk->data, "correct horse battery staple", 28);
    hk_config_wipe_secrets(cfg);
    assert_null(c->psk); /* wiped and released before the rest */
    hk_config_free(cfg); /* a second wipe is harmless */

    /* Errors about a PSK never quote it. */
    static const char *const bad[] = {
        "connections = { a = { local = { auth = \"psk\"; }; psk = \"0xabcSECRET\"; }; };",
        "connections = { a = { local = { auth = \"psk\"; }; psk = \"0xSECRETS1\"; }; };",
        ("connections = { a = { local = { auth = \"pubkey\"; cert = \"c\"; key = \"k\"; };"
         " remote = { ca = \"ca\"; }; psk = \"SECRET\"; }; };"),
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[512];
        assert_int_equal(hk_config_load_string(bad[i], &cfg, err, sizeof(err)), HK_E_CONFIG);
        assert_non_null(strstr(err, "connections.a.psk"));
        assert_null(strstr(err, "SECRET"));
    }
}

static void examples_load(void **state)
{
    (void)state;
    const char *src = getenv("HIKE_SOURCE_DIR");
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/examples", src ? src : ".");
    DIR *dp = opendir(dir);
    if (!dp)
        fail_msg("cannot open %s (is HIKE_SOURCE_DIR set?)", dir);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(dp))) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".conf") != 0)
            continue;
        char path[8192], err[512];
        struct hk_config *cfg;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (hk_config_load_file(path, &cfg, err, sizeof(err)) != 0)
            fail_msg("%s", err);
        assert_true(cfg->nconns > 0);
        hk_config_free(cfg);
        n++;
    }
    closedir(dp);
    assert_true(n >= 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_example),
        cmocka_unit_test(defaults_applied),
        cmocka_unit_test(derived_limits),
        cmocka_unit_test(empty_and_childless),
        cmocka_unit_test(validation_errors),
        cmocka_unit_test(file_errors_name_the_file),
        cmocka_unit_test(include_relative_to_file),
        cmocka_unit_test(psk_kept_secret),
        cmocka_unit_test(examples_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
