#!/bin/bash
# Least privilege (daemon.user): two hiked in two namespaces drop root to a system user after
# start-up. Checked on the running daemons (/proc/PID/status): every uid and gid is the
# user's, only CAP_NET_BIND_SERVICE, CAP_NET_ADMIN and CAP_NET_RAW are permitted and
# effective (0x3400) and in the bounding set, nothing inheritable or ambient. Then, as that
# user: an IKE SA with a Child SA, a ping through the userspace ESP plane (routes added after
# the drop), the keylog files, IKE and Child SA rekeys, reloads (hikectl and SIGHUP), reloads
# that must fail and keep the running configuration (a file the user cannot read, an
# unknown user), SIGTERM (exit 0, the control socket and the routes removed). Last, without
# daemon.user hiked stays root and says so. Creates the system user hike-test if missing and
# removes it again. Needs root; about 15 s.
set -u
. "${HIKE_SOURCE_DIR:?HIKE_SOURCE_DIR not set}/tests/net/lib/hike_pair.sh"
hp_init privdrop 90
PD_USER=hike-test
PD_CREATED=''
pd_cleanup() {
    hp_cleanup
    [ -n "$PD_CREATED" ] && userdel "$PD_USER" 2> /dev/null
    return 0
}
trap pd_cleanup EXIT
if ! getent passwd "$PD_USER" > /dev/null; then
    command -v useradd > /dev/null || hp_fail "useradd (package passwd) not found"
    useradd --system --no-create-home --user-group --shell /usr/sbin/nologin \
        --comment "hike test (tests/net/hike_privdrop.sh)" "$PD_USER" ||
        hp_fail "cannot create user $PD_USER"
    PD_CREATED=1
fi
PD_UID=$(id -u "$PD_USER") PD_GID=$(id -g "$PD_USER")
[ "$PD_UID" != 0 ] || hp_fail "$PD_USER has uid 0"

hp_net
T=$HP_T
# The user reads the configuration (reloads): the directory is its group's, not the world's.
{ chgrp "$PD_USER" "$T" && chmod 0750 "$T"; } || hp_fail "cannot open $T to $PD_USER"
ip -n "$HP_NSA" addr add 10.1.0.1/32 dev lo
ip -n "$HP_NSB" addr add 10.2.0.1/32 dev lo

# pd_conf SIDE START [DAEMON_EXTRA]: hp_conf with daemon.user, a keylog directory, and the
# control socket in a directory hiked creates ($T/run-SIDE, reached through $T/SIDE.ctl).
pd_conf() {
    hp_conf "$1" "$2" "" "user = \"$PD_USER\"; keylog_dir = \"$T/keys-$1\"; ${3:-}"
    sed -i "s|control_socket = \"$T/$1.ctl\"|control_socket = \"$T/run-$1/hiked.ctl\"|" "$T/$1.conf"
    ln -sfn "run-$1/hiked.ctl" "$T/$1.ctl"
}
pd_conf a start
pd_conf b none
cp "$T/a.conf" "$T/a.conf.orig"

# start_fails WHY TEXT [PREFIX...]: hiked a (under PREFIX, e.g. setpriv) must exit 1 at
# start with TEXT in its log, and leave no control socket.
start_fails() {
    local why=$1 text=$2 rc=0
    shift 2
    timeout 10 ip netns exec "$HP_NSA" "$@" "$HP_HIKED" -c "$T/a.conf" 2> "$T/fail.log" || rc=$?
    [ $rc = 1 ] || hp_fail "$why: exit status $rc, want 1: $(cat "$T/fail.log")"
    grep -qF "$text" "$T/fail.log" || hp_fail "$why: log: $(cat "$T/fail.log")"
    [ ! -e "$T/run-a/hiked.ctl" ] || hp_fail "$why: control socket left behind"
    grep -q "IKE SA" "$T/fail.log" && hp_fail "$why: connections started: $(cat "$T/fail.log")"
    return 0
}
# A step of the drop that fails (no CAP_SETUID in the bounding set: setresuid is refused).
start_fails "no CAP_SETUID" "cannot drop root privileges to user $PD_USER: setresuid: Operation not permitted" \
    setpriv --bounding-set -setuid --
