# shellcheck shell=bash
# strongSwan charon instances as test peers, one per network namespace. Sourced after
# tests/net/lib/netns.sh (and netns_setup):
#
#   charon_require                        # skips/fails if strongSwan is not installed
#   charon_start moon a                   # instance "moon" in namespace a
#   charon_conf_psk "$NETNS_WORK/moon.d" local=192.0.2.1 remote=192.0.2.2 ...
#   charon_load moon "$NETNS_WORK/moon.d"
#   charon_initiate moon net
#   charon_wait_child moon net INSTALLED 5
#   charon_stop moon
#
# Each instance has $NETNS_WORK/charon-NAME/ with strongswan.conf, charon.log (filelog),
# charon.out (stdout/stderr) and run/ (bind-mounted over /run for that charon only: its
# pid file and vici socket). swanctl reaches it from outside with --uri.
# kernel-libipsec provides ESP (userspace, TUN ipsec0, routes in table 220); it always
# encapsulates ESP in UDP on port 4500.

CHARON_BIN=${CHARON_BIN:-/usr/lib/ipsec/charon}
CHARON_PLUGINS=${CHARON_PLUGINS:-random nonce drbg aes sha1 sha2 hmac kdf gcm chapoly curve25519 openssl pem pkcs1 pkcs8 x509 pubkey revocation constraints kernel-libipsec kernel-netlink socket-default vici updown}
# Log levels of the instance's filelog (-1..4; 4 logs key material: see docs/interop.md).
CHARON_LOG=${CHARON_LOG:-default=1 ike=2 cfg=2 chd=2 knl=1 net=1 esp=1}
declare -gA CHARON_NS=() CHARON_PID=()
CHARON_HOOKED=0

charon_require() {
    if [ ! -x "$CHARON_BIN" ] || ! command -v swanctl >/dev/null 2>&1; then
        local deps="${HIKE_SOURCE_DIR:-.}/scripts/deps.sh"
        if [ "$(id -u)" -eq 0 ] && [ -f "$deps" ] && [ "${HIKE_NO_INSTALL:-0}" != 1 ]; then
            echo "strongSwan missing: running scripts/deps.sh interop"
            bash "$deps" interop >&2 || skip "strongSwan packages cannot be installed"
        else
            skip "strongSwan (charon, swanctl) not installed; run scripts/deps.sh interop as root"
        fi
        if [ ! -x "$CHARON_BIN" ] || ! command -v swanctl >/dev/null 2>&1; then
            fail "scripts/deps.sh interop ran but $CHARON_BIN or swanctl is still missing"
        fi
    fi
    local p
    for p in $CHARON_PLUGINS; do
        [ -e "/usr/lib/ipsec/plugins/libstrongswan-$p.so" ] ||
            fail "strongSwan plugin '$p' missing (libstrongswan-*-plugins packages)"
    done
}

charon_dir() { echo "$NETNS_WORK/charon-$1"; }
charon_uri() { echo "unix://$(charon_dir "$1")/run/charon.vici"; }
charon_log() { echo "$(charon_dir "$1")/charon.log"; }

# charon_swanctl NAME COMMAND [ARGS...]: swanctl COMMAND against instance NAME (the
# command must come first, swanctl's rule). Killed after $CHARON_SWANCTL_TIMEOUT s
# (default 30): swanctl waits forever for a charon that accepted but does not answer.
charon_swanctl() {
    local name=$1 cmd=$2
    shift 2
    STRONGSWAN_CONF="$(charon_dir "$name")/strongswan.conf" \
        timeout "${CHARON_SWANCTL_TIMEOUT:-30}" swanctl "$cmd" --uri "$(charon_uri "$name")" "$@"
}

# charon_dump NAME: prints the instance's log and output (to stderr).
charon_dump() {
    local d
    d=$(charon_dir "$1")
    {
        echo "----- charon $1: $d/charon.log"
        cat "$d/charon.log" 2>/dev/null
        if [ -s "$d/charon.out" ]; then
            echo "----- charon $1: $d/charon.out"
            cat "$d/charon.out"
        fi
        echo "----- end of charon $1"
    } >&2
}

_charon_on_exit() {
    [ "$NETNS_STATUS" -eq 0 ] && return 0
    local n
    for n in "${!CHARON_NS[@]}"; do charon_dump "$n"; done
}

