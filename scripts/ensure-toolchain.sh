# Sourced by the scripts: makes sure what the build and tests need is installed.
# Swift itself comes with the machine (/opt/swift); the rest comes from Debian's packages.
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
  export PATH="/opt/swift/usr/bin:$PATH"
fi
if ! command -v swift >/dev/null 2>&1; then
  echo "error: the Swift toolchain (6.1 or newer) is not installed; see https://www.swift.org/install" >&2
  exit 1
fi
missing=()
# libserialport (the SerialPort module links it) comes from Debian.
pkg-config --exists libserialport 2>/dev/null || missing+=(libserialport-dev pkg-config)
# libzstd (the Parquet module's ZSTD codec links it) comes from Debian too.
pkg-config --exists libzstd 2>/dev/null || missing+=(libzstd-dev pkg-config)
command -v python3 >/dev/null 2>&1 || missing+=(python3 python3-venv)
# The tests compile a small C shim for libserialport with cc.
command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
[ ${#missing[@]} -eq 0 ] || {
  echo "installing ${missing[*]} with apt-get" >&2
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >&2
}
