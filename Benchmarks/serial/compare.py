"""Runs the serial benchmark's contenders one after the other against fresh feeders and prints the table.

For each run: start feeder.py (a pty streaming READING frames at 921,600 baud for --seconds),
start the contender on its slave path as a child, sample the child's CPU time (utime + stime of
/proc/<pid>/stat, all threads) when the feeder starts and stops streaming, then take its total
CPU time and peak RSS from os.wait4 and its JSON summary from stdout. Loss is counted twice:
the contender's own gap count ("lost") and the feeder's readings minus the readings the
contender reported (so readings missing at the end of the stream count too).

Usage (run.sh passes these): compare.py --stedi PATH --shim PATH --seconds N --repeats K --work DIR
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import benchlib  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
NAMES = ("stedi-termios", "stedi-libserialport", "pyserial")
#: How long the contenders listen beyond the streaming window (handshake before, linger after).
EXTRA_SECONDS = 3.0


def cpu_seconds(pid):
    """utime + stime of a running process (all its threads), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of proc(5)


def contender_argv(name, args, port, lake):
    listen = str(args.seconds + EXTRA_SECONDS)
    if name.startswith("stedi"):
        return [args.stedi, "capture", "--port", port, "--lake", lake, "--baud", "921600",
                "--duration", listen, "--json"]
    return [sys.executable, os.path.join(HERE, "pyserial_host.py"), "--port", port, "--baud", "921600",
            "--seconds", listen]


def contender_env(name, args):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.pop("STEDI_SERIAL_BACKEND", None)
    if name == "stedi-termios":
        env["STEDI_SERIAL_BACKEND"] = "termios"
    elif name == "stedi-libserialport":
        env["STEDI_SERIAL_BACKEND"] = "libserialport"
        env["LD_PRELOAD"] = args.shim
    return env


