/* hikectl migrate ID --local ADDR [--remote ADDR]: moves an IKE SA with MOBIKE (RFC 4555).
 * --local and --remote are parsed in main.c with the global options. */
#include "hikectl.h"

static void human(const json_t *r)
{
    printf("moving IKE SA %lld to %s - %s\n", out_int(r, "ike"), out_str(r, "local"),
           out_str(r, "remote"));
}

static int run(struct hikectl *ctx, int argc, char **argv)
{
    json_int_t id;
    if (argc != 2 || !ctx->local)
        return hikectl_usage(&hikectl_cmd_migrate);
    if (!out_parse_id(argv[1], &id)) {
        fprintf(stderr, "hikectl: '%s' is not an IKE SA id\n", argv[1]);
        return hikectl_usage(&hikectl_cmd_migrate);
    }
    json_t *req = json_pack("{s:s, s:I, s:s}", "cmd", "migrate", "ike", id, "local", ctx->local);
    if (req && ctx->remote && json_object_set_new(req, "remote", json_string(ctx->remote))) {
        json_decref(req);
        req = NULL;
    }
    return hikectl_run(ctx, req, human);
}

const struct hikectl_cmd hikectl_cmd_migrate = {
    "migrate", "ID --local IP [--remote IP]",
    "move an IKE SA we initiated to other addresses (MOBIKE, RFC 4555)", run};
