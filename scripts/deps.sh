#!/usr/bin/env bash
# Installs the Debian packages hike needs that are missing: `apt-get update` once, then
# only what is not there yet. Groups: build (always), test, interop, bench.
set -euo pipefail

build_pkgs=(build-essential clang cmake pkg-config libssl-dev libevent-dev libcmocka-dev
            libconfig-dev libjansson-dev libcbor-dev libmnl-dev libcap-dev)
test_pkgs=(tshark iproute2 nftables iputils-ping python3)
interop_pkgs=(strongswan-charon strongswan-swanctl libcharon-extra-plugins
              libstrongswan-extra-plugins libstrongswan-standard-plugins strongswan-pki
              # libreswan's pluto is unpacked, not installed (it conflicts with the
              # packages above): its libraries and NSS tools are installed instead.
              libnss3-tools libnss3 libnspr4 libldns3 libunbound8 libcurl3-nss
              libevent-core-2.1-7 libevent-pthreads-2.1-7 libcap-ng0 libldap-2.5-0)
bench_pkgs=(iperf3 hyperfine linux-perf jq util-linux openssl)

want=("${build_pkgs[@]}")
for g in "$@"; do
    case "$g" in
    build) ;;
    test) want+=("${test_pkgs[@]}") ;;
    interop) want+=("${interop_pkgs[@]}") ;;
    bench) want+=("${bench_pkgs[@]}") ;;
    *) echo "deps.sh: unknown group '$g' (build, test, interop, bench)" >&2; exit 2 ;;
    esac
done

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "deps.sh: missing packages (${missing[*]}); run as root to install them" >&2
    exit 1
fi
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# iperf3's package asks whether to run a system-wide iperf3 server: no.
if printf '%s\n' "${missing[@]}" | grep -qx iperf3; then
    echo 'iperf3 iperf3/start_daemon boolean false' | debconf-set-selections
fi
apt-get update -q
# Keep package scripts from starting system-wide daemons (charon) during the install.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    own_policy=1
fi
rc=0
apt-get install -y -q --no-install-recommends "${missing[@]}" || rc=$?
[ $own_policy -eq 1 ] && rm -f "$policy"
exit $rc
