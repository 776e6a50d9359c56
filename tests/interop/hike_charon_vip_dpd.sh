#!/usr/bin/env bash
# hike <-> strongSwan charon: a virtual IP assigned by each side's pool (RFC 7296 2.19),
# and DPD (2.4) noticing a dead peer on each side.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${HIKE_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
source "$src/tests/net/lib/netns.sh"
source "$here/lib/charon.sh"
source "$here/lib/hiked.sh"

netns_setup 110
charon_require
hiked_require
PY=/usr/bin/python3

hiked_charon_net
psk='interop vip/dpd psk: 81c2f3a4'
charon_start moon moon
hk() { hiked_ctl sun "$@"; }
# A field of hike's only IKE SA (python expression on s, the SA), or "none".
hike_field() {
    hk --json list-sas | "$PY" -c "
import json, sys
l = json.load(sys.stdin)
s = l[0] if len(l) == 1 else None
print($1 if s else 'none')"
}

# --- charon's pool, hike asks (road warrior hike -> gateway charon) ---
charon_conf_psk "$NETNS_WORK/moon.d" psk="$psk" local=192.0.2.1 remote=192.0.2.2 \
    local_id=moon.example.org remote_id=sun.example.org \
    local_ts=10.1.0.0/24 remote_ts=dynamic extra_conn='pools = p4'
cat >>"$NETNS_WORK/moon.d/swanctl.conf" <<'CONF'
pools {
    p4 {
        addrs = 10.98.0.0/24
        dns = 10.98.0.53
    }
}
CONF
charon_load moon "$NETNS_WORK/moon.d"
hiked_conf_psk "$NETNS_WORK/sun.conf" name=sun psk="$psk" local=192.0.2.2 remote=192.0.2.1 \
    local_id=sun.example.org remote_id=moon.example.org \
    local_ts=dynamic remote_ts=10.1.0.0/24 extra_conn='request_vip = "ipv4";'
hiked_start sun sun "$NETNS_WORK/sun.conf"
check "hike initiates toward charon's pool" hk initiate net
vips() { hike_field '",".join(s["virtual_ips"])'; }
child_lts() { hike_field '",".join(s["children"][0]["local_ts"]) if s["children"] else ""'; }
check "hike got a virtual IP from charon's pool" wait_for 10 eval '[ "$(vips)" = 10.98.0.1 ]'
check "hike's child uses the virtual IP as its selector" \
    eval '[ "$(child_lts)" = 10.98.0.1-10.98.0.1 ]'
charon_list_sas moon | tee "$NETNS_WORK/moon-vip.txt"
check "charon leased 10.98.0.1 to hike" grep -q "10.98.0.1" "$NETNS_WORK/moon-vip.txt"
check "hike terminates" hk terminate net
check "charon idle" charon_wait_idle moon 10
hiked_stop sun

# --- hike's pool, charon asks ---
hiked_conf_psk "$NETNS_WORK/sun2.conf" name=sun psk="$psk" local=192.0.2.2 remote=192.0.2.1 \
    local_id=sun.example.org remote_id=moon.example.org \
    local_ts=10.2.0.0/24 remote_ts=dynamic extra_conn='pools = ["p4"];'
cat >>"$NETNS_WORK/sun2.conf" <<'CONF'
pools = { p4 = { addrs = "10.97.0.0/24"; dns = ["10.97.0.53"]; }; };
CONF
hiked_start sun sun "$NETNS_WORK/sun2.conf"
charon_conf_psk "$NETNS_WORK/moon2.d" psk="$psk" local=192.0.2.1 remote=192.0.2.2 \
    local_id=moon.example.org remote_id=sun.example.org \
    local_ts=dynamic remote_ts=10.2.0.0/24 extra_conn='vips = 0.0.0.0'
charon_load moon "$NETNS_WORK/moon2.d"
check "charon initiates toward hike's pool" charon_initiate moon net net
charon_list_sas moon | tee "$NETNS_WORK/moon-vip2.txt"
check "charon got 10.97.0.1 from hike's pool" grep -q "10.97.0.1" "$NETNS_WORK/moon-vip2.txt"
check "hike lists the lease" eval '[ "$(vips)" = 10.97.0.1 ]'
check "charon terminates" charon_terminate moon net
check "hike idle" wait_for 5 eval '[ "$(hk list-sas)" = "no IKE SAs" ]'
hiked_stop sun

# --- DPD: hike notices a dead charon ---
hiked_conf_psk "$NETNS_WORK/sun3.conf" name=sun psk="$psk" local=192.0.2.2 remote=192.0.2.1 \
    local_id=sun.example.org remote_id=moon.example.org \
    local_ts=10.2.0.0/24 remote_ts=10.1.0.0/24 dpd_delay=2s \
    extra_daemon='retransmit_timeout = "300ms"; retransmit_tries = 2;'
hiked_start sun sun "$NETNS_WORK/sun3.conf"
charon_conf_psk "$NETNS_WORK/moon3.d" psk="$psk" local=192.0.2.1 remote=192.0.2.2 \
    local_id=moon.example.org remote_id=sun.example.org \
    local_ts=10.1.0.0/24 remote_ts=10.2.0.0/24 dpd_delay=2s
charon_load moon "$NETNS_WORK/moon3.d"
check "hike initiates (DPD on both)" hk initiate net
check "charon up" charon_wait_child moon net INSTALLED 10
sleep 3
check "DPD exchanges answered: still up after 3 s" eval '[ "$(hike_field "s[\"state\"]")" = ESTABLISHED ]'
kill -STOP "${CHARON_PID[moon]}"
check "hike declares charon dead and deletes the SA" \
    wait_for 15 eval '[ "$(hk list-sas)" = "no IKE SAs" ]'
check "hike counted a dead peer" \
    eval "hk --json stats | $PY -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"ike\"][\"dpd_dead\"] != 1)'"
kill -CONT "${CHARON_PID[moon]}"

# --- DPD: charon notices a dead hike ---
# charon still holds the SA hike gave up on; make it forget it (its answer does not matter).
charon_swanctl moon --terminate --ike net --force --timeout 2 >/dev/null 2>&1 || true
check "charon idle" charon_wait_idle moon 30
check "hike initiates again" hk initiate net
check "charon up again" charon_wait_child moon net INSTALLED 10
kill -STOP "${HIKED_PID[sun]}"
check "charon declares hike dead" charon_wait_idle moon 40
kill -CONT "${HIKED_PID[sun]}"

hiked_stop sun
charon_stop moon
log "PASS"