# charon_write_conf NAME [EXTRA]: writes the instance's strongswan.conf. EXTRA is
# inserted into the charon { } section (settings or subsections).
charon_write_conf() {
    local name=$1 extra=${2:-} d
    d=$(charon_dir "$name")
    mkdir -p "$d/run"
    cat >"$d/strongswan.conf" <<EOF
# charon instance "$name" (tests/interop/lib/charon.sh)
charon {
    load_modular = no
    load = $CHARON_PLUGINS
    # Every initiate makes its own IKE SA; reauthentication builds the new SA first.
    reuse_ikesa = no
    make_before_break = yes
    # Fail fast in tests: about 1 + 1.4 + 2 s before a peer counts as dead.
    retransmit_timeout = 1.0
    retransmit_base = 1.4
    retransmit_tries = 3
    # No COOKIE or blocking from a single test peer that sets up many SAs.
    cookie_threshold = 100000
    cookie_threshold_ip = 100000
    block_threshold = 100000
    init_limit_half_open = 0
    dos_protection = no
    install_routes = yes
    # Keep the default of 16 threads: kernel-libipsec, the sockets, netlink and vici each
    # hold threads in blocking jobs; with 8, vici never answers.
    plugins {
        vici {
            socket = unix://$d/run/charon.vici
        }
    }
    filelog {
        charon {
            path = $d/charon.log
            time_format = %H:%M:%S
            time_add_ms = yes
            ike_name = yes
            append = no
            flush_line = yes
$(for l in $CHARON_LOG; do echo "            ${l%%=*} = ${l#*=}"; done)
        }
    }
    syslog {
        daemon {
            default = -1
        }
    }
$extra
}
# swanctl, run from outside with this file: only what parsing credentials needs.
swanctl {
    load = random nonce aes sha1 sha2 hmac pem pkcs1 pkcs8 pkcs12 x509 pubkey openssl curve25519 constraints revocation
}
EOF
}

# charon_start NAME NS [EXTRA]: writes strongswan.conf (EXTRA goes into its charon
# section), starts charon in namespace NS with its own /run, waits (10 s at most)
# until its vici socket answers.
charon_start() {
    local name=$1 ns=$2 extra=${3:-} d
    [ -z "${CHARON_PID[$name]:-}" ] || fail "charon '$name' already running"
    d=$(charon_dir "$name")
    charon_write_conf "$name" "$extra"
    rm -f "$d/run/charon.vici" "$d/run/charon.pid"
    if [ "$CHARON_HOOKED" = 0 ]; then
        netns_on_cleanup _charon_on_exit
        CHARON_HOOKED=1
    fi
    ns_spawn_run "$ns" "$d/run" "$d/charon.out" env STRONGSWAN_CONF="$d/strongswan.conf" "$CHARON_BIN"
    CHARON_PID[$name]=$NS_LAST_PID
    CHARON_NS[$name]=$ns
    if ! wait_for 10 _charon_ready "$name"; then
        fail "charon '$name' did not answer on $(charon_uri "$name") within 10 s"
    fi
}

_charon_ready() {
    kill -0 "${CHARON_PID[$1]}" 2>/dev/null || return 2
    CHARON_SWANCTL_TIMEOUT=2 charon_swanctl "$1" --stats >/dev/null 2>&1
}

# charon_stop NAME: SIGTERM, then SIGKILL after 5 s. Fails if charon had died before.
charon_stop() {
    local name=$1 pid=${CHARON_PID[$1]:-}
    [ -n "$pid" ] || fail "charon '$name' not started"
    if ! kill -0 "$pid" 2>/dev/null; then
        fail "charon '$name' (pid $pid) had died"
    fi
    ns_kill "$pid" 5 || echo "charon '$name' needed SIGKILL" >&2
    unset "CHARON_PID[$name]"
}

# charon_load NAME CONFDIR: loads CONFDIR/swanctl.conf (connections, secrets, and the
# credentials under CONFDIR/x509, private, ...) into instance NAME.
charon_load() {
    local name=$1 dir=$2 out
    [ -f "$dir/swanctl.conf" ] || fail "no $dir/swanctl.conf"
    # swanctl complains about each missing credential directory.
    (cd "$dir" && mkdir -p x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa ecdsa bliss pkcs8 pkcs12)
    if ! out=$(SWANCTL_DIR="$dir" charon_swanctl "$name" --load-all --noprompt --file "$dir/swanctl.conf" 2>&1) ||
        grep -qiE 'fail|error' <<<"$out"; then
        echo "$out" >&2
        fail "charon '$name': swanctl --load-all $dir/swanctl.conf"
    fi
}

# charon_initiate NAME CHILD [IKE] [TIMEOUT]: initiates Child SA CHILD (of connection
# IKE); returns swanctl's status. TIMEOUT in seconds, default 10.
charon_initiate() {
    local name=$1 child=$2 ike=${3:-} t=${4:-10}
    charon_swanctl "$name" --initiate --child "$child" ${ike:+--ike "$ike"} --timeout "$t"
}

