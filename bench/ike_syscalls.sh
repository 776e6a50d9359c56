#!/usr/bin/env bash
# System calls per IKE SA + Child SA, of a hiked responder and of the hike-load generator:
# on a VM every kernel entry costs, and the count does not move with the machine's load.
# Runs hiked (PSK, userspace data plane) in the benchmark world of bench/run.sh, attaches
# strace -c -f to it, drives N set-ups (each deleted once up, window W) with hike-load under
# strace -c -f as well, and prints calls per SA by system call for both.
# strace slows both down, which lengthens the responder's bursts; SC_TOOL=perf counts with
# perf stat on the syscall tracepoints instead (a few system calls, nearly no overhead).
#   bash bench/ike_syscalls.sh [N] [W]      (default 2000 64; needs a Release build-bench/)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
BENCH_BUILD=${BENCH_BUILD:-$src/build-bench}
N=${1:-2000}
W=${2:-64}
NETNS_TEST=bench-sc
source "$src/tests/net/lib/netns.sh"
source "$here/lib/env.sh"
SC_TOOL=${SC_TOOL:-strace}
command -v "$SC_TOOL" >/dev/null || { echo "ike_syscalls: $SC_TOOL missing" >&2; exit 1; }
SC_CALLS=(recvmsg recvmmsg recvfrom sendmsg sendmmsg sendto epoll_wait epoll_ctl getpid
    clock_gettime read write)
# attach FILE ARGS...: the counting tool's command line, output to FILE.
attach() {
    local f=$1
    shift
    if [ "$SC_TOOL" = perf ]; then
        local ev=raw_syscalls:sys_enter c
        for c in "${SC_CALLS[@]}"; do ev+=,syscalls:sys_enter_$c; done
        echo perf stat -x, -e "$ev" -o "$f" "$@"
    else
        echo strace -c -f -o "$f" "$@"
    fi
}
[ -x "$BENCH_BUILD/hiked" ] || { echo "ike_syscalls: no $BENCH_BUILD/hiked (make bench builds it)" >&2; exit 1; }

netns_setup 900
bench_world
hiked_responder psk userspace
# Warm-up (first key generation, TUN, pool) outside the count.
hike_load psk "$NETNS_WORK/warm.json" -n 50 -w 8 --timeout 60 || true
$(attach "$NETNS_WORK/resp.count" -p "$RESP_PID") 2>/dev/null &
st=$!
sleep 1
ns_exec gen taskset -c "$BENCH_CPU_GEN" $(attach "$NETNS_WORK/gen.count") \
    "$BENCH_BUILD/hike-load" -t $RESP_ADDR -s "$BENCH_SRC" --vip --remote-ts $INNER_NET \
    --ike "$BENCH_IKE" --esp "$BENCH_ESP" --json --psk "$BENCH_PSK" -n "$N" -w "$W" \
    --timeout 600 >"$NETNS_WORK/run.json" 2>"$NETNS_WORK/run.err" || true
sleep 2 # the last DELETEs
kill -INT "$st"
wait "$st" 2>/dev/null || true
ok=$(json "$NETNS_WORK/run.json" .established)
stop_responder hiked
[ "$ok" -gt 0 ] || fail "no IKE SA came up: $(cat "$NETNS_WORK/run.err")"

# per_sa FILE: "calls per SA  syscall" rows of strace -c's table (or perf's), and the total.
per_sa() {
    [ "$SC_TOOL" = perf ] && {
        awk -F, -v n="$ok" '$3 ~ /sys_enter/ {
                name = $3; sub(/.*sys_enter_?/, "", name); if (name == "") name = "total"
                if ($1 > 0) printf "%8.2f  %s\n", $1 / n, name
            }' "$1" | sort -rn
        return
    }
    awk -v n="$ok" '$1 ~ /^[0-9.]+$/ && NF >= 5 {
            name = $NF; calls = $4
            if (name == "total") { tot = calls; next }
            printf "%8.2f  %s\n", calls / n, name
        }
        END { printf "%8.2f  total\n", tot / n }' "$1" | sort -rn
}
echo "syscalls per IKE SA + Child SA ($ok SAs, window $W, $SC_TOOL)"
echo "responder (hiked):"
per_sa "$NETNS_WORK/resp.count"
echo "generator (hike-load):"
per_sa "$NETNS_WORK/gen.count"
