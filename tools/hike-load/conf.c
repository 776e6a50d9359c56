/*
 * The command line as hiked.conf text, loaded by the configuration parser hiked uses: proposals,
 * identities and files get the same checks and error messages, and the engine runs unchanged.
 */
#include "load.h"

#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct text {
    char *p;
    size_t len, cap;
    bool oom;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0 || t->oom) {
            t->oom = true;
            return;
        }
        if (t->p && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = (t->cap + (size_t)n + 1) * 2;
        char *p = realloc(t->p, cap);
        if (!p) {
            t->oom = true;
            return;
        }
        t->p = p;
        t->cap = cap;
    }
}

/* A libconfig string literal: quotes and backslashes escaped. */
static void put_str(struct text *t, const char *s)
{
    put(t, "\"");
    for (; *s; s++)
        put(t, *s == '"' || *s == '\\' ? "\\%c" : "%c", *s);
    put(t, "\"");
}

static void put_list(struct text *t, const char *const *v, size_t n)
{
    put(t, "[");
    for (size_t i = 0; i < n; i++) {
        put(t, i ? ", " : "");
        put_str(t, v[i]);
    }
    put(t, "]");
}

char *load_conf_text(const struct load_opts *o)
{
    struct text t = {0};
    char target[64];
    hk_ip_format(&o->target, target, sizeof(target));
    /* No data plane: the generator measures IKE only. Our own cookie threshold and half-open
     * timeout do not matter: we never answer an IKE_SA_INIT. */
    put(&t,
        "daemon = { dataplane = \"log\"; log_level = \"error\"; natt_port = %u;\n"
        "  retransmit_timeout = \"%ums\"; retransmit_tries = %u; };\n",
        o->natt_port, o->retransmit_ms, o->retransmit_tries);
    put(&t, "connections = { load = {\n  remote_addrs = \"%s\"; remote_port = %u;\n", target,
        o->port);
    put(&t, "  local = { auth = \"%s\";", o->cert ? "pubkey" : "psk");
    if (o->id) {
        put(&t, " id = ");
        put_str(&t, o->id);
        put(&t, ";");
    }
    if (o->cert) {
        put(&t, " cert = ");
        put_str(&t, o->cert);
        put(&t, "; key = ");
        put_str(&t, o->key);
        put(&t, ";");
    }
    put(&t, " };\n  remote = { auth = \"%s\";", o->ca ? "pubkey" : "psk");
    if (o->remote_id) {
        put(&t, " id = ");
        put_str(&t, o->remote_id);
        put(&t, ";");
    }
    if (o->ca) {
        put(&t, " ca = ");
        put_str(&t, o->ca);
        put(&t, ";");
    }
    put(&t, " };\n");
    if (o->psk) {
        put(&t, "  psk = ");
        put_str(&t, o->psk);
        put(&t, ";\n");
    }
    put(&t, "  ike = ");
    put_list(&t, o->ike, o->nike);
    /* Nothing periodic: an SA lives for the run only. */
    put(&t, ";\n  rekey_time = 0; dpd_delay = 0; mobike = false; encap = %s;\n",
        o->encap ? "true" : "false");
    if (o->vip)
        put(&t, "  request_vip = \"%s\";\n", o->target.family == AF_INET6 ? "ipv6" : "ipv4");
    if (!o->childless) {
        put(&t, "  children = { c = { rekey_time = 0; esp = ");
        put_list(&t, o->esp, o->nesp);
        if (o->local_ts) {
            put(&t, "; local_ts = ");
            put_str(&t, o->local_ts);
        }
        if (o->remote_ts) {
            put(&t, "; remote_ts = ");
            put_str(&t, o->remote_ts);
        }
        put(&t, "; }; };\n");
    }
    put(&t, "}; };\n");
    if (t.oom) {
        free(t.p);
        return NULL;
    }
    return t.p;
}
