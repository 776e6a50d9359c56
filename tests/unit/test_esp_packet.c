/*
 * ESP packet protection: published packets byte for byte, round trips over every
 * transform with and without ESN, and every rejection.
 *
 * Vectors:
 *  - RFC 7634 Appendix A: the ChaCha20-Poly1305 tunnel-mode ESP packet.
 *  - draft-mcgrew-gcm-test-01 section 4 ("Test Cases for the use of GCM and GMAC in IPsec
 *    ESP", D. McGrew, 2009): whole ESP packets (SPI | seq | IV | ciphertext | ICV) for
 *    AES-GCM-16 with 32-bit and extended sequence numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "unit/testutil.h"
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "crypto/alg.h"
#include "crypto/crypto.h"
#include "crypto/sk_cipher.h"
#include "esp/esp_packet.h"

struct esp_vec {
    const char *name;
    uint16_t encr, bits;
    bool esn;
    uint32_t spi;
    uint64_t seq;
    const char *key_salt, *iv;
    const char *plaintext; /* payload | padding | pad length | next header */
    const char *packet;    /* SPI | seq | IV | ciphertext | ICV */
};

/* Encapsulates the vector's payload with its IV, compares the packet, decapsulates it. */
static void check_vec(const struct hk_crypto *c, const struct esp_vec *v)
{
    uint8_t key[64], iv[16], pt[256], pkt[512], out[512];
    size_t kl = test_unhex(v->key_salt, key, sizeof(key));
    test_unhex(v->iv, iv, sizeof(iv));
    size_t ptl = test_unhex(v->plaintext, pt, sizeof(pt));
    size_t pktl = test_unhex(v->packet, pkt, sizeof(pkt));
    uint8_t nh = pt[ptl - 1];
    size_t plen = ptl - 2 - pt[ptl - 2];

    struct hk_esp_sa_crypto sa;
    assert_int_equal(hk_esp_sa_crypto_init(&sa, c, v->spi, v->esn, v->encr, v->bits, HK_AUTH_NONE,
                                           key, kl, NULL, 0),
                     0);
    size_t outlen = 0;
    assert_int_equal(hk_esp_encap_iv(&sa, v->seq, iv, nh, pt, plen, 0, out, sizeof(out), &outlen),
                     0);
    assert_int_equal(outlen, pktl);
    assert_int_equal(hk_esp_packet_len(&sa, plen, 0), pktl);
    assert_memory_equal(out, pkt, pktl);

    uint32_t spi, lo;
    assert_int_equal(hk_esp_peek_spi(pkt, pktl, &spi, &lo), 0);
    assert_int_equal(spi, v->spi);
    assert_int_equal(lo, (uint32_t)v->seq);
    const uint8_t *payload;
    size_t got;
    uint8_t gnh;
    assert_int_equal(hk_esp_decap(&sa, v->seq, pkt, pktl, &payload, &got, &gnh), 0);
    assert_int_equal(got, plen);
    assert_memory_equal(payload, pt, plen);
    assert_int_equal(gnh, nh);
    hk_esp_sa_crypto_clear(&sa);
}

/* RFC 7634 Appendix A; the packet below is its "ESP packet" after the 20-octet outer IP header. */
static const struct esp_vec rfc7634_a = {
    "RFC 7634 A",
    HK_ENCR_CHACHA20_POLY1305,
    256,
    false,
    0x01020304,
    5,
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f a0a1a2a3",
    "1011121314151617",
    "45000054a6f2000040 01e778c6336405c0000205 08005b7a3a080000553bec10"
    "00073627 08090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f3031323334353637 01020204",
    "01020304 00000005 1011121314151617"
    "2403 9428 b97f 417e 3c13 753a 4f05 087b 67c3 52e6 a7fa b1b9 82d4 66ef"
    "407a e5c6 14ee 8099 d528 44eb 61aa 95df ab4c 02f7 2aa7 1e7c 4c4f 64c9"
    "befe 2fac c638 e8f3 cbec 163f ac46 9b50 2773 f6fb 94e6 64da 9165 b828"
    "29f6 41e0 76aa a826 6b7f b0f7 b11b 3699 07e1 ad43",
};

