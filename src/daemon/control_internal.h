/*
 * Inside the control socket: control.c frames requests and replies, the control_*.c
 * files answer the commands. A handler gets the request object and returns a new JSON
 * value (the "result" of the reply), or NULL with a one-line reason in err.
 */
#ifndef HIKE_DAEMON_CONTROL_INTERNAL_H
#define HIKE_DAEMON_CONTROL_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "daemon/hiked.h"

/* Counters of the control socket itself (shown by stats). */
struct hiked_control_stats {
    uint64_t requests;     /* replies sent, good or bad */
    uint64_t errors;       /* replies with ok=false */
    uint64_t bad_requests; /* too large, not JSON, not an object, unknown command or field */
    uint64_t timeouts;     /* clients that did not send a whole request in time */
    uint64_t refused;      /* connections closed at once: too many clients */
};

/* The state that handlers may read besides struct hiked. */
struct hiked_control_view {
    const struct hiked_control_stats *stats;
    uint64_t opened_ms; /* engine clock when the socket opened (daemon uptime) */
};

/*
 * Answers one request (len octets of JSON, without the newline): the reply object, never NULL
 * unless memory ran out; stats counts it. Apart from the socket so that the request handling
 * can be fuzzed without one (tests/fuzz/fuzz_control.c).
 */
json_t *hiked_control_run(struct hiked *d, struct hiked_control_stats *stats, uint64_t opened_ms,
                          const char *buf, size_t len);

struct ctl_err {
    char msg[512];
};
/* Sets the reason and returns NULL, for "return ctl_fail(err, ...);". */
json_t *ctl_fail(struct ctl_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef json_t *(*ctl_handler)(struct hiked *d, const struct hiked_control_view *v,
                               const json_t *req, struct ctl_err *err);

json_t *ctl_list_sas(struct hiked *d, const struct hiked_control_view *v, const json_t *req,
                     struct ctl_err *err);
json_t *ctl_list_conns(struct hiked *d, const struct hiked_control_view *v, const json_t *req,
                       struct ctl_err *err);
json_t *ctl_stats(struct hiked *d, const struct hiked_control_view *v, const json_t *req,
                  struct ctl_err *err);
json_t *ctl_initiate(struct hiked *d, const struct hiked_control_view *v, const json_t *req,
                     struct ctl_err *err);
json_t *ctl_terminate(struct hiked *d, const struct hiked_control_view *v, const json_t *req,
                      struct ctl_err *err);
json_t *ctl_rekey(struct hiked *d, const struct hiked_control_view *v, const json_t *req,
                  struct ctl_err *err);
json_t *ctl_clone(struct hiked *d, const struct hiked_control_view *v, const json_t *req,
                  struct ctl_err *err);
json_t *ctl_migrate(struct hiked *d, const struct hiked_control_view *v, const json_t *req,
                    struct ctl_err *err);
json_t *ctl_reload(struct hiked *d, const struct hiked_control_view *v, const json_t *req,
                   struct ctl_err *err);
json_t *ctl_log_level(struct hiked *d, const struct hiked_control_view *v, const json_t *req,
                      struct ctl_err *err);

/* Helpers shared by the handlers. */
uint64_t ctl_now(struct hiked *d);
/* "192.0.2.1:500", "[2001:db8::1]:4500"; "" for an unset address. */
char *ctl_addr_port(const struct sockaddr_storage *a, char *buf, size_t len);
/* Seconds from ms to now, 0 when ms is 0 or in the future. */
json_int_t ctl_age(uint64_t now, uint64_t ms);
/* json_object_set_new that tolerates NULL values (allocation failures surface later). */
void ctl_set(json_t *obj, const char *key, json_t *val);

#endif
