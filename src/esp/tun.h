/*
 * A Linux TUN device for the userspace ESP plane: layer-3 packets, no packet-info
 * header (IFF_TUN | IFF_NO_PI), so each read() is one IPv4 or IPv6 packet.
 */
#ifndef HIKE_ESP_TUN_H
#define HIKE_ESP_TUN_H

#include <stddef.h>

/*
 * Opens /dev/net/tun (non-blocking, close-on-exec) and attaches a TUN interface named
 * name ("hike0"), or one the kernel names ("tun%d") when name is NULL. The interface
 * stays down until hk_rtnl_link_up. On success *fd is the device, ifname_out (len bytes;
 * IFNAMSIZ is always enough) its name and *ifindex its index. Returns 0, HK_E_INVALID
 * (bad arguments, name too long, ifname_out too small) or HK_E_IO (errno is kept from
 * the failing call).
 */
int hk_tun_open(const char *name, char *ifname_out, size_t len, int *fd, int *ifindex);
/* The same, with a message for any failure ("TUNSETIFF hike0: Operation not permitted")
 * in err (errlen bytes; err may be NULL). */
int hk_tun_open_err(const char *name, char *ifname_out, size_t len, int *fd, int *ifindex,
                    char *err, size_t errlen);
/*
 * The same with offloads: every read and write starts with a struct virtio_net_hdr
 * (IFF_VNET_HDR), and the kernel may hand over TCP packets of up to 64 KiB and leave
 * checksums to finish (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6; see esp/gso.h). HK_E_IO
 * where the kernel does not offer them.
 */
int hk_tun_open_offload(const char *name, char *ifname_out, size_t len, int *fd, int *ifindex,
                        char *err, size_t errlen);
/* Closes the device (fd < 0 is ignored); the kernel removes the interface together with
 * its addresses and routes. */
void hk_tun_close(int fd);

#endif
