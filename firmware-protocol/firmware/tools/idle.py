#!/usr/bin/env python3
"""How much host CPU an idle emulated device costs, and how its clock keeps up with wall time.

Starts QEMU (mps2-an386) with fw.elf, keeps UART0's pty open without connecting (the device waits,
sampling into its ring and sending an unsolicited HELLO each second), and over `seconds`:
- QEMU's CPU use: utime + stime from /proc/<pid>/stat at the start and end of the window;
- the device clock against wall time: deviceTimeMs of HELLOs early and late in the window against
  when they arrived (the difference is the clock's drift; a clock that loses ticks runs slow).

With --pause S, QEMU is stopped (SIGSTOP) for S seconds half way through: an emulator starved
outright, which a clock that counts timer interrupts does not survive.

Usage: tools/idle.py build/fw.elf [seconds] [--pause S]   (prints one summary line; always exits 0)
"""
import os
import re
import select
import signal
import subprocess
import sys
import time
import tty

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "vectors"))
import reference  # noqa: E402


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def main() -> int:
    args = sys.argv[1:]
    pause = 0.0
    if "--pause" in args:
        at = args.index("--pause")
        pause = float(args[at + 1])
        del args[at:at + 2]
    elf = args[0] if args else os.path.join(HERE, "..", "build", "fw.elf")
    seconds = float(args[1]) if len(args) > 1 else 10.0
    qemu = subprocess.Popen(
        ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "pty", "-kernel", elf],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        pty = None
        deadline = time.time() + 5
        while time.time() < deadline and pty is None:
            m = re.search(r"char device redirected to (/dev/\S+) \(label serial0\)", qemu.stdout.readline())
            pty = m.group(1) if m else None
        if pty is None:
            print("no pty from QEMU")
            return 0
        fd = os.open(pty, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(fd)
        decoder = reference.Decoder()
        hellos: list[tuple[float, int]] = []
        time.sleep(1.0)  # past boot
        # Drop what arrived meanwhile: a HELLO read now would be timed up to a second late.
        while select.select([fd], [], [], 0)[0]:
            try:
                decoder.feed(os.read(fd, 4096))
            except BlockingIOError:
                break
        wall0, cpu0 = time.monotonic(), cpu_seconds(qemu.pid)
        paused = pause == 0
        while time.monotonic() - wall0 < seconds:
            if not paused and time.monotonic() - wall0 >= seconds / 2:
                paused = True
                os.kill(qemu.pid, signal.SIGSTOP)
                time.sleep(pause)
                os.kill(qemu.pid, signal.SIGCONT)
            r, _, _ = select.select([fd], [], [], 0.2)
            if not r:
                continue
            try:
                data = os.read(fd, 4096)
            except BlockingIOError:
                continue
            now = time.monotonic()
            for e in decoder.feed(data):
                if e.get("message", {}).get("type") == "hello":
                    hellos.append((now, e["message"]["deviceTimeMs"]))
        wall = time.monotonic() - wall0
        cpu = cpu_seconds(qemu.pid) - cpu0
        os.close(fd)
        line = f"QEMU CPU {100 * cpu / wall:.1f} % of one core over {wall:.1f} s"
        if pause:
            line += f" (stopped {pause:.1f} s of it)"
        if len(hellos) >= 6:
            # A HELLO reaches us late by however long the host took to schedule QEMU and us, never
            # early: so compare the least-delayed HELLO of the first third with that of the last.
            third = len(hellos) // 3
            first = min(hellos[:third], key=lambda h: h[0] * 1000 - h[1])
            last = min(hellos[-third:], key=lambda h: h[0] * 1000 - h[1])
            wall_ms = (last[0] - first[0]) * 1000
            device_ms = last[1] - first[1]
            line += (f"; device clock {device_ms} ms over {wall_ms:.0f} ms wall ({len(hellos)} HELLOs;"
                     f" drift {device_ms - wall_ms:+.0f} ms, {100 * (device_ms - wall_ms) / wall_ms:+.2f} %)")
        print(line)
        return 0
    finally:
        qemu.terminate()
        qemu.wait(timeout=5)


if __name__ == "__main__":
    sys.exit(main())
