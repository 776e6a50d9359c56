#!/bin/bash
# Bad input on the wire: with an IKE SA (and child) up between a and b in two network
# namespaces, a stream of 20000 random and mutated IKE datagrams (tests/tools/ike_mutator.c:
# random bytes, mutated IKE_SA_INIT requests, mutated messages with the SA's SPIs and
# message IDs, huge item counts, truncations, wrong lengths) goes from a's namespace at
# b's UDP 500 and 4500 (non-ESP marker). Then b must still run and answer hikectl, both
# sides keep the SA and child unchanged, b's drop counters account for the stream, the
# half-open SAs the valid-looking IKE_SA_INITs made expire, and an IKE SA rekey and a
# DELETE through the SA still work. HIKE_MUTATOR_SEED picks another stream (default 1),
# HIKE_MUTATOR_COUNT its size per port (default 10000). Needs root; about 15 s.
set -u
. "${HIKE_SOURCE_DIR:?HIKE_SOURCE_DIR not set}/tests/net/lib/hike_pair.sh"
hp_init bad 55
MUT=$HP_B/ike_mutator
[ -x "$MUT" ] || hp_fail "no $MUT (build the test tools)"
SEED=${HIKE_MUTATOR_SEED:-1}
COUNT=${HIKE_MUTATOR_COUNT:-10000}
hp_net 4
hp_conf a start
# Half-open SAs of the mutated IKE_SA_INITs go after 2 s; b does not check liveness itself.
hp_conf b none 'dpd_delay = 0;' 'half_open_timeout = "2s";'
T=$HP_T

hp_start b
hp_start a
hp_wait a 'len(s) == 1 and s[0]["state"] == "ESTABLISHED" and s[0]["children"]' || hp_fail "not established"
hp_wait b 'len(s) == 1 and s[0]["state"] == "ESTABLISHED" and s[0]["children"]' || hp_fail "b: not established"
hp_json a list-sas > "$T/a0.json"
hp_json b list-sas > "$T/b0.json"
hp_json b stats > "$T/b0.stats"
name=$(hp_py 'print(j[0][0]["name"])' "$T/b0.json")
msgid=$(hp_py 'print(j[0][0]["msgid_in"])' "$T/b0.json")
rss0=$(awk '/^VmRSS/ {print $2}' "/proc/$HP_PID_b/status")
ok "established: $name, b expects message ID $msgid next"

# The stream, from a's namespace (its own socket, not hiked's).
for port in 500 4500; do
    out=$(timeout 30 ip netns exec "$HP_NSA" "$MUT" -t "$HP_B4" -p "$port" -n "$COUNT" \
        -s "$((SEED * 2 + port / 4500))" -S "$name" -m "$msgid") ||
        hp_fail "ike_mutator to port $port failed: $out"
    echo "$out"
done
sleep 0.3
sent=$((2 * COUNT))

# b runs and answers; the SA and its child are unchanged on both sides.
kill -0 "$HP_PID_b" 2> /dev/null || hp_fail "b died (exit status: $(wait "$HP_PID_b"; echo $?))"
hp_json b list-sas > "$T/b1.json" || hp_fail "b does not answer hikectl"
hp_json a list-sas > "$T/a1.json" || hp_fail "a does not answer hikectl"
hp_json b stats > "$T/b1.stats" || hp_fail "b: stats"
for side in a b; do
    hp_py '
before, after = j
(sa,) = before
now = [x for x in after if x["name"] == sa["name"]]
assert len(now) == 1, "the IKE SA is gone"
n = now[0]
assert n["state"] == "ESTABLISHED" and n["id"] == sa["id"], n
assert n["children"] == [dict(c, age=c2["age"]) for c, c2 in zip(sa["children"], n["children"])], (sa["children"], n["children"])
assert n["local"] == sa["local"] and n["remote"] == sa["remote"], (sa, n)
# RFC 7296 2.1, 2.3: only authenticated messages move the message ID window. (A plaintext
# message of exchange type IKE_SA_INIT with the SPIs of the SA and the expected ID skips the SK
# check in ike_engine_recv and still increments peer_req_next: this fails until fixed.)
assert (n["msgid_in"], n["msgid_out"]) == (sa["msgid_in"], sa["msgid_out"]), \
    "message IDs moved: in %d -> %d, out %d -> %d" % (sa["msgid_in"], n["msgid_in"], sa["msgid_out"], n["msgid_out"])
