#!/usr/bin/env python3
"""DuckDB scanning machine_learning_curated as Parquet against the same table as
NDJSON: `SELECT subjectId, count(*), avg(x), avg(distanceFromObject) ... GROUP BY
subjectId`, several times each, median query time and the ratio.

The two tables come from stedi (default): `stedi pipeline run --format parquet`
then `--format ndjson` on the lake, each run's step_trainer/curated moved to
<work>/scan/<format>/ (the lake's output folders are cleared before and after).
With --source duckdb they come from duckdb_pipeline.py's two formats instead.

Each query runs in a child process (this script with --query): it connects,
times the query alone and prints {"seconds", "groups", "rows"}; the parent
measures the child from outside too (wall time, peak RSS) with benchlib. The
query reads Parquet with read_parquet('<table>/**/*.parquet',
hive_partitioning = true) and NDJSON with read_json('<table>/**/*.json',
format = 'newline_delimited') given the table's columns (no sampling for the
schema).

Exit status: 0 both formats gave the same groups and rows, 1 they differ,
2 a run failed.
"""

import argparse
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import benchlib  # noqa: E402
from benchlib import log  # noqa: E402

FORMATS = ("parquet", "ndjson")
TABLE_DIR = benchlib.OUTPUT_DIRS["machine_learning_curated"]
# machine_learning_curated's columns and types under the strict profile (stedi's CuratedColumn).
COLUMNS = {"sensorReadingTime": "BIGINT", "serialNumber": "VARCHAR", "distanceFromObject": "DOUBLE",
           "x": "DOUBLE", "y": "DOUBLE", "z": "DOUBLE", "subjectId": "VARCHAR"}


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def scan_sql(fmt, table):
    if fmt == "parquet":
        source = f"read_parquet({sql_str(os.path.join(table, '**', '*.parquet'))}, hive_partitioning = true)"
    else:
        columns = "{" + ", ".join(f"{sql_str(k)}: {sql_str(v)}" for k, v in COLUMNS.items()) + "}"
        source = (f"read_json({sql_str(os.path.join(table, '**', '*.json'))}, "
                  f"format = 'newline_delimited', columns = {columns})")
    return (f"SELECT subjectId, count(*) AS n, avg(x) AS avg_x, avg(distanceFromObject) AS avg_distance "
            f"FROM {source} GROUP BY subjectId")


def query(fmt, table, threads):
    """The child: run the scan once, print what it found and how long the query alone took."""
    import duckdb
    import json
    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    t0 = time.perf_counter()
    groups = con.execute(scan_sql(fmt, table)).fetchall()
    seconds = time.perf_counter() - t0
    print(json.dumps({"format": fmt, "seconds": round(seconds, 4), "groups": len(groups),
                      "rows": sum(g[1] for g in groups)}))
    return 0


