#!/usr/bin/env bash
# Fuzzes the frame decoder with libFuzzer (Fuzz/Decoder/DecoderFuzzer.swift) for a while.
#
#   bash scripts/fuzz-decoder.sh [seconds]      # default 60
#
# Builds the stedi-fuzz-decoder product with -sanitize=fuzzer,address in its own build folder
# (.build-fuzz), seeds a corpus with every frame of the shared vectors
# (firmware-protocol/vectors/frames.json) in scratch/fuzz-decoder/corpus (gitignored, kept between
# runs, so later runs start from what earlier ones found), runs libFuzzer for the given seconds and
# prints executions, coverage and crashes. A crash leaves its input in scratch/fuzz-decoder/ as
# crash-<sha1>; replay it with: .build-fuzz/release/stedi-fuzz-decoder <that file>.
# Exits 1 when libFuzzer found a crash, 2 when the build failed.
set -euo pipefail

SECONDS_TO_RUN="${1:-60}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$REPO/scratch/fuzz-decoder"
CORPUS="$WORK/corpus"
cd "$REPO"
mkdir -p "$CORPUS"

# 1. The build. The sanitizer flags apply to everything this build compiles, which is only the
#    product and the protocol module it depends on. Without a @main (-DSTEDI_FUZZ), the target is a
#    library-style file (-parse-as-library) and libFuzzer supplies main().
echo "== building stedi-fuzz-decoder with -sanitize=fuzzer,address (log: $WORK/build.log)" >&2
if ! swift build -c release --scratch-path .build-fuzz --product stedi-fuzz-decoder \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DSTEDI_FUZZ \
  >"$WORK/build.log" 2>&1; then
  tail -n 30 "$WORK/build.log" >&2
  echo "error: fuzzer build failed; see $WORK/build.log" >&2
  exit 2
fi
FUZZER="$REPO/.build-fuzz/release/stedi-fuzz-decoder"

# 2. Seeds: each vector's wire bytes as one file, plus all of them back to back.
python3 - "$REPO/firmware-protocol/vectors/frames.json" "$CORPUS" <<'EOF'
import json, os, sys
cases = json.load(open(sys.argv[1]))["cases"]
everything = b""
for case in cases:
    data = bytes.fromhex(case["hex"])
    everything += data
    with open(os.path.join(sys.argv[2], "vector-" + case["name"]), "wb") as f:
        f.write(data)
with open(os.path.join(sys.argv[2], "vectors-all"), "wb") as f:
    f.write(everything)
print(f"== corpus: {len(cases)} vectors seeded, {len(os.listdir(sys.argv[2]))} files in {sys.argv[2]}",
      file=sys.stderr)
EOF

# 3. The run: one process, max 600-byte inputs (two full frames and change); crashes land in WORK.
echo "== fuzzing for $SECONDS_TO_RUN s (log: $WORK/fuzz.log)" >&2
set +e
(cd "$WORK" && "$FUZZER" -max_total_time="$SECONDS_TO_RUN" -max_len=600 -print_final_stats=1 \
  -artifact_prefix="$WORK/" "$CORPUS") >"$WORK/fuzz.log" 2>&1
status=$?
set -e

# 4. Summary: the last status line, libFuzzer's final stats, and any crash.
grep -E '^#[0-9]+' "$WORK/fuzz.log" | tail -n 1 || true
grep -E '^stat::' "$WORK/fuzz.log" || true
crashes=$(grep -cE '^==[0-9]+==ERROR|deadly signal|Test unit written to' "$WORK/fuzz.log" || true)
echo "crashes: $crashes (exit status $status)"
if [[ $status -ne 0 ]]; then
  grep -E 'ERROR|Fatal error|Test unit written|SUMMARY' "$WORK/fuzz.log" | head -n 20 >&2
  exit 1
fi
