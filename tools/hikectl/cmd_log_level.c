/* hikectl log-level [LEVEL]: without LEVEL, shows the current one. */
#include "hikectl.h"

static void human(const json_t *r)
{
    const char *prev = out_str(r, "previous");
    if (*prev)
        printf("log level %s (was %s)\n", out_str(r, "level"), prev);
    else
        printf("log level %s\n", out_str(r, "level"));
}

static int run(struct hikectl *ctx, int argc, char **argv)
{
    if (argc > 2)
        return hikectl_usage(&hikectl_cmd_log_level);
    json_t *req = argc == 2 ? json_pack("{s:s, s:s}", "cmd", "log-level", "level", argv[1])
                            : json_pack("{s:s}", "cmd", "log-level");
    return hikectl_run(ctx, req, human);
}

const struct hikectl_cmd hikectl_cmd_log_level = {
    "log-level", "[LEVEL]", "show or set hiked's log level: error, warn, info, debug", run};
