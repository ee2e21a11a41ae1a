#!/usr/bin/env python3
"""End-to-end check of the emulated firmware: starts QEMU (mps2-an386) with fw.elf, opens UART0's
pty raw, sends 0x00 + CONNECT (built with ../vectors/reference.py), decodes what comes back with
reference.py's decoder, answers a TIME_SYNC_REQUEST, and reports. Also reads the main stack's
high-water mark over QEMU's monitor (the reset handler paints the stack) and checks static RAM
(.data + .bss, from the ELF) plus that mark against the RAM budget: on the real part both share it.

Usage: tools/handshake.py build/fw.elf [seconds] [--ram-budget BYTES]
exit 0 when HELLO(sessionId) and readings came and, with --ram-budget, static RAM + stack fit.
"""
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import termios
import time
import tty

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "vectors"))
import reference  # noqa: E402
from size import static_ram  # noqa: E402

SESSION = 0x3B9F42D1
STACK_TOP, STACK_PAINT_BYTES, PAINT = 0x20400000, 0x8000, 0xA5A5A5A5


def monitor(sock_path: str, command: str) -> str:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(sock_path)
        s.settimeout(2)
        s.sendall(command.encode() + b"\n")
        out, deadline = b"", time.time() + 3
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            out += chunk
            if out.rstrip().endswith(b"(qemu)") and command.encode() in out and out.count(b"(qemu)") >= 2:
                break
        return out.decode(errors="replace")


def stack_high_water(sock_path: str) -> int | None:
    words = STACK_PAINT_BYTES // 4
    text = monitor(sock_path, f"xp /{words}wx 0x{STACK_TOP - STACK_PAINT_BYTES:08x}")
    values = []
    for line in text.splitlines():
        m = re.match(r"\s*([0-9a-f]{8,16}):\s+(.*)", line)
        if m:
            values += [int(v, 16) for v in m.group(2).split()]
    if len(values) < words:
        return None
    if os.environ.get("STEDI_DEBUG_STACK"):
        print([hex(v) for v in values[:8]])
    untouched = 0
    for v in values:  # lowest address first: count painted words from the bottom
        if v != PAINT:
            break
        untouched += 1
    return STACK_PAINT_BYTES - 4 * untouched


def main() -> int:
    args = sys.argv[1:]
    ram_budget = None
    if "--ram-budget" in args:
        at = args.index("--ram-budget")
        ram_budget = int(args[at + 1])
        del args[at:at + 2]
    elf = args[0] if args else os.path.join(HERE, "..", "build", "fw.elf")
    seconds = float(args[1]) if len(args) > 1 else 3.0
    mon = os.path.join(tempfile.mkdtemp(), "monitor.sock")
    qemu = subprocess.Popen(
        ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", f"unix:{mon},server,nowait",
         "-serial", "pty", "-kernel", elf],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # QEMU 7.2 prints the pty on stdout
    try:
        pty = None
        deadline = time.time() + 5
        while time.time() < deadline and pty is None:
            line = qemu.stdout.readline()
            m = re.search(r"char device redirected to (/dev/\S+) \(label serial0\)", line)
            if m:
                pty = m.group(1)
        if pty is None:
            print("FAIL: QEMU reported no pty")
            return 1
        print(f"QEMU pid {qemu.pid}, UART0 on {pty}")
        fd = os.open(pty, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(fd)
        attrs = termios.tcgetattr(fd)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(fd, termios.TCSANOW, attrs)

        decoder = reference.Decoder()
        events: list[dict] = []

        def pump(duration: float) -> None:
            end = time.time() + duration
            while time.time() < end:
                r, _, _ = select.select([fd], [], [], 0.05)
                if r:
                    try:
                        data = os.read(fd, 4096)
                    except BlockingIOError:
                        continue
                    for e in decoder.feed(data):
                        events.append({"t": time.time(), **e})

        pump(1.5)  # unsolicited HELLOs (sessionId 0) while waiting
        connect = reference.msg("connect", 0, protocolVersion=1, sessionId=SESSION)
        os.write(fd, b"\x00" + reference.encode(connect))
        pump(0.5)
        t1 = int(time.time() * 1000)
        os.write(fd, reference.encode(reference.msg("timeSyncRequest", 1, t1=t1)))
        # Keep the link alive (the device drops a host silent for 3 s) with a HEARTBEAT a second.
        end, sequence = time.time() + seconds, 2
        while time.time() < end:
            pump(min(1.0, end - time.time()))
            beat = reference.msg("heartbeat", sequence, timeMs=int(time.time() * 1000), state="connected",
                                 buffered=0, dropped=0)
            os.write(fd, reference.encode(beat))
            sequence += 1
        os.close(fd)

        kinds: dict[str, int] = {}
        for e in events:
            key = e["message"]["type"] if "message" in e else "rejected:" + e["rejected"]
            kinds[key] = kinds.get(key, 0) + 1
        print("received:", ", ".join(f"{k} x{v}" for k, v in sorted(kinds.items())))
        messages = [e["message"] for e in events if "message" in e]
        hellos = [m for m in messages if m["type"] == "hello"]
        for h in hellos[:1] + [h for h in hellos if h["sessionId"] == SESSION][:1]:
            print("HELLO:", h)
        sync = [m for m in messages if m["type"] == "timeSyncResponse"]
        if sync:
            print("TIME_SYNC_RESPONSE:", sync[0])
        readings = [m for m in messages if m["type"] in ("reading", "readingBatch")]
        for m in readings[:3]:
            print("reading:", m)
        rows = []
        for m in readings:
            if m["type"] == "reading":
                rows.append((m["index"], m["distanceMm"], m["status"]))
            else:
                rows += [(m["firstIndex"] + i, r["distanceMm"], r["status"]) for i, r in enumerate(m["readings"])]
        if rows:
            ok = [d for _, d, s in rows if s == "ok"]
            print(f"{len(rows)} readings, indexes {rows[0][0]}..{rows[-1][0]}, "
                  f"distance {min(ok) if ok else '-'}..{max(ok) if ok else '-'} mm, "
                  f"{sum(1 for r in rows if r[2] != 'ok')} not ok")
        high = stack_high_water(mon)
        if high is not None:
            print(f"main stack high-water mark: {high} B (of {STACK_PAINT_BYTES} B painted)")
        within_budget = True
        if ram_budget is not None:
            static = static_ram(elf)
            if high is None:
                print("FAIL: could not read the stack high-water mark, so the RAM budget is unchecked")
                within_budget = False
            else:
                total = static + high
                within_budget = total <= ram_budget
                print(f"RAM: static {static} B + stack high-water {high} B = {total} B of {ram_budget} B budget"
                      f"{'' if within_budget else ' -- FAIL: over budget'}")
        answered = any(h["sessionId"] == SESSION for h in hellos)
        passed = answered and bool(rows) and within_budget
        print("PASS" if passed else "FAIL", "- HELLO for our session:", answered, "readings:", len(rows),
              "RAM within budget:", within_budget)
        return 0 if passed else 1
    finally:
        qemu.terminate()
        qemu.wait(timeout=5)


if __name__ == "__main__":
    sys.exit(main())