static void chacha_rfc7634_appendix_a(void **state)
{
    const struct hk_crypto *c = *state;
    check_vec(c, &rfc7634_a);

    /* The counter IV path gives the same packet when the counter holds the example's IV. */
    uint8_t key[36], pt[128], pkt[256], out[256];
    size_t kl = test_unhex(rfc7634_a.key_salt, key, sizeof(key));
    size_t ptl = test_unhex(rfc7634_a.plaintext, pt, sizeof(pt));
    size_t pktl = test_unhex(rfc7634_a.packet, pkt, sizeof(pkt));
    struct hk_esp_sa_crypto sa;
    assert_int_equal(hk_esp_sa_crypto_init(&sa, c, 0x01020304, false, HK_ENCR_CHACHA20_POLY1305,
                                           256, HK_AUTH_NONE, key, kl, NULL, 0),
                     0);
    sa.iv_next = 0x1011121314151617;
    size_t outlen;
    assert_int_equal(
        hk_esp_encap(&sa, 5, HK_ESP_NH_IPV4, pt, ptl - 4, 0, out, sizeof(out), &outlen), 0);
    assert_int_equal(outlen, pktl);
    assert_memory_equal(out, pkt, pktl);
    assert_true(sa.iv_next == 0x1011121314151618);
    hk_esp_sa_crypto_clear(&sa);
}

/* draft-mcgrew-gcm-test-01 section 4; key_salt = key | first 4 octets of the nonce. */
static const struct esp_vec gcm_vecs[] = {
    {"mcgrew TC1 AES-128 ESN", HK_ENCR_AES_GCM_16, 128, true, 0x00004321, 0x8765432100000000,
     "4c80cdefbb5d10da906ac73c3613a634 2e443b68", "4956ed7e3b244cfe",
     "45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000"
     "00000000045f736970045f756470037369700963796265726369747902646b00"
     "0021000101020201",
     "00004321000000004956ed7e3b244cfe"
     "fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34"
     "cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce"
     "61bc17d768fd9732459018148f6cbe722fd04796562dfdb4"},
    {"mcgrew TC2 AES-128", HK_ENCR_AES_GCM_16, 128, false, 0x0000a5f8, 0x0a,
     "feffe9928665731c6d6a8f9467308308 cafebabe", "facedbaddecaf888",
     "4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d00100"
     "0001000000000000037369700963796265726369747902646b00000100010001",
     "0000a5f80000000afacedbaddecaf888"
     "deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c"
     "3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd1"
     "83b70d3aa8bc6ee4c309e9d85a41ad4a"},
    {"mcgrew TC3 AES-256", HK_ENCR_AES_GCM_16, 256, false, 0x4a2cbfe3, 2,
     "abbccddef00112233445566778899aababbccddef00112233445566778899aab 11223344",
     "0102030405060708",
     "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee000000000"
     "7002400020bf0000020405b40101040201020201",
     "4a2cbfe3000000020102030405060708"
     "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763"
     "748a637985771d347f0545659f14e99def842d8eb335f4eecfdbf831824b4c49"
     "15956c96"},
    {"mcgrew TC4 AES-128 zero key", HK_ENCR_AES_GCM_16, 128, false, 0, 1,
     "00000000000000000000000000000000 00000000", "0000000000000000",
     "4500003c99c500008001cb7a40679318010101010800075c0200440061626364"
     "65666768696a6b6c6d6e6f707172737475767761626364656667686901020201",
     "00000000000000010000000000000000"
     "4688daf2f973a392732909c331d56d60f694abaa414b5e7ff5fdcdfff5e9a284"
     "456476492719ffb64de7d9dca1e1d894bc3bd57873ed4d181d19d4d5c8c18af3"
     "f821d496eeb096e98ad2b69e4799c71d"},
    {"mcgrew AES-256 ESN seq 2^64-1", HK_ENCR_AES_GCM_16, 256, true, 0x796b6963, 0xffffffffffffffff,
     "6c6567616c697a656d6172696a75616e61616e64646f69746265666f72656961 7475726e",
     "333021696765746d",
     "45000030da3a00008001df3bc0a80005c0a800010800c6cd0200070061626364"
     "65666768696a6b6c6d6e6f707172737401020201",
     "796b6963ffffffff333021696765746d"
     "f97ab2aa356d8edce17644ac8c78e25dd24dedbb29ebf1b64a274b39b49c3a86"
     "4cd3d78ca4ae68a32b42458fb57dbe821dcc63b9d0937ba2945f669368661a32"
     "9fb4c053"},
};

static void gcm_mcgrew_vectors(void **state)
{
    for (size_t i = 0; i < sizeof(gcm_vecs) / sizeof(gcm_vecs[0]); i++)
        check_vec(*state, &gcm_vecs[i]);
}

struct suite {
    uint16_t encr, bits, integ;
    size_t eklen, iklen;
};

