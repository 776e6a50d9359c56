#!/bin/bash
# Issue 10's crash, on the wire, against hiked built with AddressSanitizer and UBSan: a peer
# (hiked a, wrong PSK, encap = true) floats to port 4500 for IKE_AUTH and fails AUTH; then its
# IKE_SA_INIT, captured in b's namespace, is sent again from 192.0.2.1:500, twice (the second
# a retransmission). 20 rounds. The half-open entry of the failed SA was left keyed by port
# 500 and reached freed memory on the replay. b must report nothing, stay alive, count the 20
# failed AUTHs, and be back at half_open 0 once its half_open_timeout (2 s) has passed; it
# must stop cleanly on SIGTERM (LeakSanitizer included). Needs root and the hiked_asan target
# (built with the fuzz targets), or a sanitizer build's hiked; else an ASan hiked is built
# once into $HIKE_BUILD_DIR/asan-hiked. About 10 s.
set -u
HP_B=${HIKE_BUILD_DIR:?HIKE_BUILD_DIR not set}
SRC=${HIKE_SOURCE_DIR:?HIKE_SOURCE_DIR not set}
ASAN_HIKED=$HP_B/hiked_asan
# A sanitizer build (make check-asan) has one already.
grep -q '^HIKE_SANITIZE:BOOL=ON' "$HP_B/CMakeCache.txt" 2> /dev/null && ASAN_HIKED=$HP_B/hiked
if [ "$(id -u)" = 0 ] && [ ! -x "$ASAN_HIKED" ]; then
    # No fuzz build (gcc, or HIKE_FUZZ=OFF): a sanitizer build of hiked alone, kept for the
    # next run.
    ASAN_HIKED=$HP_B/asan-hiked/hiked
    if [ ! -x "$ASAN_HIKED" ]; then
        echo "building an ASan hiked in $HP_B/asan-hiked"
        timeout 600 cmake -S "$SRC" -B "$HP_B/asan-hiked" -DHIKE_SANITIZE=ON -DHIKE_FUZZ=OFF \
            -DCMAKE_BUILD_TYPE=Debug > /dev/null &&
            timeout 600 cmake --build "$HP_B/asan-hiked" -j2 --target hiked > /dev/null ||
            { echo "FAIL: cannot build an ASan hiked"; exit 1; }
    fi
fi
. "$SRC/tests/net/lib/hike_pair.sh"
hp_init halfopen 60
T=$HP_T
ROUNDS=20
hp_net 4
# a: the wrong PSK, UDP encapsulation (IKE_AUTH from port 4500 without a NAT).
hp_conf a none 'encap = true;'
sed -i 's/psk = "0x3f9a/psk = "0x0000/' "$T/a.conf"
grep -q 'psk = "0x0000' "$T/a.conf" || hp_fail "could not change a's PSK"
# b: every replay may make a half-open SA (the per-address limit would refuse the 6th).
hp_conf b none 'dpd_delay = 0;' 'half_open_timeout = "2s"; half_open_per_address = 0;'

# The capture: every IKE_SA_INIT request from a's port 500, as hex lines, seen on b's veth.
cat > "$T/sniff.py" << 'PY'
import socket, sys
out, ready = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(3))
s.bind((sys.argv[3], 0))
open(ready, "w").close()
while True:
    f = s.recv(65535)
    if len(f) < 14 + 20 + 8 + 28 or f[12:14] != b"\x08\x00":
        continue
    ip = f[14:]
    ihl = (ip[0] & 15) * 4
    if ip[9] != 17 or ip[12:16] != bytes([192, 0, 2, 1]):
        continue
    udp = ip[ihl:]
    sport, dport = int.from_bytes(udp[0:2], "big"), int.from_bytes(udp[2:4], "big")
    ike = udp[8:int.from_bytes(udp[4:6], "big")]
    # IKE_SA_INIT (34), Initiator flag, not a response, from and to port 500
    # (TOS 4 marks the test's own replays)
    if ip[1] == 0 and sport == 500 and dport == 500 and len(ike) >= 28 and ike[18] == 34 and ike[19] & 0x28 == 0x08:
        with open(out, "a") as o:
            o.write(ike.hex() + "\n")
