/* SK payload transforms: published vectors, round trips, and every rejection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit/testutil.h"
#include <string.h>

#include "common/err.h"
#include "crypto/alg.h"
#include "crypto/crypto.h"
#include "crypto/sk_cipher.h"

struct aead_vec {
    const char *name;
    uint16_t encr, bits;
    const char *key_salt, *iv, *aad, *pt, *ct, *tag;
};

/* Seals pt, compares with ct|tag, opens it back, and checks one flipped bit of each part fails. */
static void check_aead(const struct hk_crypto *c, const struct aead_vec *v)
{
    uint8_t key[64], iv[16], aad[64], pt[128], ct[128], tag[16], buf[128], icv[16];
    size_t kl = test_unhex(v->key_salt, key, sizeof(key));
    size_t ivl = test_unhex(v->iv, iv, sizeof(iv));
    size_t al = test_unhex(v->aad, aad, sizeof(aad));
    size_t pl = test_unhex(v->pt, pt, sizeof(pt));
    assert_int_equal(test_unhex(v->ct, ct, sizeof(ct)), pl);
    assert_int_equal(test_unhex(v->tag, tag, sizeof(tag)), 16);
    struct hk_sk_cipher *s;
    assert_int_equal(hk_sk_cipher_new(c, v->encr, v->bits, HK_AUTH_NONE, key, kl, NULL, 0, &s), 0);
    assert_int_equal(hk_sk_cipher_iv_len(s), ivl);
    assert_int_equal(hk_sk_cipher_icv_len(s), 16);
    assert_int_equal(hk_sk_cipher_block_len(s), 1);

    memcpy(buf, pt, pl);
    assert_int_equal(hk_sk_cipher_seal(s, aad, al, iv, buf, pl, icv), 0);
    assert_memory_equal(buf, ct, pl);
    assert_memory_equal(icv, tag, 16);
    assert_int_equal(hk_sk_cipher_open(s, aad, al, iv, buf, pl, icv), 0);
    assert_memory_equal(buf, pt, pl);

    /* Again through the same contexts: only the IV is reset per message. */
    memcpy(buf, ct, pl);
    assert_int_equal(hk_sk_cipher_open(s, aad, al, iv, buf, pl, tag), 0);
    assert_memory_equal(buf, pt, pl);

    /* Contexts dropped (an idle IKE SA) are rebuilt from the kept key: same results. */
    hk_sk_cipher_idle(s);
    assert_true(hk_sk_cipher_is_idle(s));
    memcpy(buf, pt, pl);
    assert_int_equal(hk_sk_cipher_seal(s, aad, al, iv, buf, pl, icv), 0);
    assert_memory_equal(buf, ct, pl);
    assert_memory_equal(icv, tag, 16);
    assert_false(hk_sk_cipher_is_idle(s));
    hk_sk_cipher_idle(s);
    assert_int_equal(hk_sk_cipher_open(s, aad, al, iv, buf, pl, icv), 0);
    assert_memory_equal(buf, pt, pl);

    memcpy(buf, ct, pl);
    icv[15] ^= 1;
    assert_int_equal(hk_sk_cipher_open(s, aad, al, iv, buf, pl, icv), HK_E_AUTH);
    icv[15] ^= 1;
    memcpy(buf, ct, pl);
    buf[pl / 2] ^= 0x80;
    assert_int_equal(hk_sk_cipher_open(s, aad, al, iv, buf, pl, icv), HK_E_AUTH);
    if (al) {
        memcpy(buf, ct, pl);
        aad[0] ^= 1;
        assert_int_equal(hk_sk_cipher_open(s, aad, al, iv, buf, pl, icv), HK_E_AUTH);
        aad[0] ^= 1;
    }
    memcpy(buf, ct, pl);
    iv[7] ^= 1;
    assert_int_equal(hk_sk_cipher_open(s, aad, al, iv, buf, pl, icv), HK_E_AUTH);
    hk_sk_cipher_free(s);
}

/*
 * "The Galois/Counter Mode of Operation (GCM)", McGrew & Viega, revised 2005, Appendix B,
 * Test Cases 3, 4 (AES-128) and 15, 16 (AES-256). Their 96-bit IV cafebabefacedbaddecaf888
 * splits into the RFC 5282 4 nonce: salt cafebabe (appended to the key) | IV facedbaddecaf888.
 */