static const struct suite suites[] = {
    {HK_ENCR_AES_GCM_16, 128, HK_AUTH_NONE, 20, 0},
    {HK_ENCR_AES_GCM_16, 256, HK_AUTH_NONE, 36, 0},
    {HK_ENCR_CHACHA20_POLY1305, 256, HK_AUTH_NONE, 36, 0},
    {HK_ENCR_AES_CBC, 128, HK_AUTH_HMAC_SHA2_256_128, 16, 32},
    {HK_ENCR_AES_CBC, 256, HK_AUTH_HMAC_SHA2_256_128, 32, 32},
    {HK_ENCR_AES_CBC, 128, HK_AUTH_HMAC_SHA2_384_192, 16, 48},
    {HK_ENCR_AES_CBC, 256, HK_AUTH_HMAC_SHA2_384_192, 32, 48},
    {HK_ENCR_AES_CBC, 128, HK_AUTH_HMAC_SHA2_512_256, 16, 64},
    {HK_ENCR_AES_CBC, 256, HK_AUTH_HMAC_SHA2_512_256, 32, 64},
};
#define NSUITES (sizeof(suites) / sizeof(suites[0]))

static void sa_init(const struct hk_crypto *c, const struct suite *s, bool esn,
                    struct hk_esp_sa_crypto *sa)
{
    uint8_t ek[36], ik[64];
    for (size_t i = 0; i < sizeof(ek); i++)
        ek[i] = (uint8_t)(0x40 + i);
    for (size_t i = 0; i < sizeof(ik); i++)
        ik[i] = (uint8_t)(0x90 + i);
    assert_int_equal(hk_esp_sa_crypto_init(sa, c, 0xc0ffee01, esn, s->encr, s->bits, s->integ, ek,
                                           s->eklen, s->iklen ? ik : NULL, s->iklen),
                     0);
}

/* Every suite, with and without ESN, payloads of every length modulo the block. */
static void round_trips(void **state)
{
    const struct hk_crypto *c = *state;
    uint8_t payload[64], out[256], copy[256];
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7 + 3);
    for (size_t si = 0; si < NSUITES; si++) {
        for (int esn = 0; esn < 2; esn++) {
            struct hk_esp_sa_crypto sa;
            sa_init(c, &suites[si], esn, &sa);
            size_t align = suites[si].encr == HK_ENCR_AES_CBC ? 16 : 4;
            uint64_t seq = esn ? 0x00000003fffffff0 : 0xffffffd0; /* crosses 2^32 with ESN */
            for (size_t plen = 0; plen <= 40; plen++, seq++) {
                size_t outlen = 0;
                uint8_t nh = plen % 2 ? HK_ESP_NH_IPV4 : HK_ESP_NH_IPV6;
                assert_int_equal(
                    hk_esp_encap(&sa, seq, nh, payload, plen, 0, out, sizeof(out), &outlen), 0);
                assert_int_equal(outlen, hk_esp_packet_len(&sa, plen, 0));
                size_t hdr = hk_esp_hdr_len(&sa), ct = outlen - hdr - sa.icv_len;
                assert_int_equal(ct % align, 0);
                assert_true(ct >= plen + 2 && ct < plen + 2 + align);
                /* Only the low 32 bits on the wire (RFC 4303 2.2.1). */
                uint32_t spi, lo;
                assert_int_equal(hk_esp_peek_spi(out, outlen, &spi, &lo), 0);
                assert_int_equal(spi, 0xc0ffee01);
                assert_int_equal(lo, (uint32_t)seq);
                if (esn) {
                    /* The high half is authenticated: a wrong inference fails. */
                    memcpy(copy, out, outlen);
                    const uint8_t *p;
                    size_t pl;
                    uint8_t gnh;
                    assert_int_equal(
                        hk_esp_decap(&sa, seq + (1ull << 32), copy, outlen, &p, &pl, &gnh),
                        HK_E_AUTH);
                }
                const uint8_t *p;
                size_t pl;
                uint8_t gnh;
                assert_int_equal(hk_esp_decap(&sa, seq, out, outlen, &p, &pl, &gnh), 0);
                assert_int_equal(pl, plen);
                if (plen)
                    assert_memory_equal(p, payload, plen);
                assert_ptr_equal(p, out + hdr);
                assert_int_equal(gnh, nh);
            }
            hk_esp_sa_crypto_clear(&sa);
        }
    }
}

