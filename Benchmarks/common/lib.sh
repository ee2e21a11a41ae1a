# What the benchmarks' run.sh scripts share. Sourced, never run:
#
#   HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
#   source "$HERE/../common/lib.sh"
#
# Sets REPO and STEDI, and the defaults REPEATS=3, BUILD=1, EXTRA=().
# The sourcing script sets WORK's default and its own flags' defaults, and
# defines bench_option (its own flags) before calling bench_parse_args "$@".

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STEDI="$REPO/.build/release/stedi"
REPEATS=3
BUILD=1
EXTRA=()

# The usage: lines 2-8 of the running script's header comment.
usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; }

# Parses the flags every benchmark takes (--work DIR, --repeats K, --no-build,
# -h/--help, and -- followed by flags for compare.py, which land in EXTRA).
# Any other flag goes to the script's `bench_option FLAG VALUE`, which sets
# its variable and returns 0, or returns 1 when it does not know FLAG.
bench_parse_args() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --work) WORK="$2"; shift 2 ;;
      --repeats) REPEATS="$2"; shift 2 ;;
      --no-build) BUILD=0; shift ;;
      -h|--help) usage; exit 0 ;;
      --) shift; EXTRA=("$@"); break ;;
      *)
        if bench_option "$@"; then
          shift 2
        else
          echo "unknown argument: $1" >&2; usage >&2; exit 64
        fi ;;
    esac
  done
}

# Creates the work folder, makes WORK absolute, and moves to the repository root.
bench_enter_work() {
  mkdir -p "$WORK"
  WORK="$(cd "$WORK" && pwd)"
  cd "$REPO"
}

# bench_venv DIR MODULE PACKAGE VERSION: a virtualenv at $REPO/DIR (gitignored
# by .venv*/) in which MODULE imports, installing PACKAGE==VERSION from PyPI
# when it does not. Sets VENV and PY (its python).
bench_venv() {
  local module="$2" package="$3" version="$4"
  VENV="$REPO/$1"
  if ! "$VENV/bin/python" -c "import $module" >/dev/null 2>&1; then
    echo "== creating $VENV with $package $version" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$package==$version"
  fi
  PY="$VENV/bin/python"
}

# bench_should_build LIST: true when the comma-separated LIST names stedi and
# --no-build was not given.
bench_should_build() {
  [[ ",$1," == *",stedi,"* && "$BUILD" == 1 ]]
}

# The stedi release build, logged to $WORK/build.log; exits 2 when it fails.
bench_build_stedi() {
  echo "== swift build -c release --product stedi (log: $WORK/build.log)" >&2
  if ! swift build -c release --product stedi >"$WORK/build.log" 2>&1; then
    tail -n 30 "$WORK/build.log" >&2
    echo "error: stedi release build failed; see $WORK/build.log" >&2
    exit 2
  fi
}