# The configuration the user could not read on reload.
chmod 0600 "$T/a.conf"
start_fails "config 0600" "as user $PD_USER: cannot read $T/a.conf: Permission denied"
chmod 0644 "$T/a.conf"
rm -rf "$T/run-a"
ok "a failed drop, or a configuration the user cannot read: hiked exits 1 at start"

hp_start b
hp_start a

# status SIDE FIELD: the field of /proc/PID/status of SIDE's hiked, tabs as spaces.
status() {
    local pid
    eval "pid=\$HP_PID_$1"
    sed -n "s/^$2:[[:space:]]*//p" "/proc/$pid/status" | tr '\t' ' '
}
for side in a b; do
    eval "pid=\$HP_PID_$side"
    [ "$(cat "/proc/$pid/comm")" = hiked ] || hp_fail "$side: pid $pid is $(cat "/proc/$pid/comm")"
    # The drop happens before the connections start; wait for its line, then look.
    for _ in $(seq 50); do
        grep -q "dropped root" "$T/$side.log" && break
        sleep 0.1
    done
    grep -q "dropped root: running as user $PD_USER (uid $PD_UID, gid $PD_GID)" "$T/$side.log" ||
        hp_fail "$side: no drop line in the log"
    [ "$(status $side Uid)" = "$PD_UID $PD_UID $PD_UID $PD_UID" ] || hp_fail "$side: Uid: $(status $side Uid)"
    [ "$(status $side Gid)" = "$PD_GID $PD_GID $PD_GID $PD_GID" ] || hp_fail "$side: Gid: $(status $side Gid)"
    [ "$(status $side Groups | tr -d ' ')" = "$PD_GID" ] || hp_fail "$side: Groups: $(status $side Groups)"
    # CAP_NET_BIND_SERVICE (10), CAP_NET_ADMIN (12), CAP_NET_RAW (13): 0x400 | 0x1000 | 0x2000.
    for f in CapPrm CapEff CapBnd; do
        [ "$(status $side $f)" = 0000000000003400 ] || hp_fail "$side: $f: $(status $side $f)"
    done
    for f in CapInh CapAmb; do
        [ "$(status $side $f)" = 0000000000000000 ] || hp_fail "$side: $f: $(status $side $f)"
    done
    ok "$side: running as $PD_USER ($PD_UID:$PD_GID), capabilities 0x3400 only, none inheritable or ambient"
done

hp_wait a 'len(s) == 1 and s[0]["state"] == "ESTABLISHED" and s[0]["children"]' ||
    hp_fail "not established"
hp_wait b 'len(s) == 1 and s[0]["children"]' || hp_fail "b has no child"
ok "IKE SA with a Child SA between the two unprivileged daemons"

# ping_through TAG: 5 pings from a's LAN to b's, counted by a's Child SA both ways.
ping_through() {
    ip netns exec "$HP_NSA" ping -q -c 5 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1 > "$T/$1.ping" ||
        hp_fail "$1: ping through the tunnel: $(cat "$T/$1.ping")"
    hp_json a list-sas > "$T/$1.sas"
    hp_py 't = j[0][0]["children"][0]["traffic"]
sys.exit(0 if t["packets_out"] >= 5 and t["packets_in"] >= 5 else 1)' "$T/$1.sas" ||
        hp_fail "$1: traffic counters: $(cat "$T/$1.sas")"
}
ping_through first
ip -n "$HP_NSA" route show 10.2.0.0/16 | grep -q "dev hike" ||
    hp_fail "a: no route to 10.2.0.0/16 via the TUN device: $(ip -n "$HP_NSA" route)"
ok "ping 10.1.0.1 -> 10.2.0.1 through the userspace ESP plane (route added after the drop)"

# The keylog directory was made for the user at start; the files are written after the drop.
for f in ikev2_decryption_table esp_sa; do
    [ -s "$T/keys-a/$f" ] || hp_fail "keylog: $T/keys-a/$f missing or empty"
    [ "$(stat -c %U:%a "$T/keys-a/$f")" = "$PD_USER:600" ] ||
        hp_fail "keylog: $f is $(stat -c %U:%a "$T/keys-a/$f")"
done
[ "$(stat -c %U:%a "$T/keys-a")" = "$PD_USER:700" ] || hp_fail "keylog dir: $(stat -c %U:%a "$T/keys-a")"
ok "keylog: directory and files written as $PD_USER, 0700/0600"

