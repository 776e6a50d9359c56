#!/bin/bash
# Traffic through hike tunnels with the userspace ESP data plane (TUN device, RFC 4303
# tunnel mode): a and b, each with a LAN address on lo (10.1.0.1, 10.2.0.1), ping and a
# checksummed TCP transfer between them, with raw ESP (IP protocol 50) and with ESP in
# UDP (RFC 3948, forced by encap = true). The outer link carries only ESP: checked on a
# capture. Needs root; about 20 s.
set -u
. "${HIKE_SOURCE_DIR:?HIKE_SOURCE_DIR not set}/tests/net/lib/hike_pair.sh"
hp_init esp 80
hp_net
T=$HP_T
ip -n "$HP_NSA" addr add 10.1.0.1/32 dev lo
ip -n "$HP_NSB" addr add 10.2.0.1/32 dev lo
ifa=hpa$$

run_case() { # name, extra conn settings for a, outer capture filter for ESP
    local name=$1 extra=$2 filter=$3
    hp_conf a start "$extra"
    hp_conf b none
    hp_start b
    hp_start a
    hp_wait a 'len(s) == 1 and s[0]["state"] == "ESTABLISHED" and s[0]["children"]' ||
        hp_fail "$name: not established"
    hp_wait b 'len(s) == 1 and s[0]["children"]' || hp_fail "$name: b has no child"
    ip netns exec "$HP_NSA" timeout 25 dumpcap -q -P -i "$ifa" -w "$T/$name.pcap" 2> /dev/null &
    local cap=$!
    sleep 1
    ip netns exec "$HP_NSA" ping -q -c 5 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1 > "$T/$name.ping" ||
        hp_fail "$name: ping through the tunnel: $(cat "$T/$name.ping")"
    ok "$name: ping 10.1.0.1 -> 10.2.0.1 through the tunnel"
    hp_json a list-sas > "$T/$name.sas"
    hp_py 't = j[0][0]["children"][0]["traffic"]
sys.exit(0 if t["packets_out"] >= 5 and t["packets_in"] >= 5 and t["bytes_in"] >= 5 * 84 and
         t["replay_drops"] == 0 and t["auth_failures"] == 0 else 1)' "$T/$name.sas" ||
        hp_fail "$name: traffic counters: $(cat "$T/$name.sas")"
    ok "$name: list-sas counts the packets both ways"
    hp_tcp_transfer "$name" 10.2.0.1 10.1.0.1 || hp_fail "$name: TCP transfer: $(cat "$T/$name.xfer")"
    ok "$name: 2 MB over TCP, SHA-256 equal on both ends"
    sleep 0.7
    kill $cap 2> /dev/null
    wait $cap 2> /dev/null
    local esp plain
    esp=$(tshark -r "$T/$name.pcap" -Y "$filter" 2> /dev/null | wc -l)
    plain=$(tshark -r "$T/$name.pcap" -Y 'icmp || tcp.port == 5001' 2> /dev/null | wc -l)
    [ "$esp" -ge 10 ] || hp_fail "$name: only $esp ESP packets on the outer link"
    [ "$plain" = 0 ] || hp_fail "$name: $plain clear packets on the outer link"
    ok "$name: the outer link carries $esp ESP packets and no clear ones"
    if [ "$name" = raw-esp ]; then
        # A replayed ESP packet (RFC 4303 3.4.3): b's last packet to a, sent again from b's
        # namespace, is dropped by a's window and counted; nothing reaches a's LAN.
        "$HP_PYTHON" - "$T/$name.pcap" > "$T/replay.hex" << 'PY' || hp_fail "no ESP from b in the capture"
import struct, sys
d = open(sys.argv[1], "rb").read()
off, last = 24, None
while off + 16 <= len(d):
    incl = struct.unpack_from("<I", d, off + 8)[0]
    frame = d[off + 16:off + 16 + incl]
    off += 16 + incl
    ip = frame[14:]
    if len(ip) > 20 and ip[9] == 50 and ip[12:16] == bytes([192, 0, 2, 2]):
        last = ip[(ip[0] & 15) * 4:]
if last is None:
    sys.exit(1)
print(last.hex())
PY
        hp_json a list-sas > "$T/before.sas"
        ip netns exec "$HP_NSB" "$HP_PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
s.sendto(bytes.fromhex(open(sys.argv[1]).read().strip()), ("192.0.2.1", 0))' "$T/replay.hex" ||
            hp_fail "cannot send the replayed packet"
        hp_wait a "s[0]['children'][0]['traffic']['replay_drops'] == 1" ||
            hp_fail "replay not counted: $(hp_ctl a --json list-sas)"
        hp_json a list-sas > "$T/after.sas"
        hp_py 'sys.exit(0 if j[0][0]["children"][0]["traffic"]["packets_in"] ==
                    j[1][0]["children"][0]["traffic"]["packets_in"] else 1)' \
            "$T/before.sas" "$T/after.sas" || hp_fail "the replayed packet was delivered"
        ok "$name: a replayed ESP packet is dropped and counted"
        # Make-before-break: a steady ping across Child SA rekeys by each side loses nothing.
        ip netns exec "$HP_NSA" ping -q -c 60 -i 0.05 -W 2 -I 10.1.0.1 10.2.0.1 \
            > "$T/mbb.ping" 2>&1 &
        local pinger=$!
        local side cid old
        for side in a b a b; do
            sleep 0.5
            hp_json $side list-sas > "$T/sas.json"
            cid=$(hp_py 'print(j[0][0]["children"][0]["id"])' "$T/sas.json")
            old=$(hp_py 'print(j[0][0]["children"][0]["spi_in"])' "$T/sas.json")
            hp_ctl $side rekey "$cid" > /dev/null || hp_fail "rekey of child $cid by $side"
            hp_wait $side "len(s[0]['children']) == 1 and s[0]['children'][0]['spi_in'] != '$old'" ||
                hp_fail "child rekey by $side did not complete"
        done
        wait $pinger
        grep -q ' 0% packet loss' "$T/mbb.ping" ||
            hp_fail "packets lost across the rekeys: $(cat "$T/mbb.ping")"
        ok "$name: 60 pings across 4 Child SA rekeys (2 by each side), no loss"
    fi
    # IKE SA rekeys (2.18) move the Child SA to the new IKE SA: the data plane is told of its
    # new owner's path, and a steady ping across a rekey by each side loses nothing.
    ip netns exec "$HP_NSA" ping -q -c 40 -i 0.05 -W 2 -I 10.1.0.1 10.2.0.1 > "$T/$name.ike.ping" 2>&1 &
    local ipinger=$! iside iid
    for iside in a b; do
        sleep 0.5
        hp_json $iside list-sas > "$T/sas.json"
        iid=$(hp_py 'print(j[0][0]["id"])' "$T/sas.json")
        hp_ctl $iside rekey "$iid" > /dev/null || hp_fail "$name: IKE rekey by $iside"
        hp_wait $iside "len(s) == 1 and s[0]['id'] != $iid and s[0]['children']" ||
            hp_fail "$name: IKE rekey by $iside did not complete: $(hp_ctl $iside --json list-sas)"
    done
    wait $ipinger
    grep -q ' 0% packet loss' "$T/$name.ike.ping" ||
        hp_fail "$name: packets lost across the IKE rekeys: $(cat "$T/$name.ike.ping")"
    grep -q 'dataplane: ESP SA in .* now' "$HP_T/a.log" ||
        hp_fail "$name: the data plane was not told of the Child SA's new IKE SA"
    ok "$name: 40 pings across 2 IKE SA rekeys (one by each side), the data plane told, no loss"
    hp_stop a
    hp_stop b
}

run_case raw-esp "" 'esp && !udp'
run_case esp-in-udp "encap = true;" 'udp.port == 4500 && esp'
echo "PASS"
