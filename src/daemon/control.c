/*
 * The control socket (docs/control.md): a Unix stream socket, mode 0600 in a directory
 * created 0700, served from hiked's libevent loop. One request per connection: a JSON
 * object and a newline in, one JSON object out, then the server closes. Requests are
 * bounded in size and time; whatever arrives that is not a valid request gets an error
 * reply and a counter, never more.
 */
#include "daemon/control.h"
#include "daemon/control_internal.h"

#include "common/err.h"
#include "common/privdir.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pwd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_MAX_REQUEST     65536 /* octets, newline included */
#define CTL_READ_TIMEOUT_S  5
#define CTL_WRITE_TIMEOUT_S 30
#define CTL_MAX_CLIENTS     32
#define CTL_MAX_DRAIN       (1024 * 1024) /* input discarded after the reply */
#define CTL_BACKLOG         16

struct ctl_client {
    struct hiked_control *ctl;
    struct bufferevent *bev;
    struct ctl_client *prev, *next;
    bool replied;
    size_t scanned; /* request octets known to hold no newline */
    size_t drained; /* octets discarded after the reply */
};

struct hiked_control {
    struct hiked *d;
    struct evconnlistener *lst;
    struct event *resume; /* re-enables accepting after EMFILE and the like */
    char *path;
    bool created; /* we bound path, so we remove it */
    struct ctl_client *clients;
    size_t nclients;
    struct hiked_control_stats stats;
    uint64_t opened_ms;
};

/* ---- helpers for the handlers ---- */

json_t *ctl_fail(struct ctl_err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return NULL;
}

uint64_t ctl_now(struct hiked *d)
{
    return d->engine.ops.now(d->engine.ops.arg);
}

json_int_t ctl_age(uint64_t now, uint64_t ms)
{
    return ms && now > ms ? (json_int_t)((now - ms) / 1000) : 0;
}

void ctl_set(json_t *obj, const char *key, json_t *val)
{
    if (obj && val)
        json_object_set_new(obj, key, val);
    else if (val)
        json_decref(val);
}

char *ctl_addr_port(const struct sockaddr_storage *a, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    buf[0] = '\0';
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)a;
        if (inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip)))
            snprintf(buf, len, "%s:%u", ip, ntohs(s->sin_port));
    } else if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)a;
        if (inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip)))
            snprintf(buf, len, "[%s]:%u", ip, ntohs(s->sin6_port));
    }
    return buf;
}

/* ---- commands ---- */

struct ctl_command {
    const char *name;
    ctl_handler fn;
    const char *const *fields; /* request members besides "cmd" */
};

static const char *const no_fields[] = {NULL};
static const char *const conn_fields[] = {"conn", NULL};
static const char *const terminate_fields[] = {"ike", "conn", NULL};
static const char *const ike_fields[] = {"ike", NULL};
static const char *const level_fields[] = {"level", NULL};
static const char *const migrate_fields[] = {"ike", "local", "remote", NULL};

static const struct ctl_command commands[] = {
    {"list-sas", ctl_list_sas, no_fields},    {"list-conns", ctl_list_conns, no_fields},
    {"initiate", ctl_initiate, conn_fields},  {"terminate", ctl_terminate, terminate_fields},
    {"rekey", ctl_rekey, ike_fields},         {"reload", ctl_reload, no_fields},
    {"stats", ctl_stats, no_fields},          {"log-level", ctl_log_level, level_fields},
    {"migrate", ctl_migrate, migrate_fields}, {"clone", ctl_clone, ike_fields},
};

static bool field_known(const struct ctl_command *c, const char *key)
{
    if (!strcmp(key, "cmd"))
        return true;
    for (const char *const *f = c->fields; *f; f++)
        if (!strcmp(*f, key))
            return true;
    return false;
}

