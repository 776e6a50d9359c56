#!/bin/bash
# TUN + route netlink (src/esp/tun.c, rtnl.c) through tests/tools/tun_probe, in a network
# namespace of its own: the probe opens a TUN and sets addresses and routes; `ip` must show
# them, pings to the routed prefixes must come out of the TUN with the right source and
# destination (the preferred-source hint included), and deletion must remove them.
# Needs root (network namespaces); a few seconds.
set -u
B=${HIKE_BUILD_DIR:?HIKE_BUILD_DIR not set}
PROBE=$B/tun_probe
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root for network namespaces"
    exit 0
fi
NS=hike-tunrtnl-$$
if ! ip netns add "$NS" 2>/dev/null; then
    echo "SKIP: cannot create a network namespace"
    exit 0
fi
T=$(mktemp -d /tmp/tun-rtnl.XXXXXX)
PID=
cleanup() {
    exec 3>&- 2>/dev/null
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    echo "--- probe output:"; cat "$T/out" 2>/dev/null
    echo "--- probe errors:"; cat "$T/err" 2>/dev/null
    exit 1
}
nsx() { ip netns exec "$NS" "$@"; }
# wait_line PATTERN SECONDS: until the probe printed a line matching PATTERN.
wait_line() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        grep -q "$1" "$T/out" 2>/dev/null && return 0
        [ -n "$PID" ] && ! kill -0 "$PID" 2>/dev/null && return 1
        sleep 0.1
    done
    return 1
}

nsx ip link set lo up
mkfifo "$T/ctl"
nsx "$PROBE" --name hktun0 --timeout 20 --expect 10.78.0.5 --expect fd78::5 \
    --expect 10.79.0.5 --expect fd79::5 <"$T/ctl" >"$T/out" 2>"$T/err" &
PID=$!
exec 3>"$T/ctl"
wait_line '^READY' 5 || fail "probe did not get ready"
read -r _ IFN IFX < <(grep '^READY' "$T/out")
[ "$IFN" = hktun0 ] || fail "interface name '$IFN'"
grep -q '^DUP-ERR .*File exists' "$T/out" || fail "duplicate route not refused with EEXIST"

# What the kernel now holds.
link=$(nsx ip -o link show dev hktun0)
echo "$link" | grep -q "^$IFX: hktun0: .*UP" || fail "link not up/index: $link"
echo "$link" | grep -q 'mtu 1400' || fail "mtu not set: $link"
addrs=$(nsx ip -o addr show dev hktun0)
for a in 10.77.0.1/32 10.77.0.2/32 fd77::1/128 fd77::2/128; do
    echo "$addrs" | grep -q "inet6\? $a " || fail "address $a missing: $addrs"
done
r4=$(nsx ip -4 route show dev hktun0)
r6=$(nsx ip -6 route show dev hktun0)
echo "$r4" | grep -q '^10.78.0.0/24 proto static scope link' || fail "route 10.78.0.0/24: $r4"
echo "$r4" | grep -q '^10.79.0.0/24 proto static scope link src 10.77.0.2' ||
    fail "route 10.79.0.0/24 src: $r4"
echo "$r6" | grep -q '^fd78::/64 proto static' || fail "route fd78::/64: $r6"
echo "$r6" | grep -q '^fd79::/64 proto static.* src fd77::2' || fail "route fd79::/64 src: $r6"
nsx ip route get 10.78.0.5 | grep -q "dev hktun0 src 10.77.0.1" || fail "route get 10.78.0.5"
nsx ip route get 10.79.0.5 | grep -q "dev hktun0 src 10.77.0.2" || fail "route get 10.79.0.5"

# Packets to the routed prefixes come out of the TUN (nobody answers: pings fail).
nsx ping -c1 -W1 10.78.0.5 >/dev/null 2>&1
nsx ping -c1 -W1 10.79.0.5 >/dev/null 2>&1
nsx ping -6 -c1 -W1 -I fd77::1 fd78::5 >/dev/null 2>&1
nsx ping -6 -c1 -W1 fd79::5 >/dev/null 2>&1
wait_line '^SEEN-ALL' 10 || fail "probe did not see all packets"
grep -q '^PKT 4 10.77.0.1 10.78.0.5$' "$T/out" || fail "IPv4 packet to 10.78.0.5"
grep -q '^PKT 4 10.77.0.2 10.79.0.5$' "$T/out" || fail "IPv4 packet to 10.79.0.5 (src hint)"
grep -q '^PKT 6 fd77::1 fd78::5$' "$T/out" || fail "IPv6 packet to fd78::5"
grep -q '^PKT 6 fd77::2 fd79::5$' "$T/out" || fail "IPv6 packet to fd79::5 (src hint)"

# Deletion.
echo del >&3
wait_line '^DELETED' 5 || fail "probe did not delete"
[ "$(grep -c '^DEL-AGAIN-ERR' "$T/out")" = 2 ] || fail "second deletes not refused"
[ -z "$(nsx ip -o addr show dev hktun0 | grep -E 'inet6? (10.77|fd77)')" ] ||
    fail "addresses left: $(nsx ip -o addr show dev hktun0)"
[ -z "$(nsx ip -4 route show dev hktun0)" ] || fail "IPv4 routes left: $(nsx ip -4 route show dev hktun0)"
[ -z "$(nsx ip -6 route show dev hktun0 | grep -E '^fd7[89]')" ] ||
    fail "IPv6 routes left: $(nsx ip -6 route show dev hktun0)"

exec 3>&-
wait "$PID"
rc=$?
PID=
[ $rc = 0 ] || fail "probe exited $rc"
nsx ip link show dev hktun0 >/dev/null 2>&1 && fail "interface left after close"
echo "PASS: tun_rtnl"
cat "$T/out"
exit 0
