#!/usr/bin/env bash
# Traffic between hike's userspace ESP and strongSwan charon's kernel-libipsec (5.9.x),
# tunnel mode, LANs behind each side (addresses on lo), in both roles (hike initiator,
# then charon initiator): ping both ways, a checksummed TCP transfer of a few MiB in each
# direction (SHA-256 equal on both ends, and counted by hike's Child SA), and a steady
# ping across a Child SA rekey by each side (RFC 7296 1.3.3, 2.8) with no loss. The
# outer link must carry ESP in UDP on 4500 (RFC 3948) only: no raw ESP, no clear
# inner traffic. Issue 4. About 30 s.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${HIKE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
source "$src/tests/net/lib/netns.sh"
source "$here/lib/charon.sh"
source "$here/lib/hiked.sh"
source "$here/lib/capture.sh"

netns_setup 150
charon_require
hiked_require
PY=/usr/bin/python3
SIZE=${HIKE_TEST_TCP_BYTES:-4194304} # per transfer
PINGS=100                            # at 50 ms: 5 s of steady traffic across the rekeys

hiked_charon_net

log "raw ESP: not tested against charon 5.9.8, whose kernel-libipsec only does ESP in UDP" \
    "(hike <-> hike raw ESP: tests/net/hike_esp_traffic.sh)"

hiked_charon_psk 'interop esp psk: 7c1e94a0b3d2' log_level=info

agree() { hiked_charon_agree sun moon; }
wait_agree() {
    wait_for "${1:-10}" agree || {
        hiked_sa sun
        charon_spis moon
        charon_list_sas moon
        return 1
    }
}
# spi_changed OLD: both agree on a Child SA whose inbound SPI (hike's) is not OLD.
spi_changed() { agree && [ "$(hiked_sa sun | cut -d' ' -f3)" != "$1" ]; }

# hike_counted MIN: hike's Child SA carried at least MIN octets each way, with no ICV
# failure and no replay drop.
hike_counted() {
    hiked_ctl sun --json list-sas | "$PY" -c '
import json, sys
t = json.load(sys.stdin)[0]["children"][0]["traffic"]
print("hike child traffic:", t)
m = int(sys.argv[1])
sys.exit(0 if t["bytes_in"] >= m and t["bytes_out"] >= m and
         t["auth_failures"] == 0 and t["replay_drops"] == 0 else 1)' "$1"
}

# steady_ping ROLE: a ping from charon's LAN to hike's LAN every 50 ms, across a Child SA
# rekey by hike and then one by charon; every echo must be answered.
steady_ping() {
    local role=$1 out="$NETNS_WORK/rekey-$1.ping" pinger in0 child0 in1
    ns_exec moon ping -q -n -c "$PINGS" -i 0.05 -W 2 -I 10.1.0.1 10.2.0.1 >"$out" 2>&1 &
    pinger=$!
    sleep 1
    read -r _ _ in0 _ _ _ child0 < <(hiked_sa sun)
    check "[$role] hike rekeys the Child SA during the ping" hiked_ctl sun rekey "$child0"
    check "[$role] after hike's rekey: new SPIs agree" wait_for 10 spi_changed "$in0"
    sleep 1
    read -r _ _ in1 _ < <(hiked_sa sun)
    check "[$role] charon rekeys the Child SA during the ping" charon_swanctl moon --rekey --child net
    check "[$role] after charon's rekey: new SPIs agree" wait_for 10 spi_changed "$in1"
    wait "$pinger" || true
    cat "$out"
    check "[$role] $PINGS pings across the two rekeys, none lost" \
        grep -qE "^$PINGS packets transmitted, $PINGS received" "$out"
}

# traffic ROLE: everything that goes through one IKE SA's tunnel.
traffic() {
    local role=$1
    check "[$role] ping charon's LAN -> hike's LAN" ns_ping moon -I 10.1.0.1 10.2.0.1 3
    check "[$role] ping hike's LAN -> charon's LAN" ns_ping sun -I 10.2.0.1 10.1.0.1 3
    check "[$role] TCP hike -> charon, $SIZE octets, SHA-256 equal" \
        ns_tcp_transfer sun 10.2.0.1 moon 10.1.0.1 "$SIZE" 5001
    log "[$role] hike -> charon: ${NS_TCP_SECONDS}s"
    check "[$role] TCP charon -> hike, $SIZE octets, SHA-256 equal" \
        ns_tcp_transfer moon 10.1.0.1 sun 10.2.0.1 "$SIZE" 5002
    log "[$role] charon -> hike: ${NS_TCP_SECONDS}s"
    check "[$role] hike's Child SA carried both transfers" hike_counted "$SIZE"
    steady_ping "$role"
}