/* Any altered octet, SPI and sequence number included, fails the ICV. */
static void tampering(void **state)
{
    const struct hk_crypto *c = *state;
    uint8_t payload[33], out[256], copy[256];
    memset(payload, 0x5a, sizeof(payload));
    for (size_t si = 0; si < NSUITES; si++) {
        for (int esn = 0; esn < 2; esn++) {
            struct hk_esp_sa_crypto sa;
            sa_init(c, &suites[si], esn, &sa);
            uint64_t seq = esn ? 0x0000000700000009 : 9;
            size_t outlen;
            assert_int_equal(hk_esp_encap(&sa, seq, HK_ESP_NH_IPV4, payload, sizeof(payload), 0,
                                          out, sizeof(out), &outlen),
                             0);
            for (size_t i = 0; i < outlen; i++) {
                for (int bit = 0; bit < 8; bit += 7) {
                    memcpy(copy, out, outlen);
                    copy[i] ^= (uint8_t)(1u << bit);
                    /* As the caller would: the sequence number inferred from the packet. */
                    uint32_t spi, lo;
                    assert_int_equal(hk_esp_peek_spi(copy, outlen, &spi, &lo), 0);
                    uint64_t s = (seq & 0xffffffff00000000ull) | lo;
                    const uint8_t *p;
                    size_t pl;
                    uint8_t nh;
                    assert_int_equal(hk_esp_decap(&sa, s, copy, outlen, &p, &pl, &nh), HK_E_AUTH);
                }
            }
            hk_esp_sa_crypto_clear(&sa);
        }
    }
}

/*
 * A packet whose ICV is right but whose padding is not, sealed by hand with hk_sk_cipher
 * over SPI | seq (the ESP ICV input without ESN, RFC 4106 5, RFC 4303 3.3.2.1).
 */
static void seal_by_hand(const struct hk_crypto *c, const struct suite *s, const uint8_t *pt,
                         size_t ptl, uint8_t *pkt, size_t *pktl)
{
    uint8_t ek[36], ik[64], iv[16];
    for (size_t i = 0; i < sizeof(ek); i++)
        ek[i] = (uint8_t)(0x40 + i);
    for (size_t i = 0; i < sizeof(ik); i++)
        ik[i] = (uint8_t)(0x90 + i);
    memset(iv, 0xa5, sizeof(iv));
    struct hk_sk_cipher *k;
    assert_int_equal(hk_sk_cipher_new(c, s->encr, s->bits, s->integ, ek, s->eklen,
                                      s->iklen ? ik : NULL, s->iklen, &k),
                     0);
    size_t ivl = hk_sk_cipher_iv_len(k);
    const uint8_t hdr[8] = {0xc0, 0xff, 0xee, 0x01, 0, 0, 0, 42};
    memcpy(pkt, hdr, 8);
    memcpy(pkt + 8, iv, ivl);
    memcpy(pkt + 8 + ivl, pt, ptl);
    assert_int_equal(hk_sk_cipher_seal(k, hdr, 8, iv, pkt + 8 + ivl, ptl, pkt + 8 + ivl + ptl), 0);
    *pktl = 8 + ivl + ptl + hk_sk_cipher_icv_len(k);
    hk_sk_cipher_free(k);
}

static void bad_padding(void **state)
{
    const struct hk_crypto *c = *state;
    /* 12 octets of payload, more padding than the minimum (6 for the AEADs, 18 for CBC), pad
     * length, next header: 20 and 32 octets, aligned as each cipher needs. */
    for (size_t si = 0; si < NSUITES; si++) {
        const struct suite *s = &suites[si];
        bool cbc = s->encr == HK_ENCR_AES_CBC;
        size_t ptl = cbc ? 32 : 20;
        size_t padlen = cbc ? 18 : 6;
        uint8_t good[32], pt[32], pkt[256];
        size_t pktl;
        memset(good, 0x77, sizeof(good));
        for (size_t i = 0; i < padlen; i++)
            good[ptl - 2 - padlen + i] = (uint8_t)(i + 1);
        good[ptl - 2] = (uint8_t)padlen;
        good[ptl - 1] = HK_ESP_NH_IPV4;

        struct hk_esp_sa_crypto sa;
        sa_init(c, s, false, &sa);
        const uint8_t *p;
        size_t pl;
        uint8_t nh;

        /* Sanity: the hand-built packet with good padding (longer than the minimum) passes. */
        seal_by_hand(c, s, good, ptl, pkt, &pktl);
        assert_int_equal(hk_esp_decap(&sa, 42, pkt, pktl, &p, &pl, &nh), 0);
        assert_int_equal(pl, ptl - 2 - padlen);
        assert_int_equal(nh, HK_ESP_NH_IPV4);

        /* One pad octet wrong. */
        memcpy(pt, good, ptl);
        pt[ptl - 2 - padlen + 3] ^= 0x10;
        seal_by_hand(c, s, pt, ptl, pkt, &pktl);
        assert_int_equal(hk_esp_decap(&sa, 42, pkt, pktl, &p, &pl, &nh), HK_E_PADDING);

        /* Pad octets all zero (the old convention some stacks send). */
        memcpy(pt, good, ptl);
        memset(pt + ptl - 2 - padlen, 0, padlen);
        seal_by_hand(c, s, pt, ptl, pkt, &pktl);
        assert_int_equal(hk_esp_decap(&sa, 42, pkt, pktl, &p, &pl, &nh), HK_E_PADDING);

        /* Pad length past the start of the plaintext. */
        memcpy(pt, good, ptl);
        pt[ptl - 2] = (uint8_t)(ptl - 1);
        seal_by_hand(c, s, pt, ptl, pkt, &pktl);
        assert_int_equal(hk_esp_decap(&sa, 42, pkt, pktl, &p, &pl, &nh), HK_E_PADDING);
        pt[ptl - 2] = 0xff;
        seal_by_hand(c, s, pt, ptl, pkt, &pktl);
        assert_int_equal(hk_esp_decap(&sa, 42, pkt, pktl, &p, &pl, &nh), HK_E_PADDING);
        hk_esp_sa_crypto_clear(&sa);
    }
}

