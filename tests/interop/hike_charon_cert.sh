#!/usr/bin/env bash
# hike <-> strongSwan charon (5.9.x) with certificates (RFC 7296 2.15, 3.6, 3.7; RFC 7427),
# on a PKI made at run time by certgen_tool: root CA -> intermediate -> end entities
# moon.example.org (charon) and sun.example.org (hike), each side sending its certificate
# and the intermediate as CERT payloads. charon (fragment_size 576) and hike (576 octets on
# IPv4) both fragment their IKE_AUTH messages (RFC 7383), which each side reassembles.
#   ECDSA P-256, FQDN identities, hike initiator then responder
#   RSA-2048, FQDN identities, hike initiator then responder (with a capture: fragments)
#   ECDSA P-256, DN identities (each side's default: its certificate's subject)
#   a PSK connection listed first in hike's configuration: charon (send_cert = ifasked) is
#   still asked for its certificate (CERTREQ) and authenticates with it
#   hike trusts another CA: no SA on either side, hike counts authentication failures
#   charon trusts another CA: hike's SA goes (AUTHENTICATION_FAILED, 2.21.2)
# The last check fails with hike 0.1: as responder, hike keeps its IKE SA when the
# initiator (charon) rejects it with INFORMATIONAL [ N(AUTHENTICATION_FAILED) ] and no
# Delete (see the comment there). Everything before it is expected to pass.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${HIKE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
source "$src/tests/net/lib/netns.sh"
source "$here/lib/charon.sh"
source "$here/lib/hiked.sh"
source "$here/lib/capture.sh"

netns_setup 85
charon_require
hiked_require
bin=$(dirname "$HIKED_BIN")
CERTGEN=${CERTGEN:-$bin/certgen_tool}
[ -x "$CERTGEN" ] || fail "certgen_tool not built: $CERTGEN"
PY=/usr/bin/python3

hiked_charon_net

# --- PKIs: ec and rsa (CA, intermediate, moon and sun), other (another CA, same names) ---
pki=$NETNS_WORK/pki
mkdir -p "$pki"
for p in ec:p256 rsa:rsa other:p256; do
    "$CERTGEN" -k "${p#*:}" -c "${p#*:}" -i "$pki/${p%%:*}" moon.example.org sun.example.org \
        >/dev/null || fail "certgen_tool: PKI ${p%%:*}"
done

# Charon's strongswan.conf: IKE fragments of at most 576 octets (RFC 7383 2.5.1).
CHARON_EXTRA='fragment_size = 576'