# Headers of everything on hike's side of the link, for the checks at the end.
CAPTURE_SNAPLEN=128 capture_start sun eth0 "$NETNS_WORK/wire.pcap"

# --- hike initiates, charon responds ---
check "hike initiates" hiked_ctl sun initiate net
check "both up, SPIs crossed (hike initiator)" wait_agree
traffic "hike initiator"
check "hike terminates" hiked_ctl sun terminate net
check "charon: no SA left" charon_wait_idle moon 10

# --- charon initiates, hike responds ---
check "charon initiates" charon_initiate moon net net
check "both up, SPIs crossed (charon initiator)" wait_agree
traffic "charon initiator"
check "charon terminates" charon_terminate moon net
check "hike: no SA left" wait_for 5 eval '[ "$(hiked_ctl sun list-sas)" = "no IKE SAs" ]'

capture_stop "$NETNS_WORK/wire.pcap"

# The outer link: ESP in UDP between the two 4500 ports, both ways; nothing else that
# carries data (IKE on 500 and 4500 aside). No keys given to tshark: no decryption.
export WIRESHARK_CONFIG_DIR=$NETNS_WORK/wireshark
mkdir -p "$WIRESHARK_CONFIG_DIR"
tshark -r "$NETNS_WORK/wire.pcap" -T fields -E separator=/t -e ip.src -e ip.dst \
    -e frame.protocols -e udp.srcport -e udp.dstport -e frame.len >"$NETNS_WORK/wire.txt" 2>/dev/null
count() { awk -F'\t' "$1" "$NETNS_WORK/wire.txt" | wc -l; }
# Octets rather than packets: hike sends ESP in UDP with UDP GSO, so one captured frame
# may hold up to 64 KiB of ESP packets (the veth passes it on whole).
octets() { awk -F'\t' "$1 { n += \$6 } END { print n + 0 }" "$NETNS_WORK/wire.txt"; }
esp_udp='$3 ~ /:udp:udpencap:esp$/ && $4 == 4500 && $5 == 4500'
n_esp_a=$(octets "\$1 == \"192.0.2.1\" && $esp_udp")
n_esp_b=$(octets "\$1 == \"192.0.2.2\" && $esp_udp")
n_raw=$(count '$3 ~ /:ip:esp/')
n_clear=$(count '$3 ~ /:(icmp|tcp)(:|$)/ || $1 ~ /^10\./ || $2 ~ /^10\./')
# Besides: ARP, and IPv6 neighbour discovery and MLD on the link (the veth has link-local
# addresses; the tunnel carries IPv4 only).
n_other=$(count '$3 !~ /:esp$/ && $3 !~ /:isakmp/ && $3 != "eth:ethertype:arp" &&
                 $3 !~ /^eth:ethertype:ipv6:(ipv6\.hopopts:)?icmpv6$/')
log "outer link: ESP in UDP $n_esp_a octets from charon, $n_esp_b from hike; raw ESP $n_raw;" \
    "clear ICMP/TCP or inner addresses $n_clear; other $n_other"
# 4 transfers of SIZE octets, at least one SIZE each way.
min=$SIZE
check "ESP in UDP 4500 <-> 4500 from charon (>= $min octets)" test "$n_esp_a" -ge "$min"
check "ESP in UDP 4500 <-> 4500 from hike (>= $min octets)" test "$n_esp_b" -ge "$min"
check "no raw ESP on the link" test "$n_raw" -eq 0
check "no clear ICMP or TCP, no inner address on the link" test "$n_clear" -eq 0
check "nothing but IKE, ESP, ARP and IPv6 ND on the link" test "$n_other" -eq 0

hiked_stop sun
charon_stop moon
log "PASS"
