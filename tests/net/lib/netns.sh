# shellcheck shell=bash
# Helpers for network tests, sourced by bash scripts (tests/net, tests/interop).
#
#   source "$HIKE_SOURCE_DIR/tests/net/lib/netns.sh"
#   netns_setup 60                        # root + netns checks, trap, watchdog (seconds)
#   ns_create a b                         # namespaces hk<pid>-<rand>-a, hk...-b; lo up
#   ns_veth a:eth0:192.0.2.1/24,2001:db8::1/64 b:eth0:192.0.2.2/24,2001:db8::2/64
#   ns_addr a lo 10.1.0.1/32              # inner address (this kernel has no dummy)
#   ns_exec a ping -c1 192.0.2.2
#   ns_spawn a "$NETNS_WORK/x.log" some-daemon --foreground; pid=$NS_LAST_PID
#   wait_for 5 ns_exec a ss -Hlun 'sport = :500'
#   ns_tcp_transfer b 10.2.0.1 a 10.1.0.1 4194304   # b sends 4 MiB to a, SHA-256 checked
#
# Namespaces are named by the caller with short logical names; ns_name gives the real
# one. Everything lives in $NETNS_WORK (a fresh directory). On exit, success or failure,
# the EXIT trap runs the registered hooks, kills every process inside our namespaces
# (and those started with ns_spawn), deletes the namespaces and removes $NETNS_WORK.
# On failure the work directory is first copied to $HIKE_BUILD_DIR/test-out/<test>/ (or
# kept where it is with HIKE_KEEP_WORK=1). Addresses are only ever set inside our
# namespaces: nothing here touches the host's own interfaces or routes.

NETNS_ID=${NETNS_ID:-hk$$-$RANDOM}
NETNS_WORK=${NETNS_WORK:-}
NETNS_TEST=${NETNS_TEST:-$(basename "${0%.sh}")}
declare -gA NETNS_REAL=()   # logical name -> real namespace name
declare -ga NETNS_ORDER=()  # real names, in creation order
declare -ga NETNS_PIDS=()   # background processes started through ns_spawn
declare -ga NETNS_HOOKS=()  # commands run first at cleanup (last registered runs first)
NS_LAST_PID=
NETNS_WATCHDOG=

log() { printf '%s %s\n' "$(date +%T.%3N)" "$*"; }

# Prints "SKIP: reason" and exits 0. For missing privileges or kernel support only; a
# missing tool or a broken setup must fail instead.
# Messages go to the test's original stdout/stderr (saved by netns_setup), so that they
# show even when raised under a redirection (wait_for drops its command's output).
skip() {
    echo "SKIP: $*" >&"${NETNS_FD1:-1}"
    exit 0
}

fail() {
    echo "FAIL: $*" >&"${NETNS_FD2:-2}"
    exit 1
}

# check MESSAGE CMD...: runs CMD, prints "ok: MESSAGE" or fails the test.
check() {
    local msg=$1
    shift
    if "$@"; then echo "ok: $msg"; else fail "$msg (command: $*)"; fi
}

# Skips unless we are root and can create network namespaces; fails when a tool we
# need is missing.
netns_require() {
    [ "$(id -u)" -eq 0 ] || skip "network namespace tests need root"
    local t
    for t in ip unshare mount timeout; do
        command -v "$t" >/dev/null 2>&1 || fail "required tool '$t' not found"
    done
    local probe="${NETNS_ID}-probe"
    local err
    if ! err=$(ip netns add "$probe" 2>&1); then
        case "$err" in
        *"ermission"* | *"not permitted"* | *"not supported"* | *"Invalid argument"*)
            skip "cannot create network namespaces: $err" ;;
        *) fail "ip netns add: $err" ;;
        esac
    fi
    ip netns del "$probe"
    if ! err=$(unshare -m true 2>&1); then
        skip "cannot create mount namespaces: $err"
    fi
}

