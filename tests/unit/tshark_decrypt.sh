#!/usr/bin/env bash
# End-to-end check of the key log (src/ike/keylog.c): tests/tools/keylog_pcap writes a
# capture of an IKE_AUTH exchange sealed by ike_sk_seal and two ESP packets, plus the
# ikev2_decryption_table and esp_sa lines hike logs for them. tshark, given those
# lines (as profile files and as -o uat: options), must show the decrypted inner
# payloads with correct ICVs and nothing malformed; with a corrupted key it must not.
set -euo pipefail

if ! command -v tshark >/dev/null 2>&1; then
    echo "SKIP: tshark not installed"
    exit 0
fi
build=${HIKE_BUILD_DIR:?HIKE_BUILD_DIR not set}
tool=$build/keylog_pcap
[ -x "$tool" ] || { echo "FAIL: $tool not built"; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
check() { # message, then a command that must succeed
    local msg=$1
    shift
    if "$@"; then echo "ok: $msg"; else echo "FAIL: $msg"; fail=1; fi
}
count() { # pattern, file: number of matching lines
    grep -c -- "$1" "$2" || true
}

# tshark over a pcap with the UAT files of profile directory $1; output to $2.
dissect() {
    local cfg=$1 out=$2 pcap=$3
    shift 3
    WIRESHARK_CONFIG_DIR=$cfg tshark -r "$pcap" -o esp.enable_encryption_decode:TRUE \
        -o esp.enable_authentication_check:TRUE "$@" >"$out" 2>>"$work/stderr.txt"
}

for alg in gcm256 cbc256; do
    d=$work/$alg
    mkdir -p "$d/cfg" "$d/bad" "$d/none"
    "$tool" "$alg" "$d/x.pcap" "$d/ike.keys" "$d/esp.keys"
    # Wireshark keeps each table in a file of that name in the profile directory.
    cp "$d/ike.keys" "$d/cfg/ikev2_decryption_table"
    cp "$d/esp.keys" "$d/cfg/esp_sa"
    check "$alg: one IKE line, two ESP lines" bash -c \
        "[ \$(wc -l <'$d/ike.keys') -eq 1 ] && [ \$(wc -l <'$d/esp.keys') -eq 2 ]"
    check "$alg: key files are mode 600" bash -c \
        "[ \$(stat -c %a '$d/ike.keys') = 600 ] && [ \$(stat -c %a '$d/esp.keys') = 600 ]"

    v=$d/verbose.txt
    dissect "$d/cfg" "$v" "$d/x.pcap" -V
    dissect "$d/cfg" "$d/expert.txt" "$d/x.pcap" -q -z expert
    check "$alg: IKE_AUTH request decrypted (IDi)" grep -q 'Identification Data:client.example.org' "$v"
    check "$alg: IKE_AUTH response decrypted (IDr)" grep -q 'Identification Data:gw.example.net' "$v"
    check "$alg: CP request and reply inside" bash -c \
        "grep -q 'Config Attribute (t=1,l=0): INTERNAL_IP4_ADDRESS' '$v' &&
         grep -q 'Config Attribute (t=1,l=4): INTERNAL_IP4_ADDRESS' '$v'"
    check "$alg: both IKE ICVs verified" bash -c \
        "[ \$(grep -c 'Integrity Checksum Data: .*\\[correct\\]' '$v') -eq 2 ] &&
         ! grep -q 'incorrect' '$v'"
    check "$alg: both ESP packets decrypted" bash -c \
        "grep -q 'Type: 8 (Echo (ping) request)' '$v' && grep -q 'Type: 0 (Echo (ping) reply)' '$v' &&
         [ \$(grep -c 'Data: 68696b65206b65796c6f67206573702074657374' '$v') -eq 2 ]"
    check "$alg: both ESP ICVs verified" bash -c \
        "[ \$(grep -c 'ESP ICV: .*\\[correct\\]' '$v') -eq 2 ]"
    check "$alg: nothing malformed, no expert Error or Warning" bash -c \
        "! grep -qi malformed '$v' && ! grep -Eq '^(Errors|Warnings) \\(' '$d/expert.txt'"

    # The same lines given on the command line instead of in a profile.
    ike_line=$(cat "$d/ike.keys")
    esp_out=$(sed -n 1p "$d/esp.keys")
    dissect "$d/none" "$d/cli.txt" "$d/x.pcap" -V -o "uat:ikev2_decryption_table:$ike_line" \
        -o "uat:esp_sa:$esp_out"
    check "$alg: -o uat: lines decrypt too" bash -c \
        "grep -q 'Identification Data:client.example.org' '$d/cli.txt' &&
         grep -q 'Type: 8 (Echo (ping) request)' '$d/cli.txt'"

    # Negative control: flip the last hex digit of SK_ei and of each ESP encryption key.
    awk -F, 'BEGIN { OFS = "," } { k = $3; c = substr(k, length(k)); $3 = substr(k, 1, length(k) - 1) (c == "0" ? "1" : "0"); print }' \
        "$d/ike.keys" >"$d/bad/ikev2_decryption_table"
    awk -F, 'BEGIN { OFS = "," } { k = $6; c = substr(k, length(k) - 1, 1); $6 = substr(k, 1, length(k) - 2) (c == "0" ? "1" : "0") "\""; print }' \
        "$d/esp.keys" >"$d/bad/esp_sa"
    check "$alg: negative control files differ" bash -c \
        "! cmp -s '$d/ike.keys' '$d/bad/ikev2_decryption_table' && ! cmp -s '$d/esp.keys' '$d/bad/esp_sa'"
    dissect "$d/bad" "$d/bad.txt" "$d/x.pcap" -V
    check "$alg: negative control: wrong SK_ei hides IDi" bash -c \
        "! grep -q 'Identification Data:client.example.org' '$d/bad.txt' &&
         grep -Eq 'incorrect|Malformed' '$d/bad.txt'"
    check "$alg: negative control: wrong ESP keys hide the pings" bash -c \
        "! grep -q 'Echo (ping)' '$d/bad.txt'"
done

if [ "$fail" -ne 0 ]; then
    echo "--- stderr ---"
    grep -v 'Running as user "root"' "$work/stderr.txt" || true
    for alg in gcm256 cbc256; do
        echo "--- $alg keys ---"
        cat "$work/$alg/ike.keys" "$work/$alg/esp.keys"
        echo "--- $alg expert ---"
        cat "$work/$alg/expert.txt" 2>/dev/null || true
    done
    exit 1
fi
echo "PASS: tshark decrypts IKE and ESP with hike's key log"
