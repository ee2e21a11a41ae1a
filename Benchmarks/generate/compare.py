#!/usr/bin/env python3
"""Run `stedi generate` and the Faker generator (faker_generate.py) side by
side, several times each, and compare how many sensor readings each writes
per second of wall time and per second of CPU time, and their peak memory.

Each generator runs as a child process of this script. Wall time is measured
around the child (spawn to exit); CPU time (user + sys) and peak RSS come
from the child's rusage (os.wait4), so neither generator measures itself.
"Readings" are the accelerometer plus step_trainer lines actually found in
the files afterwards, not the figures the generator reports. Medians over
the repeats are reported.

Exit status: 0 fine; 1 a generator's reported rows disagree with its files,
or its lines are not in the STEDI formats; 2 a generator failed;
3 (only with --require-target) stedi is below the target rate.
"""

import argparse
import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import benchlib  # noqa: E402
from benchlib import log  # noqa: E402

TABLES = ("customer", "accelerometer", "step_trainer", "step_events")
READING_TABLES = ("accelerometer", "step_trainer")
TARGET_PER_CPU_SECOND = 1_000_000
INTENDED_STEDI_READINGS = 5_000_000

# Key order of each table's lines. Customer consent keys are optional.
CUSTOMER_KEYS = ["customerName", "email", "phone", "birthDay", "serialNumber",
                 "registrationDate", "lastUpdateDate", "shareWithResearchAsOfDate",
                 "shareWithPublicAsOfDate", "shareWithFriendsAsOfDate"]
CUSTOMER_REQUIRED = CUSTOMER_KEYS[:7]
EXACT_KEYS = {
    "accelerometer": ["user", "timestamp", "x", "y", "z"],
    "step_trainer": ["sensorReadingTime", "serialNumber", "distanceFromObject"],
}
# step_events is no STEDI table (it is the generators' ground truth): any order of these keys,
# with the step's time under "time" or "timestamp".
STEP_EVENT_KEYS = ({"serialNumber", "user", "timestamp", "foot"},)


# ------------------------------------------------------------------ files --

def table_files(lake, table):
    folder = os.path.join(lake, table, "landing")
    if not os.path.isdir(folder):
        return []
    return sorted(os.path.join(folder, n) for n in os.listdir(folder)
                  if not n.startswith((".", "_")) and os.path.isfile(os.path.join(folder, n)))


def count_lines(path):
    """Newline-terminated lines, plus a final line without a newline. Blank lines are not
    expected in these files and are counted like any other (the format check flags them)."""
    n = 0
    last = b"\n"
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 22)
            if not chunk:
                break
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (0 if last == b"\n" else 1)


def table_stats(lake):
    stats = {}
    for t in TABLES:
        files = table_files(lake, t)
        stats[t] = {"files": len(files),
                    "lines": sum(count_lines(p) for p in files) if files else None,
                    "bytes": sum(os.path.getsize(p) for p in files)}
    return stats


def head_lines(path, n):
    out = []
    with open(path, "rb") as f:
        for raw in f:
            out.append(raw.rstrip(b"\n").decode("utf-8", errors="replace"))
            if len(out) >= n:
                break
    return out


def check_line(table, line):
    """None if `line` is in the STEDI format of `table`, else what is wrong."""
    try:
        obj = json.loads(line)
    except ValueError:
        return "not JSON"
    if not isinstance(obj, dict):
        return "not a JSON object"
    keys = list(obj)
    if table == "customer":
        if keys[:7] != CUSTOMER_REQUIRED or any(k not in CUSTOMER_KEYS for k in keys):
            return f"keys {keys}"
        if keys != [k for k in CUSTOMER_KEYS if k in obj]:
            return f"key order {keys}"
        if line != json.dumps(obj):
            return "not in json.dumps' default layout (', ' and ': ')"
        for k in keys[5:]:
            if type(obj[k]) is not int:
                return f"{k} is not an integer"
        return None
    if table == "step_events":
        if set(keys) not in STEP_EVENT_KEYS or len(keys) != 4:
            return f"keys {keys}, expected serialNumber, user, time (or timestamp), foot"
    elif keys != EXACT_KEYS[table]:
        return f"keys {keys}, expected {EXACT_KEYS[table]}"
    if ": " in line or ", " in line:
        return "not compact (', ' or ': ')"
    if table == "accelerometer":
        if type(obj["timestamp"]) is not int:
            return "timestamp is not an integer"
        if any(not isinstance(obj[k], (int, float)) or isinstance(obj[k], bool) for k in "xyz"):
            return "x/y/z are not numbers"
    elif table == "step_trainer":
        if type(obj["sensorReadingTime"]) is not int or type(obj["distanceFromObject"]) is not int:
            return "sensorReadingTime / distanceFromObject are not integers"
    elif table == "step_events":
        if type(obj.get("timestamp")) is not int or obj["foot"] not in ("left", "right"):
            return "time is not an integer or foot is not left/right"
    return None


