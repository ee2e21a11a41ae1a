#!/usr/bin/env bash
# Runs the whole test suite. Tests that read ../shared/datasets skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ensure-toolchain.sh

# Building tests also builds the stedi executable, which the CLI tests run as a real process.
swift build --build-tests
swift test --skip-build
