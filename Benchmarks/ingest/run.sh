#!/usr/bin/env bash
# Ingest load: `stedi serve` vs FastAPI on uvicorn (peer_fastapi.py) under the same wrk load.
#
#   bash Benchmarks/ingest/run.sh [--seconds S] [--batch N] [--connections C] [--repeats R]
#        [--warmup S] [--rate READINGS_PER_S] [--placement pinned|shared] [--services LIST]
#        [--work DIR] [--out FILE] [--no-build] [-- extra compare.py flags]
# Defaults: 3 s warm-up, 15 s closed loop on 16 connections, 15 s paced at 500,000 readings/s,
# 1000 readings per request, 3 rounds. See README.md in this folder.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# REPO, REPEATS, BUILD, usage, bench_* (see ../common/README.md)
source "$HERE/../common/lib.sh"

SECONDS_RUN=15
WARMUP=3
BATCH=1000
CONNECTIONS=16
RATE=500000
PLACEMENT=pinned
SERVICES=stedi,fastapi
WORK="$REPO/scratch/ingest-bench"   # gitignored (/scratch/); on the same disk as the repository
OUT="$HERE/results/latest.json"     # gitignored by Benchmarks/ingest/.gitignore
SCRATCH="$REPO/.build-bench"        # our own build folder (gitignored by .build-*/)
# STEDI_BINARY: measure another build (an A/B of two binaries, back to back) instead of ours.
STEDI="${STEDI_BINARY:-$SCRATCH/release/stedi}"
VENV_DIR=.venv-ingest-bench
FASTAPI_VERSION="${FASTAPI_VERSION:-0.163.2}"
UVICORN_VERSION="${UVICORN_VERSION:-0.54.0}"
PYDANTIC_VERSION="${PYDANTIC_VERSION:-2.14.3}"
UVLOOP_VERSION="${UVLOOP_VERSION:-0.23.0}"
HTTPTOOLS_VERSION="${HTTPTOOLS_VERSION:-0.9.0}"

bench_option() {
  case "$1" in
    --seconds) SECONDS_RUN="$2" ;;
    --warmup) WARMUP="$2" ;;
    --batch) BATCH="$2" ;;
    --connections) CONNECTIONS="$2" ;;
    --rate) RATE="$2" ;;
    --placement) PLACEMENT="$2" ;;
    --services) SERVICES="$2" ;;
    --out) OUT="$2" ;;
    *) return 1 ;;
  esac
}
bench_parse_args "$@"
bench_enter_work

# 1. The peer's virtualenv (gitignored .venv-ingest-bench at the repository root), pinned versions.
bench_venv_pinned "$VENV_DIR" fastapi,uvicorn,uvloop,httptools,pydantic "fastapi==$FASTAPI_VERSION" \
  "uvicorn[standard]==$UVICORN_VERSION" "pydantic==$PYDANTIC_VERSION" "uvloop==$UVLOOP_VERSION" \
  "httptools==$HTTPTOOLS_VERSION"

# 2. wrk (Debian's package) when missing.
if ! command -v wrk >/dev/null 2>&1; then
  echo "== apt-get install wrk" >&2
  if ! { apt-get install -y wrk >"$WORK/apt.log" 2>&1 || { apt-get update >>"$WORK/apt.log" 2>&1 && apt-get install -y wrk >>"$WORK/apt.log" 2>&1; }; }; then
    tail -n 20 "$WORK/apt.log" >&2; echo "error: cannot install wrk" >&2; exit 2
  fi
fi

# 3. stedi release, in our own build folder; a copy of it, so a rebuild of .build-bench during
#    the run cannot change the contender.
if [[ ",$SERVICES," == *",stedi,"* && -z "${STEDI_BINARY:-}" ]] && [[ "$BUILD" == 1 || ! -x "$STEDI" ]]; then
  bench_build_stedi "$SCRATCH"
fi
bench_copy_stedi

# 4. One token key for both services (a token from `stedi token issue` works on both).
bench_token_key

echo "== $(uptime)" >&2
"$PY" "$HERE/compare.py" --stedi "$STEDI" --python "$PY" --work "$WORK" --out "$OUT" \
  --seconds "$SECONDS_RUN" --warmup "$WARMUP" --batch "$BATCH" --connections "$CONNECTIONS" --rate "$RATE" \
  --repeats "$REPEATS" --placement "$PLACEMENT" --services "$SERVICES" \
  ${EXTRA[@]+"${EXTRA[@]}"} | tee "$WORK/summary.txt"
exit "${PIPESTATUS[0]}"
