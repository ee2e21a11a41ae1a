#!/usr/bin/env bash
# Decoder throughput: stedi's FrameDecoder vs MAVLink 2's C parser (mavlink_parse_char), on
# streams of the same sizes, one core, side by side in one run. See README.md in this folder.
#
#   bash Benchmarks/protocol/run.sh [--rounds R] [--repeats K] [--megabytes M]
#                                   [--wait-idle S] [--work DIR] [--no-build]
#
# Defaults: 3 rounds of 5 timed passes per stream and side, 16 MB streams, wait up to 120 s.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# REPO, REPEATS, BUILD, usage, bench_* (see ../common/README.md)
source "$HERE/../common/lib.sh"

ROUNDS=3
REPEATS=5
MEGABYTES=16
WAIT_IDLE=120
WORK="$REPO/scratch/protocol-bench"   # gitignored: generated MAVLink headers and binaries live here
PYMAVLINK_VERSION="${PYMAVLINK_VERSION:-2.4.50}"

bench_option() {
  case "$1" in
    --rounds) ROUNDS="$2" ;;
    --megabytes) MEGABYTES="$2" ;;
    --wait-idle) WAIT_IDLE="$2" ;;
    *) return 1 ;;
  esac
}
bench_parse_args "$@"
bench_enter_work

# 1. The peer: pymavlink from PyPI (in the gitignored .venv-mavlink at the repository root), its
#    generator writes the MAVLink 2 C headers for common.xml (shipped in the package) into WORK.
bench_venv .venv-mavlink pymavlink pymavlink "$PYMAVLINK_VERSION"
XML="$("$PY" -c 'import os, pymavlink; print(os.path.join(os.path.dirname(pymavlink.__file__), "dialects", "v20", "common.xml"))')"
STAMP="$WORK/mavlink/.generated-by"
if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "pymavlink $PYMAVLINK_VERSION" ]]; then
  echo "== mavgen --lang=C --wire-protocol=2.0 $XML" >&2
  rm -rf "$WORK/mavlink"
  "$PY" -m pymavlink.tools.mavgen --lang=C --wire-protocol=2.0 --output="$WORK/mavlink" "$XML" >"$WORK/mavgen.log" 2>&1 \
    || { cat "$WORK/mavgen.log" >&2; exit 2; }
  echo "pymavlink $PYMAVLINK_VERSION" >"$STAMP"
fi

# 2. Both drivers. stedi's against the release-built module (its own build folder).
if [[ "$BUILD" == 1 || ! -x "$WORK/stedi_decode" || ! -x "$WORK/mavlink_decode" ]]; then
  echo "== cc -O2 mavlink_decode.c" >&2
  cc -O2 -Wno-address-of-packed-member -I "$WORK/mavlink" "$HERE/mavlink_decode.c" -o "$WORK/mavlink_decode"
  echo "== swift build -c release --target StepTrainerProtocol (log: $WORK/build.log)" >&2
  if ! swift build -c release --scratch-path "$REPO/.build-bench" --target StepTrainerProtocol >"$WORK/build.log" 2>&1; then
    tail -n 30 "$WORK/build.log" >&2; exit 2
  fi
  echo "== swiftc -O stedi_decode.swift" >&2
  swiftc -O -parse-as-library -I "$REPO/.build-bench/release/Modules" "$HERE/stedi_decode.swift" \
    "$REPO"/.build-bench/release/StepTrainerProtocol.build/*.o "$REPO"/.build-bench/release/Checksums.build/*.o -o "$WORK/stedi_decode"
fi

# 3. One core: both pinned to the last CPU when taskset exists.
PIN=()
if command -v taskset >/dev/null 2>&1; then PIN=(taskset -c "$(($(nproc) - 1))"); fi

# Percent of all CPUs busy over one second, from /proc/stat.
cpu_busy() {
  local a b
  read -r -a a < <(head -n 1 /proc/stat)
  sleep 1
  read -r -a b < <(head -n 1 /proc/stat)
  local total=0 idle i
  for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
  idle=$((b[4] - a[4] + b[5] - a[5]))
  echo $(((100 * (total - idle)) / (total > 0 ? total : 1)))
}

# Waits (up to WAIT_IDLE s) for the machine to be idle: under 10% of the CPUs busy.
wait_idle() {
  local waited=0 busy
  busy="$(cpu_busy)"
  while ((busy >= 10 && waited < WAIT_IDLE)); do
    echo "== machine busy (${busy}% of CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)), waiting" >&2
    sleep 5; waited=$((waited + 6)); busy="$(cpu_busy)"
  done
  echo "$busy"
}

# 4. The rounds, the two sides alternating which goes first.
RESULTS="$WORK/results.jsonl"
: >"$RESULTS"
BUSY=()
for round in $(seq 1 "$ROUNDS"); do
  BUSY+=("$(wait_idle)")
  if ((round % 2 == 1)); then order=(mavlink stedi); else order=(stedi mavlink); fi
  for side in "${order[@]}"; do
    echo "== round $round/$ROUNDS: $side (${BUSY[-1]}% busy before)" >&2
    "${PIN[@]}" "$WORK/${side}_decode" --repeats "$REPEATS" --megabytes "$MEGABYTES" >>"$RESULTS"
  done
done

MACHINE="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) CPUs, $(uname -sr)"
MACHINE+=", $(swiftc --version 2>&1 | grep -o 'Swift version [0-9.]*'), $(cc --version | head -n 1)"
NOTE="$(date -u '+%Y-%m-%d %H:%M UTC'); pinned: ${PIN[*]:-no}; CPUs busy before each round: ${BUSY[*]} %"
NOTE+="; load after: $(cut -d' ' -f1-3 /proc/loadavg); peer: pymavlink $PYMAVLINK_VERSION, mavgen C, MAVLink 2"
python3 "$HERE/compare.py" "$RESULTS" --machine "$MACHINE" --note "$NOTE" | tee "$WORK/summary.txt"
exit "${PIPESTATUS[0]}"
