/*
 * Fuzzes the verification of signature Authentication Data: RFC 7427 method 14 (ASN.1 length,
 * AlgorithmIdentifier in DER, signature: the AlgorithmIdentifier parser with its PSS and hash
 * parameters) and the legacy methods 1, 9, 10, 11. Octet 0 picks the public key (bits 0-1:
 * RSA-2048, P-256, Ed25519, P-384) and the method (bits 2-4: 14, 14, 1, 9, 10, 11, 14, 14);
 * the rest is the Authentication Data. Keys are made once per process, so a signature in the
 * input never verifies: what is fuzzed is everything before the signature check, and the
 * check itself on junk. The answer must be one of the documented errors.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "unit/certgen.h"
#include "common/err.h"
#include "crypto/sig.h"
#include "fw_world.h"

static EVP_PKEY *keys[4];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t octets[] = "the octets an AUTH payload signs (RFC 7296 2.15)";
    static const uint8_t methods[8] = {14, 14, 1, 9, 10, 11, 14, 14};
    if (!keys[0]) {
        keys[0] = cg_key_new(CG_RSA2048);
        keys[1] = cg_key_new(CG_P256);
        keys[2] = cg_key_new(CG_ED25519);
        keys[3] = cg_key_new(CG_P384);
        if (!keys[0] || !keys[1] || !keys[2] || !keys[3])
            abort();
    }
    if (size < 1)
        return 0;
    EVP_PKEY *k = keys[data[0] & 3];
    uint8_t method = methods[(data[0] >> 2) & 7];
    size_t len = size - 1;
    uint8_t *ad = malloc(len ? len : 1); /* exactly the field's size, for ASan */
    if (!ad)
        abort();
    memcpy(ad, data + 1, len);
    struct hk_diag d = {0}; /* the reason is filled in too: exercised, not checked */
    int rc = method == 14 ? hk_auth_sig_verify(fw_crypto(), k, ad, len, octets, sizeof(octets), &d)
                          : hk_auth_sig_verify_legacy(fw_crypto(), method, k, ad, len, octets,
                                                      sizeof(octets));
    if (rc != HK_E_SYNTAX && rc != HK_E_UNSUPPORTED && rc != HK_E_AUTH && rc != HK_E_INVALID &&
        rc != HK_E_NOMEM && rc != HK_E_CRYPTO)
        abort(); /* 0 would be a forged signature; anything else is undocumented */
    free(ad);
    return 0;
}