#define GCM_K "feffe9928665731c6d6a8f9467308308"
#define GCM_P60                                                                                    \
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"                             \
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_A "feedfacedeadbeeffeedfacedeadbeefabaddad2"
static const struct aead_vec gcm_vecs[] = {
    {"GCM TC3", HK_ENCR_AES_GCM_16, 128, GCM_K "cafebabe", "facedbaddecaf888", "",
     GCM_P60 "1aafd255",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
     "4d5c2af327cd64a62cf35abd2ba6fab4"},
    {"GCM TC4", HK_ENCR_AES_GCM_16, 128, GCM_K "cafebabe", "facedbaddecaf888", GCM_A, GCM_P60,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {"GCM TC15", HK_ENCR_AES_GCM_16, 256, GCM_K GCM_K "cafebabe", "facedbaddecaf888", "",
     GCM_P60 "1aafd255",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"GCM TC16", HK_ENCR_AES_GCM_16, 256, GCM_K GCM_K "cafebabe", "facedbaddecaf888", GCM_A,
     GCM_P60,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

static void gcm_spec_vectors(void **state)
{
    for (size_t i = 0; i < sizeof(gcm_vecs) / sizeof(gcm_vecs[0]); i++) {
        print_message("%s\n", gcm_vecs[i].name);
        check_aead(*state, &gcm_vecs[i]);
    }
}

/* RFC 7634 Appendix A (ESP example) and Appendix B (IKEv2 example), as published. */
#define CC_KEY_SALT "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f a0a1a2a3"
static const struct aead_vec chacha_vecs[] = {
    {"RFC 7634 A", HK_ENCR_CHACHA20_POLY1305, 0, CC_KEY_SALT, "1011121314151617",
     "01 02 03 04 00 00 00 05",
     "45 00 00 54 a6 f2 00 00 40 01 e7 78 c6 33 64 05 c0 00 02 05 08 00 5b 7a 3a 08 00 00 55 3b ec "
     "10 00 07 36 27 08 09 0a 0b 0c 0d 0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21 "
     "22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30 31 32 33 34 35 36 37 01 02 02 04",
     "24 03 94 28 b9 7f 41 7e 3c 13 75 3a 4f 05 08 7b 67 c3 52 e6 a7 fa b1 b9 82 d4 66 ef 40 7a e5 "
     "c6 14 ee 80 99 d5 28 44 eb 61 aa 95 df ab 4c 02 f7 2a a7 1e 7c 4c 4f 64 c9 be fe 2f ac c6 38 "
     "e8 f3 cb ec 16 3f ac 46 9b 50 27 73 f6 fb 94 e6 64 da 91 65 b8 28 29 f6 41 e0",
     "76 aa a8 26 6b 7f b0 f7 b1 1b 36 99 07 e1 ad 43"},
    {"RFC 7634 B", HK_ENCR_CHACHA20_POLY1305, 256, CC_KEY_SALT, "1011121314151617",
     "c0 c1 c2 c3 c4 c5 c6 c7 d0 d1 d2 d3 d4 d5 d6 d7 2e 20 25 00 00 00 00 09 00 00 00 45 29 00 00 "
     "29",
     "00 00 00 0c 00 00 40 01 00 00 00 0a 00", "61 03 94 70 1f 8d 01 7f 7c 12 92 48 89",
     "6b 71 bf e2 52 36 ef d7 cd c6 70 66 90 63 15 b2"},
};

static void chacha_rfc7634_vectors(void **state)
{
    for (size_t i = 0; i < sizeof(chacha_vecs) / sizeof(chacha_vecs[0]); i++) {
        print_message("%s\n", chacha_vecs[i].name);
        check_aead(*state, &chacha_vecs[i]);
    }
}

/* RFC 3602 section 4, Cases #1 to #4 (AES-128-CBC). "ASCII" plaintexts are given as hex. */
static void cbc_rfc3602_vectors(void **state)
{
    static const struct {
        const char *key, *iv, *pt, *ct;
    } v[] = {
        {"06a9214036b8a15b512e03d534120006", "3dafba429d9eb430b422da802c9fac41",
         "53696e676c6520626c6f636b206d7367" /* "Single block msg" */,
         "e353779c1079aeb82708942dbe77181a"},
        {"c286696d887c9aa0611bbb3e2025a45a", "562e17996d093d28ddb3ba695a2e6f58",
         "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
         "d296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1"},
        {"6c3ea0477630ce21a2ce334aa746c2cd", "c782dc4c098c66cbd9cd27d825682c81",
         /* "This is a 48-byte message (exactly 3 AES blocks)" */
         "5468697320697320612034382d62797465206d657373616765202865786163746c7920332041455320"
         "626c6f636b7329",
         "d0a02b3836451753d493665d33f0e8862dea54cdb293abc7506939276772f8d5021c19216bad525c857969"
         "5d83ba2684"},
        {"56e47a38c5598974bc46903dba290349", "8ce82eefbea0da3c44699ed7db51b7d9",
         "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacb"
         "cccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf",
         "c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e35907aa632c3ffdf868bb7b2"
         "9d3d46ad83ce9f9a102ee99d49a53e87f4c3da55"},
    };
    uint8_t ikey[32] = {0};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t key[16], iv[16], pt[64], ct[64], buf[64], icv[16];
        assert_int_equal(test_unhex(v[i].key, key, sizeof(key)), 16);
        assert_int_equal(test_unhex(v[i].iv, iv, sizeof(iv)), 16);
        size_t pl = test_unhex(v[i].pt, pt, sizeof(pt));
        assert_int_equal(test_unhex(v[i].ct, ct, sizeof(ct)), pl);
        struct hk_sk_cipher *s;
        assert_int_equal(hk_sk_cipher_new(*state, HK_ENCR_AES_CBC, 128, HK_AUTH_HMAC_SHA2_256_128,
                                          key, 16, ikey, 32, &s),
                         0);
        assert_int_equal(hk_sk_cipher_iv_len(s), 16);
        assert_int_equal(hk_sk_cipher_block_len(s), 16);
        memcpy(buf, pt, pl);
        assert_int_equal(hk_sk_cipher_seal(s, NULL, 0, iv, buf, pl, icv), 0);
        assert_memory_equal(buf, ct, pl);
        assert_int_equal(hk_sk_cipher_open(s, NULL, 0, iv, buf, pl, icv), 0);
        assert_memory_equal(buf, pt, pl);
        hk_sk_cipher_free(s);
    }
}

/*
 * RFC 4868 2.7.2 authenticator vectors (AUTH256-2/3/4, AUTH384-2/3/4, AUTH512-2/3; AUTH*-1 has
 * under 16 octets of data, AUTH512-4 lists an 80-octet key for a 64-octet one). The MAC input
 * is aad | iv | ciphertext, so the data goes in as aad = all but the last 16 octets, iv = the
 * last 16, and an empty ciphertext; the ICV must be the published truncated HMAC.
 */
static void hmac_rfc4868_vectors(void **state)
{
#define JEFE "4a6566654a6566654a6566654a656665"
#define DD50                                                                                       \
    "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd" \
    "dddddddd"
#define CD50                                                                                       \
    "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd" \
    "cdcdcdcd"
#define WHAT "7768617420646f2079612077616e7420666f72206e6f7468696e673f"
#define A32  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    static const struct {
        const char *name;
        uint16_t integ;
        const char *key, *data, *icv;
    } v[] = {
        {"AUTH256-2", HK_AUTH_HMAC_SHA2_256_128, JEFE JEFE, WHAT,
         "167f928588c5cc2eef8e3093caa0e87c"},
        {"AUTH256-3", HK_AUTH_HMAC_SHA2_256_128, A32, DD50, "cdcb1220d1ecccea91e53aba3092f962"},
        {"AUTH256-4", HK_AUTH_HMAC_SHA2_256_128,
         "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20", CD50,
         "372efcf9b40b35c2115b1346903d2ef4"},
        {"AUTH384-2", HK_AUTH_HMAC_SHA2_384_192, JEFE JEFE JEFE, WHAT,
         "2c7353974f1842fd66d53c452ca42122b28c0b594cfb184d"},
        {"AUTH384-3", HK_AUTH_HMAC_SHA2_384_192, A32 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", DD50,
         "809f439be00274321d4a538652164b53554a508184a0c316"},
        {"AUTH384-4", HK_AUTH_HMAC_SHA2_384_192,
         "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f200a0b0c0d0e0f1011121314151"
         "6"
         "171819",
         CD50, "5b540085c6e6358096532b2493609ed1cb298f774f87bb5c"},
        {"AUTH512-2", HK_AUTH_HMAC_SHA2_512_256, JEFE JEFE JEFE JEFE, WHAT,
         "cb370917ae8a7ce28cfd1d8f4705d6141c173b2a9362c15df235dfb251b15454"},
        {"AUTH512-3", HK_AUTH_HMAC_SHA2_512_256, A32 A32, DD50,
         "2ee7acd783624ca9398710f3ee05ae41b9f9b0510c87e49e586cc9bf961733d8"},
    };
    uint8_t ekey[16] = {0};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        uint8_t key[64], data[64], want[32], icv[32];
        print_message("%s\n", v[i].name);
        size_t kl = test_unhex(v[i].key, key, sizeof(key));
        size_t dl = test_unhex(v[i].data, data, sizeof(data));
        size_t il = test_unhex(v[i].icv, want, sizeof(want));
        struct hk_sk_cipher *s;
        assert_int_equal(
            hk_sk_cipher_new(*state, HK_ENCR_AES_CBC, 128, v[i].integ, ekey, 16, key, kl, &s), 0);
        assert_int_equal(hk_sk_cipher_icv_len(s), il);
        assert_int_equal(hk_sk_cipher_seal(s, data, dl - 16, data + dl - 16, NULL, 0, icv), 0);
        assert_memory_equal(icv, want, il);
        assert_int_equal(hk_sk_cipher_open(s, data, dl - 16, data + dl - 16, NULL, 0, want), 0);
        want[il - 1] ^= 1; /* the last octet of the truncated value counts */
        assert_int_equal(hk_sk_cipher_open(s, data, dl - 16, data + dl - 16, NULL, 0, want),
                         HK_E_AUTH);
        hk_sk_cipher_free(s);
    }
}

