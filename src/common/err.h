/* Error codes shared by every layer: functions return 0 or one of these (negative). */
#ifndef HIKE_COMMON_ERR_H
#define HIKE_COMMON_ERR_H

enum hk_err {
    HK_OK = 0,
    HK_E_SHORT = -1,       /* input ends before the field being read */
    HK_E_LENGTH = -2,      /* a length field disagrees with its container */
    HK_E_SYNTAX = -3,      /* well-bounded but malformed content */
    HK_E_NOMEM = -4,       /* allocation failed */
    HK_E_UNSUPPORTED = -5, /* valid but not implemented (algorithm, type) */
    HK_E_CRYPTO = -6,      /* an OpenSSL call failed */
    HK_E_AUTH = -7,        /* integrity check or authentication failed */
    HK_E_PADDING = -8,     /* bad SK padding */
    HK_E_CRITICAL = -9,    /* unknown payload with the critical bit set */
    HK_E_INVALID = -10,    /* invalid argument from the caller */
    HK_E_OVERFLOW = -11,   /* output would exceed its limit */
    HK_E_PEER_KE = -12,    /* peer key-exchange value rejected (RFC 6989) */
    HK_E_STATE = -13,      /* operation not allowed in the current state */
    HK_E_NOTFOUND = -14,   /* lookup found nothing */
    HK_E_IO = -15,         /* system call failed */
    HK_E_CONFIG = -16,     /* bad configuration */
    HK_E_TIMEOUT = -17,    /* gave up waiting */
    HK_E_EXISTS = -18,     /* already there */
    HK_E_AGAIN = -19,      /* not complete yet (more input needed) */
};

/* A short, stable description ("short input") for any code, never NULL. */
const char *hk_strerror(int err);

#endif
