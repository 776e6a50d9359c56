/* IKEv2 key derivation: NIST IKEv2 KDF vectors, key splitting order and sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "crypto/alg.h"
#include "crypto/crypto.h"
#include "crypto/kdf.h"
#include "crypto/prf.h"

#include "testutil.h"

/*
 * NIST SP 800-135 IKEv2 KDF component test, HMAC-SHA-256, DKM length 3072 bits: the
 * "IKEv2 SHA2-256" known-answer case of NIST's ACVP server (usnistgov/ACVP-Server,
 * crypto/test/NIST.CVP.Crypto.IKEv2.Tests/IKEv2Tests.cs; KDF of SP 800-135 Rev. 1 4.1.2).
 * As in the CAVP/ACVP IKEv2 KDF test, SK_d for the Child SA and rekey computations is the
 * first PRF-output octets of DKM.
 */
static const struct nist_case {
    const char *ni, *nr, *gir, *gir_new, *spii, *spir;
    const char *skeyseed, *dkm, *dkm_child, *dkm_child_dh, *skeyseed_rekey;
} nist_sha256 = {
    .ni = "0a58fea9c1d4fee2e74e1aad6fb02dd5f318eb127465a112be8dc3c04d5dba62"
          "eae708f9dc1b2362afd6ba4bda3cf5000f4979fbcbadbcfda9291593829c4e90"
          "5c21db0c2ee15175ce77a8a0dadf25c7f175bc53fd91b636a9b3c50b203de9b9"
          "d6dc463dcb4048f101e26498ceaed3afbcd931394a7e099392dfff82e5d6fa85"
          "c2e8a8ab90ad363a66795dc32798847e405acd87988140f973058917273a6b0b"
          "afb962c75e2b1a21e79c08beeb82168bf8b4b57f3dce867bf7862a7b8acbc21b"
          "e838021913daf64340c055ed17aaf7b6e1d0ca33ae890ddbdb83f4e615aad5e3"
          "bff58c3db70bac81a0dfbabe5391fc62bca4659e22a0741e01d8d06e67d9bb41",
    .nr = "e4fdfa68df6171d9eaff8b7b5ad31e7c6098d259f3397c9854cbefe7449b0864"
          "c1df16ddece8b26567560f8d59182a44c19149c2d0d72606a160021ade3d23c7"
          "c6936c91a4b6bec37adf38cfc84b851c68dcee06f81306f63abbefc07e231e30"
          "58c49437a557df617eac01663593d2a3e594699284c0a35eae6931492ccb2a43"
          "db72a600a3899205d681d2b76b1280e456339bb10e0c584aecfdae31c77a4c40"
          "dbcb345f782ac32835d4c220c1e97254ded6a40075dd717b00b69c86a49e8017"
          "73026536ae02d58a649827f1ba67610ee936dffd11c9d5a9156631916a0a0046"
          "ec0ba42f56f2a18de83d5d71a985b0cc9eec2c06b3d907ca58454419f374069d",
    .gir = "9d469de41b4739c7dd01f19aa94f17e48150ae9dbede94832142db19",
    .gir_new = "c2987b0767006c3b9aea491bfed1646a3d7194639492b8d45b23b383",
    .spii = "c8de93111750e409",
    .spir = "32d51b33508997fa",
    .skeyseed = "eec13ac67c2e072abb684ab4e7b6ce3e7f400af8b96bed48e113497ed337f8d4",
    .dkm = "bc83518f63b762874ac57947cdfae33a8d9724df0b83ee4b6df38c23fc2ad829"
           "f4d70b5a68dd1f5a52416f09758638aedf919c09a17c5298cdb703bb75b1005c"
           "ba0109739aaa4efd2fe7534c95ad05e546e4419931270eddcab68ac1589d7fde"
           "47f5b9e8d5b614cb24ec3caf515497a9e99ee6f1b318ff153b539ef071dcaff9"
           "b41945dcb780700d69e5dc888a91de195c52825badfd0ab4c33cec71ab5c2b4b"
           "adefe5455455ce5d8ae91721a2091bcccc1514e69482c9c8da1d9f0f187eedda"
           "916393570a8c0a8dfabc26d8ed31e8ea47662515972a22d11d692bc1fac6395a"
           "ecd82a01ab78daafcd6f3070b1201f158a19331b5d21ceee66fccd2ea37bc076"
           "48b9539a52dbf797af53e31a0e8706dd86cf5081ebabd095f281d23c222dd3bc"
           "5abf06869017ca8f751cafcc85abea6ba88c139d1f32a12f7f486cf57eae5d85"
           "551b97f3963616d8f597c70efa98c1e1fa369fb77a80b1ec5fe533890672c455"
           "1172eab1b7fd68ad08c4d4c69f2a867302065ca730aa6915bc2cfb6d93820977",
    .dkm_child = "c725012285d56e53244a9baaaf95abfca543708d333a3f3a86ba660e00edd4d4"
                 "89bcd631819fda0413382edd9f53d1ed718e056c2ad91d38de90f06cd434de70"
                 "141d051c021e7ddd6e4137946b4770dca59a4decabdd866852eb557fdd995646"
                 "613ff2923f5f23aa58c8fbd5ad52cf2eac9bda97faad5596695f4a747a0f1cc6"
                 "a1f78b2181138fb19ac24574d2e6b3a40d6e688abb919a27d793b76568ec66bd"
                 "099f6f476b705c1472d774a1516a11311b887688f36649e24227640ea8d8666b"
                 "9f452217e7103b6f0a92b6adb8fbda650ba58d6ac13ac6f6b6361a5d1c44f1e9"
                 "f22196c96295115c5d01a120e7265962d20353a049286908da776c2165f706a1"
                 "6f43d85fcd319f89c4386340bcb8ed10df38345cb68af719abaf997e9789a5f1"
                 "9a392dcecd78168ba282f0b30555c7a47031a3156d12d7158aa41b863b8394d3"
                 "0fec63120e89cbc5750eed7786f7d5961b1f2e6faca641ed776d2211bee757b6"
                 "8b77f94056172553715da9fbd1c9a8728f28a2f3c9714a4917490132562484cd",
    .dkm_child_dh = "140a1f2a3c94318ece6edfa8c63f37d8d45982de8b6cbfe34011150db0253e34"
                    "de3796d4aa579954a0bbf234794eb6e7ece2a8f91100f5507df4ee8e66c7813d"
                    "4c0ff64d484a3494c54b0d9c605ea24234a49a010ce5c352feb9e1060c8c7872"
                    "29466296cdc9d11bb9d221ed2bb39544572464254ec02a0fbe777b07402c775e"
                    "b6d3e53cd16214c707f851942cc7da92a811b6c5c82f29d9fc3751b0ebff9898"
                    "fb14372402a6989ffb9cc32dfe7e2cea32fd882e09804d7fea34ce3b5eb6f303"
                    "e095c48a452b0a3eccada81af22195ebbaad289aeabdab074c94e751496bde39"
                    "d868ebf1d693f36d1c3c672bbb59c9f77aeb68de57d77da231b7f13d6d277f60"
                    "0c3d3086c4de7b3a59127f4cb9c118935574f30e1b7c88b52c8c3531fdbd38ee"
                    "3d14c69e81803ced6e7501fa0180f6d110b648272002dc1ad5bf09dc83188011"
                    "da1d48632e0d2453c8abdd8e9fd32a576aeb9ddfb0a024f674441c20a950d9bd"
                    "8cd7b30933cc0d8e87b55e8aa9d913579b410417b3acc13c14bf73c457327873",
    .skeyseed_rekey = "05f796c8df322a7e33283ae5fa2f376d8d5efa0ac3745fc548e430031424c121",
};