# netns_setup [TIMEOUT]: netns_require, work directory, EXIT trap, and a watchdog that
# ends the test (cleanly, through the trap) after TIMEOUT seconds (default 120).
netns_setup() {
    local limit=${1:-120}
    netns_require
    [ -n "$NETNS_WORK" ] || NETNS_WORK=$(mktemp -d "${TMPDIR:-/tmp}/hike-${NETNS_TEST}.XXXXXX")
    mkdir -p "$NETNS_WORK"
    # A trap runs under whatever redirection is active when the signal comes in: keep
    # the original stdout and stderr for the traps and fail/skip.
    exec {NETNS_FD1}>&1 {NETNS_FD2}>&2
    trap 'netns_cleanup >&$NETNS_FD1 2>&$NETNS_FD2' EXIT
    trap 'echo "FAIL: interrupted" >&$NETNS_FD2; exit 130' INT
    trap 'echo "FAIL: terminated (test time limit ${NETNS_LIMIT}s reached, or a signal)" >&$NETNS_FD2; exit 124' TERM
    NETNS_LIMIT=$limit
    # The watchdog sends TERM to the test's direct children (a blocking foreground
    # command delays bash's traps) and to the test shell itself. It polls instead of
    # sleeping once, so it ends by itself within a second of the test, even if the
    # TERM sent to it at cleanup is lost; its stdio is not the test's, so it never
    # holds ctest's output pipe open.
    local main=$$
    (
        trap - EXIT INT TERM
        for ((i = 0; i < limit * 5; i++)); do
            sleep 0.2
            kill -0 "$main" 2>/dev/null || exit 0
        done
        kill -TERM "$main" 2>/dev/null
        for p in $(ps -o pid= --ppid "$main"); do
            [ "$p" = "$BASHPID" ] || kill -TERM "$p" 2>/dev/null
        done
    ) </dev/null >/dev/null 2>&1 {NETNS_FD1}>&- {NETNS_FD2}>&- &
    NETNS_WATCHDOG=$!
}

# netns_on_cleanup CMD...: run CMD (as one eval'd string) at cleanup, before processes
# are killed. $NETNS_STATUS holds the test's exit status then.
netns_on_cleanup() { NETNS_HOOKS+=("$*"); }

