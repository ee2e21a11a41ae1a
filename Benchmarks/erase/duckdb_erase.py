#!/usr/bin/env python3
"""The peer: erase one customer from a STEDI folder lake by hand with DuckDB, the way a data
engineer would, and print a JSON report.

For every NDJSON file of every zone (landing, trusted, curated, quarantine of customer,
accelerometer and step_trainer):

    COPY (SELECT * FROM read_json(<file>, format='newline_delimited', columns=..., ...)
          WHERE <not the customer>) TO <hidden temp beside it> (FORMAT JSON)

then fsync the temp file, rename it over the file, and fsync the folder (the same durability
`stedi lake erase` gives each file). A landing file left with no rows is deleted, as stedi does.

"Not the customer" per table:

  * customer landing/trusted/curated: lower(trim(email)) differs from the address;
  * accelerometer landing/trusted: lower(trim(user)) differs;
  * step_trainer landing/trusted: serialNumber differs from --serial (a serial only this customer
    holds; finding it is the caller's job, e.g. from customer_trusted);
  * step_trainer/curated (machine_learning_curated): subjectId differs from HMAC-SHA256(key, email)
    (hex), the key being the 64 hex digits of _stedi/pseudonym.key, computed here in Python
    (DuckDB has no HMAC);
  * quarantine: the raw line contains neither the address nor the serial (case-insensitive).

Landing files hold malformed lines (the lake's quarantine is built from them), which read_json
only accepts with ignore_errors=true: each becomes a row of NULLs (or of whatever fields parsed)
and is written back as such. Row counts stay the same, the original text of those lines does
not. That is a property of this way of doing it, kept on purpose: it is what the plain approach
does.

With --skip-untouched a file is first probed (SELECT count(*) ... WHERE <the customer>) and
only rewritten when the customer is in it; the default rewrites every file, the plain approach.
"""

import argparse
import hashlib
import hmac
import json
import os
import sys
import time

import duckdb

CUSTOMER = {
    "customerName": "VARCHAR", "email": "VARCHAR", "phone": "VARCHAR", "birthDay": "VARCHAR",
    "serialNumber": "VARCHAR", "registrationDate": "BIGINT", "lastUpdateDate": "BIGINT",
    "shareWithResearchAsOfDate": "BIGINT", "shareWithPublicAsOfDate": "BIGINT",
    "shareWithFriendsAsOfDate": "BIGINT",
}
ACCELEROMETER = {"user": "VARCHAR", "timestamp": "BIGINT", "x": "DOUBLE", "y": "DOUBLE", "z": "DOUBLE"}
STEP_TRAINER = {"sensorReadingTime": "BIGINT", "serialNumber": "VARCHAR", "distanceFromObject": "BIGINT"}
MACHINE_LEARNING = {"sensorReadingTime": "BIGINT", "serialNumber": "VARCHAR", "distanceFromObject": "BIGINT",
                    "x": "DOUBLE", "y": "DOUBLE", "z": "DOUBLE", "subjectId": "VARCHAR"}
QUARANTINE = {"sourceFile": "VARCHAR", "line": "BIGINT", "reason": "VARCHAR", "detail": "VARCHAR",
              "raw": "VARCHAR", "rawBase64": "VARCHAR"}

# table -> (folder, columns, predicate that is TRUE for the customer's rows; $e email, $s serial, $h subjectId)
TABLES = {
    "customer_landing": ("customer/landing", CUSTOMER, "lower(trim(email)) = $e"),
    "accelerometer_landing": ("accelerometer/landing", ACCELEROMETER, 'lower(trim("user")) = $e'),
    "step_trainer_landing": ("step_trainer/landing", STEP_TRAINER, '"serialNumber" = $s'),
    "customer_trusted": ("customer/trusted", CUSTOMER, "lower(trim(email)) = $e"),
    "customers_curated": ("customer/curated", CUSTOMER, "lower(trim(email)) = $e"),
    "accelerometer_trusted": ("accelerometer/trusted", ACCELEROMETER, 'lower(trim("user")) = $e'),
    "step_trainer_trusted": ("step_trainer/trusted", STEP_TRAINER, '"serialNumber" = $s'),
    "machine_learning_curated": ("step_trainer/curated", MACHINE_LEARNING, '"subjectId" = $h'),
    "customer_quarantine": ("customer/quarantine", QUARANTINE, None),
    "accelerometer_quarantine": ("accelerometer/quarantine", QUARANTINE, None),
    "step_trainer_quarantine": ("step_trainer/quarantine", QUARANTINE, None),
}
QUARANTINE_MATCH = "(contains(lower(coalesce(raw, '')), $e) OR contains(lower(coalesce(raw, '')), lower($s)))"