# Rekeys: the IKE SA by a, the Child SA by b.
hp_json a list-sas > "$T/s.json"
old=$(hp_py 'print(j[0][0]["name"])' "$T/s.json")
id=$(hp_py 'print(j[0][0]["id"])' "$T/s.json")
hp_ctl a rekey "$id" > /dev/null || hp_fail "a: rekey IKE SA $id"
hp_wait a "len(s) == 1 and s[0]['name'] != '$old' and s[0]['state'] == 'ESTABLISHED' and len(s[0]['children']) == 1" ||
    hp_fail "IKE SA rekey did not complete"
hp_json b list-sas > "$T/s.json"
cid=$(hp_py 'print(j[0][0]["children"][0]["id"])' "$T/s.json")
spi=$(hp_py 'print(j[0][0]["children"][0]["spi_in"])' "$T/s.json")
hp_ctl b rekey "$cid" > /dev/null || hp_fail "b: rekey Child SA $cid"
hp_wait b "len(s) == 1 and len(s[0]['children']) == 1 and s[0]['children'][0]['spi_in'] != '$spi' and s[0]['children'][0]['state'] == 'INSTALLED'" ||
    hp_fail "Child SA rekey did not complete"
hp_wait a "len(s) == 1 and len(s[0]['children']) == 1 and '$spi' not in (s[0]['children'][0]['spi_out'],)" ||
    hp_fail "a did not follow the Child SA rekey"
ping_through rekeyed
ok "IKE SA rekey by a, Child SA rekey by b, traffic still flows"

# Reloads as the user: hikectl on a, SIGHUP on b.
out=$(hp_ctl a reload) || hp_fail "a: reload: $out"
[ "$out" = "configuration reloaded from $T/a.conf: 1 connections" ] || hp_fail "a: reload: $out"
kill -HUP "$HP_PID_b"
for _ in $(seq 50); do
    grep -q "configuration reloaded from $T/b.conf" "$T/b.log" && break
    sleep 0.1
done
grep -q "configuration reloaded from $T/b.conf" "$T/b.log" || hp_fail "b: SIGHUP did not reload"
ok "reload as $PD_USER: hikectl reload (a), SIGHUP (b)"

# reload_fails WHY TEXT: hikectl reload on a must fail with TEXT in its message, the IKE SA
# stays, and the log says the running configuration is kept.
reload_fails() {
    local out
    if out=$(hp_ctl a reload 2>&1); then hp_fail "$1: reload succeeded: $out"; fi
    [[ "$out" == *"$2"* ]] || hp_fail "$1: reload message: $out"
    grep -q "reload failed, keeping the running configuration: .*$2" "$T/a.log" ||
        hp_fail "$1: no log line"
    hp_wait a 'len(s) == 1 and s[0]["state"] == "ESTABLISHED" and s[0]["children"]' 1 ||
        hp_fail "$1: the IKE SA did not survive the failed reload"
}
# 1. The configuration file itself, unreadable for the user.
chmod 0600 "$T/a.conf"
reload_fails "config 0600" "$T/a.conf: Permission denied"
chmod 0644 "$T/a.conf"
# 2. A certificate connection whose key the user cannot read (keys load when first used:
# the reload checks them at once). Readable, the same reload succeeds.
echo "not a key" > "$T/key.pem"
echo "not a cert" > "$T/cert.pem"
chmod 0600 "$T/key.pem"
sed '$d' "$T/a.conf.orig" > "$T/a.conf"
cat >> "$T/a.conf" << CONF
  certs = {
    local_addrs = "$HP_A4"; remote_addrs = "192.0.2.99";
    local = { auth = "pubkey"; cert = "cert.pem"; key = "key.pem"; };
    remote = { auth = "pubkey"; ca = "cert.pem"; };
  };
};
CONF
reload_fails "key 0600" "connection certs: cannot read $T/key.pem: Permission denied"
chmod 0644 "$T/key.pem"
out=$(hp_ctl a reload) || hp_fail "reload with a readable key: $out"
[ "$out" = "configuration reloaded from $T/a.conf: 2 connections" ] || hp_fail "reload: $out"
# 3. An unknown user, as hiked -t refuses it.
sed "s|user = \"$PD_USER\";|user = \"hike-no-such-user\";|" "$T/a.conf.orig" > "$T/a.conf"
reload_fails "unknown user" "daemon.user: no such user 'hike-no-such-user'"
# 4. Another (existing) user: the reload succeeds, the switch waits for a restart, and says so.
sed "s|user = \"$PD_USER\";|user = \"root\";|" "$T/a.conf.orig" > "$T/a.conf"
out=$(hp_ctl a reload) || hp_fail "reload with daemon.user root: $out"
grep -q "daemon.user/daemon.group changed: applied at the next start; still running as uid $PD_UID, gid $PD_GID" \
    "$T/a.log" || hp_fail "no warning for the changed user"
