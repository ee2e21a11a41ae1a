#!/usr/bin/env bash
# Pipeline benchmark: stedi (strict profile) vs the DuckDB reference pipeline
# on an N-times replicated STEDI lake. See README.md in this folder.
#
#   bash Benchmarks/pipeline/run.sh [--replicas N] [--work DIR] [--repeats K]
#                                   [--order stedi-first|alternate]
#                                   [--engines stedi,duckdb] [--no-build]
#                                   [--source DIR] [-- extra compare.py flags]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# REPO, STEDI, REPEATS=3, BUILD=1, usage, bench_* (see ../common/README.md)
source "$HERE/../common/lib.sh"

REPLICAS=40
WORK="${TMPDIR:-/tmp}/stedi-pipeline-bench"
ORDER=stedi-first
ENGINES=stedi,duckdb
SOURCE="$(cd "$REPO/.." && pwd)/shared/datasets/stedi-udacity"
DUCKDB_VERSION="${DUCKDB_VERSION:-2.0.1}"

bench_option() {
  case "$1" in
    --replicas) REPLICAS="$2" ;;
    --order) ORDER="$2" ;;
    --engines) ENGINES="$2" ;;
    --source) SOURCE="$2" ;;
    *) return 1 ;;
  esac
}
bench_parse_args "$@"
bench_enter_work

# 1. Python environment with DuckDB (gitignored .venv-bench at the repo root).
bench_venv .venv-bench duckdb duckdb "$DUCKDB_VERSION"

# 2. Scaled lake (reused when it already holds this many replicas of this source).
echo "== lake: $REPLICAS replica(s) of $SOURCE" >&2
"$PY" "$HERE/scale_lake.py" --source "$SOURCE" --lake "$WORK/lake" --replicas "$REPLICAS" --reuse

# 3. stedi release build.
if bench_should_build "$ENGINES"; then
  bench_build_stedi
fi

# 4. Both engines, side by side; prints the table and writes $WORK/result.json.
echo "== running ($REPEATS run(s) per engine, order $ORDER)" >&2
exec "$PY" "$HERE/compare.py" \
  --lake "$WORK/lake" --work "$WORK" \
  --stedi "$STEDI" \
  --repeats "$REPEATS" --order "$ORDER" --engines "$ENGINES" \
  --replicas "$REPLICAS" ${EXTRA[@]+"${EXTRA[@]}"}