def sql_string(text):
    return "'" + text.replace("'", "''") + "'"


def columns_sql(columns):
    return "{" + ", ".join(f"{sql_string(k)}: {sql_string(v)}" for k, v in columns.items()) + "}"


def files_under(folder):
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        found += [os.path.join(dirpath, n) for n in sorted(filenames) if not n.startswith((".", "_"))]
    return found


def fsync_path(path, directory=False):
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lake", required=True)
    ap.add_argument("--email", required=True)
    ap.add_argument("--serial", required=True, help="the serial number only this customer holds")
    ap.add_argument("--key-file", help="pseudonym key (default <lake>/_stedi/pseudonym.key)")
    ap.add_argument("--threads", type=int, help="DuckDB threads (default: all cores)")
    ap.add_argument("--skip-untouched", action="store_true",
                    help="probe each file first and rewrite only those holding the customer")
    ap.add_argument("--no-fsync", action="store_true", help="rename without fsync (not what stedi does)")
    args = ap.parse_args(argv)

    started = time.perf_counter()
    lake = os.path.abspath(args.lake)
    key_file = args.key_file or os.path.join(lake, "_stedi", "pseudonym.key")
    with open(key_file) as f:
        key = bytes.fromhex(f.read().strip())
    email = args.email.strip().lower()
    subject_id = hmac.new(key, args.email.encode(), hashlib.sha256).hexdigest()
    params = {"e": email, "s": args.serial, "h": subject_id}

    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")

    report = {"engine": "duckdb", "duckdb": duckdb.__version__, "rowsWritten": {}, "filesScanned": 0,
              "filesRewritten": 0, "filesDeleted": 0, "filesSkipped": 0, "phases": []}
    for table, (folder, columns, match) in TABLES.items():
        phase_started = time.perf_counter()
        landing = table.endswith("_landing")
        match = match or QUARANTINE_MATCH
        options = "format = 'newline_delimited', columns = " + columns_sql(columns)
        if landing:
            options += ", ignore_errors = true"  # malformed lines: rows of NULLs instead of an error
        written = 0
        for path in files_under(os.path.join(lake, folder)):
            report["filesScanned"] += 1
            source = f"read_json({sql_string(path)}, {options})"
            used = {k: v for k, v in params.items() if f"${k}" in match}
            if args.skip_untouched:
                hits = con.execute(f"SELECT count(*) FROM {source} WHERE {match}", used).fetchone()[0]
                if hits == 0:
                    report["filesSkipped"] += 1
                    continue
            folder_path, name = os.path.split(path)
            temporary = os.path.join(folder_path, f".{name}.erase-tmp")
            rows = con.execute(
                f"COPY (SELECT * FROM {source} WHERE ({match}) IS NOT TRUE) "
                f"TO {sql_string(temporary)} (FORMAT JSON)", used).fetchone()[0]
            if landing and rows == 0:
                os.remove(temporary)
                os.remove(path)
                report["filesDeleted"] += 1
            else:
                if not args.no_fsync:
                    fsync_path(temporary)
                os.replace(temporary, path)
                report["filesRewritten"] += 1
                written += rows
            if not args.no_fsync:
                fsync_path(folder_path, directory=True)
        report["rowsWritten"][table] = written
        report["phases"].append({"table": table, "seconds": round(time.perf_counter() - phase_started, 3)})
    report["seconds"] = round(time.perf_counter() - started, 3)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
