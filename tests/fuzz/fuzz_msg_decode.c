/*
 * Fuzz target for the message codec: ike_msg_decode on arbitrary bytes; when it
 * succeeds, the re-encoding must give back the input exactly (the codec's round-trip
 * contract). The same bytes are also decoded as a header-less chain (SK plaintext)
 * starting with type input[0], and re-encoded likewise.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "common/cbb.h"
#include "common/err.h"
#include "ike/codec/msg.h"

#define ARENA_LIMIT (1u << 20)

static void check_error(int rc, const struct hk_diag *d, const char *what)
{
    if (rc != HK_E_SHORT && rc != HK_E_LENGTH && rc != HK_E_SYNTAX && rc != HK_E_UNSUPPORTED &&
        rc != HK_E_NOMEM) {
        fprintf(stderr, "%s: undefined error %d\n", what, rc);
        abort();
    }
    if (!d->msg[0]) {
        fprintf(stderr, "%s: error %d without a diagnostic\n", what, rc);
        abort();
    }
}

static void same_bytes(const struct hk_cbb *b, const uint8_t *data, size_t size, const char *what)
{
    if (b->len != size || (size && memcmp(b->buf, data, size))) {
        fprintf(stderr, "%s: re-encoding differs (%zu vs %zu octets)\n", what, b->len, size);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hk_arena a;
    struct hk_diag d = {{0}};
    struct ike_msg m;
    struct hk_cbb b;

    hk_arena_init(&a, ARENA_LIMIT);
    int rc = ike_msg_decode(data, size, &m, &a, &d);
    if (rc) {
        check_error(rc, &d, "ike_msg_decode");
    } else {
        hk_cbb_init(&b, 0, 0);
        if (ike_msg_encode(&m, &b)) {
            fprintf(stderr, "ike_msg_encode failed on a decoded message\n");
            abort();
        }
        same_bytes(&b, data, size, "ike_msg_encode");
        hk_cbb_free(&b);
    }
    hk_arena_free(&a);

    if (size == 0)
        return 0;
    hk_arena_init(&a, ARENA_LIMIT);
    memset(&m, 0, sizeof(m));
    memset(&d, 0, sizeof(d));
    rc = ike_payloads_decode(data[0], data + 1, size - 1, &m, &a, &d);
    if (rc) {
        check_error(rc, &d, "ike_payloads_decode");
        if (m.npayloads) {
            fprintf(stderr, "ike_payloads_decode changed the message on failure\n");
            abort();
        }
    } else {
        uint8_t first;
        hk_cbb_init(&b, 0, 0);
        if (ike_payloads_encode(m.payloads, m.npayloads, &first, &b)) {
            fprintf(stderr, "ike_payloads_encode failed on a decoded chain\n");
            abort();
        }
        if (first != (m.npayloads ? data[0] : 0) || (m.npayloads == 0 && size != 1)) {
            fprintf(stderr, "ike_payloads_decode: first payload %u for input %u\n", first, data[0]);
            abort();
        }
        same_bytes(&b, data + 1, size - 1, "ike_payloads_encode");
        hk_cbb_free(&b);
    }
    hk_arena_free(&a);
    return 0;
}
