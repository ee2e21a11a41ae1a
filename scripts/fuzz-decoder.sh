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

source scripts/fuzz-common.sh

# 1. The build.
fuzz_build stedi-fuzz-decoder "$WORK"

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

# 3. The run: max 600-byte inputs (two full frames and change).
fuzz_run "$WORK" "$CORPUS" "$SECONDS_TO_RUN" 600