# charon_initiate_ike NAME IKE [TIMEOUT]: initiates connection IKE without a Child SA
# of its own choosing (childless if the connection has no start child).
charon_initiate_ike() {
    local name=$1 ike=$2 t=${3:-10}
    charon_swanctl "$name" --initiate --ike "$ike" --timeout "$t"
}

# charon_terminate NAME IKE [TIMEOUT]: terminates every IKE SA of connection IKE.
charon_terminate() {
    local name=$1 ike=$2 t=${3:-10}
    charon_swanctl "$name" --terminate --ike "$ike" --timeout "$t"
}

# charon_list_sas NAME [ARGS...]: swanctl --list-sas (ARGS e.g. --raw, --ike X).
charon_list_sas() {
    local name=$1
    shift
    charon_swanctl "$name" --list-sas "$@"
}

# charon_ike_state NAME IKE: state of the first IKE SA of connection IKE
# (ESTABLISHED, CONNECTING, ...), empty if none.
charon_ike_state() {
    charon_list_sas "$1" --ike "$2" 2>/dev/null |
        sed -n "s/^$2: #[0-9]*, \([A-Z_]*\),.*/\1/p" | head -n1
}

# charon_child_state NAME CHILD: state of the first Child SA named CHILD
# (INSTALLED, REKEYED, ...), empty if none.
charon_child_state() {
    charon_list_sas "$1" 2>/dev/null |
        sed -n "s/^  $2: #[0-9]*, reqid [0-9]*, \([A-Z_]*\),.*/\1/p" | head -n1
}

# charon_spis NAME: "IN... | OUT..." the inbound and outbound ESP SPIs (hex, as
# swanctl prints them) of all of the instance's Child SAs.
charon_spis() {
    charon_list_sas "$1" --raw | /usr/bin/python3 -c '
import re, sys
t = sys.stdin.read()
i = re.findall(r"spi-in=([0-9a-f]+)", t); o = re.findall(r"spi-out=([0-9a-f]+)", t)
print(" ".join(i), "|", " ".join(o))'
}

# charon_ike_count NAME: number of IKE SAs instance NAME has.
charon_ike_count() {
    charon_list_sas "$1" 2>/dev/null | grep -cE '^[^ ].*: #[0-9]+, [A-Z_]+, IKEv'
}

# charon_wait_ike NAME IKE STATE [TIMEOUT]: waits (default 5 s) until the first IKE SA
# of connection IKE is in STATE ("" = none left). charon_wait_child NAME CHILD STATE
# [TIMEOUT] likewise for a Child SA. charon_wait_idle NAME [TIMEOUT]: no IKE SA left.
charon_wait_ike() { wait_for "${4:-5}" _charon_state_is "$3" charon_ike_state "$1" "$2"; }
charon_wait_child() { wait_for "${4:-5}" _charon_state_is "$3" charon_child_state "$1" "$2"; }
charon_wait_idle() { wait_for "${2:-5}" _charon_state_is 0 charon_ike_count "$1"; }
_charon_state_is() {
    local want=$1
    shift
    [ "$("$@")" = "$want" ]
}

# charon_conf_psk DIR KEY=VALUE...: writes DIR/swanctl.conf with one PSK connection
# and its secret. Keys (defaults in brackets):
#   conn [net]  child [net]  local remote (addresses, required)
#   local_id [local]  remote_id [remote]  psk [hike-interop-test-psk-0123456789]
#   local_ts remote_ts [dynamic]  ike [aes256gcm16-prfsha256-x25519]  esp [aes256gcm16]
#   mode [tunnel]  start_action [none]  mobike [yes]  encap [no]  version [2]
#   rekey_time [0 = off]  child_rekey [0 = off]  dpd_delay [0s]  fragmentation [yes]
#   extra_conn / extra_child: raw lines added to the connection / child section.
charon_conf_psk() {
    local dir=$1
    shift
    local -A o=([conn]=net [child]=net [local]="" [remote]="" [local_ts]=dynamic [remote_ts]=dynamic
        [ike]=aes256gcm16-prfsha256-x25519 [esp]=aes256gcm16 [mode]=tunnel [start_action]=none
        [mobike]=yes [encap]=no [version]=2 [rekey_time]=0 [child_rekey]=0 [dpd_delay]=0s
        [fragmentation]=yes [extra_conn]="" [extra_child]=""
        [local_id]=local [remote_id]=remote [psk]=hike-interop-test-psk-0123456789)
    _charon_set charon_conf_psk "$@"
    mkdir -p "$dir"
    _charon_write "$dir" "        local {
            auth = psk
            id = ${o[local_id]}
        }
        remote {
            auth = psk
            id = ${o[remote_id]}
        }" "secrets {
    ike-${o[conn]} {
        id-1 = ${o[local_id]}
        id-2 = ${o[remote_id]}
        secret = \"${o[psk]}\"
    }
}"
}

