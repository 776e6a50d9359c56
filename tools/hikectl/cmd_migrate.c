/* hikectl migrate ID --local ADDR [--remote ADDR]: moves an IKE SA with MOBIKE (RFC 4555). */
#include "hikectl.h"

#include <string.h>

static void human(const json_t *r)
{
    printf("moving IKE SA %lld to %s - %s\n", out_int(r, "ike"), out_str(r, "local"),
           out_str(r, "remote"));
}

static int run(struct hikectl *ctx, int argc, char **argv)
{
    json_int_t id = 0;
    const char *local = NULL, *remote = NULL;
    bool have_id = false;
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "--local") || !strcmp(argv[i], "--remote")) && i + 1 < argc) {
            *(argv[i][2] == 'l' ? &local : &remote) = argv[i + 1];
            i++;
        } else if (!have_id && out_parse_id(argv[i], &id)) {
            have_id = true;
        } else {
            fprintf(stderr, "hikectl: migrate: unexpected '%s'\n", argv[i]);
            return hikectl_usage(&hikectl_cmd_migrate);
        }
    }
    if (!have_id || !local)
        return hikectl_usage(&hikectl_cmd_migrate);
    json_t *req = json_pack("{s:s, s:I, s:s}", "cmd", "migrate", "ike", id, "local", local);
    if (req && remote)
        json_object_set_new(req, "remote", json_string(remote));
    return hikectl_run(ctx, req, human);
}

const struct hikectl_cmd hikectl_cmd_migrate = {
    "migrate", "ID --local ADDR [--remote ADDR]",
    "move an IKE SA we initiated and its Child SAs to other addresses (MOBIKE, RFC 4555)", run};
