#!/bin/bash
# hikectl against a hiked on loopback in a network namespace of its own: every command,
# --json, errors and their exit codes, the socket's mode, bad input on the socket, reload,
# and a clean stop on SIGTERM. A second hiked on 127.0.0.2 is the peer, so list-sas shows
# established SAs. Needs root (network namespaces); a few seconds.
set -u
B=${HIKE_BUILD_DIR:?HIKE_BUILD_DIR not set}
HIKED=$B/hiked
CTL=$B/hikectl
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root for network namespaces"
    exit 0
fi

# The system's interpreter: a version manager's shim can take a second per start.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
NS=hikectl-$$
T=$(mktemp -d /tmp/hikectl-test.XXXXXX)
SOCK=$T/a/hiked.ctl
PID=
PEER=
cleanup() {
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
    [ -n "$PEER" ] && kill -KILL "$PEER" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    echo "--- hiked log:"
    cat "$T/hiked.log"
    echo "--- peer log:"
    cat "$T/b.log"
    exit 1
}
ok() { echo "ok: $*"; }
hc() { "$CTL" -s "$SOCK" "$@"; }

# conf NAME LISTEN PEER MY-ID PEER-ID MY-TS PEER-TS [MORE CONNECTIONS]: $T/NAME.conf, socket
# $T/NAME/hiked.ctl (the directory is left to hiked to create).
conf() {
    cat > "$T/$1.conf" <<CONF
daemon = { listen = ["$2"]; control_socket = "$T/$1/hiked.ctl"; };
connections = {
  office = {
    local_addrs = "$2";
    remote_addrs = "$3";
    local = { auth = "psk"; id = "$4"; };
    remote = { auth = "psk"; id = "$5"; };
    psk = "0123456789abcdef0123456789abcdef";
    children = { lan = { local_ts = "$6"; remote_ts = "$7"; }; };
  };
  ${8:-}
};
CONF
}
conf_a() { conf a 127.0.0.1 127.0.0.2 a.example b.example 10.1.0.0/16 10.2.0.0/16 "${1:-}"; }
conf_b() { conf b 127.0.0.2 127.0.0.1 b.example a.example 10.2.0.0/16 10.1.0.0/16; }
# Waits (60 tries, a few seconds) for a Python expression over list-sas --json (s) of daemon $1 to hold.
wait_sas() {
    for _ in $(seq 60); do
        "$CTL" -s "$T/$1/hiked.ctl" --json list-sas |
            "$PY" -c "import json, sys; s = json.load(sys.stdin); sys.exit(0 if ($2) else 1)" &&
            return 0
        sleep 0.05
    done
    return 1
}

# Two daemons in one namespace: a (the one under test) on 127.0.0.1, its peer b on 127.0.0.2.
ip netns add "$NS" || fail "cannot create namespace $NS"
ip -n "$NS" link set lo up
conf_a
conf_b
ip netns exec "$NS" "$HIKED" -c "$T/b.conf" 2> "$T/b.log" &
PEER=$!
ip netns exec "$NS" "$HIKED" -c "$T/a.conf" 2> "$T/hiked.log" &
PID=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && [ -S "$T/b/hiked.ctl" ] && break; sleep 0.05; done
[ -S "$SOCK" ] || fail "no control socket after 2.5 s"

# The socket: 0600, in a directory hiked created 0700.
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "socket mode $(stat -c %a "$SOCK")"
[ "$(stat -c %a "$T/a")" = 700 ] || fail "directory mode $(stat -c %a "$T/a")"
ok "socket mode 0600, directory 0700"

# --help names every command the tool has.
help=$("$CTL" --help) || fail "--help exit $?"
for c in list-sas list-conns initiate terminate rekey reload stats log-level clone; do
    grep -q "^  $c" <<< "$help" || fail "--help does not list $c"
done
ok "--help"