struct bufs {
    uint8_t *ni, *nr, *gir, *gir_new, *spii, *spir, *skeyseed, *dkm, *child, *child_dh, *rekey;
    size_t nil, nrl, girl, girnl, spiil, spirl, skl, dkml, childl, childdhl, rekeyl;
};

static void load(struct bufs *b)
{
    const struct nist_case *t = &nist_sha256;
    b->ni = test_unhex_alloc(t->ni, &b->nil);
    b->nr = test_unhex_alloc(t->nr, &b->nrl);
    b->gir = test_unhex_alloc(t->gir, &b->girl);
    b->gir_new = test_unhex_alloc(t->gir_new, &b->girnl);
    b->spii = test_unhex_alloc(t->spii, &b->spiil);
    b->spir = test_unhex_alloc(t->spir, &b->spirl);
    b->skeyseed = test_unhex_alloc(t->skeyseed, &b->skl);
    b->dkm = test_unhex_alloc(t->dkm, &b->dkml);
    b->child = test_unhex_alloc(t->dkm_child, &b->childl);
    b->child_dh = test_unhex_alloc(t->dkm_child_dh, &b->childdhl);
    b->rekey = test_unhex_alloc(t->skeyseed_rekey, &b->rekeyl);
    assert_int_equal(b->spiil, 8);
    assert_int_equal(b->spirl, 8);
    assert_int_equal(b->dkml, 3072 / 8);
}

