#!/usr/bin/env bash
# The main job: two hiked in two network namespaces bring up an IKE SA with a Child SA
# (PSK, AES-GCM, X25519), show it from both sides with hikectl, ping through it (ESP in
# hike's userspace data plane), rekey it, then stop both daemons (which delete the SAs)
# and clean up. Needs root (network namespaces).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
hiked=$build/hiked hikectl=$build/hikectl
[ -x "$hiked" ] && [ -x "$hikectl" ] || { echo "demo: build hiked and hikectl first" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "demo: needs root for network namespaces" >&2; exit 1; }

id=$$
nsa=hike-demo-a-$id nsb=hike-demo-b-$id
work=$(mktemp -d /tmp/hike-demo.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ip netns del "$nsa" 2>/dev/null || true
    ip netns del "$nsb" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "two hosts: $nsa (192.0.2.1) and $nsb (192.0.2.2) on a veth pair"
ip netns add "$nsa"
ip netns add "$nsb"
ip link add "va$id" netns "$nsa" type veth peer name "vb$id" netns "$nsb"
ip -n "$nsa" addr add 192.0.2.1/24 dev "va$id"
ip -n "$nsb" addr add 192.0.2.2/24 dev "vb$id"
for ns in "$nsa" "$nsb"; do
    ip -n "$ns" link set lo up
done
ip -n "$nsa" link set "va$id" up
ip -n "$nsb" link set "vb$id" up
# Each host's LAN, on lo: the tunnel carries 10.1.0.0/16 <-> 10.2.0.0/16.
ip -n "$nsa" addr add 10.1.0.1/32 dev lo
ip -n "$nsb" addr add 10.2.0.1/32 dev lo

psk="0x$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
conf() { # me peer myname peername local_ts remote_ts start ctl
    cat <<CONF
daemon = { listen = ["$1"]; control_socket = "$8"; log_level = "info"; };
connections = {
  demo = {
    local_addrs = "$1"; remote_addrs = "$2";
    local = { auth = "psk"; id = "$3.example.net"; };
    remote = { auth = "psk"; id = "$4.example.net"; };
    psk = "$psk";
    ike = ["aes256gcm16-prfsha256-x25519"];
    start_action = "$7";
    children = { net = { local_ts = "$5"; remote_ts = "$6"; esp = ["aes256gcm16"]; }; };
  };
};
CONF
}
conf 192.0.2.1 192.0.2.2 alice bob 10.1.0.0/16 10.2.0.0/16 start "$work/a.ctl" >"$work/a.conf"
conf 192.0.2.2 192.0.2.1 bob alice 10.2.0.0/16 10.1.0.0/16 none "$work/b.ctl" >"$work/b.conf"

say "starting hiked in both (bob responds, alice initiates at start)"
ip netns exec "$nsb" "$hiked" -c "$work/b.conf" 2>"$work/b.log" &
pids+=($!)
sleep 0.3
ip netns exec "$nsa" "$hiked" -c "$work/a.conf" 2>"$work/a.log" &
pids+=($!)

up() { "$hikectl" -s "$1" --json list-sas 2>/dev/null | grep -q '"ESTABLISHED"'; }
for _ in $(seq 50); do
    up "$work/a.ctl" && up "$work/b.ctl" && break
    sleep 0.2
done
if ! up "$work/a.ctl" || ! up "$work/b.ctl"; then
    echo "demo: the IKE SA did not come up; logs:" >&2
    cat "$work/a.log" "$work/b.log" >&2
    exit 1
fi

say "alice: hikectl list-sas"
"$hikectl" -s "$work/a.ctl" list-sas
say "bob: hikectl list-sas"
"$hikectl" -s "$work/b.ctl" list-sas

say "ping from alice's LAN (10.1.0.1) to bob's (10.2.0.1): ESP through hike's userspace data plane"
ip netns exec "$nsa" ping -c 3 -i 0.2 -I 10.1.0.1 10.2.0.1 || echo "demo: ping failed" >&2
"$hikectl" -s "$work/a.ctl" list-sas

say "alice rekeys the IKE SA (CREATE_CHILD_SA); the Child SA moves to the new one"
ike=$("$hikectl" -s "$work/a.ctl" --json list-sas | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
"$hikectl" -s "$work/a.ctl" rekey "$ike"
sleep 0.5
"$hikectl" -s "$work/b.ctl" list-sas

say "bob: hikectl stats"
"$hikectl" -s "$work/b.ctl" stats | head -20

say "stopping both daemons (SIGTERM deletes the SAs)"
kill -TERM "${pids[1]}"
wait "${pids[1]}" || true
sleep 0.3
kill -TERM "${pids[0]}"
wait "${pids[0]}" || true
pids=()

say "alice's log"
cat "$work/a.log"
say "bob's log"
cat "$work/b.log"
say "demo done"
