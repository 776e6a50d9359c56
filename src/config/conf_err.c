#include "config/conf_err.h"

#include <stdarg.h>
#include <stdio.h>

#include "common/err.h"

int hk_conf_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return HK_E_CONFIG;
}