json_t *hiked_control_run(struct hiked *d, struct hiked_control_stats *stats, uint64_t opened_ms,
                          const char *buf, size_t len)
{
    struct ctl_err err = {{0}};
    json_t *result = NULL;
    bool bad = true;
    json_error_t jerr;
    json_t *req = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!req) {
        ctl_fail(&err, "malformed request: %s (column %d)", jerr.text, jerr.column);
        goto reply;
    }
    if (!json_is_object(req)) {
        ctl_fail(&err, "malformed request: not a JSON object");
        goto reply;
    }
    const char *cmd = json_string_value(json_object_get(req, "cmd"));
    if (!cmd) {
        ctl_fail(&err, "malformed request: no \"cmd\" string");
        goto reply;
    }
    const struct ctl_command *c = NULL;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(commands[i].name, cmd))
            c = &commands[i];
    if (!c) {
        ctl_fail(&err, "unknown command '%.64s'", cmd);
        goto reply;
    }
    const char *key;
    json_t *val;
    json_object_foreach(req, key, val)
    {
        if (!field_known(c, key)) {
            ctl_fail(&err, "%s: unknown field '%.64s'", c->name, key);
            goto reply;
        }
    }
    bad = false;
    struct hiked_control_view view = {.stats = stats, .opened_ms = opened_ms};
    hk_debug(&d->log, "control: %s", c->name);
    result = c->fn(d, &view, req, &err);
    if (!result && !err.msg[0])
        ctl_fail(&err, "out of memory");
reply:
    json_decref(req);
    stats->requests++;
    if (bad)
        stats->bad_requests++;
    if (!result) {
        /* jansson quotes the input near a syntax error: keep the reply valid UTF-8. */
        for (char *p = err.msg; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
                *p = '?';
        stats->errors++;
        hk_debug(&d->log, "control: error reply: %s", err.msg);
        return json_pack("{s:b, s:s}", "ok", 0, "error", err.msg);
    }
    return json_pack("{s:b, s:o}", "ok", 1, "result", result);
}

static json_t *run_request(struct hiked_control *ctl, const char *buf, size_t len)
{
    return hiked_control_run(ctl->d, &ctl->stats, ctl->opened_ms, buf, len);
}

/* ---- clients ---- */

static void client_free(struct ctl_client *cl)
{
    struct hiked_control *ctl = cl->ctl;
    if (cl->prev)
        cl->prev->next = cl->next;
    else
        ctl->clients = cl->next;
    if (cl->next)
        cl->next->prev = cl->prev;
    ctl->nclients--;
    bufferevent_free(cl->bev);
    free(cl);
}

static void on_client_event(struct bufferevent *bev, short what, void *arg);

/* After the reply: read and discard until the client closes, so that closing with unread
 * input (an oversized request) does not reset the connection before the reply is read. */
static void on_client_drain(struct bufferevent *bev, void *arg)
{
    struct ctl_client *cl = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    cl->drained += evbuffer_get_length(in);
    evbuffer_drain(in, evbuffer_get_length(in));
    if (cl->drained > CTL_MAX_DRAIN)
        client_free(cl);
}

static void on_client_written(struct bufferevent *bev, void *arg)
{
    struct ctl_client *cl = arg;
    bufferevent_disable(bev, EV_WRITE);
    if (shutdown(bufferevent_getfd(bev), SHUT_WR)) {
        client_free(cl);
        return;
    }
    bufferevent_setcb(bev, on_client_drain, NULL, on_client_event, cl);
    bufferevent_setwatermark(bev, EV_READ, 0, 0);
    on_client_drain(bev, cl);
    if (cl->drained <= CTL_MAX_DRAIN)
        bufferevent_enable(bev, EV_READ);
}

static void send_reply(struct ctl_client *cl, json_t *reply)
{
    static const char oom[] = "{\"ok\":false,\"error\":\"out of memory\"}\n";
    char *text = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
    json_decref(reply);
    cl->replied = true;
    bufferevent_disable(cl->bev, EV_READ);
    bufferevent_setcb(cl->bev, NULL, on_client_written, on_client_event, cl);
    int rc =
        text ? bufferevent_write(cl->bev, text, strlen(text)) | bufferevent_write(cl->bev, "\n", 1)
             : bufferevent_write(cl->bev, oom, sizeof(oom) - 1);
    free(text);
    if (rc) {
        client_free(cl);
        return;
    }
    bufferevent_enable(cl->bev, EV_WRITE);
}

static void reply_error(struct ctl_client *cl, const char *msg)
{
    struct hiked_control *ctl = cl->ctl;
    ctl->stats.requests++;
    ctl->stats.errors++;
    send_reply(cl, json_pack("{s:b, s:s}", "ok", 0, "error", msg));
}