def prepare(args, work):
    """{format: the machine_learning_curated folder to scan}, written by stedi or DuckDB; None
    when an engine failed."""
    tables = {}
    logs = os.path.join(work, "logs")
    os.makedirs(logs, exist_ok=True)
    for fmt in FORMATS:
        dest = os.path.join(work, "scan", fmt)
        if os.path.isdir(dest):
            shutil.rmtree(dest)
        os.makedirs(dest)
        prefix = os.path.join(logs, f"scan-prepare-{args.source}-{fmt}")
        if args.source == "stedi":
            benchlib.clear_outputs(args.lake)
            argv = [args.stedi, "pipeline", "run", "--lake", args.lake, "--profile", "strict",
                    "--format", fmt, "--json"]
            root = args.lake
        else:
            root = os.path.join(work, "scan", f"duckdb-{fmt}")
            argv = [sys.executable, os.path.join(HERE, "duckdb_pipeline.py"),
                    "--lake", args.lake, "--out", root, "--format", fmt]
        log(f"== scan: {args.source} writes machine_learning_curated as {fmt}")
        child = benchlib.run_child(argv, prefix)
        if child.code != 0:
            benchlib.report_failure(args.source, child.code, prefix)
            return None
        table = os.path.join(dest, "machine_learning_curated")
        shutil.move(os.path.join(root, TABLE_DIR), table)
        if args.source == "stedi":
            benchlib.clear_outputs(args.lake)
        else:
            shutil.rmtree(root)
        tables[fmt] = table
    return tables


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lake", help="scaled lake (stedi writes into it, then it is cleared)")
    ap.add_argument("--work", help="folder for the two tables, logs and scan-result.json")
    ap.add_argument("--stedi", default=benchlib.STEDI_RELEASE)
    ap.add_argument("--source", choices=("stedi", "duckdb"), default="stedi",
                    help="who writes the two tables (default: %(default)s)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, help="DuckDB threads (default: DuckDB's, one per core)")
    ap.add_argument("--result", help="result JSON path (default: <work>/scan-result.json)")
    ap.add_argument("--query", choices=FORMATS, help=argparse.SUPPRESS)
    ap.add_argument("--table", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.query:
        return query(args.query, args.table, args.threads)
    if not args.lake or not args.work:
        ap.error("--lake and --work are required")
    if args.repeats < 1:
        ap.error("--repeats must be >= 1")
    args.lake = os.path.abspath(args.lake)
    work = os.path.abspath(args.work)
    if args.source == "stedi" and benchlib.stedi_missing(args.stedi):
        return 2

    tables = prepare(args, work)
    if tables is None:
        return 2
    sizes = {fmt: benchlib.table_bytes(table) for fmt, table in tables.items()}

    busy_before = benchlib.busy_before_runs()
    logs = os.path.join(work, "logs")
    runs = {fmt: [] for fmt in FORMATS}
    failed = []
    for i, fmt in benchlib.rounds(FORMATS, args.repeats, "alternate", failed):
        prefix = os.path.join(logs, f"scan-{fmt}-{i + 1}")
        command = [sys.executable, os.path.abspath(__file__), "--query", fmt, "--table", tables[fmt]]
        if args.threads:
            command += ["--threads", str(args.threads)]
        busy, child, report = benchlib.measure(command, prefix)
        if child.code != 0 or report is None:
            failed.append(fmt)
            benchlib.report_failure(f"scan {fmt}", child.code, prefix)
            continue
        runs[fmt].append({"run": i + 1, "query_seconds": report["seconds"],
                          "wall_seconds": round(child.wall, 3),
                          "peak_rss_mib": round(child.rss_kib / 1024, 1), "cpu_busy_before": busy,
                          "report": report})
        log(f"  scan {fmt:7s} run {i + 1}: query {report['seconds']:6.3f} s  wall {child.wall:6.2f} s  "
            f"{child.rss_kib / 1024:7.1f} MiB" + benchlib.busy_note(busy))

    summary = {}
    for fmt in FORMATS:
        if runs[fmt] and fmt not in failed:
            summary[fmt] = benchlib.summarise_runs(
                runs[fmt], ("query_seconds", "median", 3), ("query_seconds", "min", 3),
                ("wall_seconds", "median", 3), ("peak_rss_mib", "median", 1))
            summary[fmt]["data_bytes"] = sizes[fmt]["data_bytes"]
            summary[fmt]["data_files"] = sizes[fmt]["data_files"]
    ratios = benchlib.ratios(summary, "parquet", "ndjson", {"query_time": "query_seconds_median",
                                                            "peak_rss": "peak_rss_mib_median",
                                                            "bytes": "data_bytes"})
    problems = []
    found = {fmt: sorted({(r["report"]["groups"], r["report"]["rows"]) for r in runs[fmt]}) for fmt in summary}
    if len({pair for pairs in found.values() for pair in pairs}) > 1:
        problems.append(f"the formats or runs disagree on (groups, rows): {found}")

    rows = [[fmt, benchlib.fmt(s["data_bytes"]), benchlib.fmt(s["data_files"]),
             f"{s['query_seconds_median']:.3f}", f"{s['query_seconds_min']:.3f}",
             f"{s['wall_seconds_median']:.2f}", f"{s['peak_rss_mib_median']:.1f}"]
            for fmt, s in summary.items()]
    print()
    print(f"DuckDB {scan_sql('parquet', '<table>').split(' FROM ')[0]} ... GROUP BY subjectId "
          f"on machine_learning_curated written by {args.source} ({args.repeats} run(s) each, alternating)")
    print("\n".join(benchlib.markdown_table(
        [("format", "l"), ("table bytes", "r"), ("files", "r"), ("query s (median)", "r"),
         ("query s (min)", "r"), ("process wall s (median)", "r"), ("peak RSS MiB", "r")], rows)))
    if ratios:
        print(f"parquet/ndjson  query time x{ratios['query_time']:.2f}   memory x{ratios['peak_rss']:.2f}"
              f"   bytes x{ratios['bytes']:.2f}")
    any_run = next((r for fmt in summary for r in runs[fmt]), None)
    if any_run:
        print(f"groups {any_run['report']['groups']:,}, rows {any_run['report']['rows']:,}")

    result = {
        "lake": args.lake,
        "source": args.source,
        "tables": tables,
        "query": {fmt: scan_sql(fmt, tables[fmt]) for fmt in FORMATS},
        "repeats": args.repeats,
        "machine": benchlib.machine_info(busy_before),
        "summary": summary,
        "ratios_parquet_over_ndjson": ratios,
        "runs": runs,
        "problems": problems,
        "ok": not failed and not problems,
        "finished": benchlib.finished(),
    }
    result_path = args.result or os.path.join(work, "scan-result.json")
    benchlib.write_result(result_path, result)
    print(f"\nresult: {result_path}")
    if failed:
        log("FAILED: scan " + ", ".join(sorted(set(failed))))
        return 2
    if problems:
        log("FAILED: " + "; ".join(problems))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
