"""A minimal local stand-in for AWS Glue's `awsglue` library, for running the scripts of
`stedi pipeline export --target glue` on plain PySpark in tests (GlueExportTests).

What it covers: the calls those scripts make, with their real effects on local Spark -
GlueContext over a SparkSession, create_dynamic_frame.from_catalog reading a table's folder as JSON
with the table's declared schema, write_dynamic_frame.from_options writing JSON or Parquet (format
'glueparquet', partitionKeys as Hive-style folders) to a path,
purge_s3_path, DynamicFrame.fromDF/toDF/resolveChoice(match_catalog), Job.init/commit and
getResolvedOptions. So the scripts' SQL, validation, pseudonyms and paths run for real.

What it does not: the Glue Data Catalog service (the catalog is a JSON file named by
$AWSGLUE_STANDIN_CATALOG: {"database": NAME, "tables": {NAME: {"location": PATH, "columns":
[[column, "bigint"|"double"|"string"], ...]}}}), job bookmarks' state (transformation_ctx is only
recorded), DynamicFrame choice types and error records (JSON is read by Spark's reader in PERMISSIVE
mode, so malformed lines arrive in a `_corrupt_record` column as with the Spark export), and S3.

Each read, write, purge and commit is appended as one JSON line to $AWSGLUE_STANDIN_LOG, if set.
"""
import json
import os


def _log(event, **fields):
    path = os.environ.get("AWSGLUE_STANDIN_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"event": event, **fields}) + "\n")
