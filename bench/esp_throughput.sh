#!/usr/bin/env bash
# ESP throughput: TCP (iperf3) through a hike tunnel and through a strongSwan
# kernel-libipsec tunnel on the same pair of network namespaces, in one run, with the
# plain veth (no IPsec) as the ceiling. Reports Mbit/s, CPU seconds per Gbit and the
# ratios as a markdown table, printed and written to bench/results/esp-DATE.md.
#
#   bash bench/esp_throughput.sh [BUILD_DIR]     (default: build; builds nothing)
#
# Environment:
#   BENCH_TIME=10        seconds per iperf3 run
#   BENCH_STREAMS="1 4"  parallel TCP streams; one run per count and configuration
#   BENCH_CONFIGS="plain hike-udp hike-raw charon hike-charon"   which ones, in order
#   BENCH_PERF=1         also profile both hiked (perf record -g) during an extra
#                        1-stream run of hike-udp; the top of the profiles goes into the
#                        results (0: skip; skipped anyway without perf)
#   BENCH_OUT=bench/results   where the markdown goes
#
# Configurations (AES-GCM-128 for ESP and IKE, PSK, tunnel mode, LANs 10.1.0.1 and
# 10.2.0.1 on lo behind each side; iperf3 client in "a", server in "b"):
#   plain        iperf3 between the veth addresses, no IPsec
#   hike-udp     hiked <-> hiked, ESP in UDP (RFC 3948, encap = true)
#   hike-raw     hiked <-> hiked, raw ESP (IP protocol 50)
#   charon       charon <-> charon, kernel-libipsec (always ESP in UDP)
#   hike-charon  charon (a, sends) <-> hiked (b, receives), ESP in UDP
# CPU: utime+stime of the IKE daemons (/proc/PID/stat, all threads) over the iperf3 run,
# plus both iperf3 processes (iperf3's own getrusage figures from its JSON), per Gbit
# received. Host CPU: all busy time of the machine (/proc/stat) over the run, which
# includes softirq work done outside these processes, and anybody else's load.
# Needs root (network namespaces); installs iperf3 and strongSwan if missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
[ -d "$build" ] || build=$root/$build
[ -x "$build/hiked" ] && [ -x "$build/hikectl" ] ||
    { echo "esp_throughput: no hiked/hikectl in '${1:-build}' (make build first)" >&2; exit 1; }
build=$(cd "$build" && pwd)
T=${BENCH_TIME:-10}
STREAMS=${BENCH_STREAMS:-1 4}
CONFIGS=${BENCH_CONFIGS:-plain hike-udp hike-raw charon hike-charon}
PERF=${BENCH_PERF:-1}
OUT=${BENCH_OUT:-$root/bench/results}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

[ "$(id -u)" -eq 0 ] || { echo "esp_throughput: needs root (network namespaces)" >&2; exit 1; }
bash "$root/scripts/deps.sh" bench interop
export HIKE_BUILD_DIR=$build HIKE_SOURCE_DIR=$root NETNS_TEST=esp_throughput
source "$root/tests/net/lib/netns.sh"
source "$root/tests/interop/lib/charon.sh"
source "$root/tests/interop/lib/hiked.sh"
# shellcheck disable=SC2034 # read by charon.sh
CHARON_LOG="default=0 ike=1 cfg=1" # no per-packet logging on either side
# charon's crypto from OpenSSL (AES-NI, carry-less multiply), as hike's: the first loaded
# plugin that offers an algorithm wins, and the test list loads strongSwan's own portable
# aes and gcm plugins first, which cost libipsec about ten times the CPU per packet.
CHARON_PLUGINS="openssl $(tr ' ' '\n' <<<"$CHARON_PLUGINS" | grep -vx openssl | tr '\n' ' ')"
command -v iperf3 >/dev/null || { echo "esp_throughput: iperf3 missing" >&2; exit 1; }
[ "$PERF" = 1 ] && ! command -v perf >/dev/null && { log "perf not installed: no profile"; PERF=0; }

nconf=$(wc -w <<<"$CONFIGS") nstreams=$(wc -w <<<"$STREAMS")
netns_setup $((nconf * nstreams * (T + 20) + (PERF == 1 ? T + 30 : 0) + 120))
charon_require
hiked_require

HZ=$(getconf CLK_TCK)
W=$NETNS_WORK
rows=$W/rows.tsv # config streams mbit cpu_s gbit host_cpu_s retransmits udp_drops dev_drops
: >"$rows"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

