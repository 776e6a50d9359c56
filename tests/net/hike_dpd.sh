#!/bin/bash
# Dead peer detection between two hiked in two network namespaces: a (initiator) has
# dpd_delay 2 s, dpd_action clear and short retransmissions (200 ms, 2 tries). While b
# answers, the liveness checks keep the SA; once b is stopped (SIGSTOP), a gives up on its
# check and removes the IKE SA and its child within a bounded time, counting dpd_dead 1.
# Needs root; about 10 s.
set -u
. "${HIKE_SOURCE_DIR:?HIKE_SOURCE_DIR not set}/tests/net/lib/hike_pair.sh"
hp_init dpd 50
hp_net 4
# a: DPD after 2 s of silence; a request is given up 200 + 400 + 800 ms after it was sent.
hp_conf a start 'dpd_delay = "2s"; dpd_action = "clear";' \
    'retransmit_timeout = "200ms"; retransmit_tries = 2;'
hp_conf b none 'dpd_delay = 0;'
T=$HP_T
stats() { hp_json "$1" stats > "$T/$1.stats" || hp_fail "stats $1"; }

hp_start b
hp_start a
hp_wait a 'len(s) == 1 and s[0]["state"] == "ESTABLISHED" and s[0]["children"]' || hp_fail "not established"
hp_wait b 'len(s) == 1 and s[0]["state"] == "ESTABLISHED"' || hp_fail "b: not established"
hp_json a list-sas > "$T/a.json"
name=$(hp_py 'print(j[0][0]["name"])' "$T/a.json")
hp_json a list-conns | "$HP_PYTHON" -c '
import json, sys
c, = json.load(sys.stdin)
assert c["dpd_delay"] == 2 and c["children"][0]["dpd_action"] == "clear", c
' || hp_fail "list-conns: $(hp_ctl a list-conns)"
ok "established, dpd_delay 2 s, dpd_action clear"

# A live peer: liveness checks go out and are answered; the SA stays.
end=$((SECONDS + 8))
while :; do
    stats a
    hp_py 'sys.exit(0 if j[0]["ike"]["dpd_sent"] >= 2 else 1)' "$T/a.stats" && break
    [ $SECONDS -ge $end ] && hp_fail "no two DPD checks within 8 s: $(cat "$T/a.stats")"
    sleep 0.2
done
sleep 0.3
stats a
hp_py '
i = j[0]["ike"]
assert i["dpd_dead"] == 0 and i["retransmits"] == 0, i
assert i["exchanges"]["informational"] >= 2, i
' "$T/a.stats" || hp_fail "live peer: $(cat "$T/a.stats")"
hp_wait a "len(s) == 1 and s[0]['name'] == '$name' and s[0]['state'] == 'ESTABLISHED'" 1 ||
    hp_fail "the SA did not survive liveness checks with a live peer"
ok "live peer: $(hp_py 'print(j[0]["ike"]["dpd_sent"])' "$T/a.stats") DPD checks answered, SA kept"

# A silent peer: DPD after at most 2 s, then 3 sends over 1.4 s; allow 8 s in all.
kill -STOP "$HP_PID_b"
stopped=$SECONDS
hp_wait a 'not s' 8 || hp_fail "a still has its SA 8 s after the peer went silent"
took=$((SECONDS - stopped))
# Not before the DPD delay and the retransmissions could have run out.
[ $took -ge 1 ] || hp_fail "SA removed after $took s: too early for DPD"
stats a
hp_py '
s = j[0]
i = s["ike"]
assert i["dpd_dead"] == 1, i
assert i["retransmits"] == 2, i
assert s["sas"] == {"ike": 0, "child": 0, "half_open": 0}, s["sas"]
assert s["dataplane"]["removed"] >= 1, s["dataplane"]
' "$T/a.stats" || hp_fail "after DPD: $(cat "$T/a.stats")"
grep -q "not answered after 2 retransmissions" "$T/a.log" || hp_fail "no give-up line in a's log"
ok "silent peer: SA and child removed after ~$took s, dpd_dead 1, 2 retransmissions"

# b wakes up: it still has its SA (it never noticed), answers the stale checks, and keeps
# running; a, with nothing configured to restart, stays empty.
kill -CONT "$HP_PID_b"
hp_wait b 'len(s) == 1' 3 || hp_fail "b lost its SA while stopped"
sleep 0.5
kill -0 "$HP_PID_b" || hp_fail "b died after SIGCONT"
hp_wait a 'not s' 1 || hp_fail "a has an SA again (dpd_action clear)"
ok "peer resumed: b alive, a stays empty"
hp_stop a
hp_stop b
ok "SIGTERM: both exit 0"
echo PASS
