/*
 * Writes the sample messages as binary files into a folder: the seed corpus of
 * fuzz_msg_decode (tests/fuzz/corpus/msg_decode/) was made with
 *   build/codec_seeds tests/fuzz/corpus/msg_decode
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/cbb.h"
#include "sample_msgs.h"

static int write_one(const char *dir, const char *name, void (*build)(struct sample *))
{
    static struct sample s;
    struct hk_cbb b;
    char path[4096];
    build(&s);
    hk_cbb_init(&b, 0, 0);
    int rc = ike_msg_encode(&s.msg, &b);
    if (rc) {
        fprintf(stderr, "%s: encode failed: %d\n", name, rc);
        hk_cbb_free(&b);
        return 1;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(b.buf, 1, b.len, f) != b.len || fclose(f)) {
        perror(path);
        hk_cbb_free(&b);
        return 1;
    }
    hk_cbb_free(&b);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    int bad = 0;
    bad |= write_one(argv[1], "sa_init_req", sample_sa_init_req);
    bad |= write_one(argv[1], "sa_init_resp", sample_sa_init_resp);
    bad |= write_one(argv[1], "ike_auth_req", sample_ike_auth_req);
    bad |= write_one(argv[1], "informational", sample_informational);
    bad |= write_one(argv[1], "skf", sample_skf);
    bad |= write_one(argv[1], "all_payloads", sample_all_payloads);
    return bad ? EXIT_FAILURE : EXIT_SUCCESS;
}
