#!/usr/bin/env python3
"""The STEDI "strict" pipeline written as DuckDB SQL: the reference engine the
benchmark compares `stedi pipeline run --profile strict` against.

Reads <lake>/<source>/landing/**/*.json (NDJSON) and writes each output table
under --out, mirroring the lake layout, as Parquet (--format parquet, the
default) or NDJSON (--format ndjson):

    customer/trusted      customer_trusted
    customer/curated      customers_curated
    accelerometer/trusted accelerometer_trusted
    step_trainer/trusted  step_trainer_trusted
    step_trainer/curated  machine_learning_curated

Parquet, as stedi writes it: `COPY ... (FORMAT parquet, COMPRESSION zstd)`, with
stedi's column types (distanceFromObject DOUBLE); the customer tables one file
each, the reading tables (accelerometer_trusted, step_trainer_trusted,
machine_learning_curated) with `PARTITION_BY (date)`, date being the UTC date
(YYYY-MM-DD) of timestamp / sensorReadingTime, written as the folder
date=YYYY-MM-DD and not as a column inside the files (DuckDB's default).

Prints one JSON object on stdout shaped like stedi's --json output:
{"engine": "duckdb", "profile": "strict", "tables": {...}, "quarantined": {...}, "seconds": s}
(these rules quarantine nothing, so the quarantine counts are always 0).
"""

import argparse
import json
import os
import shutil
import sys
import time

import duckdb

CUSTOMER_COLUMNS = {
    "customerName": "VARCHAR",
    "email": "VARCHAR",
    "phone": "VARCHAR",
    "birthDay": "VARCHAR",
    "serialNumber": "VARCHAR",
    "registrationDate": "BIGINT",
    "lastUpdateDate": "BIGINT",
    "shareWithResearchAsOfDate": "BIGINT",
    "shareWithPublicAsOfDate": "BIGINT",
    "shareWithFriendsAsOfDate": "BIGINT",
}
ACCELEROMETER_COLUMNS = {
    "user": "VARCHAR",
    "timestamp": "BIGINT",
    "x": "DOUBLE",
    "y": "DOUBLE",
    "z": "DOUBLE",
}
STEP_TRAINER_COLUMNS = {
    "sensorReadingTime": "BIGINT",
    "serialNumber": "VARCHAR",
    "distanceFromObject": "BIGINT",
}

# table name -> folder under --out
OUTPUTS = {
    "customer_trusted": "customer/trusted",
    "accelerometer_trusted": "accelerometer/trusted",
    "customers_curated": "customer/curated",
    "step_trainer_trusted": "step_trainer/trusted",
    "machine_learning_curated": "step_trainer/curated",
}

# Parquet: each output table's columns in stedi's order and with stedi's types (TableSchema),
# so both engines' files hold the same schema; DuckDB reads distanceFromObject as BIGINT.
PARQUET_COLUMNS = {
    "customer_trusted": list(CUSTOMER_COLUMNS),
    "customers_curated": list(CUSTOMER_COLUMNS),
    "accelerometer_trusted": list(ACCELEROMETER_COLUMNS),
    "step_trainer_trusted": ["sensorReadingTime", "serialNumber", "distanceFromObject"],
    "machine_learning_curated": ["sensorReadingTime", "serialNumber", "distanceFromObject",
                                 "x", "y", "z", "subjectId"],
}
PARQUET_CASTS = {"distanceFromObject": "DOUBLE"}
# Parquet: the reading tables are partitioned by the UTC date of this column (epoch ms).
PARTITION_TIME = {
    "accelerometer_trusted": "timestamp",
    "step_trainer_trusted": "sensorReadingTime",
    "machine_learning_curated": "sensorReadingTime",
}
FORMATS = ("parquet", "ndjson")

ORDER = [
    "customer_landing", "accelerometer_landing", "step_trainer_landing",
    "customer_trusted", "accelerometer_trusted", "customers_curated",
    "step_trainer_trusted", "machine_learning_curated",
]


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def struct_literal(columns):
    return "{" + ", ".join(f"{sql_str(k)}: {sql_str(v)}" for k, v in columns.items()) + "}"


def read_json(lake, source, columns):
    pattern = os.path.join(lake, source, "landing", "**", "*.json")
    return (f"read_json({sql_str(pattern)}, format = 'newline_delimited', "
            f"columns = {struct_literal(columns)})")


