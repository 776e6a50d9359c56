#!/bin/bash
# hiked queues IKE datagrams and sends them after each round of event callbacks: every path
# that sends outside a read burst must still send at once. Two hiked with long
# retransmissions (5 s): a message left in the queue would only leave with the next
# retransmission, so each step must finish well within 5 s with nothing retransmitted.
#   hikectl initiate (control socket), the IKE SA rekey (timer), hikectl terminate, SIGTERM.
# Needs root; about 10 s.
set -u
. "${HIKE_SOURCE_DIR:?HIKE_SOURCE_DIR not set}/tests/net/lib/hike_pair.sh"
hp_init prompt 50
hp_net 4
hp_conf a none 'rekey_time = "4s"; rekey_jitter = "1s"; life_time = "60s";' \
    'retransmit_timeout = "5s"; retransmit_tries = 1;'
hp_conf b none '' 'retransmit_timeout = "5s"; retransmit_tries = 1;'
T=$HP_T
ms() { echo $(($(date +%s%N) / 1000000)); }
# quick SIDE...: nothing was retransmitted on any of them.
quick() {
    local side
    for side in "$@"; do
        hp_json "$side" stats > "$T/$side.stats" || hp_fail "stats $side"
        hp_py 'i = j[0]["ike"]; sys.exit(0 if i["retransmits"] == 0 else 1)' "$T/$side.stats" ||
            hp_fail "$side retransmitted: $(cat "$T/$side.stats")"
    done
}

hp_start b
hp_start a
t0=$(ms)
out=$(hp_ctl a initiate pair) || hp_fail "initiate pair: $out"
hp_wait a 'len(s) == 1 and s[0]["state"] == "ESTABLISHED" and s[0]["children"]' 4 ||
    hp_fail "hikectl initiate: not established"
took=$(($(ms) - t0))
[ $took -lt 2500 ] || hp_fail "hikectl initiate: established after $took ms"
quick a b
ok "hikectl initiate: established in $took ms, nothing retransmitted"

# The rekey is started by a's timer (4 s after the set-up, less 1 s at most).
hp_json a list-sas > "$T/before.json"
t0=$(ms)
end=$((SECONDS + 8))
while :; do
    hp_json a stats > "$T/a.stats" || hp_fail "stats a"
    hp_py 'sys.exit(0 if j[0]["ike"]["exchanges"]["create_child_sa"] >= 1 else 1)' "$T/a.stats" &&
        break
    [ $SECONDS -ge $end ] && hp_fail "no IKE SA rekey within 8 s: $(cat "$T/a.stats")"
    sleep 0.1
done
took=$(($(ms) - t0))
[ $took -lt 4800 ] || hp_fail "timer: IKE SA rekeyed after $took ms"
hp_wait a 'len(s) == 1 and s[0]["state"] == "ESTABLISHED"' 2 || hp_fail "no IKE SA after the rekey"
hp_json a list-sas > "$T/after.json"
hp_py 'assert j[0][0] != j[1][0]' "$T/before.json" "$T/after.json" ||
    hp_fail "the IKE SA is unchanged after the rekey"
quick a b
ok "timer: IKE SA rekeyed $took ms after the set-up, nothing retransmitted"

# hikectl terminate: b hears the DELETE at once.
t0=$(ms)
hp_ctl a terminate pair > /dev/null || hp_fail "terminate pair"
hp_wait b 'not s' 4 || hp_fail "terminate: b keeps its SA"
took=$(($(ms) - t0))
[ $took -lt 2500 ] || hp_fail "terminate: b lost its SA after $took ms"
quick a b
ok "hikectl terminate: b removed its SA after $took ms"

# SIGTERM: the DELETEs of the shutdown leave before hiked exits.
hp_ctl a initiate pair > /dev/null || hp_fail "initiate pair again"
hp_wait b 'len(s) == 1 and s[0]["state"] == "ESTABLISHED"' 4 || hp_fail "b: second SA not up"
hp_stop a
hp_wait b 'not s' 2 || hp_fail "SIGTERM: b keeps its SA (no DELETE from a)"
ok "SIGTERM: the DELETE reached b"
hp_stop b
echo PASS
