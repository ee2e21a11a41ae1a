# The libFuzzer harness the fuzz scripts share (sourced, not run): building a fuzz product and
# running it. Each script keeps only what differs: its product, its seeds and its input size.

# fuzz_build PRODUCT WORK: builds PRODUCT with -sanitize=fuzzer,address in .build-fuzz (shared by
# every fuzz product; the sanitizer flags apply to everything this build compiles, which is only the
# product and the modules it depends on). Without a @main (-DSTEDI_FUZZ) the target is a
# library-style file (-parse-as-library) and libFuzzer supplies main(). Sets FUZZER; exits 2 when
# the build fails.
fuzz_build() {
  local product="$1" work="$2"
  echo "== building $product with -sanitize=fuzzer,address (log: $work/build.log)" >&2
  if ! swift build -c release --scratch-path .build-fuzz --product "$product" \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DSTEDI_FUZZ \
    >"$work/build.log" 2>&1; then
    tail -n 30 "$work/build.log" >&2
    echo "error: fuzzer build failed; see $work/build.log" >&2
    exit 2
  fi
  FUZZER="$PWD/.build-fuzz/release/$product"
}

# fuzz_run WORK CORPUS SECONDS MAX_LEN: one libFuzzer process for SECONDS on inputs of at most
# MAX_LEN bytes; crashes land in WORK. Prints the last status line, libFuzzer's final stats and
# the crash count; exits 1 when libFuzzer found a crash.
fuzz_run() {
  local work="$1" corpus="$2" seconds="$3" max_len="$4" status crashes
  echo "== fuzzing for $seconds s (log: $work/fuzz.log)" >&2
  set +e
  (cd "$work" && "$FUZZER" -max_total_time="$seconds" -max_len="$max_len" -print_final_stats=1 \
    -artifact_prefix="$work/" "$corpus") >"$work/fuzz.log" 2>&1
  status=$?
  set -e
  grep -E '^#[0-9]+' "$work/fuzz.log" | tail -n 1 || true
  grep -E '^stat::' "$work/fuzz.log" || true
  crashes=$(grep -cE '^==[0-9]+==ERROR|deadly signal|Test unit written to' "$work/fuzz.log" || true)
  echo "crashes: $crashes (exit status $status)"
  if [[ $status -ne 0 ]]; then
    grep -E 'ERROR|Fatal error|Test unit written|SUMMARY' "$work/fuzz.log" | head -n 20 >&2
    exit 1
  fi
}