/* Every truncation fails, and none reads past the given length (ASan). */
static void truncated(void **state)
{
    const struct hk_crypto *c = *state;
    uint8_t payload[20] = {0}, out[256], copy[256];
    uint32_t spi, lo;
    for (size_t n = 0; n < HK_ESP_HDR_LEN; n++)
        assert_int_equal(hk_esp_peek_spi(out, n, &spi, &lo), HK_E_SHORT);
    for (size_t si = 0; si < NSUITES; si++) {
        struct hk_esp_sa_crypto sa;
        sa_init(c, &suites[si], false, &sa);
        size_t outlen;
        assert_int_equal(hk_esp_encap(&sa, 1, HK_ESP_NH_IPV4, payload, sizeof(payload), 0, out,
                                      sizeof(out), &outlen),
                         0);
        size_t min = hk_esp_hdr_len(&sa) + 2 + sa.icv_len;
        for (size_t n = 0; n < outlen; n++) {
            const uint8_t *p;
            size_t pl;
            uint8_t nh;
            memcpy(copy, out, n);
            int rc = hk_esp_decap(&sa, 1, copy, n, &p, &pl, &nh);
            if (n < min)
                assert_int_equal(rc, HK_E_SHORT);
            else
                assert_true(rc == HK_E_LENGTH || rc == HK_E_AUTH);
        }
        hk_esp_sa_crypto_clear(&sa);
    }
}

/* RFC 4303 2.6 dummy packets (next header 59) and 2.7 TFC padding. */
static void tfc_dummy_and_padding(void **state)
{
    const struct hk_crypto *c = *state;
    uint8_t payload[10], out[256];
    memset(payload, 0xee, sizeof(payload));
    for (size_t si = 0; si < NSUITES; si++) {
        struct hk_esp_sa_crypto sa;
        sa_init(c, &suites[si], true, &sa);
        const uint8_t *p;
        size_t pl, outlen;
        uint8_t nh;
        assert_int_equal(
            hk_esp_encap(&sa, 7, HK_ESP_NH_NONE, NULL, 0, 0, out, sizeof(out), &outlen), 0);
        assert_int_equal(hk_esp_decap(&sa, 7, out, outlen, &p, &pl, &nh), 0);
        assert_int_equal(nh, HK_ESP_NH_NONE); /* authenticated; the caller drops it */
        assert_int_equal(pl, 0);

        /* A dummy with random-length content, as 2.6 allows. */
        assert_int_equal(hk_esp_encap(&sa, 8, HK_ESP_NH_NONE, payload, sizeof(payload), 23, out,
                                      sizeof(out), &outlen),
                         0);
        assert_int_equal(hk_esp_decap(&sa, 8, out, outlen, &p, &pl, &nh), 0);
        assert_int_equal(nh, HK_ESP_NH_NONE);

        /* TFC padding comes back with the payload, zero-filled, for the inner IP to trim. */
        assert_int_equal(hk_esp_encap(&sa, 9, HK_ESP_NH_IPV4, payload, sizeof(payload), 30, out,
                                      sizeof(out), &outlen),
                         0);
        assert_int_equal(outlen, hk_esp_packet_len(&sa, sizeof(payload), 30));
        assert_int_equal(hk_esp_decap(&sa, 9, out, outlen, &p, &pl, &nh), 0);
        assert_int_equal(pl, sizeof(payload) + 30);
        assert_memory_equal(p, payload, sizeof(payload));
        for (size_t i = sizeof(payload); i < pl; i++)
            assert_int_equal(p[i], 0);
        hk_esp_sa_crypto_clear(&sa);
    }
}

