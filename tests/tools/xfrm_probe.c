/*
 * For tests/net/hike_xfrm_probe.sh, in a test namespace:
 *   xfrm_probe               runs the XFRM backend's start-up probe and prints what it found:
 *                            "esp: yes", or "esp: no (errno N): REASON"; exit 0 (ESP) or 1
 *   xfrm_probe policies add|del
 *                            adds (or deletes) the out/in/fwd policies hike builds for the
 *                            selectors 10.1.0.1-10.1.0.6[tcp] <-> 10.2.0.0/16[tcp/443] between
 *                            192.0.2.1 and 192.0.2.2 (reqid 7): policies need no kernel ESP,
 *                            so the kernel itself can check those messages here
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "esp/dp_xfrm.h"
#include "esp/xfrm_msg.h"
#include "esp/xfrm_nl.h"

static struct ike_ts ts4(const char *a, const char *b, uint16_t p0, uint16_t p1)
{
    struct ike_ts t = {
        .type = IKE_TS_IPV4_ADDR_RANGE, .ip_proto = IPPROTO_TCP, .start_port = p0, .end_port = p1};
    inet_pton(AF_INET, a, t.start_addr);
    inet_pton(AF_INET, b, t.end_addr);
    return t;
}

static int policies(bool add)
{
    struct ike_ts l = ts4("10.1.0.1", "10.1.0.6", 0, 65535),
                  r = ts4("10.2.0.0", "10.2.255.255", 443, 443);
    struct hk_xfrm_sel sel[8];
    static const uint8_t dirs[] = {XFRM_POLICY_OUT, XFRM_POLICY_IN, XFRM_POLICY_FWD};
    _Alignas(8) uint8_t buf[HK_XFRM_MSG_MAX];
    struct hk_xfrm_nl nl;
    size_t n, len;
    int rc;

    if ((rc = hk_xfrm_sels(&l, 1, &r, 1, sel, 8, &n)) || hk_xfrm_nl_open(&nl)) {
        fprintf(stderr, "setup: %s\n", rc ? hk_strerror(rc) : nl.err);
        return 2;
    }
    for (size_t i = 0; i < n; i++)
        for (size_t d = 0; d < 3; d++) {
            bool out = dirs[d] == XFRM_POLICY_OUT;
            struct hk_xfrm_policy p = {
                .dir = dirs[d], .family = AF_INET, .reqid = 7, .tunnel = true};
            p.sel = out ? sel[i] : hk_xfrm_sel_reverse(&sel[i]);
            p.priority = hk_xfrm_sel_priority(&p.sel);
            inet_pton(AF_INET, out ? "192.0.2.1" : "192.0.2.2", p.tsrc);
            inet_pton(AF_INET, out ? "192.0.2.2" : "192.0.2.1", p.tdst);
            uint32_t seq = hk_xfrm_nl_next_seq(&nl);
            rc = add ? hk_xfrm_newpolicy(buf, sizeof(buf), seq, &p, &len)
                     : hk_xfrm_delpolicy(buf, sizeof(buf), seq, &p, &len);
            if (!rc)
                rc = hk_xfrm_nl_talk(&nl, buf, len, seq, NULL);
            if (rc) {
                fprintf(stderr, "policy %zu/%zu: %s\n", i, d,
                        rc == HK_E_IO ? nl.err : hk_strerror(rc));
                hk_xfrm_nl_close(&nl);
                return 1;
            }
        }
    hk_xfrm_nl_close(&nl);
    printf("%zu policies %s\n", n * 3, add ? "added" : "deleted");
    return 0;
}

int main(int argc, char **argv)
{
    struct hk_log log;
    struct hk_xfrm_probe pr;

    if (argc == 3 && !strcmp(argv[1], "policies"))
        return policies(!strcmp(argv[2], "add"));
    hk_log_init(&log, HK_LOG_DEBUG, stderr);
    if (hk_dp_xfrm_probe(&log, &pr)) {
        printf("esp: yes\n");
        return 0;
    }
    printf("esp: no (errno %d): %s\n", pr.err, pr.why);
    return 1;
}
