# shellcheck shell=bash
# libreswan's pluto (Debian's libreswan 4.10) as a test peer, the counterpart of charon.sh.
# Sourced after tests/net/lib/netns.sh (and netns_setup):
#
#   pluto_require                       # fetch + unpack the package (or skip)
#   pluto_conf west local=192.0.2.1 remote=192.0.2.2 local_id=@west remote_id=@east psk=...
#   pluto_start west west               # NAME NS
#   pluto_up west                       # whack --initiate (connection "net")
#   pluto_wait_ike west 1; pluto_whack west --rekey-ike --name net; pluto_down west
#   pluto_stop west
#
# The libreswan package conflicts with the strongSwan packages the other interop tests
# use, so it is never installed: `apt-get download libreswan` into
# $HIKE_BUILD_DIR/libreswan/cache, unpacked with `dpkg-deb -x` into
# $HIKE_BUILD_DIR/libreswan/root. pluto runs from there in the test's namespace and in a
# private mount namespace in which the unpacked /usr/libexec is bind-mounted over
# /usr/libexec (pluto runs /usr/libexec/ipsec/addconn at start-up, a path compiled in),
# the instance's run/ over /run (/run/pluto: control socket, pid file), and its own
# ipsec.conf, ipsec.secrets and ipsec.d over /etc's where those exist. Every other path
# is given on pluto's command line (--config, --secretsfile, --ipsecdir, --nssdir,
# --rundir); whack reaches the control socket from outside by its path.
#
# Each instance has $NETNS_WORK/pluto-NAME/ with ipsec.conf, ipsec.secrets, ipsec.d/,
# nss/ (its NSS database: certificates and keys), run/, pluto.log (pluto's log, with
# `plutodebug` from $PLUTO_DEBUG, default none) and pluto.out (stdout/stderr).

LSW_DIR=${LSW_DIR:-${HIKE_BUILD_DIR:-build}/libreswan}
LSW_ROOT=$LSW_DIR/root
LSW_BIN=$LSW_ROOT/usr/libexec/ipsec
PLUTO_DEBUG=${PLUTO_DEBUG:-none}
declare -gA PLUTO_PID=() PLUTO_NS=()
PLUTO_HOOKED=0

# pluto_require: the unpacked package, NSS tools and pluto's libraries; skips (with the
# reason) when the package cannot be fetched or pluto cannot run here. Missing libraries
# or NSS tools are installed with scripts/deps.sh interop when root (HIKE_NO_INSTALL=1
# forbids that).
pluto_require() {
    local t
    for t in apt-get dpkg-deb ldd flock; do
        command -v "$t" >/dev/null 2>&1 || skip "libreswan: '$t' not found (needs a Debian system)"
    done
    mkdir -p "$LSW_DIR" || fail "cannot create $LSW_DIR"
    # Tests may run at once: one fetch, the others wait for it.
    local lockfd
    exec {lockfd}>"$LSW_DIR/.lock"
    flock -w 120 "$lockfd" || fail "libreswan: $LSW_DIR/.lock held for 120 s"
    local rc=0
    _pluto_fetch || rc=$?
    exec {lockfd}>&-
    [ $rc -eq 0 ] || skip "libreswan package cannot be fetched or unpacked (apt-get download libreswan; see $LSW_DIR/fetch.log)"
    if ! _pluto_runnable && [ "${HIKE_NO_INSTALL:-0}" != 1 ] && [ "$(id -u)" -eq 0 ] &&
        [ -n "${HIKE_SOURCE_DIR:-}" ]; then
        bash "$HIKE_SOURCE_DIR/scripts/deps.sh" interop >"$LSW_DIR/deps.log" 2>&1 || true
    fi
    _pluto_runnable || skip "pluto cannot run here: $PLUTO_WHY"
    PLUTO_VERSION=$("$LSW_BIN/pluto" --version 2>&1 | head -1)
}

