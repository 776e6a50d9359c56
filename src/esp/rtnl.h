/*
 * Route netlink (libmnl) for the userspace ESP plane's TUN interface: bring the link up,
 * add and remove addresses and routes, IPv4 and IPv6. Every request asks for an ACK and
 * waits for it, so a call returns only once the kernel has applied it or refused it.
 *
 * Errors: a refusal by the kernel (or a failed socket call) returns HK_E_IO; r->err then
 * holds the message ("RTM_NEWROUTE 10.78.0.0/24 dev 7: File exists", with the kernel's
 * extended ACK text when it sends one), r->last_errno the errno, and the message is logged
 * at error level to the log given to hk_rtnl_open (may be NULL). HK_E_INVALID is a bad
 * argument (family, prefix length, mixed families), also described in r->err.
 */
#ifndef HIKE_ESP_RTNL_H
#define HIKE_ESP_RTNL_H

#include <stdint.h>

#include "common/log.h"
#include "config/ts_conf.h"

struct mnl_socket;

struct hk_rtnl {
    struct mnl_socket *nl;
    uint32_t portid;
    uint32_t seq; /* of the last request */
    const struct hk_log *log;
    int last_errno; /* errno of the last failure, 0 after a success */
    char err[256];  /* message of the last failure, "" after a success */
};

/* Opens and binds a NETLINK_ROUTE socket (close-on-exec). 0 or HK_E_IO. */
int hk_rtnl_open(struct hk_rtnl *r, const struct hk_log *log);
/* Closes the socket; safe on a zeroed or already closed r. */
void hk_rtnl_close(struct hk_rtnl *r);

/* Sets the link up and, when mtu != 0, its MTU. */
int hk_rtnl_link_up(struct hk_rtnl *r, int ifindex, uint32_t mtu);

/* Adds (fails with EEXIST when present) or deletes ip/prefix on ifindex. IPv6 addresses
 * are added with IFA_F_NODAD: usable at once. */
int hk_rtnl_addr_add(struct hk_rtnl *r, int ifindex, const struct hk_ip *ip, uint8_t prefix);
int hk_rtnl_addr_del(struct hk_rtnl *r, int ifindex, const struct hk_ip *ip, uint8_t prefix);

/* Adds (fails with EEXIST when present) or deletes the device route dst/prefix via ifindex
 * in table (0 = main; ids above 255 go in RTA_TABLE). src, optional (NULL), is the
 * preferred source address (RTA_PREFSRC), of dst's family; the kernel wants it to be an
 * address of this host. dst must have no host bits set past prefix (IPv4: the kernel
 * refuses). */
int hk_rtnl_route_add(struct hk_rtnl *r, int ifindex, const struct hk_ip *dst, uint8_t prefix,
                      const struct hk_ip *src, uint32_t table);
int hk_rtnl_route_del(struct hk_rtnl *r, int ifindex, const struct hk_ip *dst, uint8_t prefix,
                      const struct hk_ip *src, uint32_t table);

/*
 * Adds (fails with EEXIST when present) or deletes the policy-routing rule
 * "not fwmark MARK lookup TABLE" of family at priority prio: every packet whose mark is not
 * MARK (full mask) looks in table first (FIB_RULE_INVERT). hiked marks its own sockets, so
 * the IKE and ESP packets to a transport-mode peer keep the main table's route while the
 * host's other traffic to it goes into the TUN device.
 */
int hk_rtnl_rule_add(struct hk_rtnl *r, int family, uint32_t mark, uint32_t table, uint32_t prio);
int hk_rtnl_rule_del(struct hk_rtnl *r, int family, uint32_t mark, uint32_t table, uint32_t prio);

/*
 * Parses one datagram of replies to request seq from the kernel (portid: ours): runs
 * libmnl's callbacks over it, an ACK or error message giving *error (an errno, 0 for an ACK)
 * and msg (the extended ACK text, "" when none; msglen may be 0). Returns MNL_CB_STOP (the
 * ACK), MNL_CB_ERROR (an error reply or a malformed datagram) or MNL_CB_OK (read on).
 * Separate from the socket so that the parser can be fuzzed (tests/fuzz/fuzz_rtnl_reply.c).
 */
int hk_rtnl_parse_reply(const void *buf, size_t len, uint32_t seq, uint32_t portid, int *error,
                        char *msg, size_t msglen);

#endif
