# Helpers for net tests with two hiked in two network namespaces ("a" and "b") joined by a
# veth pair: 192.0.2.1 (a) and 192.0.2.2 (b), optionally 2001:db8::1 / 2001:db8::2.
# Source it from a test (bash), then:
#
#   hp_init NAME [SECONDS]  temp dir $HP_T, namespaces $HP_NSA/$HP_NSB (names include $$),
#                           an EXIT trap that cleans up, a watchdog that ends the test after
#                           SECONDS (default 50) so it always stops by itself
#   hp_net 4|6              the namespaces, the veth pair and the addresses (6: also IPv6)
#   hp_conf [--transport] SIDE START [CONN_EXTRA] [DAEMON_EXTRA] [CHILD_EXTRA]
#                           writes $HP_T/SIDE.conf: connection "pair" (IPv4) and, after
#                           hp_net 6, "pair6" (IPv6); START is the start_action of "pair"
#                           (--transport: transport-mode children, START for both)
#   hp_start SIDE           starts hiked in SIDE's namespace (log $HP_T/SIDE.log), waits for
#                           its control socket; $HP_PID_a / $HP_PID_b
#   hp_stop SIDE            SIGTERM; hiked must exit 0 within 5 s
#   hp_ctl SIDE ARGS...     hikectl against SIDE (bounded by timeout(1))
#   hp_json SIDE CMD        hikectl --json CMD (list-sas, stats, ...)
#   hp_wait SIDE EXPR [S]   waits up to S seconds (default 10) until the Python expression
#                           EXPR over s = list-sas --json holds
#   hp_py EXPR FILE...      evaluates a Python expression (asserts allowed with exec) over
#                           JSON files loaded as j[0], j[1], ...
#   hp_tcp_transfer TAG SRV_ADDR CLI_ADDR [PACE]
#                           a checksummed 2 MiB TCP transfer from b (SRV_ADDR) to a
#                           (CLI_ADDR): netns.sh's ns_tcp_transfer; both sides' view in
#                           $HP_T/TAG.xfer when it fails
#   hp_fail MSG             prints MSG, both logs and list-sas, exits 1
#   ok MSG                  prints "ok: MSG"
#
# HP_KEEP=1 keeps the temp dir (configurations, logs) for a look afterwards.
# Uses only addresses inside the namespaces it creates. Sources tests/net/lib/netns.sh
# (wait_for, ns_tcp_transfer), whose names "a" and "b" are $HP_NSA and $HP_NSB.

# shellcheck source=tests/net/lib/netns.sh
. "$(dirname "${BASH_SOURCE[0]}")/netns.sh"

HP_B=${HIKE_BUILD_DIR:?HIKE_BUILD_DIR not set}
HP_HIKED=$HP_B/hiked
HP_CTL=$HP_B/hikectl
# The system's interpreter: a version manager's shim can take a second per start.
HP_PYTHON=/usr/bin/python3
[ -x "$HP_PYTHON" ] || HP_PYTHON=python3
HP_A4=192.0.2.1 HP_B4=192.0.2.2
HP_A6=2001:db8::1 HP_B6=2001:db8::2
HP_PSK=0x3f9a1c5e7b2d4f6081a3c5e7092b4d6f8a1c3e5f7092b4d6e8f0a2c4e6081a3c
HP_PID_a='' HP_PID_b='' HP_WATCHDOG='' HP_V6=''

hp_cleanup() {
    local p
    for p in "$HP_PID_a" "$HP_PID_b"; do
        [ -n "$p" ] || continue
        kill -CONT "$p" 2> /dev/null
        kill -KILL "$p" 2> /dev/null
        wait "$p" 2> /dev/null
    done
    HP_PID_a='' HP_PID_b=''
    [ -n "$HP_WATCHDOG" ] && kill "$HP_WATCHDOG" 2> /dev/null
    [ -n "${HP_NSA:-}" ] && ip netns del "$HP_NSA" 2> /dev/null
    [ -n "${HP_NSB:-}" ] && ip netns del "$HP_NSB" 2> /dev/null
    if [ -n "${HP_KEEP:-}" ]; then
        [ -n "${HP_T:-}" ] && echo "kept $HP_T"
    else
        [ -n "${HP_T:-}" ] && rm -rf "$HP_T"
    fi
    return 0
}