/* The AEAD counter IV never repeats, even when the caller repeats a sequence number. */
static void iv_generation(void **state)
{
    const struct hk_crypto *c = *state;
    uint8_t out[128], prev[16];
    size_t outlen;
    struct hk_esp_sa_crypto sa;
    sa_init(c, &suites[0], true, &sa);
    const uint8_t iv1[8] = {0, 0, 0, 0, 0, 0, 0, 1}, iv2[8] = {0, 0, 0, 0, 0, 0, 0, 2};
    const uint8_t iv3[8] = {0, 0, 0, 0, 0, 0, 0, 3}, ivb[8] = {0, 0, 0, 5, 0, 0, 0, 1};
    assert_int_equal(hk_esp_encap(&sa, 1, 4, NULL, 0, 0, out, sizeof(out), &outlen), 0);
    assert_memory_equal(out + 8, iv1, 8); /* IV = sequence number in normal operation */
    assert_int_equal(hk_esp_encap(&sa, 2, 4, NULL, 0, 0, out, sizeof(out), &outlen), 0);
    assert_memory_equal(out + 8, iv2, 8);
    assert_int_equal(hk_esp_encap(&sa, 1, 4, NULL, 0, 0, out, sizeof(out), &outlen), 0);
    assert_memory_equal(out + 8, iv3, 8); /* a repeated sequence number, a fresh IV */
    /* A sequence number jump (take-over margin) moves the IV along. */
    assert_int_equal(hk_esp_encap(&sa, 0x500000001, 4, NULL, 0, 0, out, sizeof(out), &outlen), 0);
    assert_memory_equal(out + 8, ivb, 8);
    /* The last IV, then none. */
    sa.iv_next = UINT64_MAX;
    assert_int_equal(hk_esp_encap(&sa, 9, 4, NULL, 0, 0, out, sizeof(out), &outlen), 0);
    assert_int_equal(hk_esp_encap(&sa, 10, 4, NULL, 0, 0, out, sizeof(out), &outlen),
                     HK_E_OVERFLOW);
    hk_esp_sa_crypto_clear(&sa);

    /* CBC: random IVs. */
    sa_init(c, &suites[3], false, &sa);
    assert_int_equal(hk_esp_encap(&sa, 1, 4, NULL, 0, 0, out, sizeof(out), &outlen), 0);
    memcpy(prev, out + 8, 16);
    assert_int_equal(hk_esp_encap(&sa, 2, 4, NULL, 0, 0, out, sizeof(out), &outlen), 0);
    assert_memory_not_equal(prev, out + 8, 16);
    hk_esp_sa_crypto_clear(&sa);
}

/*
 * Linked with -Wl,--wrap=RAND_bytes,--wrap=RAND_bytes_ex (CMakeLists.txt): counts hike's
 * own calls, hk_random's and the buffered source's refills (crypto/rng.h).
 */
int __real_RAND_bytes(unsigned char *buf, int num);
int __real_RAND_bytes_ex(OSSL_LIB_CTX *libctx, unsigned char *buf, size_t num,
                         unsigned int strength);
static size_t n_rand, n_rand_ex;
int __wrap_RAND_bytes(unsigned char *buf, int num)
{
    n_rand++;
    return __real_RAND_bytes(buf, num);
}
int __wrap_RAND_bytes_ex(OSSL_LIB_CTX *libctx, unsigned char *buf, size_t num,
                         unsigned int strength)
{
    n_rand_ex++;
    return __real_RAND_bytes_ex(libctx, buf, num, strength);
}

/*
 * CBC IVs come from c's buffered source: no RAND call per packet (OpenSSL 3.0 pays a
 * getpid() system call in each), one refill per HK_RNG_BUF / 16 IVs. Each differs from the
 * one before (RFC 3602 2.4: unpredictable, so random, never a counter) and every packet
 * decapsulates.
 */