/* Handles a complete request of len octets at the front of the input buffer. */
static void serve(struct ctl_client *cl, size_t len)
{
    struct evbuffer *in = bufferevent_get_input(cl->bev);
    const char *buf = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
    if (!buf && len) {
        reply_error(cl, "out of memory");
        return;
    }
    send_reply(cl, run_request(cl->ctl, buf ? buf : "", len));
}

static void on_client_read(struct bufferevent *bev, void *arg)
{
    struct ctl_client *cl = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    if (cl->replied)
        return;
    struct evbuffer_ptr from;
    bool resume = !evbuffer_ptr_set(in, &from, cl->scanned, EVBUFFER_PTR_SET);
    struct evbuffer_ptr nl = evbuffer_search_eol(in, resume ? &from : NULL, NULL, EVBUFFER_EOL_LF);
    cl->scanned = evbuffer_get_length(in);
    if (nl.pos >= 0 && (size_t)nl.pos < CTL_MAX_REQUEST) {
        serve(cl, (size_t)nl.pos);
        return;
    }
    if (nl.pos >= 0 || evbuffer_get_length(in) >= CTL_MAX_REQUEST) {
        cl->ctl->stats.bad_requests++;
        reply_error(cl, "request too large (limit 65536 octets)");
    }
}

static void on_client_event(struct bufferevent *bev, short what, void *arg)
{
    struct ctl_client *cl = arg;
    struct hiked_control *ctl = cl->ctl;
    size_t pending = evbuffer_get_length(bufferevent_get_input(bev));
    if (cl->replied) {
        client_free(cl); /* closed after the reply, went away, or stalled */
        return;
    }
    if ((what & BEV_EVENT_EOF) && pending) {
        /* A request without its newline, then end of stream: take it as it is. */
        serve(cl, pending);
        return;
    }
    if (what & BEV_EVENT_TIMEOUT) {
        ctl->stats.timeouts++;
        ctl->stats.bad_requests++;
        reply_error(cl, "timed out waiting for the request");
        return;
    }
    client_free(cl);
}

static void on_accept(struct evconnlistener *lst, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    struct hiked_control *ctl = arg;
    (void)lst, (void)sa, (void)salen;
    struct ctl_client *cl = NULL;
    if (ctl->nclients >= CTL_MAX_CLIENTS || !(cl = calloc(1, sizeof(*cl)))) {
        ctl->stats.refused++;
        hk_warn(&ctl->d->log, "control: %zu clients already, refusing one", ctl->nclients);
        evutil_closesocket(fd);
        free(cl);
        return;
    }
    cl->ctl = ctl;
    cl->bev = bufferevent_socket_new(ctl->d->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!cl->bev) {
        evutil_closesocket(fd);
        free(cl);
        return;
    }
    cl->next = ctl->clients;
    if (cl->next)
        cl->next->prev = cl;
    ctl->clients = cl;
    ctl->nclients++;
    struct timeval rto = {.tv_sec = CTL_READ_TIMEOUT_S}, wto = {.tv_sec = CTL_WRITE_TIMEOUT_S};
    bufferevent_set_timeouts(cl->bev, &rto, &wto);
    bufferevent_setwatermark(cl->bev, EV_READ, 0, CTL_MAX_REQUEST);
    bufferevent_setcb(cl->bev, on_client_read, NULL, on_client_event, cl);
    bufferevent_enable(cl->bev, EV_READ);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
    struct hiked_control *ctl = arg;
    (void)fd, (void)what;
    evconnlistener_enable(ctl->lst);
}

static void on_accept_error(struct evconnlistener *lst, void *arg)
{
    struct hiked_control *ctl = arg;
    int e = EVUTIL_SOCKET_ERROR();
    /* Out of descriptors or memory: the listening socket stays readable, so pause. */
    hk_warn(&ctl->d->log, "control: accept: %s; pausing for a second", strerror(e));
    evconnlistener_disable(lst);
    struct timeval one = {.tv_sec = 1};
    evtimer_add(ctl->resume, &one);
}

/* ---- the socket file ---- */