hp_init() {
    if [ "$(id -u)" != 0 ]; then
        echo "SKIP: needs root for network namespaces"
        exit 0
    fi
    local name=$1 limit=${2:-50}
    HP_NSA=hp-$name-a-$$ HP_NSB=hp-$name-b-$$
    HP_T=$(mktemp -d "/tmp/hike-$name.XXXXXX") || exit 1
    # netns.sh's view (ns_exec, ns_tcp_transfer); cleanup stays hp_cleanup's.
    NETNS_REAL[a]=$HP_NSA NETNS_REAL[b]=$HP_NSB NETNS_WORK=$HP_T
    trap hp_cleanup EXIT
    trap 'echo "FAIL: interrupted"; exit 1' INT
    trap 'hp_fail "time limit of '"$limit"' s reached"' USR1
    # The watchdog signals the test (USR1: fail with logs); bash runs the trap after the
    # command that is running ends, and every command here is bounded by timeout(1).
    local me=$$
    (
        sleep "$limit" &
        sp=$!
        trap 'kill $sp 2> /dev/null; exit 0' TERM
        wait $sp
        kill -USR1 "$me" 2> /dev/null
    ) > /dev/null 2>&1 &
    HP_WATCHDOG=$!
}

hp_net() {
    local id=$$
    ip netns add "$HP_NSA" || hp_fail "cannot create namespace $HP_NSA"
    ip netns add "$HP_NSB" || hp_fail "cannot create namespace $HP_NSB"
    ip link add "hpa$id" netns "$HP_NSA" type veth peer name "hpb$id" netns "$HP_NSB" ||
        hp_fail "cannot create the veth pair"
    ip -n "$HP_NSA" addr add "$HP_A4/24" dev "hpa$id"
    ip -n "$HP_NSB" addr add "$HP_B4/24" dev "hpb$id"
    if [ "${1:-}" = 6 ]; then
        HP_V6=1
        # nodad: usable at once, without waiting for duplicate address detection.
        ip -n "$HP_NSA" addr add "$HP_A6/64" dev "hpa$id" nodad
        ip -n "$HP_NSB" addr add "$HP_B6/64" dev "hpb$id" nodad
    fi
    local ns
    for ns in "$HP_NSA" "$HP_NSB"; do ip -n "$ns" link set lo up; done
    ip -n "$HP_NSA" link set "hpa$id" up
    ip -n "$HP_NSB" link set "hpb$id" up
}

# hp_conf [--transport] SIDE START [CONN_EXTRA] [DAEMON_EXTRA] [CHILD_EXTRA]
# Tunnel mode (default): "pair" carries 10.1.0.0/16 <-> 10.2.0.0/16 and takes START and the
# extras; "pair6" (fd00:a::/64 <-> fd00:b::/64) has no start_action and no extras.
# --transport: host-to-host transport-mode children between the endpoint addresses (no
# traffic selectors), and "pair6" takes START and the extras as "pair" does.
hp_conf() {
    local transport=''
    [ "$1" = --transport ] && transport=1 && shift
    local side=$1 start=$2 me4 peer4 me6 peer6 myid peerid lts rts listen
    if [ "$side" = a ]; then
        me4=$HP_A4 peer4=$HP_B4 me6=$HP_A6 peer6=$HP_B6 myid=a peerid=b
        lts=10.1.0.0/16 rts=10.2.0.0/16
    else
        me4=$HP_B4 peer4=$HP_A4 me6=$HP_B6 peer6=$HP_A6 myid=b peerid=a
        lts=10.2.0.0/16 rts=10.1.0.0/16
    fi
    local child4 child6 start6='' extra6='' child_extra6=''
    if [ -n "$transport" ]; then
        child4='tp4 = { mode = "transport";' child6='tp6 = { mode = "transport";'
        start6=$start extra6=${3:-} child_extra6=${5:-}
    else
        child4="net = { local_ts = \"$lts\"; remote_ts = \"$rts\";"
        child6="net6 = { local_ts = \"fd00:$myid::/64\"; remote_ts = \"fd00:$peerid::/64\";"
    fi
    listen="\"$me4\""
    [ -n "$HP_V6" ] && listen="$listen, \"$me6\""
    {
        echo "daemon = { listen = [$listen]; control_socket = \"$HP_T/$side.ctl\"; ${4:-} };"
        echo "connections = {"
        _hp_conn pair "$me4" "$peer4" "" aes256gcm16-prfsha256-x25519 "$start" "${3:-}" \
            "$child4 esp = [\"aes256gcm16\"]; ${5:-} };"
        [ -n "$HP_V6" ] && _hp_conn pair6 "$me6" "$peer6" .v6 chacha20poly1305-prfsha256-ecp256 \
            "$start6" "$extra6" "$child6 esp = [\"chacha20poly1305\"]; $child_extra6 };"
        echo "};"
    } > "$HP_T/$side.conf"
}

