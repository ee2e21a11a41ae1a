#!/usr/bin/env bash
# The main job on the embedded default: generate a deterministic lake with the project's own
# motion-model generator (every flaw of the real data on), capture a simulated Step Trainer into
# it over a pseudo-terminal, run the zone pipeline over it on the local filesystem, print the funnel.
# Usage: bash scripts/demo.sh [LAKE_DIR]   (default: ./scratch/demo-lake, rebuilt each time)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-toolchain.sh

lake="${1:-scratch/demo-lake}"
swift build -c release --product stedi >&2
rm -rf "$lake"
.build/release/stedi generate --lake "$lake" --customers 100 --days 2 --seed 1

# A Step Trainer on a pseudo-terminal (the simulator), captured for 5 seconds over the same serial
# path a USB device takes, into the lake's step_trainer landing zone. Its serial number belongs to
# no customer, so the pipeline lands its readings but no consent lets them further.
exec 3< <(.build/release/stedi device simulate --rate 16 --duration 8 --seed 1)
read -r port <&3
.build/release/stedi capture --port "$port" --lake "$lake" --duration 5
exec 3<&-
echo
.build/release/stedi pipeline run --lake "$lake" --profile strict
echo
echo "tables written under $lake: customer/{trusted,curated} accelerometer/trusted step_trainer/{trusted,curated} */quarantine"
echo "what the generator put in (flaws, expected counts): $lake/_stedi/generate-manifest.json"
