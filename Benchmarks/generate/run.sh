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
# REPO, STEDI, REPEATS=3, BUILD=1, usage, bench_* (see ../common/README.md)
source "$HERE/../common/lib.sh"

# stedi writes ~10 million readings at 1000 x 1 (see README.md); the Faker
# side runs a fifth of the customers by default (its rate does not depend on the size).
CUSTOMERS=1000
DAYS=1
FAKER_CUSTOMERS=""
FAKER_DAYS=""
SEED=1
WORK="${TMPDIR:-/tmp}/stedi-generate-bench"
GENERATORS=stedi,faker
FAKER_VERSION="${FAKER_VERSION:-40.63.0}"

bench_option() {
  case "$1" in
    --customers) CUSTOMERS="$2" ;;
    --days) DAYS="$2" ;;
    --faker-customers) FAKER_CUSTOMERS="$2" ;;
    --faker-days) FAKER_DAYS="$2" ;;
    --seed) SEED="$2" ;;
    --generators) GENERATORS="$2" ;;
    *) return 1 ;;
  esac
}
bench_parse_args "$@"
# Faker's default size: a fifth of stedi's customers, same days.
if [[ -z "$FAKER_CUSTOMERS" ]]; then
  FAKER_CUSTOMERS=$(( CUSTOMERS / 5 > 0 ? CUSTOMERS / 5 : 1 ))
fi
FAKER_DAYS="${FAKER_DAYS:-$DAYS}"
bench_enter_work

# 1. Python environment with Faker (gitignored .venv-bench-generate at the repo root).
bench_venv .venv-bench-generate faker Faker "$FAKER_VERSION"

# 2. stedi release build.
if bench_should_build "$GENERATORS"; then
  bench_build_stedi
  # (an unknown subcommand's --help prints the top-level help and exits 0: look for the flag)
  if ! "$STEDI" generate --help 2>&1 | grep -q -- '--customers'; then
    echo "error: this stedi has no working 'generate' command yet;" \
         "run with --generators faker to measure the Faker side alone" >&2
    exit 2
  fi
fi

# 3. Both generators, side by side; prints the table and writes $WORK/result.json.
echo "== running ($REPEATS run(s) each; stedi $CUSTOMERS x $DAYS, faker $FAKER_CUSTOMERS x $FAKER_DAYS)" >&2
exec "$PY" "$HERE/compare.py" \
  --work "$WORK" --stedi "$STEDI" --python "$PY" \
  --customers "$CUSTOMERS" --days "$DAYS" \
  --faker-customers "$FAKER_CUSTOMERS" --faker-days "$FAKER_DAYS" \
  --seed "$SEED" --repeats "$REPEATS" --generators "$GENERATORS" \
  ${EXTRA[@]+"${EXTRA[@]}"}
