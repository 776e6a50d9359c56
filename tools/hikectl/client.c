/* The client side of the control protocol: one request, one reply, per connection. */
#include "hikectl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define REPLY_TIMEOUT_S 30
#define REPLY_MAX       (1024u * 1024 * 1024) /* a list of many SAs is large, but finite */

static int connect_socket(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sun.sun_path)) {
        fprintf(stderr, "hikectl: socket name too long: %s\n", path);
        return -1;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "hikectl: socket: %s\n", strerror(errno));
        return -1;
    }
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
        int e = errno;
        fprintf(stderr, "hikectl: cannot reach hiked at %s: %s (%s)\n", path, strerror(e),
                e == EACCES || e == EPERM ? "hikectl needs the rights of hiked's user, root"
                                          : "is hiked running?");
        close(fd);
        return -1;
    }
    struct timeval tv = {.tv_sec = REPLY_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads to end of stream into a malloc'd buffer. */
static char *recv_all(int fd, size_t *len, const char *path)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            char *nb = cap < REPLY_MAX ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                fprintf(stderr, "hikectl: reply from hiked too large\n");
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = recv(fd, buf + n, cap - n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                fprintf(stderr, "hikectl: no reply from hiked at %s within %d s\n", path,
                        REPLY_TIMEOUT_S);
            else
                fprintf(stderr, "hikectl: reading from %s: %s\n", path, strerror(errno));
            break;
        }
        if (r == 0) {
            *len = n;
            return buf;
        }
        n += (size_t)r;
    }
    free(buf);
    return NULL;
}

int hikectl_call(struct hikectl *ctx, json_t *req, json_t **result)
{
    *result = NULL;
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!text) {
        fprintf(stderr, "hikectl: out of memory\n");
        return HIKECTL_FAIL;
    }
    int fd = connect_socket(ctx->socket);
    if (fd < 0) {
        free(text);
        return HIKECTL_FAIL;
    }
    int rc = send_all(fd, text, strlen(text)) || send_all(fd, "\n", 1);
    free(text);
    if (rc) {
        fprintf(stderr, "hikectl: sending to %s: %s\n", ctx->socket, strerror(errno));
        close(fd);
        return HIKECTL_FAIL;
    }
    size_t len = 0;
    char *buf = recv_all(fd, &len, ctx->socket);
    close(fd);
    if (!buf)
        return HIKECTL_FAIL;
    if (!len) {
        free(buf);
        fprintf(stderr, "hikectl: hiked closed the connection without a reply\n");
        return HIKECTL_FAIL;
    }
    json_error_t jerr;
    json_t *reply = json_loadb(buf, len, 0, &jerr);
    free(buf);
    const json_t *ok = json_object_get(reply, "ok");
    if (!json_is_boolean(ok)) {
        fprintf(stderr, "hikectl: malformed reply from hiked: %s\n",
                reply ? "no \"ok\" member" : jerr.text);
        json_decref(reply);
        return HIKECTL_FAIL;
    }
    if (!json_is_true(ok)) {
        const char *e = json_string_value(json_object_get(reply, "error"));
        fprintf(stderr, "hikectl: %s\n", e ? e : "hiked refused the command");
        json_decref(reply);
        return HIKECTL_FAIL;
    }
    *result = json_incref(json_object_get(reply, "result"));
    json_decref(reply);
    if (!*result)
        *result = json_null();
    return HIKECTL_OK;
}

int hikectl_run(struct hikectl *ctx, json_t *req, void (*human)(const json_t *result))
{
    json_t *result;
    int rc = hikectl_call(ctx, req, &result);
    if (rc)
        return rc;
    if (ctx->json) {
        char *text = json_dumps(result, JSON_INDENT(2) | JSON_ENCODE_ANY);
        if (text)
            printf("%s\n", text);
        free(text);
    } else {
        human(result);
    }
    json_decref(result);
    if (fflush(stdout) || ferror(stdout)) {
        fprintf(stderr, "hikectl: writing output: %s\n", strerror(errno));
        return HIKECTL_FAIL;
    }
    return HIKECTL_OK;
}

int hikectl_usage(const struct hikectl_cmd *cmd)
{
    fprintf(stderr, "usage: hikectl [-s SOCKET] [--json] %s%s%s\n", cmd->name,
            *cmd->args ? " " : "", cmd->args);
    return HIKECTL_USAGE;
}
