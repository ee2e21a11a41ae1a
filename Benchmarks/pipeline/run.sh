#!/usr/bin/env bash
# Pipeline benchmark: stedi (strict profile) vs the DuckDB reference pipeline on
# an N-times replicated STEDI lake, both writing Parquet (or NDJSON); then DuckDB
# scanning machine_learning_curated as Parquet vs NDJSON. See README.md here.
#   bash Benchmarks/pipeline/run.sh [--replicas N] [--work DIR] [--repeats K]
#        [--order stedi-first|alternate] [--engines stedi,duckdb] [--no-build]
#        [--format parquet|ndjson] [--scan yes|no] [--scan-repeats K]
#        [--source DIR] [-- extra compare.py flags]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# REPO, STEDI, REPEATS=3, BUILD=1, usage, bench_* (see ../common/README.md)
source "$HERE/../common/lib.sh"

REPLICAS=40
WORK="${TMPDIR:-/tmp}/stedi-pipeline-bench"
ORDER=stedi-first
ENGINES=stedi,duckdb
FORMAT=parquet
SCAN=yes
SCAN_REPEATS=5
SOURCE="$(cd "$REPO/.." && pwd)/shared/datasets/stedi-udacity"
DUCKDB_VERSION="${DUCKDB_VERSION:-2.0.1}"

bench_option() {
  case "$1" in
    --replicas) REPLICAS="$2" ;;
    --order) ORDER="$2" ;;
    --engines) ENGINES="$2" ;;
    --source) SOURCE="$2" ;;
    --format) FORMAT="$2" ;;
    --scan) SCAN="$2" ;;
    --scan-repeats) SCAN_REPEATS="$2" ;;
    *) return 1 ;;
  esac
}
bench_parse_args "$@"
case "$FORMAT" in parquet|ndjson) ;; *) echo "--format takes parquet or ndjson" >&2; exit 64 ;; esac
case "$SCAN" in yes|no) ;; *) echo "--scan takes yes or no" >&2; exit 64 ;; esac
bench_enter_work

# 1. Python environment with DuckDB (gitignored .venv-bench at the repo root).
bench_venv .venv-bench duckdb duckdb "$DUCKDB_VERSION"

# 2. Scaled lake (reused when it already holds this many replicas of this source).
echo "== lake: $REPLICAS replica(s) of $SOURCE" >&2
"$PY" "$HERE/scale_lake.py" --source "$SOURCE" --lake "$WORK/lake" --replicas "$REPLICAS" --reuse

# 3. stedi release build.
if bench_should_build "$ENGINES"; then
  # libserialport and libzstd (the Parquet module's codec) from Debian when missing.
  source scripts/ensure-toolchain.sh
  bench_build_stedi
fi

# 4. Both engines, side by side; prints the tables and writes $WORK/result.json.
echo "== running ($REPEATS run(s) per engine, order $ORDER, format $FORMAT)" >&2
status=0
"$PY" "$HERE/compare.py" \
  --lake "$WORK/lake" --work "$WORK" \
  --stedi "$STEDI" --format "$FORMAT" \
  --repeats "$REPEATS" --order "$ORDER" --engines "$ENGINES" \
  --replicas "$REPLICAS" ${EXTRA[@]+"${EXTRA[@]}"} || status=$?

# 5. DuckDB's GROUP BY subjectId on stedi's machine_learning_curated, Parquet vs NDJSON
#    (written by DuckDB's pipeline instead when stedi is not among the engines);
#    prints its table and writes $WORK/scan-result.json.
if [[ "$SCAN" == yes ]]; then
  scan_source=duckdb
  if [[ ",$ENGINES," == *",stedi,"* ]]; then scan_source=stedi; fi
  echo "== scan ($SCAN_REPEATS run(s) per format, tables written by $scan_source)" >&2
  "$PY" "$HERE/scan.py" --lake "$WORK/lake" --work "$WORK" --stedi "$STEDI" \
    --source "$scan_source" --repeats "$SCAN_REPEATS" || scan_status=$?
  if (( ${scan_status:-0} > status )); then status=$scan_status; fi
fi
exit "$status"