def check_formats(lake, per_file=5):
    """Check the first lines of the first and last file of every table."""
    problems = []
    for t in TABLES:
        files = table_files(lake, t)
        for path in dict.fromkeys([files[0], files[-1]] if files else []):
            for i, line in enumerate(head_lines(path, per_file)):
                why = check_line(t, line)
                if why:
                    problems.append(f"{os.path.relpath(path, lake)} line {i + 1}: {why}: {line[:160]}")
                    break
    return problems


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", required=True, help="folder for the two lakes, logs and result.json")
    ap.add_argument("--stedi", default=benchlib.STEDI_RELEASE)
    ap.add_argument("--python", default=sys.executable, help="interpreter with Faker installed")
    ap.add_argument("--customers", type=int, required=True, help="stedi's --customers")
    ap.add_argument("--days", type=int, required=True, help="stedi's --days")
    ap.add_argument("--faker-customers", type=int, help="Faker's --customers (default: --customers)")
    ap.add_argument("--faker-days", type=int, help="Faker's --days (default: --days)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--stedi-flaws", default="none", choices=("none", "all"),
                    help="stedi's --flaws (default none: the Faker side writes no flawed records)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--order", choices=("alternate", "stedi-first"), default="alternate")
    ap.add_argument("--generators", default="stedi,faker", help="stedi, faker or both")
    ap.add_argument("--keep", action="store_true", help="keep the lakes of the last run")
    ap.add_argument("--require-target", action="store_true",
                    help=f"exit 3 when stedi writes fewer than {TARGET_PER_CPU_SECOND:,} readings "
                         f"per CPU-second")
    ap.add_argument("--result", help="result JSON (default <work>/result.json)")
    args = ap.parse_args(argv)

    gens = benchlib.parse_names(args.generators, ("stedi", "faker"), unique=True)
    if gens is None:
        ap.error("--generators takes stedi, faker or both")
    if args.repeats < 1:
        ap.error("--repeats must be >= 1")
    work = os.path.abspath(args.work)
    logs = os.path.join(work, "logs")
    os.makedirs(logs, exist_ok=True)
    lakes = {g: os.path.join(work, f"lake-{g}") for g in gens}
    sizes = {"stedi": (args.customers, args.days),
             "faker": (args.faker_customers or args.customers, args.faker_days or args.days)}
    commands = {
        "stedi": [args.stedi, "generate", "--lake", lakes.get("stedi", ""),
                  "--customers", str(sizes["stedi"][0]), "--days", str(sizes["stedi"][1]),
                  "--seed", str(args.seed), "--flaws", args.stedi_flaws, "--json"],
        "faker": [args.python, os.path.join(HERE, "faker_generate.py"), "--lake", lakes.get("faker", ""),
                  "--customers", str(sizes["faker"][0]), "--days", str(sizes["faker"][1]),
                  "--seed", str(args.seed), "--json"],
    }
    if "stedi" in gens and benchlib.stedi_missing(args.stedi):
        return 2

    cpus = os.cpu_count()
    busy_before = benchlib.busy_before_runs(f" (this machine has {cpus} cores)")
    for g in gens:
        log(f"{g}: {' '.join(commands[g])}")

    runs = {g: [] for g in gens}
    failed = []
    problems = []
    notes = []
    for i, g in benchlib.rounds(gens, args.repeats, args.order, failed):
        shutil.rmtree(lakes[g], ignore_errors=True)
        os.sync()  # no dirty pages of an earlier run are written back during this one
        prefix = os.path.join(logs, f"{g}-{i + 1}")
        busy, (wall, cpu, rss_kib, code, _), report = benchlib.measure(commands[g], prefix)
        t_sync = time.perf_counter()
        os.sync()
        sync_s = time.perf_counter() - t_sync
        stats = table_stats(lakes[g])
        readings = sum(stats[t]["lines"] or 0 for t in READING_TABLES)
        nbytes = sum(s["bytes"] for s in stats.values())
        run = {"run": i + 1, "exit_code": code, "wall_seconds": round(wall, 3),
               "cpu_seconds": round(cpu, 3), "peak_rss_mib": round(rss_kib / 1024, 1),
               "readings": readings, "bytes_written": nbytes,
               "readings_per_second": round(readings / wall) if wall > 0 else None,
               "readings_per_cpu_second": round(readings / cpu) if cpu > 0 else None,
               "cores_used": round(cpu / wall, 2) if wall > 0 else None,
               "sync_after_seconds": round(sync_s, 3), "cpu_busy_before": busy,
               "tables": stats, "report": report}
        runs[g].append(run)
        log(f"  {g:5s} run {i + 1}: {wall:7.2f} s wall {cpu:7.2f} s CPU "
            f"{rss_kib / 1024:8.1f} MiB  {readings:>12,} readings  exit {code}"
            + benchlib.busy_note(busy))
        if code != 0 or report is None:
            failed.append(g)
            benchlib.report_failure(g, code, prefix)
            continue
        # The rows it reports must be the lines in its files.
        # With flaws, stedi writes malformed lines on purpose: then these are only notes.
        sink = notes if (g == "stedi" and args.stedi_flaws != "none") else problems
        reported = report.get("rows") if isinstance(report.get("rows"), dict) else {}
        for t in TABLES:
            if reported.get(t) != stats[t]["lines"]:
                sink.append(f"{g} run {i + 1}: {t} reports {reported.get(t)} rows, "
                            f"its files hold {stats[t]['lines']} lines")
        if i == 0:
            sink += [f"{g}: {p}" for p in check_formats(lakes[g])]
        if i == args.repeats - 1 and not args.keep:
            shutil.rmtree(lakes[g], ignore_errors=True)

    # ------------------------------------------------------------ summary --
    summary = {}
    for g in gens:
        ok = [r for r in runs[g] if r["exit_code"] == 0 and r["report"] is not None]
        if not ok:
            continue
        summary[g] = {
            "customers": sizes[g][0], "days": sizes[g][1], "runs": len(ok),
            "readings": ok[-1]["readings"],
            "rows": {t: ok[-1]["tables"][t]["lines"] for t in TABLES},
            "files": {t: ok[-1]["tables"][t]["files"] for t in TABLES},
            "bytes_written": ok[-1]["bytes_written"],
            "bytes_per_reading_line": (round((ok[-1]["tables"]["accelerometer"]["bytes"]
                                              + ok[-1]["tables"]["step_trainer"]["bytes"])
                                             / ok[-1]["readings"], 1) if ok[-1]["readings"] else None),
            "wall_seconds_median": benchlib.median(ok, "wall_seconds", 3),
            "cpu_seconds_median": benchlib.median(ok, "cpu_seconds", 3),
            "peak_rss_mib_median": benchlib.median(ok, "peak_rss_mib", 1),
            "readings_per_second_median": benchlib.median(ok, "readings_per_second"),
            "readings_per_cpu_second_median": benchlib.median(ok, "readings_per_cpu_second"),
            "cores_used_median": benchlib.median(ok, "cores_used", 2),
            "sync_after_seconds_median": benchlib.median(ok, "sync_after_seconds", 3),
            "self_reported_seconds_median": benchlib.self_reported_median(ok),
        }
        if len({r["readings"] for r in ok}) != 1:
            problems.append(f"{g}: readings differ between runs with the same seed: "
                            f"{[r['readings'] for r in ok]}")
    ratios = benchlib.ratios(summary, "stedi", "faker", {
        "readings_per_second": "readings_per_second_median",
        "readings_per_cpu_second": "readings_per_cpu_second_median",
        "peak_rss": "peak_rss_mib_median",
    })
    target = None
    if "stedi" in summary:
        v = summary["stedi"]["readings_per_cpu_second_median"]
        target = {"readings_per_cpu_second": TARGET_PER_CPU_SECOND, "stedi": v,
                  "met": v >= TARGET_PER_CPU_SECOND}

    # -------------------------------------------------------------- print --
    print()
    print(f"machine: {cpus} CPU(s); medians of {args.repeats} run(s) each; "
          f"readings = accelerometer + step_trainer lines in the files")
    cols = [("size (customers x days)", lambda m: f"{m['customers']} x {m['days']}"),
            ("readings written", lambda m: benchlib.fmt(m["readings"])),
            ("  accelerometer", lambda m: benchlib.fmt(m["rows"]["accelerometer"])),
            ("  step_trainer", lambda m: benchlib.fmt(m["rows"]["step_trainer"])),
            ("step_events rows", lambda m: benchlib.fmt(m["rows"]["step_events"])),
            ("customer rows", lambda m: benchlib.fmt(m["rows"]["customer"])),
            ("MB written (all tables)", lambda m: f"{m['bytes_written'] / 1e6:,.0f}"),
            ("wall s", lambda m: f"{m['wall_seconds_median']:.2f}"),
            ("CPU s (user+sys)", lambda m: f"{m['cpu_seconds_median']:.2f}"),
            ("cores used (CPU/wall)", lambda m: f"{m['cores_used_median']:.2f}"),
            ("readings / s", lambda m: benchlib.fmt(m["readings_per_second_median"])),
            ("readings / CPU-s (per core)", lambda m: benchlib.fmt(m["readings_per_cpu_second_median"])),
            ("peak RSS MiB", lambda m: f"{m['peak_rss_mib_median']:.1f}"),
            ("os.sync() after, s (untimed)", lambda m: f"{m['sync_after_seconds_median']:.2f}")]
    print(f"{'':30s}" + "".join(f"{g:>18s}" for g in gens))
    for label, fn in cols:
        print(f"{label:30s}" + "".join(f"{fn(summary[g]) if g in summary else 'failed':>18s}"
                                       for g in gens))
    if ratios:
        print(f"stedi/faker: readings/s x{ratios['readings_per_second']:.2f}, "
              f"readings/CPU-s x{ratios['readings_per_cpu_second']:.2f}, "
              f"peak RSS x{ratios['peak_rss']:.2f}")
        if sizes["stedi"] != sizes["faker"]:
            print("  (the two ran at different sizes; the ratios compare rates, not totals)")
    if target:
        print(f"target: stedi >= {TARGET_PER_CPU_SECOND:,} readings per CPU-second: "
              f"{target['stedi']:,} -> {'MET' if target['met'] else 'NOT MET'}")
        if summary["stedi"]["readings"] < INTENDED_STEDI_READINGS:
            print(f"note: stedi wrote {summary['stedi']['readings']:,} readings, fewer than the "
                  f"~{INTENDED_STEDI_READINGS:,} this benchmark intends; raise --customers/--days")

    result = {
        "target_readings_per_cpu_second": TARGET_PER_CPU_SECOND,
        "machine": benchlib.machine_info(busy_before),
        "seed": args.seed, "repeats": args.repeats, "order": args.order,
        "commands": {g: commands[g] for g in gens},
        "summary": summary, "ratios_stedi_over_faker": ratios, "target": target,
        "runs": runs, "problems": problems, "notes": notes, "failed": failed,
        "finished": benchlib.finished(),
    }
    result_path = args.result or os.path.join(work, "result.json")
    benchlib.write_result(result_path, result)
    if notes:
        print(f"notes (stedi ran with --flaws {args.stedi_flaws}; readings include its flawed lines):\n  "
              + "\n  ".join(notes))
    print(f"result: {result_path}")

    if failed:
        log("FAILED: " + ", ".join(failed) + f" did not finish (logs: {logs})")
        return 2
    if problems:
        log("PROBLEMS:\n  " + "\n  ".join(problems))
        return 1
    if args.require_target and target and not target["met"]:
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