/* Creates the socket's directory (0700) and any missing parents (0755). */
static int make_dir(struct hiked *d, const char *path)
{
    char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return HK_OK;
    *slash = '\0';
    struct stat st;
    bool missing = stat(dir, &st) != 0;
    for (char *p = dir + 1; missing && *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0755) && errno != EEXIST) {
            hk_err(&d->log, "control: cannot create %s: %s", dir, strerror(errno));
            return HK_E_IO;
        }
        *p = '/';
    }
    /* The socket's own directory: made 0700, or an existing one that only hiked's user (or
     * root) can write to: someone else could replace the socket (the socket itself is 0600).
     * hiked's user is daemon.user when set (we are still root here, privdrop.h). */
    char err[320];
    const struct passwd *pw = d->cfg->daemon.user ? getpwnam(d->cfg->daemon.user) : NULL;
    int fd = hk_dir_open_checked(dir, HK_DIR_NO_FOREIGN_WRITE, pw ? pw->pw_uid : HK_DIR_OWNER_SELF,
                                 err, sizeof(err));
    if (fd < 0) {
        hk_err(&d->log, "control: %s", err);
        return fd;
    }
    close(fd);
    return HK_OK;
}

/* A socket file left by a hiked that died is removed; one that answers is not ours. */
static int clear_stale(struct hiked *d, const struct sockaddr_un *sun)
{
    struct stat st;
    if (lstat(sun->sun_path, &st))
        return errno == ENOENT ? HK_OK : HK_E_IO;
    if (!S_ISSOCK(st.st_mode)) {
        hk_err(&d->log, "control: %s exists and is not a socket", sun->sun_path);
        return HK_E_EXISTS;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return HK_E_IO;
    int live = !connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
    close(fd);
    if (live) {
        hk_err(&d->log, "control: another process answers on %s (is hiked running already?)",
               sun->sun_path);
        return HK_E_EXISTS;
    }
    if (unlink(sun->sun_path) && errno != ENOENT)
        return HK_E_IO;
    return HK_OK;
}

int hiked_control_open(struct hiked *d)
{
    const char *path = d->cfg->daemon.control_socket;
    if (!path)
        path = HK_CONF_CONTROL_SOCKET;
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sun.sun_path)) {
        hk_err(&d->log, "control: socket name too long: %s", path);
        return HK_E_INVALID;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    struct hiked_control *ctl = calloc(1, sizeof(*ctl));
    if (!ctl || !(ctl->path = strdup(path))) {
        free(ctl);
        return HK_E_NOMEM;
    }
    ctl->d = d;
    d->ctl = ctl;
    int rc = make_dir(d, path);
    if (!rc)
        rc = clear_stale(d, &sun);
    if (rc)
        return rc;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return HK_E_IO;
    mode_t old = umask(0077); /* no moment at which the socket is open to others */
    int b = bind(fd, (const struct sockaddr *)&sun, sizeof(sun));
    int e = errno;
    umask(old);
    if (b) {
        hk_err(&d->log, "control: bind %s: %s", path, strerror(e));
        close(fd);
        return HK_E_IO;
    }
    ctl->created = true;
    if (chmod(path, 0600) || listen(fd, CTL_BACKLOG)) {
        hk_err(&d->log, "control: %s: %s", path, strerror(errno));
        close(fd);
        return HK_E_IO;
    }
    ctl->lst = evconnlistener_new(d->base, on_accept, ctl,
                                  LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
    ctl->resume = evtimer_new(d->base, on_resume, ctl);
    if (!ctl->lst || !ctl->resume) {
        if (!ctl->lst)
            close(fd);
        return HK_E_NOMEM;
    }
    evconnlistener_set_error_cb(ctl->lst, on_accept_error);
    ctl->opened_ms = ctl_now(d);
    hk_info(&d->log, "control socket %s", path);
    return HK_OK;
}

void hiked_control_close(struct hiked *d)
{
    struct hiked_control *ctl = d->ctl;
    if (!ctl)
        return;
    while (ctl->clients)
        client_free(ctl->clients);
    if (ctl->lst)
        evconnlistener_free(ctl->lst);
    if (ctl->resume)
        event_free(ctl->resume);
    if (ctl->created)
        unlink(ctl->path);
    free(ctl->path);
    free(ctl);
    d->ctl = NULL;
}