/* Every supported pair: seal/open many messages through one object, then tampering. */
static void round_trips_and_tampering(void **state)
{
    static const struct {
        uint16_t encr, bits, integ;
        size_t ekl, ikl;
    } t[] = {
        {HK_ENCR_AES_GCM_16, 128, HK_AUTH_NONE, 20, 0},
        {HK_ENCR_AES_GCM_16, 256, HK_AUTH_NONE, 36, 0},
        {HK_ENCR_CHACHA20_POLY1305, 256, HK_AUTH_NONE, 36, 0},
        {HK_ENCR_AES_CBC, 128, HK_AUTH_HMAC_SHA2_256_128, 16, 32},
        {HK_ENCR_AES_CBC, 192, HK_AUTH_HMAC_SHA2_384_192, 24, 48},
        {HK_ENCR_AES_CBC, 256, HK_AUTH_HMAC_SHA2_512_256, 32, 64},
    };
    uint8_t ekey[36], ikey[64], aad[32], iv[16], pt[96], buf[96], icv[32];
    for (size_t i = 0; i < sizeof(ekey); i++)
        ekey[i] = (uint8_t)(i * 7 + 1);
    for (size_t i = 0; i < sizeof(ikey); i++)
        ikey[i] = (uint8_t)(i * 13 + 5);
    for (size_t i = 0; i < sizeof(aad); i++)
        aad[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof(pt); i++)
        pt[i] = (uint8_t)(0xa0 ^ i);
    for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
        struct hk_sk_cipher *s;
        assert_int_equal(hk_sk_cipher_new(*state, t[k].encr, t[k].bits, t[k].integ, ekey, t[k].ekl,
                                          t[k].ikl ? ikey : NULL, t[k].ikl, &s),
                         0);
        size_t blk = hk_sk_cipher_block_len(s), icl = hk_sk_cipher_icv_len(s);
        for (int m = 0; m < 4; m++) {
            size_t len = blk == 1 ? (size_t)(13 + 20 * m) : (size_t)(16 * (m + 1));
            memset(iv, m, sizeof(iv));
            memcpy(buf, pt, len);
            assert_int_equal(hk_sk_cipher_seal(s, aad, sizeof(aad), iv, buf, len, icv), 0);
            assert_memory_not_equal(buf, pt, len);
            uint8_t ct[96];
            memcpy(ct, buf, len);
            assert_int_equal(hk_sk_cipher_open(s, aad, sizeof(aad), iv, buf, len, icv), 0);
            assert_memory_equal(buf, pt, len);

            /* Each flip must fail; CBC must not even decrypt (verify first), an AEAD zeroes the
             * data. */
#define OPEN_FAILS()                                                                               \
    do {                                                                                           \
        memcpy(buf, ct, len);                                                                      \
        assert_int_equal(hk_sk_cipher_open(s, aad, sizeof(aad), iv, buf, len, icv), HK_E_AUTH);    \
        for (size_t z = 0; !t[k].ikl && z < len; z++)                                              \
            assert_int_equal(buf[z], 0);                                                           \
        if (t[k].ikl)                                                                              \
            assert_memory_equal(buf, ct, len);                                                     \
    } while (0)
            icv[0] ^= 0x40;
            OPEN_FAILS();
            icv[0] ^= 0x40;
            icv[icl - 1] ^= 1;
            OPEN_FAILS();
            icv[icl - 1] ^= 1;
            ct[len - 1] ^= 2;
            OPEN_FAILS();
            ct[len - 1] ^= 2;
            ct[0] ^= 0x10;
            OPEN_FAILS();
            ct[0] ^= 0x10;
            aad[31] ^= 4;
            OPEN_FAILS();
            aad[31] ^= 4;
            aad[0] ^= 0x80;
            OPEN_FAILS();
            aad[0] ^= 0x80;
            iv[0] ^= 8;
            OPEN_FAILS();
            iv[0] ^= 8;
#undef OPEN_FAILS
            memcpy(buf, ct, len);
            assert_int_equal(hk_sk_cipher_open(s, aad, sizeof(aad), iv, buf, len, icv), 0);
            assert_memory_equal(buf, pt, len);
        }
        hk_sk_cipher_free(s);
    }
}

