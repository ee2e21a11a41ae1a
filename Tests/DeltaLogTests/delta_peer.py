"""The independent side of DeltaLogTests: pyarrow writes Parquet files, delta-rs (the `deltalake`
package) reads and writes Delta tables. Each command prints one JSON document."""
import json
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import DeltaTable, write_deltalake


def write_parquet(table_dir, relative, rows_json):
    """A data file of rows {id, name} (partition columns live in the path, not the file)."""
    rows = json.loads(rows_json)
    schema = pa.schema([("id", pa.int64()), ("name", pa.string())])
    path = os.path.join(table_dir, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    print(json.dumps({"size": os.path.getsize(path)}))


def read(table_dir, version=None):
    table = DeltaTable(table_dir)
    if version is not None:
        table.load_as_version(int(version))
    rows = table.to_pyarrow_table().to_pylist()
    rows.sort(key=lambda r: r["id"])
    files = sorted(os.path.relpath(u.replace("file://", ""), table_dir) for u in table.file_uris())
    print(json.dumps({"version": table.version(), "rows": rows, "files": files}))


def write_delta(table_dir):
    """A table delta-rs writes itself: created partitioned, appended to, then a delete."""
    first = pa.table({"id": [1, 2, 3], "name": ["a", "b", "c"], "date": ["2026-01-01", "2026-01-01", "2026-01-02"]})
    write_deltalake(table_dir, first, partition_by=["date"])
    second = pa.table({"id": [4], "name": ["d"], "date": ["2026-01-03"]})
    write_deltalake(table_dir, second, mode="append")
    DeltaTable(table_dir).delete("id = 2")
    table = DeltaTable(table_dir)
    files = sorted(os.path.relpath(u.replace("file://", ""), table_dir) for u in table.file_uris())
    print(json.dumps({"version": table.version(), "files": files,
                      "columns": [f.name for f in table.schema().fields]}))


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"write-parquet": write_parquet, "read": read, "write-delta": write_delta}[command](*args)
    # Out without the interpreter's teardown: with delta-rs's and Arrow's thread pools alive it
    # once ended in "terminate called without an active exception" (a CI run with both cores
    # busy), after the answer was printed.
    sys.stdout.flush()
    os._exit(0)
