#!/usr/bin/env bash
# hike <-> libreswan's pluto (4.10, Debian's package unpacked, not installed) with a
# pre-shared key, at the IKE level: this kernel has no ESP, so pluto cannot install a
# Child SA (hike can: its userspace ESP plane).
#   child: hike initiates with a Child SA; pluto's kernel refuses the ESP SA and pluto
#     answers IKE_AUTH with N(TS_UNACCEPTABLE): hike keeps the IKE SA (RFC 7296 1.2,
#     2.21.3); that IKE SA is rekeyed by hike, then by pluto, answers pluto's liveness
#     check, and hike deletes it
#   ts: pluto refuses hike's traffic selectors (TS_UNACCEPTABLE): hike's IKE SA stays up;
#     pluto deletes it
#   childless-hike: hike initiates without a Child SA (RFC 6023), pluto accepts; hike's
#     liveness checks (2.4) are answered, then hike notices pluto dead
#   childless-pluto: pluto initiates without a Child SA, hike must accept (RFC 6023 3)
#     although pluto, as initiator, does not send CHILDLESS_IKEV2_SUPPORTED; rekeys from
#     both sides; pluto notices hike dead
#   badpsk: the keys differ: AUTHENTICATION_FAILED either way, no SA left on either side
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${HIKE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
source "$src/tests/net/lib/netns.sh"
source "$here/lib/hiked.sh"
source "$here/lib/pluto.sh"

netns_setup 90
pluto_require
hiked_require
log "$PLUTO_VERSION"

# west: pluto, 192.0.2.1 (LAN 10.1.0.1); east: hike, 192.0.2.2 (LAN 10.2.0.1).
ns_create west east
ns_veth west:eth0:192.0.2.1/24 east:eth0:192.0.2.2/24
ns_addr west lo 10.1.0.1/32
ns_addr east lo 10.2.0.1/32
psk='hike <-> pluto: a psk of 33 chars'

# pluto: one connection for every case; retransmissions end after 3 s (dead peer).
pluto_conf west local=192.0.2.1 remote=192.0.2.2 local_id=@west.example.org \
    remote_id=@east.example.org psk="$psk" local_ts=10.1.0.0/24 remote_ts=10.2.0.0/24 \
    retransmit_timeout=3s
pluto_start west west

# east CASE [hiked_conf_psk keys]: a fresh hiked "e_CASE" in east (the previous one is
# stopped); short retransmissions (0.3 s, 2 tries) so that a dead peer is noticed fast.
H=
east() {
    local case=$1
    shift
    [ -z "$H" ] || hiked_stop "$H"
    H=e_$case
    hiked_conf_psk "$NETNS_WORK/$H.conf" name="$H" psk="$psk" local=192.0.2.2 remote=192.0.2.1 \
        local_id=east.example.org remote_id=west.example.org \
        extra_daemon='retransmit_timeout = "300ms"; retransmit_tries = 2;' "$@"
}
east_start() { hiked_start "$H" east "$NETNS_WORK/$H.conf"; }
hk() { hiked_ctl "$H" "$@"; }
view() { hike_view "$H"; }
# hike_up ROLE CHILDREN: hike has one IKE SA, ESTABLISHED, in ROLE, with CHILDREN Child SAs,
# and pluto's identity.
hike_up() {
    local n st ch id role t v
    read -r n st ch id role t v < <(view)
    [ "$n $st $ch $role $t $v" = "1 ESTABLISHED $2 $1 fqdn west.example.org" ]
}
hike_id() { view | awk '{print $4}'; }
hike_idle() { [ "$(view)" = 0 ]; }
hlog() { hike_logged "$H" "$1"; }
plog() { pluto_logged west "$1"; }
pluto_idle() { [ "$(pluto_ike_count west)" = 0 ] && [ -z "$(pluto_states west)" ]; }
# both_up ROLE: hike (in ROLE) and pluto have one established IKE SA each, no Child SA.
both_up() { hike_up "$1" 0 && [ "$(pluto_ike_count west)" = 1 ] && [ "$(pluto_child_count west)" = 0 ]; }

# count FILE REGEX: lines of FILE matching REGEX (grep -E).
count() { grep -cE -- "$2" "$1" || true; }
plog_n() { count "$(pluto_log west)" "$1"; }
hlog_n() { count "$(hiked_dir "$H")/hiked.out" "$1"; }

# rekey_by_hike CASE: hike rekeys its IKE SA (CREATE_CHILD_SA, 1.3.2): a new IKE SA on each
# side, of which hike is the original initiator (2.18).
rekey_by_hike() {
    local old n re='"net" #[0-9]+: responder rekeyed IKE SA #[0-9]+'
    old=$(hike_id)
    n=$(plog_n "$re")
    check "[$1] hike rekeys the IKE SA" hk rekey "$old"
    check "[$1] pluto: responder rekeyed IKE SA" wait_for 5 eval "[ \$(plog_n '$re') -gt $n ]"
    check "[$1] one new IKE SA on each side" \
        wait_for 5 eval "both_up initiator && [ \"\$(hike_id)\" != $old ]"
}
# rekey_by_pluto CASE: pluto rekeys its IKE SA (whack --rekey-ike waits for the exchange);
# hike becomes the responder of the new IKE SA.
rekey_by_pluto() {
    local old n m re='"net" #[0-9]+: initiator rekeyed IKE SA #[0-9]+' hre='\[net\] established by rekey'
    old=$(hike_id)
    n=$(plog_n "$re")
    m=$(hlog_n "$hre")
    check "[$1] pluto rekeys the IKE SA" eval 'pluto_whack west --rekey-ike --name net >>"$(pluto_dir west)/whack.out"'
    check "[$1] pluto: initiator rekeyed IKE SA" test "$(plog_n "$re")" -gt "$n"
    check "[$1] hike: IKE SA established by rekey" test "$(hlog_n "$hre")" -gt "$m"
    # pluto deletes the old IKE SA about a second after the rekey.
    check "[$1] one new IKE SA on each side, the old one deleted" \
        wait_for 5 eval "both_up responder && [ \"\$(hike_id)\" != $old ]"
}

# ================= child: pluto cannot install the Child SA =================
east child local_ts=10.2.0.0/24 remote_ts=10.1.0.0/24
east_start
check "[child] hike initiates with a Child SA" hk initiate net
check "[child] pluto: the kernel refuses the ESP SA" \
    wait_for 5 plog 'ERROR: "net" #[0-9]+: netlink response for Add SA esp\.[0-9a-f]+@192\.0\.2\.2: Function not implemented'
check "[child] pluto answers IKE_AUTH with N(TS_UNACCEPTABLE)" \
    wait_for 5 hlog 'recv IKE_AUTH response 1 \[ IDr AUTH N\(TS_UNACCEPTABLE\) \]'
check "[child] hike: child net not established" hlog 'child net not established: TS_UNACCEPTABLE'
check "[child] hike keeps the IKE SA, pluto too (no Child SA)" wait_for 5 both_up initiator
rekey_by_hike child
rekey_by_pluto child
check "[child] pluto's liveness check answered" pluto_liveness west
check "[child] hike answered an empty INFORMATIONAL" \
    hlog 'recv INFORMATIONAL request [0-9]+ \[ \]'
check "[child] hike deletes the IKE SA" hk terminate net
check "[child] hike: no SA" wait_for 5 hike_idle
check "[child] pluto: no SA" wait_for 5 pluto_idle

# ================= ts: pluto refuses the traffic selectors =================
east ts local_ts=10.2.0.0/24 remote_ts=10.9.0.0/24
east_start
check "[ts] hike initiates, asking for 10.9.0.0/24 behind pluto" hk initiate net
check "[ts] pluto: no connection with these traffic selectors" \
    wait_for 5 plog '"net" #[0-9]+: No IKEv2 connection found with compatible Traffic Selectors'
check "[ts] pluto answers IKE_AUTH with N(TS_UNACCEPTABLE)" \
    hlog 'recv IKE_AUTH response 1 \[ IDr AUTH N\(TS_UNACCEPTABLE\) \]'
check "[ts] hike keeps the IKE SA, pluto too" wait_for 5 both_up initiator
check "[ts] pluto deletes the IKE SA" pluto_down west
check "[ts] hike: deleted by peer" wait_for 5 hlog '\[net\] with 192\.0\.2\.1:500 deleted: deleted by peer'
check "[ts] hike: no SA" hike_idle
check "[ts] pluto: no SA" wait_for 5 pluto_idle

# ================= childless-hike: hike initiates without a Child SA =================
east childless_hike dpd_delay=1s
hiked_drop_children "$NETNS_WORK/$H.conf"
east_start
check "[childless-hike] hike initiates without a Child SA" hk initiate net
check "[childless-hike] hike's IKE_AUTH request has no SA, TSi, TSr" \
    wait_for 5 hlog 'send IKE_AUTH request 1 \[ IDi IDr AUTH N\(INITIAL_CONTACT\)( N\(CLONE_IKE_SA_SUPPORTED\))? \]'
check "[childless-hike] pluto: creating childless SA" \
    wait_for 5 plog '"net" #[0-9]+: IKE_AUTH request does not propose a Child SA; creating childless SA'
check "[childless-hike] pluto's answer: IDr AUTH" hlog 'recv IKE_AUTH response 1 \[ IDr AUTH \]'
check "[childless-hike] both up" wait_for 5 both_up initiator
check "[childless-hike] hike's liveness checks (1 s) answered" \
    wait_for 5 eval "hlog 'send INFORMATIONAL request [0-9]+ \[ \]' && hlog 'recv INFORMATIONAL response [0-9]+ \[ \]' && [ \$(hike_stat \$H dpd_sent) -ge 1 ]"
check "[childless-hike] still up" both_up initiator
kill -STOP "${PLUTO_PID[west]}"
check "[childless-hike] hike notices pluto dead and drops the IKE SA" wait_for 10 hike_idle
kill -CONT "${PLUTO_PID[west]}"
check "[childless-hike] hike counted a dead peer" test "$(hike_stat "$H" dpd_dead)" = 1
# pluto still holds the IKE SA hike gave up on.
check "[childless-hike] pluto forgets the stale IKE SA" pluto_down west
check "[childless-hike] pluto: no SA" wait_for 5 pluto_idle

# ================= childless-pluto: pluto initiates without a Child SA =================
east childless_pluto local_ts=10.2.0.0/24 remote_ts=10.1.0.0/24
east_start
pluto_childless west
check "[childless-pluto] pluto initiates without a Child SA" pluto_up west
check "[childless-pluto] pluto sent no Child SA payloads" plog '"net" #[0-9]+: omitting CHILD SA payloads'
check "[childless-pluto] hike got IKE_AUTH without SA, TSi, TSr" hlog 'recv IKE_AUTH request 1 \[ IDi IDr AUTH \]'
# RFC 6023 3: the responder that sent CHILDLESS_IKEV2_SUPPORTED answers with IDr and AUTH
# only. (hike 0.1 added N(INVALID_SYNTAX), which pluto 4.10 ignores: issue 18.)
check "[childless-pluto] hike's IKE_AUTH response: IDr AUTH, no error notify (RFC 6023 3)" \
    hlog 'send IKE_AUTH response 1 \[ IDr AUTH( N\(CLONE_IKE_SA_SUPPORTED\))? \]'
check "[childless-pluto] both up (hike responder)" wait_for 5 both_up responder
rekey_by_hike childless-pluto
rekey_by_pluto childless-pluto
kill -STOP "${HIKED_PID[$H]}"
check "[childless-pluto] pluto's liveness check to a stopped hike fails" eval '! pluto_liveness west'
kill -CONT "${HIKED_PID[$H]}"
check "[childless-pluto] pluto: liveness action" plog '"net" #[0-9]+: liveness action - putting connection into hold'
check "[childless-pluto] pluto: no SA" pluto_idle
hk terminate net >/dev/null || true
check "[childless-pluto] hike: no SA (its Delete unanswered)" wait_for 5 hike_idle

# ================= badpsk: the keys differ =================
# Either side finds the other's AUTH wrong: no SA may stay behind (RFC 7296 2.21.2).
east badpsk psk='not the psk pluto has, 33 chars!'
hiked_drop_children "$NETNS_WORK/$H.conf"
east_start
check "[badpsk] hike initiates" hk initiate net
check "[badpsk] pluto refuses hike's AUTH: AUTHENTICATION_FAILED" \
    wait_for 5 hlog 'recv IKE_AUTH response 1 \[ N\(AUTHENTICATION_FAILED\) \]'
check "[badpsk] hike: no SA" wait_for 5 hike_idle
check "[badpsk] pluto: no SA" wait_for 5 pluto_idle
# pluto is childless since the previous case.
pluto_up west || true
check "[badpsk] hike refuses pluto's AUTH: AUTHENTICATION_FAILED" \
    hlog 'send IKE_AUTH response 1 \[ N\(AUTHENTICATION_FAILED\) \]'
check "[badpsk] pluto: no SA" wait_for 5 pluto_idle
check "[badpsk] hike: no SA" wait_for 5 hike_idle
check "[badpsk] hike counted the failures" test "$(hike_stat "$H" auth_failures)" -ge 1

hiked_stop "$H"
pluto_stop west
log PASS