' "$T/${side}0.json" "$T/${side}1.json" || hp_fail "$side: the SA changed: $(cat "$T/${side}0.json" "$T/${side}1.json")"
done
ok "b alive and answering; the IKE SA and its child unchanged on both sides"

# The counters: every datagram that reached the engine was dropped, answered statelessly
# (cookie, INVALID_KE) or as a retransmission, or started a half-open SA; most were drops.
hp_py '
sent = '"$sent"'
b0, b1 = j
d0, d1 = b0["ike"]["drops"], b1["ike"]["drops"]
dd = {k: d1[k] - d0[k] for k in d1}
drops = sum(dd.values())
rx = b1["ike"]["rx"] - b0["ike"]["rx"]
net = {k: b1["net"][k] - b0["net"][k] for k in b1["net"]}
print("b: ike.rx +%d, drops +%d %s, net %s, half-open %d, cached responses +%d" % (
    rx, drops, dd, net, b1["sas"]["half_open"],
    b1["ike"]["cached_responses"] - b0["ike"]["cached_responses"]))
assert rx + net["rx_short"] + net["rx_esp"] + net["rx_keepalive"] <= sent + 20, "more received than sent"
assert rx >= sent * 0.9, "ike.rx: %d of %d sent" % (rx, sent)
assert drops >= rx * 0.6 and drops <= rx, "drops %d of %d received" % (drops, rx)
for k in ("bad-header", "bad-syntax", "unknown-spi", "bad-message-id", "bad-icv", "unexpected"):
    assert dd[k] > 0, "no %s drops" % k
assert net["rx_esp"] + net["rx_short"] > 0, net
# Every forged ESP datagram reached the data plane and was counted there (unknown SPI).
bad_esp = b1["dataplane"]["esp_bad_in"] - b0["dataplane"]["esp_bad_in"]
assert bad_esp == net["rx_esp"], "esp_bad_in +%d, rx_esp +%d" % (bad_esp, net["rx_esp"])
assert b1["ike"]["ike_up"] == b0["ike"]["ike_up"] and b1["ike"]["child_up"] == b0["ike"]["child_up"], "SAs came up"
assert b1["sas"]["ike"] - b1["sas"]["half_open"] == 1 and b1["sas"]["child"] == 1, b1["sas"]
' "$T/b0.stats" "$T/b1.stats" || hp_fail "b's counters after the stream: $(cat "$T/b0.stats" "$T/b1.stats")"
rss1=$(awk '/^VmRSS/ {print $2}' "/proc/$HP_PID_b/status")
[ $((rss1 - rss0)) -lt 65536 ] || hp_fail "b grew by $((rss1 - rss0)) kB"
ok "drop counters account for the stream; b's RSS ${rss0} -> ${rss1} kB"

# The half-open SAs expire (half_open_timeout 2 s); only the real one stays.
hp_wait b "len(s) == 1 and s[0]['name'] == '$name'" 8 || hp_fail "half-open SAs did not expire"
hp_json b stats | "$HP_PYTHON" -c '
import json, sys
s = json.load(sys.stdin)["sas"]
assert s == {"ike": 1, "child": 1, "half_open": 0}, s
' || hp_fail "b: sas after expiry: $(hp_ctl b stats | grep ^sas)"
ok "half-open SAs expired"

# The SA still works: a rekeys the IKE SA, both sides move to the new one with the child.
id=$(hp_py 'print(j[0][0]["id"])' "$T/a1.json")
spi=$(hp_py 'print(j[0][0]["children"][0]["spi_in"])' "$T/a1.json")
hp_ctl a rekey "$id" > /dev/null || hp_fail "a: rekey $id"
for side in a b; do
    hp_wait "$side" "len(s) == 1 and s[0]['name'] != '$name' and s[0]['state'] == 'ESTABLISHED' and len(s[0]['children']) == 1" 10 ||
        hp_fail "IKE SA rekey after the stream: $side did not move to a new IKE SA"
done
hp_wait a "s[0]['children'][0]['spi_in'] == '$spi'" 1 || hp_fail "the rekey lost the child"
new=$(hp_json a list-sas | "$HP_PYTHON" -c 'import json, sys; print(json.load(sys.stdin)[0]["name"])')
ok "IKE SA rekey through the SA: $name -> $new"

hp_ctl a terminate pair > /dev/null || hp_fail "a: terminate"
hp_wait a 'not s' || hp_fail "a keeps its SA after terminate"
hp_wait b 'not s' || hp_fail "b keeps its SA after terminate"
ok "DELETE through the SA"
hp_stop b
hp_stop a
ok "SIGTERM: both exit 0"
echo PASS
