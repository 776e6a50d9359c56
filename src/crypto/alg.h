/*
 * IKEv2 transform IDs (IANA "IKEv2 Parameters") for the algorithms hike implements.
 * The crypto modules map these to OpenSSL EVP objects; nothing else should.
 */
#ifndef HIKE_CRYPTO_ALG_H
#define HIKE_CRYPTO_ALG_H

/* Transform type 1: encryption. */
enum hk_encr_id {
    HK_ENCR_AES_CBC = 12,          /* RFC 3602; key length attribute 128/192/256 */
    HK_ENCR_AES_GCM_16 = 20,       /* RFC 5282 / RFC 4106; 16-octet ICV */
    HK_ENCR_CHACHA20_POLY1305 = 28 /* RFC 7634 */
};

/* Transform type 2: pseudo-random function. */
enum hk_prf_id {
    HK_PRF_HMAC_SHA2_256 = 5, /* RFC 4868 */
    HK_PRF_HMAC_SHA2_384 = 6,
    HK_PRF_HMAC_SHA2_512 = 7,
};

/* Transform type 3: integrity. */
enum hk_integ_id {
    HK_AUTH_NONE = 0,
    HK_AUTH_HMAC_SHA2_256_128 = 12, /* RFC 4868 */
    HK_AUTH_HMAC_SHA2_384_192 = 13,
    HK_AUTH_HMAC_SHA2_512_256 = 14,
};

/* Transform type 4: key exchange method (Diffie-Hellman group). */
enum hk_ke_id {
    HK_KE_NONE = 0,
    HK_KE_MODP2048 = 14,  /* RFC 3526 */
    HK_KE_ECP256 = 19,    /* RFC 5903 */
    HK_KE_ECP384 = 20,    /* RFC 5903 */
    HK_KE_CURVE25519 = 31 /* RFC 8031 */
};

/* Transform type 5: extended sequence numbers. */
enum hk_esn_id {
    HK_ESN_NO = 0,
    HK_ESN_YES = 1,
};

#endif
