#!/usr/bin/env bash
# The Parquet module's write and read speed, beside pyarrow's on the same file.
#
#   bash Benchmarks/parquet/run.sh [rows]     # default 2,000,000 rows x 10 columns
#
# Compiles bench.swift with Sources/Parquet (swiftc -O, whole module) into scratch/bench-parquet,
# runs it (column-batch appends, ZSTD level 3, default options; then every column decoded), then
# has pyarrow (.venv-parquet, its default threads) read the file Swift wrote and write it again
# with ZSTD level 3 like Swift, and prints the ratios: pyarrow's times and size over Swift's.
set -euo pipefail
ROWS="${1:-2000000}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$REPO/scratch/bench-parquet"
cd "$REPO"
source scripts/ensure-toolchain.sh
mkdir -p "$WORK"
swiftc -O -wmo -parse-as-library -swift-version 6 -module-name ParquetBench -I Sources/CZstd Sources/Parquet/*.swift \
  Benchmarks/parquet/bench.swift -o "$WORK/bench" -lzstd
"$WORK/bench" "$ROWS" "$WORK/swift.parquet"
if [ -x .venv-parquet/bin/python ]; then
  .venv-parquet/bin/python - "$WORK/swift.parquet" "$WORK/pyarrow.parquet" <<'PY'
import sys, time
import pyarrow.parquet as pq
start = time.perf_counter()
table = pq.read_table(sys.argv[1])
read = time.perf_counter() - start
start = time.perf_counter()
pq.write_table(table, sys.argv[2], compression="zstd", compression_level=3)
write = time.perf_counter() - start
import json, os
swift = json.load(open(sys.argv[1] + ".json"))
size = os.path.getsize(sys.argv[2])
print(f"pyarrow: read Swift's file {read:.2f} s; wrote it again (zstd level 3) {write:.2f} s, {size / 1e6:.1f} MB")
print(f"ratios (pyarrow / swift; above 1: swift faster or smaller): write x{write / swift['write']:.2f}, "
      f"read x{read / swift['read']:.2f}, size x{size / swift['bytes']:.2f}")
PY
else
  echo "pyarrow: skipped (no .venv-parquet; scripts/test.sh installs it)"
fi
