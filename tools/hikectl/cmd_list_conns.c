/* hikectl list-conns: one line per connection, an indented line per child. */
#include "hikectl.h"

#include <stdlib.h>

static const char *const conn_head[] = {"NAME",     "LOCAL",     "REMOTE", "PORTS", "AUTH",
                                        "LOCAL-ID", "REMOTE-ID", "START",  "SAS",   "IKE"};
static const char *const child_head[] = {"CHILD", "LOCAL-TS", "REMOTE-TS", "MODE", "START", "ESP"};

static void child_row(struct table *t, const json_t *c)
{
    char *lts = out_join(c, "local_ts", ","), *rts = out_join(c, "remote_ts", ","),
         *esp = out_join(c, "esp", ",");
    const char *cells[] = {out_str(c, "name"),         lts, rts, out_str(c, "mode"),
                           out_str(c, "start_action"), esp};
    table_row(t, 1, cells);
    free(lts);
    free(rts);
    free(esp);
}

static void human(const json_t *r)
{
    size_t i, k;
    const json_t *conn, *c;
    if (!json_array_size(r)) {
        printf("no connections configured\n");
        return;
    }
    struct table *t = table_new();
    table_group(t, 0, 0, (int)(sizeof(conn_head) / sizeof(*conn_head)), conn_head);
    table_group(t, 1, 2, (int)(sizeof(child_head) / sizeof(*child_head)), child_head);
    json_array_foreach(r, i, conn)
    {
        char ports[32], auth[64], sas[24];
        snprintf(ports, sizeof(ports), "%lld/%lld", out_int(conn, "local_port"),
                 out_int(conn, "remote_port"));
        snprintf(auth, sizeof(auth), "%s/%s", out_str(conn, "local_auth"),
                 out_str(conn, "remote_auth"));
        snprintf(sas, sizeof(sas), "%lld", out_int(conn, "ike_sas"));
        char *local = out_join(conn, "local_addrs", ","),
             *remote = out_join(conn, "remote_addrs", ","), *ike = out_join(conn, "ike", ",");
        const char *cells[] = {out_str(conn, "name"),
                               local,
                               remote,
                               ports,
                               auth,
                               out_str(conn, "local_id"),
                               out_str(conn, "remote_id"),
                               out_str(conn, "start_action"),
                               sas,
                               ike};
        table_row(t, 0, cells);
        free(local);
        free(remote);
        free(ike);
        json_array_foreach(json_object_get(conn, "children"), k, c)
        {
            child_row(t, c);
        }
    }
    table_print(t, stdout);
    table_free(t);
}

static int run(struct hikectl *ctx, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return hikectl_usage(&hikectl_cmd_list_conns);
    return hikectl_run(ctx, json_pack("{s:s}", "cmd", "list-conns"), human);
}

const struct hikectl_cmd hikectl_cmd_list_conns = {
    "list-conns", "", "configured connections: addresses, identities, proposals, children", run};
