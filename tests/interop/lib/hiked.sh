# shellcheck shell=bash
# hiked instances as test peers, the counterpart of charon.sh. PROVISIONAL: written
# before hiked exists, from what is known of it (a binary taking -c CONFIG, the config
# model of src/config). Check readiness and options when it lands. Sourced after
# tests/net/lib/netns.sh (and netns_setup):
#
#   hiked_require
#   hiked_conf_psk "$NETNS_WORK/hike.conf" local=192.0.2.1 remote=192.0.2.2 ...
#   hiked_start hike a "$NETNS_WORK/hike.conf"
#   ...  charon side: charon_start / charon_conf_psk / charon_load / charon_initiate
#   hiked_stop hike
#
# Each instance has $NETNS_WORK/hiked-NAME/ with hiked.out (stdout/stderr), run/
# (bind-mounted over /run for that hiked only), and its control socket and keylog
# there when the config comes from hiked_conf_psk.

HIKED_BIN=${HIKED_BIN:-${HIKE_BUILD_DIR:-build}/hiked}
HIKECTL_BIN=${HIKECTL_BIN:-${HIKECTL:-$(dirname "$HIKED_BIN")/hikectl}}
declare -gA HIKED_PID=() HIKED_NS=()
HIKED_HOOKED=0

hiked_require() {
    [ -x "$HIKED_BIN" ] || fail "hiked not built: $HIKED_BIN (set HIKE_BUILD_DIR or HIKED_BIN)"
}

hiked_dir() { echo "$NETNS_WORK/hiked-$1"; }

hiked_dump() {
    local d
    d=$(hiked_dir "$1")
    {
        echo "----- hiked $1: $d/hiked.out"
        cat "$d/hiked.out" 2>/dev/null
        echo "----- end of hiked $1"
    } >&2
}

_hiked_on_exit() {
    [ "$NETNS_STATUS" -eq 0 ] && return 0
    local n
    for n in "${!HIKED_NS[@]}"; do hiked_dump "$n"; done
}

# hiked_start NAME NS CONFIG [ARGS...]: starts hiked -c CONFIG [ARGS] in namespace NS
# with its own /run; ready when it listens on UDP 500 and 4500 (10 s at most).
hiked_start() {
    local name=$1 ns=$2 conf=$3 d
    shift 3
    [ -z "${HIKED_PID[$name]:-}" ] || fail "hiked '$name' already running"
    [ -f "$conf" ] || fail "hiked '$name': no config $conf"
    d=$(hiked_dir "$name")
    mkdir -p "$d/run"
    if [ "$HIKED_HOOKED" = 0 ]; then
        netns_on_cleanup _hiked_on_exit
        HIKED_HOOKED=1
    fi
    ns_spawn_run "$ns" "$d/run" "$d/hiked.out" "$HIKED_BIN" -c "$conf" "$@"
    HIKED_PID[$name]=$NS_LAST_PID
    HIKED_NS[$name]=$ns
    wait_for 10 _hiked_ready "$name" ||
        fail "hiked '$name' did not start listening on UDP 500/4500 within 10 s"
}

_hiked_ready() {
    kill -0 "${HIKED_PID[$1]}" 2>/dev/null || return 1
    local ports
    ports=$(ns_exec "${HIKED_NS[$1]}" ss -Hlun) || return 1
    grep -qE ':500\b' <<<"$ports" && grep -qE ':4500\b' <<<"$ports"
}

# hiked_stop NAME: SIGTERM, SIGKILL after 5 s. Fails if hiked had died before, or if
# it needed SIGKILL.
hiked_stop() {
    local name=$1 pid=${HIKED_PID[$1]:-}
    [ -n "$pid" ] || fail "hiked '$name' not started"
    kill -0 "$pid" 2>/dev/null || fail "hiked '$name' (pid $pid) had died"
    ns_kill "$pid" 5 || fail "hiked '$name' ignored SIGTERM for 5 s"
    unset "HIKED_PID[$name]"
}