static void unload(struct bufs *b)
{
    free(b->ni);
    free(b->nr);
    free(b->gir);
    free(b->gir_new);
    free(b->spii);
    free(b->spir);
    free(b->skeyseed);
    free(b->dkm);
    free(b->child);
    free(b->child_dh);
    free(b->rekey);
}

static void nist_ikev2_kdf_sha256(void **state)
{
    const struct hk_crypto *c = *state;
    const uint16_t prf = HK_PRF_HMAC_SHA2_256;
    struct bufs b;
    load(&b);

    /* SKEYSEED = prf(Ni | Nr, g^ir) */
    struct hk_secret *skeyseed;
    assert_int_equal(hk_skeyseed(c, prf, b.ni, b.nil, b.nr, b.nrl, b.gir, b.girl, &skeyseed), 0);
    assert_int_equal(skeyseed->len, b.skl);
    assert_memory_equal(skeyseed->data, b.skeyseed, b.skl);

    /* DKM = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr), all 384 octets */
    uint8_t dkm[3072 / 8];
    const struct hk_prf_seg seed[] = {{b.ni, b.nil}, {b.nr, b.nrl}, {b.spii, 8}, {b.spir, 8}};
    assert_int_equal(
        hk_prf_plus_segs(c, prf, skeyseed->data, skeyseed->len, seed, 4, dkm, sizeof(dkm)), 0);
    assert_memory_equal(dkm, b.dkm, sizeof(dkm));

    /* The same stream through hk_ike_keys_derive: AES-CBC-256 with HMAC-SHA2-256-128. */
    const struct hk_ike_alg alg = {HK_ENCR_AES_CBC, 256, prf, HK_AUTH_HMAC_SHA2_256_128,
                                   HK_KE_ECP256};
    struct hk_ike_keys k;
    assert_int_equal(
        hk_ike_keys_derive(c, &alg, skeyseed, b.ni, b.nil, b.nr, b.nrl, b.spii, b.spir, &k), 0);
    const struct hk_secret *order[] = {k.sk_d,  k.sk_ai, k.sk_ar, k.sk_ei,
                                       k.sk_er, k.sk_pi, k.sk_pr};
    size_t off = 0;
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(order[i]->len, 32);
        assert_memory_equal(order[i]->data, b.dkm + off, 32);
        off += 32;
    }

    /* Child SA: KEYMAT = prf+(SK_d, Ni | Nr), then with PFS prf+(SK_d, g^ir (new) | Ni | Nr) */
    struct hk_secret *km;
    assert_int_equal(
        hk_child_keymat(c, prf, k.sk_d, NULL, 0, b.ni, b.nil, b.nr, b.nrl, b.childl, &km), 0);
    assert_memory_equal(km->data, b.child, b.childl);
    hk_secret_free(&km);
    assert_int_equal(hk_child_keymat(c, prf, k.sk_d, b.gir_new, b.girnl, b.ni, b.nil, b.nr, b.nrl,
                                     b.childdhl, &km),
                     0);
    assert_memory_equal(km->data, b.child_dh, b.childdhl);
    hk_secret_free(&km);

    /* Rekey: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) */
    struct hk_secret *rekey;
    assert_int_equal(
        hk_skeyseed_rekey(c, prf, k.sk_d, b.gir_new, b.girnl, b.ni, b.nil, b.nr, b.nrl, &rekey), 0);
    assert_int_equal(rekey->len, b.rekeyl);
    assert_memory_equal(rekey->data, b.rekey, b.rekeyl);

    hk_secret_free(&rekey);
    hk_ike_keys_free(&k);
    assert_null(k.sk_d);
    assert_null(k.sk_pr);
    hk_secret_free(&skeyseed);
    unload(&b);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + 7 * i);
}

