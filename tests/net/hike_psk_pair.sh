#!/bin/bash
# hike <-> hike over real UDP between two network namespaces, PSK: an IKE SA with a Child
# SA set up by start_action and by hikectl initiate, seen alike from both sides (SPIs,
# crossed child SPIs, addresses, algorithms); IKE SA and Child SA rekeys started by each
# side; DELETE (hikectl terminate) by each side; one IKE SA over IPv6. No message may be
# dropped on either side. Needs root; about 10 s.
set -u
. "${HIKE_SOURCE_DIR:?HIKE_SOURCE_DIR not set}/tests/net/lib/hike_pair.sh"
hp_init psk 50
hp_net 6
hp_conf a start
hp_conf b none
T=$HP_T

# check_pair FAMILY: a.json and b.json hold one IKE SA each, the same one seen from both
# ends, established, with one installed child whose SPIs are crossed.
check_pair() {
    hp_json a list-sas > "$T/a.json" || hp_fail "list-sas a"
    hp_json b list-sas > "$T/b.json" || hp_fail "list-sas b"
    hp_py '
(a,), (b,) = j
assert a["name"] == b["name"], ("names", a["name"], b["name"])
assert "0000000000000000" not in a["name"].split("_"), a["name"]
assert a["state"] == b["state"] == "ESTABLISHED", (a["state"], b["state"])
assert a["initiator"] != b["initiator"], "both or neither initiator"
assert a["local"] == b["remote"] and a["remote"] == b["local"], (a["local"], a["remote"], b["local"], b["remote"])
assert a["algorithms"] and a["algorithms"] == b["algorithms"], (a["algorithms"], b["algorithms"])
assert a["peer_id"]["value"].startswith("b.") and b["peer_id"]["value"].startswith("a."), (a["peer_id"], b["peer_id"])
assert a["msgid_out"] == b["msgid_in"] and b["msgid_out"] == a["msgid_in"], "message IDs"
(ca,), (cb,) = a["children"], b["children"]
assert ca["state"] == cb["state"] == "INSTALLED", (ca, cb)
assert ca["spi_in"] == cb["spi_out"] and ca["spi_out"] == cb["spi_in"], (ca, cb)
assert ca["spi_in"] != ca["spi_out"], ca
assert ca["local_ts"] == cb["remote_ts"] and ca["remote_ts"] == cb["local_ts"], (ca, cb)
' "$T/a.json" "$T/b.json" || hp_fail "the two sides disagree: $(cat "$T/a.json" "$T/b.json")"
}
# get SIDE EXPR: EXPR over s (list-sas of SIDE, as saved by check_pair).
get() { "$HP_PYTHON" -c "import json, sys; s = json.load(open(sys.argv[1])); print($2)" "$T/$1.json"; }
# Nothing dropped on either side; on a very slow machine a retransmitted request can make a
# second answer that its receiver drops as bad-message-id: that alone is allowed.
no_drops() {
    hp_json a stats > "$T/a.stats" || hp_fail "stats a"
    hp_json b stats > "$T/b.stats" || hp_fail "stats b"
    hp_py '
for me in j:
    d = {k: v for k, v in me["ike"]["drops"].items() if v}
    assert not d or (set(d) == {"bad-message-id"} and me["ike"]["retransmits"] > 0), d
' "$T/a.stats" "$T/b.stats" || hp_fail "dropped messages: $(grep -h dropped "$T/a.log" "$T/b.log")"
}

# 1. b responds, a initiates at start (start_action = "start").
hp_start b
hp_start a
hp_wait a 'len(s) == 1 and s[0]["state"] == "ESTABLISHED" and s[0]["children"]' ||
    hp_fail "start_action: not established"
hp_wait b 'len(s) == 1 and s[0]["state"] == "ESTABLISHED" and s[0]["children"]' ||
    hp_fail "start_action: b not established"
check_pair
[ "$(get a 's[0]["initiator"]')" = True ] || hp_fail "a is not the initiator"
[[ "$(get a 's[0]["local"]')" == "$HP_A4:500" && "$(get a 's[0]["remote"]')" == "$HP_B4:500" ]] ||
    hp_fail "a's addresses: $(get a 's[0]["local"], s[0]["remote"]')"
ok "start_action: IKE SA and child up, both sides agree"

# 2. IKE SA rekeys, first by a (the original initiator), then by b: new IKE SPIs on both
# sides, the child moves over with its SPIs (RFC 7296 2.18), still one IKE SA and one child.
for side in a b; do
    old=$(get a 's[0]["name"]')
    spi=$(get a 's[0]["children"][0]["spi_in"]')
    id=$(get "$side" 's[0]["id"]')
    out=$(hp_ctl "$side" rekey "$id") || hp_fail "$side: rekey $id"
    [ "$out" = "rekeying IKE SA $id" ] || hp_fail "$side: rekey $id: $out"
    for s in a b; do
        hp_wait "$s" "len(s) == 1 and s[0]['name'] != '$old' and s[0]['state'] == 'ESTABLISHED' and len(s[0]['children']) == 1" ||
            hp_fail "IKE rekey by $side: $s has not moved to one new IKE SA"
    done
    check_pair
    [ "$(get a 's[0]["children"][0]["spi_in"]')" = "$spi" ] || hp_fail "IKE rekey by $side changed the child"
    # 2.18: whoever started the rekey is the original initiator of the new IKE SA.
    [ "$(get "$side" 's[0]["initiator"]')" = True ] || hp_fail "IKE rekey by $side: $side is not the new initiator"
    ok "IKE SA rekey started by $side: $old -> $(get a 's[0]["name"]')"
done

