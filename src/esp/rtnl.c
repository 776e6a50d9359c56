#include "esp/rtnl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <limits.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/err.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

__attribute__((format(printf, 3, 4))) static int fail(struct hk_rtnl *r, int rc, const char *fmt,
                                                      ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->err, sizeof(r->err), fmt, ap);
    va_end(ap);
    hk_err(r->log, "rtnl: %s", r->err);
    return rc;
}

int hk_rtnl_open(struct hk_rtnl *r, const struct hk_log *log)
{
    int one = 1, e;

    if (!r)
        return HK_E_INVALID;
    memset(r, 0, sizeof(*r));
    r->log = log;
    r->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (!r->nl) {
        r->last_errno = errno;
        return fail(r, HK_E_IO, "netlink socket: %s", strerror(r->last_errno));
    }
    if (mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
        e = errno;
        mnl_socket_close(r->nl);
        r->nl = NULL;
        r->last_errno = e;
        return fail(r, HK_E_IO, "netlink bind: %s", strerror(e));
    }
    /* Best effort: the kernel's reason in text, and ACKs without our request echoed. */
    mnl_socket_setsockopt(r->nl, NETLINK_EXT_ACK, &one, sizeof(one));
    mnl_socket_setsockopt(r->nl, NETLINK_CAP_ACK, &one, sizeof(one));
    r->portid = mnl_socket_get_portid(r->nl);
    r->seq = (uint32_t)time(NULL);
    return 0;
}

void hk_rtnl_close(struct hk_rtnl *r)
{
    if (r && r->nl) {
        mnl_socket_close(r->nl);
        r->nl = NULL;
    }
}

/* What the NLMSG_ERROR callback found. */
struct ack {
    int error; /* errno, 0 for a plain ACK */
    char msg[128];
};

static int extack_attr_cb(const struct nlattr *a, void *data)
{
    struct ack *ack = data;

    if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
        snprintf(ack->msg, sizeof(ack->msg), "%s", mnl_attr_get_str(a));
    return MNL_CB_OK;
}

static int error_cb(const struct nlmsghdr *nlh, void *data)
{
    struct ack *ack = data;
    const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

    if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
        ack->error = EBADMSG;
        return MNL_CB_ERROR;
    }
    if (e->error == INT_MIN) { /* no errno; and its negation overflows */
        ack->error = EBADMSG;
        return MNL_CB_ERROR;
    }
    ack->error = e->error < 0 ? -e->error : e->error;
    /* The TLVs follow the echoed request: its header says how long that is (not capped). */
    if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) &&
        ((nlh->nlmsg_flags & NLM_F_CAPPED) || e->msg.nlmsg_len >= sizeof(struct nlmsghdr))) {
        size_t off = sizeof(*e);
        if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
            off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
        if (mnl_nlmsg_size(off) <= nlh->nlmsg_len)
            mnl_attr_parse(nlh, (unsigned)off, extack_attr_cb, ack);
    }
    return ack->error ? MNL_CB_ERROR : MNL_CB_STOP;
}

int hk_rtnl_parse_reply(const void *buf, size_t len, uint32_t seq, uint32_t portid, int *error,
                        char *msg, size_t msglen)
{
    mnl_cb_t ctl[NLMSG_MIN_TYPE] = {0};
    struct ack ack = {0, ""};
    ctl[NLMSG_ERROR] = error_cb;
    /* libmnl walks the datagram with int lengths, so a message length of 2 GiB or more passes
     * its bounds check and the walk jumps out of the buffer; and it reads a message's
     * attributes up to its length rounded up to 4, which the kernel always sends (its
     * messages are padded) but a datagram cut short does not have. Walk it first. */
    const uint8_t *p = buf;
    size_t left = len;
    bool bad = len > INT_MAX;
    while (!bad && left >= sizeof(struct nlmsghdr)) {
        struct nlmsghdr h;
        memcpy(&h, p, sizeof(h));
        bad = h.nlmsg_len > INT_MAX;
        if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > left)
            break; /* where libmnl stops too */
        bad |= MNL_ALIGN(h.nlmsg_len) > left;
        if (MNL_ALIGN(h.nlmsg_len) >= left)
            break;
        p += MNL_ALIGN(h.nlmsg_len);
        left -= MNL_ALIGN(h.nlmsg_len);
    }
    if (bad) {
        *error = EBADMSG;
        if (msglen)
            snprintf(msg, msglen, "malformed netlink reply");
        return MNL_CB_ERROR;
    }
    int rc = mnl_cb_run2(buf, len, seq, portid, NULL, &ack, ctl, NLMSG_MIN_TYPE);
    int saved = errno; /* libmnl's reason for an error without a reply code */
    *error = ack.error;
    if (msglen)
        snprintf(msg, msglen, "%s", ack.msg);
    errno = saved;
    return rc;
}

