#!/usr/bin/env bash
# External check of the codec's wire format: tshark dissects a pcap of messages the
# codec encoded (tests/tools/pcap_ikemsg.c) and must find nothing malformed, no
# expert Error/Warning, good IP/UDP checksums and the expected exchanges.
set -euo pipefail

if ! command -v tshark >/dev/null 2>&1; then
    echo "SKIP: tshark not installed"
    exit 0
fi
build=${HIKE_BUILD_DIR:?HIKE_BUILD_DIR not set}
tool=$build/pcap_ikemsg
[ -x "$tool" ] || { echo "FAIL: $tool not built"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pcap=$work/ike.pcap
"$tool" "$pcap"

opts=(-o ip.check_checksum:TRUE -o udp.check_checksum:TRUE)
run() { # output file, tshark arguments
    local out=$1
    shift
    if ! tshark "${opts[@]}" -r "$pcap" "$@" >"$out" 2>>"$work/stderr.txt"; then
        echo "FAIL: tshark $* failed"
        cat "$work/stderr.txt"
        exit 1
    fi
}
run "$work/verbose.txt" -V
run "$work/expert.txt" -q -z expert
run "$work/exch.txt" -Y isakmp -T fields -e isakmp.exchangetype

fail=0
check() { # message, then a command that must succeed
    local msg=$1
    shift
    if "$@"; then echo "ok: $msg"; else echo "FAIL: $msg"; fail=1; fi
}

check "no Malformed in the dissection" bash -c "! grep -qi malformed '$work/verbose.txt'"
# A clean file gives an empty expert table; Errors/Warnings sections name the problem.
check "no expert Error or Warning" bash -c "! grep -Eq '^(Errors|Warnings) \\(' '$work/expert.txt'"
check "checksums verified good" bash -c \
    "[ \$(grep -c 'checksum status: Good' '$work/verbose.txt') -eq 4 ] &&
     [ \$(grep -c 'Checksum Status: Good' '$work/verbose.txt') -eq 4 ] &&
     ! grep -qi 'status: Bad' '$work/verbose.txt'"
check "four ISAKMP packets" bash -c "[ \$(wc -l <'$work/exch.txt') -eq 4 ]"
check "exchange types 34,34,35,37" bash -c "[ \"\$(tr '\n' ' ' <'$work/exch.txt')\" = '34 34 35 37 ' ]"
check "IKE_SA_INIT shown" grep -q 'Exchange type: IKE_SA_INIT (34)' "$work/verbose.txt"
check "IKE_AUTH shown" grep -q 'Exchange type: IKE_AUTH (35)' "$work/verbose.txt"
check "INFORMATIONAL shown" grep -q 'Exchange type: INFORMATIONAL (37)' "$work/verbose.txt"
check "AES-GCM-16 with key length 256" bash -c \
    "grep -q 'AES-GCM with a 16 octet ICV (20)' '$work/verbose.txt' &&
     grep -q 'Key Length: 256' '$work/verbose.txt'"
check "PRF HMAC-SHA2-256" grep -q 'PRF_HMAC_SHA2_256 (5)' "$work/verbose.txt"
check "KE groups 19 and 31" bash -c \
    "grep -q 'DH Group #: .*(19)' '$work/verbose.txt' &&
     grep -q 'DH Group #: .*(31)' '$work/verbose.txt'"
check "NAT-D notifies" bash -c \
    "[ \$(grep -c 'Notify Message Type: NAT_DETECTION_SOURCE_IP (16388)' '$work/verbose.txt') -eq 2 ] &&
     [ \$(grep -c 'Notify Message Type: NAT_DETECTION_DESTINATION_IP (16389)' '$work/verbose.txt') -eq 2 ]"
check "fragmentation notify" grep -q 'IKEV2_FRAGMENTATION_SUPPORTED (16430)' "$work/verbose.txt"
check "CERTREQ and Vendor ID" bash -c \
    "grep -q 'Payload: Certificate Request (38)' '$work/verbose.txt' &&
     grep -q 'Payload: Vendor ID (43)' '$work/verbose.txt'"
check "SK payloads" bash -c \
    "[ \$(grep -c 'Payload: Encrypted and Authenticated (46)' '$work/verbose.txt') -eq 2 ]"

# Negative control: the same checks must notice a broken message. Set the first
# payload length of packet 1 (pcap 24 + record 16 + Ethernet 14 + IP 20 + UDP 8 +
# IKE header 28 + 2) to 0xffff.
cp "$pcap" "$work/bad.pcap"
printf '\xff\xff' | dd of="$work/bad.pcap" bs=1 seek=$((24 + 16 + 14 + 20 + 8 + 28 + 2)) \
    conv=notrunc status=none
pcap=$work/bad.pcap
run "$work/bad-expert.txt" -q -z expert
check "negative control: a corrupted length is reported" \
    grep -q 'Malformed' "$work/bad-expert.txt"

if [ "$fail" -ne 0 ]; then
    echo "--- expert ---"; cat "$work/expert.txt"
    echo "--- stderr ---"; cat "$work/stderr.txt"
    exit 1
fi
echo "PASS: tshark dissects the codec's messages cleanly"
