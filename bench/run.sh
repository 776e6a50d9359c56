#!/usr/bin/env bash
# IKE benchmarks, hike against strongSwan on this machine (make bench; bench/README.md).
# Builds a Release tree, sets up two network namespaces, runs the parts below against a
# hiked and a charon responder, prints a markdown table and writes it to
# bench/results/ike-<date>.md. BENCH_PARTS="rate memory latency esp" chooses parts.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
export HIKE_SOURCE_DIR=$src
BENCH_BUILD=${BENCH_BUILD:-$src/build-bench}
BENCH_PARTS=${BENCH_PARTS:-rate memory latency esp}
NETNS_TEST=bench
source "$src/tests/net/lib/netns.sh"
source "$src/tests/interop/lib/charon.sh"
source "$here/lib/env.sh"
source "$here/ike_rate.sh"
source "$here/ike_memory.sh"
source "$here/ike_latency.sh"

[ "$(id -u)" -eq 0 ] || { echo "bench: needs root (network namespaces)" >&2; exit 1; }
for t in jq taskset openssl; do
    command -v $t >/dev/null || { echo "bench: '$t' missing (scripts/deps.sh bench)" >&2; exit 1; }
done

log "building Release in $BENCH_BUILD"
cmake -S "$src" -B "$BENCH_BUILD" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Release \
    -DHIKE_FUZZ=OFF >/dev/null
cmake --build "$BENCH_BUILD" -j "${JOBS:-$(nproc)}" --target hiked hike-load >/dev/null

netns_setup "${BENCH_TIME_LIMIT:-1500}"
charon_require
ROWS=$NETNS_WORK/rows
NOTES=$NETNS_WORK/notes
: >"$ROWS"
: >"$NOTES"
# row LABEL HIKE STRONGSWAN BETTER(higher|lower); note TEXT.
row() { printf '%s|%s|%s|%s\n' "$@" >>"$ROWS"; }
note() { echo "$*" >>"$NOTES"; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench_world
bench_certs "$NETNS_WORK/pki"
for p in $BENCH_PARTS; do
    case "$p" in
    rate) part_rate ;;
    memory) part_memory ;;
    latency) part_latency ;;
    esp) ;; # after the table, below
    *) fail "unknown part '$p' (rate, memory, latency, esp)" ;;
    esac
done

date=$(date +%Y-%m-%d)
mkdir -p "$here/results"
result=$here/results/ike-$date.md
{
    echo "# IKE benchmarks, hike vs strongSwan ($date)"
    echo
    echo "| figure | hike | strongSwan | hike ÷ strongSwan | better |"
    echo "|---|---:|---:|---:|---|"
    awk -F'|' '{ r = ($3 + 0) ? sprintf("%.2f", $2 / $3) : "-";
                 printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, r, $4 }' "$ROWS"
    echo
    echo "Machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs," \
        "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo) RAM," \
        "Linux $(uname -r); load average before the run: $load_before (shared machine:" \
        "other work runs alongside; compare ratios, not absolute figures)."
    echo "Versions: hike $(git -C "$src" describe --always --dirty 2>/dev/null || echo '?')" \
        "(clang Release build), strongSwan" \
        "$(dpkg-query -W -f='${Version}' strongswan-charon 2>/dev/null || echo '?')" \
        "(Debian packages), $(openssl version | cut -d' ' -f1-2)."
    echo "Settings: IKE $BENCH_IKE, ESP $BENCH_ESP; every SA asks for a virtual address" \
        "($VIP_POOL) and tunnels it to $INNER_NET; responder on CPU $BENCH_CPU_RESP," \
        "hike-load on CPU $BENCH_CPU_GEN; $BENCH_NSRC source addresses x 64 ports;" \
        "rate: $BENCH_RATE_COUNT SAs, window $BENCH_RATE_WINDOW, each deleted once up;" \
        "hiked: userspace data plane (TUN, one route for the address pool), log level warn;" \
        "charon: kernel-libipsec, $([ -n "${BENCH_CHARON_THREADS:-}" ] && echo "$BENCH_CHARON_THREADS" || echo 16) threads," \
        "logging off, cookies and DoS limits off, install_routes = no, unique = never."
    if [ -s "$NOTES" ]; then
        echo
        sed 's/^/- /' "$NOTES"
    fi
} >"$result"

if [[ " $BENCH_PARTS " == *" esp "* ]]; then
    log "ESP throughput: bench/esp_throughput.sh"
    { echo; bash "$here/esp_throughput.sh" || echo "(bench/esp_throughput.sh failed)"; } >>"$result"
fi
echo
cat "$result"
echo
log "written to $result"
