"""The other side of ParquetTests' interoperability tests: real pyarrow and DuckDB.

  parquet_check.py read FILE...   prints, for each file, JSON with the rows and metadata as pyarrow
                                  and as DuckDB see them (one JSON document on stdout).
  parquet_check.py write DIR      writes Parquet files with pyarrow (several codecs and options) and
                                  DIR/manifest.json: each file's schema and rows, for the Swift
                                  decoder to match; and files the decoder must refuse.

JSON conventions for values (rows, min and max; shared with the Swift side): numbers are strings,
which read back exactly (JSON numbers may not: Foundation on Linux parses large integers and some
doubles inexactly): integers in decimal, timestamps as integer milliseconds since the epoch,
doubles as Python's repr ("1.5", "-0.0", "inf", "nan"); strings and booleans as themselves;
nulls are null. Metadata (counts, ids, names) is plain JSON.
"""

import datetime
import json
import os
import random
import sys

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def cell(value):
    """A value as JSON under the conventions above."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.timezone.utc)
        return str((value - EPOCH) // datetime.timedelta(milliseconds=1))
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def read(path):
    pf = pq.ParquetFile(path)
    table = pf.read()
    # Timestamps as integer milliseconds, so both sides compare integers.
    columns = []
    for field in table.schema:
        column = table.column(field.name)
        if pa.types.is_timestamp(field.type):
            column = column.cast(pa.int64())
        columns.append(column.to_pylist())
    arrow_rows = [[cell(c[i]) for c in columns] for i in range(table.num_rows)]
    md = pf.metadata
    groups = []
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        chunks = []
        for c in range(rg.num_columns):
            col = rg.column(c)
            stats = None
            if col.is_stats_set:
                s = col.statistics
                stats = {
                    "has_min_max": s.has_min_max,
                    "min": cell(s.min) if s.has_min_max else None,
                    "max": cell(s.max) if s.has_min_max else None,
                    "null_count": s.null_count if s.has_null_count else None,
                }
            chunks.append({
                "path": col.path_in_schema,
                "physical_type": col.physical_type,
                "compression": col.compression,
                "encodings": list(col.encodings),
                "has_dictionary_page": col.has_dictionary_page,
                "num_values": col.num_values,
                "statistics": stats,
            })
        groups.append({"num_rows": rg.num_rows, "columns": chunks})
    schema = []
    for i in range(len(pf.schema)):
        col = pf.schema.column(i)
        schema.append({
            "name": col.name,
            "physical_type": col.physical_type,
            "logical_type": str(col.logical_type),
            "converted_type": col.converted_type,
            "max_definition_level": col.max_definition_level,
        })

    con = duckdb.connect()
    described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()
    select = []
    for name, kind, *_ in described:
        quoted = '"' + name.replace('"', '""') + '"'
        select.append(f"epoch_ms({quoted})" if kind.startswith("TIMESTAMP") else quoted)
    query = f"SELECT {', '.join(select)} FROM read_parquet(?)"
    duck_rows = [[cell(v) for v in row] for row in con.execute(query, [path]).fetchall()]
    meta_columns = ["row_group_id", "column_id", "path_in_schema", "type", "stats_min_value",
                    "stats_max_value", "stats_null_count", "compression", "encodings"]
    duck_meta = [
        dict(zip(meta_columns, row))
        for row in con.execute(
            f"SELECT {', '.join(meta_columns)} FROM parquet_metadata(?) ORDER BY row_group_id, column_id", [path]
        ).fetchall()
    ]
    return {
        "file": path,
        "created_by": md.created_by,
        "num_rows": md.num_rows,
        "schema": schema,
        "pyarrow": {"rows": arrow_rows, "row_groups": groups},
        "duckdb": {"types": [kind for _, kind, *_ in described], "rows": duck_rows, "metadata": duck_meta},
    }


def sample_table(rows, seed):
    rnd = random.Random(seed)
    words = ["", "a", "walk", "step", "ünïcödé", "日本語", "emoji 🚶", "x" * 300]
    ids, stamps, values, labels, flags, counts = [], [], [], [], [], []
    for i in range(rows):
        ids.append(rnd.randrange(-2**62, 2**62) if i % 10 == 0 else i)
        stamps.append(None if i % 7 == 3 else 1_700_000_000_000 + i * 37)
        values.append(None if i % 11 == 5 else rnd.choice([-0.0, 0.0, 1.5, -2.25, rnd.uniform(-1e9, 1e9)]))
        labels.append(None if i % 13 == 4 else (rnd.choice(words) if i % 3 else f"sensor-{rnd.randrange(10**9)}"))
        flags.append(None if i % 17 == 8 else rnd.random() < 0.5)
        counts.append(rnd.randrange(0, 100))
    return pa.table({
        "id": pa.array(ids, pa.int64()),
        "ts": pa.array(stamps, pa.timestamp("ms", tz="UTC")),
        "value": pa.array(values, pa.float64()),
        "label": pa.array(labels, pa.string()),
        "flag": pa.array(flags, pa.bool_()),
        "count": pa.array(counts, pa.int64()),
    }, schema=pa.schema([
        pa.field("id", pa.int64(), nullable=False),
        pa.field("ts", pa.timestamp("ms", tz="UTC")),
        pa.field("value", pa.float64()),
        pa.field("label", pa.string()),
        pa.field("flag", pa.bool_()),
        pa.field("count", pa.int64(), nullable=False),
    ]))


def write(directory):
    os.makedirs(directory, exist_ok=True)
    table = sample_table(5000, 18)
    readable = {
        "snappy_default.parquet": {},
        "zstd.parquet": {"compression": "zstd"},
        "none.parquet": {"compression": "none"},
        "v2_pages_zstd.parquet": {"compression": "zstd", "data_page_version": "2.0"},
        "v2_pages_snappy.parquet": {"data_page_version": "2.0"},
        "no_dictionary.parquet": {"compression": "none", "use_dictionary": False},
        "dictionary_fallback.parquet": {"compression": "zstd", "dictionary_pagesize_limit": 512},
        "small_pages_index.parquet": {"data_page_size": 256, "row_group_size": 700, "write_page_index": True},
        "no_statistics.parquet": {"compression": "none", "write_statistics": False},
        "format_1_0.parquet": {"version": "1.0", "compression": "zstd"},
    }
    manifest = {"sample": [], "readable": [], "refused": []}
    columns = [table.column(i) for i in range(table.num_columns)]
    rows = [[cell(c[i].as_py()) for c in columns] for i in range(table.num_rows)]
    manifest["sample"] = rows
    for name, options in readable.items():
        pq.write_table(table, os.path.join(directory, name), row_group_size=options.pop("row_group_size", 2000),
                       **options)
        manifest["readable"].append({"file": name, "rows": "sample"})
    empty = table.slice(0, 0)
    pq.write_table(empty, os.path.join(directory, "empty.parquet"))
    manifest["readable"].append({"file": "empty.parquet", "rows": "empty"})

    small = table.slice(0, 10)
    refused = {
        "nested_list.parquet": (pa.table({"xs": pa.array([[1, 2], [3]], pa.list_(pa.int64()))}), {}),
        "int32.parquet": (pa.table({"n": pa.array([1, 2], pa.int32())}), {}),
        "gzip.parquet": (small, {"compression": "gzip"}),
        "lz4.parquet": (small, {"compression": "lz4"}),
        "timestamp_micros.parquet": (pa.table({"t": pa.array([1, 2], pa.timestamp("us", tz="UTC"))}), {}),
        "binary.parquet": (pa.table({"b": pa.array([b"\x00", b"\xff"], pa.binary())}), {}),
        "delta.parquet": (small.select(["count"]), {"use_dictionary": False,
                                                    "column_encoding": {"count": "DELTA_BINARY_PACKED"}}),
        "struct.parquet": (pa.table({"s": pa.array([{"a": 1}], pa.struct([("a", pa.int64())]))}), {}),
    }
    expected = {
        "nested_list.parquet": "nested", "int32.parquet": "INT32", "gzip.parquet": "GZIP", "lz4.parquet": "LZ4",
        "timestamp_micros.parquet": "timestamps", "binary.parquet": "not a STRING",
        "delta.parquet": "DELTA_BINARY_PACKED", "struct.parquet": "nested",
    }
    for name, (t, options) in refused.items():
        pq.write_table(t, os.path.join(directory, name), **options)
        manifest["refused"].append({"file": name, "message": expected[name]})
    with open(os.path.join(directory, "manifest.json"), "w") as f:
        json.dump(manifest, f)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "read":
        print(json.dumps([read(p) for p in sys.argv[2:]]))
    elif len(sys.argv) == 3 and sys.argv[1] == "write":
        write(sys.argv[2])
    else:
        sys.exit(__doc__)
    # Out without the interpreter's teardown, where Arrow's and DuckDB's thread pools can abort
    # the process after the answer was printed (seen with delta-rs and Arrow under load).
    sys.stdout.flush()
    os._exit(0)