[ "$(status a Uid)" = "$PD_UID $PD_UID $PD_UID $PD_UID" ] || hp_fail "a's Uid after the reload: $(status a Uid)"
cp "$T/a.conf.orig" "$T/a.conf"
out=$(hp_ctl a reload) || hp_fail "reload of the first configuration: $out"
ok "reloads that cannot read a file (config, key) or name an unknown user fail and keep the configuration; a changed user waits for a restart"

# SIGTERM: the SAs are deleted, exit 0; the unprivileged daemon removed its control socket
# and, with CAP_NET_ADMIN, its routes.
hp_stop a
hp_stop b
for side in a b; do
    [ ! -e "$T/run-$side/hiked.ctl" ] || hp_fail "$side: control socket left behind"
done
[ -z "$(ip -n "$HP_NSA" route show 10.2.0.0/16)" ] || hp_fail "a: route left: $(ip -n "$HP_NSA" route)"
ok "SIGTERM: both exit 0, control sockets and routes removed"

# As dist/hiked.service starts it: the unit's bounding set and no_new_privs (setpriv), root
# to begin with. b drops to the user there too, narrows its bounding set to the three, and
# carries traffic.
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$HIKE_SOURCE_DIR/dist/hiked.service")
[ -n "$caps" ] || hp_fail "no CapabilityBoundingSet= in dist/hiked.service"
bset=-all
for c in $caps; do bset="$bset,+$(tr '[:upper:]' '[:lower:]' <<< "${c#CAP_}")"; done
printf '#!/bin/sh\nexec setpriv --nnp --bounding-set %s -- %s "$@"\n' "$bset" "$HP_HIKED" > "$T/hiked-unit"
chmod 0755 "$T/hiked-unit"
real_hiked=$HP_HIKED
HP_HIKED=$T/hiked-unit
# The socket's directory as the unit's RuntimeDirectory= makes it: fresh, root's, 0700.
{ rm -rf "$T/run-b" && mkdir -m 0700 "$T/run-b"; } || hp_fail "cannot make $T/run-b"
: > "$T/b.log"
hp_start b
HP_HIKED=$real_hiked
: > "$T/a.log"
hp_start a
hp_wait a 'len(s) == 1 and s[0]["state"] == "ESTABLISHED" and s[0]["children"]' ||
    hp_fail "unit: not established"
[ "$(status b NoNewPrivs)" = 1 ] || hp_fail "unit: setpriv did not set no_new_privs"
[ "$(status b Uid)" = "$PD_UID $PD_UID $PD_UID $PD_UID" ] || hp_fail "unit: Uid: $(status b Uid)"
for f in CapPrm CapEff CapBnd; do
    [ "$(status b $f)" = 0000000000003400 ] || hp_fail "unit: $f: $(status b $f)"
done
ping_through unit
hp_stop a
hp_stop b
ok "under the unit's bounding set ($caps) and no_new_privs: the same drop, traffic flows"

# Without daemon.user: root, as before, and one info line that says so.
hp_conf b none
rm -f "$T/b.ctl"
: > "$T/b.log"
hp_start b
for _ in $(seq 50); do
    grep -q "running as root" "$T/b.log" && break
    sleep 0.1
done
grep -q "running as root (daemon.user not set)" "$T/b.log" || hp_fail "b: no 'running as root' line"
[ "$(status b Uid)" = "0 0 0 0" ] || hp_fail "b without daemon.user: Uid: $(status b Uid)"
hp_stop b
ok "without daemon.user: stays root and logs it"
echo PASS
