#!/bin/bash
# Volume lifetimes and liveness from the data plane: a child with rekey_packets 40 is
# rekeyed by the traffic itself (RFC 4301 4.4.2.1 soft limit) with no packet lost, and
# with dpd_delay 1 s, inbound ESP counts as liveness (RFC 7296 2.4): no DPD exchange is
# needed while packets flow. Needs root; about 10 s.
set -u
. "${HIKE_SOURCE_DIR:?HIKE_SOURCE_DIR not set}/tests/net/lib/hike_pair.sh"
hp_init lifetimes 50
hp_net
T=$HP_T
ip -n "$HP_NSA" addr add 10.1.0.1/32 dev lo
ip -n "$HP_NSB" addr add 10.2.0.1/32 dev lo
hp_conf a start 'dpd_delay = "1s";' 'log_level = "debug";' 'rekey_packets = 40; life_packets = 100000;'
hp_conf b none '' 'log_level = "debug";' 'rekey_packets = 40; life_packets = 100000;'
hp_start b
hp_start a
hp_wait a 'len(s) == 1 and s[0]["children"]' || hp_fail "not established"
hp_json a stats > "$T/before.json"
ip netns exec "$HP_NSA" ping -q -c 100 -i 0.03 -W 2 -I 10.1.0.1 10.2.0.1 > "$T/ping" ||
    hp_fail "ping: $(cat "$T/ping")"
grep -q ' 0% packet loss' "$T/ping" || hp_fail "packets lost: $(cat "$T/ping")"
hp_json a stats > "$T/after.json"
hp_py '
b, a = j[0]["ike"], j[1]["ike"]
# 100 packets each way, a rekey every 40: at least two rekeys, by either side.
assert a["child_up"] - b["child_up"] >= 2, (b, a)
# Three seconds of traffic with dpd_delay 1 s: the ESP kept the peer alive.
assert a["dpd_sent"] - b["dpd_sent"] == 0, (b, a)
' "$T/before.json" "$T/after.json" || hp_fail "stats: $(cat "$T/before.json" "$T/after.json")"
grep -q "volume limit for rekeying reached" "$T/a.log" "$T/b.log" ||
    hp_fail "no volume-limit rekey in the logs"
ok "the traffic rekeyed the child (soft packet limit) with no loss; ESP counted as liveness"
hp_stop a
hp_stop b
echo "PASS"