ns_create a b
ns_veth a:eth0:192.0.2.1/24 b:eth0:192.0.2.2/24
ns_addr a lo 10.1.0.1/32
ns_addr b lo 10.2.0.1/32
ns_spawn b "$W/iperf3-server.log" iperf3 -s -p 5201
wait_for 5 eval "ns_exec b ss -Hltn 'sport = :5201' | grep -q LISTEN" || fail "iperf3 server did not start"

# ticks PID...: utime+stime of the processes, in clock ticks.
ticks() {
    local p s=0 f
    for p in "$@"; do
        f=$(sed 's/^.*) //' "/proc/$p/stat") || fail "process $p is gone"
        read -r -a v <<<"$f"
        s=$((s + v[11] + v[12]))
    done
    echo "$s"
}
# host_busy: busy ticks of the whole machine (all CPUs) from /proc/stat.
host_busy() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# drops: "UDP DEV" packets dropped so far in both namespaces: UDP receive buffer
# overflows (nstat), and drops counted by the interfaces and their queueing disciplines
# (a TUN device whose reader falls behind drops in its queue).
drops() {
    local ns u=0 d=0 x
    for ns in a b; do
        x=$(ns_exec "$ns" nstat -asz UdpRcvbufErrors Udp6RcvbufErrors | awk '/RcvbufErrors/ { s += $2 } END { print s + 0 }')
        u=$((u + x))
        x=$( { ns_exec "$ns" ip -s -j link; echo; ns_exec "$ns" tc -s -j qdisc; } | "$PY" -c '
import json, sys
n = 0
for doc in sys.stdin.read().split("\n\n"):
    for o in json.loads(doc) if doc.strip() else []:
        if "stats64" in o:
            n += o["stats64"]["tx"]["dropped"] + o["stats64"]["rx"]["dropped"]
        n += o.get("drops", 0)
print(n)')
        d=$((d + x))
    done
    echo "$u $d"
}

# measure CONFIG DST SRC PID...: one iperf3 run per stream count from a (bound to SRC)
# to DST in b; PIDs are the IKE daemons whose CPU counts.
measure() {
    local cfg=$1 dst=$2 srcaddr=$3 n j t0 t1 h0 h1 u0 d0 u1 d1
    shift 3
    for n in $STREAMS; do
        j=$W/$cfg-$n.json
        read -r u0 d0 < <(drops)
        t0=$(ticks "$@") h0=$(host_busy)
        ns_exec a timeout $((T + 30)) iperf3 -c "$dst" -B "$srcaddr" -p 5201 -t "$T" -P "$n" -J >"$j" ||
            { cat "$j" >&2; fail "$cfg: iperf3 with $n stream(s) failed"; }
        t1=$(ticks "$@") h1=$(host_busy)
        read -r u1 d1 < <(drops)
        "$PY" - "$j" "$cfg" "$n" $((t1 - t0)) $((h1 - h0)) "$HZ" $((u1 - u0)) $((d1 - d0)) >>"$rows" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
cfg, n, dticks, hticks, hz = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
udrops, ddrops = sys.argv[7], sys.argv[8]
e = j["end"]
r, s, c = e["sum_received"], e["sum_sent"], e["cpu_utilization_percent"]
secs = r["seconds"]
iperf_cpu = (c["host_total"] + c["remote_total"]) / 100 * secs
gbit = r["bytes"] * 8 / 1e9
print(cfg, n, "%.1f" % (r["bits_per_second"] / 1e6), "%.3f" % (iperf_cpu + dticks / hz),
      "%.4f" % gbit, "%.3f" % (hticks / hz), s.get("retransmits", 0), udrops, ddrops, sep="\t")
EOF
        log "$cfg, $n stream(s): $(tail -n1 "$rows" | cut -f3) Mbit/s"
    done
}

# hike_pair ENCAP: hiked in a and b, a initiates; waits for the Child SA on both sides.
hike_conf() { # FILE NAME LOCAL REMOTE LID RID LTS RTS ENCAP
    hiked_conf_psk "$1" name="$2" local="$3" remote="$4" local_id="$5" remote_id="$6" \
        local_ts="$7" remote_ts="$8" encap="$9" ike=aes128gcm16-prfsha256-x25519 \
        esp=aes128gcm16 log_level=info psk=hike-bench-psk-5d2e81
}
up() { [ "$(hiked_sa "$1" | cut -d' ' -f1-2)" = "ESTABLISHED INSTALLED" ]; }
hike_pair() {
    hike_conf "$W/ha.conf" ha 192.0.2.1 192.0.2.2 a.bench b.bench 10.1.0.0/24 10.2.0.0/24 "$1"
    hike_conf "$W/hb.conf" hb 192.0.2.2 192.0.2.1 b.bench a.bench 10.2.0.0/24 10.1.0.0/24 "$1"
    hiked_start ha a "$W/ha.conf"
    hiked_start hb b "$W/hb.conf"
    hiked_ctl ha initiate net >/dev/null || fail "hiked ha: initiate"
    wait_for 10 up ha && wait_for 10 up hb || fail "hike <-> hike: no Child SA"
    # The mode in use: ESP in UDP moves the IKE SA to port 4500.
    local port
    port=$(hiked_ctl ha --json list-sas | "$PY" -c 'import json,sys; print(json.load(sys.stdin)[0]["local"].rsplit(":", 1)[1])')
    case "$1:$port" in yes:4500 | no:500) ;; *) fail "hike <-> hike: encap=$1 but IKE on port $port" ;; esac
}

