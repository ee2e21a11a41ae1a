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
import benchproc  # noqa: E402

NAMES = ("stedi-termios", "stedi-libserialport", "pyserial")
#: How long the contenders listen beyond the streaming window (handshake before, linger after).
EXTRA_SECONDS = 3.0


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

    window = {}
    feeder_events = []
    followers = []

    def watch(child, t0):
        def follow_feeder():
            for line in feeder.stdout:
                event = json.loads(line)
                feeder_events.append(event)
                if event["event"] in ("start", "end"):
                    window[event["event"]] = (time.monotonic(), benchproc.proc_cpu(child.pid))

        followers.append(threading.Thread(target=follow_feeder, daemon=True))
        followers[0].start()

    child = benchlib.run_child(contender_argv(name, args, port, lake), prefix, env=contender_env(name, args),
                               watch=watch)
    try:
        feeder.wait(timeout=60)
    except subprocess.TimeoutExpired:
        feeder.kill()
    followers[0].join(timeout=5)

    report = benchlib.parse_report(child.stdout)
    summary = next((e for e in feeder_events if e["event"] == "summary"), None)
    if child.code != 0 or report is None or summary is None or "readingsGenerated" not in summary:
        benchlib.report_failure(name, child.code, prefix)
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
        "totalCpuSeconds": child.cpu, "wallSeconds": child.wall,
        "peakRssMiB": child.rss_kib / 1024.0, "feeder": summary, "report": report,
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
    for i, name, before in benchlib.rounds_when_idle(names, args.repeats, args.wait_idle,
                                                     f", {args.seconds:g} s of READING frames"):
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
    ]
    rows = []
    for name in names:
        s = summary[name]
        ratio = ratios.get(name, {}) or {}
        rows.append([
            name, f"{s['framesPerSecond']:,.1f}", f"{s['lineBytesPerSecond']:,.0f}", s["missing"], s["lost"],
            s["rejected"], f"{s['cpuPercent']:.2f}", f"{s['totalCpuSeconds']:.2f}", f"{s['peakRssMiB']:.1f}",
            ("%.2f" % ratio["cpu"]) if ratio.get("cpu") is not None else "1.00" if name == "pyserial" else "-"])
    lines += benchlib.markdown_table(
        [("host", "l"), ("frames/s received", "r"), ("line bytes/s", "r"), ("missing", "r"), ("lost (gaps)", "r"),
         ("rejected", "r"), ("CPU % (streaming)", "r"), ("CPU s total", "r"), ("peak RSS MiB", "r"),
         ("CPU vs pyserial", "r")], rows)
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