_pluto_fetch() {
    [ -x "$LSW_BIN/pluto" ] && [ -x "$LSW_BIN/whack" ] && [ -x "$LSW_BIN/addconn" ] && return 0
    local cache=$LSW_DIR/cache deb
    mkdir -p "$cache"
    {
        deb=$(ls "$cache"/libreswan_*.deb 2>/dev/null | head -1) || true
        if [ -z "$deb" ]; then
            # apt-get download writes into the current directory; as root it warns that
            # _apt cannot write there and downloads unsandboxed.
            (cd "$cache" && timeout 60 apt-get download libreswan) ||
                { [ "$(id -u)" -eq 0 ] && timeout 120 apt-get update -q &&
                    (cd "$cache" && timeout 60 apt-get download libreswan); } || return 1
            deb=$(ls "$cache"/libreswan_*.deb 2>/dev/null | head -1) || true
        fi
        [ -n "$deb" ] || return 1
        rm -rf "$LSW_ROOT.tmp" && dpkg-deb -x "$deb" "$LSW_ROOT.tmp" || return 1
        rm -rf "$LSW_ROOT" && mv "$LSW_ROOT.tmp" "$LSW_ROOT" || return 1
    } >"$LSW_DIR/fetch.log" 2>&1
}

_pluto_runnable() {
    local t missing
    for t in certutil pk12util; do
        command -v "$t" >/dev/null 2>&1 || { PLUTO_WHY="'$t' not found (package libnss3-tools)"; return 1; }
    done
    command -v openssl >/dev/null 2>&1 || { PLUTO_WHY="'openssl' not found"; return 1; }
    for t in pluto whack addconn; do
        missing=$(ldd "$LSW_BIN/$t" 2>&1 | grep 'not found' | awk '{print $1}' | tr '\n' ' ') || true
        [ -z "$missing" ] || { PLUTO_WHY="$t: libraries not found: $missing"; return 1; }
    done
    "$LSW_BIN/pluto" --version >/dev/null 2>&1 || { PLUTO_WHY="pluto --version fails"; return 1; }
}

pluto_dir() { echo "$NETNS_WORK/pluto-$1"; }
pluto_log() { echo "$(pluto_dir "$1")/pluto.log"; }
pluto_ctl() { echo "$(pluto_dir "$1")/run/pluto/pluto.ctl"; }

pluto_dump() {
    local d
    d=$(pluto_dir "$1")
    {
        echo "----- pluto $1: $d/pluto.log (and pluto.out)"
        cat "$d/pluto.out" "$d/pluto.log" 2>/dev/null | grep -v '^[A-Z][a-z][a-z] [ 0-9]* [0-9:.]*: | '
        echo "----- end of pluto $1"
    } >&2
}

_pluto_on_exit() {
    [ "$NETNS_STATUS" -eq 0 ] && return 0
    local n
    for n in "${!PLUTO_NS[@]}"; do pluto_dump "$n"; done
}

# pluto_nss NAME: creates the instance's NSS database (empty password) once.
pluto_nss() {
    local d
    d=$(pluto_dir "$1")
    [ -f "$d/nss/cert9.db" ] && return 0
    mkdir -p "$d/nss"
    certutil -N -d "sql:$d/nss" --empty-password >/dev/null 2>&1 || fail "pluto '$1': certutil -N"
}

# pluto_import NAME NICK CERT KEY [CA...]: puts CERT with its private key KEY (PEM) into
# the instance's NSS database as NICK (what leftcert= names), and each CA as a trust
# anchor for peer certificates ("CT,,").
pluto_import() {
    local name=$1 nick=$2 cert=$3 key=$4 d ca i=0
    shift 4
    d=$(pluto_dir "$name")
    pluto_nss "$name"
    openssl pkcs12 -export -in "$cert" -inkey "$key" -name "$nick" -passout pass: \
        -out "$d/$nick.p12" 2>"$d/import.log" || fail "pluto '$name': openssl pkcs12 -export $cert"
    pk12util -i "$d/$nick.p12" -d "sql:$d/nss" -W '' >>"$d/import.log" 2>&1 ||
        fail "pluto '$name': pk12util -i $nick.p12 ($(cat "$d/import.log"))"
    for ca in "$@"; do
        i=$((i + 1))
        certutil -A -d "sql:$d/nss" -n "ca$i-$(basename "$ca" .pem)" -t 'CT,,' -i "$ca" \
            >>"$d/import.log" 2>&1 || fail "pluto '$name': certutil -A $ca"
    done
}