static void cbc_ivs_from_the_buffered_source(void **state)
{
    const struct hk_crypto *c = *state;
    enum { N = 600 };
    uint8_t payload[40] = {1, 2, 3}, out[256], prev[16] = {0};
    struct hk_esp_sa_crypto sa, rx;
    sa_init(c, &suites[4], false, &sa);
    sa_init(c, &suites[4], false, &rx);
    size_t rand0 = n_rand, refills0 = n_rand_ex;
    for (uint64_t seq = 1; seq <= N; seq++) {
        size_t outlen = 0;
        assert_int_equal(hk_esp_encap(&sa, seq, HK_ESP_NH_IPV4, payload, sizeof(payload), 0, out,
                                      sizeof(out), &outlen),
                         0);
        if (seq > 1 && !memcmp(prev, out + HK_ESP_HDR_LEN, 16))
            fail_msg("packet %llu repeats the IV before it", (unsigned long long)seq);
        memcpy(prev, out + HK_ESP_HDR_LEN, 16);
        const uint8_t *p;
        size_t pl;
        uint8_t nh;
        assert_int_equal(hk_esp_decap(&rx, seq, out, outlen, &p, &pl, &nh), 0);
        assert_int_equal(pl, sizeof(payload));
        assert_memory_equal(p, payload, sizeof(payload));
    }
    assert_int_equal(n_rand, rand0);
    assert_true(n_rand_ex - refills0 <= N * 16 / HK_RNG_BUF + 1);
    hk_esp_sa_crypto_clear(&sa);
    hk_esp_sa_crypto_clear(&rx);
}

/* Payload already in place (zero copy), buffer limits, MTU arithmetic, bad arguments. */
static void sizes_and_arguments(void **state)
{
    const struct hk_crypto *c = *state;
    uint8_t out[256], ref[256], payload[50];
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)i;
    for (size_t si = 0; si < NSUITES; si++) {
        struct hk_esp_sa_crypto sa;
        sa_init(c, &suites[si], false, &sa);
        size_t hdr = hk_esp_hdr_len(&sa), outlen, reflen;
        const uint8_t iv[16] = {1, 2, 3};
        assert_int_equal(
            hk_esp_encap_iv(&sa, 3, iv, 4, payload, sizeof(payload), 0, ref, sizeof(ref), &reflen),
            0);
        memcpy(out + hdr, payload, sizeof(payload));
        assert_int_equal(hk_esp_encap_iv(&sa, 3, iv, 4, out + hdr, sizeof(payload), 0, out,
                                         sizeof(out), &outlen),
                         0);
        assert_int_equal(outlen, reflen);
        assert_memory_equal(out, ref, reflen);
        /* Exactly the length needed, and one less. */
        assert_int_equal(hk_esp_encap(&sa, 4, 4, payload, sizeof(payload), 0, out, reflen, &outlen),
                         0);
        assert_int_equal(
            hk_esp_encap(&sa, 5, 4, payload, sizeof(payload), 0, out, reflen - 1, &outlen),
            HK_E_OVERFLOW);
        /* MTU: the largest payload fits, one more does not. */
        for (size_t room = 0; room < 200; room++) {
            size_t m = hk_esp_max_payload(&sa, room);
            if (m == 0 && hk_esp_packet_len(&sa, 0, 0) > room)
                continue;
            assert_true(hk_esp_packet_len(&sa, m, 0) <= room);
            assert_true(hk_esp_packet_len(&sa, m + 1, 0) > room);
        }
        /* Sequence numbers: never 0; 32 bits without ESN (RFC 4303 3.3.3). */
        assert_int_equal(hk_esp_encap(&sa, 0, 4, payload, 1, 0, out, sizeof(out), &outlen),
                         HK_E_INVALID);
        assert_int_equal(hk_esp_encap(&sa, 1ull << 32, 4, payload, 1, 0, out, sizeof(out), &outlen),
                         HK_E_INVALID);
        assert_int_equal(hk_esp_encap(&sa, 6, 4, NULL, 1, 0, out, sizeof(out), &outlen),
                         HK_E_INVALID);
        /* Decap: the inferred sequence number must match the low bits on the wire. */
        assert_int_equal(hk_esp_encap(&sa, 7, 4, payload, 5, 0, out, sizeof(out), &outlen), 0);
        const uint8_t *p;
        size_t pl;
        uint8_t nh;
        assert_int_equal(hk_esp_decap(&sa, 8, out, outlen, &p, &pl, &nh), HK_E_INVALID);
        assert_int_equal(hk_esp_decap(&sa, 7, out, outlen, &p, &pl, &nh), 0);
        hk_esp_sa_crypto_clear(&sa);
    }

    /* Bad SA parameters leave a cleared SA. */
    struct hk_esp_sa_crypto sa;
    uint8_t k[64] = {0};
    assert_int_equal(
        hk_esp_sa_crypto_init(&sa, c, 1, false, HK_ENCR_AES_CBC, 128, HK_AUTH_NONE, k, 16, NULL, 0),
        HK_E_INVALID);
    assert_int_equal(hk_esp_sa_crypto_init(&sa, c, 1, false, HK_ENCR_AES_CBC, 128,
                                           HK_AUTH_HMAC_SHA2_256_128, k, 16, k, 20),
                     HK_E_INVALID);
    assert_int_equal(hk_esp_sa_crypto_init(&sa, c, 1, false, HK_ENCR_AES_CBC, 100,
                                           HK_AUTH_HMAC_SHA2_256_128, k, 16, k, 32),
                     HK_E_INVALID);
    assert_int_equal(hk_esp_sa_crypto_init(&sa, c, 1, false, HK_ENCR_AES_CBC, 128,
                                           2 /* HMAC_SHA1_96 */, k, 16, k, 20),
                     HK_E_UNSUPPORTED);
    assert_int_equal(hk_esp_sa_crypto_init(&sa, c, 1, false, HK_ENCR_AES_GCM_16, 128, HK_AUTH_NONE,
                                           k, 16, NULL, 0),
                     HK_E_INVALID); /* salt missing */
    assert_int_equal(
        hk_esp_sa_crypto_init(&sa, c, 1, false, 3 /* 3DES */, 0, HK_AUTH_NONE, k, 24, NULL, 0),
        HK_E_UNSUPPORTED);
    assert_null(sa.aead);
    assert_null(sa.cbc_enc);
    hk_esp_sa_crypto_clear(&sa);
}

