/* hikectl stats: "name value" lines, nested objects as dotted names. */
#include "hikectl.h"

#include <string.h>

struct line {
    char name[128];
    char value[64];
};

static size_t flatten(const json_t *o, const char *prefix, struct line *lines, size_t n, size_t max)
{
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)o, key, v)
    {
        char name[128];
        snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "", key);
        if (json_is_object(v)) {
            n = flatten(v, name, lines, n, max);
            continue;
        }
        if (n == max)
            return n;
        snprintf(lines[n].name, sizeof(lines[n].name), "%s", name);
        if (json_is_integer(v))
            snprintf(lines[n].value, sizeof(lines[n].value), "%lld",
                     (long long)json_integer_value(v));
        else if (json_is_string(v))
            snprintf(lines[n].value, sizeof(lines[n].value), "%s", json_string_value(v));
        else
            snprintf(lines[n].value, sizeof(lines[n].value), "%s",
                     json_is_true(v)    ? "true"
                     : json_is_false(v) ? "false"
                                        : "-");
        n++;
    }
    return n;
}

static void human(const json_t *r)
{
    static struct line lines[256];
    size_t n = flatten(r, "", lines, 0, sizeof(lines) / sizeof(lines[0])), w = 0;
    for (size_t i = 0; i < n; i++)
        w = strlen(lines[i].name) > w ? strlen(lines[i].name) : w;
    for (size_t i = 0; i < n; i++)
        printf("%-*s  %s\n", (int)w, lines[i].name, lines[i].value);
}

static int run(struct hikectl *ctx, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return hikectl_usage(&hikectl_cmd_stats);
    return hikectl_run(ctx, json_pack("{s:s}", "cmd", "stats"), human);
}

const struct hikectl_cmd hikectl_cmd_stats = {
    "stats", "", "counters: exchanges, retransmits, dropped messages by reason, SAs", run};
