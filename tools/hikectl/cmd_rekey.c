/* hikectl rekey ID: an IKE SA id rekeys the IKE SA, a Child SA id the Child SA. */
#include "hikectl.h"

static void human(const json_t *r)
{
    printf("rekeying %s %lld\n", out_str(r, "rekeying"), out_int(r, "ike"));
}

static int run(struct hikectl *ctx, int argc, char **argv)
{
    if (argc != 2)
        return hikectl_usage(&hikectl_cmd_rekey);
    json_int_t id;
    if (!out_parse_id(argv[1], &id)) {
        fprintf(stderr, "hikectl: '%s' is not an IKE SA id\n", argv[1]);
        return hikectl_usage(&hikectl_cmd_rekey);
    }
    return hikectl_run(ctx, json_pack("{s:s, s:I}", "cmd", "rekey", "ike", id), human);
}

const struct hikectl_cmd hikectl_cmd_rekey = {
    "rekey", "ID", "rekey an IKE SA or a Child SA (ids as list-sas shows them)", run};
