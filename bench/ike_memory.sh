# shellcheck shell=bash
# Part 2, sourced by bench/run.sh: resident memory of a responder holding N IKE SAs with one
# Child SA each (hike-load --hold), minus its idle baseline, per SA.
BENCH_MEM_COUNTS=${BENCH_MEM_COUNTS:-10000 100000}
# Per responder and count: a responder that slows down holds fewer SAs, and the figure is per
# SA actually held (the table says how many).
BENCH_MEM_TIMEOUT=${BENCH_MEM_TIMEOUT:-180}

# mem_one KIND N: prints "BYTES_PER_SA ESTABLISHED BASE_KIB HELD_KIB".
mem_one() {
    local kind=$1 n=$2 out=$NETNS_WORK/mem-$1-$2.json
    ${kind}_responder psk userspace # (charon ignores it: kernel-libipsec)
    sleep 2
    local base held
    base=$(rss_kib "$RESP_PID")
    ns_spawn gen "$out" taskset -c "$BENCH_CPU_GEN" "$BENCH_BUILD/hike-load" -t $RESP_ADDR \
        -s "$BENCH_SRC" --vip --remote-ts $INNER_NET --ike "$BENCH_IKE" --esp "$BENCH_ESP" \
        --psk "$BENCH_PSK" --json -n "$n" -w 64 --hold --timeout "$BENCH_MEM_TIMEOUT"
    local gen=$NS_LAST_PID
    wait_for $((BENCH_MEM_TIMEOUT + 30)) grep -q '^{' "$out" ||
        fail "hike-load --hold against $kind: no summary"
    sleep 2 # let the responder settle (charon frees its jobs lazily)
    held=$(rss_kib "$RESP_PID")
    local ok
    ok=$(grep '^{' "$out" | jq -r .established)
    kill -KILL "$gen" 2>/dev/null # no DELETEs: the responder goes next
    wait "$gen" 2>/dev/null
    stop_responder "$kind"
    [ "$ok" -gt 0 ] || fail "no SA held by $kind"
    echo "$(((held - base) * 1024 / ok)) $ok $base $held"
}

part_memory() {
    local n h s
    for n in $BENCH_MEM_COUNTS; do
        log "memory: $n IKE SAs with a Child SA each, held"
        read -r -a h <<<"$(mem_one hiked "$n")"
        log "  hiked:  ${h[0]} bytes/SA (${h[1]} SAs; RSS ${h[2]} -> ${h[3]} KiB)"
        read -r -a s <<<"$(mem_one charon "$n")"
        log "  charon: ${s[0]} bytes/SA (${s[1]} SAs; RSS ${s[2]} -> ${s[3]} KiB)"
        row "responder memory per IKE SA + Child SA, $n asked, ${h[1]} / ${s[1]} held (bytes)" \
            "${h[0]}" "${s[0]}" lower
        note "at $n: hiked held ${h[1]} SAs (RSS ${h[2]} -> ${h[3]} KiB), charon ${s[1]} (RSS ${s[2]} -> ${s[3]} KiB)"
    done
}
