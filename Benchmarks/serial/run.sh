#!/usr/bin/env bash
# A host reading a simulated Step Trainer at 921,600 baud over a pty, no frame lost, CPU use:
# `stedi capture` (termios, and libserialport through the pty shim) vs pyserial + the Python
# reference decoder, one after the other against the same feeder, in one run. See README.md.
#
#   bash Benchmarks/serial/run.sh [SECONDS] [--repeats K] [--only a,b] [--wait-idle S]
#                                 [--work DIR] [--no-build]
# Defaults: 20 s of streaming per contender, 1 run each (--repeats alternates the order).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# REPO, REPEATS, BUILD, usage, bench_* (see ../common/README.md)
source "$HERE/../common/lib.sh"

SECONDS_STREAMED=20
REPEATS=1
ONLY="stedi-termios,stedi-libserialport,pyserial"
WAIT_IDLE=120
WORK="$REPO/scratch/serial-bench"   # gitignored: lakes, logs, pre-encoded frames, the shim
SCRATCH="$REPO/.build-serialbench"  # our own build folder (gitignored by .build-*/)
STEDI="$SCRATCH/release/stedi"
PYSERIAL_VERSION="${PYSERIAL_VERSION:-3.5}"

if [[ $# -gt 0 && "$1" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  SECONDS_STREAMED="$1"; shift
fi
bench_option() {
  case "$1" in
    --only) ONLY="$2" ;;
    --wait-idle) WAIT_IDLE="$2" ;;
    *) return 1 ;;
  esac
}
bench_parse_args "$@"
bench_enter_work

# 1. The peer: pyserial from PyPI in the gitignored .venv-serialbench at the repository root.
#    compare.py, the feeder and the pyserial host all run on its python (3.10+ for reference.py).
bench_venv .venv-serialbench serial pyserial "$PYSERIAL_VERSION"

# 2. Our host: the release stedi, in our own build folder; the libserialport pty shim.
if [[ "$BUILD" == 1 || ! -x "$STEDI" ]]; then
  bench_build_stedi "$SCRATCH"
fi
SHIM="$WORK/libserialport_pty_shim.so"
if [[ "$BUILD" == 1 || ! -f "$SHIM" ]]; then
  cc -shared -fPIC -O2 -Wall -o "$SHIM" "$REPO/Tests/Shims/libserialport_pty_shim.c" -ldl
fi

echo "== $(uptime)" >&2
"$PY" "$HERE/compare.py" --stedi "$STEDI" --shim "$SHIM" --seconds "$SECONDS_STREAMED" \
  --repeats "$REPEATS" --only "$ONLY" --wait-idle "$WAIT_IDLE" --work "$WORK" "${EXTRA[@]}"