/* CBC + HMAC: both the cipher and the HMAC context come back after hk_sk_cipher_idle. */
static void cbc_idle_rebuilds_contexts(void **state)
{
    uint8_t key[32], ikey[48], iv[16], aad[28], pt[64], buf[64], ct[64], icv[24], icv2[24];
    for (size_t i = 0; i < sizeof(key); i++)
        key[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof(ikey); i++)
        ikey[i] = (uint8_t)(0x80 + i);
    memset(iv, 0x5a, sizeof(iv));
    memset(aad, 0x11, sizeof(aad));
    for (size_t i = 0; i < sizeof(pt); i++)
        pt[i] = (uint8_t)(3 * i);
    struct hk_sk_cipher *s;
    assert_int_equal(hk_sk_cipher_new(*state, HK_ENCR_AES_CBC, 256, HK_AUTH_HMAC_SHA2_384_192, key,
                                      32, ikey, 48, &s),
                     0);
    assert_true(hk_sk_cipher_is_idle(s)); /* nothing built before first use */
    memcpy(ct, pt, sizeof(pt));
    assert_int_equal(hk_sk_cipher_seal(s, aad, sizeof(aad), iv, ct, sizeof(ct), icv), 0);
    hk_sk_cipher_idle(s);
    assert_true(hk_sk_cipher_is_idle(s));
    memcpy(buf, pt, sizeof(pt));
    assert_int_equal(hk_sk_cipher_seal(s, aad, sizeof(aad), iv, buf, sizeof(buf), icv2), 0);
    assert_memory_equal(buf, ct, sizeof(ct));
    assert_memory_equal(icv2, icv, 24);
    hk_sk_cipher_idle(s);
    assert_int_equal(hk_sk_cipher_open(s, aad, sizeof(aad), iv, buf, sizeof(buf), icv), 0);
    assert_memory_equal(buf, pt, sizeof(pt));
    hk_sk_cipher_idle(s);
    memcpy(buf, ct, sizeof(ct));
    icv[0] ^= 1;
    assert_int_equal(hk_sk_cipher_open(s, aad, sizeof(aad), iv, buf, sizeof(buf), icv), HK_E_AUTH);
    hk_sk_cipher_idle(s);
    hk_sk_cipher_idle(NULL);
    hk_sk_cipher_free(s);
}