# pluto_conf NAME KEY=VALUE...: writes the instance's ipsec.conf (one IKEv2 connection,
# auto=add) and ipsec.secrets. Keys [defaults]:
#   conn [net]  local remote (addresses, required)  local_id remote_id [%fromcert for cert]
#   auth [psk] (psk, or a cert authby: rsasig, ecdsa, or "rsasig,ecdsa")  psk  cert (NSS
#   nickname, see pluto_import)  local_ts remote_ts [empty: the host addresses]
#   ike [aes_gcm256-sha2_256-dh31]  esp [aes_gcm256]  ikelifetime [8h]  rekey [yes]
#   dpddelay [empty: no liveness]  retransmit_timeout [10s]  extra (raw lines for the conn)
#   setup (raw lines for config setup)
pluto_conf() {
    local name=$1 d
    shift
    local -A o=([conn]=net [local]="" [remote]="" [local_id]="" [remote_id]="" [auth]=psk
        [psk]="" [cert]="" [local_ts]="" [remote_ts]="" [ike]=aes_gcm256-sha2_256-dh31
        [esp]=aes_gcm256 [ikelifetime]=8h [rekey]=yes [dpddelay]="" [retransmit_timeout]=10s
        [extra]="" [setup]="")
    ns_conf_set pluto_conf "$@"
    [ -n "${o[local]}" ] && [ -n "${o[remote]}" ] || fail "pluto_conf: local= and remote= are required"
    d=$(pluto_dir "$name")
    mkdir -p "$d/ipsec.d" "$d/run"
    pluto_nss "$name"
    local lines="" authby
    if [ "${o[auth]}" = psk ]; then
        [ -n "${o[psk]}" ] || fail "pluto_conf: auth=psk needs psk="
        [ -n "${o[local_id]}" ] && [ -n "${o[remote_id]}" ] || fail "pluto_conf: psk needs local_id= and remote_id="
        authby=secret
        printf '%s %s : PSK "%s"\n' "${o[local_id]}" "${o[remote_id]}" "${o[psk]}" >"$d/ipsec.secrets"
    else
        [ -n "${o[cert]}" ] || fail "pluto_conf: auth=${o[auth]} needs cert="
        authby=${o[auth]}
        lines+="	leftcert=${o[cert]}
	leftsendcert=always
"
        : >"$d/ipsec.secrets"
    fi
    [ -n "${o[local_id]}" ] && lines+="	leftid=${o[local_id]}
"
    [ -n "${o[remote_id]}" ] && lines+="	rightid=${o[remote_id]}
"
    [ -n "${o[local_ts]}" ] && lines+="	leftsubnet=${o[local_ts]}
"
    [ -n "${o[remote_ts]}" ] && lines+="	rightsubnet=${o[remote_ts]}
"
    [ -n "${o[dpddelay]}" ] && lines+="	dpddelay=${o[dpddelay]}
"
    chmod 600 "$d/ipsec.secrets"
    cat >"$d/ipsec.conf" <<EOF
# written by tests/interop/lib/pluto.sh (instance "$name")
config setup
	logfile=$d/pluto.log
	logtime=yes
	logappend=yes
	plutodebug=$PLUTO_DEBUG
	dnssec-enable=no
${o[setup]}

conn ${o[conn]}
	ikev2=insist
	auto=add
	left=${o[local]}
	right=${o[remote]}
	authby=$authby
	ike=${o[ike]}
	esp=${o[esp]}
	ikelifetime=${o[ikelifetime]}
	rekey=${o[rekey]}
	retransmit-timeout=${o[retransmit_timeout]}
$lines${o[extra]}
EOF
}

