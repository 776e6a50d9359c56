#!/bin/bash
# ESP transport mode (RFC 4303 3.1.1) in hike's userspace data plane, hike <-> hike: a
# Child SA between the two endpoint addresses themselves (IPv4 and IPv6), so the peer's
# address is both the ESP endpoint and the protected destination. Checks: ping and a
# checksummed 2 MB TCP transfer to the peer's own address, a Child SA rekey and an IKE SA
# rekey during a transfer, list-sas counters, the outer link carrying the test traffic only
# as ESP while IKE flows beside it, the policy-routing rule and the table route while the SA
# lives, and nothing left after SIGTERM. With raw ESP and with ESP in UDP (encap = true).
# Needs root; about 40 s.
set -u
. "${HIKE_SOURCE_DIR:?HIKE_SOURCE_DIR not set}/tests/net/lib/hike_pair.sh"
hp_init esptp 150
hp_net 6
T=$HP_T
ifa=hpa$$
MARK=0x484b TABLE=18507 # the defaults of daemon.fwmark and daemon.route_table

# The fwmark rule and the table's route exist in NS exactly when want = yes.
routing_is() {
    local ns=$1 want=$2 peer4=${3:-} peer6=${4:-} r4 r6 t4 t6
    r4=$(ip -n "$ns" -4 rule show | grep -c "not from all fwmark $MARK lookup $TABLE")
    r6=$(ip -n "$ns" -6 rule show | grep -c "not from all fwmark $MARK lookup $TABLE")
    t4=$(ip -n "$ns" -4 route show table "$TABLE" 2> /dev/null | grep -c "^$peer4 dev hike")
    t6=$(ip -n "$ns" -6 route show table "$TABLE" 2> /dev/null | grep -c "^$peer6 dev hike")
    if [ "$want" = yes ]; then
        [ "$r4$r6$t4$t6" = 1111 ]
    else
        [ "$r4$r6$t4$t6" = 0000 ] && [ -z "$(ip -n "$ns" route show table "$TABLE" 2> /dev/null)" ]
    fi
}

child_of() { # SIDE CONN FIELD: a field of the only child of SIDE's IKE SA of CONN
    hp_json "$1" list-sas > "$T/q.json"
    hp_py "print([x for x in j[0] if x['conn'] == '$2'][0]$3)" "$T/q.json"
}

run_case() { # name, extra conn settings, capture filter for ESP
    local name=$1 extra=$2 filter=$3
    hp_conf --transport a start "$extra"
    hp_conf --transport b none "$extra"
    hp_start b
    hp_start a
    local up='len(s) == 2 and all(x["state"] == "ESTABLISHED" and len(x["children"]) == 1 and
              x["children"][0]["state"] == "INSTALLED" and x["children"][0]["mode"] == "transport"
              for x in s)'
    hp_wait a "$up" 15 || hp_fail "$name: a: no transport-mode Child SAs"
    hp_wait b "$up" 5 || hp_fail "$name: b: no transport-mode Child SAs"
    ok "$name: IPv4 and IPv6 transport-mode Child SAs up"
    routing_is "$HP_NSA" yes "$HP_B4" "$HP_B6" || hp_fail "$name: a: rule or route missing:
