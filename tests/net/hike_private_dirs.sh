#!/bin/bash
# The directories hiked keeps secrets or its control socket in (issue 10): a control socket
# directory others can write to stops hiked at start with the reason; a key log directory open
# to others gets no keys (a warning says why), while a fresh one is made 0700 with 0600 files.
# Needs root; about 5 s.
set -u
. "${HIKE_SOURCE_DIR:?HIKE_SOURCE_DIR not set}/tests/net/lib/hike_pair.sh"
hp_init privdirs 40
hp_net 4
T=$HP_T

# A control socket in a 0777 directory: hiked refuses to start.
mkdir -m 0777 "$T/open"
chmod 0777 "$T/open"
hp_conf b none
sed "s|control_socket = \"[^\"]*\"|control_socket = \"$T/open/b.ctl\"|" "$T/b.conf" > "$T/b-open.conf"
rc=0
ip netns exec "$HP_NSB" timeout 10 "$HP_HIKED" -c "$T/b-open.conf" 2> "$T/b-open.log" || rc=$?
[ $rc != 0 ] && [ $rc != 124 ] || hp_fail "hiked started with its control socket in a 0777 directory (rc $rc)"
grep -q "control: directory $T/open has mode 0777: group or others may write to it; refused" \
    "$T/b-open.log" || hp_fail "no clear reason: $(cat "$T/b-open.log")"
[ ! -e "$T/open/b.ctl" ] || hp_fail "a socket was made in the open directory"
ok "control socket directory 0777 refused at start"

# Key logs: a's directory is 0777 (refused), b's does not exist yet (made private).
mkdir -m 0777 "$T/akeys"
chmod 0777 "$T/akeys"
hp_conf a start "" "keylog_dir = \"$T/akeys\";"
hp_conf b none "" "keylog_dir = \"$T/bkeys\";"
hp_start b
hp_start a
hp_wait a 'len(s) == 1 and s[0]["state"] == "ESTABLISHED" and len(s[0]["children"]) == 1' ||
    hp_fail "no SA"
hp_wait b 'len(s) == 1 and len(s[0]["children"]) == 1' || hp_fail "no SA at b"
[ -z "$(ls -A "$T/akeys")" ] || hp_fail "keys written into a 0777 directory: $(ls -l "$T/akeys")"
grep -q "keylog: directory $T/akeys has mode 0777: group or others may access it; refused" \
    "$T/a.log" || hp_fail "no warning for the open key log directory: $(grep keylog "$T/a.log")"
[ "$(stat -c %a "$T/bkeys")" = 700 ] || hp_fail "key log directory mode $(stat -c %a "$T/bkeys")"
for f in ikev2_decryption_table esp_sa; do
    [ "$(stat -c %a "$T/bkeys/$f")" = 600 ] || hp_fail "$f mode $(stat -c %a "$T/bkeys/$f")"
    [ -s "$T/bkeys/$f" ] || hp_fail "$f empty"
done
ok "key log: 0777 directory refused with a warning; a new one made 0700 with 0600 files"
hp_stop a
hp_stop b
ok "done"
