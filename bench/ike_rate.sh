# shellcheck shell=bash
# Part 1, sourced by bench/run.sh: IKE SA establishment rate of a hiked and of a charon
# responder driven by the same hike-load, PSK and ECDSA P-256 certificates, each SA with a
# Child SA and deleted once up; responder CPU time per SA from /proc/PID/stat.
BENCH_RATE_COUNT=${BENCH_RATE_COUNT:-10000}
BENCH_RATE_WINDOW=${BENCH_RATE_WINDOW:-64}

# rate_one KIND AUTH: one run; prints "RATE CPU_US P50_MS P99_MS FAILED".
rate_one() {
    local kind=$1 auth=$2 out=$NETNS_WORK/rate-$1-$2.json
    ${kind}_responder "$auth" userspace # (charon ignores it: kernel-libipsec)
    sleep 1
    local c0 c1
    c0=$(cpu_ticks "$RESP_PID")
    local perf_pid=
    if [ "${BENCH_RATE_PERF:-0}" = 1 ] && [ "$kind" = hiked ] && command -v perf >/dev/null; then
        perf record -q -g -p "$RESP_PID" -o "$NETNS_WORK/perf-$kind-$auth.data" 2>/dev/null &
        perf_pid=$!
    fi
    hike_load "$auth" "$out" -n "$BENCH_RATE_COUNT" -w "$BENCH_RATE_WINDOW" --timeout 300 || true
    if [ -n "$perf_pid" ]; then
        kill -INT "$perf_pid" && wait "$perf_pid" || true
        perf report -q --no-children -i "$NETNS_WORK/perf-$kind-$auth.data" --sort dso,symbol \
            2>/dev/null | grep -v '^$' | head -40 >"$NETNS_WORK/perf-$kind-$auth.txt" || true
        log "  profile of hiked: $NETNS_WORK/perf-$kind-$auth.txt" >&2
    fi
    sleep 1 # the last DELETEs
    c1=$(cpu_ticks "$RESP_PID")
    stop_responder "$kind"
    [ -s "$out" ] || fail "hike-load against $kind ($auth) printed no summary: $(cat "$out.err")"
    local ok
    ok=$(json "$out" .established)
    [ "$ok" -gt 0 ] || fail "no IKE SA came up against $kind ($auth): $(cat "$out" "$out.err")"
    echo "$(json "$out" '.rate_per_s | floor') $(((c1 - c0) * 1000000 / TICKS / ok))" \
        "$(json "$out" '.latency_us.p50 / 10 | floor / 100')" \
        "$(json "$out" '.latency_us.p99 / 10 | floor / 100')" \
        "$(json "$out" .failed) $(json "$out" '.generator_cpu_us_per_sa | floor')"
}

part_rate() {
    local auth label h s
    for auth in ${BENCH_RATE_AUTH:-psk cert}; do
        label=$([ $auth = psk ] && echo "PSK" || echo "ECDSA P-256 certificates")
        log "rate: $label, $BENCH_RATE_COUNT IKE SAs, window $BENCH_RATE_WINDOW"
        read -r -a h <<<"$(rate_one hiked $auth)"
        log "  hiked:  ${h[0]} SAs/s, ${h[1]} us CPU/SA, ${h[4]} failed"
        read -r -a s <<<"$(rate_one charon $auth)"
        log "  charon: ${s[0]} SAs/s, ${s[1]} us CPU/SA, ${s[4]} failed"
        row "IKE SA + Child SA rate, $label (SAs/s)" "${h[0]}" "${s[0]}" higher
        row "responder CPU per IKE SA + Child SA, $label (us)" "${h[1]}" "${s[1]}" lower
        row "set-up latency under load p50, $label (ms)" "${h[2]}" "${s[2]}" lower
        row "set-up latency under load p99, $label (ms)" "${h[3]}" "${s[3]}" lower
        row "failed set-ups, $label" "${h[4]}" "${s[4]}" lower
        note "generator CPU per SA ($label): ${h[5]} us against hiked, ${s[5]} us against charon"
    done
}
