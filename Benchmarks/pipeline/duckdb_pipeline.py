#!/usr/bin/env python3
"""The STEDI "strict" pipeline written as DuckDB SQL: the reference engine the
benchmark compares `stedi pipeline run --profile strict` against.

Reads <lake>/<source>/landing/**/*.json (NDJSON) and writes each output table
as NDJSON under --out, mirroring the lake layout:

    customer/trusted      customer_trusted
    customer/curated      customers_curated
    accelerometer/trusted accelerometer_trusted
    step_trainer/trusted  step_trainer_trusted
    step_trainer/curated  machine_learning_curated

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


def run(lake, out, key, threads=None, memory_limit=None, verbose=False):
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
        path = os.path.join(out, folder, f"{name}.json")
        con.execute(f"COPY {name} TO {sql_str(path)} (FORMAT JSON)")
        if verbose:
            print(f"  write {name}: {time.perf_counter() - ts:.2f}s", file=sys.stderr)

    counts = {name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in ORDER}
    con.close()
    return {
        "engine": "duckdb",
        "duckdb_version": duckdb.__version__,
        "profile": "strict",
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
    ap.add_argument("--threads", type=int, help="DuckDB threads (default: DuckDB's, one per core)")
    ap.add_argument("--memory-limit", help="DuckDB memory_limit, e.g. 4GB (default: DuckDB's)")
    ap.add_argument("-v", "--verbose", action="store_true", help="per-step timings on stderr")
    args = ap.parse_args(argv)
    for source in ("customer", "accelerometer", "step_trainer"):
        if not os.path.isdir(os.path.join(args.lake, source, "landing")):
            ap.error(f"{args.lake}/{source}/landing is not a folder")
    result = run(os.path.abspath(args.lake), os.path.abspath(args.out), args.key,
                 args.threads, args.memory_limit, args.verbose)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
