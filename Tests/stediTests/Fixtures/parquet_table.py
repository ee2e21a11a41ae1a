"""Reads one Parquet table folder of a lake with pyarrow, for SparkExportTests and GlueExportTests.

python parquet_table.py FOLDER OUT.json

Writes to OUT.json one object: "rows", every row of every visible Parquet file as a JSON object
with its Hive partition values (from the folders it is in, e.g. date=2022-06-18) added as strings;
"files", each visible Parquet file's path under FOLDER and its columns as [name, physical type,
logical type, repetition]; "partitions", the visible subfolders (e.g. ["date=2022-06-18"]); and
"other", visible entries that are neither Parquet files nor partition folders. Names starting with
"_" or "." (_delta_log, _SUCCESS, .crc files) are hidden, as every Parquet reader treats them.
"""
import json
import os
import sys

import pyarrow.parquet as pq


def main():
    folder, out = sys.argv[1], sys.argv[2]
    result = {"rows": [], "files": [], "partitions": [], "other": []}

    def walk(path, relative, partition):
        for name in sorted(os.listdir(path)):
            if name.startswith("_") or name.startswith("."):
                continue
            full = os.path.join(path, name)
            inner = f"{relative}/{name}" if relative else name
            if os.path.isdir(full):
                key, equals, value = name.partition("=")
                if not equals:
                    result["other"].append(inner)
                    continue
                result["partitions"].append(inner)
                walk(full, inner, {**partition, key: value})
            elif name.endswith(".parquet"):
                parquet = pq.ParquetFile(full)
                schema = parquet.schema
                columns = []
                for index in range(len(schema)):
                    column = schema.column(index)
                    columns.append([column.name, column.physical_type, column.logical_type.type,
                                    "REQUIRED" if column.max_definition_level == 0 else "OPTIONAL"])
                result["files"].append({"path": inner, "columns": columns})
                # This file alone (pq.read_table would treat a path inside date= folders as a dataset).
                for row in parquet.read().to_pylist():
                    result["rows"].append({**row, **partition})
            else:
                result["other"].append(inner)

    walk(folder, "", {})
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(result, handle)


if __name__ == "__main__":
    main()
