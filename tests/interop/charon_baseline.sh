#!/usr/bin/env bash
# Baseline for the interop harness: two strongSwan charons (moon, sun) in two network
# namespaces, PSK, IKE aes256gcm16-prfsha256-x25519, ESP aes256gcm16 over
# kernel-libipsec (ESP in UDP 4500). Initiate, check both sides' SAs, ping between the
# inner addresses (IPv4 and IPv6) through the tunnel while capturing the outer link,
# terminate, check no SA is left.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${HIKE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
source "$src/tests/net/lib/netns.sh"
source "$here/lib/charon.sh"
source "$here/lib/capture.sh"

netns_setup 50
charon_require
t0=$(date +%s%N)
ms() { echo $((($(date +%s%N) - t0) / 1000000)); }

ns_create moon sun
ns_veth moon:eth0:192.0.2.1/24,2001:db8::1/64 sun:eth0:192.0.2.2/24,2001:db8::2/64
ns_addr moon lo 10.1.0.1/32,fd00:1::1/128
ns_addr sun lo 10.2.0.1/32,fd00:2::1/128

charon_start moon moon
charon_start sun sun
log "charons up ($(ms) ms)"

common=(ike=aes256gcm16-prfsha256-x25519 esp=aes256gcm16 psk='interop baseline: 7c1f0e9a')
charon_conf_psk "$NETNS_WORK/moon.d" "${common[@]}" local=192.0.2.1 remote=192.0.2.2 \
    local_id=moon.example.org remote_id=sun.example.org \
    local_ts=10.1.0.0/24,fd00:1::/64 remote_ts=10.2.0.0/24,fd00:2::/64
charon_conf_psk "$NETNS_WORK/sun.d" "${common[@]}" local=192.0.2.2 remote=192.0.2.1 \
    local_id=sun.example.org remote_id=moon.example.org \
    local_ts=10.2.0.0/24,fd00:2::/64 remote_ts=10.1.0.0/24,fd00:1::/64
charon_load moon "$NETNS_WORK/moon.d"
charon_load sun "$NETNS_WORK/sun.d"

capture_start moon eth0 "$NETNS_WORK/outer.pcap"
t1=$(date +%s%N)
check "moon initiates net" charon_initiate moon net net >"$NETNS_WORK/initiate.txt"
log "initiate took $((($(date +%s%N) - t1) / 1000000)) ms"

for side in moon sun; do
    check "$side: IKE SA ESTABLISHED" charon_wait_ike $side net ESTABLISHED 5
    check "$side: Child SA INSTALLED" charon_wait_child $side net INSTALLED 5
done
charon_list_sas moon | tee "$NETNS_WORK/moon-sas.txt"
check "moon: AES_GCM_16-256/PRF_HMAC_SHA2_256/CURVE_25519" \
    grep -q 'AES_GCM_16-256/PRF_HMAC_SHA2_256/CURVE_25519' "$NETNS_WORK/moon-sas.txt"
check "moon: Child SA is TUNNEL-in-UDP, ESP:AES_GCM_16-256" \
    grep -q 'INSTALLED, TUNNEL-in-UDP, ESP:AES_GCM_16-256' "$NETNS_WORK/moon-sas.txt"
check "sun: IKE SA from moon.example.org" \
    grep -q "remote 'moon.example.org' @ 192.0.2.1\[4500\]" <(charon_list_sas sun)

check "ipsec0 and table 220 route in moon" \
    wait_for 3 eval "ns_exec moon ip route show table 220 | grep -q '10.2.0.0/24 dev ipsec0'"
check "ping 10.1.0.1 -> 10.2.0.1 through the tunnel" ns_ping moon -I 10.1.0.1 10.2.0.1 3
check "ping fd00:1::1 -> fd00:2::1 through the tunnel" ns_ping moon -I fd00:1::1 fd00:2::1 3
check "ping 10.2.0.1 -> 10.1.0.1 (other direction)" ns_ping sun -I 10.2.0.1 10.1.0.1 2
capture_stop "$NETNS_WORK/outer.pcap"

pcap=$NETNS_WORK/outer.pcap
capture_protocols "$pcap" >"$pcap.txt"
n_esp=$(grep -c ':udp:udpencap:esp$' "$pcap.txt" || true)
n_icmp=$(grep -cE ':icmp$|:icmpv6$' "$pcap.txt" || true)    # IPv6 ND is icmpv6 too
n_ike=$(grep -c ':isakmp$' "$pcap.txt" || true)
echo "outer link: $n_ike IKE, $n_esp ESP-in-UDP, $n_icmp ICMP (ND) packets"
check "ESP in UDP on the outer link (16 echo packets)" test "$n_esp" -ge 16
check "no plain ICMP echo on the outer link" \
    test "$(capture_count "$pcap" "icmp.type == 8 || icmp.type == 0 || icmpv6.type == 128 || icmpv6.type == 129")" -eq 0
check "IKE_SA_INIT and IKE_AUTH on the outer link" test "$n_ike" -ge 4

check "moon terminates net" charon_terminate moon net >"$NETNS_WORK/terminate.txt"
check "moon: no SA left" charon_wait_idle moon 5
check "sun: no SA left" charon_wait_idle sun 5
check "table 220 empty in moon" \
    wait_for 3 eval "[ -z \"\$(ns_exec moon ip route show table 220)\" ]"

charon_stop moon
charon_stop sun
log "PASS ($(ms) ms)"
