# shellcheck shell=bash
# Part 3, sourced by bench/run.sh: latency of one IKE SA + Child SA set-up, one at a time,
# from the initiator's request to its Child SA installed: hike <-> hike (hike-load, window 1,
# against hiked with its userspace data plane) and strongSwan <-> strongSwan (a charon
# initiator in gen, times from its log: millisecond resolution).
BENCH_LAT_COUNT=${BENCH_LAT_COUNT:-200}

# pctl P: nearest-rank percentile of the numbers on stdin.
pctl() { sort -n | awk -v p="$1" '{v[NR] = $1} END {k = int(p / 100 * NR + 0.999999); if (k < 1) k = 1; print v[k]}'; }

lat_hike() {
    local out=$NETNS_WORK/lat-hike.json
    hiked_responder psk userspace
    sleep 1
    hike_load psk "$out" -n "$BENCH_LAT_COUNT" -w 1 --timeout 120 || true
    stop_responder hiked
    echo "$(json "$out" '.latency_us.p50 / 10 | floor / 100')" \
        "$(json "$out" '.latency_us.p99 / 10 | floor / 100') $(json "$out" .established)"
}

lat_charon() {
    charon_responder psk
    local d=$NETNS_WORK/charon-ini.d i
    CHARON_LOG="default=-1 ike=1" charon_start ini gen "
    install_routes = no"
    taskset -a -p -c "$BENCH_CPU_GEN" "${CHARON_PID[ini]}" >/dev/null
    charon_conf_psk "$d" local=10.9.0.1 remote=$RESP_ADDR ike="$BENCH_IKE" esp="$BENCH_ESP" \
        local_id=initiator.bench.example remote_id=responder.bench.example psk="$BENCH_PSK" \
        local_ts=dynamic remote_ts=$INNER_NET mobike=no extra_conn="vips = 0.0.0.0"
    charon_load ini "$d"
    for ((i = 0; i < BENCH_LAT_COUNT; i++)); do
        charon_initiate ini net net 5 >/dev/null 2>&1 || true
    done
    charon_stop ini
    stop_responder charon
    # "<net|N> initiating IKE_SA net[N] ..." to "<net|N> CHILD_SA net{M} established ...".
    awk '
        function ms(t) { split(t, a, ":"); return (a[1] * 3600 + a[2] * 60 + a[3]) * 1000 }
        match($0, /<net\|[0-9]+>/) {
            id = substr($0, RSTART, RLENGTH)
            if ($0 ~ /initiating IKE_SA/) t0[id] = ms($1)
            else if ($0 ~ /CHILD_SA .* established/ && (id in t0)) { print ms($1) - t0[id]; delete t0[id] }
        }' "$(charon_log ini)" >"$NETNS_WORK/lat-charon.txt"
    local n
    n=$(wc -l <"$NETNS_WORK/lat-charon.txt")
    [ "$n" -gt 0 ] || fail "no charon <-> charon set-up measured"
    echo "$(pctl 50 <"$NETNS_WORK/lat-charon.txt") $(pctl 99 <"$NETNS_WORK/lat-charon.txt") $n"
}

part_latency() {
    local h s
    log "latency: $BENCH_LAT_COUNT set-ups one at a time"
    read -r -a h <<<"$(lat_hike)"
    log "  hike <-> hike: p50 ${h[0]} ms, p99 ${h[1]} ms (${h[2]} samples)"
    read -r -a s <<<"$(lat_charon)"
    log "  charon <-> charon: p50 ${s[0]} ms, p99 ${s[1]} ms (${s[2]} samples)"
    row "one IKE SA + Child SA set-up, idle, p50 (ms)" "${h[0]}" "${s[0]}" lower
    row "one IKE SA + Child SA set-up, idle, p99 (ms)" "${h[1]}" "${s[1]}" lower
    note "latency samples: ${h[2]} hike <-> hike (us resolution), ${s[2]} charon <-> charon (ms resolution, from its log)"
}
