#!/bin/bash
# hike-load's report, against hiked responders in two network namespaces: what a load
# generator must get right besides the load itself (hike_load_pair.sh covers that).
#   - a wrong PSK: every set-up fails, counted under the reason the responder's
#     AUTHENTICATION_FAILED gives ("peer says AUTHENTICATION_FAILED"), exit status 1;
#   - no responder: failures by retransmissions given up ("peer not responding") and by the
#     run's --timeout ("run time limit (--timeout) reached"), within the time asked, no hang;
#   - certificates (ECDSA P-256, bench_certs of bench/lib/env.sh): all up, none failed; and
#     with a responder certificate we do not trust, "responder authentication failed";
#   - childless (RFC 6023): all up, "child": false, and the responder holds the IKE SAs
#     without a Child SA while hike-load --hold keeps them;
#   - every successful summary is sane: rate > 0, 0 < p50 <= p90 <= p99 <= max, CPU per
#     SA > 0, started == established + failed, exit status 0;
#   - bad options: exit status 2, the message on stderr names the option, stdout is empty.
# Needs root; about 15 s.
set -u
. "${HIKE_SOURCE_DIR:?HIKE_SOURCE_DIR not set}/tests/net/lib/netns.sh"
. "$HIKE_SOURCE_DIR/bench/lib/env.sh" # bench_certs only (the rest is definitions)
B=${HIKE_BUILD_DIR:?HIKE_BUILD_DIR not set}
PSK=load-report-psk-0123456789
IKE=aes256gcm16-prfsha256-x25519
netns_setup 60
command -v openssl >/dev/null || fail "openssl not found"
ns_create gen resp
# 192.0.2.2: hiked with a PSK; 192.0.2.3: hiked with certificates; 192.0.2.9: nobody.
ns_veth gen:eth0:192.0.2.1/24 resp:eth0:192.0.2.2/24,192.0.2.3/24,192.0.2.9/24
bench_certs "$NETNS_WORK/pki"
P=$NETNS_WORK/pki

# hiked_start NAME ADDR LOCAL REMOTE EXTRA: a responder on ADDR, control socket NAME.ctl.
hiked_start() {
    local n=$1 addr=$2
    cat > "$NETNS_WORK/$n.conf" << EOF
daemon = { listen = ["$addr"]; log_level = "warn"; dataplane = "log";
  control_socket = "$NETNS_WORK/$n.ctl"; cookie_threshold = 1000000;
  half_open_per_address = 0; half_open_max = 0; };
pools = { vips = { addrs = "10.128.0.0/16"; }; };
connections = { load = {
  local_addrs = "$addr"; local = { $3 }; remote = { $4 }; $5
  ike = ["$IKE"]; rekey_time = 0; dpd_delay = 0; pools = ["vips"];
  children = { c = { local_ts = "10.200.0.0/16"; esp = ["aes256gcm16"]; rekey_time = 0; }; };
}; };
EOF
    ns_spawn resp "$NETNS_WORK/$n.log" "$B/hiked" -c "$NETNS_WORK/$n.conf"
    wait_for 5 test -S "$NETNS_WORK/$n.ctl" || fail "hiked $n did not start: $(cat "$NETNS_WORK/$n.log")"
}
hiked_start psk 192.0.2.2 'auth = "psk"; id = "responder.example";' 'auth = "psk";' "psk = \"$PSK\";"
hiked_start cert 192.0.2.3 "auth = \"pubkey\"; cert = \"$P/responder.pem\"; key = \"$P/responder.key\";" \
    "auth = \"pubkey\"; ca = \"$P/ca.pem\";" ""
ctl() { "$B/hikectl" -s "$NETNS_WORK/$1.ctl" --json "${@:2}"; }

