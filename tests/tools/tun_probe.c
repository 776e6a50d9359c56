/*
 * tun_probe: exercises hk_tun_* and hk_rtnl_* for tests/net/tun_rtnl.sh. Run it in a
 * network namespace of its own. It opens a TUN, sets it up (MTU 1400), adds 10.77.0.1/32,
 * 10.77.0.2/32, fd77::1/128 and fd77::2/128, routes 10.78.0.0/24 and fd78::/64 via it, and
 * 10.79.0.0/24 (src 10.77.0.2) and fd79::/64 (src fd77::2) with a preferred-source hint,
 * then prints "READY <ifname> <ifindex>". It reads packets (printing "PKT <4|6> <src>
 * <dst>" for each) until it has seen one to every --expect address, then prints
 * "SEEN-ALL" (or "TIMEOUT" and exits 1). On a line on stdin it deletes the routes and
 * addresses, checks a second delete fails, prints "DELETED", and exits at stdin's end.
 *
 *   tun_probe [--name IFNAME] [--timeout SECONDS] [--expect ADDR]...
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "config/ts_conf.h"
#include "esp/rtnl.h"
#include "esp/tun.h"

#define MAX_EXPECT 8

struct probe_route {
    const char *dst, *src;
    uint8_t len;
};

static const char *const probe_addrs[] = {"10.77.0.1", "10.77.0.2", "fd77::1", "fd77::2"};
static const struct probe_route probe_routes[] = {
    {"10.78.0.0", NULL, 24},
    {"fd78::", NULL, 64},
    {"10.79.0.0", "10.77.0.2", 24},
    {"fd79::", "fd77::2", 64},
};

static struct hk_ip ip(const char *s)
{
    struct hk_ip a;
    char err[128];

    if (hk_ip_parse(s, &a, err, sizeof(err)) != 0) {
        fprintf(stderr, "tun_probe: %s\n", err);
        exit(2);
    }
    return a;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int setup(struct hk_rtnl *r, int ifindex)
{
    struct hk_ip dst, src;
    int rc;

    if ((rc = hk_rtnl_link_up(r, ifindex, 1400)) != 0)
        return rc;
    for (size_t i = 0; i < sizeof(probe_addrs) / sizeof(probe_addrs[0]); i++) {
        dst = ip(probe_addrs[i]);
        if ((rc = hk_rtnl_addr_add(r, ifindex, &dst, dst.family == AF_INET ? 32 : 128)) != 0)
            return rc;
    }
    for (size_t i = 0; i < sizeof(probe_routes) / sizeof(probe_routes[0]); i++) {
        const struct probe_route *pr = &probe_routes[i];
        dst = ip(pr->dst);
        if (pr->src)
            src = ip(pr->src);
        if ((rc = hk_rtnl_route_add(r, ifindex, &dst, pr->len, pr->src ? &src : NULL, 0)) != 0)
            return rc;
    }
    /* A second add must fail with the kernel's EEXIST, and say so. */
    dst = ip("10.78.0.0");
    rc = hk_rtnl_route_add(r, ifindex, &dst, 24, NULL, 0);
    if (rc != HK_E_IO || r->last_errno != EEXIST) {
        fprintf(stderr, "tun_probe: duplicate route: rc %d errno %d\n", rc, r->last_errno);
        return HK_E_STATE;
    }
    printf("DUP-ERR %s\n", r->err);
    return 0;
}

static int teardown(struct hk_rtnl *r, int ifindex)
{
    struct hk_ip dst, src;
    int rc;

    for (size_t i = 0; i < sizeof(probe_routes) / sizeof(probe_routes[0]); i++) {
        const struct probe_route *pr = &probe_routes[i];
        dst = ip(pr->dst);
        if (pr->src)
            src = ip(pr->src);
        if ((rc = hk_rtnl_route_del(r, ifindex, &dst, pr->len, pr->src ? &src : NULL, 0)) != 0)
            return rc;
    }
    for (size_t i = 0; i < sizeof(probe_addrs) / sizeof(probe_addrs[0]); i++) {
        dst = ip(probe_addrs[i]);
        if ((rc = hk_rtnl_addr_del(r, ifindex, &dst, dst.family == AF_INET ? 32 : 128)) != 0)
            return rc;
    }
    /* Gone: deleting again is the kernel's error. */
    dst = ip("fd78::");
    rc = hk_rtnl_route_del(r, ifindex, &dst, 64, NULL, 0);
    if (rc != HK_E_IO) {
        fprintf(stderr, "tun_probe: second route delete: rc %d\n", rc);
        return HK_E_STATE;
    }
    printf("DEL-AGAIN-ERR %s\n", r->err);
    dst = ip("10.77.0.1");
    rc = hk_rtnl_addr_del(r, ifindex, &dst, 32);
    if (rc != HK_E_IO) {
        fprintf(stderr, "tun_probe: second address delete: rc %d\n", rc);
        return HK_E_STATE;
    }
    printf("DEL-AGAIN-ERR %s\n", r->err);
    return 0;
}