/* Checks that keys are consecutive slices of the prf+ stream, with the given lengths. */
static void check_ike_split(const struct hk_crypto *c, const struct hk_ike_alg *alg,
                            const size_t want_len[7])
{
    uint8_t ni[32], nr[48], spi_i[8], spi_r[8], skeyseed[64], seed[32 + 48 + 16];
    fill(ni, sizeof(ni), 1);
    fill(nr, sizeof(nr), 2);
    fill(spi_i, 8, 3);
    fill(spi_r, 8, 4);
    size_t h = hk_prf_out_len(alg->prf);
    fill(skeyseed, h, 5);
    struct hk_secret *ss = hk_secret_dup(skeyseed, h);
    memcpy(seed, ni, 32);
    memcpy(seed + 32, nr, 48);
    memcpy(seed + 80, spi_i, 8);
    memcpy(seed + 88, spi_r, 8);
    size_t total = 0;
    for (size_t i = 0; i < 7; i++)
        total += want_len[i];
    uint8_t stream[512];
    test_prf_plus_by_hand(alg->prf, skeyseed, h, seed, sizeof(seed), stream, total);

    struct hk_ike_keys k;
    assert_int_equal(hk_ike_keys_derive(c, alg, ss, ni, 32, nr, 48, spi_i, spi_r, &k), 0);
    const struct hk_secret *got[] = {k.sk_d, k.sk_ai, k.sk_ar, k.sk_ei, k.sk_er, k.sk_pi, k.sk_pr};
    size_t off = 0;
    for (size_t i = 0; i < 7; i++) {
        if (!want_len[i]) {
            assert_null(got[i]);
            continue;
        }
        assert_non_null(got[i]);
        assert_int_equal(got[i]->len, want_len[i]);
        assert_memory_equal(got[i]->data, stream + off, want_len[i]);
        off += want_len[i];
    }
    hk_ike_keys_free(&k);
    hk_secret_free(&ss);
}

