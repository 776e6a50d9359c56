#!/bin/bash
# Routes of a remote-access responder with address pools (userspace data plane): b hands a
# a virtual address from pool 10.3.0.0/24 and routes each pool into its TUN device once
# (a pool given as a range, 10.4.0.5-10.4.0.20, as the prefixes that make it up), with no
# route per client. Traffic reaches the client's virtual address; a ping to an unassigned
# pool address enters the TUN device and is counted as no_policy instead of leaking to
# the default route. A reload that moves the pool gives the client a route of its own (no
# pool covers it any more), and moving it back takes that route away again. After
# SIGTERM no route of hiked's is left. Needs root; about 10 s.
set -u
. "${HIKE_SOURCE_DIR:?HIKE_SOURCE_DIR not set}/tests/net/lib/hike_pair.sh"
hp_init pool 60
hp_net
T=$HP_T
ip -n "$HP_NSB" addr add 10.2.0.1/32 dev lo

# b_conf POOL: the responder, assigning from vip4 = POOL.
b_conf() {
    cat > "$T/b.conf" << CONF
daemon = { listen = ["$HP_B4"]; control_socket = "$T/b.ctl"; };
pools = { vip4 = { addrs = "$1"; }; spare = { addrs = "10.4.0.5-10.4.0.20"; }; };
connections = { pair = {
  local_addrs = "$HP_B4"; remote_addrs = "$HP_A4";
  local = { auth = "psk"; id = "b.example.net"; }; remote = { auth = "psk"; id = "a.example.net"; };
  psk = "$HP_PSK"; ike = ["aes256gcm16-prfsha256-x25519"]; pools = ["vip4"];
  children = { net = { local_ts = "10.2.0.0/16"; esp = ["aes256gcm16"]; }; };
}; };
CONF
}
b_conf 10.3.0.0/24
cat > "$T/a.conf" << CONF
daemon = { listen = ["$HP_A4"]; control_socket = "$T/a.ctl"; };
connections = { pair = {
  local_addrs = "$HP_A4"; remote_addrs = "$HP_B4";
  local = { auth = "psk"; id = "a.example.net"; }; remote = { auth = "psk"; id = "b.example.net"; };
  psk = "$HP_PSK"; ike = ["aes256gcm16-prfsha256-x25519"]; request_vip = "ipv4";
  start_action = "start";
  children = { net = { remote_ts = "10.2.0.0/16"; esp = ["aes256gcm16"]; }; };
}; };
CONF

# b_routes: b's routes into its TUN device, one per line ("10.3.0.0/24").
b_routes() { ip -n "$HP_NSB" -4 route show | awk '/ dev hike/ {print $1}' | sort; }

hp_start b
hp_start a
hp_wait a 'len(s) == 1 and s[0]["children"] and s[0]["virtual_ips"]' ||
    hp_fail "a: no SA with a virtual address"
hp_wait b 'len(s) == 1 and s[0]["children"]' || hp_fail "b: no child"
hp_json a list-sas > "$T/a.sas"
vip=$(hp_py 'print(j[0][0]["virtual_ips"][0])' "$T/a.sas")
case $vip in 10.3.0.*) ;; *) hp_fail "virtual address $vip not from the pool" ;; esac
# hiked does not put its virtual address on an interface (yet): the test does.
ip -n "$HP_NSA" addr add "$vip/32" dev lo

printf '%s\n' 10.3.0.0/24 10.4.0.16/30 10.4.0.20 10.4.0.5 10.4.0.6/31 10.4.0.8/29 | sort > "$T/want"
b_routes > "$T/routes"
diff -u "$T/want" "$T/routes" > "$T/diff" ||
    hp_fail "b's routes into the TUN device: $(cat "$T/diff"; ip -n "$HP_NSB" route show)"
ok "b routes each pool once (the range as 5 prefixes) and has no route for client $vip"

ip netns exec "$HP_NSB" ping -q -c 3 -i 0.2 -W 2 -I 10.2.0.1 "$vip" > "$T/ping" ||
    hp_fail "ping $vip from b: $(cat "$T/ping")"
ok "b reaches the client's virtual address $vip through the pool route"

hp_json b stats > "$T/s0.json"
ip netns exec "$HP_NSB" ping -q -c 3 -i 0.2 -W 1 -I 10.2.0.1 10.3.0.200 > "$T/ping2" 2>&1 &&
    hp_fail "an unassigned pool address answered"
hp_json b stats > "$T/s1.json"
hp_py 'n = j[1]["dataplane"]["no_policy"] - j[0]["dataplane"]["no_policy"]
print("no_policy +%d" % n)
sys.exit(0 if n >= 3 else 1)' "$T/s0.json" "$T/s1.json" ||
    hp_fail "pings to 10.3.0.200 not counted as no_policy: $(cat "$T/s0.json" "$T/s1.json")"
ok "pings to an unassigned pool address are dropped in the TUN device as no_policy"

# A reload that moves the pool away from the client's address: its own route appears
# (added before the old pool route goes), and traffic still flows.
b_conf 10.3.0.128/25
hp_ctl b reload > /dev/null || hp_fail "reload of b"
printf '%s\n' 10.3.0.128/25 10.4.0.16/30 10.4.0.20 10.4.0.5 10.4.0.6/31 10.4.0.8/29 "$vip" |
    sort > "$T/want"
b_routes > "$T/routes"
diff -u "$T/want" "$T/routes" > "$T/diff" || hp_fail "routes after the reload: $(cat "$T/diff")"
ip netns exec "$HP_NSB" ping -q -c 2 -i 0.2 -W 2 -I 10.2.0.1 "$vip" > "$T/ping" ||
    hp_fail "ping $vip after the reload: $(cat "$T/ping")"
ok "reload to 10.3.0.128/25: the client gets a route of its own, traffic flows"
b_conf 10.3.0.0/24
hp_ctl b reload > /dev/null || hp_fail "second reload of b"
printf '%s\n' 10.3.0.0/24 10.4.0.16/30 10.4.0.20 10.4.0.5 10.4.0.6/31 10.4.0.8/29 | sort > "$T/want"
b_routes > "$T/routes"
diff -u "$T/want" "$T/routes" > "$T/diff" || hp_fail "routes after reloading back: $(cat "$T/diff")"
ok "reload back to 10.3.0.0/24: the pool route again, the client's own route gone"

hp_stop a
hp_stop b
left=$(ip -n "$HP_NSB" route show | grep -c ' dev hike')
[ "$left" = 0 ] || hp_fail "routes left after SIGTERM: $(ip -n "$HP_NSB" route show)"
grep -q 'address pool prefixes routed via' "$T/b.log" || hp_fail "no pool route line in b's log"
ok "no route of b's left after SIGTERM"
echo "PASS"
