#!/bin/bash
# hike-load against hiked in two network namespaces. hike-load has one socket per local
# port, bound to the wildcard address, and picks each SA's source address per datagram
# (IP_PKTINFO); both sides read with recvmmsg and send with sendmmsg. Checks that the SAs
# come from every (address, port) pair, that a window of set-ups completes on port 500 and
# with UDP encapsulation (non-ESP marker on port 4500), and that nothing is dropped.
# Needs root; about 10 s.
set -u
. "${HIKE_SOURCE_DIR:?HIKE_SOURCE_DIR not set}/tests/net/lib/netns.sh"
B=${HIKE_BUILD_DIR:?HIKE_BUILD_DIR not set}
PSK=load-pair-psk-0123456789
netns_setup 120
ns_create gen resp
ns_veth gen:eth0:192.0.2.1/24 resp:eth0:192.0.2.2/24
ns_addr gen eth0 192.0.2.100/24,192.0.2.101/24,192.0.2.102/24
cat > "$NETNS_WORK/hiked.conf" << EOF
daemon = { listen = ["192.0.2.2"]; log_level = "warn"; dataplane = "log";
  control_socket = "$NETNS_WORK/hiked.ctl"; cookie_threshold = 1000000;
  half_open_per_address = 0; half_open_max = 0; };
pools = { vips = { addrs = "10.128.0.0/16"; }; };
connections = { load = {
  local_addrs = "192.0.2.2";
  local = { auth = "psk"; id = "responder.example"; }; remote = { auth = "psk"; };
  psk = "$PSK"; ike = ["aes256gcm16-prfsha256-x25519"]; pools = ["vips"];
  children = { c = { local_ts = "10.200.0.0/16"; esp = ["aes256gcm16"]; }; };
}; };
EOF
ns_spawn resp "$NETNS_WORK/hiked.log" "$B/hiked" -c "$NETNS_WORK/hiked.conf"
wait_for 5 test -S "$NETNS_WORK/hiked.ctl" || fail "hiked did not start: $(cat "$NETNS_WORK/hiked.log")"
ctl() { "$B/hikectl" -s "$NETNS_WORK/hiked.ctl" --json "$@"; }
LOAD=(timeout 60 "$B/hike-load" -t 192.0.2.2 --psk "$PSK" -s 192.0.2.100-192.0.2.102 -P 4 --vip
    --remote-ts 10.200.0.0/16 --ike aes256gcm16-prfsha256-x25519 --esp aes256gcm16 --json)

# 12 SAs held: one from each of 3 addresses x 4 ports.
ns_spawn gen "$NETNS_WORK/hold.json" "${LOAD[@]}" -n 12 -w 12 --hold
hold=$NS_LAST_PID
wait_for 10 sh -c "'$B/hikectl' -s '$NETNS_WORK/hiked.ctl' --json list-sas |
    python3 -c 'import json, sys; sys.exit(0 if len(json.load(sys.stdin)) == 12 else 1)'" ||
    fail "12 held SAs not up: $(cat "$NETNS_WORK/hold.json")"
ctl list-sas | python3 -c '
import json, sys
s = json.load(sys.stdin)
got = sorted(sa["remote"] for sa in s)
want = sorted("192.0.2.%d:%d" % (a, p) for a in (100, 101, 102) for p in range(20000, 20004))
assert got == want, got
assert all(sa["local"] == "192.0.2.2:500" for sa in s), s
' || fail "SAs not from every address and port: $(ctl list-sas)"
log "ok: 12 held SAs from 3 addresses x 4 ports, one socket per port"
kill -INT "$hold" # the responder keeps those SAs: hike-load leaves without DELETEs
wait "$hold" 2>/dev/null

# A window of set-ups, each deleted once up: port 500, then UDP encapsulated on 4500.
for mode in plain encap; do
    extra=()
    [ $mode = encap ] && extra=(--encap)
    ns_exec gen "${LOAD[@]}" -n 300 -w 32 "${extra[@]}" > "$NETNS_WORK/$mode.json" 2> "$NETNS_WORK/$mode.err" ||
        fail "$mode: hike-load failed: $(cat "$NETNS_WORK/$mode.json" "$NETNS_WORK/$mode.err")"
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["established"] == 300 and r["failed"] == 0, r
' "$NETNS_WORK/$mode.json" || fail "$mode: $(cat "$NETNS_WORK/$mode.json")"
    log "ok: $mode: 300 SAs set up and deleted, window 32"
done
ctl stats > "$NETNS_WORK/stats.json"
python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
d = {k: v for k, v in s["ike"]["drops"].items() if v}
assert not d, d
assert s["ike"]["ike_up"] >= 612, s["ike"]
' "$NETNS_WORK/stats.json" || fail "responder stats: $(cat "$NETNS_WORK/stats.json")"
log "ok: responder: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["ike"]["ike_up"])' "$NETNS_WORK/stats.json") IKE SAs, no drops"
echo PASS