charon_side() { # NAME NS LOCAL REMOTE LID RID LTS RTS
    charon_start "$1" "$2"
    charon_conf_psk "$W/$1.d" local="$3" remote="$4" local_id="$5" remote_id="$6" \
        local_ts="$7" remote_ts="$8" ike=aes128gcm16-prfsha256-x25519 esp=aes128gcm16 \
        psk=hike-bench-psk-5d2e81
    charon_load "$1" "$W/$1.d"
}

# profile: both hiked under perf record -g during an extra 1-stream run.
profile() {
    local pa=${HIKED_PID[ha]} pb=${HIKED_PID[hb]} p1 p2
    perf record -q -F 999 -g -p "$pa" -o "$W/perf-a.data" -- sleep "$T" >"$W/perf-a.log" 2>&1 &
    p1=$!
    perf record -q -F 999 -g -p "$pb" -o "$W/perf-b.data" -- sleep "$T" >"$W/perf-b.log" 2>&1 &
    p2=$!
    netns_on_cleanup "kill $p1 $p2 2>/dev/null"
    sleep 0.5
    ns_exec a timeout $((T + 30)) iperf3 -c 10.2.0.1 -B 10.1.0.1 -p 5201 -t "$T" -J >"$W/perf-iperf.json" ||
        fail "iperf3 under perf failed"
    wait "$p1" "$p2" || true
    local side
    for side in a b; do
        [ -s "$W/perf-$side.data" ] || { cat "$W/perf-$side.log" >&2; fail "perf record of hiked $side wrote nothing"; }
        perf report -i "$W/perf-$side.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
            grep -E '^ +[0-9]' >"$W/perf-$side.self" || true
        perf report -i "$W/perf-$side.data" --children --sort sym --stdio -g none 2>/dev/null |
            grep -E '^ +[0-9]' >"$W/perf-$side.children" || true
        perf report -i "$W/perf-$side.data" --no-children --sort dso --stdio -g none 2>/dev/null |
            grep -E '^ +[0-9]' >"$W/perf-$side.dso" || true
    done
}