# load NAME ARGS...: hike-load in gen (60 s at most), stdout NAME.json, stderr NAME.err;
# sets RC (exit status) and SECS (wall time).
load() {
    local n=$1 t0
    shift
    t0=$(date +%s%N)
    RC=0
    ns_exec gen timeout 60 "$B/hike-load" --json "$@" > "$NETNS_WORK/$n.json" 2> "$NETNS_WORK/$n.err" || RC=$?
    SECS=$(awk -v d=$(($(date +%s%N) - t0)) 'BEGIN { printf "%.2f", d / 1e9 }')
}
# report NAME PYTHON: runs PYTHON with r = NAME's summary (one JSON line), rc, secs; an
# assertion that does not hold fails the test with the summary and hike-load's stderr.
report() {
    python3 - "$NETNS_WORK/$1.json" "$RC" "$SECS" << EOF || fail "$1: exit $RC after ${SECS}s: $(cat "$NETNS_WORK/$1.json" "$NETNS_WORK/$1.err")"
import json, sys
lines = [x for x in open(sys.argv[1]).read().splitlines() if x.strip()]
assert len(lines) == 1, "want one JSON line, got %r" % lines
r = json.loads(lines[0])
rc, secs = int(sys.argv[2]), float(sys.argv[3])
assert r["started"] == r["established"] + r["failed"], "started != established + failed"
assert r["failed"] == sum(r["failures"].values()), "failed != sum of the reasons"
$2
EOF
}
# A successful run: all up, nothing failed, and figures that make sense.
SANE='
assert rc == 0, rc
assert r["established"] == r["count"] == r["started"] and r["failed"] == 0 and r["failures"] == {}
assert r["rate_per_s"] > 0 and r["elapsed_s"] > 0
lat = r["latency_us"]
assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"], lat
assert 0 < lat["mean"] <= lat["max"], lat
assert r["generator_cpu_s"] > 0 and r["generator_cpu_us_per_sa"] > 0
'
COMMON=(-s 192.0.2.1 -P 8 --ike "$IKE" --vip --remote-ts 10.200.0.0/16)

# 1. A wrong PSK: the responder answers each IKE_AUTH with AUTHENTICATION_FAILED.
load wrongpsk -t 192.0.2.2 --psk not-the-psk "${COMMON[@]}" -n 20 -w 8 --timeout 20
report wrongpsk '
assert rc == 1, rc
assert r["count"] == r["started"] == 20 and r["established"] == 0 and r["failed"] == 20
assert r["failures"] == {"peer says AUTHENTICATION_FAILED": 20}, r["failures"]
assert r["rate_per_s"] == 0 and r["latency_us"]["max"] == 0
'
ctl psk stats | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["ike"]["auth_failures"] == 20 and s["ike"]["ike_up"] == 0, s["ike"]
assert s["sas"]["ike"] == 0, s["sas"]
' || fail "wrong PSK: responder stats: $(ctl psk stats)"
log "ok: wrong PSK: 20 of 20 failed, \"peer says AUTHENTICATION_FAILED\", exit 1"

# 2. Nobody answers (an address of resp where nothing listens): retransmissions given up
# (100 + 200 + 400 ms), then the run's own limit with retransmissions to spare.
load noresp -t 192.0.2.9 --psk "$PSK" "${COMMON[@]}" -n 6 -w 6 --retransmit-timeout 100 \
    --retransmit-tries 2 --timeout 10
report noresp '
assert rc == 1, rc
assert r["started"] == 6 and r["established"] == 0 and r["failed"] == 6
assert r["failures"] == {"peer not responding": 6}, r["failures"]
assert 0.5 < secs < 5, secs
'
log "ok: no responder: 6 of 6 \"peer not responding\" after ${SECS}s (retransmissions 0.7 s)"
# A window of 5 of 10: what never started is not counted as failed.
load deadline -t 192.0.2.2 -p 600 --psk "$PSK" "${COMMON[@]}" -n 10 -w 5 --timeout 2
report deadline '
assert rc == 1, rc
assert r["count"] == 10 and r["started"] == 5 and r["established"] == 0 and r["failed"] == 5
assert r["failures"] == {"run time limit (--timeout) reached": 5}, r["failures"]
assert 1.8 < secs < 5, secs
'
log "ok: no responder on port 600: 5 started of 10, 5 \"run time limit (--timeout) reached\" after ${SECS}s (--timeout 2)"

# 5. A successful PSK run, each SA deleted once up.
load psk -t 192.0.2.2 --psk "$PSK" "${COMMON[@]}" -n 200 -w 16
report psk "$SANE"'
assert r["child"] is True and r["count"] == 200'
log "ok: PSK: 200 up, report sane"

