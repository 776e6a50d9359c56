#include "esp/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/err.h"

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t errlen, const char *fmt,
                                                          ...)
{
    va_list ap;

    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int tun_open(const char *name, bool offload, char *ifname_out, size_t len, int *fd,
                    int *ifindex, char *err, size_t errlen)
{
    struct ifreq ifr;
    int tfd, e;

    if (err && errlen)
        err[0] = '\0';
    if (!ifname_out || !fd || !ifindex) {
        set_err(err, errlen, "tun: missing output argument");
        return HK_E_INVALID;
    }
    if (name && (name[0] == '\0' || strlen(name) >= IFNAMSIZ)) {
        set_err(err, errlen, "tun: bad interface name '%s' (1 to %d characters)", name,
                IFNAMSIZ - 1);
        return HK_E_INVALID;
    }
    tfd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (tfd < 0) {
        e = errno;
        set_err(err, errlen, "open /dev/net/tun: %s", strerror(e));
        errno = e;
        return HK_E_IO;
    }
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (offload ? IFF_VNET_HDR : 0);
    if (name)
        memcpy(ifr.ifr_name, name, strlen(name));
    if (ioctl(tfd, TUNSETIFF, &ifr) < 0) {
        e = errno;
        set_err(err, errlen, "TUNSETIFF %s: %s", name ? name : "(kernel-named)", strerror(e));
        close(tfd);
        errno = e;
        return HK_E_IO;
    }
    ifr.ifr_name[IFNAMSIZ - 1] = '\0';
    size_t nlen = strlen(ifr.ifr_name);
    if (nlen >= len) {
        set_err(err, errlen, "tun: name buffer too small for '%s' (%zu bytes)", ifr.ifr_name, len);
        close(tfd);
        return HK_E_INVALID;
    }
    unsigned idx = if_nametoindex(ifr.ifr_name);
    if (idx == 0) {
        e = errno;
        set_err(err, errlen, "if_nametoindex %s: %s", ifr.ifr_name, strerror(e));
        close(tfd);
        errno = e;
        return HK_E_IO;
    }
    int hdrsz = (int)sizeof(struct virtio_net_hdr);
    if (offload && (ioctl(tfd, TUNSETVNETHDRSZ, &hdrsz) < 0 ||
                    ioctl(tfd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0)) {
        e = errno;
        set_err(err, errlen, "TUNSETOFFLOAD %s: %s", ifr.ifr_name, strerror(e));
        close(tfd);
        errno = e;
        return HK_E_IO;
    }
    memcpy(ifname_out, ifr.ifr_name, nlen + 1);
    *fd = tfd;
    *ifindex = (int)idx;
    return 0;
}

int hk_tun_open_err(const char *name, char *ifname_out, size_t len, int *fd, int *ifindex,
                    char *err, size_t errlen)
{
    return tun_open(name, false, ifname_out, len, fd, ifindex, err, errlen);
}

int hk_tun_open_offload(const char *name, char *ifname_out, size_t len, int *fd, int *ifindex,
                        char *err, size_t errlen)
{
    return tun_open(name, true, ifname_out, len, fd, ifindex, err, errlen);
}

int hk_tun_open(const char *name, char *ifname_out, size_t len, int *fd, int *ifindex)
{
    return hk_tun_open_err(name, ifname_out, len, fd, ifindex, NULL, 0);
}

void hk_tun_close(int fd)
{
    if (fd >= 0)
        close(fd);
}