def statements(lake, key):
    k = sql_str(key)
    return [
        # Landing zones, read once with explicit schemas. An absent key reads as NULL.
        ("customer_landing",
         f"CREATE TABLE customer_landing AS SELECT * FROM {read_json(lake, 'customer', CUSTOMER_COLUMNS)}"),
        ("accelerometer_landing",
         f"CREATE TABLE accelerometer_landing AS SELECT * FROM {read_json(lake, 'accelerometer', ACCELEROMETER_COLUMNS)}"),
        ("step_trainer_landing",
         f"CREATE TABLE step_trainer_landing AS SELECT * FROM {read_json(lake, 'step_trainer', STEP_TRAINER_COLUMNS)}"),

        # 1. Latest record per email (greatest lastUpdateDate), kept if it consents to research.
        ("customer_trusted", """
            CREATE TABLE customer_trusted AS
            SELECT * EXCLUDE (rn) FROM (
                SELECT *, row_number() OVER (PARTITION BY email ORDER BY lastUpdateDate DESC) AS rn
                FROM customer_landing
            )
            WHERE rn = 1 AND shareWithResearchAsOfDate IS NOT NULL
        """),

        # 2. Distinct readings of trusted customers taken at or after their consent.
        ("accelerometer_trusted", """
            CREATE TABLE accelerometer_trusted AS
            SELECT DISTINCT a.user, a.timestamp, a.x, a.y, a.z
            FROM accelerometer_landing a
            JOIN customer_trusted c ON a.user = c.email
            WHERE a.timestamp >= c.shareWithResearchAsOfDate
        """),

        # 3. Trusted customers with at least one trusted reading.
        ("customers_curated", """
            CREATE TABLE customers_curated AS
            SELECT c.* FROM customer_trusted c
            WHERE EXISTS (SELECT 1 FROM accelerometer_trusted a WHERE a.user = c.email)
        """),

        # 4. Distinct device readings of a curated customer's serial, at or after consent.
        ("step_trainer_trusted", """
            CREATE TABLE step_trainer_trusted AS
            SELECT DISTINCT s.sensorReadingTime, s.serialNumber, s.distanceFromObject
            FROM step_trainer_landing s
            WHERE EXISTS (
                SELECT 1 FROM customers_curated c
                WHERE c.serialNumber = s.serialNumber
                  AND c.shareWithResearchAsOfDate <= s.sensorReadingTime
            )
        """),

        # 5. Device readings joined to phone readings of the same customer at the same time.
        # stedi derives subjectId as hex HMAC-SHA256(key, email). DuckDB has no HMAC
        # built in, so sha256(key || email) is the closest built-in stand-in: same
        # cost class and the same 64-hex-char output, but not the same values.
        ("machine_learning_curated", f"""
            CREATE TABLE machine_learning_curated AS
            SELECT DISTINCT s.sensorReadingTime, s.serialNumber, s.distanceFromObject,
                   a.x, a.y, a.z, sha256({k} || c.email) AS subjectId
            FROM step_trainer_trusted s
            JOIN customers_curated c ON c.serialNumber = s.serialNumber
            JOIN accelerometer_trusted a ON a.user = c.email AND a.timestamp = s.sensorReadingTime
        """),
    ]


def quote_ident(name):
    return '"' + name.replace('"', '""') + '"'


def copy_statement(name, folder, fmt):
    """The COPY that writes table `name` into `folder` (which exists and is empty) as `fmt`."""
    if fmt == "ndjson":
        path = os.path.join(folder, f"{name}.json")
        return f"COPY {name} TO {sql_str(path)} (FORMAT JSON)"
    columns = [f"CAST({quote_ident(c)} AS {PARQUET_CASTS[c]}) AS {quote_ident(c)}" if c in PARQUET_CASTS
               else quote_ident(c) for c in PARQUET_COLUMNS[name]]
    time_column = PARTITION_TIME.get(name)
    if time_column is None:
        path = os.path.join(folder, f"{name}.parquet")
        return (f"COPY (SELECT {', '.join(columns)} FROM {name}) TO {sql_str(path)} "
                f"(FORMAT parquet, COMPRESSION zstd)")
    # epoch_ms(BIGINT) is a TIMESTAMP without a time zone: its date is the UTC date.
    columns.append(f"strftime(epoch_ms({quote_ident(time_column)}), '%Y-%m-%d') AS \"date\"")
    return (f"COPY (SELECT {', '.join(columns)} FROM {name}) TO {sql_str(folder)} "
            f"(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (\"date\"))")


def run(lake, out, key, threads=None, memory_limit=None, verbose=False, fmt="parquet"):
    t0 = time.perf_counter()
    con = duckdb.connect(":memory:")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = {sql_str(memory_limit)}")

    for folder in OUTPUTS.values():
        path = os.path.join(out, folder)
        if os.path.isdir(path):
            shutil.rmtree(path)
        os.makedirs(path)

    for name, sql in statements(lake, key):
        ts = time.perf_counter()
        con.execute(sql)
        if verbose:
            print(f"  {name}: {time.perf_counter() - ts:.2f}s", file=sys.stderr)

    for name, folder in OUTPUTS.items():
        ts = time.perf_counter()
        con.execute(copy_statement(name, os.path.join(out, folder), fmt))
        if verbose:
            print(f"  write {name}: {time.perf_counter() - ts:.2f}s", file=sys.stderr)

    counts = {name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in ORDER}
    con.close()
    return {
        "engine": "duckdb",
        "duckdb_version": duckdb.__version__,
        "profile": "strict",
        "format": fmt,
        "tables": counts,
        "quarantined": {"customer": 0, "accelerometer": 0, "step_trainer": 0},
        "seconds": round(time.perf_counter() - t0, 3),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description="STEDI strict pipeline in DuckDB")
    ap.add_argument("--lake", required=True, help="lake folder with <source>/landing/*.json")
    ap.add_argument("--out", required=True,
                    help="folder for the output tables (customer/trusted, ...); their folders are replaced")
    ap.add_argument("--key", default=os.environ.get("STEDI_SUBJECT_KEY", "stedi-benchmark-key"),
                    help="key mixed into subjectId (default: $STEDI_SUBJECT_KEY or a fixed string)")
    ap.add_argument("--format", choices=FORMATS, default="parquet",
                    help="output tables as Parquet (ZSTD, reading tables partitioned by date) or NDJSON "
                         "(default: %(default)s)")
    ap.add_argument("--threads", type=int, help="DuckDB threads (default: DuckDB's, one per core)")
    ap.add_argument("--memory-limit", help="DuckDB memory_limit, e.g. 4GB (default: DuckDB's)")
    ap.add_argument("-v", "--verbose", action="store_true", help="per-step timings on stderr")
    args = ap.parse_args(argv)
    for source in ("customer", "accelerometer", "step_trainer"):
        if not os.path.isdir(os.path.join(args.lake, source, "landing")):
            ap.error(f"{args.lake}/{source}/landing is not a folder")
    result = run(os.path.abspath(args.lake), os.path.abspath(args.out), args.key,
                 args.threads, args.memory_limit, args.verbose, args.format)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
