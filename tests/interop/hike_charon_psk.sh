#!/usr/bin/env bash
# hike <-> strongSwan charon (5.9.x, kernel-libipsec), PSK, IKE aes256gcm16-prfsha256-x25519,
# ESP aes256gcm16, in both roles: IKE SA and Child SA up with matching SPIs, Child SA and
# IKE SA rekeys started by each side (RFC 7296 1.3.2, 1.3.3), DELETE by each side (1.4.1).
# charon fakes a NAT with kernel-libipsec, so this also runs NAT-T (float to 4500).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${HIKE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
source "$src/tests/net/lib/netns.sh"
source "$here/lib/charon.sh"
source "$here/lib/hiked.sh"
source "$here/lib/capture.sh"

netns_setup 100
charon_require
hiked_require
PY=/usr/bin/python3

hiked_charon_net
hiked_charon_psk 'interop psk: 3f9c2a7e51d0'
hk() { hiked_ctl sun "$@"; }
# hike's view: "STATE CHILD-STATE SPI-IN SPI-OUT IKE-NAME IKE-ID CHILD-ID" (or "none N").
hike_sa() { hiked_sa sun; }
# Both sides agree on one IKE SA and one Child SA pair.
agree() { hiked_charon_agree sun moon; }
wait_agree() { wait_for "${1:-10}" agree || { hike_sa; charon_spis moon; charon_list_sas moon; return 1; }; }

# Everything on the wire, for the decryption check with hike's keys at the end.
capture_start sun eth0 "$NETNS_WORK/wire.pcap"

# --- hike initiates, charon responds ---
check "hike initiates" hk initiate net
check "both up, SPIs crossed (hike initiator)" wait_agree
charon_list_sas moon | tee "$NETNS_WORK/moon-1.txt"
check "charon: AES_GCM_16-256/PRF_HMAC_SHA2_256/CURVE_25519" \
    grep -q 'AES_GCM_16-256/PRF_HMAC_SHA2_256/CURVE_25519' "$NETNS_WORK/moon-1.txt"
check "charon: peer sun.example.org" grep -q "remote 'sun.example.org'" "$NETNS_WORK/moon-1.txt"
hk list-sas
# Traffic: hike's userspace ESP <-> charon's kernel-libipsec, ESP in UDP (charon fakes a NAT).
check "ping charon's LAN -> hike's LAN through the tunnel" ns_ping moon -I 10.1.0.1 10.2.0.1 3
check "ping hike's LAN -> charon's LAN through the tunnel" ns_ping sun -I 10.2.0.1 10.1.0.1 3

read -r _ _ in0 _ name0 ike0 child0 < <(hike_sa)
# RFC 7791: charon does not announce CLONE_IKE_SA_SUPPORTED, so hike does not clone, and says why.
clone_refused() {
    local out
    out=$(hk clone "$1" 2>&1) && return 1
    grep -q "peer did not announce CLONE_IKE_SA_SUPPORTED" <<< "$out"
}
check "hike: no clone with charon (peer did not announce CLONE_IKE_SA_SUPPORTED)" clone_refused "$ike0"
check "hike: list-sas says the SA cannot be cloned" \
    eval "hk --json list-sas | $PY -c 'import json,sys; s=json.load(sys.stdin); assert not s[0][\"clone\"]'"
check "hike rekeys the Child SA" hk rekey "$child0"
check "after hike's child rekey: new SPIs agree" \
    wait_for 10 eval 'agree && [ "$(hike_sa | cut -d" " -f3)" != "$in0" ]'
read -r _ _ in1 _ _ _ _ < <(hike_sa)
check "charon rekeys the Child SA" charon_swanctl moon --rekey --child net
check "after charon's child rekey: new SPIs agree" \
    wait_for 10 eval 'agree && [ "$(hike_sa | cut -d" " -f3)" != "$in1" ]'
