#!/bin/bash
# MOBIKE (RFC 4555) between two hiked: a, the initiator, has a second address on its link
# (192.0.2.11); `hikectl migrate` moves the IKE SA there, b takes the update, checks the new
# address (return routability, 3.7) and its ESP follows: a ping through the tunnel after the
# move is carried by ESP from and to 192.0.2.11 only (checked on a capture on b's side).
# b, the responder, cannot move the SA (3.2); a connection without MOBIKE refuses too.
# Needs root; about 10 s.
set -u
. "${HIKE_SOURCE_DIR:?HIKE_SOURCE_DIR not set}/tests/net/lib/hike_pair.sh"
hp_init mobike 60
hp_net
T=$HP_T
ifa=hpa$$ ifb=hpb$$
ip -n "$HP_NSA" addr add 192.0.2.11/24 dev "$ifa"
ip -n "$HP_NSA" addr add 10.1.0.1/32 dev lo
ip -n "$HP_NSB" addr add 10.2.0.1/32 dev lo

hp_conf a start 'mobike = true;'
hp_conf b none 'mobike = true;'
# a sends from either address (PKTINFO on a wildcard socket); b takes a from any address.
sed -i 's/listen = \["192.0.2.1"\]/listen = ["0.0.0.0"]/' "$T/a.conf"
sed -i 's/local_addrs = "192.0.2.1"/local_addrs = ["192.0.2.1", "192.0.2.11"]/' "$T/a.conf"
sed -i 's/remote_addrs = "192.0.2.1"/remote_addrs = "%any"/' "$T/b.conf"
hp_start b
hp_start a
hp_wait a 'len(s) == 1 and s[0]["state"] == "ESTABLISHED" and s[0]["children"]' ||
    hp_fail "not established"
hp_wait b 'len(s) == 1 and s[0]["children"]' || hp_fail "b has no child"
# 3.3: on the NAT-T port from IKE_AUTH on, without a NAT.
hp_wait a 's[0]["local"] == "192.0.2.1:4500" and s[0]["remote"] == "192.0.2.2:4500"' ||
    hp_fail "a is not on port 4500: $(hp_ctl a list-sas)"
hp_wait b 's[0]["mobike"] and s[0]["peer_addrs"] == ["192.0.2.11"]' ||
    hp_fail "b does not know a's second address: $(hp_json b list-sas)"
ip netns exec "$HP_NSA" ping -q -c 3 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1 > "$T/before.ping" ||
    hp_fail "ping before the move: $(cat "$T/before.ping")"
ok "established with MOBIKE on port 4500, b knows a's other address, ping through the tunnel"

id_a=$(hp_json a list-sas | "$HP_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
id_b=$(hp_json b list-sas | "$HP_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')

# The responder may not move the SA (3.2): a clear refusal.
if hp_ctl b migrate "$id_b" --local 192.0.2.2 > "$T/b.migrate" 2>&1; then
    hp_fail "b moved an SA it did not initiate"
fi
grep -q "original initiator" "$T/b.migrate" || hp_fail "b's refusal: $(cat "$T/b.migrate")"
ok "the responder cannot move the SA: $(cat "$T/b.migrate")"

ip netns exec "$HP_NSB" timeout 20 dumpcap -q -P -i "$ifb" -w "$T/move.pcap" 2> /dev/null &
cap=$!
sleep 1
hp_ctl a migrate "$id_a" --local 192.0.2.11 > "$T/a.migrate" 2>&1 ||
    hp_fail "hikectl migrate: $(cat "$T/a.migrate")"
grep -q "192.0.2.11:4500" "$T/a.migrate" || hp_fail "migrate said: $(cat "$T/a.migrate")"
ok "hikectl migrate: $(cat "$T/a.migrate")"
hp_wait b 's[0]["remote"] == "192.0.2.11:4500"' || hp_fail "b did not take the new address"
hp_wait a 's[0]["local"] == "192.0.2.11:4500" and s[0]["state"] == "ESTABLISHED"' ||
    hp_fail "a is not on its new address"
for _ in $(seq 50); do
    grep -q "verified, Child SAs follow" "$T/b.log" && break
    sleep 0.1
done
grep -q "verified, Child SAs follow" "$T/b.log" ||
    hp_fail "b did not check a's new address before moving its ESP"
ok "b took the update and checked the new address (return routability)"
ip netns exec "$HP_NSA" ping -q -c 5 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1 > "$T/after.ping" ||
    hp_fail "ping after the move: $(cat "$T/after.ping")"
ok "ping through the tunnel after the move"
sleep 0.7
kill $cap 2> /dev/null
wait $cap 2> /dev/null
# ESP in UDP (port 4500, no non-ESP marker) after the update: from and to the new address.
new=$(tshark -r "$T/move.pcap" -Y 'esp && ip.src == 192.0.2.11' 2> /dev/null | wc -l)
back=$(tshark -r "$T/move.pcap" -Y 'esp && ip.dst == 192.0.2.11' 2> /dev/null | wc -l)
icmp=$(tshark -r "$T/move.pcap" -Y 'icmp' 2> /dev/null | wc -l)
[ "$new" -ge 5 ] || hp_fail "only $new ESP packets from 192.0.2.11"
[ "$back" -ge 5 ] || hp_fail "only $back ESP packets to 192.0.2.11"
[ "$icmp" = 0 ] || hp_fail "$icmp clear packets on the link"
old_after=$(tshark -r "$T/move.pcap" -Y 'esp && ip.addr == 192.0.2.1' 2> /dev/null | wc -l)
[ "$old_after" = 0 ] || hp_fail "$old_after ESP packets still on 192.0.2.1 during the capture"
ok "ESP follows the SA: $new packets from and $back to 192.0.2.11, none on 192.0.2.1"

hp_stop a
hp_stop b
# Without MOBIKE on b the SA cannot move, and hikectl says why.
hp_conf a start 'mobike = true;'
hp_conf b none
sed -i 's/listen = \["192.0.2.1"\]/listen = ["0.0.0.0"]/' "$T/a.conf"
rm -f "$T/a.ctl" "$T/b.ctl"
hp_start b
hp_start a
hp_wait a 'len(s) == 1 and s[0]["state"] == "ESTABLISHED"' || hp_fail "not established (2)"
id_a=$(hp_json a list-sas | "$HP_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
if hp_ctl a migrate "$id_a" --local 192.0.2.11 > "$T/a.migrate2" 2>&1; then
    hp_fail "moved an SA without MOBIKE"
fi
grep -q "MOBIKE was not negotiated" "$T/a.migrate2" || hp_fail "refusal: $(cat "$T/a.migrate2")"
ok "without MOBIKE on the peer: $(cat "$T/a.migrate2")"
hp_stop a
hp_stop b
echo "PASS"
