#include "common/diag.h"

#include <stdarg.h>
#include <stdio.h>

void hk_diag_set(struct hk_diag *d, const char *fmt, ...)
{
    if (!d || d->msg[0])
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
    va_end(ap);
}
