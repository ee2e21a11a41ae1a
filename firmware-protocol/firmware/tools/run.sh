#!/bin/sh
# Starts QEMU's mps2-an386 with the firmware, UART0 on a pseudo-terminal, and prints the pty's
# path (QEMU says "char device redirected to /dev/pts/N (label serial0)", on stdout in QEMU 7.2,
# on stderr in some other versions: both are captured).
# Usage: tools/run.sh [fw.elf]   (QEMU runs in the foreground; Ctrl-C stops it)
set -eu
elf=${1:-build/fw.elf}
command -v qemu-system-arm >/dev/null 2>&1 || {
  echo "qemu-system-arm missing: installing (apt-get install -y qemu-system-arm)" >&2
  apt-get install -y qemu-system-arm >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y qemu-system-arm >/dev/null; }
}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
qemu-system-arm -M mps2-an386 -nographic -monitor none -serial pty -kernel "$elf" >"$log" 2>&1 &
qemu=$!
trap 'kill $qemu 2>/dev/null; rm -f "$log"' INT TERM
pty=""
for _ in $(seq 50); do
  pty=$(sed -n 's/.*char device redirected to \(\/dev\/[^ ]*\) (label serial0).*/\1/p' "$log")
  [ -n "$pty" ] && break
  kill -0 $qemu 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$pty" ] || { echo "no pty reported by QEMU:" >&2; cat "$log" >&2; kill $qemu; exit 1; }
echo "firmware UART0 on $pty (QEMU pid $qemu; Ctrl-C or kill $qemu to stop)"
echo "  e.g. stedi capture --port $pty --lake /tmp/lake --duration 5 --json"
wait $qemu