/* Sends nlh and waits for its ACK. what names the request in messages. */
static int talk(struct hk_rtnl *r, struct nlmsghdr *nlh, const char *what)
{
    char buf[MNL_SOCKET_BUFFER_SIZE];
    char msg[128] = "";
    ssize_t n;
    int rc;

    if (!r->nl)
        return fail(r, HK_E_STATE, "%s: socket not open", what);
    nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    nlh->nlmsg_seq = ++r->seq;
    if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0) {
        r->last_errno = errno;
        return fail(r, HK_E_IO, "%s: send: %s", what, strerror(r->last_errno));
    }
    for (;;) {
        n = mnl_socket_recvfrom(r->nl, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r->last_errno = errno;
            return fail(r, HK_E_IO, "%s: receive: %s", what, strerror(r->last_errno));
        }
        int e = 0;
        rc = hk_rtnl_parse_reply(buf, (size_t)n, r->seq, r->portid, &e, msg, sizeof(msg));
        if (rc == MNL_CB_STOP)
            break;
        if (rc == MNL_CB_ERROR) {
            e = e ? e : errno;
            r->last_errno = e;
            if (msg[0])
                return fail(r, HK_E_IO, "%s: %s (%s)", what, strerror(e), msg);
            return fail(r, HK_E_IO, "%s: %s", what, strerror(e));
        }
        /* MNL_CB_OK: a message of another sequence or a non-final part; keep reading. */
    }
    r->last_errno = 0;
    r->err[0] = '\0';
    return 0;
}

int hk_rtnl_link_up(struct hk_rtnl *r, int ifindex, uint32_t mtu)
{
    char buf[MNL_SOCKET_BUFFER_SIZE], what[64];
    struct nlmsghdr *nlh;
    struct ifinfomsg *ifi;

    if (!r)
        return HK_E_INVALID;
    if (ifindex <= 0)
        return fail(r, HK_E_INVALID, "link up: bad ifindex %d", ifindex);
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWLINK;
    ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    ifi->ifi_flags = IFF_UP;
    ifi->ifi_change = IFF_UP;
    if (mtu)
        mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
    snprintf(what, sizeof(what), "RTM_NEWLINK up dev %d mtu %u", ifindex, mtu);
    return talk(r, nlh, what);
}

static int addr_len(const struct hk_ip *ip)
{
    if (!ip)
        return -1;
    return ip->family == AF_INET ? 4 : ip->family == AF_INET6 ? 16 : -1;
}

/* "10.0.0.1/32" for messages. */
static void fmt_pfx(char *out, size_t len, const struct hk_ip *ip, int prefix)
{
    char a[INET6_ADDRSTRLEN];

    if (!inet_ntop(ip->family, ip->addr, a, sizeof(a)))
        snprintf(a, sizeof(a), "?");
    snprintf(out, len, "%s/%d", a, prefix);
}

static int addr_req(struct hk_rtnl *r, uint16_t type, int ifindex, const struct hk_ip *ip,
                    uint8_t prefix)
{
    char buf[MNL_SOCKET_BUFFER_SIZE], p[INET6_ADDRSTRLEN + 8], what[96];
    const char *name = type == RTM_NEWADDR ? "RTM_NEWADDR" : "RTM_DELADDR";
    struct nlmsghdr *nlh;
    struct ifaddrmsg *ifa;
    int alen;

    if (!r)
        return HK_E_INVALID;
    alen = addr_len(ip);
    if (alen < 0)
        return fail(r, HK_E_INVALID, "%s: address of unknown family", name);
    if (ifindex <= 0 || prefix > alen * 8)
        return fail(r, HK_E_INVALID, "%s: bad ifindex %d or prefix length %u", name, ifindex,
                    prefix);
    fmt_pfx(p, sizeof(p), ip, prefix);
    snprintf(what, sizeof(what), "%s %s dev %d", name, p, ifindex);

    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    if (type == RTM_NEWADDR)
        nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
    ifa->ifa_family = (uint8_t)ip->family;
    ifa->ifa_prefixlen = prefix;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = (uint32_t)ifindex;
    if (ip->family == AF_INET6 && type == RTM_NEWADDR)
        ifa->ifa_flags = IFA_F_NODAD;
    mnl_attr_put(nlh, IFA_LOCAL, (size_t)alen, ip->addr);
    mnl_attr_put(nlh, IFA_ADDRESS, (size_t)alen, ip->addr);
    return talk(r, nlh, what);
}

int hk_rtnl_addr_add(struct hk_rtnl *r, int ifindex, const struct hk_ip *ip, uint8_t prefix)
{
    return addr_req(r, RTM_NEWADDR, ifindex, ip, prefix);
}

int hk_rtnl_addr_del(struct hk_rtnl *r, int ifindex, const struct hk_ip *ip, uint8_t prefix)
{
    return addr_req(r, RTM_DELADDR, ifindex, ip, prefix);
}

