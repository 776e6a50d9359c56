#include "common/err.h"

const char *hk_strerror(int err)
{
    switch (err) {
    case HK_OK:
        return "success";
    case HK_E_SHORT:
        return "short input";
    case HK_E_LENGTH:
        return "bad length";
    case HK_E_SYNTAX:
        return "invalid syntax";
    case HK_E_NOMEM:
        return "out of memory";
    case HK_E_UNSUPPORTED:
        return "unsupported";
    case HK_E_CRYPTO:
        return "crypto library failure";
    case HK_E_AUTH:
        return "integrity or authentication failure";
    case HK_E_PADDING:
        return "bad padding";
    case HK_E_CRITICAL:
        return "unsupported critical payload";
    case HK_E_INVALID:
        return "invalid argument";
    case HK_E_OVERFLOW:
        return "output too large";
    case HK_E_PEER_KE:
        return "invalid peer key exchange value";
    case HK_E_STATE:
        return "not allowed in this state";
    case HK_E_NOTFOUND:
        return "not found";
    case HK_E_IO:
        return "I/O error";
    case HK_E_CONFIG:
        return "configuration error";
    case HK_E_TIMEOUT:
        return "timed out";
    case HK_E_EXISTS:
        return "already exists";
    case HK_E_AGAIN:
        return "incomplete";
    }
    return "unknown error";
}
