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

# bench_venv_pinned DIR MODULES SPEC...: a virtualenv at $REPO/DIR in which MODULES (comma-separated)
# import and every SPEC (package==version, extras allowed: uvicorn[standard]==1.0) is installed at
# that version, installing the SPECs from PyPI when not. Sets VENV and PY (its python).
bench_venv_pinned() {
  local dir="$1" modules="$2"
  shift 2
  VENV="$REPO/$dir"
  PY="$VENV/bin/python"
  if ! "$PY" -c "import sys, $modules
from importlib.metadata import version as v
want = {s.split('==')[0].split('[')[0]: s.split('==')[1] for s in sys.argv[1:]}
sys.exit(any(v(k) != want[k] for k in want))" "$@" >/dev/null 2>&1; then
    echo "== creating $VENV with $*" >&2
    python3 -m venv "$VENV"
    "$PY" -m pip install --quiet --disable-pip-version-check "$@"
  fi
}

# bench_should_build LIST: true when the comma-separated LIST names stedi and
# --no-build was not given.
bench_should_build() {
  [[ ",$1," == *",stedi,"* && "$BUILD" == 1 ]]
}

# bench_build_stedi [SCRATCH]: the stedi release build (in the build folder SCRATCH, e.g. the
# gitignored $REPO/.build-bench, when given), logged to $WORK/build.log; exits 2 when it fails.
bench_build_stedi() {
  local scratch=()
  if [[ $# -gt 0 ]]; then scratch=(--scratch-path "$1"); fi
  echo "== swift build -c release --product stedi${1:+ --scratch-path $(basename "$1")} (log: $WORK/build.log)" >&2
  if ! swift build -c release --product stedi ${scratch[@]+"${scratch[@]}"} >"$WORK/build.log" 2>&1; then
    tail -n 30 "$WORK/build.log" >&2
    echo "error: stedi release build failed; see $WORK/build.log" >&2
    exit 2
  fi
}

# bench_copy_stedi: when $STEDI is an executable, copy it to $WORK/stedi and point STEDI there, so
# a rebuild elsewhere during the run cannot change what is measured.
bench_copy_stedi() {
  if [[ -x "$STEDI" ]]; then
    if [[ ! "$STEDI" -ef "$WORK/stedi" ]]; then cp "$STEDI" "$WORK/stedi"; fi
    STEDI="$WORK/stedi"
  fi
}

# bench_token_key: exports STEDI_TOKEN_KEY, a random one for this invocation unless it is set, so
# the service, the peer and the load generator's tokens share one key.
bench_token_key() {
  if [[ -z "${STEDI_TOKEN_KEY:-}" ]]; then
    STEDI_TOKEN_KEY="bench-$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
  fi
  export STEDI_TOKEN_KEY
}