out=$(hc list-conns) || fail "list-conns exit $?"
grep -q '^office ' <<< "$out" || fail "list-conns: no office: $out"
grep -q '^  lan ' <<< "$out" || fail "list-conns: no child lan: $out"
hc --json list-conns | "$PY" -c '
import json, sys
c = json.load(sys.stdin)
assert [x["name"] for x in c] == ["office"], c
assert c[0]["remote_addrs"] == ["127.0.0.2"] and c[0]["local_id"] == "fqdn:a.example", c
assert c[0]["children"][0]["remote_ts"] == ["10.2.0.0/16"], c
assert "psk" not in c[0] or c[0]["psk"] is None
' || fail "list-conns --json"
ok "list-conns"

hc stats | grep -q '^ike.drops.bad-header ' || fail "stats: no drop counters"
hc stats --json | "$PY" -c '
import json, sys
s = json.load(sys.stdin)
assert s["sas"]["ike"] == 0 and "retransmits" in s["ike"] and "bad-icv" in s["ike"]["drops"], s
' || fail "stats --json"
ok "stats"

[ "$(hc log-level debug)" = "log level debug (was info)" ] || fail "log-level debug"
[ "$(hc log-level)" = "log level debug" ] || fail "log-level query"
hc log-level loud 2> "$T/err" && fail "log-level loud accepted"
grep -q "unknown log level 'loud'" "$T/err" || fail "log-level loud: $(cat "$T/err")"
ok "log-level"

hc initiate nosuch 2> "$T/err"
rc=$?
[ $rc = 1 ] || fail "initiate nosuch: exit $rc"
grep -q "unknown connection 'nosuch'" "$T/err" || fail "initiate nosuch: $(cat "$T/err")"
hc terminate nosuch 2> /dev/null && fail "terminate nosuch accepted"
ok "unknown names exit 1"

# An IKE SA with the peer: listed on both sides with matching SPIs, then terminated.
out=$(hc initiate office) || fail "initiate office exit $?"
id=$(sed -n 's/^initiating office: IKE SA \([0-9]*\)$/\1/p' <<< "$out")
[ -n "$id" ] || fail "initiate office: $out"
wait_sas a 'len(s) == 1 and s[0]["state"] == "ESTABLISHED" and s[0]["children"]' ||
    fail "not established: $(hc list-sas)"
hc list-sas | grep -q "^$id .* office .*ESTABLISHED .*initiator .*fqdn:b.example" ||
    fail "list-sas: $(hc list-sas)"
hc list-sas | grep -q "^  [0-9]* *lan .*INSTALLED .*tunnel" || fail "list-sas child: $(hc list-sas)"
hc --json list-sas > "$T/a.json" || fail "list-sas --json a"
"$CTL" -s "$T/b/hiked.ctl" --json list-sas > "$T/b.json" || fail "list-sas --json b"
"$PY" - "$T/a.json" "$T/b.json" <<'PY' || fail "list-sas --json: $(cat "$T/a.json" "$T/b.json")"
import json, sys
a, = json.load(open(sys.argv[1]))
b, = json.load(open(sys.argv[2]))
assert a["name"] == b["name"] and a["initiator"] and not b["initiator"], (a, b)
assert a["local"] == "127.0.0.1:500" and a["remote"] == "127.0.0.2:500", a
assert a["peer_id"] == {"type": "fqdn", "value": "b.example"}, a
assert b["peer_id"] == {"type": "fqdn", "value": "a.example"}, b
assert a["algorithms"] and a["algorithms"] == b["algorithms"], (a, b)
assert a["established_age"] is not None and a["msgid_out"] >= 2, a
ca, = a["children"]
cb, = b["children"]
assert ca["spi_in"] == cb["spi_out"] and ca["spi_out"] == cb["spi_in"], (ca, cb)
assert len(ca["spi_in"]) == 8 and ca["mode"] == "tunnel" and ca["state"] == "INSTALLED", ca
assert ca["local_ts"] == ["10.1.0.0-10.1.255.255"] and ca["remote_ts"] == cb["local_ts"], (ca, cb)
PY
# Rekey the IKE SA: a new one with new SPIs takes the Child SA over (RFC 7296 2.18).
old_name=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["name"])' "$T/a.json")
child_spi=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["children"][0]["spi_in"])' "$T/a.json")
[ "$(hc rekey "$id")" = "rekeying IKE SA $id" ] || fail "rekey $id"
wait_sas a "len(s) == 1 and s[0]['name'] != '$old_name' and s[0]['state'] == 'ESTABLISHED' and s[0]['children'] and s[0]['children'][0]['spi_in'] == '$child_spi'" ||
    fail "IKE rekey: $(hc list-sas)"
