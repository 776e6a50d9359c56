# shellcheck shell=bash
# Packet capture inside a test namespace with dumpcap (package tshark), to a pcap file
# that tshark reads afterwards (dissection, decryption checks). Sourced after netns.sh.
#
#   capture_start a eth0 "$NETNS_WORK/a.pcap" "udp port 500 or udp port 4500"
#   ... traffic ...
#   capture_stop "$NETNS_WORK/a.pcap"
#   tshark -r "$NETNS_WORK/a.pcap" -Y isakmp -T fields -e isakmp.exchtype
#
# Several captures may run at once; each is known by its pcap path.

declare -gA CAPTURE_PID=()

# capture_start NS IFACE PCAP [BPF-FILTER]: starts dumpcap on IFACE in namespace NS
# (classic pcap format, no promiscuous mode needed on veth) and waits until it
# captures (its pcap header is written), 5 s at most. CAPTURE_SNAPLEN=N keeps only
# the first N octets of each packet (headers of bulk transfers).
capture_start() {
    local ns=$1 ifc=$2 pcap=$3 filter=${4:-}
    command -v dumpcap >/dev/null 2>&1 || fail "dumpcap not found (package tshark; scripts/deps.sh test)"
    [ -z "${CAPTURE_PID[$pcap]:-}" ] || fail "capture to $pcap already running"
    rm -f "$pcap"
    ns_spawn "$ns" "$pcap.log" dumpcap -q -P -i "$ifc" -w "$pcap" ${filter:+-f "$filter"} \
        ${CAPTURE_SNAPLEN:+-s "$CAPTURE_SNAPLEN"}
    CAPTURE_PID[$pcap]=$NS_LAST_PID
    # dumpcap writes the file header once the interface is open, then logs the line.
    if ! wait_for 5 grep -q "^Capturing on" "$pcap.log" || ! wait_for 2 test -s "$pcap"; then
        cat "$pcap.log" >&2
        fail "dumpcap on $ns:$ifc did not start"
    fi
}

# capture_stop PCAP: stops that capture (dumpcap flushes and closes the file on TERM)
# and prints how many packets it holds to stderr.
capture_stop() {
    local pcap=$1 pid=${CAPTURE_PID[$1]:-}
    [ -n "$pid" ] || fail "no capture to $pcap running"
    # libpcap's TPACKET_V3 ring hands packets to dumpcap only when a block fills or its
    # 250 ms timer retires it, and dumpcap does not drain the ring on TERM: without a
    # pause the last quarter second of traffic is missing from the file.
    sleep "${CAPTURE_DRAIN:-0.6}"
    ns_kill "$pid" 5 || echo "dumpcap for $pcap needed SIGKILL" >&2
    unset "CAPTURE_PID[$pcap]"
    [ -s "$pcap" ] || fail "capture $pcap is empty"
}

# capture_protocols PCAP: one line per packet, its protocol stack as tshark sees it
# (eth:ethertype:ip:udp:udpencap:esp, ...:udp:isakmp, ...). One tshark pass (tshark
# takes about half a second to start), so count with grep rather than capture_count.
capture_protocols() {
    tshark -r "$1" -T fields -e frame.protocols 2>/dev/null
}

# capture_count PCAP [DISPLAY-FILTER]: number of packets in PCAP (matching the tshark
# display filter).
capture_count() {
    tshark -r "$1" ${2:+-Y "$2"} -T fields -e frame.number 2>/dev/null | wc -l
}