netns_cleanup() {
    NETNS_STATUS=$?
    # Bounded (a few seconds); a second signal must not cut it short.
    trap - EXIT
    trap '' INT TERM
    set +e
    local i p ns
    for ((i = ${#NETNS_HOOKS[@]} - 1; i >= 0; i--)); do
        eval "${NETNS_HOOKS[$i]}"
    done
    # Everything running inside our namespaces, whoever started it, then our own
    # background processes (a process may have left the namespace's pid list).
    local pids=() nspids=()
    for ns in "${NETNS_ORDER[@]}"; do
        mapfile -t nspids < <(ip netns pids "$ns" 2>/dev/null)
        pids+=("${nspids[@]}")
    done
    for p in "${NETNS_PIDS[@]}"; do
        kill -0 "$p" 2>/dev/null && pids+=("$p")
    done
    if [ ${#pids[@]} -gt 0 ]; then
        kill -TERM "${pids[@]}" 2>/dev/null
        for i in $(seq 30); do
            local alive=0
            for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
            [ $alive -eq 0 ] && break
            sleep 0.1
        done
        kill -KILL "${pids[@]}" 2>/dev/null
    fi
    # (never a bare "wait": it would wait for the watchdog)
    [ ${#NETNS_PIDS[@]} -eq 0 ] || wait "${NETNS_PIDS[@]}" 2>/dev/null
    for ((i = ${#NETNS_ORDER[@]} - 1; i >= 0; i--)); do
        ip netns del "${NETNS_ORDER[$i]}" 2>/dev/null
    done
    # Not waited for: it ends by itself once we are gone.
    [ -z "$NETNS_WATCHDOG" ] || kill -TERM "$NETNS_WATCHDOG" 2>/dev/null
    if [ -n "$NETNS_WORK" ] && [ -d "$NETNS_WORK" ]; then
        if [ "$NETNS_STATUS" -ne 0 ] && [ -n "${HIKE_BUILD_DIR:-}" ] && [ -d "$HIKE_BUILD_DIR" ]; then
            local keep="$HIKE_BUILD_DIR/test-out/$NETNS_TEST"
            rm -rf "$keep" && mkdir -p "$keep" && cp -r "$NETNS_WORK"/. "$keep"/ 2>/dev/null &&
                echo "test files kept in $keep" >&2
        fi
        if [ "${HIKE_KEEP_WORK:-0}" = 1 ]; then
            echo "work directory kept: $NETNS_WORK" >&2
        else
            rm -rf "$NETNS_WORK"
        fi
    fi
    exit "$NETNS_STATUS"
}

# ns_name NAME: the real namespace name of logical NAME.
ns_name() {
    local r=${NETNS_REAL[$1]:-}
    [ -n "$r" ] || fail "unknown namespace '$1'"
    echo "$r"
}

# ns_create NAME...: new namespaces with lo up, IPv6 DAD off, forwarding off.
ns_create() {
    local n real
    for n in "$@"; do
        [ -z "${NETNS_REAL[$n]:-}" ] || fail "namespace '$n' exists already"
        real="${NETNS_ID}-$n"
        ip netns add "$real" || fail "ip netns add $real"
        NETNS_REAL[$n]=$real
        NETNS_ORDER+=("$real")
        ip -n "$real" link set lo up
        ip netns exec "$real" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
            net.ipv6.conf.default.accept_dad=0 >/dev/null
    done
}

# ns_exec NAME CMD...: runs CMD in namespace NAME (foreground).
ns_exec() {
    _ns_prefix "$1"
    shift
    "${NS_CMD[@]}" "$@"
}

# _ns_prefix NAME [RUNDIR]: sets NS_CMD to the command prefix that runs a command in
# namespace NAME (and with RUNDIR over /run, see ns_exec_run).
_ns_prefix() {
    local real
    real=$(ns_name "$1") || exit 1
    NS_CMD=(ip netns exec "$real")
    [ $# -lt 2 ] && return 0
    mkdir -p "$2"
    # shellcheck disable=SC2016 # $0 and $@ are the inner sh's
    NS_CMD+=(unshare -m --propagation private -- sh -c
        'mount --bind "$0" /run || exit 1
         if [ -d /var/run ] && [ ! -L /var/run ]; then mount --bind "$0" /var/run || exit 1; fi
         exec "$@"' "$2")
}

# ns_exec_run NAME RUNDIR CMD...: runs CMD in namespace NAME and in a private mount
# namespace where RUNDIR is bind-mounted over /run (so /var/run/charon.pid and other
# fixed runtime paths are per instance). The mount is not visible outside CMD.
ns_exec_run() {
    _ns_prefix "$1" "$2"
    shift 2
    "${NS_CMD[@]}" "$@"
}

# ns_spawn NAME LOGFILE CMD...: starts CMD in the background in namespace NAME,
# stdout and stderr to LOGFILE. Sets NS_LAST_PID, which is CMD's own pid (everything
# in between execs). Killed at cleanup.
ns_spawn() {
    _ns_prefix "$1"
    local logf=$2
    shift 2
    "${NS_CMD[@]}" "$@" </dev/null >"$logf" 2>&1 &
    NS_LAST_PID=$!
    NETNS_PIDS+=("$NS_LAST_PID")
}

# ns_spawn_run NAME RUNDIR LOGFILE CMD...: ns_spawn with a private /run (ns_exec_run).
ns_spawn_run() {
    _ns_prefix "$1" "$2"
    local logf=$3
    shift 3
    "${NS_CMD[@]}" "$@" </dev/null >"$logf" 2>&1 &
    NS_LAST_PID=$!
    NETNS_PIDS+=("$NS_LAST_PID")
}

# ns_kill PID [TIMEOUT]: TERM, wait up to TIMEOUT seconds (default 5), then KILL.
# Returns 0 if the process ended on TERM.
ns_kill() {
    local pid=$1 limit=${2:-5}
    kill -TERM "$pid" 2>/dev/null || return 0
    if wait_for "$limit" eval "! kill -0 $pid 2>/dev/null"; then
        wait "$pid" 2>/dev/null
        return 0
    fi
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 1
}

# wait_for TIMEOUT CMD...: runs CMD every 0.1 s until it succeeds (returns 0) or
# TIMEOUT seconds (may be fractional) have passed (returns 1). CMD's output is dropped.
wait_for() {
    local limit=$1
    shift
    local end=$(($(date +%s%N) + ${limit%.*} * 1000000000))
    case "$limit" in *.*) local frac=${limit#*.}000; end=$((end + 10#${frac:0:3} * 1000000)) ;; esac
    while :; do
        "$@" >/dev/null 2>&1 && return 0
        [ "$(date +%s%N)" -lt "$end" ] || return 1
        sleep 0.1
    done
}

# _ns_endpoint SPEC: splits NS:IF[:ADDR,ADDR...] into EP_NS EP_IF EP_ADDRS.
_ns_endpoint() {
    EP_NS=${1%%:*}
    local rest=${1#*:}
    [ "$rest" != "$1" ] || fail "endpoint '$1' is not NS:IF[:ADDRS]"
    EP_IF=${rest%%:*}
    EP_ADDRS=
    [ "$rest" = "$EP_IF" ] || EP_ADDRS=${rest#*:}
    [ ${#EP_IF} -le 15 ] || fail "interface name '$EP_IF' longer than 15 characters"
}

# ns_addr NAME IF ADDR[,ADDR...] [ADDR...]: adds addresses (CIDR, IPv4 or IPv6; IPv6
# without DAD) to IF in namespace NAME and sets IF up.
ns_addr() {
    local ns=$1 ifc=$2 real a list
    shift 2
    real=$(ns_name "$ns") || exit 1
    list="$*"
    for a in ${list//,/ }; do
        case "$a" in
        *:*) ip -n "$real" -6 addr add "$a" dev "$ifc" nodad || fail "ip addr add $a dev $ifc in $ns" ;;
        *) ip -n "$real" addr add "$a" dev "$ifc" || fail "ip addr add $a dev $ifc in $ns" ;;
        esac
    done
    ip -n "$real" link set "$ifc" up
}

# ns_veth NS1:IF1[:ADDRS] NS2:IF2[:ADDRS]: a veth pair between two namespaces, with
# comma-separated addresses on each end, both ends up.
ns_veth() {
    _ns_endpoint "$1"
    local ns1=$EP_NS if1=$EP_IF a1=$EP_ADDRS
    _ns_endpoint "$2"
    local ns2=$EP_NS if2=$EP_IF a2=$EP_ADDRS
    local r1 r2
    r1=$(ns_name "$ns1") && r2=$(ns_name "$ns2") || exit 1
    ip link add "$if1" netns "$r1" type veth peer name "$if2" netns "$r2" ||
        fail "veth $ns1:$if1 <-> $ns2:$if2"
    ip -n "$r1" link set "$if1" up
    ip -n "$r2" link set "$if2" up
    [ -z "$a1" ] || ns_addr "$ns1" "$if1" "$a1"
    [ -z "$a2" ] || ns_addr "$ns2" "$if2" "$a2"
}

# ns_bridge BR NS:IF[:ADDRS]...: a switch: a namespace "BR" (created here) holding
# bridge "br0", with one veth from each given namespace's IF to a bridge port.
ns_bridge() {
    local br=$1 i=0
    shift
    ns_create "$br"
    local rb
    rb=$(ns_name "$br")
    ip -n "$rb" link add br0 type bridge || fail "bridge in $br"
    ip -n "$rb" link set br0 up
    local ep
    for ep in "$@"; do
        i=$((i + 1))
        _ns_endpoint "$ep"
        ns_veth "$br:p$i" "$ep"
        ip -n "$rb" link set "p$i" master br0 || fail "bridge port p$i"
    done
}

# ns_route NAME ROUTE...: ip route add ROUTE... in namespace NAME.
ns_route() {
    local real
    real=$(ns_name "$1") || exit 1
    shift
    ip -n "$real" route add "$@" || fail "ip route add $* in $1"
}

# ns_ping NAME [-I SRC] DST [COUNT]: ICMP echo from namespace NAME, 1 s per reply at
# most; succeeds if every echo is answered. Uses ping (iputils-ping) when present,
# else a small python3 equivalent.
ns_ping() {
    local ns=$1 src=
    shift
    if [ "${1:-}" = -I ]; then src=$2; shift 2; fi
    local dst=$1 count=${2:-3}
    if command -v ping >/dev/null 2>&1 && [ "${NS_PING_PY:-0}" != 1 ]; then
        ns_exec "$ns" ping -q -n -c "$count" -i 0.2 -W 1 ${src:+-I "$src"} "$dst"
    elif command -v python3 >/dev/null 2>&1; then
        ns_exec "$ns" python3 - "$dst" "$count" "$src" <<'EOF'
import os, select, socket, struct, sys, time
dst, count, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
v6 = ':' in dst
fam, proto, req, rep = ((socket.AF_INET6, socket.IPPROTO_ICMPV6, 128, 129) if v6
                        else (socket.AF_INET, socket.IPPROTO_ICMP, 8, 0))
s = socket.socket(fam, socket.SOCK_RAW, proto)
if src:
    s.bind((src, 0))
def csum(b):
    if len(b) % 2: b += b'\0'
    t = sum(struct.unpack('!%dH' % (len(b) // 2), b)); t = (t >> 16) + (t & 0xffff); t += t >> 16
    return ~t & 0xffff
ident, got = os.getpid() & 0xffff, 0
for seq in range(1, count + 1):
    body = struct.pack('!HH', ident, seq) + b'hike-ns-ping'
    hdr = struct.pack('!BBH', req, 0, 0)
    pkt = hdr + body if v6 else struct.pack('!BBH', req, 0, csum(hdr + body)) + body
    s.sendto(pkt, (dst, 0))
    end = time.time() + 1
    while time.time() < end:
        r, _, _ = select.select([s], [], [], end - time.time())
        if not r: break
        data, addr = s.recvfrom(2048)
        icmp = data if v6 else data[(data[0] & 0xf) * 4:]
        if icmp[0] == rep and struct.unpack('!HH', icmp[4:8]) == (ident, seq):
            got += 1; break
    time.sleep(0.2)
print('%d/%d echo replies from %s' % (got, count, dst))
sys.exit(0 if got == count else 1)
EOF
    else
        fail "neither ping (package iputils-ping) nor python3 is installed"
    fi
}

NETNS_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# ns_tcp_transfer SRV_NS SRV_ADDR CLI_NS CLI_ADDR BYTES [PORT] [TIMEOUT] [PACE]: a
# checksummed TCP transfer (tcp_transfer.py): a server in SRV_NS on SRV_ADDR:PORT (default
# 5001) sends BYTES random octets to a client in CLI_NS bound to CLI_ADDR. Succeeds when
# the client read exactly BYTES octets with the server's SHA-256; else prints both sides'
# view and returns 1. Each side gives up after TIMEOUT seconds (default 20). PACE > 0
# (seconds, default 0) spaces the server's 64 KiB writes, to keep a transfer under way.
# NS_TCP_SECONDS is set to the transfer's duration.
ns_tcp_transfer() {
    local sns=$1 saddr=$2 cns=$3 caddr=$4 bytes=$5 port=${6:-5001} limit=${7:-20} pace=${8:-0}
    local py=/usr/bin/python3 out="$NETNS_WORK/tcp-$sns-$cns-$port"
    [ -x "$py" ] || py=python3
    ns_spawn "$sns" "$out.server" "$py" "$NETNS_LIB_DIR/tcp_transfer.py" serve "$saddr" "$port" \
        "$bytes" "$limit" "$pace"
    local srv=$NS_LAST_PID t0 rc=0 srv_rc=0
    t0=$(date +%s%N)
    ns_exec "$cns" timeout "$((limit + 5))" "$py" "$NETNS_LIB_DIR/tcp_transfer.py" fetch \
        "$saddr" "$port" "$caddr" "$limit" >"$out.client" 2>&1 || rc=$?
    wait "$srv" || srv_rc=$?
    NS_TCP_SECONDS=$(awk -v d=$(($(date +%s%N) - t0)) 'BEGIN { printf "%.2f", d / 1e9 }')
    local want got
    want=$(cat "$out.server") got=$(cat "$out.client")
    if [ $rc -ne 0 ] || [ $srv_rc -ne 0 ] || [ "$got" != "$want" ] || [ "${got#* }" != "$bytes" ]; then
        echo "TCP transfer $sns($saddr) -> $cns($caddr): client exit $rc, server exit $srv_rc" >&2
        echo "  server sent: $want" >&2
        echo "  client got:  $got" >&2
        return 1
    fi
}

# ns_conf_set WHO KEY=VALUE...: sets keys of the caller's associative array o (bash scopes
# are dynamic), refusing a word without '=' and a key o does not have. For config writers.
ns_conf_set() {
    local who=$1 kv
    shift
    for kv in "$@"; do
        [[ "$kv" == *=* ]] || fail "$who: '$kv' is not KEY=VALUE"
        [ -n "${o[${kv%%=*}]+x}" ] || fail "$who: unknown key '${kv%%=*}'"
        o[${kv%%=*}]=${kv#*=}
    done
}
