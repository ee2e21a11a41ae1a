#!/usr/bin/env python3
"""Run `stedi pipeline run --profile strict` and the DuckDB reference pipeline
on the same lake, several times each, both writing Parquet (--format parquet,
the default) or both NDJSON (--format ndjson), and compare wall time, peak RSS,
the bytes each output table takes on disk and the row counts of every table.

Each engine runs as a child process; wall time is measured around the child
(start to exit) and peak RSS is the child's ru_maxrss from os.wait4, so
neither engine measures itself. The median over the repeats is reported.
Bytes are the data files' sizes in each table folder after each run (stedi's
`_delta_log` counted apart), median over the runs.

Exit status: 0 all counts agree (and match the expected counts when
--replicas is given), 1 a count (or, in Parquet, the partition folders of a
table) disagrees, 2 an engine failed.
"""

import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import benchlib  # noqa: E402
from benchlib import log  # noqa: E402

from benchlib import TABLE_ORDER, BASE_COUNTS, OUTPUT_DIRS, clear_outputs, warm_cache  # noqa: E402

FORMATS = ("parquet", "ndjson")


def parquet_rows(folder):
    """Rows in a Parquet table folder, from its data files' footers (None: no folder)."""
    if not os.path.isdir(folder):
        return None
    files = [path for path, in_log in benchlib.table_files(folder) if not in_log]
    if not files:
        return 0
    import duckdb  # only here: compare.py's own RSS stays small while the engines run
    with duckdb.connect() as con:
        return con.execute("SELECT count(*) FROM read_parquet(?)", [files]).fetchone()[0]


def partitions(folder):
    """The partition folders (e.g. "date=2022-06-18") holding a table's data files, sorted."""
    return sorted({os.path.relpath(os.path.dirname(path), folder)
                   for path, in_log in benchlib.table_files(folder) if not in_log} - {"."})


def output_bytes(root):
    """{table: benchlib.table_bytes} of every output table under root."""
    return {t: benchlib.table_bytes(os.path.join(root, d)) for t, d in OUTPUT_DIRS.items()}


def bytes_summary(runs):
    """Per table, the median over the runs of each table_bytes figure; and "total"."""
    tables = {}
    for t in OUTPUT_DIRS:
        values = [r["bytes"][t] for r in runs if r.get("bytes") and r["bytes"].get(t)]
        tables[t] = ({k: round(statistics.median(v[k] for v in values)) for k in values[0]}
                     if values else None)
    present = [v for v in tables.values() if v]
    tables["total"] = {k: sum(v[k] for v in present) for k in present[0]} if present else None
    return tables


