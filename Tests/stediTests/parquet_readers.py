"""Reads a stedi lake's Parquet tables with real readers, for ParquetReadersTests.swift.

  rows --reader pyarrow|duckdb|deltalake|pyspark --lake DIR --tables F1,F2 --out DIR
      Writes OUT/<table folder with / as _>.ndjson: every row of each table as the reader sees
      it, one JSON object per line, nulls left out (as stedi's NDJSON leaves them out), the Hive
      `date` partition column checked against the row's time column and then dropped. Prints a
      JSON summary: rows per table and rows whose date partition disagrees with their time.
  metadata --lake DIR --tables F1,F2
      Prints, per data file, what pyarrow's ParquetFile.metadata and DuckDB's parquet_metadata()
      report: row groups, rows, and per column the physical type, codec, encodings and whether
      min, max and null count are present.
"""

import argparse
import datetime
import glob
import json
import os
import sys

TIME_COLUMNS = {"accelerometer/trusted": "timestamp", "step_trainer/trusted": "sensorReadingTime",
                "step_trainer/curated": "sensorReadingTime"}


def utc_date(milliseconds):
    return (datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=milliseconds)).strftime("%Y-%m-%d")


def data_files(folder):
    return sorted(path for path in glob.glob(os.path.join(folder, "**", "*.parquet"), recursive=True)
                  if "_delta_log" not in path)


def records_pyarrow(folder):
    import pyarrow.dataset as ds
    dataset = ds.dataset(folder, format="parquet", partitioning="hive",
                         ignore_prefixes=["_", "."])
    return dataset.to_table().to_pylist()


def records_duckdb(folder):
    import duckdb
    files = data_files(folder)
    if not files:
        return []
    connection = duckdb.connect()
    # hive_types_autocast off: the date stays the text of its folder name.
    relation = connection.sql(
        "SELECT * FROM read_parquet(?, hive_partitioning = true, hive_types_autocast = false)",
        params=[files])
    names = [column[0] for column in relation.description]
    return [dict(zip(names, row)) for row in relation.fetchall()]


def records_deltalake(folder):
    from deltalake import DeltaTable
    return DeltaTable(folder).to_pyarrow_table().to_pylist()


SPARK = None


def records_pyspark(folder):
    global SPARK
    if SPARK is None:
        from pyspark.sql import SparkSession
        SPARK = (SparkSession.builder.master("local[2]").appName("stedi-parquet-readers")
                 .config("spark.sql.session.timeZone", "UTC")
                 .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
                 .config("spark.ui.enabled", "false").getOrCreate())
    if not data_files(folder):
        return []
    return [row.asDict() for row in SPARK.read.option("basePath", folder).parquet(folder).collect()]


READERS = {"pyarrow": records_pyarrow, "duckdb": records_duckdb, "deltalake": records_deltalake,
           "pyspark": records_pyspark}


def rows(args):
    os.makedirs(args.out, exist_ok=True)
    summary = {}
    for table in args.tables.split(","):
        records = READERS[args.reader](os.path.join(args.lake, table))
        misplaced = 0
        time_column = TIME_COLUMNS.get(table)
        with open(os.path.join(args.out, table.replace("/", "_") + ".ndjson"), "w") as out:
            for record in records:
                date = record.pop("date", None)
                if time_column is not None:
                    if date is None or str(date) != utc_date(record[time_column]):
                        misplaced += 1
                elif date is not None:
                    misplaced += 1
                out.write(json.dumps({k: v for k, v in record.items() if v is not None}) + "\n")
        summary[table] = {"rows": len(records), "misplaced": misplaced}
    print(json.dumps(summary))


def metadata(args):
    import duckdb
    import pyarrow.parquet as pq
    report = {}
    connection = duckdb.connect()
    for table in args.tables.split(","):
        files = []
        for path in data_files(os.path.join(args.lake, table)):
            meta = pq.ParquetFile(path).metadata
            columns = {}
            for group in range(meta.num_row_groups):
                for index in range(meta.num_columns):
                    chunk = meta.row_group(group).column(index)
                    stats = chunk.statistics
                    entry = columns.setdefault(chunk.path_in_schema, {
                        "physical": chunk.physical_type, "codec": chunk.compression,
                        "encodings": sorted(set(chunk.encodings)), "pyarrowMinMax": True,
                        "pyarrowNullCount": True, "values": 0})
                    entry["values"] += chunk.num_values - (stats.null_count if stats is not None else 0)
                    has_values = stats is not None and stats.num_values > 0
                    if stats is None or (has_values and not stats.has_min_max):
                        entry["pyarrowMinMax"] = False
                    if stats is None or not stats.has_null_count:
                        entry["pyarrowNullCount"] = False
            duck = connection.sql(
                "SELECT path_in_schema, stats_min_value, stats_max_value, stats_null_count, encodings, compression "
                "FROM parquet_metadata(?)", params=[path]).fetchall()
            for name, low, high, nulls, encodings, compression in duck:
                entry = columns[name]
                entry["duckdbNullCount"] = entry.get("duckdbNullCount", True) and nulls is not None
                entry["duckdbMinMax"] = entry.get("duckdbMinMax", True) and (
                    entry["values"] == 0 or (low is not None and high is not None))
                entry["duckdbEncodings"] = sorted(set(entry.get("duckdbEncodings", []))
                                                  | set(e.strip() for e in str(encodings).split(",")))
                entry["duckdbCompression"] = compression
            files.append({"file": os.path.relpath(path, args.lake), "rowGroups": meta.num_row_groups,
                          "rows": meta.num_rows, "createdBy": meta.created_by, "columns": columns})
        report[table] = files
    print(json.dumps(report))


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("rows")
    r.add_argument("--reader", required=True, choices=sorted(READERS))
    r.add_argument("--lake", required=True)
    r.add_argument("--tables", required=True)
    r.add_argument("--out", required=True)
    m = sub.add_parser("metadata")
    m.add_argument("--lake", required=True)
    m.add_argument("--tables", required=True)
    args = parser.parse_args()
    if args.command == "rows":
        rows(args)
    else:
        metadata(args)
    sys.stdout.flush()
    # Leave without the interpreters' teardown (delta-rs and the JVM bridge have crashed there).
    os._exit(0)


if __name__ == "__main__":
    main()
