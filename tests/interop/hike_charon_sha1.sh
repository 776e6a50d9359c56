#!/usr/bin/env bash
# hike responder <-> strongSwan charon initiator whose RSA certificate signs AUTH the classic
# way (signature_authentication = no): AUTH method 1, RSASSA-PKCS1-v1_5 with SHA-1 (RFC 7296
# 3.8). hike refuses it with AUTHENTICATION_FAILED unless the connection's remote.signature is
# "classic" (docs/config.md). charon's certificate is RSA-2048 (PKI "rsa"), hike's ECDSA P-256
# (PKI "ec"), so that hike, with local.signature = "classic", answers with ECDSA (method 9).
#   remote.signature = "rfc7427": charon's IKE_AUTH refused, no SA on either side
#   remote.signature following local.signature ("classic"): the same IKE_AUTH is accepted
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${HIKE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
source "$src/tests/net/lib/netns.sh"
source "$here/lib/charon.sh"
source "$here/lib/hiked.sh"

netns_setup 60
charon_require
hiked_require
bin=$(dirname "$HIKED_BIN")
CERTGEN=${CERTGEN:-$bin/certgen_tool}
[ -x "$CERTGEN" ] || fail "certgen_tool not built: $CERTGEN"

hiked_charon_net
pki=$NETNS_WORK/pki
mkdir -p "$pki"
for p in ec:p256 rsa:rsa; do
    "$CERTGEN" -k "${p#*:}" -c "${p#*:}" -i "$pki/${p%%:*}" moon.example.org sun.example.org \
        >/dev/null || fail "certgen_tool: PKI ${p%%:*}"
done

# setup CASE REMOTE_SIGNATURE: charon "moon_CASE" (RSA, classic AUTH) and hiked "sun_CASE"
# (ECDSA, local.signature classic; remote.signature as given, or its default when empty).
setup() {
    local case=$1 rsig=$2
    M=moon_$case S=sun_$case
    charon_start "$M" moon 'signature_authentication = no'
    charon_conf_cert "$NETNS_WORK/$M.d" local=192.0.2.1 remote=192.0.2.2 \
        cert="$pki/rsa/moon.example.org.pem" key="$pki/rsa/moon.example.org.key" \
        cacerts="$pki/ec/ca.pem,$pki/rsa/inter.pem" local_id=moon.example.org \
        remote_id=sun.example.org local_ts=10.1.0.0/24 remote_ts=10.2.0.0/24
    charon_load "$M" "$NETNS_WORK/$M.d"
    hiked_conf_cert "$NETNS_WORK/$S.conf" local=192.0.2.2 remote=192.0.2.1 \
        cert="$pki/ec/sun.example.org.pem" key="$pki/ec/sun.example.org.key" \
        certs="$pki/ec/inter.pem" ca="$pki/rsa/ca.pem" local_id=sun.example.org \
        remote_id=moon.example.org local_ts=10.2.0.0/24 remote_ts=10.1.0.0/24 signature=classic
    if [ -n "$rsig" ]; then
        sed -i "s|remote = { auth = \"pubkey\";|remote = { auth = \"pubkey\"; signature = \"$rsig\";|" \
            "$NETNS_WORK/$S.conf"
        grep -q "signature = \"$rsig\"" "$NETNS_WORK/$S.conf" || fail "remote.signature not set"
    fi
    hiked_start "$S" sun "$NETNS_WORK/$S.conf"
}
teardown() {
    hiked_stop "$S"
    charon_stop "$M"
}
hk() { hiked_ctl "$S" "$@"; }
hike_no_sa() { [ "$(hk list-sas)" = "no IKE SAs" ]; }
hike_stat() { hk --json stats | python3 -c 'import json, sys; print(json.load(sys.stdin)["ike"][sys.argv[1]])' "$1"; }
in_log() { grep -qE "$2" "$1"; }
clog() { charon_log "$M"; }
hlog() { echo "$(hiked_dir "$S")/hiked.out"; }

# ================= remote.signature = "rfc7427": method 1 refused =================
setup strict rfc7427
check "[$M] charon initiates: fails" eval '! charon_initiate "$M" net net 5 >>"$NETNS_WORK/$M-swanctl.txt"'
# charon names the classic methods "RSA signature" (method 1) and "ECDSA-256 signature" (9);
# RFC 7427 ones by scheme ("RSA_EMSA_PSS_SHA2_256...", "ECDSA_WITH_SHA256_DER").
check "[$M] charon signed AUTH the classic way (method 1: RSA with SHA-1)" \
    in_log "$(clog)" "authentication of 'moon.example.org' \(myself\) with RSA signature successful"
check "[$M] hike: method 1 refused, with the reason" \
    in_log "$(hlog)" 'AUTH method 1 \(RSA with SHA-1\) refused'
check "[$M] charon: received AUTHENTICATION_FAILED" in_log "$(clog)" 'received AUTHENTICATION_FAILED notify error'
check "[$M] hike: no SA" hike_no_sa
check "[$M] charon: no SA" charon_wait_idle "$M" 5
check "[$M] hike: ike.auth_failures = 1" test "$(hike_stat auth_failures)" = 1
teardown

# ================= remote.signature follows local.signature = "classic": accepted =================
setup classic ""
check "[$M] charon initiates" eval 'charon_initiate "$M" net net 10 >>"$NETNS_WORK/$M-swanctl.txt"'
check "[$M] both up, SPIs crossed" wait_for 10 hiked_charon_agree "$S" "$M"
check "[$M] charon: hike authenticated by ECDSA (classic, method 9)" \
    in_log "$(clog)" "authentication of 'sun.example.org' with ECDSA-256 signature successful"
check "[$M] hike: no authentication failure" test "$(hike_stat auth_failures)" = 0
teardown

log PASS
