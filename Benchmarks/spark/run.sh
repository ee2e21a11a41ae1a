#!/usr/bin/env bash
# Spark benchmark: `stedi pipeline run --profile strict` vs the same rules exported
# with `stedi pipeline export --target spark` and run on Spark local[2], over a
# sweep of lake sizes. See README.md in this folder.
#
#   bash Benchmarks/spark/run.sh [--replicas LIST] [--repeats K] [--work DIR]
#                                [--source-lake DIR] [--master local[2]]
#                                [--build auto|never] [--no-build] [-- extra compare.py flags]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# REPO, STEDI, REPEATS=3, BUILD=1, usage, bench_* (see ../common/README.md)
source "$HERE/../common/lib.sh"

REPLICAS=1,5,10,20,40
REPEATS=2                 # runs per engine at the largest size (1 at the others)
WORK="${TMPDIR:-/tmp}/stedi-spark-bench"
SOURCE_LAKE=""            # an existing scaled lake to read (never written); default: make one in WORK
DATASET="$(cd "$REPO/.." && pwd)/shared/datasets/stedi-udacity"
MASTER="local[2]"
BUILD_MODE=auto           # auto: build only when the binary is missing or has no `pipeline export`
PYSPARK_VERSION="${PYSPARK_VERSION:-4.3.0}"

bench_option() {
  case "$1" in
    --replicas) REPLICAS="$2" ;;
    --source-lake) SOURCE_LAKE="$2" ;;
    --dataset) DATASET="$2" ;;
    --master) MASTER="$2" ;;
    --build) BUILD_MODE="$2" ;;
    *) return 1 ;;
  esac
}
bench_parse_args "$@"
[[ "$BUILD" == 0 ]] && BUILD_MODE=never
case "$BUILD_MODE" in auto|never) ;; *) echo "--build takes auto or never" >&2; exit 64 ;; esac
bench_enter_work

# 1. Java and the Spark virtualenv (gitignored .venv-spark at the repository root).
if ! command -v java >/dev/null 2>&1; then
  echo "error: no java on PATH (Spark needs Java 17 or 21)" >&2; exit 2
fi
bench_venv .venv-spark pyspark pyspark "$PYSPARK_VERSION"

# 2. stedi: used as built. Built here only when it cannot export (auto), and never while
#    another `swift build` holds the build folder.
stedi_can_export() { [[ -x "$STEDI" ]] && "$STEDI" pipeline export --help >/dev/null 2>&1; }
if ! stedi_can_export; then
  if [[ "$BUILD_MODE" == never ]]; then
    echo "error: $STEDI is missing or has no 'pipeline export'; build it or drop --no-build" >&2; exit 2
  fi
  for _ in $(seq 1 120); do
    pgrep -x swift-build >/dev/null 2>&1 || break
    echo "== waiting for another swift build to finish" >&2; sleep 5
  done
  if pgrep -x swift-build >/dev/null 2>&1; then
    echo "error: another swift build is still running; try again later" >&2; exit 2
  fi
  bench_build_stedi
fi

# 3. The scaled lake: max(LIST) replicas (sizes below it use its first replicas).
MAX_REPLICAS="$(tr ',' '\n' <<<"$REPLICAS" | sed '/^ *$/d' | sort -n | tail -n 1)"
if [[ -z "$SOURCE_LAKE" ]]; then
  SOURCE_LAKE="$WORK/source-lake"
  echo "== lake: $MAX_REPLICAS replica(s) of $DATASET" >&2
  "$PY" "$REPO/Benchmarks/pipeline/scale_lake.py" --source "$DATASET" --lake "$SOURCE_LAKE" \
    --replicas "$MAX_REPLICAS" --reuse
fi

# 4. The sweep; prints the table, writes $WORK/result.json and $WORK/summary.txt.
echo "== running sizes $REPLICAS ($REPEATS run(s) per engine at the largest), master $MASTER" >&2
set +e
"$PY" "$HERE/compare.py" \
  --source-lake "$SOURCE_LAKE" --work "$WORK" --stedi "$STEDI" --spark-python "$PY" \
  --replicas "$REPLICAS" --repeats "$REPEATS" --master "$MASTER" \
  ${EXTRA[@]+"${EXTRA[@]}"} | tee "$WORK/summary.txt"
status=${PIPESTATUS[0]}
exit "$status"