/*
 * Counts OpenSSL's allocations (the only allocator the ESP path could reach; esp_packet.c
 * calls none itself). A test-only static: the hook has no context argument.
 */
static size_t n_allocs;

static void *count_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    n_allocs++;
    return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    n_allocs++;
    return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    free(p);
}

/*
 * Once an SA is set up, encap and decap allocate nothing for the AEADs. For CBC + HMAC,
 * OpenSSL 3.0 itself allocates on every HMAC (re)init and final (a digest context each,
 * measured: 1 + 1; later releases reuse it), so at most 2 per operation are allowed there;
 * esp_packet.c adds none, and CBC IVs come from the already seeded DRBG.
 */
static void no_allocation_per_packet(void **state)
{
    const struct hk_crypto *c = *state;
    uint8_t payload[100] = {0}, out[256];
    for (size_t si = 0; si < NSUITES; si++) {
        bool cbc = suites[si].encr == HK_ENCR_AES_CBC;
        for (int esn = 0; esn < 2; esn++) {
            struct hk_esp_sa_crypto sa;
            sa_init(c, &suites[si], esn, &sa);
            /* Warm-up: the first random IV may instantiate the DRBG, and the first seal and
             * the first open each key their cipher context (crypto/sk_cipher.h). */
            size_t outlen;
            const uint8_t *wp;
            size_t wl;
            uint8_t wnh;
            assert_int_equal(hk_esp_encap(&sa, 1, 4, payload, 1, 0, out, sizeof(out), &outlen), 0);
            assert_int_equal(hk_esp_decap(&sa, 1, out, outlen, &wp, &wl, &wnh), 0);
            size_t before = n_allocs, ops = 0;
            for (uint64_t seq = 2; seq < 20; seq++) {
                const uint8_t *p;
                size_t pl;
                uint8_t nh;
                assert_int_equal(hk_esp_encap(&sa, seq, 4, payload, sizeof(payload), 0, out,
                                              sizeof(out), &outlen),
                                 0);
                assert_int_equal(hk_esp_decap(&sa, seq, out, outlen, &p, &pl, &nh), 0);
                out[20] ^= 1;
                assert_int_equal(hk_esp_decap(&sa, seq, out, outlen, &p, &pl, &nh), HK_E_AUTH);
                ops += 3;
            }
            if (cbc)
                assert_true(n_allocs - before <= 2 * ops);
            else
                assert_int_equal(n_allocs, before);
            hk_esp_sa_crypto_clear(&sa);
        }
    }
}

int main(void)
{
    /* Before OpenSSL allocates anything (setup runs inside cmocka). */
    if (!CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chacha_rfc7634_appendix_a),
        cmocka_unit_test(gcm_mcgrew_vectors),
        cmocka_unit_test(round_trips),
        cmocka_unit_test(tampering),
        cmocka_unit_test(bad_padding),
        cmocka_unit_test(truncated),
        cmocka_unit_test(tfc_dummy_and_padding),
        cmocka_unit_test(iv_generation),
        cmocka_unit_test(cbc_ivs_from_the_buffered_source),
        cmocka_unit_test(sizes_and_arguments),
        cmocka_unit_test(no_allocation_per_packet),
    };
    return cmocka_run_group_tests(tests, test_crypto_setup, test_crypto_teardown);
}