# setup CASE PKI [charon keys...] -- [hiked keys...]: a fresh charon "moon_CASE" and hiked
# "sun_CASE" with certificates from PKI ($pki/PKI); the keys override the defaults.
setup() {
    local case=$1 p=$pki/$2
    shift 2
    local ck=() hk_=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do ck+=("$1"); shift; done
    [ $# -eq 0 ] || shift
    hk_=("$@")
    M=moon_$case S=sun_$case
    charon_start "$M" moon "$CHARON_EXTRA"
    charon_conf_cert "$NETNS_WORK/$M.d" local=192.0.2.1 remote=192.0.2.2 \
        cert="$p/moon.example.org.pem" key="$p/moon.example.org.key" \
        cacerts="$p/ca.pem,$p/inter.pem" local_id=moon.example.org remote_id=sun.example.org \
        local_ts=10.1.0.0/24 remote_ts=10.2.0.0/24 "${ck[@]}"
    charon_load "$M" "$NETNS_WORK/$M.d"
    hiked_conf_cert "$NETNS_WORK/$S.conf" local=192.0.2.2 remote=192.0.2.1 \
        cert="$p/sun.example.org.pem" key="$p/sun.example.org.key" certs="$p/inter.pem" \
        ca="$p/ca.pem" local_id=sun.example.org remote_id=moon.example.org \
        local_ts=10.2.0.0/24 remote_ts=10.1.0.0/24 "${hk_[@]}"
    [ -z "${HIKED_CONF_HOOK:-}" ] || "$HIKED_CONF_HOOK" "$NETNS_WORK/$S.conf"
    hiked_start "$S" sun "$NETNS_WORK/$S.conf"
}
teardown() {
    hiked_stop "$S"
    charon_stop "$M"
}
hk() { hiked_ctl "$S" "$@"; }

# hike's view: "STATE CHILD-STATE SPI-IN SPI-OUT PEER-ID-TYPE PEER-ID" of its only IKE SA
# and child (or "none N").
hike_sa() {
    hk --json list-sas | "$PY" -c '
import json, sys
s = json.load(sys.stdin)
if len(s) != 1 or len(s[0]["children"]) != 1:
    print("none %d" % len(s)); sys.exit()
c = s[0]["children"][0]
print(s[0]["state"], c["state"], c["spi_in"], c["spi_out"], s[0]["peer_id"]["type"], s[0]["peer_id"]["value"])'
}
hike_stat() { # hike_stat KEY: ike.KEY of hikectl --json stats ("absent" if there is none)
    hk --json stats | "$PY" -c 'import json, sys; print(json.load(sys.stdin)["ike"].get(sys.argv[1], "absent"))' "$1"
}
hike_no_sa() { [ "$(hk list-sas)" = "no IKE SAs" ]; }
agree() { hiked_charon_agree "$S" "$M"; }
wait_agree() { wait_for "${1:-10}" agree || { hike_sa; charon_spis "$M"; charon_list_sas "$M"; return 1; }; }
# in_log FILE REGEX: REGEX (grep -E) in FILE.
in_log() { grep -qE "$2" "$1"; }
clog() { charon_log "$M"; }

# establish WHO: WHO (hike or charon) initiates; both sides agree; the identities are
# checked (hike's peer_id "TYPE VALUE" against $HIKE_PEER, charon's remote against
# $CHARON_REMOTE), and how charon authenticated hike (its log, against $CHARON_AUTH); then
# charon deletes the IKE SA. swanctl's output goes to $NETNS_WORK/$M-swanctl.txt.
establish() {
    local who=$1 out=$NETNS_WORK/$M-swanctl.txt
    if [ "$who" = hike ]; then
        check "[$M] hike initiates" hk initiate net
    else
        check "[$M] charon initiates" eval 'charon_initiate "$M" net net >>"$out"'
    fi
    check "[$M] both up, SPIs crossed ($who initiator)" wait_agree
    charon_list_sas "$M" >"$NETNS_WORK/$M-$who.txt"
    check "[$M] charon: remote '$CHARON_REMOTE'" grep -qF "remote '$CHARON_REMOTE'" "$NETNS_WORK/$M-$who.txt"
    check "[$M] charon: hike authenticated by $CHARON_AUTH" \
        in_log "$(clog)" "authentication of '$CHARON_REMOTE' with $CHARON_AUTH successful"
    local t v
    read -r _ _ _ _ t v < <(hike_sa)
    check "[$M] hike: peer $HIKE_PEER" test "$t $v" = "$HIKE_PEER"
    check "[$M] charon terminates" eval 'charon_terminate "$M" net >>"$out"'
    check "[$M] hike: no SA left" wait_for 5 hike_no_sa
}
# Both sides sent their certificate and the intermediate; fragments went both ways.
chain_and_fragments() {
    local l
    l=$(clog)
    check "[$M] charon sent its certificate and the intermediate" \
        eval 'in_log "$l" "sending end entity cert \"O=hike test, CN=moon.example.org\"" &&
              in_log "$l" "sending issuer cert \"O=hike test, CN=hike test intermediate\""'
    check "[$M] charon received hike's certificate and the intermediate" \
        eval 'in_log "$l" "received end entity cert \"O=hike test, CN=sun.example.org\"" &&
              in_log "$l" "received issuer cert \"O=hike test, CN=hike test intermediate\""'
    check "[$M] charon split its IKE_AUTH into fragments" in_log "$l" 'splitting IKE message .* into [0-9]+ fragments'
    check "[$M] charon reassembled hike's fragments" in_log "$l" 'reassembled fragmented IKE message'
    check "[$M] charon received hike's CERTREQ for the root CA" \
        in_log "$l" 'received cert request for "O=hike test, CN=hike test CA"'
    # hike counts reassembled messages (engine stats "reassembled"), but hikectl stats
    # does not show that counter yet: the proof is that hike verified the fragmented
    # IKE_AUTH (and the capture in the RSA case).
    local r
    r=$(hike_stat reassembled)
    if [ "$r" = absent ]; then
        log "[$M] note: hikectl --json stats has no ike.reassembled"
    else
        check "[$M] hike: ike.reassembled >= 2 ($r)" test "$r" -ge 2
    fi
}

# ================= ECDSA P-256, FQDN identities =================
setup ec ec
CHARON_REMOTE=sun.example.org HIKE_PEER="fqdn moon.example.org" CHARON_AUTH=ECDSA_WITH_SHA256_DER
establish hike
establish charon
chain_and_fragments
check "[$M] hike counted no authentication failure" test "$(hike_stat auth_failures)" = 0
teardown

# ================= RSA-2048, FQDN identities, with a capture =================
# hike signs with RSASSA-PSS, SHA2-256, salt 32 (RFC 7427 A.4.3).
setup rsa rsa --
CHARON_AUTH=RSA_EMSA_PSS_SHA2_256_SALT_32
pcap=$NETNS_WORK/rsa.pcap
capture_start sun eth0 "$pcap" "udp port 500 or udp port 4500"
establish hike
establish charon
capture_stop "$pcap"
chain_and_fragments
grep -oE "authentication of '[^']*' (\(myself\) )?with [A-Z0-9_]+" "$(clog)" | sort | uniq -c
# Encrypted Fragment payloads (type 53, RFC 7383 2.5) as the first payload, by sender.
tshark -r "$pcap" -Y 'isakmp.nextpayload == 53' -T fields -e ip.src -e isakmp.frag.number \
    -e isakmp.frag.total >"$NETNS_WORK/rsa-frags.txt" 2>/dev/null || true
# complete_frags SRC: SRC sent two IKE_AUTH messages (one per role), each as fragments
# 1..N of N, all of them seen on the wire.
complete_frags() {
    "$PY" - "$1" "$NETNS_WORK/rsa-frags.txt" <<'PYEOF'
import sys
src, rows = sys.argv[1], [l.split() for l in open(sys.argv[2])]
nums = [(int(r[1]), int(r[2])) for r in rows if len(r) == 3 and r[0] == src]
msgs, cur = [], []
for n, t in nums:
    if n == 1 and cur:
        msgs.append(cur); cur = []
    cur.append((n, t))
if cur:
    msgs.append(cur)
ok = len(msgs) == 2 and all(t > 1 and [n for n, _ in m] == list(range(1, t + 1)) for m in msgs
                            for t in [m[0][1]])
print(src, "fragments:", msgs)
sys.exit(0 if ok else 1)
PYEOF
}
check "[$M] capture: charon sent its IKE_AUTH messages to hike in fragments" complete_frags 192.0.2.1
check "[$M] capture: hike sent its IKE_AUTH messages to charon in fragments" complete_frags 192.0.2.2
teardown

# ================= DN identities =================
# Each side's default identity is its certificate's subject, sent as ID_DER_ASN1_DN; each
# side expects the other's DN (strongSwan writes it most significant RDN first).
setup dn ec local_id= remote_id="O=hike test, CN=sun.example.org" -- \
    local_id= remote_id="dn:CN=moon.example.org,O=hike test"
CHARON_REMOTE="O=hike test, CN=sun.example.org" HIKE_PEER="dn CN=moon.example.org,O=hike test"
CHARON_AUTH=ECDSA_WITH_SHA256_DER
establish hike
establish charon
teardown

# ================= a PSK connection listed first in hike's configuration =================
# charon sends its certificate only when asked (send_cert = ifasked): hike's IKE_SA_INIT
# response must carry a CERTREQ although the first connection that matches charon's
# addresses and proposal authenticates with a PSK (issue 10); IKE_AUTH then picks "net".
psk_conn_first() {
    sed -i 's/^connections = {$/connections = {\n  office = { remote_addrs = "%any";\
    local = { auth = "psk"; id = "office.example.org"; };\
    remote = { auth = "psk"; id = "branch.example.org"; };\
    psk = "a shared secret of the office";\
    children = { lan = { local_ts = "10.9.0.0\/24"; }; }; };/' "$1"
    grep -q '^  office = ' "$1" || fail "could not add the PSK connection"
}
HIKED_CONF_HOOK=psk_conn_first setup pskfirst ec
CHARON_REMOTE=sun.example.org HIKE_PEER="fqdn moon.example.org" CHARON_AUTH=ECDSA_WITH_SHA256_DER
establish charon
check "[$M] charon was asked for its certificate and sent it" \
    eval 'in_log "$(clog)" "received cert request for" && in_log "$(clog)" "sending end entity cert"'
teardown

# ================= hike trusts another CA =================
# Same CA name, other key: charon's chain does not verify for hike.
setup hca ec -- ca="$pki/other/ca.pem"
check "[$M] hike initiates" hk initiate net
check "[$M] hike: peer authentication failed" \
    wait_for 5 in_log "$(hiked_dir "$S")/hiked.out" 'peer authentication failed'
check "[$M] hike: no SA left" wait_for 5 hike_no_sa
check "[$M] charon: no SA left (AUTHENTICATION_FAILED from hike)" charon_wait_idle "$M" 5
check "[$M] charon was told AUTHENTICATION_FAILED (INFORMATIONAL, 2.21.2)" \
    in_log "$(clog)" 'parsed INFORMATIONAL request [0-9]+ \[ N\(AUTH_FAILED\)'
check "[$M] charon initiates: fails" eval '! charon_initiate "$M" net net 5 >>"$NETNS_WORK/$M-swanctl.txt"'
check "[$M] hike: no SA" hike_no_sa
check "[$M] charon: no SA" charon_wait_idle "$M" 5
check "[$M] charon: received AUTHENTICATION_FAILED" in_log "$(clog)" 'received AUTHENTICATION_FAILED notify error'
check "[$M] hike: ike.auth_failures >= 1 ($(hike_stat auth_failures))" test "$(hike_stat auth_failures)" -ge 1
teardown

# ================= charon trusts another CA =================
# charon keeps its own chain (the intermediate) but trusts only the other CA.
setup cca ec cacerts="$pki/other/ca.pem,$pki/ec/inter.pem"
check "[$M] hike initiates" hk initiate net
check "[$M] hike: no SA (AUTHENTICATION_FAILED in charon's IKE_AUTH response)" wait_for 5 hike_no_sa
check "[$M] hike: told AUTHENTICATION_FAILED" in_log "$(hiked_dir "$S")/hiked.out" 'AUTHENTICATION_FAILED'
check "[$M] charon: no SA" charon_wait_idle "$M" 5
check "[$M] charon: no trusted key for hike" in_log "$(clog)" "no trusted ECDSA public key found for 'sun.example.org'"
# charon as initiator: hike (responder) authenticates charon and establishes; charon then
# rejects hike's certificate and sends INFORMATIONAL [ N(AUTHENTICATION_FAILED) ] (RFC 7296
# 2.21.2: "If the error occurs on the initiator, the notification MAY be returned in a
# separate INFORMATIONAL exchange, usually with no other payloads"), with no Delete, and
# destroys its IKE SA. hike must drop its IKE SA (and Child SA) as well.
check "[$M] charon initiates: fails" eval '! charon_initiate "$M" net net 5 >>"$NETNS_WORK/$M-swanctl.txt"'
check "[$M] charon sent INFORMATIONAL [ N(AUTH_FAILED) ]" \
    in_log "$(clog)" 'generating INFORMATIONAL request [0-9]+ \[ N\(AUTH_FAILED\) \]'
check "[$M] charon: no SA" charon_wait_idle "$M" 5
check "[$M] hike: had established as responder" \
    in_log "$(hiked_dir "$S")/hiked.out" 'IKE SA .* \[net\] established'
# KNOWN FAILURE (hike 0.1): hike logs "peer rejected our authentication" and keeps the
# IKE SA ESTABLISHED and its Child SA INSTALLED (src/ike/x_info.c only counts the notify).
wait_for 5 hike_no_sa || { hk list-sas; false; } ||
    fail "[$M] hike: IKE SA gone after charon's INFORMATIONAL [ N(AUTHENTICATION_FAILED) ] (RFC 7296 2.21.2)"
echo "ok: [$M] hike: IKE SA gone after charon's INFORMATIONAL [ N(AUTHENTICATION_FAILED) ]"
teardown

log PASS