PY
# The replay: the octets as UDP from 192.0.2.1:500 (a's hiked holds that port: a raw socket
# writes the UDP header; checksum 0 is allowed over IPv4), with TOS 4 so that the capture
# leaves it out.
cat > "$T/send.py" << 'PY'
import socket, sys
ike = bytes.fromhex(sys.argv[1])
udp = (500).to_bytes(2, "big") * 2 + (8 + len(ike)).to_bytes(2, "big") + b"\0\0" + ike
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, 4)  # not captured again
s.bind(("192.0.2.1", 0))
for _ in range(int(sys.argv[2])):
    s.sendto(udp, ("192.0.2.2", 0))
PY
timeout 55 ip netns exec "$HP_NSB" "$HP_PYTHON" "$T/sniff.py" "$T/init.hex" "$T/sniff.ready" \
    "hpb$$" 2> "$T/sniff.err" &
SNIFF=$!
trap 'kill $SNIFF 2> /dev/null; hp_cleanup' EXIT
wait_for 5 test -e "$T/sniff.ready" || hp_fail "the capture did not start: $(cat "$T/sniff.err")"

export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
HP_HIKED=$ASAN_HIKED hp_start b
hp_start a

# auth_failures N: b has refused N IKE_AUTHs (and so freed the SA: 2.21.2).
auth_failures() {
    hp_json b stats | "$HP_PYTHON" -c "import json, sys; sys.exit(json.load(sys.stdin)['ike']['auth_failures'] < $1)"
}
# captured N: at least N requests in the capture.
captured() { [ -e "$T/init.hex" ] && [ "$(wc -l < "$T/init.hex")" -ge "$1" ]; }
for i in $(seq "$ROUNDS"); do
    hp_ctl a initiate pair > /dev/null || hp_fail "round $i: a: initiate"
    # a fails AUTH: both sides have no SA left, and the request was captured.
    wait_for 10 captured "$i" ||
        hp_fail "round $i: no IKE_SA_INIT captured"
    hp_wait a 'len(s) == 0' 10 || hp_fail "round $i: a's SA did not fail"
    wait_for 10 auth_failures "$i" || hp_fail "round $i: b did not refuse a's AUTH"
    ip netns exec "$HP_NSA" "$HP_PYTHON" "$T/send.py" "$(sed -n "${i}p" "$T/init.hex")" 2 ||
        hp_fail "round $i: replay"
    kill -0 "$HP_PID_b" 2> /dev/null || hp_fail "round $i: b died after the replay"
    # The replay made a new half-open SA (the freed one was found before the fix).
    hp_wait b 'len(s) >= 1' 5 || hp_fail "round $i: the replay made no half-open SA"
done
hp_json b stats > "$T/b.stats" || hp_fail "b: stats"
hp_py '
(s,) = j
assert s["ike"]["auth_failures"] == '"$ROUNDS"', s["ike"]
assert s["ike"]["ike_up"] == 0, s["ike"]
' "$T/b.stats" || hp_fail "b's counters: $(cat "$T/b.stats")"
grep -q "192.0.2.1:4500" "$T/b.log" || hp_fail "a never floated to port 4500"
ok "$ROUNDS rounds: float to 4500, AUTHENTICATION_FAILED, IKE_SA_INIT replayed from port 500"

# The half-open SAs of the replays time out; nothing stays counted.
for _ in $(seq 60); do
    hp_json b stats > "$T/b.stats" 2> /dev/null &&
        hp_py 'assert j[0]["sas"] == {"ike": 0, "child": 0, "half_open": 0}' "$T/b.stats" 2> /dev/null &&
        break
    sleep 0.1
done
hp_py '(s,) = j; assert s["sas"] == {"ike": 0, "child": 0, "half_open": 0}, s["sas"]' "$T/b.stats" ||
    hp_fail "b after the half-open timeout: $(cat "$T/b.stats")"
ok "half_open back to 0"

hp_stop a
hp_stop b
if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$T/b.log"; then
    hp_fail "sanitizer report in b's log"
fi
ok "hiked (ASan) alive throughout, no sanitizer report, clean exit"