# charon_conf_cert DIR KEY=VALUE...: writes DIR/swanctl.conf with one connection that
# authenticates with certificates (auth = pubkey), and copies the credentials into DIR's
# swanctl directories, where charon_load finds them: cert -> x509/, key -> private/
# (PKCS#8, RSA or ECDSA), each of cacerts -> x509ca/ (trust anchors and the intermediates
# charon sends along with its certificate: it sends the chain it builds to a loaded CA).
# Keys: those of charon_conf_psk except psk, with these defaults changed or added:
#   cert key (files, required)  cacerts (comma-separated files) [none]
#   local_id [empty: the subject DN of cert]  remote_id [%any]
#   local_auth remote_auth [pubkey] (pubkey accepts any signature scheme; e.g.
#     pubkey-sha256 or rsa/pss-sha256 restricts it)
#   remote_cacerts [none]: file names under x509ca/ the peer's chain must include
#   send_cert [ifasked]  send_certreq [yes]
charon_conf_cert() {
    local dir=$1
    shift
    local -A o=([conn]=net [child]=net [local]="" [remote]="" [local_ts]=dynamic [remote_ts]=dynamic
        [ike]=aes256gcm16-prfsha256-x25519 [esp]=aes256gcm16 [mode]=tunnel [start_action]=none
        [mobike]=yes [encap]=no [version]=2 [rekey_time]=0 [child_rekey]=0 [dpd_delay]=0s
        [fragmentation]=yes [extra_conn]="" [extra_child]=""
        [local_id]="" [remote_id]=%any
        [cert]="" [key]="" [cacerts]="" [local_auth]=pubkey [remote_auth]=pubkey
        [remote_cacerts]="" [send_cert]=ifasked [send_certreq]=yes)
    local f
    _charon_set charon_conf_cert "$@"
    [ -n "${o[cert]}" ] && [ -n "${o[key]}" ] || fail "charon_conf_cert: cert= and key= are required"
    local lid="" rca=""
    [ -z "${o[local_id]}" ] || lid="id = \"${o[local_id]}\""
    [ -z "${o[remote_cacerts]}" ] || rca="cacerts = ${o[remote_cacerts]}"
    mkdir -p "$dir/x509" "$dir/x509ca" "$dir/private"
    cp "${o[cert]}" "$dir/x509/" || fail "charon_conf_cert: cannot copy ${o[cert]}"
    cp "${o[key]}" "$dir/private/" || fail "charon_conf_cert: cannot copy ${o[key]}"
    for f in ${o[cacerts]//,/ }; do
        cp "$f" "$dir/x509ca/" || fail "charon_conf_cert: cannot copy $f"
    done
    _charon_write "$dir" "        send_cert = ${o[send_cert]}
        send_certreq = ${o[send_certreq]}
        local {
            auth = ${o[local_auth]}
            certs = $(basename "${o[cert]}")
            $lid
        }
        remote {
            auth = ${o[remote_auth]}
            id = \"${o[remote_id]}\"
            $rca
        }" ""
}

# _charon_set WHO KEY=VALUE...: sets the caller's option array o (bash scopes are dynamic),
# refusing keys it does not have; checks what every connection needs.
_charon_set() {
    ns_conf_set "$@"
    [ -n "${o[local]}" ] && [ -n "${o[remote]}" ] || fail "$1: local= and remote= are required"
}

# _charon_write DIR AUTH AFTER: DIR/swanctl.conf from the caller's o, with AUTH (the lines
# that say how each side authenticates) in the connection and AFTER (secrets) at the end.
_charon_write() {
    local auth=$2 after=$3
    cat >"$1/swanctl.conf" <<EOF
connections {
    ${o[conn]} {
        version = ${o[version]}
        local_addrs = ${o[local]}
        remote_addrs = ${o[remote]}
        proposals = ${o[ike]}
        mobike = ${o[mobike]}
        encap = ${o[encap]}
        fragmentation = ${o[fragmentation]}
        rekey_time = ${o[rekey_time]}
        dpd_delay = ${o[dpd_delay]}
$auth
        children {
            ${o[child]} {
                mode = ${o[mode]}
                local_ts = ${o[local_ts]}
                remote_ts = ${o[remote_ts]}
                esp_proposals = ${o[esp]}
                rekey_time = ${o[child_rekey]}
                start_action = ${o[start_action]}
${o[extra_child]}
            }
        }
${o[extra_conn]}
    }
}
$after
EOF
}