wait_sas b "len(s) == 1 and s[0]['name'] != '$old_name'" || fail "IKE rekey, peer: $(hc -s "$T/b/hiked.ctl" list-sas)"
hc --json list-sas > "$T/a.json" || fail "list-sas after rekey"
id=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["id"])' "$T/a.json")
cid=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["children"][0]["id"])' "$T/a.json")
# Rekey the Child SA: new SPIs, still one child.
[ "$(hc rekey "$cid")" = "rekeying Child SA $cid" ] || fail "rekey child $cid"
wait_sas a "len(s) == 1 and len(s[0]['children']) == 1 and s[0]['children'][0]['spi_in'] != '$child_spi'" ||
    fail "child rekey: $(hc list-sas)"
hc rekey 999 2> "$T/err" && fail "rekey of an unknown id accepted"
grep -q "no IKE SA or Child SA with id 999" "$T/err" || fail "rekey 999: $(cat "$T/err")"
# Clone the IKE SA (RFC 7791): a second IKE SA of the same family on both sides, the Child SA
# stays with the first; the clone goes by id, the first SA stays.
out=$(hc clone "$id") || fail "clone $id: $out"
nid=$(sed -n "s/^cloning IKE SA $id: new IKE SA \([0-9]*\)$/\1/p" <<< "$out")
[ -n "$nid" ] || fail "clone $id: $out"
wait_sas a "len(s) == 2 and all(x['state'] == 'ESTABLISHED' and x['family'] == s[0]['family'] and x['clone'] for x in s) and [len(x['children']) for x in s] == [1, 0]" ||
    fail "clone: $(hc list-sas)"
wait_sas b "len(s) == 2 and s[0]['family'] == s[1]['family'] and s[0]['family_age'] is not None" ||
    fail "clone, peer: $(hc -s "$T/b/hiked.ctl" list-sas)"
hc list-sas | grep -q "^$nid *[0-9]* .* office .*ESTABLISHED" || fail "list-sas clone row: $(hc list-sas)"
hc clone 999 2> "$T/err" && fail "clone of an unknown id accepted"
grep -q "no IKE SA with id 999" "$T/err" || fail "clone 999: $(cat "$T/err")"
[ "$(hc terminate "$nid")" = "terminating 1 IKE SA of office: $nid" ] || fail "terminate $nid"
wait_sas a "len(s) == 1 and s[0]['id'] == $id" || fail "after terminating the clone: $(hc list-sas)"
wait_sas b 'len(s) == 1' || fail "peer kept the clone"
[ "$(hc terminate "$id")" = "terminating 1 IKE SA of office: $id" ] || fail "terminate $id"
wait_sas a 'not s' || fail "after terminate: $(hc list-sas)"
wait_sas b 'not s' || fail "peer kept its SA"
[ "$(hc list-sas)" = "no IKE SAs" ] || fail "empty list-sas: $(hc list-sas)"
hc initiate office > /dev/null || fail "second initiate"
wait_sas a 'len(s) == 1 and s[0]["state"] == "ESTABLISHED"' || fail "second SA not established"
hc terminate office | grep -q "^terminating 1 IKE SA of office: " || fail "terminate office"
wait_sas b 'not s' || fail "peer kept its second SA"
hc stats --json | "$PY" -c '
import json, sys
s = json.load(sys.stdin)["ike"]
assert s["exchanges"]["ike_sa_init"] == 2 and s["exchanges"]["ike_auth"] == 2, s
# Two IKE_AUTHs, one IKE rekey (a third IKE SA), one clone (a fourth) and one Child SA rekey
# (a third child).
assert s["ike_up"] == 4 and s["child_up"] == 3 and s["clones"] == 1, s
assert s["exchanges"]["create_child_sa"] == 3, s
' || fail "stats after two SAs: $(hc stats)"
ok "initiate, list-sas, IKE and Child SA rekey, clone, terminate by id and by name, stats"

