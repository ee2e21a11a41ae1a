#!/usr/bin/env bash
# Fleet: the largest real-time fleet `stedi fleet run` holds beside `stedi serve`, and its load per core next to Locust.
#
#   bash Benchmarks/fleet/run.sh [--parts scale,locust] [--customers 1250,2500,...] [--seconds S] [--ramp S]
#        [--users U] [--locust-seconds S] [--repeats K] [--work DIR] [--out FILE] [--no-build]
#        [-- extra compare.py flags]        STEDI=PATH bash Benchmarks/fleet/run.sh ...  uses that binary
# Defaults: sizes 1250..12500 customers (2 devices each, 10 Hz), 30 s + 5 s ramp-up, stopping at the first miss;
# then 64 users, 30 s per generator, 2 rounds. About 9 minutes. See README.md in this folder.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
GIVEN_STEDI="${STEDI:-}"
# REPO, REPEATS, BUILD, usage, bench_* (see ../common/README.md)
source "$HERE/../common/lib.sh"

REPEATS=2
PARTS=scale,locust
CUSTOMERS=1250,2500,5000,7500,10000,12500
SECONDS_RUN=30
RAMP=5
USERS=64
LOCUST_SECONDS=30
WORK="$REPO/scratch/fleet-bench"   # gitignored (/scratch/); lakes on the same disk as the repository
OUT="$HERE/results/latest.json"    # gitignored by results/.gitignore
SCRATCH="$REPO/.build-bench"       # the benchmarks' own build folder (gitignored by .build-*/)
VENV_DIR=.venv-fleet-bench
LOCUST_VERSION="${LOCUST_VERSION:-2.47.0}"

bench_option() {
  case "$1" in
    --parts) PARTS="$2" ;;
    --customers) CUSTOMERS="$2" ;;
    --seconds) SECONDS_RUN="$2" ;;
    --ramp) RAMP="$2" ;;
    --users) USERS="$2" ;;
    --locust-seconds) LOCUST_SECONDS="$2" ;;
    --out) OUT="$2" ;;
    *) return 1 ;;
  esac
}
bench_parse_args "$@"
bench_enter_work

# 1. Locust in its own virtualenv (gitignored .venv-fleet-bench at the repository root), pinned version.
VENV="$REPO/$VENV_DIR"
PY="$VENV/bin/python"
LOCUST="$VENV/bin/locust"
if [[ ",$PARTS," == *",locust,"* ]]; then
  bench_venv_pinned "$VENV_DIR" locust "locust==$LOCUST_VERSION"
fi
[[ -x "$PY" ]] || PY=python3   # scale part alone: compare.py needs only the standard library

# 2. stedi: the binary given by STEDI=PATH, else the release build of this repository in our own build folder.
if [[ -n "$GIVEN_STEDI" ]]; then
  STEDI="$GIVEN_STEDI"
else
  STEDI="$SCRATCH/release/stedi"
  if [[ "$BUILD" == 1 || ! -x "$STEDI" ]]; then
    bench_build_stedi "$SCRATCH"
  fi
fi
if [[ ! -x "$STEDI" ]]; then echo "error: no stedi binary at $STEDI" >&2; exit 2; fi
# A copy of the binary, so a rebuild meanwhile cannot change what is measured.
bench_copy_stedi

# 3. One token key for the service, the fleet and the Locust users' tokens (random per invocation unless set).
bench_token_key

echo "== $(uptime)" >&2
"$PY" "$HERE/compare.py" --stedi "$STEDI" --locust "$LOCUST" --work "$WORK" --out "$OUT" --parts "$PARTS" \
  --customers "$CUSTOMERS" --seconds "$SECONDS_RUN" --ramp "$RAMP" --users "$USERS" \
  --locust-seconds "$LOCUST_SECONDS" --repeats "$REPEATS" \
  ${EXTRA[@]+"${EXTRA[@]}"} | tee "$WORK/summary.txt"
exit "${PIPESTATUS[0]}"