def bytes_table(engines, summary):
    """The lines of the bytes-on-disk table: each output table's data bytes and files per engine
    (median over the runs), stedi's Delta log apart, and stedi/DuckDB of the data bytes."""
    have = [e for e in engines if summary.get(e, {}).get("bytes")]
    if not have:
        return []
    columns = [("table", "l")]
    for e in have:
        columns += [(f"{e} bytes", "r"), (f"{e} files", "r")]
        if e == "stedi":
            columns.append(("stedi _delta_log bytes", "r"))
    both = "stedi" in have and "duckdb" in have
    if both:
        columns.append(("stedi/duckdb", "r"))
    rows = []
    for t in list(OUTPUT_DIRS) + ["total"]:
        row = [t]
        for e in have:
            b = summary[e]["bytes"].get(t)
            row += [benchlib.fmt(b and b["data_bytes"]), benchlib.fmt(b and b["data_files"])]
            if e == "stedi":
                row.append(benchlib.fmt(b["log_bytes"]) if b and b["log_files"] else "-")
        if both:
            s, d = summary["stedi"]["bytes"].get(t), summary["duckdb"]["bytes"].get(t)
            row.append(f"x{s['data_bytes'] / d['data_bytes']:.2f}" if s and d and d["data_bytes"] else "-")
        rows.append(row)
    return benchlib.markdown_table(columns, rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lake", required=True, help="scaled lake (stedi writes its outputs into it)")
    ap.add_argument("--work", required=True, help="folder for DuckDB's outputs, logs and result.json")
    ap.add_argument("--stedi", default=benchlib.STEDI_RELEASE)
    ap.add_argument("--python", default=sys.executable, help="interpreter with duckdb installed")
    ap.add_argument("--format", choices=FORMATS, default="parquet",
                    help="what both engines write: Parquet (ZSTD; stedi adds its Delta log) or NDJSON "
                         "(default: %(default)s)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--order", choices=("stedi-first", "alternate"), default="stedi-first",
                    help="stedi then DuckDB in every round, or swap the order every other round")
    ap.add_argument("--engines", default="stedi,duckdb",
                    help="comma-separated subset of stedi,duckdb (default both)")
    ap.add_argument("--replicas", type=int,
                    help="replica count of the lake; when given, counts must equal replicas x the "
                         "unscaled strict counts")
    ap.add_argument("--no-file-check", action="store_true",
                    help="do not count the rows in the written output files")
    ap.add_argument("--duckdb-threads", type=int)
    ap.add_argument("--duckdb-memory-limit")
    ap.add_argument("--result", help="result JSON path (default: <work>/result.json)")
    args = ap.parse_args(argv)

    engines = benchlib.parse_names(args.engines, ("stedi", "duckdb"))
    if engines is None:
        ap.error("--engines takes stedi, duckdb or both")
    if args.repeats < 1:
        ap.error("--repeats must be >= 1")
    lake = os.path.abspath(args.lake)
    work = os.path.abspath(args.work)
    duck_out = os.path.join(work, "duckdb-out")
    logs = os.path.join(work, "logs")
    os.makedirs(logs, exist_ok=True)
    os.makedirs(duck_out, exist_ok=True)

    commands = {
        "stedi": [args.stedi, "pipeline", "run", "--lake", lake, "--profile", "strict",
                  "--format", args.format, "--json"],
        "duckdb": [args.python, os.path.join(HERE, "duckdb_pipeline.py"),
                   "--lake", lake, "--out", duck_out, "--format", args.format],
    }
    if args.duckdb_threads:
        commands["duckdb"] += ["--threads", str(args.duckdb_threads)]
    if args.duckdb_memory_limit:
        commands["duckdb"] += ["--memory-limit", args.duckdb_memory_limit]
    output_roots = {"stedi": lake, "duckdb": duck_out}

    if "stedi" in engines and benchlib.stedi_missing(args.stedi):
        return 2

    nbytes = warm_cache(lake)
    busy_before = benchlib.busy_before_runs()
    log(f"lake {lake}: {nbytes / 1e6:.0f} MB of landing data; "
        f"{args.repeats} run(s) per engine, order {args.order}, format {args.format}")

    runs = {e: [] for e in engines}
    failed = []
    for i, engine in benchlib.rounds(engines, args.repeats, args.order, failed):
        clear_outputs(output_roots[engine])
        prefix = os.path.join(logs, f"{engine}-{i + 1}")
        busy, child, report = benchlib.measure(commands[engine], prefix)
        run = {"run": i + 1, "wall_seconds": round(child.wall, 3), "cpu_seconds": round(child.cpu, 3),
               "peak_rss_mib": round(child.rss_kib / 1024, 1), "exit_code": child.code,
               "cpu_busy_before": busy,
               "bytes": output_bytes(output_roots[engine]) if child.code == 0 else None,
               "report": report}
        runs[engine].append(run)
        log(f"  {engine:6s} run {i + 1}: {child.wall:7.2f} s  {child.rss_kib / 1024:8.1f} MiB  "
            f"CPU {child.cpu:6.2f} s  "
            f"exit {child.code}" + benchlib.busy_note(busy))
        if child.code != 0 or report is None or not isinstance(report.get("tables"), dict):
            failed.append(engine)
            benchlib.report_failure(engine, child.code, prefix)

    # ---- row counts -------------------------------------------------------
    problems = []
    counts = {}
    for engine in engines:
        seen = None
        for run in runs[engine]:
            if not run["report"] or not isinstance(run["report"].get("tables"), dict):
                continue
            tables = {t: run["report"]["tables"].get(t) for t in TABLE_ORDER}
            if seen is None:
                seen = tables
            elif tables != seen:
                problems.append(f"{engine}: counts differ between runs ({seen} vs {tables})")
        counts[engine] = seen
    expected = ({t: n * args.replicas for t, n in BASE_COUNTS.items()}
                if args.replicas else None)

    file_counts = {}
    if not args.no_file_check:
        for engine in engines:
            if engine in failed:
                continue
            rows_in = parquet_rows if args.format == "parquet" else benchlib.count_rows
            file_counts[engine] = {t: rows_in(os.path.join(output_roots[engine], d))
                                   for t, d in OUTPUT_DIRS.items()}

    # ---- partitions (Parquet): both engines must write the same date=... folders ----------
    partition_check = {}
    if args.format == "parquet":
        for t, d in OUTPUT_DIRS.items():
            found = {e: partitions(os.path.join(output_roots[e], d)) for e in engines if e not in failed}
            partition_check[t] = {e: len(p) for e, p in found.items()}
            if len({tuple(p) for p in found.values()}) > 1:
                problems.append(f"{t}: the engines wrote different partitions: "
                                + "; ".join(f"{e} {p[:3]}... ({len(p)})" for e, p in found.items()))

    count_rows = []
    for t in TABLE_ORDER:
        row = {"table": t}
        for engine in engines:
            row[engine] = counts[engine].get(t) if counts.get(engine) else None
        if expected:
            row["expected"] = expected[t]
        values = [row[e] for e in engines]
        ok = None not in values and len(set(values)) == 1
        if expected:
            ok = ok and values[0] == expected[t]
        for engine in engines:
            fc = file_counts.get(engine, {}).get(t)
            if t in OUTPUT_DIRS and engine in file_counts:
                row[f"{engine}_in_files"] = fc
                if fc != row[engine]:
                    ok = False
        row["ok"] = bool(ok)
        if not ok:
            problems.append(f"row count mismatch for {t}: {row}")
        count_rows.append(row)

    # ---- summary ------------------------------------------------------------
    summary = {}
    for engine in engines:
        rs = [r for r in runs[engine] if r["exit_code"] == 0 and r["report"]]
        if not rs:
            continue
        summary[engine] = benchlib.summarise_runs(
            rs, ("wall_seconds", "median", 3), ("wall_seconds", "min", 3), ("cpu_seconds", "median", 3),
            ("peak_rss_mib", "median", 1), ("peak_rss_mib", "max", 1))
        summary[engine]["quarantined"] = rs[-1]["report"].get("quarantined")
        summary[engine]["bytes"] = bytes_summary(rs)
        total = summary[engine]["bytes"]["total"]
        summary[engine]["data_bytes_total"] = total["data_bytes"] if total else None
    keys = {"wall_time": "wall_seconds_median", "cpu_time": "cpu_seconds_median",
            "peak_rss": "peak_rss_mib_median"}
    if all(summary.get(e, {}).get("data_bytes_total") for e in ("stedi", "duckdb")):
        keys["bytes"] = "data_bytes_total"
    ratios = benchlib.ratios(summary, "stedi", "duckdb", keys)

    # ---- print ---------------------------------------------------------------
    print()
    print(f"{'engine':8s} {'wall s (median)':>16s} {'wall s (min)':>13s} {'peak RSS MiB':>13s} "
          f"{'CPU s (median)':>15s}")
    for engine in engines:
        if engine in summary:
            m = summary[engine]
            print(f"{engine:8s} {m['wall_seconds_median']:16.2f} {m['wall_seconds_min']:13.2f} "
                  f"{m['peak_rss_mib_median']:13.1f} {m['cpu_seconds_median']:15.2f}")
        else:
            print(f"{engine:8s} {'failed':>16s}   (logs: {logs})")
    if ratios:
        print(f"{'stedi/duckdb':12s} time x{ratios['wall_time']:.2f}   CPU x{ratios['cpu_time']:.2f}"
              f"   memory x{ratios['peak_rss']:.2f}"
              + (f"   bytes x{ratios['bytes']:.2f}" if "bytes" in ratios else ""))
    size_lines = bytes_table(engines, summary)
    if size_lines:
        print()
        print("\n".join(size_lines))
    if partition_check:
        print("partition folders: " + ", ".join(
            f"{t} {'/'.join(str(n) for n in by.values())}" for t, by in partition_check.items())
            + f" ({'/'.join(e for e in engines if e not in failed)})")
    print()
    header = f"{'table':26s}" + "".join(f"{e:>12s}" for e in engines)
    if expected:
        header += f"{'expected':>12s}"
    print(header + "  ok")
    for row in count_rows:
        line = f"{row['table']:26s}" + "".join(
            f"{row[e] if row[e] is not None else '-':>12}" for e in engines)
        if expected:
            line += f"{row['expected']:>12}"
        print(line + ("  ok" if row["ok"] else "  MISMATCH"))
    for engine in engines:
        q = summary.get(engine, {}).get("quarantined")
        if q:
            print(f"quarantined ({engine}): " + ", ".join(f"{k} {v}" for k, v in q.items()))

    result = {
        "lake": lake,
        "replicas": args.replicas,
        "landing_mb": round(nbytes / 1e6, 1),
        "repeats": args.repeats,
        "order": args.order,
        "format": args.format,
        "machine": benchlib.machine_info(busy_before),
        "commands": commands,
        "summary": summary,
        "ratios_stedi_over_duckdb": ratios,
        "counts": count_rows,
        "partition_folders": partition_check,
        "runs": runs,
        "problems": problems,
        "ok": not failed and not problems,
        "finished": benchlib.finished(),
    }
    result_path = args.result or os.path.join(work, "result.json")
    benchlib.write_result(result_path, result)
    print(f"\nresult: {result_path}")

    if failed:
        log("FAILED: " + ", ".join(sorted(set(failed))) + " did not finish")
        return 2
    if problems:
        log("FAILED: " + "\n  ".join(["row counts or partitions disagree:"] + problems))
        return 1
    print("all row counts agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
