#!/usr/bin/env bash
# The main job on the embedded default: generate a deterministic lake with the project's own
# motion-model generator (every flaw of the real data on), capture a simulated Step Trainer over a
# pseudo-terminal and send its readings through the HTTP ingest service into the lake, run the
# zone pipeline over it on the local filesystem, print the funnel.
# Usage: bash scripts/demo.sh [LAKE_DIR]   (default: ./scratch/demo-lake, rebuilt each time)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-toolchain.sh

lake="${1:-scratch/demo-lake}"
swift build -c release --product stedi >&2
rm -rf "$lake"
.build/release/stedi generate --lake "$lake" --customers 100 --days 2 --seed 1

# The ingest service on the lake (write-ahead log in <lake>/_stedi/ingest-wal), on a free port.
exec 4< <(exec .build/release/stedi serve --lake "$lake" --port 0 --batch-max-age 2)
read -r listening <&4
url="${listening#listening on }"
serve_pid=$(pgrep -n -f "stedi serve --lake $lake")
trap 'kill "$serve_pid" 2>/dev/null || true' EXIT
token=$(.build/release/stedi token issue --lake "$lake" --device 0d5e7a6f-0000-4000-8000-000000000001)

# A Step Trainer on a pseudo-terminal (the simulator), captured for 5 seconds over the same serial
# path a USB device takes, and sent to the ingest service with the device's token. Its serial
# number belongs to no customer, so the pipeline lands its readings but no consent lets them further.
exec 3< <(.build/release/stedi device simulate --serial 0d5e7a6f-0000-4000-8000-000000000001 --rate 16 --duration 8 --seed 1)
read -r port <&3
.build/release/stedi capture --port "$port" --ingest "$url" --token "$token" --duration 5
exec 3<&-
# SIGTERM: the service lands what it holds and exits.
kill -TERM "$serve_pid"
while kill -0 "$serve_pid" 2>/dev/null; do sleep 0.1; done
trap - EXIT
echo
.build/release/stedi pipeline run --lake "$lake" --profile strict
echo
echo "tables written under $lake: customer/{trusted,curated} accelerometer/trusted step_trainer/{trusted,curated} */quarantine"
echo "what the generator put in (flaws, expected counts): $lake/_stedi/generate-manifest.json"