check "hike rekeys the IKE SA" hk rekey "$ike0"
check "after hike's IKE rekey: new IKE SA, same child" \
    wait_for 10 eval 'agree && [ "$(hike_sa | cut -d" " -f5)" != "$name0" ]'
read -r _ _ _ _ name1 _ _ < <(hike_sa)
check "charon rekeys the IKE SA" charon_swanctl moon --rekey --ike net
check "after charon's IKE rekey: new IKE SA, same child" \
    wait_for 10 eval 'agree && [ "$(hike_sa | cut -d" " -f5)" != "$name1" ]'
hk list-sas
check "ping through the tunnel after the rekeys" ns_ping moon -I 10.1.0.1 10.2.0.1 3
check "hike terminates" hk terminate net
check "charon: no SA left" charon_wait_idle moon 10
check "hike: no SA left" wait_for 5 eval '[ "$(hk list-sas)" = "no IKE SAs" ]'

# --- charon initiates, hike responds ---
check "charon initiates" charon_initiate moon net net
check "both up, SPIs crossed (charon initiator)" wait_agree
hk list-sas
check "charon terminates" charon_terminate moon net
check "hike: no SA left after charon's DELETE" \
    wait_for 5 eval '[ "$(hk list-sas)" = "no IKE SAs" ]'
check "hike counted no authentication failure" \
    eval "hk --json stats | $PY -c 'import json,sys; s=json.load(sys.stdin); sys.exit(s[\"ike\"][\"auth_failures\"])'"

capture_stop "$NETNS_WORK/wire.pcap"

# The keys hiked wrote (daemon.keylog_dir) decrypt every protected IKE message.
keys=$(hiked_dir sun)/keylog
check "keylog: IKE table written, mode 600" \
    eval '[ -s "$keys/ikev2_decryption_table" ] && [ "$(stat -c %a "$keys/ikev2_decryption_table")" = 600 ]'
check "keylog: ESP table written" test -s "$keys/esp_sa"
v=$NETNS_WORK/decrypted.txt
WIRESHARK_CONFIG_DIR=$keys tshark -r "$NETNS_WORK/wire.pcap" -o esp.enable_encryption_decode:TRUE \
    -o esp.enable_authentication_check:TRUE -V >"$v" 2>"$NETNS_WORK/tshark.err"
WIRESHARK_CONFIG_DIR=$keys tshark -r "$NETNS_WORK/wire.pcap" -q -z expert \
    >"$NETNS_WORK/expert.txt" 2>>"$NETNS_WORK/tshark.err"
n_sk=$(grep -c '^ *Payload: Encrypted and Authenticated (46)' "$v" || true)
n_ok=$(grep -c 'Integrity Checksum Data: .*\[correct\]' "$v" || true)
log "capture: $n_sk protected IKE messages, $n_ok with a verified ICV"
check "capture has protected IKE messages" test "$n_sk" -ge 10
check "every protected IKE message decrypted and verified" test "$n_sk" -eq "$n_ok"
check "IKE_AUTH decrypted (IDi and IDr seen)" \
    eval "grep -q 'Identification Data:sun.example.org' '$v' && grep -q 'Identification Data:moon.example.org' '$v'"
check "CREATE_CHILD_SA decrypted (REKEY_SA seen)" grep -q 'Notify Message Type: REKEY_SA' "$v"
n_echo=$(grep -c 'Type: 8 (Echo (ping) request)' "$v" || true)
n_icv=$(grep -c 'ESP ICV: .*\[correct\]' "$v" || true)
log "capture: $n_echo echo requests decrypted from ESP, $n_icv ESP ICVs verified"
check "ESP decrypted with hike's esp_sa keys (the pings inside)" test "$n_echo" -ge 9
check "nothing malformed, no expert error" \
    eval "! grep -qi 'malformed' '$v' && ! grep -q '^ *Error' '$NETNS_WORK/expert.txt'"

hiked_stop sun
charon_stop moon
log "PASS"