static void cbc_length_must_be_block_multiple(void **state)
{
    uint8_t ekey[16] = {1}, ikey[32] = {2}, iv[16] = {0}, buf[33] = {0}, icv[16] = {0};
    struct hk_sk_cipher *s;
    assert_int_equal(hk_sk_cipher_new(*state, HK_ENCR_AES_CBC, 128, HK_AUTH_HMAC_SHA2_256_128, ekey,
                                      16, ikey, 32, &s),
                     0);
    assert_int_equal(hk_sk_cipher_seal(s, NULL, 0, iv, buf, 33, icv), HK_E_LENGTH);
    assert_int_equal(hk_sk_cipher_seal(s, NULL, 0, iv, buf, 15, icv), HK_E_LENGTH);
    assert_int_equal(hk_sk_cipher_open(s, NULL, 0, iv, buf, 17, icv), HK_E_LENGTH);
    hk_sk_cipher_free(s);
}

static void rejects_bad_parameters(void **state)
{
    const struct hk_crypto *c = *state;
    uint8_t k[80] = {0};
    struct hk_sk_cipher *s = (void *)1;
    /* Key lengths: AEADs need key | salt, CBC exact key, HMAC hash-length key. */
    assert_int_equal(hk_sk_cipher_new(c, HK_ENCR_AES_GCM_16, 128, 0, k, 16, NULL, 0, &s),
                     HK_E_INVALID);
    assert_null(s);
    assert_int_equal(hk_sk_cipher_new(c, HK_ENCR_AES_GCM_16, 256, 0, k, 20, NULL, 0, &s),
                     HK_E_INVALID);
    assert_int_equal(hk_sk_cipher_new(c, HK_ENCR_CHACHA20_POLY1305, 0, 0, k, 32, NULL, 0, &s),
                     HK_E_INVALID);
    assert_int_equal(hk_sk_cipher_new(c, HK_ENCR_CHACHA20_POLY1305, 128, 0, k, 36, NULL, 0, &s),
                     HK_E_INVALID);
    assert_int_equal(
        hk_sk_cipher_new(c, HK_ENCR_AES_CBC, 256, HK_AUTH_HMAC_SHA2_256_128, k, 16, k, 32, &s),
        HK_E_INVALID);
    assert_int_equal(
        hk_sk_cipher_new(c, HK_ENCR_AES_CBC, 128, HK_AUTH_HMAC_SHA2_256_128, k, 16, k, 16, &s),
        HK_E_INVALID);
    assert_int_equal(
        hk_sk_cipher_new(c, HK_ENCR_AES_CBC, 100, HK_AUTH_HMAC_SHA2_256_128, k, 16, k, 32, &s),
        HK_E_INVALID);
    /* Combinations: AEAD with an integrity transform, CBC without one. */
    assert_int_equal(
        hk_sk_cipher_new(c, HK_ENCR_AES_GCM_16, 128, HK_AUTH_HMAC_SHA2_256_128, k, 20, k, 32, &s),
        HK_E_INVALID);
    assert_int_equal(hk_sk_cipher_new(c, HK_ENCR_CHACHA20_POLY1305, 256, HK_AUTH_HMAC_SHA2_256_128,
                                      k, 36, k, 32, &s),
                     HK_E_INVALID);
    assert_int_equal(hk_sk_cipher_new(c, HK_ENCR_AES_CBC, 128, HK_AUTH_NONE, k, 16, NULL, 0, &s),
                     HK_E_INVALID);
    /* Unknown IDs. */
    assert_int_equal(hk_sk_cipher_new(c, 3 /* ENCR_3DES */, 0, 2, k, 24, k, 20, &s),
                     HK_E_UNSUPPORTED);
    assert_int_equal(
        hk_sk_cipher_new(c, HK_ENCR_AES_CBC, 128, 2 /* HMAC_SHA1_96 */, k, 16, k, 20, &s),
        HK_E_UNSUPPORTED);
    assert_null(s);
    hk_sk_cipher_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gcm_spec_vectors),
        cmocka_unit_test(chacha_rfc7634_vectors),
        cmocka_unit_test(cbc_rfc3602_vectors),
        cmocka_unit_test(hmac_rfc4868_vectors),
        cmocka_unit_test(round_trips_and_tampering),
        cmocka_unit_test(cbc_idle_rebuilds_contexts),
        cmocka_unit_test(cbc_length_must_be_block_multiple),
        cmocka_unit_test(rejects_bad_parameters),
    };
    return cmocka_run_group_tests(tests, test_crypto_setup, test_crypto_teardown);
}