$(ip -n "$HP_NSA" rule; ip -n "$HP_NSA" -6 rule; ip -n "$HP_NSA" route show table all | grep hike)"
    routing_is "$HP_NSB" yes "$HP_A4" "$HP_A6" || hp_fail "$name: b: rule or route missing"
    ok "$name: 'not fwmark $MARK lookup $TABLE' and the peer's host routes in both namespaces"

    ip netns exec "$HP_NSA" timeout 60 dumpcap -q -P -i "$ifa" -w "$T/$name.pcap" 2> /dev/null &
    local cap=$!
    wait_for 5 test -s "$T/$name.pcap"
    sleep 0.5
    ip netns exec "$HP_NSA" ping -q -c 5 -i 0.2 -W 2 "$HP_B4" > "$T/$name.ping4" ||
        hp_fail "$name: ping $HP_B4: $(cat "$T/$name.ping4")"
    ip netns exec "$HP_NSA" ping -6 -q -c 5 -i 0.2 -W 2 "$HP_B6" > "$T/$name.ping6" ||
        hp_fail "$name: ping $HP_B6: $(cat "$T/$name.ping6")"
    ok "$name: ping $HP_B4 and $HP_B6 (the peer's own addresses)"
    hp_json a list-sas > "$T/$name.sas"
    hp_py 'for x in j[0]:
    t = x["children"][0]["traffic"]
    assert t["packets_out"] >= 5 and t["packets_in"] >= 5 and t["bytes_in"] >= 5 * 64, t
    assert t["replay_drops"] == 0 and t["auth_failures"] == 0, t' "$T/$name.sas" ||
        hp_fail "$name: traffic counters: $(cat "$T/$name.sas")"
    ok "$name: list-sas counts the packets both ways, IPv4 and IPv6"

    # A transfer with a Child SA rekey (by b) and an IKE SA rekey (by a) under way.
    hp_tcp_transfer "$name-4" "$HP_B4" "$HP_A4" 0.2 & # 32 writes 0.2 s apart: 6 s or more
    local xfer=$!
    sleep 1
    local cid spi ike
    cid=$(child_of b pair '["children"][0]["id"]')
    spi=$(child_of b pair '["children"][0]["spi_in"]')
    hp_ctl b rekey "$cid" > /dev/null || hp_fail "$name: rekey of Child SA $cid by b"
    hp_wait b "[x for x in s if x['conn'] == 'pair' and len(x['children']) == 1 and
               x['children'][0]['spi_in'] != '$spi' and x['children'][0]['mode'] == 'transport']" ||
        hp_fail "$name: Child SA rekey by b did not complete"
    ike=$(child_of a pair '["id"]')
    hp_ctl a rekey "$ike" > /dev/null || hp_fail "$name: rekey of IKE SA $ike by a"
    hp_wait a "[x for x in s if x['conn'] == 'pair' and x['id'] != $ike and
               x['state'] == 'ESTABLISHED' and len(x['children']) == 1] and len(s) == 2" ||
        hp_fail "$name: IKE SA rekey by a did not complete"
    kill -0 $xfer 2> /dev/null || hp_fail "$name: the transfer ended before the rekeys did"
    wait $xfer || hp_fail "$name: TCP transfer over IPv4 across the rekeys: $(cat "$T/$name-4.xfer")"
    ok "$name: 2 MB over TCP to $HP_B4, SHA-256 equal on both ends, across a Child SA and an IKE SA rekey"
    hp_tcp_transfer "$name-6" "$HP_B6" "$HP_A6" ||
        hp_fail "$name: TCP transfer over IPv6: $(cat "$T/$name-6.xfer")"
    ok "$name: 2 MB over TCP to $HP_B6, SHA-256 equal on both ends"
    routing_is "$HP_NSA" yes "$HP_B4" "$HP_B6" || hp_fail "$name: a: rule or route gone after rekeys"
    hp_json a list-sas > "$T/$name.sas2"
    hp_py 'for x in j[0]:
    t = x["children"][0]["traffic"]
    assert t["packets_in"] > 100 and t["bytes_in"] > 1000000 or x["conn"] == "pair", t' \
        "$T/$name.sas2" || hp_fail "$name: counters after the transfer: $(cat "$T/$name.sas2")"

    sleep 0.5
    kill $cap 2> /dev/null
    wait $cap 2> /dev/null
    local esp plain ike_pkts
    # Octets, not packets: ESP in UDP leaves with UDP GSO, so one captured frame may hold up
    # to 64 KiB of ESP packets.
    esp=$(tshark -r "$T/$name.pcap" -Y "$filter" -T fields -e frame.len 2> /dev/null |
        awk '{ n += $1 } END { print n + 0 }')
    plain=$(tshark -r "$T/$name.pcap" -Y 'icmp.type == 8 || icmp.type == 0 || icmpv6.type == 128 ||
            icmpv6.type == 129 || tcp' 2> /dev/null | wc -l)
    ike_pkts=$(tshark -r "$T/$name.pcap" -Y 'isakmp' 2> /dev/null | wc -l)
    [ "$esp" -ge 4000000 ] || hp_fail "$name: only $esp octets of ESP on the outer link"
    [ "$plain" = 0 ] || hp_fail "$name: $plain clear packets on the outer link"
    [ "$ike_pkts" -ge 4 ] || hp_fail "$name: only $ike_pkts IKE packets on the outer link"
    ok "$name: the outer link carries $esp octets of ESP, $ike_pkts IKE packets and no clear ones"

    hp_stop a
    hp_stop b
    routing_is "$HP_NSA" no && routing_is "$HP_NSB" no ||
        hp_fail "$name: left behind after SIGTERM:
$(ip -n "$HP_NSA" rule; ip -n "$HP_NSA" -6 rule; ip -n "$HP_NSA" route show table "$TABLE")"
    ok "$name: no rule or route left after SIGTERM"
}

run_case raw-esp "" 'esp && !udp'
run_case esp-in-udp "encap = true;" 'udp.port == 4500 && esp'
echo "PASS"
