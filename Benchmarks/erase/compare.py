#!/usr/bin/env python3
"""Erase one customer with a large history from identical copies of a lake, with
`stedi lake erase` and with the DuckDB peer (duckdb_erase.py), alternating, and compare wall
time, CPU time and peak RSS; check after every run that the customer is gone from every file
and that every table holds exactly the rows it should.

Before each run the working copy is restored from the pristine lake (cp -a) and synced, so
neither engine pays for the other's leftovers or for write-back of the copy. Each engine runs as
a child process measured from outside (wall time spawn to exit; user+sys CPU time and peak RSS
from os.wait4). The medians over the repeats are reported, and the ratios duckdb/stedi.

Exit status: 0 every run verified, 1 a run left the customer behind or a row count is wrong,
2 an engine failed.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, HERE)
import benchlib  # noqa: E402
from benchlib import log  # noqa: E402
import lakecount  # noqa: E402

ENGINES = ("stedi", "duckdb")
PROGRESS_LINE = re.compile(r"^\[\s*([0-9.]+)s\] (.*)$")


def restore(pristine, run):
    started = time.perf_counter()
    if os.path.exists(run):
        shutil.rmtree(run)
    subprocess.run(["cp", "-a", pristine, run], check=True)
    os.sync()
    return time.perf_counter() - started


def stedi_phases(err_path, total):
    """What `STEDI_PROGRESS=lines` printed, as (message, seconds until the next message)."""
    marks = []
    try:
        with open(err_path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = PROGRESS_LINE.match(line.strip())
                if m:
                    marks.append((float(m.group(1)), m.group(2)))
    except OSError:
        return []
    phases = []
    for i, (at, message) in enumerate(marks):
        end = marks[i + 1][0] if i + 1 < len(marks) else total
        if end is not None:
            phases.append({"phase": message, "at": at, "seconds": round(end - at, 3)})
    return phases


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--meta", required=True, help="lake.json written by make_lake.py")
    ap.add_argument("--work", required=True, help="folder for the working copy and the logs")
    ap.add_argument("--stedi", default=benchlib.STEDI_RELEASE)
    ap.add_argument("--python", default=sys.executable, help="interpreter with duckdb installed")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--order", choices=("stedi-first", "alternate"), default="alternate")
    ap.add_argument("--engines", default="stedi,duckdb")
    ap.add_argument("--duckdb-threads", type=int)
    ap.add_argument("--skip-untouched", action="store_true",
                    help="the peer probes each file and rewrites only those holding the customer")
    ap.add_argument("--result", help="result JSON (default <work>/result.json)")
    args = ap.parse_args(argv)

    engines = benchlib.parse_names(args.engines, ENGINES, unique=True)
    if engines is None:
        ap.error("--engines takes stedi, duckdb or both")
    if args.repeats < 1:
        ap.error("--repeats must be >= 1")
    with open(args.meta) as f:
        meta = json.load(f)
    work = os.path.abspath(args.work)
    pristine = meta["lake"]
    run_lake = os.path.join(work, "run")
    logs = os.path.join(work, "logs")
    os.makedirs(logs, exist_ok=True)
    if "stedi" in engines and benchlib.stedi_missing(args.stedi):
        return 2

    email, serial, subject_id = meta["email"], meta["serial"], meta["subject_id"]
    before = meta["tables"]
    theirs = meta["subject_rows"]
    expected_after = {t: before[t] - theirs[t] for t in lakecount.TABLES}
    commands = {
        "stedi": [args.stedi, "lake", "erase", "--lake", run_lake, "--email", email, "--json"],
        "duckdb": [args.python, os.path.join(HERE, "duckdb_erase.py"), "--lake", run_lake,
                   "--email", email, "--serial", serial],
    }
    if args.duckdb_threads:
        commands["duckdb"] += ["--threads", str(args.duckdb_threads)]
    if args.skip_untouched:
        commands["duckdb"] += ["--skip-untouched"]
    # stedi prints a timestamped line per phase on stderr (its .err log): where the time goes.
    os.environ["STEDI_PROGRESS"] = "lines"

    readings = meta["params"]["readings"]
    log(f"lake {pristine}: {meta['bytes'] / 1e6:.0f} MB in {meta['files']} files; erasing {email} "
        f"({readings:,} readings); {args.repeats} run(s) per engine, order {args.order}")
    busy_before = benchlib.busy_before_runs()

    runs = {e: [] for e in engines}
    failed = []
    problems = []
    for i, engine in benchlib.rounds(engines, args.repeats, args.order, failed):
        restore_seconds = restore(pristine, run_lake)
        prefix = os.path.join(logs, f"{engine}-{i + 1}")
        busy, child, report = benchlib.measure(commands[engine], prefix)
        run = {"run": i + 1, "wall_seconds": round(child.wall, 3), "cpu_seconds": round(child.cpu, 3),
               "peak_rss_mib": round(child.rss_kib / 1024, 1), "exit_code": child.code,
               "cpu_busy_before": busy, "restore_seconds": round(restore_seconds, 1), "report": report}
        log(f"  {engine:6s} run {i + 1}: {child.wall:7.2f} s wall  {child.cpu:7.2f} s CPU  "
            f"{child.rss_kib / 1024:8.1f} MiB  exit {child.code}" + benchlib.busy_note(busy))
        if child.code != 0 or report is None:
            failed.append(engine)
            benchlib.report_failure(engine, child.code, prefix)
            runs[engine].append(run)
            continue
        if engine == "stedi":
            run["phases"] = stedi_phases(prefix + ".err", report.get("seconds"))
        # ---- verification: nothing of the customer left, every table exactly right ----
        scan = lakecount.scan(run_lake, email, serial, subject_id)
        run["tables_after"] = scan["tables"]
        run["removed"] = {t: before[t] - scan["tables"][t] for t in lakecount.TABLES}
        run["leaks"] = scan["leaks"]
        for path, found in scan["leaks"].items():
            problems.append(f"{engine} run {i + 1}: {path} still contains the customer's {', '.join(found)}")
        for t in lakecount.TABLES:
            if scan["tables"][t] != expected_after[t]:
                problems.append(f"{engine} run {i + 1}: {t} holds {scan['tables'][t]:,} rows, expected "
                                f"{expected_after[t]:,} ({before[t]:,} before, {theirs[t]:,} the customer's)")
        if engine == "stedi":
            said = report.get("rowsRemoved") or {}
            for t in lakecount.TABLES:
                if said.get(t, 0) != theirs[t]:
                    problems.append(f"stedi run {i + 1}: reports {said.get(t, 0):,} rows removed from {t}, "
                                    f"the customer had {theirs[t]:,}")
        runs[engine].append(run)
    shutil.rmtree(run_lake, ignore_errors=True)

    # Both engines' tables after the erasure, compared with each other (each was compared with
    # the expectation above already; this names a disagreement between them explicitly).
    last = {e: next((r for r in reversed(runs[e]) if "tables_after" in r), None) for e in engines}
    if all(last.values()) and len(engines) == 2:
        a, b = (last[e]["tables_after"] for e in engines)
        for t in lakecount.TABLES:
            if a[t] != b[t]:
                problems.append(f"{t}: stedi leaves {a[t]:,} rows, duckdb {b[t]:,}")

    summary = {}
    for engine in engines:
        rs = [r for r in runs[engine] if r["exit_code"] == 0 and r["report"] is not None]
        if not rs:
            continue
        summary[engine] = benchlib.summarise_runs(
            rs, ("wall_seconds", "median", 3), ("wall_seconds", "min", 3), ("cpu_seconds", "median", 3),
            ("peak_rss_mib", "median", 1))
    ratios = benchlib.ratios(summary, "duckdb", "stedi", {
        "wall_time": "wall_seconds_median", "cpu_time": "cpu_seconds_median", "peak_rss": "peak_rss_mib_median"})

    # ---- print ------------------------------------------------------------------------------
    subject_readings = theirs["accelerometer_landing"]
    print()
    print(f"erase one customer: {subject_readings:,} accelerometer + {theirs['step_trainer_landing']:,} "
          f"step-trainer readings, from a lake of {meta['params']['customers']} generated customers + 1 "
          f"({meta['bytes'] / 1e6:,.0f} MB, {meta['files']} files)")
    print()
    header = f"{'table':26s} {'rows before':>12s} {'customer':>10s}" + "".join(
        f" {'removed ' + e:>15s}" for e in engines) + f" {'rows after':>12s}"
    print(header)
    totals = {e: 0 for e in engines}
    for t in lakecount.TABLES:
        line = f"{t:26s} {before[t]:>12,} {theirs[t]:>10,}"
        for e in engines:
            removed = last[e]["removed"][t] if last.get(e) else None
            totals[e] += removed or 0
            line += f" {benchlib.fmt(removed):>15s}"
        print(line + f" {expected_after[t]:>12,}")
    print(f"{'total':26s} {sum(before.values()):>12,} {sum(theirs.values()):>10,}" + "".join(
        f" {totals[e]:>15,}" for e in engines))
    print()
    print(f"{'engine':14s} {'wall s':>9s} {'CPU s':>9s} {'peak RSS MiB':>13s}   (median of {args.repeats})")
    for e in engines:
        if e in summary:
            m = summary[e]
            print(f"{e:14s} {m['wall_seconds_median']:9.2f} {m['cpu_seconds_median']:9.2f} "
                  f"{m['peak_rss_mib_median']:13.1f}")
        else:
            print(f"{e:14s} {'failed':>9s}   (logs: {logs})")
    if ratios:
        print(f"{'duckdb/stedi':14s} {ratios['wall_time']:8.2f}x {ratios['cpu_time']:8.2f}x "
              f"{ratios['peak_rss']:12.2f}x")
    phases = next((r.get("phases") for r in reversed(runs.get("stedi", [])) if r.get("phases")), None)
    if phases:
        print("\nstedi phases (last run, STEDI_PROGRESS=lines): " + "; ".join(
            f"{p['phase']} {p['seconds']:.2f} s" for p in phases))

    result = {
        "benchmark": "erase",
        "lake": {k: meta[k] for k in ("params", "email", "serial", "subject_id", "files", "bytes",
                                      "tables", "subject_rows", "pipeline_tables", "subject_files")},
        "repeats": args.repeats,
        "order": args.order,
        "duckdb_mode": "skip-untouched" if args.skip_untouched else "every-file",
        "machine": benchlib.machine_info(busy_before),
        "commands": commands,
        "expected_after": expected_after,
        "summary": summary,
        "ratios_duckdb_over_stedi": ratios,
        "runs": runs,
        "problems": problems,
        "ok": not failed and not problems,
        "finished": benchlib.finished(),
    }
    result_path = args.result or os.path.join(work, "result.json")
    benchlib.write_result(result_path, result)
    print(f"\nresult: {result_path}")

    if failed:
        log("FAILED: " + ", ".join(sorted(set(failed))) + " did not finish; see " + logs)
        return 2
    if problems:
        log("\n!!! VERIFICATION FAILED !!!\n  " + "\n  ".join(problems))
        return 1
    print("verified after every run: the customer's email, serial number and subjectId are in no file "
          "of the lake, and every table holds exactly its rows before minus the customer's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
