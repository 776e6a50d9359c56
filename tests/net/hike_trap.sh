#!/bin/bash
# On-demand set-up (start_action trap): a installs a trap policy for its child and no SA;
# the first packet from its LAN to b's LAN is queued, makes hiked initiate, and goes out
# once the Child SA is there. Needs root; about 5 s.
set -u
. "${HIKE_SOURCE_DIR:?HIKE_SOURCE_DIR not set}/tests/net/lib/hike_pair.sh"
hp_init trap 40
hp_net
T=$HP_T
ip -n "$HP_NSA" addr add 10.1.0.1/32 dev lo
ip -n "$HP_NSB" addr add 10.2.0.1/32 dev lo
hp_conf a trap
hp_conf b none
hp_start b
hp_start a
sleep 0.5
[ "$(hp_ctl a list-sas)" = "no IKE SAs" ] || hp_fail "an SA before any traffic: $(hp_ctl a list-sas)"
ip -n "$HP_NSA" route show | grep -q '10.2.0.0/16 dev hike' ||
    hp_fail "no trap route: $(ip -n "$HP_NSA" route show)"
ok "trap installed: a route into the TUN device, no SA"
ip netns exec "$HP_NSA" ping -q -c 5 -i 0.2 -W 3 -I 10.1.0.1 10.2.0.1 > "$T/ping" ||
    hp_fail "ping: $(cat "$T/ping")"
grep -q ' 0% packet loss' "$T/ping" || hp_fail "packets lost: $(cat "$T/ping")"
ok "the first packet started the SA and was delivered (0% loss)"
hp_wait a 'len(s) == 1 and s[0]["state"] == "ESTABLISHED" and s[0]["initiator"]' ||
    hp_fail "no SA after the traffic"
grep -q "traffic for its trap policy" "$T/a.log" || hp_fail "no acquire in a's log"
ok "a initiated on demand"
hp_stop a
hp_stop b
echo "PASS"