# pluto_start NAME NS: starts pluto (foreground, --nofork) in namespace NS with the
# configuration pluto_conf wrote; ready when whack gets an answer and pluto listens on
# UDP 500 (10 s at most).
pluto_start() {
    local name=$1 ns=$2 d
    [ -z "${PLUTO_PID[$name]:-}" ] || fail "pluto '$name' already running"
    d=$(pluto_dir "$name")
    [ -f "$d/ipsec.conf" ] || fail "pluto '$name': no ipsec.conf (pluto_conf first)"
    mkdir -p "$d/run/pluto"
    if [ "$PLUTO_HOOKED" = 0 ]; then
        netns_on_cleanup _pluto_on_exit
        PLUTO_HOOKED=1
    fi
    # shellcheck disable=SC2016 # $0, $1 ... are the inner sh's
    ns_spawn "$ns" "$d/pluto.out" unshare -m --propagation private -- sh -c '
        d=$0 root=$1
        mount --bind "$d/run" /run || exit 1
        if [ -d /var/run ] && [ ! -L /var/run ]; then mount --bind "$d/run" /var/run || exit 1; fi
        mount --bind "$root/usr/libexec" /usr/libexec || exit 1
        for f in ipsec.conf ipsec.secrets ipsec.d; do
            [ -e "/etc/$f" ] && { mount --bind "$d/$f" "/etc/$f" || exit 1; }
        done
        exec /usr/libexec/ipsec/pluto --nofork --config "$d/ipsec.conf" \
            --secretsfile "$d/ipsec.secrets" --ipsecdir "$d/ipsec.d" --nssdir "$d/nss" \
            --rundir /run/pluto' "$d" "$LSW_ROOT"
    PLUTO_PID[$name]=$NS_LAST_PID
    PLUTO_NS[$name]=$ns
    wait_for 10 _pluto_ready "$name" || fail "pluto '$name' did not answer whack within 10 s"
    # pluto "revives" a connection it was told to bring up (whack --initiate) whenever its
    # IKE SA goes, at once and again and again: a failing case would loop. Off.
    pluto_whack "$name" --impair revival >/dev/null || fail "pluto '$name': whack --impair revival"
}

# pluto_childless NAME: from now on this pluto initiates IKE SAs without a Child SA (no
# SA, TSi, TSr in IKE_AUTH; RFC 6023). libreswan 4.10 has no configuration keyword for
# that, only the test "impair" omit-v2-ike-auth-child, global to the instance. It is
# the only way pluto can initiate here: a Child SA it negotiates cannot be installed
# (no ESP in this kernel) and pluto then drops the whole IKE SA without a Delete.
pluto_childless() {
    pluto_whack "$1" --impair omit-v2-ike-auth-child >/dev/null ||
        fail "pluto '$1': whack --impair omit-v2-ike-auth-child"
}

# pluto_liveness NAME: pluto sends one liveness check (empty INFORMATIONAL) on its newest
# IKE SA now (impair initiate-v2-liveness; pluto 4.10 schedules liveness checks only for
# Child SAs, see docs/interop.md) and waits for the outcome: whack's status is 0 when
# the peer answered; unanswered, pluto retransmits for retransmit_timeout, then logs
# "liveness action" and deletes the IKE SA.
pluto_liveness() {
    local s
    s=$(pluto_ike_serial "$1")
    [ -n "$s" ] || return 1
    pluto_whack "$1" --impair "initiate-v2-liveness:$s" >>"$(pluto_dir "$1")/whack.out" 2>&1
}

_pluto_ready() {
    kill -0 "${PLUTO_PID[$1]}" 2>/dev/null || return 1
    pluto_whack "$1" --status >/dev/null 2>&1 || return 1
    ns_exec "${PLUTO_NS[$1]}" ss -Hlun | grep -qE ':500\b'
}

# pluto_stop NAME: whack --shutdown, then TERM and KILL; fails if pluto had died.
pluto_stop() {
    local name=$1 pid=${PLUTO_PID[$1]:-}
    [ -n "$pid" ] || fail "pluto '$name' not started"
    kill -0 "$pid" 2>/dev/null || fail "pluto '$name' (pid $pid) had died"
    pluto_whack "$name" --shutdown >/dev/null 2>&1 || true
    wait_for 5 eval "! kill -0 $pid 2>/dev/null" || ns_kill "$pid" 3 || true
    wait "$pid" 2>/dev/null || true
    unset "PLUTO_PID[$name]"
}

