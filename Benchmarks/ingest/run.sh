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
STEDI="$SCRATCH/release/stedi"
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
VENV="$REPO/$VENV_DIR"
PY="$VENV/bin/python"
WANT="fastapi==$FASTAPI_VERSION uvicorn==$UVICORN_VERSION pydantic==$PYDANTIC_VERSION uvloop==$UVLOOP_VERSION httptools==$HTTPTOOLS_VERSION"
if ! "$PY" -c "import fastapi, uvicorn, uvloop, httptools, pydantic, sys
from importlib.metadata import version as v
want = dict(s.split('==') for s in sys.argv[1:])
sys.exit(any(v(k) != want[k] for k in want))" $WANT >/dev/null 2>&1; then
  echo "== creating $VENV with $WANT uvicorn[standard]" >&2
  python3 -m venv "$VENV"
  # shellcheck disable=SC2086
  "$PY" -m pip install --quiet --disable-pip-version-check \
    "fastapi==$FASTAPI_VERSION" "uvicorn[standard]==$UVICORN_VERSION" $WANT
fi

# 2. wrk (Debian's package) when missing.
if ! command -v wrk >/dev/null 2>&1; then
  echo "== apt-get install wrk" >&2
  if ! { apt-get install -y wrk >"$WORK/apt.log" 2>&1 || { apt-get update >>"$WORK/apt.log" 2>&1 && apt-get install -y wrk >>"$WORK/apt.log" 2>&1; }; }; then
    tail -n 20 "$WORK/apt.log" >&2; echo "error: cannot install wrk" >&2; exit 2
  fi
fi

# 3. stedi release, in our own build folder.
if [[ ",$SERVICES," == *",stedi,"* ]] && [[ "$BUILD" == 1 || ! -x "$STEDI" ]]; then
  echo "== swift build -c release --product stedi --scratch-path .build-bench (log: $WORK/build.log)" >&2
  if ! swift build -c release --product stedi --scratch-path "$SCRATCH" >"$WORK/build.log" 2>&1; then
    tail -n 30 "$WORK/build.log" >&2
    echo "error: stedi release build failed; see $WORK/build.log" >&2
    exit 2
  fi
fi

# A copy of the binary, so a rebuild of .build-bench during the run cannot change the contender.
if [[ -x "$STEDI" ]]; then
  cp "$STEDI" "$WORK/stedi"
  STEDI="$WORK/stedi"
fi

# 4. One token key for both services (a token from `stedi token issue` works on both).
if [[ -z "${STEDI_TOKEN_KEY:-}" ]]; then
  STEDI_TOKEN_KEY="bench-$("$PY" -c 'import secrets; print(secrets.token_hex(32))')"
fi
export STEDI_TOKEN_KEY

echo "== $(uptime)" >&2
"$PY" "$HERE/compare.py" --stedi "$STEDI" --python "$PY" --work "$WORK" --out "$OUT" \
  --seconds "$SECONDS_RUN" --warmup "$WARMUP" --batch "$BATCH" --connections "$CONNECTIONS" --rate "$RATE" \
  --repeats "$REPEATS" --placement "$PLACEMENT" --services "$SERVICES" \
  ${EXTRA[@]+"${EXTRA[@]}"} | tee "$WORK/summary.txt"
exit "${PIPESTATUS[0]}"
