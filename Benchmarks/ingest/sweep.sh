#!/usr/bin/env bash
# Where stedi's tail latency comes from: stedi alone under the same wrk load, varying one thing at
# a time (request size, connections, landing file size, CPU placement, log on tmpfs). Diagnostic,
# not a comparison; run run.sh first (it builds stedi and the virtualenv). See README.md.
#
#   bash Benchmarks/ingest/sweep.sh [--seconds S] [--repeats R] [--only tag,tag]
#
# Each case's JSON goes to Benchmarks/ingest/results/sweep-<tag>.json; a summary table at the end.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
SECONDS_RUN=10
REPEATS=2
ONLY=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --seconds) SECONDS_RUN="$2"; shift 2 ;;
    --repeats) REPEATS="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 64 ;;
  esac
done

# tag | run.sh flags | compare.py flags
CASES=(
  "batch100|--batch 100|"
  "batch1000|--batch 1000|"
  "batch5000|--batch 5000|"
  "conn4|--connections 4|"
  "conn64|--connections 64|"
  "landing1MiB|--batch 1000|--batch-max-bytes 1048576"
  "shared|--placement shared|"
  "wal-tmpfs|--batch 1000|--stedi-wal-root /dev/shm/stedi-ingest-sweep-wal"
)

TAGS=()
for case in "${CASES[@]}"; do
  IFS='|' read -r tag flags extra <<<"$case"
  if [[ -n "$ONLY" && ",$ONLY," != *",$tag,"* ]]; then continue; fi
  TAGS+=("$tag")
  echo "== sweep: $tag ($flags $extra)" >&2
  # shellcheck disable=SC2086
  bash "$HERE/run.sh" --no-build --services stedi --seconds "$SECONDS_RUN" --warmup 2 --repeats "$REPEATS" \
    $flags --out "$HERE/results/sweep-$tag.json" -- --no-conformance --wait-idle 30 $extra >/dev/null || true
done
rm -rf /dev/shm/stedi-ingest-sweep-wal

"$REPO/.venv-ingest-bench/bin/python" - "$HERE/results" "${TAGS[@]}" <<'EOF'
import json, os, sys
folder, tags = sys.argv[1], sys.argv[2:]
print("| case | batch | conns | readings/s | p50 ms | p99 ms | paced readings/s | paced p50 | paced p99 "
      "| paced p99 per run | behind | others max |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|")
for tag in tags:
    path = os.path.join(folder, f"sweep-{tag}.json")
    if not os.path.exists(path):
        print(f"| {tag} | (failed) |"); continue
    d = json.load(open(path)); s = d["summary"]["stedi"]; p = s.get("paced", {}); st = d["settings"]
    others = max([s["othersCoresMax"]] + ([p["othersCoresMax"]] if p else []))
    print(f"| {tag} | {st['batch']} | {st['connections']} | {s['readingsPerSecond']:,.0f} | {s['p50Ms']:.1f} "
          f"| {s['p99Ms']:.1f} | {p.get('readingsPerSecond', 0):,.0f} | {p.get('p50Ms', 0):.1f} | {p.get('p99Ms', 0):.1f} "
          f"| {' / '.join(f'{x:.0f}' for x in p.get('p99MsRuns', []))} | {p.get('behindSchedule', 0)} | {others:.2f} |")
EOF
