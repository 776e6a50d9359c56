#!/usr/bin/env bash
# MOBIKE (RFC 4555) between hike and strongSwan charon (5.9.x, kernel-libipsec), both ways.
# 1. hike initiates and moves: both announce MOBIKE_SUPPORTED, hike moves the IKE SA to its
#    second address with `hikectl migrate`, charon takes the UPDATE_SA_ADDRESSES (3.5) and
#    its ESP follows: charon's IKE SA names the new address, and a ping each way through
#    the tunnel after the move is carried by ESP in UDP from and to that address only
#    (checked on a capture on charon's side).
# 2. charon initiates and moves: charon's first address is removed, charon probes the path
#    from its second (3.10) and sends UPDATE_SA_ADDRESSES from there; hike answers where
#    each request came from (RFC 7296 2.11), takes the new address, checks it (3.7) and
#    traffic flows again. About 25 s.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${HIKE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
source "$src/tests/net/lib/netns.sh"
source "$here/lib/charon.sh"
source "$here/lib/hiked.sh"
source "$here/lib/capture.sh"

netns_setup 120
charon_require
hiked_require
PY=/usr/bin/python3

hiked_charon_net
ns_addr sun eth0 192.0.2.12/24
psk='interop mobike psk: 5e0a71c3d9b4'
charon_start moon moon
charon_conf_psk "$NETNS_WORK/moon.d" psk="$psk" local=192.0.2.1 remote=192.0.2.2,192.0.2.12 \
    local_id=moon.example.org remote_id=sun.example.org \
    local_ts=10.1.0.0/24 remote_ts=10.2.0.0/24 mobike=yes
charon_load moon "$NETNS_WORK/moon.d"
hiked_conf_psk "$NETNS_WORK/sun.conf" name=sun psk="$psk" local=192.0.2.2 remote=192.0.2.1 \
    local_id=sun.example.org remote_id=moon.example.org \
    local_ts=10.2.0.0/24 remote_ts=10.1.0.0/24 mobike=yes
# hike sends from either address (PKTINFO on a wildcard socket) and announces the second.
sed -i -e 's/listen = \["192.0.2.2"\]/listen = ["0.0.0.0"]/' \
    -e 's/local_addrs = "192.0.2.2"/local_addrs = ["192.0.2.2", "192.0.2.12"]/' \
    -e 's/remote_addrs = "192.0.2.1"/remote_addrs = ["192.0.2.1", "192.0.2.11"]/' "$NETNS_WORK/sun.conf"
hiked_start sun sun "$NETNS_WORK/sun.conf"
hk() { hiked_ctl sun "$@"; }
agree() { hiked_charon_agree sun moon; }

check "hike initiates" hk initiate net
check "both up, SPIs crossed" wait_for 10 agree
check "hike: MOBIKE negotiated with charon" eval "hk --json list-sas | $PY -c '
import json, sys; s = json.load(sys.stdin); sys.exit(0 if s[0][\"mobike\"] else 1)'"
check "ping through the tunnel before the move" ns_ping moon -I 10.1.0.1 10.2.0.1 3
id=$(hk --json list-sas | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')

capture_start moon eth0 "$NETNS_WORK/move.pcap"
sleep 1
check "hikectl migrate to 192.0.2.12" hk migrate "$id" --local 192.0.2.12
check "charon's IKE SA follows to 192.0.2.12" \
    wait_for 10 eval 'charon_list_sas moon --raw | grep -q "remote-host=192.0.2.12"'
check "hike still agrees with charon" wait_for 10 agree
check "hike: local address 192.0.2.12" eval "hk --json list-sas | $PY -c '
import json, sys; s = json.load(sys.stdin); sys.exit(0 if s[0][\"local\"].startswith(\"192.0.2.12:\") else 1)'"
check "ping charon's LAN -> hike's LAN after the move" ns_ping moon -I 10.1.0.1 10.2.0.1 5
check "ping hike's LAN -> charon's LAN after the move" ns_ping sun -I 10.2.0.1 10.1.0.1 5
capture_stop "$NETNS_WORK/move.pcap"
new_out=$(tshark -r "$NETNS_WORK/move.pcap" -Y 'esp && ip.dst == 192.0.2.12' 2>/dev/null | wc -l)
new_in=$(tshark -r "$NETNS_WORK/move.pcap" -Y 'esp && ip.src == 192.0.2.12' 2>/dev/null | wc -l)
old=$(tshark -r "$NETNS_WORK/move.pcap" -Y 'esp && ip.addr == 192.0.2.2' 2>/dev/null | wc -l)
log "ESP on the capture after the move: $new_out to and $new_in from 192.0.2.12, $old on 192.0.2.2"
check "charon's ESP goes to 192.0.2.12" test "$new_out" -ge 10
check "hike's ESP comes from 192.0.2.12" test "$new_in" -ge 10
check "no ESP on the old address" test "$old" = 0
check "hike terminates" hk terminate net
check "charon: no SA left" charon_wait_idle moon 10
check "hike: no SA left" wait_for 5 eval '[ "$(hk list-sas)" = "no IKE SAs" ]'

# --- 2. charon initiates and moves (its address 192.0.2.1 goes away) ---
ns_exec moon sysctl -qw net.ipv4.conf.eth0.promote_secondaries=1
ns_addr moon eth0 192.0.2.11/24
charon_conf_psk "$NETNS_WORK/moon2.d" psk="$psk" local=192.0.2.1,192.0.2.11 remote=192.0.2.2 \
    local_id=moon.example.org remote_id=sun.example.org \
    local_ts=10.1.0.0/24 remote_ts=10.2.0.0/24 mobike=yes
charon_load moon "$NETNS_WORK/moon2.d"
check "charon initiates" charon_initiate moon net net
check "both up (charon initiator)" wait_for 10 agree
check "hike knows charon's second address" eval "hk --json list-sas | $PY -c '
import json, sys; s = json.load(sys.stdin); sys.exit(0 if s[0][\"peer_addrs\"] == [\"192.0.2.11\"] else 1)'"
check "ping before charon moves" ns_ping moon -I 10.1.0.1 10.2.0.1 3
ns_exec moon ip addr del 192.0.2.1/24 dev eth0
check "hike follows charon to 192.0.2.11" wait_for 15 eval "hk --json list-sas | $PY -c '
import json, sys; s = json.load(sys.stdin); sys.exit(0 if s[0][\"remote\"].startswith(\"192.0.2.11:\") else 1)'"
check "hike checked charon's new address before its ESP followed (3.7)" \
    wait_for 5 grep -q "192.0.2.11:4500 verified, Child SAs follow" "$(hiked_dir sun)/hiked.out"
check "ping after charon moved" wait_for 10 ns_ping moon -I 10.1.0.1 10.2.0.1 3
check "ping hike's LAN -> charon's LAN after charon moved" ns_ping sun -I 10.2.0.1 10.1.0.1 3
check "charon terminates" charon_terminate moon net
check "hike: no SA left after charon's DELETE" \
    wait_for 5 eval '[ "$(hk list-sas)" = "no IKE SAs" ]'
hiked_stop sun
charon_stop moon
log "PASS"
