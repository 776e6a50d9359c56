/* hikectl list-sas: one line per IKE SA, an indented line per Child SA. */
#include "hikectl.h"

#include <stdlib.h>

static const char *const ike_head[] = {"ID",    "FAMILY", "NAME", "CONN", "STATE", "ROLE",
                                       "LOCAL", "REMOTE", "NAT",  "PEER", "AGE",   "ALGORITHMS"};
static const char *const child_head[] = {
    "CHILD",     "NAME",     "STATE",     "MODE",  "SPI-IN", "SPI-OUT",   "LOCAL-TS",
    "REMOTE-TS", "IN PKT/B", "OUT PKT/B", "DROPS", "AGE",    "ALGORITHMS"};

static void child_row(struct table *t, const json_t *c)
{
    char id[24], age[32], in[48] = "-", out[48] = "-", drops[48] = "-";
    snprintf(id, sizeof(id), "%lld", out_int(c, "id"));
    const json_t *tr = json_object_get(c, "traffic");
    if (json_is_object(tr)) {
        snprintf(in, sizeof(in), "%lld/%lld", out_int(tr, "packets_in"), out_int(tr, "bytes_in"));
        snprintf(out, sizeof(out), "%lld/%lld", out_int(tr, "packets_out"),
                 out_int(tr, "bytes_out"));
        /* replay drops / integrity failures */
        snprintf(drops, sizeof(drops), "%lld/%lld", out_int(tr, "replay_drops"),
                 out_int(tr, "auth_failures"));
    }
    char *lts = out_join(c, "local_ts", ","), *rts = out_join(c, "remote_ts", ",");
    const char *cells[] = {id,
                           out_str(c, "name"),
                           out_str(c, "state"),
                           out_str(c, "mode"),
                           out_str(c, "spi_in"),
                           out_str(c, "spi_out"),
                           lts,
                           rts,
                           in,
                           out,
                           drops,
                           out_age(json_object_get(c, "age"), age, sizeof(age)),
                           out_str(c, "algorithms")};
    table_row(t, 1, cells);
    free(lts);
    free(rts);
}

static void human(const json_t *r)
{
    size_t i, k;
    const json_t *sa, *c;
    if (!json_array_size(r)) {
        printf("no IKE SAs\n");
        return;
    }
    struct table *t = table_new();
    table_group(t, 0, 0, (int)(sizeof(ike_head) / sizeof(*ike_head)), ike_head);
    table_group(t, 1, 2, (int)(sizeof(child_head) / sizeof(*child_head)), child_head);
    json_array_foreach(r, i, sa)
    {
        char id[24], fam[24], age[32], peer[1200];
        bool nl = json_is_true(json_object_get(sa, "nat_local")),
             nr = json_is_true(json_object_get(sa, "nat_remote"));
        const json_t *pid = json_object_get(sa, "peer_id");
        snprintf(id, sizeof(id), "%lld", out_int(sa, "id"));
        /* RFC 7791: the clone family, named by its first IKE SA ("-" before IKE_AUTH). */
        if (out_int(sa, "family"))
            snprintf(fam, sizeof(fam), "%lld", out_int(sa, "family"));
        else
            snprintf(fam, sizeof(fam), "-");
        if (json_is_object(pid))
            snprintf(peer, sizeof(peer), "%s:%s", out_str(pid, "type"), out_str(pid, "value"));
        else
            snprintf(peer, sizeof(peer), "-");
        const char *cells[] = {id,
                               fam,
                               out_str(sa, "name"),
                               out_str(sa, "conn"),
                               out_str(sa, "state"),
                               json_is_true(json_object_get(sa, "initiator")) ? "initiator"
                                                                              : "responder",
                               out_str(sa, "local"),
                               out_str(sa, "remote"),
                               nl && nr ? "both"
                               : nl     ? "local"
                               : nr     ? "remote"
                                        : "-",
                               peer,
                               out_age(json_object_get(sa, "age"), age, sizeof(age)),
                               out_str(sa, "algorithms")};
        table_row(t, 0, cells);
        json_array_foreach(json_object_get(sa, "children"), k, c)
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
        return hikectl_usage(&hikectl_cmd_list_sas);
    return hikectl_run(ctx, json_pack("{s:s}", "cmd", "list-sas"), human);
}

const struct hikectl_cmd hikectl_cmd_list_sas = {
    "list-sas", "", "IKE SAs and their Child SAs: state, SPIs, addresses, algorithms, traffic, age",
    run};
