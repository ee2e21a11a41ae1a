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

# The firmware tests boot the Cortex-M firmware in QEMU (Debian's qemu-system-arm) and build it with make.
if ! command -v qemu-system-arm >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq qemu-system-arm make >&2
fi

# Building tests also builds the stedi executable, which the CLI tests run as a real process.
swift build --build-tests
# Two phases. The device tests run in real time against pseudo-terminals and real processes (a
# simulated Step Trainer at 16 Hz, 3-second link timeouts); run beside the Spark and Glue tests,
# which keep both cores busy for minutes, they would be measuring the machine's load instead of the
# code. So they run first, on their own (still in parallel with each other), then everything else.
device_tests='SerialPortTests|StepTrainerSimulatorTests|StepTrainerHostTests|StepTrainerFirmwareTests|CaptureCommandTests|FirmwareQEMUTests'
swift test --skip-build --filter "$device_tests"
swift test --skip-build --skip "$device_tests"