static int route_req(struct hk_rtnl *r, uint16_t type, int ifindex, const struct hk_ip *dst,
                     uint8_t prefix, const struct hk_ip *src, uint32_t table)
{
    char buf[MNL_SOCKET_BUFFER_SIZE], p[INET6_ADDRSTRLEN + 8], what[160];
    const char *name = type == RTM_NEWROUTE ? "RTM_NEWROUTE" : "RTM_DELROUTE";
    struct nlmsghdr *nlh;
    struct rtmsg *rtm;
    int alen;

    if (!r)
        return HK_E_INVALID;
    alen = addr_len(dst);
    if (alen < 0)
        return fail(r, HK_E_INVALID, "%s: destination of unknown family", name);
    if (ifindex <= 0 || prefix > alen * 8)
        return fail(r, HK_E_INVALID, "%s: bad ifindex %d or prefix length %u", name, ifindex,
                    prefix);
    if (src && src->family != dst->family)
        return fail(r, HK_E_INVALID, "%s: source and destination of different families", name);
    if (table == 0)
        table = RT_TABLE_MAIN;
    fmt_pfx(p, sizeof(p), dst, prefix);
    snprintf(what, sizeof(what), "%s %s dev %d table %u", name, p, ifindex, table);
    if (src) {
        char s[INET6_ADDRSTRLEN];
        size_t l = strlen(what);
        if (inet_ntop(src->family, src->addr, s, sizeof(s)))
            snprintf(what + l, sizeof(what) - l, " src %s", s);
    }

    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
    rtm->rtm_family = (uint8_t)dst->family;
    rtm->rtm_dst_len = prefix;
    rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
    if (type == RTM_NEWROUTE) {
        /* As `ip route add DST dev X`: a device route without a gateway is scope link. */
        nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
        rtm->rtm_protocol = RTPROT_STATIC;
        rtm->rtm_scope = RT_SCOPE_LINK;
        rtm->rtm_type = RTN_UNICAST;
    } else {
        rtm->rtm_scope = RT_SCOPE_NOWHERE; /* any scope */
    }
    mnl_attr_put(nlh, RTA_DST, (size_t)alen, dst->addr);
    mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)ifindex);
    mnl_attr_put_u32(nlh, RTA_TABLE, table);
    if (src)
        mnl_attr_put(nlh, RTA_PREFSRC, (size_t)alen, src->addr);
    return talk(r, nlh, what);
}

int hk_rtnl_route_add(struct hk_rtnl *r, int ifindex, const struct hk_ip *dst, uint8_t prefix,
                      const struct hk_ip *src, uint32_t table)
{
    return route_req(r, RTM_NEWROUTE, ifindex, dst, prefix, src, table);
}

int hk_rtnl_route_del(struct hk_rtnl *r, int ifindex, const struct hk_ip *dst, uint8_t prefix,
                      const struct hk_ip *src, uint32_t table)
{
    return route_req(r, RTM_DELROUTE, ifindex, dst, prefix, src, table);
}

static int rule_req(struct hk_rtnl *r, uint16_t type, int family, uint32_t mark, uint32_t table,
                    uint32_t prio)
{
    char buf[MNL_SOCKET_BUFFER_SIZE], what[128];
    const char *name = type == RTM_NEWRULE ? "RTM_NEWRULE" : "RTM_DELRULE";
    struct nlmsghdr *nlh;
    struct fib_rule_hdr *frh;

    if (!r)
        return HK_E_INVALID;
    if ((family != AF_INET && family != AF_INET6) || table == 0 || mark == 0)
        return fail(r, HK_E_INVALID, "%s: bad family %d, table %u or mark %u", name, family, table,
                    mark);
    snprintf(what, sizeof(what), "%s %s not fwmark 0x%x lookup %u pref %u", name,
             family == AF_INET ? "inet" : "inet6", mark, table, prio);
    nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = type;
    if (type == RTM_NEWRULE)
        nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    frh = mnl_nlmsg_put_extra_header(nlh, sizeof(*frh));
    frh->family = (uint8_t)family;
    frh->action = FR_ACT_TO_TBL;
    frh->flags = FIB_RULE_INVERT;
    frh->table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
    mnl_attr_put_u32(nlh, FRA_FWMARK, mark);
    mnl_attr_put_u32(nlh, FRA_FWMASK, 0xffffffff);
    mnl_attr_put_u32(nlh, FRA_TABLE, table);
    mnl_attr_put_u32(nlh, FRA_PRIORITY, prio);
    return talk(r, nlh, what);
}

int hk_rtnl_rule_add(struct hk_rtnl *r, int family, uint32_t mark, uint32_t table, uint32_t prio)
{
    return rule_req(r, RTM_NEWRULE, family, mark, table, prio);
}

int hk_rtnl_rule_del(struct hk_rtnl *r, int family, uint32_t mark, uint32_t table, uint32_t prio)
{
    return rule_req(r, RTM_DELRULE, family, mark, table, prio);
}
