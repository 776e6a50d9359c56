#!/usr/bin/env bash
# Instructions per IKE SA + Child SA of a hiked responder, counted by callgrind: a figure
# that does not move with the load on a shared machine, and the profile behind it.
# Runs hiked (PSK, userspace data plane) under valgrind --tool=callgrind in the benchmark
# world of bench/run.sh, drives N set-ups (each deleted once up) with hike-load, and prints
# instructions per SA and the functions that cost the most, inclusive and self.
#   bash bench/ike_callgrind.sh [N]      (default 1000; needs a Release build-bench/)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
BENCH_BUILD=${BENCH_BUILD:-$src/build-bench}
N=${1:-1000}
NETNS_TEST=bench-cg
source "$src/tests/net/lib/netns.sh"
source "$here/lib/env.sh"
command -v valgrind >/dev/null || { echo "ike_callgrind: valgrind missing" >&2; exit 1; }
[ -x "$BENCH_BUILD/hiked" ] || { echo "ike_callgrind: no $BENCH_BUILD/hiked (make bench builds it)" >&2; exit 1; }

netns_setup 900
bench_world
out=$NETNS_WORK/callgrind.out
# A warm-up run first, so start-up (config, TUN, the first key generation set-up) is
# measured apart: its own dump, then the counters are reset.
RESP_START_WAIT=60 RESP_WRAP="valgrind --tool=callgrind --callgrind-out-file=$out.%p --dump-instr=no" \
    hiked_responder psk userspace
hike_load psk "$NETNS_WORK/warm.json" -n 50 -w 8 --timeout 120 || true
ns_exec resp callgrind_control -z "$RESP_PID" >/dev/null
hike_load psk "$NETNS_WORK/run.json" -n "$N" -w 8 --timeout 600 || true
sleep 2 # the last DELETEs
ns_exec resp callgrind_control -d "$RESP_PID" >/dev/null
ok=$(json "$NETNS_WORK/run.json" .established)
stop_responder hiked
[ "$ok" -gt 0 ] || fail "no IKE SA came up: $(cat "$NETNS_WORK/run.json.err")"
dump=$(ls -t "$out".*.[0-9]* 2>/dev/null | head -1 || true)
[ -n "$dump" ] || dump=$(ls -t "$out".* | head -1)
total=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "callgrind: $ok IKE SAs + Child SAs, $total instructions, $((total / ok)) per SA"
echo
echo "inclusive (per SA), top 40:"
callgrind_annotate --inclusive=yes "$dump" 2>/dev/null |
    awk -v n="$ok" '/^ *[0-9,]+ .*:/ { c = $1; gsub(",", "", c); $1 = ""; printf "%10d %s\n", c / n, $0 }' |
    head -40
echo
echo "self (per SA), top 40:"
callgrind_annotate "$dump" 2>/dev/null |
    awk -v n="$ok" '/^ *[0-9,]+ .*:/ { c = $1; gsub(",", "", c); $1 = ""; printf "%10d %s\n", c / n, $0 }' |
    head -40
