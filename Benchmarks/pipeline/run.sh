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
REPO="$(cd "$HERE/../.." && pwd)"

REPLICAS=40
WORK="${TMPDIR:-/tmp}/stedi-pipeline-bench"
REPEATS=3
ORDER=stedi-first
ENGINES=stedi,duckdb
BUILD=1
SOURCE="$(cd "$REPO/.." && pwd)/shared/datasets/stedi-udacity"
DUCKDB_VERSION="${DUCKDB_VERSION:-2.0.1}"
EXTRA=()

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --replicas) REPLICAS="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --repeats) REPEATS="$2"; shift 2 ;;
    --order) ORDER="$2"; shift 2 ;;
    --engines) ENGINES="$2"; shift 2 ;;
    --source) SOURCE="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 64 ;;
  esac
done

mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
cd "$REPO"

# 1. Python environment with DuckDB (gitignored .venv-bench at the repo root).
VENV="$REPO/.venv-bench"
if ! "$VENV/bin/python" -c 'import duckdb' >/dev/null 2>&1; then
  echo "== creating $VENV with duckdb $DUCKDB_VERSION" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "duckdb==$DUCKDB_VERSION"
fi
PY="$VENV/bin/python"

# 2. Scaled lake (reused when it already holds this many replicas of this source).
echo "== lake: $REPLICAS replica(s) of $SOURCE" >&2
"$PY" "$HERE/scale_lake.py" --source "$SOURCE" --lake "$WORK/lake" --replicas "$REPLICAS" --reuse

# 3. stedi release build.
if [[ ",$ENGINES," == *",stedi,"* && "$BUILD" == 1 ]]; then
  echo "== swift build -c release --product stedi (log: $WORK/build.log)" >&2
  if ! swift build -c release --product stedi >"$WORK/build.log" 2>&1; then
    tail -n 30 "$WORK/build.log" >&2
    echo "error: stedi release build failed; see $WORK/build.log" >&2
    exit 2
  fi
fi

# 4. Both engines, side by side; prints the table and writes $WORK/result.json.
echo "== running ($REPEATS run(s) per engine, order $ORDER)" >&2
exec "$PY" "$HERE/compare.py" \
  --lake "$WORK/lake" --work "$WORK" \
  --stedi "$REPO/.build/release/stedi" \
  --repeats "$REPEATS" --order "$ORDER" --engines "$ENGINES" \
  --replicas "$REPLICAS" ${EXTRA[@]+"${EXTRA[@]}"}