# 3. Child SA rekeys by each side: new SPIs in both directions, same IKE SA, one child.
for side in a b; do
    name=$(get a 's[0]["name"]')
    old_in=$(get a 's[0]["children"][0]["spi_in"]')
    old_out=$(get a 's[0]["children"][0]["spi_out"]')
    cid=$(get "$side" 's[0]["children"][0]["id"]')
    out=$(hp_ctl "$side" rekey "$cid") || hp_fail "$side: rekey child $cid"
    [ "$out" = "rekeying Child SA $cid" ] || hp_fail "$side: rekey child $cid: $out"
    for s in a b; do
        hp_wait "$s" "len(s) == 1 and len(s[0]['children']) == 1 and s[0]['children'][0]['state'] == 'INSTALLED' and '$old_in' not in (s[0]['children'][0]['spi_in'], s[0]['children'][0]['spi_out'])" ||
            hp_fail "Child SA rekey by $side: $s"
    done
    check_pair
    [ "$(get a 's[0]["name"]')" = "$name" ] || hp_fail "Child SA rekey by $side changed the IKE SA"
    [ "$(get a 's[0]["children"][0]["spi_out"]')" != "$old_out" ] || hp_fail "Child SA rekey by $side kept the outbound SPI"
    ok "Child SA rekey started by $side: $old_in/$old_out -> $(get a 's[0]["children"][0]["spi_in"]')/$(get a 's[0]["children"][0]["spi_out"]')"
done

# 4. DELETE by a: both sides empty.
id=$(get a 's[0]["id"]')
hp_ctl a terminate "$id" | grep -q "^terminating 1 IKE SA of pair: $id$" || hp_fail "a: terminate $id"
hp_wait a 'not s' || hp_fail "terminate by a: a keeps an SA"
hp_wait b 'not s' || hp_fail "terminate by a: b keeps an SA"
ok "DELETE by a: both empty"

# 5. hikectl initiate on a; DELETE by b.
out=$(hp_ctl a initiate pair) || hp_fail "initiate pair: $out"
id=$(sed -n 's/^initiating pair: IKE SA \([0-9]*\)$/\1/p' <<< "$out")
[ -n "$id" ] || hp_fail "initiate pair: $out"
hp_wait a "len(s) == 1 and s[0]['id'] == $id and s[0]['state'] == 'ESTABLISHED' and s[0]['children']" ||
    hp_fail "hikectl initiate: not established"
hp_wait b 'len(s) == 1 and s[0]["state"] == "ESTABLISHED" and s[0]["children"]' ||
    hp_fail "hikectl initiate: b not established"
check_pair
ok "hikectl initiate: IKE SA and child up, both sides agree"
bid=$(get b 's[0]["id"]')
hp_ctl b terminate "$bid" | grep -q "^terminating 1 IKE SA of pair: $bid$" || hp_fail "b: terminate $bid"
hp_wait b 'not s' || hp_fail "terminate by b: b keeps an SA"
hp_wait a 'not s' || hp_fail "terminate by b: a keeps an SA"
ok "DELETE by b: both empty"

# 6. IPv6: b initiates pair6 this time, then DELETE by a (by connection name).
hp_ctl b initiate pair6 > /dev/null || hp_fail "initiate pair6"
hp_wait b 'len(s) == 1 and s[0]["state"] == "ESTABLISHED" and s[0]["children"]' ||
    hp_fail "IPv6: b not established"
hp_wait a 'len(s) == 1 and s[0]["state"] == "ESTABLISHED" and s[0]["children"]' ||
    hp_fail "IPv6: a not established"
check_pair
[[ "$(get b 's[0]["local"]')" == "[$HP_B6]:500" && "$(get b 's[0]["remote"]')" == "[$HP_A6]:500" ]] ||
    hp_fail "IPv6 addresses: $(get b 's[0]["local"], s[0]["remote"]')"
[ "$(get a 's[0]["conn"]')" = pair6 ] || hp_fail "IPv6: a matched $(get a 's[0]["conn"]')"
[ "$(get a 's[0]["children"][0]["local_ts"]')" = "['fd00:a::-fd00:a::ffff:ffff:ffff:ffff']" ] ||
    hp_fail "IPv6 selectors: $(get a 's[0]["children"][0]["local_ts"]')"
hp_ctl a terminate pair6 | grep -q "^terminating 1 IKE SA of pair6: " || hp_fail "a: terminate pair6"
hp_wait a 'not s' || hp_fail "IPv6 terminate: a keeps an SA"
hp_wait b 'not s' || hp_fail "IPv6 terminate: b keeps an SA"
ok "IPv6: IKE SA and child up over 2001:db8::/64, both sides agree, DELETE"

# Counters: three IKE_AUTHs; 3 + 2 IKE SAs and 3 + 2 children came up in total on each side;
# nothing was retransmitted or dropped.
no_drops
for side in a b; do
    hp_json "$side" stats | "$HP_PYTHON" -c '
import json, sys
s = json.load(sys.stdin)
i = s["ike"]
assert i["exchanges"]["ike_auth"] == 3 and i["ike_up"] == 5 and i["child_up"] == 5, i
assert i["exchanges"]["create_child_sa"] == 4, i
assert s["sas"] == {"ike": 0, "child": 0, "half_open": 0}, s["sas"]
' || hp_fail "$side: stats: $(hp_ctl "$side" stats)"
done
ok "stats: 3 IKE_AUTH, 4 CREATE_CHILD_SA, no drops, nothing left"

# SIGTERM with no SAs: a clean stop.
hp_stop a
hp_stop b
ok "SIGTERM: both exit 0"
echo PASS