# _hp_conn NAME ME PEER ID_SUFFIX IKE START CONN_EXTRA CHILD: one PSK connection of
# hp_conf's SIDE (its $myid, $peerid); no start_action when START is empty.
_hp_conn() {
    local start_action=''
    [ -n "$6" ] && start_action="start_action = \"$6\";"
    cat << CONF
  $1 = {
    local_addrs = "$2"; remote_addrs = "$3";
    local = { auth = "psk"; id = "$myid$4.example.net"; };
    remote = { auth = "psk"; id = "$peerid$4.example.net"; };
    psk = "$HP_PSK";
    ike = ["$5"];
    $start_action
    $7
    children = { $8 };
  };
CONF
}

hp_start() {
    local side=$1 ns
    [ "$side" = a ] && ns=$HP_NSA || ns=$HP_NSB
    ip netns exec "$ns" "$HP_HIKED" -c "$HP_T/$side.conf" 2> "$HP_T/$side.log" &
    eval "HP_PID_$side=$!"
    local _
    for _ in $(seq 100); do
        [ -S "$HP_T/$side.ctl" ] && return 0
        kill -0 $! 2> /dev/null || hp_fail "hiked $side exited at start"
        sleep 0.05
    done
    hp_fail "hiked $side: no control socket after 5 s"
}

# hp_stop SIDE: SIGTERM, then hiked must exit 0 within 5 s (under ASan: without leaks).
hp_stop() {
    local side=$1 pid rc
    eval "pid=\$HP_PID_$side"
    [ -n "$pid" ] || return 0
    kill -TERM "$pid"
    timeout 5 tail --pid="$pid" -f /dev/null || hp_fail "$side did not stop within 5 s of SIGTERM"
    wait "$pid"
    rc=$?
    eval "HP_PID_$side="
    [ $rc = 0 ] || hp_fail "$side: exit status $rc after SIGTERM"
}

hp_ctl() {
    local side=$1
    shift
    timeout 10 "$HP_CTL" -s "$HP_T/$side.ctl" "$@"
}

hp_json() {
    local side=$1
    shift
    hp_ctl "$side" --json "$@"
}

# hp_wait SIDE EXPR [SECONDS]: polls list-sas --json every 0.1 s.
hp_wait() {
    local side=$1 expr=$2 end=$((SECONDS + ${3:-10}))
    while :; do
        hp_json "$side" list-sas 2> /dev/null |
            "$HP_PYTHON" -c "import json, sys; s = json.load(sys.stdin); sys.exit(0 if ($expr) else 1)" \
                2> /dev/null && return 0
        [ $SECONDS -ge $end ] && return 1
        sleep 0.1
    done
}

# hp_py CODE FILE...: runs Python CODE with j = [the JSON of each FILE]; exit status as CODE's.
hp_py() {
    local code=$1
    shift
    "$HP_PYTHON" -c "
import json, sys
j = [json.load(open(f)) for f in sys.argv[1:]]
$code" "$@"
}

# hp_tcp_transfer TAG SRV_ADDR CLI_ADDR [PACE]: b serves 2 MiB of random octets on
# SRV_ADDR:5001 (in 64 KiB writes PACE seconds apart, if PACE > 0), a fetches them from
# CLI_ADDR; succeeds when a got them all with b's SHA-256. Else $HP_T/TAG.xfer says what
# each side saw.
hp_tcp_transfer() {
    ns_tcp_transfer b "$2" a "$3" 2097152 5001 20 "${4:-0}" > "$HP_T/$1.xfer" 2>&1
}

ok() { echo "ok: $*"; }

hp_fail() {
    echo "FAIL: $*"
    local side
    for side in a b; do
        if [ -S "${HP_T:-/nonexistent}/$side.ctl" ]; then
            echo "--- $side: list-sas"
            timeout 3 "$HP_CTL" -s "$HP_T/$side.ctl" list-sas 2>&1
        fi
        if [ -f "${HP_T:-/nonexistent}/$side.log" ]; then
            echo "--- $side: hiked log (last 200 lines)"
            tail -n 200 "$HP_T/$side.log"
        fi
    done
    exit 1
}