static void ike_keys_split_order_and_sizes(void **state)
{
    const struct hk_crypto *c = *state;
    /* SK_d, SK_ai, SK_ar, SK_ei, SK_er, SK_pi, SK_pr */
    const struct hk_ike_alg gcm = {HK_ENCR_AES_GCM_16, 256, HK_PRF_HMAC_SHA2_256, HK_AUTH_NONE,
                                   HK_KE_CURVE25519};
    const size_t gcm_len[7] = {32, 0, 0, 36, 36, 32, 32}; /* RFC 5282 7.1: key + 4 salt */
    check_ike_split(c, &gcm, gcm_len);

    const struct hk_ike_alg gcm128 = {HK_ENCR_AES_GCM_16, 128, HK_PRF_HMAC_SHA2_384, HK_AUTH_NONE,
                                      HK_KE_ECP384};
    const size_t gcm128_len[7] = {48, 0, 0, 20, 20, 48, 48};
    check_ike_split(c, &gcm128, gcm128_len);

    const struct hk_ike_alg cbc = {HK_ENCR_AES_CBC, 128, HK_PRF_HMAC_SHA2_256,
                                   HK_AUTH_HMAC_SHA2_256_128, HK_KE_MODP2048};
    const size_t cbc_len[7] = {32, 32, 32, 16, 16, 32, 32};
    check_ike_split(c, &cbc, cbc_len);

    const struct hk_ike_alg cbc2 = {HK_ENCR_AES_CBC, 192, HK_PRF_HMAC_SHA2_384,
                                    HK_AUTH_HMAC_SHA2_512_256, HK_KE_ECP256};
    const size_t cbc2_len[7] = {48, 64, 64, 24, 24, 48, 48};
    check_ike_split(c, &cbc2, cbc2_len);

    const struct hk_ike_alg chacha = {HK_ENCR_CHACHA20_POLY1305, 0, HK_PRF_HMAC_SHA2_512,
                                      HK_AUTH_NONE, HK_KE_CURVE25519};
    const size_t chacha_len[7] = {64, 0, 0, 36, 36, 64, 64}; /* RFC 7634 3 */
    check_ike_split(c, &chacha, chacha_len);
}

static void key_length_helpers(void **state)
{
    (void)state;
    assert_int_equal(hk_encr_key_len(HK_ENCR_AES_CBC, 128), 16);
    assert_int_equal(hk_encr_key_len(HK_ENCR_AES_CBC, 192), 24);
    assert_int_equal(hk_encr_key_len(HK_ENCR_AES_CBC, 256), 32);
    assert_int_equal(hk_encr_key_len(HK_ENCR_AES_CBC, 0), 0);
    assert_int_equal(hk_encr_key_len(HK_ENCR_AES_GCM_16, 128), 20);
    assert_int_equal(hk_encr_key_len(HK_ENCR_AES_GCM_16, 256), 36);
    assert_int_equal(hk_encr_key_len(HK_ENCR_AES_GCM_16, 192), 0);
    assert_int_equal(hk_encr_key_len(HK_ENCR_CHACHA20_POLY1305, 0), 36);
    assert_int_equal(hk_encr_key_len(HK_ENCR_CHACHA20_POLY1305, 128), 0);
    assert_int_equal(hk_encr_key_len(3 /* 3DES */, 0), 0);
    assert_int_equal(hk_integ_key_len(HK_AUTH_HMAC_SHA2_256_128), 32);
    assert_int_equal(hk_integ_key_len(HK_AUTH_HMAC_SHA2_384_192), 48);
    assert_int_equal(hk_integ_key_len(HK_AUTH_HMAC_SHA2_512_256), 64);
    assert_int_equal(hk_integ_key_len(HK_AUTH_NONE), 0);
    assert_true(hk_encr_is_aead(HK_ENCR_AES_GCM_16));
    assert_true(hk_encr_is_aead(HK_ENCR_CHACHA20_POLY1305));
    assert_false(hk_encr_is_aead(HK_ENCR_AES_CBC));
}