# hiked_alive NAME: true while the instance runs.
hiked_alive() {
    local pid=${HIKED_PID[$1]:-}
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# hiked_ctl NAME ARGS...: hikectl ARGS against instance NAME (10 s at most).
hiked_ctl() {
    local name=$1
    shift
    timeout 10 "$HIKECTL_BIN" -s "$(hiked_dir "$name")/run/hiked.ctl" "$@"
}

# hiked_sa NAME: "STATE CHILD-STATE SPI-IN SPI-OUT IKE-NAME IKE-ID CHILD-ID" of the
# instance's only IKE SA and its only Child SA, or "none N" (N IKE SAs) otherwise.
hiked_sa() {
    hiked_ctl "$1" --json list-sas | /usr/bin/python3 -c '
import json, sys
s = json.load(sys.stdin)
if len(s) != 1 or len(s[0]["children"]) != 1:
    print("none %d" % len(s)); sys.exit()
c = s[0]["children"][0]
print(s[0]["state"], c["state"], c["spi_in"], c["spi_out"], s[0]["name"], s[0]["id"], c["id"])'
}

# hiked_charon_agree HIKED CHARON [CHILD]: both have one IKE SA, established, with one
# installed Child SA (charon's named CHILD, default net), and their SPIs cross.
hiked_charon_agree() {
    local st cst in out
    read -r st cst in out _ < <(hiked_sa "$1")
    [ "$st" = ESTABLISHED ] && [ "$cst" = INSTALLED ] || return 1
    [ "$(charon_ike_count "$2")" = 1 ] || return 1
    [ "$(charon_child_state "$2" "${3:-net}")" = INSTALLED ] || return 1
    [ "$(charon_spis "$2")" = "$out | $in" ]
}

# hiked_charon_net: namespaces moon (for charon) and sun (for hiked) joined by a veth
# pair, 192.0.2.1/24 (moon) and 192.0.2.2/24 (sun) on eth0, and each side's LAN address
# on lo, 10.1.0.1 (moon) and 10.2.0.1 (sun): charon routes the tunnel through table 220
# with a source address in its local subnet.
hiked_charon_net() {
    ns_create moon sun
    ns_veth moon:eth0:192.0.2.1/24 sun:eth0:192.0.2.2/24
    ns_addr moon lo 10.1.0.1/32
    ns_addr sun lo 10.2.0.1/32
}

# hiked_charon_psk PSK [KEY=VALUE...]: after hiked_charon_net, charon "moon" and hiked
# "sun" (control socket under hiked_dir sun) with mirrored PSK connections "net",
# moon.example.org with 10.1.0.0/24 <-> sun.example.org with 10.2.0.0/24, neither
# started. The keys go to hiked_conf_psk after these (and override them).
hiked_charon_psk() {
    local psk=$1
    shift
    charon_start moon moon
    charon_conf_psk "$NETNS_WORK/moon.d" psk="$psk" local=192.0.2.1 remote=192.0.2.2 \
        local_id=moon.example.org remote_id=sun.example.org \
        local_ts=10.1.0.0/24 remote_ts=10.2.0.0/24
    charon_load moon "$NETNS_WORK/moon.d"
    hiked_conf_psk "$NETNS_WORK/sun.conf" name=sun psk="$psk" local=192.0.2.2 remote=192.0.2.1 \
        local_id=sun.example.org remote_id=moon.example.org \
        local_ts=10.2.0.0/24 remote_ts=10.1.0.0/24 "$@"
    hiked_start sun sun "$NETNS_WORK/sun.conf"
}

# hiked_conf_psk FILE KEY=VALUE...: writes a hiked.conf with one PSK connection. Same
# keys and defaults as charon_conf_psk, so that the two sides of a test mirror each
# other, plus: name [instance name, for the control socket and keylog under
# $NETNS_WORK/hiked-NAME; default: the file's stem]  log_level [debug]
# extra_daemon: raw lines for the daemon section.
hiked_conf_psk() {
    local file=$1
    shift
    local -A o=([conn]=net [child]=net [local]="" [remote]="" [local_ts]=dynamic [remote_ts]=dynamic
        [ike]=aes256gcm16-prfsha256-x25519 [esp]=aes256gcm16 [mode]=tunnel [start_action]=none
        [mobike]=no [encap]=no [version]=2 [rekey_time]=0 [child_rekey]=0 [dpd_delay]=0s
        [fragmentation]=yes [extra_conn]="" [extra_child]="" [name]="" [log_level]=debug [extra_daemon]=""
        [local_id]=local [remote_id]=remote [psk]=hike-interop-test-psk-0123456789)
    _hiked_set hiked_conf_psk "$@"
    _hiked_write "$file" "local  = { auth = \"psk\"; id = \"${o[local_id]}\"; };
    remote = { auth = \"psk\"; id = \"${o[remote_id]}\"; };
    psk = \"${o[psk]}\";"
}

# hiked_conf_cert FILE KEY=VALUE...: writes a hiked.conf with one connection that
# authenticates with certificates (local/remote auth = "pubkey"). Keys: those of
# hiked_conf_psk except psk, with these changed or added:
#   cert key (files, required)  certs (comma-separated intermediates sent with cert) [none]
#   ca (comma-separated trust anchors) [none]  remote_cert (pinned peer certificate) [none]
#   (ca or remote_cert is required)
#   local_id [empty: the subject DN of cert]  remote_id [empty: %any]
#   signature [rfc7427] (or classic)
hiked_conf_cert() {
    local file=$1
    shift
    local -A o=([conn]=net [child]=net [local]="" [remote]="" [local_ts]=dynamic [remote_ts]=dynamic
        [ike]=aes256gcm16-prfsha256-x25519 [esp]=aes256gcm16 [mode]=tunnel [start_action]=none
        [mobike]=no [encap]=no [version]=2 [rekey_time]=0 [child_rekey]=0 [dpd_delay]=0s
        [fragmentation]=yes [extra_conn]="" [extra_child]="" [name]="" [log_level]=debug [extra_daemon]=""
        [local_id]="" [remote_id]="" [cert]="" [key]="" [certs]="" [ca]="" [remote_cert]=""
        [signature]=rfc7427)
    _hiked_set hiked_conf_cert "$@"
    [ -n "${o[cert]}" ] && [ -n "${o[key]}" ] || fail "hiked_conf_cert: cert= and key= are required"
    [ -n "${o[ca]}${o[remote_cert]}" ] || fail "hiked_conf_cert: ca= or remote_cert= is required"
    local lopt="" ropt=""
    [ -z "${o[local_id]}" ] || lopt+=" id = \"${o[local_id]}\";"
    [ -z "${o[certs]}" ] || lopt+=" certs = [$(_hk_list "${o[certs]}")];"
    [ -z "${o[remote_id]}" ] || ropt+=" id = \"${o[remote_id]}\";"
    [ -z "${o[ca]}" ] || ropt+=" ca = [$(_hk_list "${o[ca]}")];"
    [ -z "${o[remote_cert]}" ] || ropt+=" cert = \"${o[remote_cert]}\";"
    _hiked_write "$file" "local  = { auth = \"pubkey\"; cert = \"${o[cert]}\"; key = \"${o[key]}\";
               signature = \"${o[signature]}\";$lopt };
    remote = { auth = \"pubkey\";$ropt };"
}

_hk_list() { # "a,b c" -> "a", "b", "c"
    local out="" x
    for x in ${1//,/ }; do out+="${out:+, }\"$x\""; done
    echo "$out"
}
_hk_bool() { case "$1" in yes | true | 1) echo true ;; *) echo false ;; esac; }

# _hiked_set WHO KEY=VALUE...: sets the caller's option array o (bash scopes are dynamic),
# refusing keys it does not have; checks what every connection needs.
_hiked_set() {
    ns_conf_set "$@"
    [ -n "${o[local]}" ] && [ -n "${o[remote]}" ] || fail "$1: local= and remote= are required"
    [ "${o[version]}" = 2 ] || fail "$1: hike speaks IKEv2 only"
}

# _hiked_write FILE AUTH: writes the configuration the caller's o describes, with AUTH (the
# lines that say how each side authenticates) in the connection.
_hiked_write() {
    local file=$1 auth=$2 name=${o[name]:-$(basename "${1%.*}")} d ts_l="" ts_r=""
    d=$(hiked_dir "$name")
    mkdir -p "$d" "$(dirname "$file")"
    [ "${o[local_ts]}" = dynamic ] || ts_l="local_ts = [$(_hk_list "${o[local_ts]}")];"
    [ "${o[remote_ts]}" = dynamic ] || ts_r="remote_ts = [$(_hk_list "${o[remote_ts]}")];"
    cat >"$file" <<EOF
# hiked.conf written by tests/interop/lib/hiked.sh (instance "$name")
daemon = {
  listen = [$(_hk_list "${o[local]}")];
  log_level = "${o[log_level]}";
  control_socket = "$d/run/hiked.ctl";
  keylog_dir = "$d/keylog";
  fragmentation = $(_hk_bool "${o[fragmentation]}");
${o[extra_daemon]}
};

connections = {
  ${o[conn]} = {
    local_addrs = "${o[local]}";
    remote_addrs = "${o[remote]}";
    $auth
    ike = [$(_hk_list "${o[ike]}")];
    rekey_time = "${o[rekey_time]}";
    dpd_delay = "${o[dpd_delay]}";
    mobike = $(_hk_bool "${o[mobike]}");
    encap = $(_hk_bool "${o[encap]}");
    start_action = "${o[start_action]}";
${o[extra_conn]}
    children = {
      ${o[child]} = {
        $ts_l
        $ts_r
        esp = [$(_hk_list "${o[esp]}")];
        mode = "${o[mode]}";
        rekey_time = "${o[child_rekey]}";
${o[extra_child]}
      };
    };
  };
};
EOF
}
