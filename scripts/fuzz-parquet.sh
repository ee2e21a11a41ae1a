#!/usr/bin/env bash
# Fuzzes the Parquet reader with libFuzzer (Fuzz/Parquet/ParquetFuzzer.swift) for a while.
#
#   bash scripts/fuzz-parquet.sh [seconds]      # default 60
#
# Builds the stedi-fuzz-parquet product with -sanitize=fuzzer,address in its own build folder
# (.build-fuzz, shared with scripts/fuzz-decoder.sh), seeds a corpus in scratch/fuzz-parquet/corpus
# (gitignored, kept between runs) with small files pyarrow writes (from .venv-parquet: several codecs,
# page versions, with and without dictionaries), runs libFuzzer for the given seconds and prints
# executions, coverage and crashes. A crash leaves its input in scratch/fuzz-parquet/ as
# crash-<sha1>; replay it with: .build-fuzz/release/stedi-fuzz-parquet <that file>.
# Exits 1 when libFuzzer found a crash, 2 when the build failed.
set -euo pipefail

SECONDS_TO_RUN="${1:-60}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="$REPO/scratch/fuzz-parquet"
CORPUS="$WORK/corpus"
cd "$REPO"
source scripts/ensure-toolchain.sh
mkdir -p "$CORPUS"

source scripts/fuzz-common.sh
fuzz_build stedi-fuzz-parquet "$WORK"

# Seeds: small pyarrow files (the same Python the tests use; skipped when it is not installed).
if [ -x .venv-parquet/bin/python ]; then
  .venv-parquet/bin/python - "$CORPUS" <<'PY'
import os, sys
import pyarrow as pa, pyarrow.parquet as pq
table = pa.table({
    "id": pa.array(range(40), pa.int64()),
    "ts": pa.array([None if i % 5 == 0 else 1_700_000_000_000 + i for i in range(40)], pa.timestamp("ms", tz="UTC")),
    "x": pa.array([i / 3 if i % 4 else None for i in range(40)], pa.float64()),
    "s": pa.array([["", "a", "bé", None][i % 4] for i in range(40)], pa.string()),
    "b": pa.array([i % 3 == 0 for i in range(40)], pa.bool_()),
})
variants = {
    "snappy": {}, "zstd": {"compression": "zstd"}, "none": {"compression": "none"},
    "v2": {"data_page_version": "2.0"}, "plain": {"use_dictionary": False, "compression": "none"},
}
for name, options in variants.items():
    pq.write_table(table, os.path.join(sys.argv[1], f"seed-{name}.parquet"), row_group_size=16,
                   data_page_size=64, **options)
PY
fi
echo "== corpus: $(ls "$CORPUS" | wc -l) files in $CORPUS" >&2

fuzz_run "$WORK" "$CORPUS" "$SECONDS_TO_RUN" 8192
