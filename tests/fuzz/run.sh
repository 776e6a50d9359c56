#!/usr/bin/env bash
# Runs one libFuzzer target over its seed corpus and then for a bounded number of inputs or
# seconds, whichever ends first (CI keeps each target to a few seconds). The seed corpus is
# copied to a scratch folder so the run never writes into the source tree; a crash leaves
# its input next to the binary and fails the test.
set -euo pipefail
target=$1 seeds=$2 runs=$3 seconds=${4:-0}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
[ -d "$seeds" ] && cp -r "$seeds"/. "$work/corpus/" 2>/dev/null || true
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Leaks inside libraries we do not own (lsan.supp says which and why).
export LSAN_OPTIONS=suppressions=$here/lsan.supp:print_suppressions=0
exec "$target" -runs="$runs" -max_total_time="$seconds" -max_len=4096 -seed=1 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$(dirname "$target")/crash-$(basename "$target")-" "$work/corpus"