# Reload picks up a new connection; a broken file keeps the running one.
conf_a 'branch = { remote_addrs = "127.0.0.3"; local = { auth = "psk"; }; psk = "0123456789abcdef0123456789abcdef"; };'
hc reload > /dev/null || fail "reload exit $?"
hc list-conns | grep -q '^branch ' || fail "reload: no branch"
echo 'connections = { broken' > "$T/a.conf"
hc reload 2> "$T/err" && fail "broken reload accepted"
grep -q "reload failed" "$T/err" || fail "broken reload: $(cat "$T/err")"
hc list-conns | grep -q '^branch ' || fail "broken reload lost the running configuration"
# SIGHUP reloads too: a connection added to the file appears.
conf_a 'twig = { remote_addrs = "127.0.0.4"; local = { auth = "psk"; }; psk = "0123456789abcdef0123456789abcdef"; };'
kill -HUP "$PID"
for _ in $(seq 40); do hc list-conns | grep -q '^twig ' && break; sleep 0.05; done
hc list-conns | grep -q '^twig ' || fail "SIGHUP: no twig"
ok "reload (hikectl and SIGHUP)"

# Usage errors exit 2.
hc 2> /dev/null; [ $? = 2 ] || fail "no command: not 2"
hc frobnicate 2> /dev/null; [ $? = 2 ] || fail "unknown command: not 2"
hc initiate 2> /dev/null; [ $? = 2 ] || fail "initiate without a name: not 2"
hc terminate 12x 2> /dev/null; [ $? = 2 ] || fail "terminate 12x: not 2"
ok "usage errors exit 2"

# Garbage, unknown commands and fields, oversized requests: an error reply each.
"$PY" - "$SOCK" <<'PY' || fail "bad requests"
import json, socket, sys
def ask(data):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    s.sendall(data)
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    r = json.loads(out)
    assert r["ok"] is False, r
    return r["error"]
assert "malformed" in ask(b"garbage\n")
assert "malformed" in ask(b"[1,2]\n")
assert "unknown command" in ask(b'{"cmd":"fly"}\n')
assert "unknown field" in ask(b'{"cmd":"stats","x":1}\n')
assert "must be" in ask(b'{"cmd":"initiate","conn":5}\n')
assert "too large" in ask(b"x" * 70000)
PY
kill -0 "$PID" || fail "hiked died on bad requests"
hc --json stats | "$PY" -c '
import json, sys
assert json.load(sys.stdin)["control"]["bad_requests"] >= 5
' || fail "bad requests not counted"
ok "bad requests answered and counted"

# No daemon: exit 1 and a clear message.
"$CTL" -s "$T/none.ctl" list-sas 2> "$T/err"
rc=$?
[ $rc = 1 ] || fail "missing socket: exit $rc"
grep -q "cannot reach hiked at $T/none.ctl: No such file or directory (is hiked running?)" "$T/err" ||
    fail "missing socket: $(cat "$T/err")"
ok "missing socket"

kill -TERM "$PID"
wait "$PID"
rc=$?
PID=
[ $rc = 0 ] || fail "hiked exit $rc after SIGTERM"
[ -e "$SOCK" ] && fail "socket file left behind"
ok "SIGTERM: exit 0, socket removed"
kill -TERM "$PEER"
wait "$PEER"
PEER=
echo "PASS"
