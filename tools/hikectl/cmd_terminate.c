/* hikectl terminate CONN|IKE-ID: a number is an IKE SA id (names start with a letter). */
#include "hikectl.h"

static void human(const json_t *r)
{
    const json_t *ids = json_object_get(r, "terminated"), *v;
    size_t i, n = json_array_size(ids);
    if (!n) {
        printf("%s: no IKE SA to terminate\n", out_str(r, "conn"));
        return;
    }
    printf("terminating %zu IKE SA%s of %s:", n, n == 1 ? "" : "s", out_str(r, "conn"));
    json_array_foreach(ids, i, v)
    {
        printf(" %lld", (long long)json_integer_value(v));
    }
    printf("\n");
}

static int run(struct hikectl *ctx, int argc, char **argv)
{
    if (argc != 2 || !argv[1][0])
        return hikectl_usage(&hikectl_cmd_terminate);
    json_t *req;
    if (argv[1][0] >= '0' && argv[1][0] <= '9') {
        json_int_t id;
        if (!out_parse_id(argv[1], &id)) {
            fprintf(stderr, "hikectl: '%s' is not an IKE SA id\n", argv[1]);
            return hikectl_usage(&hikectl_cmd_terminate);
        }
        req = json_pack("{s:s, s:I}", "cmd", "terminate", "ike", id);
    } else {
        req = json_pack("{s:s, s:s}", "cmd", "terminate", "conn", argv[1]);
    }
    return hikectl_run(ctx, req, human);
}

const struct hikectl_cmd hikectl_cmd_terminate = {
    "terminate", "CONN|IKE-ID", "delete one IKE SA by id, or every IKE SA of a connection", run};
