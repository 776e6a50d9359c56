/* Fuzzes the SA context decoder (src/ctx, docs/context.md): a context from another node is
 * attacker input. Whatever it accepts must pass the checks, encode again, and decode from
 * that encoding to the same octets once more; nothing may crash or leak. Seeds: a full and a
 * small context in each key mode (HIKE_CTX_SEEDS=DIR build/test_ctx writes them). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "ctx/ctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hk_ctx_ike c, again;
    struct hk_diag d = {0};
    /* An exact-size copy so ASan sees any read past the end. */
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    memcpy(p, data, size);
    int rc = hk_ctx_decode(p, size, &c, &d);
    free(p);
    if (rc < 0) {
        if (!d.msg[0] && rc != HK_E_NOMEM)
            abort(); /* every rejection says why */
        return 0;
    }
    if (hk_ctx_ike_check(&c, &d) != HK_OK)
        abort();
    struct hk_secret *enc = NULL, *enc2 = NULL;
    if (hk_ctx_encode(&c, &enc, &d) != HK_OK)
        abort();
    if (hk_ctx_decode(enc->data, enc->len, &again, &d) != HK_OK)
        abort();
    if (hk_ctx_encode(&again, &enc2, &d) != HK_OK || enc2->len != enc->len ||
        memcmp(enc2->data, enc->data, enc->len) != 0)
        abort();
    hk_secret_free(&enc);
    hk_secret_free(&enc2);
    hk_ctx_ike_free(&again);
    hk_ctx_ike_free(&c);
    return 0;
}
