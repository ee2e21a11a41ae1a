"""Row counts and identifier search over a folder lake, for the erasure benchmark.

`scan(lake, email, serial, subject_id)` reads every file of the lake once and returns:

  * tables: per table (the names `stedi lake erase --json` uses), the non-blank lines of every
    visible file under its folder (landing lines blanked by an erasure do not count; a line
    that is not valid JSON does);
  * subject_rows: per table, the lines that name the customer: their email (any case), serial
    number or subjectId;
  * leaks: per file anywhere in the lake (metadata, step_events, hidden files included), which
    of the customer's identifiers it still contains;
  * files, bytes, table_files.

Standard library only.
"""

import os
import re

# Table -> folder inside the lake, in the order the report lists them.
TABLE_DIRS = {
    "customer_landing": "customer/landing",
    "accelerometer_landing": "accelerometer/landing",
    "step_trainer_landing": "step_trainer/landing",
    "customer_trusted": "customer/trusted",
    "customers_curated": "customer/curated",
    "accelerometer_trusted": "accelerometer/trusted",
    "step_trainer_trusted": "step_trainer/trusted",
    "machine_learning_curated": "step_trainer/curated",
    "customer_quarantine": "customer/quarantine",
    "accelerometer_quarantine": "accelerometer/quarantine",
    "step_trainer_quarantine": "step_trainer/quarantine",
}
TABLES = list(TABLE_DIRS)
_DIR_TABLE = {d: t for t, d in TABLE_DIRS.items()}
_WHITESPACE_LINE = re.compile(rb"\n[ \t\r]+(?:\n|\Z)")


def table_of(relpath):
    """The table a file (path relative to the lake) belongs to, or None."""
    parts = relpath.split(os.sep)
    if len(parts) < 3 or any(p.startswith((".", "_")) for p in parts):
        return None
    return _DIR_TABLE.get(parts[0] + "/" + parts[1])


def nonblank_lines(data):
    if not data:
        return 0
    n = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if (b"\n\n" not in data and data[:1] not in (b"\n", b" ", b"\t", b"\r")
            and _WHITESPACE_LINE.search(data) is None):
        return n
    return sum(1 for line in data.split(b"\n") if line.strip())


def scan(lake, email, serial, subject_id):
    needles = {"email": email.lower().encode(), "serial": serial.lower().encode(),
               "subjectId": subject_id.lower().encode()}
    tables = {t: 0 for t in TABLES}
    subject_rows = {t: 0 for t in TABLES}
    table_files = {t: 0 for t in TABLES}
    leaks = {}
    files = 0
    nbytes = 0
    for dirpath, dirnames, filenames in os.walk(lake):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, lake)
            with open(path, "rb") as f:
                data = f.read()
            files += 1
            nbytes += len(data)
            low = data.lower()
            found = [k for k, n in needles.items() if n in low]
            if found:
                leaks[rel] = found
            table = table_of(rel)
            if table is None:
                continue
            table_files[table] += 1
            tables[table] += nonblank_lines(data)
            if found:
                subject_rows[table] += sum(
                    1 for line in low.split(b"\n") if any(needles[k] in line for k in found))
            del data, low
    return {"tables": tables, "subject_rows": subject_rows, "table_files": table_files,
            "leaks": leaks, "files": files, "bytes": nbytes}
