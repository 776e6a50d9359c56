/* hikectl initiate CONN */
#include "hikectl.h"

static void human(const json_t *r)
{
    printf("initiating %s: IKE SA %lld\n", out_str(r, "conn"), out_int(r, "ike"));
}

static int run(struct hikectl *ctx, int argc, char **argv)
{
    if (argc != 2)
        return hikectl_usage(&hikectl_cmd_initiate);
    return hikectl_run(ctx, json_pack("{s:s, s:s}", "cmd", "initiate", "conn", argv[1]), human);
}

const struct hikectl_cmd hikectl_cmd_initiate = {
    "initiate", "CONN", "start an IKE SA (and its children) of a connection", run};
