"""GlueContext over a local SparkSession, with a catalog from $AWSGLUE_STANDIN_CATALOG."""
import json
import os
import shutil

from pyspark.sql import SparkSession, types as T

from awsglue import _log
from awsglue.dynamicframe import DynamicFrame

_TYPES = {"bigint": T.LongType(), "double": T.DoubleType(), "string": T.StringType()}
CORRUPT = "_corrupt_record"


def _local(path):
    if "://" in path and not path.startswith("file://"):
        raise NotImplementedError(f"the stand-in reads and writes local paths only, not {path}")
    return path[len("file://"):] if path.startswith("file://") else path


class _Reader:
    def __init__(self, glue_context):
        self._glue_context = glue_context

    def from_catalog(self, database, table_name, transformation_ctx="", **kwargs):
        context = self._glue_context
        table = context._catalog_table(database, table_name)
        schema = T.StructType(
            [T.StructField(name, _TYPES[kind], True) for name, kind in table["columns"]]
            + [T.StructField(CORRUPT, T.StringType(), True)])
        spark = context.spark_session
        path = _local(table["location"])
        if os.path.exists(path):
            frame = (spark.read.schema(schema)
                     .option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", CORRUPT)
                     .option("recursiveFileLookup", "true").option("pathGlobFilter", "*.json")
                     .json(path))
        else:  # an empty prefix is an empty table
            frame = spark.createDataFrame([], schema)
        _log("read", job=context._job_name, table=table_name, transformation_ctx=transformation_ctx)
        return DynamicFrame(frame, context, transformation_ctx or table_name)


class _Writer:
    def __init__(self, glue_context):
        self._glue_context = glue_context

    def from_options(self, frame, connection_type, connection_options=None, format=None, format_options=None,
                     transformation_ctx="", **kwargs):
        if connection_type != "s3" or format not in ("json", "glueparquet", "parquet"):
            raise NotImplementedError("the stand-in writes only connection_type='s3', format='json' or '(glue)parquet'")
        path = connection_options["path"]
        keys = connection_options.get("partitionKeys", [])
        if keys and format == "json":
            raise NotImplementedError("the stand-in writes partitionKeys only with Parquet")
        # Glue's S3 sink adds files beside those already there (in Hive-style key=value folders for partitionKeys).
        writer = frame.toDF().write.mode("append")
        if keys:
            writer = writer.partitionBy(*keys)
        if format == "json":
            writer.json(_local(path))
        else:
            writer.parquet(_local(path))
        _log("write", job=self._glue_context._job_name, path=path, format=format, partition_keys=keys,
             transformation_ctx=transformation_ctx)
        return frame


class GlueContext:
    def __init__(self, spark_context, **options):
        self._spark_context = spark_context
        self.spark_session = SparkSession(spark_context)
        spark_context.setLogLevel("ERROR")
        self.create_dynamic_frame = _Reader(self)
        self.write_dynamic_frame = _Writer(self)
        self._job_name = None
        with open(os.environ["AWSGLUE_STANDIN_CATALOG"], encoding="utf-8") as handle:
            self._catalog = json.load(handle)

    def _catalog_table(self, database, table_name):
        if database != self._catalog["database"]:
            raise LookupError(f"EntityNotFoundException: database {database} not found")
        if table_name not in self._catalog["tables"]:
            raise LookupError(f"EntityNotFoundException: table {table_name} not found in {database}")
        return self._catalog["tables"][table_name]

    def purge_s3_path(self, s3_path, options=None, transformation_ctx=""):
        path = _local(s3_path)
        if os.path.isdir(path):
            shutil.rmtree(path)
        _log("purge", job=self._job_name, path=s3_path, retention_period=(options or {}).get("retentionPeriod"))
