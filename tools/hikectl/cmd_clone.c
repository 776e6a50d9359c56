/* hikectl clone ID: a parallel IKE SA from an established one (RFC 7791). */
#include "hikectl.h"

static void human(const json_t *r)
{
    long long nid = out_int(r, "clone");
    if (nid)
        printf("cloning IKE SA %lld: new IKE SA %lld\n", out_int(r, "ike"), nid);
    else
        printf("cloning IKE SA %lld: queued behind its exchange in progress\n", out_int(r, "ike"));
}

static int run(struct hikectl *ctx, int argc, char **argv)
{
    if (argc != 2)
        return hikectl_usage(&hikectl_cmd_clone);
    json_int_t id;
    if (!out_parse_id(argv[1], &id)) {
        fprintf(stderr, "hikectl: '%s' is not an IKE SA id\n", argv[1]);
        return hikectl_usage(&hikectl_cmd_clone);
    }
    return hikectl_run(ctx, json_pack("{s:s, s:I}", "cmd", "clone", "ike", id), human);
}

const struct hikectl_cmd hikectl_cmd_clone = {
    "clone", "IKE-SA-ID",
    "clone an IKE SA without a new authentication (RFC 7791; the peer must support it)", run};