def run_once(name, args, round_index):
    prefix = os.path.join(args.work, f"{name}-{round_index}")
    lake = prefix + "-lake"
    subprocess.run(["rm", "-rf", lake], check=True)
    feeder = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "feeder.py"), "--seconds", str(args.seconds),
         "--cache", os.path.join(args.work, f"frames-{args.seconds:g}s.bin")],
        stdout=subprocess.PIPE, stderr=open(prefix + ".feeder.err", "wb"), text=True)
    first = json.loads(feeder.stdout.readline() or "{}")
    if "path" not in first:
        feeder.kill()
        raise SystemExit(f"error: the feeder did not start; see {prefix}.feeder.err")
    port = first["path"]

    with open(prefix + ".out", "wb") as out, open(prefix + ".err", "wb") as err:
        t0 = time.perf_counter()
        child = subprocess.Popen(contender_argv(name, args, port, lake), stdout=out, stderr=err,
                                 stdin=subprocess.DEVNULL, env=contender_env(name, args), cwd=benchlib.REPO)
        window = {}
        feeder_events = []

        def follow_feeder():
            for line in feeder.stdout:
                event = json.loads(line)
                feeder_events.append(event)
                if event["event"] in ("start", "end"):
                    window[event["event"]] = (time.monotonic(), cpu_seconds(child.pid))

        follower = threading.Thread(target=follow_feeder, daemon=True)
        follower.start()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - t0
        child.returncode = os.waitstatus_to_exitcode(status)
    try:
        feeder.wait(timeout=60)
    except subprocess.TimeoutExpired:
        feeder.kill()
    follower.join(timeout=5)

    with open(prefix + ".out", encoding="utf-8", errors="replace") as f:
        report = benchlib.parse_report(f.read())
    summary = next((e for e in feeder_events if e["event"] == "summary"), None)
    if child.returncode != 0 or report is None or summary is None or "readingsGenerated" not in summary:
        benchlib.report_failure(name, child.returncode, prefix)
        benchlib.log(f"feeder: {summary}")
        return None
    stream_cpu = stream_seconds = None
    if "start" in window and "end" in window and window["start"][1] is not None and window["end"][1] is not None:
        stream_seconds = window["end"][0] - window["start"][0]
        stream_cpu = window["end"][1] - window["start"][1]
    generated = summary["readingsGenerated"]
    received = report["readings"]
    result = {
        "name": name, "round": round_index, "port": port,
        "generated": generated, "droppedAtDevice": summary["readingsDroppedAtDevice"],
        "received": received, "missing": generated - received, "lost": report.get("lost"),
        "duplicates": report.get("duplicates"),
        "rejected": sum((report.get("frames") or {}).get("rejected", {}).values()),
        "streamSeconds": summary["streamSeconds"], "lineBytesPerSecond": summary["lineBytesPerSecond"],
        "framesPerSecond": received / summary["streamSeconds"],
        "streamCpuSeconds": stream_cpu, "windowSeconds": stream_seconds,
        "cpuPercent": 100.0 * stream_cpu / stream_seconds if stream_cpu is not None else None,
        "totalCpuSeconds": usage.ru_utime + usage.ru_stime, "wallSeconds": wall,
        "peakRssMiB": usage.ru_maxrss / 1024.0, "feeder": summary, "report": report,
    }
    if name.startswith("stedi"):
        result["landed"] = report.get("landed")
    return result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--stedi", required=True)
    p.add_argument("--shim", required=True)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--work", required=True)
    p.add_argument("--only", default=",".join(NAMES))
    p.add_argument("--wait-idle", type=float, default=120.0,
                   help="before each run, wait up to this long for the CPUs to be under 10%% busy")
    args = p.parse_args()
    names = benchlib.parse_names(args.only, NAMES, unique=True)
    if names is None:
        raise SystemExit(f"--only takes names from {', '.join(NAMES)}")

    busy = benchlib.busy_before_runs(" (another engineer compiling?)")
    runs = []
    for i in range(args.repeats):
        for name in benchlib.round_order(names, "alternate", i):
            waited_until = time.monotonic() + args.wait_idle
            before = benchlib.cpu_busy(1.0)
            while before is not None and before > 0.10 and time.monotonic() < waited_until:
                before = benchlib.cpu_busy(2.0)
            benchlib.log(f"== round {i + 1}/{args.repeats}: {name}, {args.seconds:g} s of READING frames"
                         + benchlib.busy_note(before))
            result = run_once(name, args, i)
            if result is None:
                return 1
            result["cpuBusyBefore"] = before
            runs.append(result)
            benchlib.log(f"   {result['received']}/{result['generated']} readings, lost {result['lost']}, "
                         f"missing {result['missing']}, CPU {result['cpuPercent']:.1f}%")

    summary = {}
    for name in names:
        mine = [r for r in runs if r["name"] == name]
        summary[name] = {
            "framesPerSecond": benchlib.median(mine, "framesPerSecond", 1),
            "missing": max(r["missing"] for r in mine),
            "lost": max(r["lost"] for r in mine),
            "droppedAtDevice": max(r["droppedAtDevice"] for r in mine),
            "rejected": max(r["rejected"] for r in mine),
            "cpuPercent": benchlib.median(mine, "cpuPercent", 2),
            "totalCpuSeconds": benchlib.median(mine, "totalCpuSeconds", 2),
            "peakRssMiB": benchlib.median(mine, "peakRssMiB", 1),
            "lineBytesPerSecond": benchlib.median(mine, "lineBytesPerSecond", 0),
        }
    ratios = {}
    for name in names:
        if name.startswith("stedi") and "pyserial" in summary:
            ratios[name] = benchlib.ratios(summary, name, "pyserial", {"cpu": "cpuPercent", "rss": "peakRssMiB"})

    lines = [
        f"Serial capture at 921,600 baud over a pty: {args.seconds:g} s of READING frames "
        f"({runs[0]['feeder']['frameBytes']} wire bytes each), median of {args.repeats} run(s) per contender",
        "",
        "| host | frames/s received | line bytes/s | missing | lost (gaps) | rejected | CPU % (streaming) "
        "| CPU s total | peak RSS MiB | CPU vs pyserial |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        s = summary[name]
        ratio = ratios.get(name, {}) or {}
        lines.append(
            f"| {name} | {s['framesPerSecond']:,.1f} | {s['lineBytesPerSecond']:,.0f} | {s['missing']} | {s['lost']} "
            f"| {s['rejected']} | {s['cpuPercent']:.2f} | {s['totalCpuSeconds']:.2f} | {s['peakRssMiB']:.1f} "
            f"| {('%.2f' % ratio['cpu']) if ratio.get('cpu') is not None else '1.00' if name == 'pyserial' else '-'} |")
    lines.append("")
    lines.append("missing = readings the feeder generated minus readings the host reported (0 = no frame lost); "
                 "CPU % = the host's user+sys CPU seconds while the feeder streamed / that window's wall seconds.")
    text = "\n".join(lines)
    print(text)
    with open(os.path.join(args.work, "summary.txt"), "w") as f:
        f.write(text + "\n")
    benchlib.write_result(os.path.join(args.work, "result.json"), {
        "finished": benchlib.finished(), "machine": benchlib.machine_info(busy),
        "seconds": args.seconds, "repeats": args.repeats, "summary": summary, "ratios": ratios, "runs": runs})
    bad = [n for n in names if n.startswith("stedi") and (summary[n]["missing"] or summary[n]["lost"])]
    if bad:
        benchlib.log(f"error: {', '.join(bad)} lost readings")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
