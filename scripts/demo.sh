#!/usr/bin/env bash
# The main job. The daemon (hiked) is not written yet; until it lands this says so
# plainly instead of pretending, and runs the codec/crypto self-check instead.
set -euo pipefail
build=${1:-build}
echo "hike: the IKEv2 daemon (hiked) is not built yet (see issue 3)."
echo "hike: running the foundation's unit tests instead:"
cd "$build" && ctest -L unit --output-on-failure
