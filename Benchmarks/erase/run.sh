#!/usr/bin/env bash
# Erasure benchmark: `stedi lake erase` vs the same erasure by hand with DuckDB, for one customer
# with a large history (1,000,000 readings), on identical copies of a lake. See README.md here.
#
#   bash Benchmarks/erase/run.sh [--customers N] [--readings R] [--per-file F] [--seed S]
#        [--repeats K] [--order alternate|stedi-first] [--engines stedi,duckdb] [--work DIR]
#        [--stedi PATH] [--no-build] [--fresh-lake] [--out FILE] [-- extra compare.py flags]
# Defaults: 300 customers, 1,000,000 readings in files of 100,000, 3 alternating rounds.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STEDI_FROM_ENV="${STEDI:-}"
# REPO, STEDI, REPEATS=3, BUILD=1, usage, bench_* (see ../common/README.md)
source "$HERE/../common/lib.sh"

CUSTOMERS=300
READINGS=1000000
PER_FILE=100000
SEED=1
ORDER=alternate
ENGINES=stedi,duckdb
WORK="${TMPDIR:-/tmp}/stedi-erase-bench"
OUT="$HERE/results/latest.json"   # gitignored by Benchmarks/erase/results/.gitignore
REUSE=--reuse
DUCKDB_VERSION="${DUCKDB_VERSION:-2.0.1}"
# A stedi binary given by STEDI=PATH in the environment or --stedi PATH is used as it is (no build).
if [[ -n "$STEDI_FROM_ENV" ]]; then STEDI="$STEDI_FROM_ENV"; BUILD=0; fi

bench_option() {
  case "$1" in
    --customers) CUSTOMERS="$2" ;;
    --readings) READINGS="$2" ;;
    --per-file) PER_FILE="$2" ;;
    --seed) SEED="$2" ;;
    --order) ORDER="$2" ;;
    --engines) ENGINES="$2" ;;
    --stedi) STEDI="$2"; BUILD=0 ;;
    --out) OUT="$2" ;;
    *) return 1 ;;
  esac
}
# --fresh-lake takes no value (bench_parse_args gives bench_option flags with one): taken out first.
ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --fresh-lake) REUSE=""; shift ;;
    --) ARGS+=("$@"); break ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
bench_parse_args ${ARGS[@]+"${ARGS[@]}"}
bench_enter_work
STEDI="$(cd "$(dirname "$STEDI")" 2>/dev/null && pwd)/$(basename "$STEDI")"

# 1. Python environment with DuckDB (gitignored .venv-bench at the repository root, shared with
#    Benchmarks/pipeline).
bench_venv .venv-bench duckdb duckdb "$DUCKDB_VERSION"

# 2. stedi release build (the lake is built with it too: generate and pipeline run).
if [[ "$BUILD" == 1 ]]; then
  bench_build_stedi
fi
if [[ ! -x "$STEDI" ]]; then
  echo "error: no stedi binary at $STEDI (build it, or give --stedi PATH)" >&2
  exit 2
fi

# 3. The lake: generated customers + one customer with READINGS readings, after a pipeline run
#    (reused when <work>/lake.json says it was built with the same parameters and binary).
echo "== lake: $CUSTOMERS customers + 1 with $READINGS readings ($PER_FILE per landing file)" >&2
"$PY" "$HERE/make_lake.py" --stedi "$STEDI" --out "$WORK" --customers "$CUSTOMERS" \
  --readings "$READINGS" --per-file "$PER_FILE" --seed "$SEED" $REUSE

# 4. Both engines on identical copies, alternating; prints the table, writes $OUT.
echo "== running ($REPEATS run(s) per engine, order $ORDER)" >&2
exec "$PY" "$HERE/compare.py" --meta "$WORK/lake.json" --work "$WORK" --stedi "$STEDI" \
  --python "$PY" --repeats "$REPEATS" --order "$ORDER" --engines "$ENGINES" \
  --result "$OUT" ${EXTRA[@]+"${EXTRA[@]}"}