# profile_table: where each hiked spends its time, from the perf reports: inclusive time
# in each kind of system call (libc wrapper and all the kernel work under it, which for
# a TUN write or a UDP send over veth includes the receiving stack), self time by
# object, copies and checksums.
profile_table() {
    "$PY" - "$W" <<'EOF'
import re, sys
w = sys.argv[1]
def parse(path):
    out = []
    for line in open(path):
        f = line.split()
        try:
            out.append((float(f[0].rstrip("%")), f))
        except (ValueError, IndexError):
            pass
    return out
groups = [
    ("UDP send (sendmsg, sendmmsg, sendto)", {"__libc_sendmsg", "__libc_sendmmsg", "sendmmsg", "__sendmmsg", "__libc_sendto"}),
    ("UDP receive (recvmsg, recvmmsg, recv)", {"__libc_recvmsg", "__libc_recvmmsg", "recvmmsg", "__recvmmsg", "__libc_recv", "__libc_recvfrom"}),
    ("TUN read (read, readv)", {"read", "__libc_read", "__GI___libc_read", "readv", "__readv"}),
    ("TUN write (write, writev)", {"__GI___libc_write", "__libc_write", "write", "writev", "__writev"}),
    ("epoll_wait", {"epoll_wait"}),
]
rows = {}
def put(name, side, v):
    rows.setdefault(name, {})[side] = v
for side in "ab":
    incl = {}
    for pct, f in parse("%s/perf-%s.children" % (w, side)):
        if len(f) > 3 and f[2] == "[.]":
            incl.setdefault(f[3], pct)
    for name, syms in groups:
        put("in " + name, side, max(incl.get(x, 0.0) for x in syms))
    dso = {f[1]: pct for pct, f in parse("%s/perf-%s.dso" % (w, side)) if len(f) > 1}
    d = lambda pfx: sum(v for k, v in dso.items() if k.startswith(pfx))
    put("self: kernel", side, d("[kernel"))
    put("self: libcrypto (AES-GCM, EVP)", side, d("libcrypto"))
    put("self: hiked", side, d("hiked"))
    put("self: libc (syscall wrappers, memmove, strcmp)", side, d("libc"))
    put("self: libevent", side, d("libevent"))
    se = parse("%s/perf-%s.self" % (w, side))
    put("self: copies (copy_to/from_iter/user, memmove)", side,
        sum(p for p, f in se if re.search(r"copy|memmove|memcpy|movs", f[-1])))
    put("self: checksums (csum_*)", side, sum(p for p, f in se if "csum" in f[-1]))
    put("self: pvm_irq_enable (deferred samples, see below)", side,
        sum(p for p, f in se if f[-1] == "pvm_irq_enable"))
print("| share of hiked's samples | a (encrypts) | b (decrypts) |")
print("|---|---:|---:|")
for name, v in rows.items():
    print("| %s | %.1f %% | %.1f %% |" % (name, v.get("a", 0), v.get("b", 0)))
EOF
}

for cfg in $CONFIGS; do
    case "$cfg" in
    plain)
        measure plain 192.0.2.2 192.0.2.1
        ;;
    hike-udp | hike-raw)
        if [ "$cfg" = hike-udp ]; then hike_pair yes; else hike_pair no; fi
        measure "$cfg" 10.2.0.1 10.1.0.1 "${HIKED_PID[ha]}" "${HIKED_PID[hb]}"
        if [ "$cfg" = hike-udp ] && [ "$PERF" = 1 ]; then
            log "hike-udp: perf record -g of both hiked during an extra ${T}s run"
            profile
        fi
        hiked_stop ha
        hiked_stop hb
        ;;
    charon)
        charon_side ca a 192.0.2.1 192.0.2.2 a.bench b.bench 10.1.0.0/24 10.2.0.0/24
        charon_side cb b 192.0.2.2 192.0.2.1 b.bench a.bench 10.2.0.0/24 10.1.0.0/24
        charon_initiate ca net net >/dev/null || fail "charon <-> charon: initiate"
        measure charon 10.2.0.1 10.1.0.1 "${CHARON_PID[ca]}" "${CHARON_PID[cb]}"
        charon_stop ca
        charon_stop cb
        ;;
    hike-charon)
        charon_side ca a 192.0.2.1 192.0.2.2 a.bench b.bench 10.1.0.0/24 10.2.0.0/24
        hike_conf "$W/hb.conf" hb 192.0.2.2 192.0.2.1 b.bench a.bench 10.2.0.0/24 10.1.0.0/24 no
        hiked_start hb b "$W/hb.conf"
        charon_initiate ca net net >/dev/null || fail "charon -> hike: initiate"
        wait_for 10 up hb || fail "hike <-> charon: no Child SA"
        measure hike-charon 10.2.0.1 10.1.0.1 "${CHARON_PID[ca]}" "${HIKED_PID[hb]}"
        hiked_stop hb
        charon_stop ca
        ;;
    *) fail "unknown configuration '$cfg'" ;;
    esac
done

