/* Internal to src/daemon/config: the error-buffer helper the string parsers share. */
#ifndef HIKE_CONFIG_CONF_ERR_H
#define HIKE_CONFIG_CONF_ERR_H

#include <stddef.h>

/* Formats into err (if err and errlen are non-zero) and returns HK_E_CONFIG. */
int hk_conf_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
