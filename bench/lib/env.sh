# shellcheck shell=bash
# The benchmark world, sourced by bench/run.sh after tests/net/lib/netns.sh and
# tests/interop/lib/charon.sh (and netns_setup):
#
#   gen  10.9.0.1/24 + BENCH_NSRC source addresses 10.9.0.100...   (hike-load, charon initiator)
#   resp 10.9.0.2/24, 10.200.0.1/32 behind it                       (hiked or charon responder)
#
# Every SA asks for a virtual address (10.128.0.0/14 pool) and tunnels it to 10.200.0.0/16:
# the remote-access case, and selectors that never cover the IKE packets themselves
# (kernel-libipsec would otherwise route charon's own answers into the tunnel).
# Responder and generator are pinned to one CPU each (BENCH_CPU_RESP, BENCH_CPU_GEN).

BENCH_PSK=${BENCH_PSK:-bench-psk-5f2c9a0e71d3b864}
BENCH_NSRC=${BENCH_NSRC:-16}
BENCH_CPU_RESP=${BENCH_CPU_RESP:-1}
BENCH_CPU_GEN=${BENCH_CPU_GEN:-0}
BENCH_IKE=${BENCH_IKE:-aes256gcm16-prfsha256-x25519}
BENCH_ESP=${BENCH_ESP:-aes256gcm16}
RESP_ADDR=10.9.0.2
INNER_NET=10.200.0.0/16
VIP_POOL=10.128.0.0/14
declare -g RESP_PID=

bench_world() {
    ns_create gen resp
    ns_veth gen:eth0:10.9.0.1/24 resp:eth0:$RESP_ADDR/24
    local i addrs=()
    for ((i = 0; i < BENCH_NSRC; i++)); do addrs+=("10.9.0.$((100 + i))/24"); done
    ns_addr gen eth0 "$(IFS=,; echo "${addrs[*]}")"
    ns_addr resp lo 10.200.0.1/32
    BENCH_SRC="10.9.0.100-10.9.0.$((100 + BENCH_NSRC - 1))"
}

# bench_certs DIR: an ECDSA P-256 CA, the responder's and the generator's certificates.
bench_certs() {
    local d=$1
    mkdir -p "$d"
    (
        cd "$d" || exit 1
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
            -subj "/CN=hike bench CA" -keyout ca.key -out ca.pem 2>/dev/null
        for n in responder client; do
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
                -subj "/CN=$n.bench.example" -keyout $n.key.tmp -out $n.csr 2>/dev/null
            openssl pkcs8 -topk8 -nocrypt -in $n.key.tmp -out $n.key
            printf 'subjectAltName=DNS:%s.bench.example\n' $n >$n.ext
            openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 \
                -extfile $n.ext -out $n.pem 2>/dev/null
        done
    ) || fail "cannot make the benchmark certificates"
}

# cpu_ticks PID: user + system time in clock ticks (/proc/PID/stat fields 14 and 15).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# rss_kib PID: resident memory in KiB.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
TICKS=$(getconf CLK_TCK)