# ---- the report ----
mkdir -p "$OUT"
stamp=$(date +%Y-%m-%d-%H%M)
md=$OUT/esp-$stamp.md
rev=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$root" diff --quiet HEAD 2>/dev/null || rev="$rev (with local changes)"
{
    echo "# ESP throughput, $(date '+%Y-%m-%d %H:%M')"
    echo
    echo "TCP through one tunnel between two network namespaces (veth), iperf3 ${T} s per run."
    echo
    "$PY" - "$rows" <<'EOF'
import sys
names = {"plain": "plain veth (no IPsec)", "hike-udp": "hike <-> hike, ESP in UDP",
         "hike-raw": "hike <-> hike, raw ESP", "charon": "strongSwan <-> strongSwan (kernel-libipsec)",
         "hike-charon": "strongSwan -> hike, ESP in UDP"}
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
mbit = {(r[0], r[1]): float(r[2]) for r in rows}
def ratio(r, base):
    b = mbit.get((base, r[1]))
    return "%.2fx" % (float(r[2]) / b) if b else "-"
print("| config | streams | Mbit/s | CPU s/Gbit | host CPU s/Gbit | TCP retransmits | drops UDP rcvbuf / dev+qdisc | vs strongSwan | vs plain veth |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for r in rows:
    g = float(r[4])
    cpu = "%.2f" % (float(r[3]) / g) if g else "-"
    host = "%.2f" % (float(r[5]) / g) if g else "-"
    print("| %s | %s | %s | %s | %s | %s | %s / %s | %s | %s |" % (names.get(r[0], r[0]), r[1], r[2], cpu,
          host, r[6], r[7], r[8], ratio(r, "charon"), ratio(r, "plain")))
for n in sorted({r[1] for r in rows}):
    h, c = mbit.get(("hike-udp", n)), mbit.get(("charon", n))
    if h and c:
        print()
        print("Aim (hike at least 5x strongSwan's userspace plane), %s stream(s), ESP in UDP: %.2fx, %s."
              % (n, h / c, "met" if h >= 5 * c else "not met"))
EOF
    echo
    echo "CPU s/Gbit: utime+stime of both IKE daemons (all threads) and both iperf3 over the run,"
    echo "per Gbit received. Host CPU s/Gbit: the whole machine's busy time over the run (softirq"
    echo "work outside those processes included, and anybody else's load). Drops: packets the"
    echo "kernel dropped in both namespaces during the run, for UDP receive buffers full (the"
    echo "daemon's ESP-in-UDP socket) and in interfaces or their queues (a TUN device not read"
    echo "fast enough); the TCP retransmits follow from them."
    echo
    echo "## Machine and settings"
    echo
    echo "- machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), kernel $(uname -r)"
    echo "- load average before the run: $load_before (the machine is shared: figures are noisy, compare ratios)"
    echo "- hiked: $("$build/hiked" -V 2>&1 | head -n1), commit $rev, build $(basename "$build")"
    echo "- charon: $("$CHARON_BIN" --version 2>&1 | head -n1), kernel-libipsec (TUN, ESP in UDP), crypto from the openssl plugin (loaded first);"
    echo "  plugins: $CHARON_PLUGINS"
    echo "- iperf3: $(iperf3 --version | head -n1)"
    echo "- ESP aes128gcm16, IKE aes128gcm16-prfsha256-x25519, PSK, tunnel mode; TUN MTU 1400 on both"
    echo "  (hike0, ipsec0); veth MTU 1500; iperf3 TCP, client in a sends, server in b; ${T} s per run"
    if [ "$PERF" = 1 ] && [ -s "$W/perf-a.self" ]; then
        echo
        echo "## Profile of hiked, hike <-> hike, ESP in UDP, 1 stream"
        echo
        echo "perf record -F 999 -g on each hiked during an extra ${T} s run ($("$PY" -c '
import json, sys
print("%.0f Mbit/s" % (json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6))' "$W/perf-iperf.json") under perf)."
        echo "a encrypts (TUN read, ESP encap, UDP send); b decrypts (UDP receive, ESP decap, TUN write)."
        echo
        profile_table
        echo
        echo "System call rows are inclusive (the libc wrapper and everything the kernel does under"
        echo "it: a UDP send over veth or a TUN write also runs the receiving network stack in the"
        echo "same context); self rows split the samples by object. The sampling event is"
        echo "$(perf evlist -i "$W/perf-a.data" 2>/dev/null | head -n1): where interrupts are off"
        echo "(softirq, syscall entry and exit on a paravirtualized guest) samples land at the next"
        echo "interrupt enable, so pvm_irq_enable's self time belongs to the code just before it."
        for side in a b; do
            echo
            echo "### hiked $side: top self time by symbol"
            echo
            echo '```'
            head -n 20 "$W/perf-$side.self"
            echo '```'
        done
    fi
} >"$md"
cat "$md"
log "written to $md"