/* Reads packets until each expected destination was seen or timeout_ms passed. */
static int read_packets(int fd, const struct hk_ip *expect, size_t nexpect, int timeout_ms)
{
    bool seen[MAX_EXPECT] = {false};
    size_t nseen = 0;
    int64_t deadline = now_ms() + timeout_ms;
    uint8_t buf[2048];

    while (nseen < nexpect) {
        int64_t left = deadline - now_ms();
        if (left <= 0) {
            printf("TIMEOUT\n");
            return 1;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int pr = poll(&p, 1, (int)left);
        if (pr < 0 && errno != EINTR) {
            fprintf(stderr, "tun_probe: poll: %s\n", strerror(errno));
            return 1;
        }
        if (pr <= 0)
            continue;
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            fprintf(stderr, "tun_probe: read: %s\n", strerror(errno));
            return 1;
        }
        struct hk_ip s = {0}, d = {0};
        int ver = n > 0 ? buf[0] >> 4 : 0;
        if (ver == 4 && n >= 20) {
            s.family = d.family = AF_INET;
            memcpy(s.addr, buf + 12, 4);
            memcpy(d.addr, buf + 16, 4);
        } else if (ver == 6 && n >= 40) {
            s.family = d.family = AF_INET6;
            memcpy(s.addr, buf + 8, 16);
            memcpy(d.addr, buf + 24, 16);
        } else {
            printf("PKT ? %zd bytes\n", n);
            continue;
        }
        char st[INET6_ADDRSTRLEN], dt[INET6_ADDRSTRLEN];
        inet_ntop(s.family, s.addr, st, sizeof(st));
        inet_ntop(d.family, d.addr, dt, sizeof(dt));
        printf("PKT %d %s %s\n", ver, st, dt);
        fflush(stdout);
        for (size_t i = 0; i < nexpect; i++) {
            if (!seen[i] && expect[i].family == d.family &&
                memcmp(expect[i].addr, d.addr, d.family == AF_INET ? 4 : 16) == 0) {
                seen[i] = true;
                nseen++;
            }
        }
    }
    printf("SEEN-ALL\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *name = NULL;
    int timeout_s = 10;
    struct hk_ip expect[MAX_EXPECT];
    size_t nexpect = 0;
    char ifname[32], err[256];
    int fd, ifindex, rc, status = 1;
    struct hk_rtnl r;

    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            name = argv[++i];
        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            timeout_s = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--expect") == 0 && i + 1 < argc && nexpect < MAX_EXPECT) {
            expect[nexpect++] = ip(argv[++i]);
        } else {
            fprintf(stderr,
                    "usage: tun_probe [--name IFNAME] [--timeout SECONDS] [--expect ADDR]...\n");
            return 2;
        }
    }

    rc = hk_tun_open_err(name, ifname, sizeof(ifname), &fd, &ifindex, err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "tun_probe: %s (%s)\n", err, hk_strerror(rc));
        return 1;
    }
    if (hk_rtnl_open(&r, NULL) != 0) {
        fprintf(stderr, "tun_probe: %s\n", r.err);
        hk_tun_close(fd);
        return 1;
    }
    if ((rc = setup(&r, ifindex)) != 0) {
        fprintf(stderr, "tun_probe: setup: %s (%s)\n", r.err, hk_strerror(rc));
        goto out;
    }
    printf("READY %s %d\n", ifname, ifindex);
    if (read_packets(fd, expect, nexpect, timeout_s * 1000) != 0)
        goto out;

    char line[64];
    if (!fgets(line, sizeof(line), stdin))
        goto out;
    if ((rc = teardown(&r, ifindex)) != 0) {
        fprintf(stderr, "tun_probe: teardown: %s (%s)\n", r.err, hk_strerror(rc));
        goto out;
    }
    printf("DELETED\n");
    while (fgets(line, sizeof(line), stdin))
        ;
    status = 0;
out:
    hk_rtnl_close(&r);
    hk_tun_close(fd);
    return status;
}
