#!/bin/bash
# The XFRM data plane's start-up probe on a kernel without ESP (this project's machines):
# inside a test namespace the probe reports "no ESP" and leaves no SA or policy behind;
# hiked with dataplane "auto" (a) and "xfrm" (b) each log one fall-back line saying why,
# and the tunnel still carries a ping through the userspace plane. Policies need no kernel
# ESP: the kernel takes and deletes the ones hike builds for a range that is no prefix. On a
# kernel that takes ESP SAs the fall-back cannot happen, and the test says SKIP. Needs root;
# about 5 s.
set -u
. "${HIKE_SOURCE_DIR:?HIKE_SOURCE_DIR not set}/tests/net/lib/hike_pair.sh"
hp_init xfrmprobe 60
hp_net
T=$HP_T
PROBE=$HP_B/xfrm_probe
[ -x "$PROBE" ] || hp_fail "$PROBE not built"

# nothing in our namespace's SAD and SPD (the probe must not leave its SA there)
xfrm_empty() {
    local ns=$1 s p
    s=$(ip -n "$ns" xfrm state) && p=$(ip -n "$ns" xfrm policy) || hp_fail "ip xfrm in $ns"
    [ -z "$s$p" ] || { echo "state: $s"; echo "policy: $p"; return 1; }
}

out=$(ip netns exec "$HP_NSA" timeout 10 "$PROBE")
rc=$?
echo "probe: $out"
if [ $rc = 0 ]; then
    echo "SKIP: this kernel takes ESP SAs; the fall-back to the userspace plane cannot be tested"
    exit 0
fi
[ $rc = 1 ] && [[ $out == "esp: no "* ]] || hp_fail "probe: exit $rc, '$out'"
ok "the probe reports no ESP"
xfrm_empty "$HP_NSA" || hp_fail "the probe left state behind"
ok "ip xfrm state / policy: empty after the probe"

# The kernel's view of hike's policy messages: 10.1.0.1-10.1.0.6 is 4 prefixes, x 3 directions.
ip netns exec "$HP_NSB" "$PROBE" policies add > "$T/pol.out" 2>&1 || hp_fail "policies: $(cat "$T/pol.out")"
ip -n "$HP_NSB" xfrm policy > "$T/pol.txt"
for d in out in fwd; do
    [ "$(grep -c "dir $d priority" "$T/pol.txt")" = 4 ] || hp_fail "not 4 $d policies: $(cat "$T/pol.txt")"
done
grep -q '^src 10.1.0.2/31 dst 10.2.0.0/16 proto tcp dport 443 *$' "$T/pol.txt" &&
    grep -q '^src 10.2.0.0/16 dst 10.1.0.6/32 proto tcp sport 443 *$' "$T/pol.txt" &&
    [ "$(grep -c 'proto esp reqid 7 mode tunnel' "$T/pol.txt")" = 12 ] ||
    hp_fail "policies as the kernel shows them: $(cat "$T/pol.txt")"
ip netns exec "$HP_NSB" "$PROBE" policies del > "$T/pol.out" 2>&1 || hp_fail "policies: $(cat "$T/pol.out")"
xfrm_empty "$HP_NSB" || hp_fail "policies left after their deletion"
ok "the kernel takes and deletes hike's 12 policies for a non-prefix range"

ip -n "$HP_NSA" addr add 10.1.0.1/32 dev lo
ip -n "$HP_NSB" addr add 10.2.0.1/32 dev lo
hp_conf a start "" 'dataplane = "auto";'
hp_conf b none "" 'dataplane = "xfrm";'
hp_start b
hp_start a
hp_wait a 'len(s) == 1 and s[0]["state"] == "ESTABLISHED" and s[0]["children"]' ||
    hp_fail "not established"
hp_wait b 'len(s) == 1 and s[0]["children"]' || hp_fail "b has no child"

# One line each, with the kernel's reason.
n=$(grep -c 'dataplane: the kernel rejects ESP SAs (XFRM_MSG_NEWSA: .*); using the userspace ESP plane' "$T/a.log")
[ "$n" = 1 ] || hp_fail "a (auto): $n fall-back lines"
n=$(grep -c 'dataplane: "xfrm" configured but the kernel rejects ESP SAs (XFRM_MSG_NEWSA: .*); using the userspace ESP plane' "$T/b.log")
[ "$n" = 1 ] || hp_fail "b (xfrm): $n fall-back lines"
[ "$(cat "$T/a.log" "$T/b.log" | grep -c 'kernel rejects ESP')" = 2 ] ||
    hp_fail "more than one line each about the kernel's ESP"
grep -q 'data plane: userspace' "$T/a.log" && grep -q 'data plane: userspace' "$T/b.log" ||
    hp_fail "not on the userspace plane"
ok "a (auto): $(grep -o 'dataplane: the kernel rejects.*' "$T/a.log")"
ok "b (xfrm): $(grep -o 'dataplane: "xfrm".*' "$T/b.log")"

ip netns exec "$HP_NSA" ping -q -c 3 -i 0.2 -W 2 -I 10.1.0.1 10.2.0.1 > "$T/ping" ||
    hp_fail "ping through the tunnel: $(cat "$T/ping")"
hp_json a list-sas > "$T/a.sas"
hp_py 't = j[0][0]["children"][0]["traffic"]
sys.exit(0 if t["packets_out"] >= 3 and t["packets_in"] >= 3 else 1)' "$T/a.sas" ||
    hp_fail "traffic counters: $(cat "$T/a.sas")"
ok "ping 10.1.0.1 -> 10.2.0.1 through the userspace plane"

hp_stop a
hp_stop b
xfrm_empty "$HP_NSA" && xfrm_empty "$HP_NSB" || hp_fail "kernel SAs or policies left behind"
ok "no kernel SA or policy in either namespace"
echo "PASS"