static void ike_keys_reject_bad_combinations(void **state)
{
    const struct hk_crypto *c = *state;
    uint8_t n[16] = {0}, spi[8] = {0};
    struct hk_secret *ss = hk_secret_new(32);
    struct hk_ike_keys k;
    const struct {
        struct hk_ike_alg alg;
        int err;
    } bad[] = {
        {{HK_ENCR_AES_GCM_16, 128, HK_PRF_HMAC_SHA2_256, HK_AUTH_HMAC_SHA2_256_128, 19},
         HK_E_INVALID},
        {{HK_ENCR_AES_CBC, 128, HK_PRF_HMAC_SHA2_256, HK_AUTH_NONE, 19}, HK_E_INVALID},
        {{HK_ENCR_AES_CBC, 100, HK_PRF_HMAC_SHA2_256, HK_AUTH_HMAC_SHA2_256_128, 19},
         HK_E_UNSUPPORTED},
        {{HK_ENCR_AES_CBC, 128, 2 /* HMAC-SHA1 */, HK_AUTH_HMAC_SHA2_256_128, 19},
         HK_E_UNSUPPORTED},
        {{HK_ENCR_AES_CBC, 128, HK_PRF_HMAC_SHA2_256, 2 /* HMAC-SHA1-96 */, 19}, HK_E_UNSUPPORTED},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(hk_ike_keys_derive(c, &bad[i].alg, ss, n, 16, n, 16, spi, spi, &k),
                         bad[i].err);
        assert_null(k.sk_d);
        assert_null(k.sk_ei);
    }
    hk_secret_free(&ss);
}

static void skeyseed_argument_checks(void **state)
{
    const struct hk_crypto *c = *state;
    uint8_t n[257] = {0}, g[32] = {1};
    struct hk_secret *out = (struct hk_secret *)1, *skd = hk_secret_new(32);
    /* RFC 7296 2.10: nonces are 16 to 256 octets. */
    assert_int_equal(hk_skeyseed(c, HK_PRF_HMAC_SHA2_256, n, 257, n, 16, g, 32, &out),
                     HK_E_INVALID);
    assert_null(out);
    assert_int_equal(hk_skeyseed(c, HK_PRF_HMAC_SHA2_256, n, 256, n, 256, g, 32, &out), 0);
    hk_secret_free(&out);
    assert_int_equal(hk_skeyseed(c, 2, n, 16, n, 16, g, 32, &out), HK_E_UNSUPPORTED);
    /* RFC 7296 2.18: rekeying an IKE SA always includes a new DH exchange. */
    assert_int_equal(hk_skeyseed_rekey(c, HK_PRF_HMAC_SHA2_256, skd, NULL, 0, n, 16, n, 16, &out),
                     HK_E_INVALID);
    /* KEYMAT beyond 255 PRF outputs is undefined (2.13). */
    assert_int_equal(
        hk_child_keymat(c, HK_PRF_HMAC_SHA2_256, skd, NULL, 0, n, 16, n, 16, 255 * 32 + 1, &out),
        HK_E_OVERFLOW);
    assert_null(out);
    hk_secret_free(&skd);
}

/* SHA-384/512 have no published IKEv2 KDF vectors at hand: compare with the formulas. */
static void sha384_sha512_against_formulas(void **state)
{
    const struct hk_crypto *c = *state;
    const uint16_t prfs[] = {HK_PRF_HMAC_SHA2_384, HK_PRF_HMAC_SHA2_512};
    uint8_t ni[40], nr[24], g[97], g_new[97], spi[16];
    fill(ni, sizeof(ni), 9);
    fill(nr, sizeof(nr), 10);
    fill(g, sizeof(g), 11);
    fill(g_new, sizeof(g_new), 12);
    fill(spi, sizeof(spi), 13);
    for (size_t j = 0; j < 2; j++) {
        uint16_t prf = prfs[j];
        size_t h = hk_prf_out_len(prf), mlen = 0;
        uint8_t key[64], want[64], buf[300];

        /* SKEYSEED = prf(Ni | Nr, g^ir) */
        memcpy(key, ni, 40);
        memcpy(key + 40, nr, 24);
        assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, test_prf_md_name(prf), NULL, key, 64, g,
                                  sizeof(g), want, sizeof(want), &mlen));
        struct hk_secret *ss;
        assert_int_equal(hk_skeyseed(c, prf, ni, 40, nr, 24, g, sizeof(g), &ss), 0);
        assert_int_equal(ss->len, h);
        assert_memory_equal(ss->data, want, h);

        /* rekey: prf(SK_d, g^ir (new) | Ni | Nr) with SK_d = SKEYSEED here */
        memcpy(buf, g_new, 97);
        memcpy(buf + 97, ni, 40);
        memcpy(buf + 137, nr, 24);
        assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, test_prf_md_name(prf), NULL, ss->data, h, buf,
                                  161, want, sizeof(want), &mlen));
        struct hk_secret *rk;
        assert_int_equal(hk_skeyseed_rekey(c, prf, ss, g_new, 97, ni, 40, nr, 24, &rk), 0);
        assert_memory_equal(rk->data, want, h);

        /* KEYMAT with and without PFS */
        uint8_t km_want[200];
        struct hk_secret *km;
        test_prf_plus_by_hand(prf, ss->data, h, buf, 161, km_want, sizeof(km_want));
        assert_int_equal(hk_child_keymat(c, prf, ss, g_new, 97, ni, 40, nr, 24, 200, &km), 0);
        assert_memory_equal(km->data, km_want, 200);
        hk_secret_free(&km);
        test_prf_plus_by_hand(prf, ss->data, h, buf + 97, 64, km_want, sizeof(km_want));
        assert_int_equal(hk_child_keymat(c, prf, ss, NULL, 0, ni, 40, nr, 24, 200, &km), 0);
        assert_memory_equal(km->data, km_want, 200);
        hk_secret_free(&km);
        hk_secret_free(&rk);
        hk_secret_free(&ss);
    }
}

