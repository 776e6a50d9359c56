#!/bin/bash
# A limit of an authenticated peer through hiked (docs/config.md, Limits): b allows a's
# identity one IKE SA (max_ike_sas = 1); a second one from a is refused with
# AUTHENTICATION_FAILED, the first keeps working, and hikectl stats counts the refusal
# (ike.refused.ike_sas, JSON and text). Needs root; about 5 s.
set -u
. "${HIKE_SOURCE_DIR:?HIKE_SOURCE_DIR not set}/tests/net/lib/hike_pair.sh"
hp_init limits 40
hp_net 4
T=$HP_T
hp_conf a start
hp_conf b none "max_ike_sas = 1;"
hp_start b
hp_start a
hp_wait a 'len(s) == 1 and s[0]["state"] == "ESTABLISHED"' || hp_fail "first IKE SA not up"
hp_ctl a initiate pair > /dev/null 2>&1 || true
hp_wait a 'len(s) == 1' 10 || hp_fail "a second IKE SA of a was not refused"
hp_wait b 'len(s) == 1 and s[0]["state"] == "ESTABLISHED"' || hp_fail "b lost the first IKE SA"
wait_for 5 grep -q "refused: the peer's identity has 1 IKE SAs already (max_ike_sas)" "$T/b.log" ||
    hp_fail "no log line for the refusal"
hp_json b stats > "$T/b.stats" || hp_fail "stats b"
hp_py '
r = j[0]["ike"]["refused"]
assert r == {"children": 0, "ike_sas": 1, "leases": 0, "clones": 0}, r
assert j[0]["ike"]["auth_failures"] == 1, j[0]["ike"]
' "$T/b.stats" || hp_fail "stats: $(cat "$T/b.stats")"
hp_ctl b stats | grep -qE '^ike\.refused\.ike_sas +1$' || hp_fail "text stats: $(hp_ctl b stats | grep refused)"
ok "second IKE SA of one identity refused (max_ike_sas = 1), counted in stats"
hp_stop a
hp_stop b
ok "done"
