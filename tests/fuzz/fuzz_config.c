/*
 * Fuzzes the configuration parser (libconfig text to struct hk_config, with every check the
 * loader makes: names, types, ranges, algorithms, selectors, identities, pools) and what an
 * engine builds from an accepted configuration (address pools, the selectors of each child).
 * A configuration is refused with a message or accepted; nothing else may happen.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw_world.h"

/* libconfig's @include opens files: a fuzzer that wrote "/dev/zero" would hang. */
static int has_include(const char *s)
{
    for (; (s = strchr(s, '@')); s++) {
        const char *w = "include";
        size_t i = 0;
        while (w[i] && tolower((unsigned char)s[1 + i]) == w[i])
            i++;
        if (!w[i])
            return 1;
    }
    return 0;
}

static int local_addr(void *arg, const struct sockaddr_storage *remote,
                      struct sockaddr_storage *local)
{
    (void)arg;
    *local = *remote;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), err[256];
    struct hk_config *cfg = NULL;
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (has_include(text)) {
        free(text);
        return 0;
    }
    int rc = hk_config_load_string(text, &cfg, err, sizeof(err));
    if (rc && (cfg || !memchr(err, 0, sizeof(err)) || !err[0]))
        abort(); /* a refusal must say why and hand back nothing */
    if (!rc) {
        struct ike_engine e;
        struct ike_engine_ops ops = {.local_addr = local_addr};
        if (!ike_engine_init(&e, fw_crypto(), NULL, cfg, &ops)) {
            for (size_t i = 0; i < cfg->nconns; i++) {
                const struct hk_conn *conn = &cfg->conns[i];
                if (hk_config_find_conn(cfg, conn->name) == NULL)
                    abort();
                for (size_t j = 0; j < conn->nchildren; j++) {
                    struct ike_ts l[8], r[8];
                    size_t nl = 0, nr = 0;
                    ike_engine_trap_selectors(&e, conn->name, j, l, &nl, r, &nr, 8);
                    if (nl > 8 || nr > 8)
                        abort();
                }
            }
            ike_engine_free(&e);
        }
        hk_config_free(cfg);
    }
    free(text);
    return 0;
}