static void child_keys_split_order(void **state)
{
    (void)state;
    uint8_t raw[2 * (32 + 32)];
    fill(raw, sizeof(raw), 0x40);

    /* CBC-256 + HMAC-SHA2-256-128: encr_ir | integ_ir | encr_ri | integ_ri (RFC 7296 2.17) */
    struct hk_secret *km = hk_secret_dup(raw, hk_child_keymat_len(32, 32));
    struct hk_child_keys k;
    assert_int_equal(hk_child_keys_split(km, 32, 32, &k), 0);
    assert_memory_equal(k.encr_ir->data, raw, 32);
    assert_memory_equal(k.integ_ir->data, raw + 32, 32);
    assert_memory_equal(k.encr_ri->data, raw + 64, 32);
    assert_memory_equal(k.integ_ri->data, raw + 96, 32);
    hk_child_keys_free(&k);
    assert_null(k.encr_ir);
    hk_secret_free(&km);

    /* AES-GCM-128 (RFC 4106 8.1: 16 + 4 salt), no integrity keys */
    size_t e = hk_encr_key_len(HK_ENCR_AES_GCM_16, 128);
    km = hk_secret_dup(raw, hk_child_keymat_len(e, 0));
    assert_int_equal(km->len, 40);
    assert_int_equal(hk_child_keys_split(km, e, 0, &k), 0);
    assert_int_equal(k.encr_ir->len, 20);
    assert_memory_equal(k.encr_ir->data, raw, 20);
    assert_memory_equal(k.encr_ri->data, raw + 20, 20);
    assert_null(k.integ_ir);
    assert_null(k.integ_ri);
    hk_child_keys_free(&k);

    /* The KEYMAT must be exactly what one SA pair takes. */
    assert_int_equal(hk_child_keys_split(km, 16, 0, &k), HK_E_INVALID);
    assert_int_equal(hk_child_keys_split(km, 0, 0, &k), HK_E_INVALID);
    assert_null(k.encr_ir);
    hk_secret_free(&km);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nist_ikev2_kdf_sha256),
        cmocka_unit_test(ike_keys_split_order_and_sizes),
        cmocka_unit_test(key_length_helpers),
        cmocka_unit_test(ike_keys_reject_bad_combinations),
        cmocka_unit_test(skeyseed_argument_checks),
        cmocka_unit_test(sha384_sha512_against_formulas),
        cmocka_unit_test(child_keys_split_order),
    };
    return cmocka_run_group_tests(tests, test_crypto_setup, test_crypto_teardown);
}
