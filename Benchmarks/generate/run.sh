#!/usr/bin/env bash
# Generator benchmark: `stedi generate` vs a Faker-based Python generator,
# readings written per second and per CPU-second. See README.md in this folder.
#
#   bash Benchmarks/generate/run.sh [--customers N] [--days D] [--repeats K] [--work DIR]
#                                   [--faker-customers N] [--faker-days D] [--seed S]
#                                   [--generators stedi,faker] [--no-build]
#                                   [-- extra compare.py flags]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

# stedi writes ~10 million readings at 1000 x 1 (see README.md); the Faker
# side runs a fifth of the customers by default (its rate does not depend on the size).
CUSTOMERS=1000
DAYS=1
FAKER_CUSTOMERS=""
FAKER_DAYS=""
REPEATS=3
SEED=1
WORK="${TMPDIR:-/tmp}/stedi-generate-bench"
GENERATORS=stedi,faker
BUILD=1
FAKER_VERSION="${FAKER_VERSION:-40.63.0}"
EXTRA=()

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --customers) CUSTOMERS="$2"; shift 2 ;;
    --days) DAYS="$2"; shift 2 ;;
    --faker-customers) FAKER_CUSTOMERS="$2"; shift 2 ;;
    --faker-days) FAKER_DAYS="$2"; shift 2 ;;
    --repeats) REPEATS="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --work) WORK="$2"; shift 2 ;;
    --generators) GENERATORS="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 64 ;;
  esac
done
# Faker's default size: a fifth of stedi's customers, same days.
if [[ -z "$FAKER_CUSTOMERS" ]]; then
  FAKER_CUSTOMERS=$(( CUSTOMERS / 5 > 0 ? CUSTOMERS / 5 : 1 ))
fi
FAKER_DAYS="${FAKER_DAYS:-$DAYS}"

mkdir -p "$WORK"
WORK="$(cd "$WORK" && pwd)"
cd "$REPO"

# 1. Python environment with Faker (gitignored .venv-bench-generate at the repo root).
VENV="$REPO/.venv-bench-generate"
if ! "$VENV/bin/python" -c 'import faker' >/dev/null 2>&1; then
  echo "== creating $VENV with Faker $FAKER_VERSION" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "Faker==$FAKER_VERSION"
fi
PY="$VENV/bin/python"

# 2. stedi release build.
if [[ ",$GENERATORS," == *",stedi,"* && "$BUILD" == 1 ]]; then
  echo "== swift build -c release --product stedi (log: $WORK/build.log)" >&2
  if ! swift build -c release --product stedi >"$WORK/build.log" 2>&1; then
    tail -n 30 "$WORK/build.log" >&2
    echo "error: stedi release build failed; see $WORK/build.log" >&2
    exit 2
  fi
  # (an unknown subcommand's --help prints the top-level help and exits 0: look for the flag)
  if ! "$REPO/.build/release/stedi" generate --help 2>&1 | grep -q -- '--customers'; then
    echo "error: this stedi has no working 'generate' command yet;" \
         "run with --generators faker to measure the Faker side alone" >&2
    exit 2
  fi
fi

# 3. Both generators, side by side; prints the table and writes $WORK/result.json.
echo "== running ($REPEATS run(s) each; stedi $CUSTOMERS x $DAYS, faker $FAKER_CUSTOMERS x $FAKER_DAYS)" >&2
exec "$PY" "$HERE/compare.py" \
  --work "$WORK" --stedi "$REPO/.build/release/stedi" --python "$PY" \
  --customers "$CUSTOMERS" --days "$DAYS" \
  --faker-customers "$FAKER_CUSTOMERS" --faker-days "$FAKER_DAYS" \
  --seed "$SEED" --repeats "$REPEATS" --generators "$GENERATORS" \
  ${EXTRA[@]+"${EXTRA[@]}"}
