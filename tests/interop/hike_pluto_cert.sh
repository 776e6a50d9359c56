#!/usr/bin/env bash
# hike <-> libreswan's pluto (4.10) with certificates (RFC 7296 2.15, 3.6, 3.7; RFC 7427
# digital signatures), at the IKE level (childless IKE SAs, RFC 6023: this kernel has no
# ESP for pluto's Child SAs). certgen_tool makes two PKIs at run time, each a CA and the
# end entities west.example.org (pluto) and east.example.org (hike), SAN DNS:NAME:
#   ec: ECDSA P-256 (pluto authby=ecdsa), hike initiator then pluto initiator
#   rsa: RSA-2048 (pluto authby=rsasig), hike initiator then pluto initiator
# pluto holds its certificate, key and the CA in its NSS database (pk12util, certutil).
# Issue 18: hike 0.1 answered pluto's childless IKE_AUTH with N(INVALID_SYNTAX), and
# pluto refuses hike's RSASSA-PSS AlgorithmIdentifier when it is not in DER ("no
# acceptable ECDSA/RSA-PSS ASN.1 signature hash proposal included for rsasig").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${HIKE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
source "$src/tests/net/lib/netns.sh"
source "$here/lib/hiked.sh"
source "$here/lib/pluto.sh"

netns_setup 60
pluto_require
hiked_require
CERTGEN=${CERTGEN:-$(dirname "$HIKED_BIN")/certgen_tool}
[ -x "$CERTGEN" ] || fail "certgen_tool not built: $CERTGEN"
log "$PLUTO_VERSION"

ns_create west east
ns_veth west:eth0:192.0.2.1/24 east:eth0:192.0.2.2/24

pki=$NETNS_WORK/pki
mkdir -p "$pki"
for p in ec:p256 rsa:rsa; do
    "$CERTGEN" -k "${p#*:}" -c "${p#*:}" "$pki/${p%%:*}" west.example.org east.example.org \
        >/dev/null || fail "certgen_tool: PKI ${p%%:*}"
done

P= H=
# setup CASE AUTHBY: pluto "w_CASE" and hiked "e_CASE" with the certificates of PKI CASE;
# hike's connection has no child.
setup() {
    local case=$1 p=$pki/$1
    P=w_$case H=e_$case
    pluto_import "$P" west "$p/west.example.org.pem" "$p/west.example.org.key" "$p/ca.pem"
    pluto_conf "$P" local=192.0.2.1 remote=192.0.2.2 local_id=@west.example.org \
        remote_id=@east.example.org auth="$2" cert=west retransmit_timeout=3s
    pluto_start "$P" west
    hiked_conf_cert "$NETNS_WORK/$H.conf" name="$H" local=192.0.2.2 remote=192.0.2.1 \
        cert="$p/east.example.org.pem" key="$p/east.example.org.key" ca="$p/ca.pem" \
        local_id=east.example.org remote_id=west.example.org \
        extra_daemon='retransmit_timeout = "300ms"; retransmit_tries = 2;'
    hiked_drop_children "$NETNS_WORK/$H.conf"
    hiked_start "$H" east "$NETNS_WORK/$H.conf"
}
teardown() {
    hiked_stop "$H"
    pluto_stop "$P"
}
hk() { hiked_ctl "$H" "$@"; }
hlog() { hike_logged "$H" "$1"; }
plog() { pluto_logged "$P" "$1"; }
both_up() {
    [ "$(hike_view "$H")" = "1 ESTABLISHED 0 $(hike_view "$H" | awk '{print $4}') $1 fqdn west.example.org" ] &&
        [ "$(pluto_ike_count "$P")" = 1 ]
}
both_idle() { [ "$(hike_view "$H")" = 0 ] && [ -z "$(pluto_states "$P")" ]; }
# pluto's line for the peer it authenticated, e.g. "'P-256 ECDSA with SHA2_256' digital
# signature using peer certificate '@east.example.org' issued by CA '...'".
peer_auth() {
    grep -oE "authenticated peer '[^']*' digital signature using peer certificate '[^']*' issued by CA '[^']*'" \
        "$(pluto_log "$P")" | tail -1
}
CA="O=hike test, CN=hike test CA"

# run CASE SIGNATURE: both roles; SIGNATURE is how pluto names hike's signature scheme.
run() {
    local case=$1 sig=$2
    check "[$case] hike initiates" hk initiate net
    check "[$case] hike: IKE_AUTH answered with IDr CERT AUTH" \
        wait_for 5 hlog 'recv IKE_AUTH response 1 \[ IDr CERT AUTH \]'
    check "[$case] both up (hike initiator)" wait_for 5 both_up initiator
    log "[$case] pluto: $(peer_auth)"
    check "[$case] pluto authenticated hike's certificate" plog \
        "responder established IKE SA; authenticated peer '$sig' digital signature using peer certificate '@east.example.org' issued by CA '$CA'"
    check "[$case] hike deletes" hk terminate net
    check "[$case] no SA left" wait_for 5 both_idle

    pluto_childless "$P"
    check "[$case] pluto initiates (childless)" pluto_up "$P"
    check "[$case] pluto authenticated hike's certificate" plog \
        "initiator established IKE SA; authenticated peer '$sig' digital signature using peer certificate '@east.example.org' issued by CA '$CA'"
    check "[$case] hike got IDi CERT (and no Child SA)" hlog 'recv IKE_AUTH request 1 \[ IDi CERT (CERTREQ )?IDr AUTH \]'
    check "[$case] both up (hike responder)" wait_for 5 both_up responder
    # RFC 6023 3: IDr, CERT and AUTH only. hike 0.1 adds N(INVALID_SYNTAX) (issue 18).
    check "[$case] hike's IKE_AUTH response: IDr CERT AUTH, no error notify" \
        hlog 'send IKE_AUTH response 1 \[ IDr CERT AUTH( N\(CLONE_IKE_SA_SUPPORTED\))? \]'
    check "[$case] pluto deletes" pluto_down "$P"
    check "[$case] no SA left" wait_for 5 both_idle
}

# ================= ECDSA P-256 =================
setup ec ecdsa
run ec 'P-256 ECDSA with SHA2_256'
teardown

# ================= RSA-2048 =================
# hike signs RSASSA-PSS (RFC 7427 A.4.3), which pluto accepts only when the
# AlgorithmIdentifier is the DER one it knows, octet for octet.
setup rsa rsasig
run rsa '2048-bit RSASSA-PSS with SHA2_256'
teardown

log PASS
