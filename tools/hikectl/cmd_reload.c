/* hikectl reload */
#include "hikectl.h"

static void human(const json_t *r)
{
    printf("configuration reloaded from %s: %lld connections\n", out_str(r, "config"),
           out_int(r, "connections"));
}

static int run(struct hikectl *ctx, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return hikectl_usage(&hikectl_cmd_reload);
    return hikectl_run(ctx, json_pack("{s:s}", "cmd", "reload"), human);
}

const struct hikectl_cmd hikectl_cmd_reload = {
    "reload", "", "read the configuration file again (as SIGHUP does)", run};