# hiked_responder AUTH DATAPLANE: starts hiked in resp (auth psk or cert), sets RESP_PID.
hiked_responder() {
    local auth=$1 dp=${2:-log} d=$NETNS_WORK/hiked
    mkdir -p "$d"
    local la ra
    if [ "$auth" = psk ]; then
        la='auth = "psk"; id = "responder.bench.example";'
        ra='auth = "psk";'
    else
        la="auth = \"pubkey\"; cert = \"$NETNS_WORK/pki/responder.pem\"; key = \"$NETNS_WORK/pki/responder.key\";"
        ra="auth = \"pubkey\"; ca = \"$NETNS_WORK/pki/ca.pem\";"
    fi
    cat >"$d/hiked.conf" <<EOF
daemon = { listen = ["$RESP_ADDR"]; log_level = "warn"; dataplane = "$dp";
  control_socket = "$d/hiked.ctl"; cookie_threshold = 1000000;
  half_open_per_address = 0; half_open_max = 0; };
pools = { vips = { addrs = "$VIP_POOL"; }; };
connections = { bench = {
  local_addrs = "$RESP_ADDR";
  local = { $la }; remote = { $ra };
  $([ "$auth" = psk ] && echo "psk = \"$BENCH_PSK\";")
  ike = ["$BENCH_IKE"]; rekey_time = 0; dpd_delay = 0; pools = ["vips"];
  max_ike_sas = 0; max_leases = 0; # every hike-load SA has one identity (charon: unique = never)
  children = { c = { local_ts = "$INNER_NET"; esp = ["$BENCH_ESP"]; rekey_time = 0; }; };
}; };
EOF
    # RESP_WRAP: a command hiked runs under (bench/ike_callgrind.sh: valgrind).
    ns_spawn resp "$d/hiked.log" taskset -c "$BENCH_CPU_RESP" ${RESP_WRAP:-} "$BENCH_BUILD/hiked" \
        -c "$d/hiked.conf"
    RESP_PID=$NS_LAST_PID
    wait_for "${RESP_START_WAIT:-5}" ns_exec resp ss -Hlun "sport = :500" || fail "hiked did not start"
}

# charon_responder AUTH: starts charon in resp (kernel-libipsec, anti-DoS off), sets RESP_PID.
charon_responder() {
    local auth=$1 d=$NETNS_WORK/charon.d
    rm -rf "$d"
    # Logging off, thresholds up, a hash table sized for 100,000 IKE SAs; routes for the
    # virtual addresses would be 100,000 kernel routes: off (hiked's userspace plane routes
    # the pool into its TUN device once).
    CHARON_LOG="default=-1" charon_start resp resp "
    threads = ${BENCH_CHARON_THREADS:-16}
    ikesa_table_size = 65536
    ikesa_table_segments = 16
    half_open_timeout = 60
    install_routes = no"
    local pool="pools = vips" common=(local=$RESP_ADDR remote=%any ike=$BENCH_IKE esp=$BENCH_ESP
        local_ts=$INNER_NET remote_ts=dynamic mobike=no)
    if [ "$auth" = psk ]; then
        charon_conf_psk "$d" "${common[@]}" local_id=responder.bench.example remote_id=%any \
            psk="$BENCH_PSK" extra_conn="unique = never
        $pool"
    else
        charon_conf_cert "$d" "${common[@]}" cert="$NETNS_WORK/pki/responder.pem" \
            key="$NETNS_WORK/pki/responder.key" cacerts="$NETNS_WORK/pki/ca.pem" \
            send_cert=always extra_conn="unique = never
        $pool"
    fi
    printf 'pools {\n    vips {\n        addrs = %s\n    }\n}\n' "$VIP_POOL" >>"$d/swanctl.conf"
    charon_load resp "$d"
    RESP_PID=${CHARON_PID[resp]}
    taskset -a -p -c "$BENCH_CPU_RESP" "$RESP_PID" >/dev/null
}

# stop_responder KIND: hiked or charon.
stop_responder() {
    if [ "$1" = charon ]; then charon_stop resp; else ns_kill "$RESP_PID" 10 || true; fi
    RESP_PID=
}

# hike_load AUTH OUT ARGS...: runs hike-load in gen (pinned), JSON summary into OUT.
hike_load() {
    local auth=$1 out=$2
    shift 2
    local a=(--psk "$BENCH_PSK")
    [ "$auth" = psk ] || a=(--cert "$NETNS_WORK/pki/client.pem" --key "$NETNS_WORK/pki/client.key"
        --ca "$NETNS_WORK/pki/ca.pem")
    ns_exec gen taskset -c "$BENCH_CPU_GEN" "$BENCH_BUILD/hike-load" -t $RESP_ADDR -s "$BENCH_SRC" \
        --vip --remote-ts $INNER_NET --ike "$BENCH_IKE" --esp "$BENCH_ESP" --json "${a[@]}" "$@" \
        >"$out" 2>"$out.err"
}

# json FILE EXPR: one value of hike-load's JSON summary (jq syntax).
json() { jq -r "$2" "$1"; }