# 3. Certificates: ECDSA P-256 on both sides, the responder's checked against the CA.
load cert -t 192.0.2.3 --cert "$P/client.pem" --key "$P/client.key" --ca "$P/ca.pem" "${COMMON[@]}" -n 50 -w 8
report cert "$SANE"'
assert r["child"] is True and r["count"] == 50'
ctl cert stats | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["ike"]["ike_up"] == 50 and s["ike"]["auth_failures"] == 0, s["ike"]
' || fail "certificates: responder stats: $(ctl cert stats)"
log "ok: certificates: 50 up, 0 failed, report sane"
# The responder's certificate from a CA we do not trust: we reject its AUTH (RFC 7296 2.21.2).
bench_certs "$NETNS_WORK/pki-other"
load untrusted -t 192.0.2.3 --cert "$P/client.pem" --key "$P/client.key" \
    --ca "$NETNS_WORK/pki-other/ca.pem" "${COMMON[@]}" -n 10 -w 5 --timeout 20
report untrusted '
assert rc == 1, rc
assert r["started"] == 10 and r["established"] == 0 and r["failed"] == 10
assert r["failures"] == {"responder authentication failed": 10}, r["failures"]
'
log "ok: certificates, responder not trusted: 10 of 10 \"responder authentication failed\""

# 4. Childless, held: the responder has the IKE SAs and no Child SA.
before=$(ctl psk stats | python3 -c 'import json, sys; print(json.load(sys.stdin)["sas"]["ike"])')
ns_spawn gen "$NETNS_WORK/childless.out" sh -c \
    "exec timeout 60 '$B/hike-load' --json -t 192.0.2.2 --psk '$PSK' -s 192.0.2.1 -P 8 \
     --ike '$IKE' --childless --hold -n 12 -w 12 > '$NETNS_WORK/childless.json' 2> '$NETNS_WORK/childless.err'"
held=$NS_LAST_PID
wait_for 10 test -s "$NETNS_WORK/childless.json" ||
    fail "childless: no summary: $(cat "$NETNS_WORK/childless.err")"
ctl psk list-sas > "$NETNS_WORK/childless.sas"
python3 - "$NETNS_WORK/childless.sas" "$before" << 'EOF' || fail "childless: responder SAs: $(cat "$NETNS_WORK/childless.sas")"
import json, sys
sas = [sa for sa in json.load(open(sys.argv[1])) if sa["remote"].startswith("192.0.2.1:")]
assert len(sas) == 12 + int(sys.argv[2]), len(sas)
assert all(sa["state"] == "ESTABLISHED" and sa["children"] == [] and sa["virtual_ips"] == []
           for sa in sas), sas
EOF
ctl psk stats | python3 -c '
import json, sys
s = json.load(sys.stdin)
assert s["sas"]["ike"] >= 12 and s["sas"]["child"] == 0, s["sas"]
' || fail "childless: responder stats: $(ctl psk stats)"
kill -INT "$held"
wait "$held"
RC=$? SECS=0.01
report childless "$SANE"'
assert r["child"] is False and r["count"] == 12'
log "ok: childless: 12 up and held, no Child SA on the responder, report sane"

# 6. Bad options: exit 2, stderr names the option (and may add the --help hint), no stdout.
bad() {
    local want=$1 rc=0 out err first rest
    shift
    ns_exec gen timeout 10 "$B/hike-load" --json "$@" > "$NETNS_WORK/bad.out" 2> "$NETNS_WORK/bad.err" || rc=$?
    out=$(cat "$NETNS_WORK/bad.out") err=$(cat "$NETNS_WORK/bad.err")
    first=${err%%$'\n'*} rest=${err#"$first"}
    if [ $rc -ne 2 ] || [ -n "$out" ] || [[ $first != *"$want"* ]] ||
        { [ -n "$rest" ] && [ "$rest" != $'\n'"Try 'hike-load --help'." ]; }; then
        fail "bad options '$*': exit $rc, stdout '$out', stderr '$err' (want exit 2, '$want' named)"
    fi
    log "ok: bad options '$*': exit 2, $first"
}
bad --window -t 192.0.2.2 --psk "$PSK" -w 0
bad --count -t 192.0.2.2 --psk "$PSK" -n abc
bad --no-such-option -t 192.0.2.2 --psk "$PSK" --no-such-option
bad --childless -t 192.0.2.2 --psk "$PSK" --childless --esp aes256gcm16
bad --target --psk "$PSK" -n 10
echo PASS
