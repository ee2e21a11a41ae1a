#!/usr/bin/env python3
"""Spark's fixed cost on its own: import pyspark, start the JVM and a SparkSession
configured like the exported run_pipeline.py, run one trivial job, stop.

    python spark_startup.py [--master local[2]]

Prints one JSON line {"engine": "spark-startup", "seconds": ...} (seconds from
before the session builder to after the job, like run_pipeline.py's own figure).
compare.py times it from outside, spawn to exit, like the pipeline runs.
"""
import argparse
import json
import os
import time

from pyspark.sql import SparkSession


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--master", default=os.environ.get("SPARK_MASTER", "local[*]"))
    args = parser.parse_args()
    started = time.time()
    # The same settings as the generated run_pipeline.py's session.
    spark = (SparkSession.builder.appName("stedi-spark-startup").master(args.master)
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", os.environ.get("STEDI_SHUFFLE_PARTITIONS", "8"))
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    rows = spark.range(1).count()
    print(json.dumps({"engine": "spark-startup", "rows": rows,
                      "seconds": round(time.time() - started, 3)}))
    spark.stop()


if __name__ == "__main__":
    main()
