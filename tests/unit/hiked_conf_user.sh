#!/usr/bin/env bash
# hiked -t and daemon.user / daemon.group: a user or group the system does not know is a
# configuration error naming the file, the line and the setting; so are a group without a
# user and malformed names; existing names pass. Runs as any user (no privilege is dropped).
set -euo pipefail
hiked=${HIKE_BUILD_DIR:?HIKE_BUILD_DIR not set}/hiked
[ -x "$hiked" ] || { echo "FAIL: $hiked not built"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# root and its group exist on every system, this name on none.
root_group=$(id -gn root)
nouser=hike-no-such-user-x7

# check DAEMON_BODY WANT_RC WANT_OUTPUT
check() {
    printf 'daemon = {\n  %s\n};\n' "$1" > "$work/t.conf"
    local out rc=0
    out=$("$hiked" -t -c "$work/t.conf" 2>&1) || rc=$?
    if [ "$rc" != "$2" ] || [ "$out" != "$3" ]; then
        echo "FAIL: daemon = { $1 }: exit $rc, want $2"
        echo "  got:  $out"
        echo "  want: $3"
        exit 1
    fi
    echo "ok: daemon = { $1 } -> exit $rc"
}

check "user = \"$nouser\";" 1 "hiked: $work/t.conf:2: daemon.user: no such user '$nouser'"
check "user = \"root\"; group = \"$nouser\";" 1 \
    "hiked: $work/t.conf:2: daemon.group: no such group '$nouser'"
check "group = \"$root_group\";" 1 \
    "hiked: $work/t.conf:2: daemon.group: set daemon.user too: the group is switched only with the user"
check 'user = "a:b";' 1 "hiked: $work/t.conf:2: daemon.user: invalid character in a user or group name"
check 'user = "a b";' 1 "hiked: $work/t.conf:2: daemon.user: invalid character in a user or group name"
check 'user = "";' 1 "hiked: $work/t.conf:2: daemon.user: a user or group name has 1 to 32 characters"
check 'user = "-x";' 1 "hiked: $work/t.conf:2: daemon.user: a user or group name cannot start with '-'"
check 'user = 5;' 1 "hiked: $work/t.conf:2: daemon.user: expected a string, found an integer"
check 'user = "root";' 0 "$work/t.conf: OK, 0 connections"
check "user = \"root\"; group = \"$root_group\";" 0 "$work/t.conf: OK, 0 connections"
echo PASS