pluto_alive() {
    local pid=${PLUTO_PID[$1]:-}
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# pluto_whack NAME ARGS...: whack ARGS against instance NAME (20 s at most).
pluto_whack() {
    local name=$1
    shift
    timeout "${PLUTO_WHACK_TIMEOUT:-20}" "$LSW_BIN/whack" --ctlsocket "$(pluto_ctl "$name")" "$@"
}

# pluto_up NAME [CONN]: whack --initiate, which waits for the outcome; its output goes to
# pluto-NAME/whack.out; the status is whack's (0 when the IKE SA, and the Child SA if
# one was asked for, are up).
pluto_up() {
    pluto_whack "$1" --initiate --name "${2:-net}" >>"$(pluto_dir "$1")/whack.out" 2>&1
}

# pluto_down NAME [CONN]: whack --terminate (deletes the connection's SAs).
pluto_down() {
    pluto_whack "$1" --terminate --name "${2:-net}" >>"$(pluto_dir "$1")/whack.out" 2>&1
}

# pluto_states NAME: whack --showstates, one state per line.
pluto_states() { pluto_whack "$1" --showstates 2>/dev/null | grep -E '^(000 )?#[0-9]+:' || true; }

# pluto_ike_count NAME: established IKE SAs; pluto_child_count NAME: established Child SAs.
pluto_ike_count() { pluto_states "$1" | grep -c 'ESTABLISHED_IKE_SA' || true; }
pluto_child_count() { pluto_states "$1" | grep -c 'ESTABLISHED_CHILD_SA' || true; }

# pluto_ike_serial NAME: the serial number (#N) of the newest established IKE SA.
pluto_ike_serial() {
    pluto_states "$1" | grep 'ESTABLISHED_IKE_SA' | sed -E 's/^(000 )?#([0-9]+):.*/\2/' | sort -n | tail -1
}

# pluto_wait_ike NAME N [SECONDS]: waits (default 5 s) until NAME has N established IKE SAs.
pluto_wait_ike() { wait_for "${3:-5}" eval "[ \"\$(pluto_ike_count $1)\" = $2 ]"; }

# pluto_logged NAME REGEX: REGEX (grep -E) is in NAME's log.
pluto_logged() { grep -qE -- "$2" "$(pluto_log "$1")"; }

# hiked_drop_children FILE: removes the children block from a configuration written by
# hiked_conf_psk or hiked_conf_cert: a childless connection (RFC 6023; daemon.childless
# is on by default). (Here rather than in hiked.sh: only the libreswan tests need it.)
hiked_drop_children() {
    awk '/^    children = \{/ { skip = 1 } !skip { print } skip && /^    \};/ { skip = 0 }' \
        "$1" >"$1.tmp" && mv "$1.tmp" "$1" || fail "hiked_drop_children $1"
    ! grep -q 'children' "$1" || fail "hiked_drop_children: children left in $1"
}

# hike_view NAME: hike's IKE SAs in one line: "N STATE CHILDREN ID ROLE PEER-TYPE PEER"
# of the only IKE SA when there is one (ROLE initiator/responder), else "N".
hike_view() {
    hiked_ctl "$1" --json list-sas | /usr/bin/python3 -c '
import json, sys
s = json.load(sys.stdin)
if len(s) != 1:
    print(len(s)); sys.exit()
a = s[0]
print(1, a["state"], len(a["children"]), a["id"], "initiator" if a["initiator"] else "responder",
      a["peer_id"]["type"], a["peer_id"]["value"])'
}

# hike_stat NAME KEY: ike.KEY of hikectl --json stats.
hike_stat() {
    hiked_ctl "$1" --json stats |
        /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["ike"].get(sys.argv[1], "absent"))' "$2"
}

# hike_logged NAME REGEX: REGEX (grep -E) is in hiked NAME's output.
hike_logged() { grep -qE -- "$2" "$(hiked_dir "$1")/hiked.out"; }
