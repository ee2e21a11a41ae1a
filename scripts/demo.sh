#!/usr/bin/env bash
# The main job on the embedded default: generate a deterministic sample lake with the project's
# own generator, run the zone pipeline over it on the local filesystem, print the funnel.
# Usage: bash scripts/demo.sh [LAKE_DIR]   (default: ./scratch/demo-lake, rebuilt each time)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-toolchain.sh

lake="${1:-scratch/demo-lake}"
swift build -c release --product stedi >&2
rm -rf "$lake"
.build/release/stedi lake sample --lake "$lake" --customers 200 --readings 60 --seed 1
.build/release/stedi pipeline run --lake "$lake" --profile strict
echo
echo "tables written under $lake: customer/{trusted,curated} accelerometer/trusted step_trainer/{trusted,curated} */quarantine"
