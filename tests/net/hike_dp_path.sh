#!/bin/bash
# The userspace data plane's `update` (new outer addresses for an installed Child SA, as after
# an IKE rekey, a MOBIKE move or a hand-over) seen on the wire: tests/tools/dp_path_probe
# installs a Child SA towards 192.0.2.2, a steady ping enters its TUN, and after 1.5 s the
# probe moves the SA to 192.0.2.3. The capture must show ESP to .2 first, then to .3 only,
# one sequence number space (no restart at 1). Needs root; a few seconds.
set -u
B=${HIKE_BUILD_DIR:?HIKE_BUILD_DIR not set}
PROBE=$B/dp_path_probe
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root for network namespaces"
    exit 0
fi
for t in dumpcap tshark; do
    command -v $t > /dev/null || { echo "SKIP: $t missing"; exit 0; }
done
NS=hike-dppath-$$
PEER=hike-dppeer-$$
T=$(mktemp -d /tmp/dp-path.XXXXXX)
PID= CAP=
cleanup() {
    [ -n "$PID" ] && kill -KILL "$PID" 2> /dev/null
    [ -n "$CAP" ] && kill "$CAP" 2> /dev/null
    ip netns del "$NS" 2> /dev/null
    ip netns del "$PEER" 2> /dev/null
    rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    echo "--- probe output:"; cat "$T/out" 2> /dev/null
    echo "--- probe log:"; tail -n 30 "$T/err" 2> /dev/null
    exit 1
}
ok() { echo "ok: $*"; }
if ! ip netns add "$NS" 2> /dev/null || ! ip netns add "$PEER"; then
    echo "SKIP: cannot create network namespaces"
    exit 0
fi
nsx() { ip netns exec "$NS" "$@"; }
ip link add dpp$$ netns "$NS" type veth peer name dpq$$ netns "$PEER" || fail "veth"
nsx ip link set lo up
nsx ip link set dpp$$ up
nsx ip addr add 192.0.2.1/24 dev dpp$$
nsx ip addr add 10.1.0.1/32 dev lo
ip -n "$PEER" link set dpq$$ up
ip -n "$PEER" addr add 192.0.2.2/24 dev dpq$$
ip -n "$PEER" addr add 192.0.2.3/24 dev dpq$$

nsx timeout 20 dumpcap -q -P -i dpp$$ -f 'ip proto 50' -w "$T/esp.pcap" 2> /dev/null &
CAP=$!
nsx "$PROBE" 192.0.2.1 192.0.2.2 192.0.2.3 1500 3000 > "$T/out" 2> "$T/err" &
PID=$!
for _ in $(seq 50); do
    grep -q '^READY' "$T/out" && break
    sleep 0.1
done
grep -q '^READY' "$T/out" || fail "probe did not get ready"
nsx ping -q -c 40 -i 0.05 -W 1 -I 10.1.0.1 10.2.0.1 > /dev/null 2>&1
wait "$PID"
PID=
sleep 0.5
kill "$CAP" 2> /dev/null
wait "$CAP" 2> /dev/null
CAP=
grep -q '^MOVED' "$T/out" || fail "the probe did not move the SA"
tshark -r "$T/esp.pcap" -T fields -e ip.dst -e esp.sequence 2> /dev/null > "$T/seq" ||
    fail "cannot read the capture"
to2=$(grep -c '^192\.0\.2\.2' "$T/seq")
to3=$(grep -c '^192\.0\.2\.3' "$T/seq")
[ "$to2" -ge 5 ] || fail "only $to2 ESP packets to 192.0.2.2 before the move"
[ "$to3" -ge 5 ] || fail "only $to3 ESP packets to 192.0.2.3 after the move"
ok "ESP to 192.0.2.2 ($to2 packets), then to 192.0.2.3 ($to3 packets)"
# Once the first packet went to .3, none goes to .2 again; sequence numbers only grow.
awk 'BEGIN { moved = 0; last = 0 }
     { if ($1 == "192.0.2.3") moved = 1
       else if (moved) { print "to .2 after the move: " $0; exit 1 }
       if ($2 + 0 <= last) { print "sequence number " $2 " after " last; exit 1 }
       last = $2 + 0 }' "$T/seq" || fail "order on the wire: $(cat "$T/seq")"
ok "no packet to the old address after the move, one growing sequence number space"
echo "PASS"
