/*
 * hikectl: talks to hiked over its control socket (docs/control.md). main.c parses the
 * global options and dispatches through the command table; each cmd_*.c file holds one
 * command: its help line, its request and its human output.
 */
#ifndef HIKE_TOOLS_HIKECTL_H
#define HIKE_TOOLS_HIKECTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Exit codes. */
#define HIKECTL_OK    0
#define HIKECTL_FAIL  1 /* hiked unreachable, or it refused the command */
#define HIKECTL_USAGE 2

struct hikectl {
    const char *socket;
    bool json;                  /* print the server's result as JSON */
    const char *local, *remote; /* --local, --remote (migrate) */
};

struct hikectl_cmd {
    const char *name;
    const char *args; /* argument synopsis, "" when none */
    const char *help; /* one line for --help */
    /* argv[0] is the command name. Returns an exit code. */
    int (*run)(struct hikectl *ctx, int argc, char **argv);
};

extern const struct hikectl_cmd hikectl_cmd_list_sas, hikectl_cmd_list_conns, hikectl_cmd_initiate,
    hikectl_cmd_terminate, hikectl_cmd_rekey, hikectl_cmd_reload, hikectl_cmd_stats,
    hikectl_cmd_log_level, hikectl_cmd_clone, hikectl_cmd_migrate;

/* client.c */
/*
 * Sends req (consumed) and waits for the reply. On success *result holds the reply's
 * result (a new reference) and HIKECTL_OK is returned; otherwise the reason is printed on
 * stderr and HIKECTL_FAIL returned.
 */
int hikectl_call(struct hikectl *ctx, json_t *req, json_t **result);
/* hikectl_call, then the result printed as JSON (--json) or by human(). */
int hikectl_run(struct hikectl *ctx, json_t *req, void (*human)(const json_t *result));
/* Prints "usage: hikectl NAME ARGS" on stderr and returns HIKECTL_USAGE. */
int hikectl_usage(const struct hikectl_cmd *cmd);

/* output.c: reading replies and printing tables. */
/* A string member, or "" when absent or not a string. */
const char *out_str(const json_t *o, const char *key);
/* An integer member, or 0. */
long long out_int(const json_t *o, const char *key);
/* The strings of an array member joined by sep ("-" when empty); malloc'd, never NULL. */
char *out_join(const json_t *o, const char *key, const char *sep);
/* An IKE SA id: decimal digits only, 1..LLONG_MAX. */
bool out_parse_id(const char *s, json_int_t *id);
/* "42s", "3m05s", "2h10m", "4d03h"; "-" for a negative or null value. */
char *out_age(const json_t *v, char *buf, size_t len);

#define TABLE_GROUPS 2
struct table;
/* A table whose rows belong to groups (IKE SAs and their children), each group with its
 * own columns, header and indentation, interleaved in the order rows are added. */
struct table *table_new(void);
void table_group(struct table *t, int g, int indent, int ncols, const char *const *head);
/* ncols cells of group g, copied. */
void table_row(struct table *t, int g, const char *const *cells);
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);

#endif
