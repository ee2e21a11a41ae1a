import Foundation
import Lakehouse

/// The AWS Glue job scripts of `stedi pipeline export --target glue`: one script per zone job, named
/// as in the seed project, each running its `ZoneJob.sql` (the same text the Spark export runs) over
/// inputs read from the Glue Data Catalog (the tables of `--target athena`).
///
/// Each script is self-contained (no `--extra-py-files`): the Python helpers below are generated
/// once here and embedded verbatim in every script that needs them.
enum GlueJobs {
  /// The seed project's script name of a zone job.
  static func fileName(_ table: ZoneTable) -> String {
    switch table {
    case .customerTrusted: "customer_trusted.py"
    case .accelerometerTrusted: "accelerometer_trusted.py"
    case .customersCurated: "customer_curated.py"
    case .stepTrainerTrusted: "step_trainer_trusted.py"
    case .machineLearningCurated: "machine_learning_curated.py"
    }
  }

  static func files(rules: ZoneRules, format: TableFormat) -> [(path: String, contents: String)] {
    ZoneJob.jobs(for: rules).map { (fileName($0.table), script(job: $0, rules: rules, format: format)) }
  }

  /// Whether the landing jobs run incrementally under job bookmarks. Not when a newer customer
  /// record can withdraw consent (strict): rows already appended could not be taken back, so those
  /// jobs rebuild their tables on every run.
  static func incremental(_ rules: ZoneRules) -> Bool { !rules.currentRecordPerEmail }

  /// The pseudonym view the machine-learning job computes rather than reads.
  static let pseudonymView = "subject_pseudonyms"

  /// The catalog tables a job's SQL reads (after FROM or JOIN, comments aside), in order of first use.
  /// The machine-learning job also reads customer_trusted, whose emails it pseudonymizes.
  static func inputs(of job: ZoneJob, rules: ZoneRules) -> [TableSchema] {
    let known = Set(TableSchema.all(rules: rules).map(\.name))
    let code = job.sql.split(separator: "\n")
      .filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }
      .joined(separator: " ")
    let words = code.split { $0 == " " || $0 == "(" || $0 == ")" || $0 == "," }.map(String.init)
    var names: [String] = []
    for (index, word) in words.enumerated().dropLast()
    where ["FROM", "JOIN"].contains(word.uppercased()) && known.contains(words[index + 1])
      && !names.contains(words[index + 1])
    {
      names.append(words[index + 1])
    }
    if code.contains(pseudonymView) && !names.contains(ZoneTable.customerTrusted.rawValue) {
      names.append(ZoneTable.customerTrusted.rawValue)
    }
    return names.map { TableSchema.named($0, rules: rules)! }
  }

  // MARK: - Scripts

  static func script(job: ZoneJob, rules: ZoneRules, format: TableFormat) -> String {
    precondition(!job.sql.contains("\"\"\""), "the SQL must fit a Python triple-quoted string")
    let inputs = inputs(of: job, rules: rules)
    let landing = inputs.filter(\.isLanding)
    let pseudonyms = job.sql.contains(pseudonymView)
    // Landing jobs of an incremental profile append; every other job rebuilds its table from whole inputs.
    let appends = !landing.isEmpty && incremental(rules)
    let table = TableSchema.zone(job.table, rules: rules)
    let quarantines = landing.map { input in LandingSource.allCases.first { $0.landingTableName == input.name }! }
    let partition = format == .parquet ? ExportLayout.partitionExpression(table) : nil
    // Zone tables in Parquet are read from their folders: the catalog declares them with Athena's partition
    // projection, which Glue ETL does not apply (from_catalog would see no partitions, so no rows).
    let byPath = { (input: TableSchema) in format == .parquet && !input.isLanding }

    var parameters = [
      "--JOB_NAME            set by Glue",
      "--database            the Glue Data Catalog database of athena/create_tables.sql",
      "--lake                the lake's root, s3://bucket[/prefix] (the tables' LOCATIONs without the folder)",
    ]
    if pseudonyms {
      parameters.append(
        "--pseudonym_key_path  the pseudonym key (64 hex digits): s3://bucket/key or a local path")
    }
    if appends {
      parameters.append(
        "--rebuild             optional, true|false (default false): purge the output folders before writing")
    }

    var docs: [String] = [
      "Reads \(inputs.map(\.name).joined(separator: ", ")); writes \(table.name) to <lake>/\(table.folder)"
        + (quarantines.isEmpty
          ? "."
          : " and rejected landing rows to \(quarantines.map { "<lake>/\($0.quarantineFolder)" }.joined(separator: ", ")).")
    ]
    switch (format, partition) {
    case (.ndjson, _):
      docs.append("The table is written as NDJSON (one JSON object per line), as athena/create_tables.sql declares it.")
    case (.parquet, nil):
      docs.append(
        """
        The table is written as Parquet (unpartitioned), as athena/create_tables.sql declares it and as
        `stedi pipeline run --format parquet` writes it, but without the Delta log stedi adds.
        """)
    case (.parquet, let expression?):
      docs.append(
        """
        The table is written as Parquet partitioned by \(ExportLayout.partitionColumn) (Hive-style \(ExportLayout.partitionColumn)=YYYY-MM-DD folders,
        the UTC date of \(table.partitionTimeColumn!): \(expression)), as athena/create_tables.sql declares it
        and as `stedi pipeline run --format parquet` writes it, but without the Delta log stedi adds. The
        \(ExportLayout.partitionColumn) column is only in the folder names, not in the files.
        """)
    }
    if inputs.contains(where: byPath) {
      docs.append(
        """
        Parquet inputs (\(inputs.filter(byPath).map(\.name).joined(separator: ", "))) are read from their folders under --lake,
        not from the catalog: the catalog declares them with Athena's partition projection, which Glue ETL does
        not apply. They are the folders the earlier jobs wrote, every file of which is current (so are a
        stedi run's once it has finished: it deletes the files its Delta commits removed); do not run a job
        over tables a stedi run is still publishing.
        """)
    }
    if !landing.isEmpty {
      docs.append(
        "Landing rows are validated as the Spark export's read_landing does (required fields, empty email);"
          + "\nrejected rows are written to quarantine with their file and reason. On Glue, lines the JSON reader"
          + "\ncannot parse become the DynamicFrame's error records, not rows.")
    }
    if appends {
      docs.append(
        """
        Job bookmarks: run with --job-bookmark-option job-bookmark-enable. The landing read carries a
        transformation_ctx, so each run only processes landing files it has not seen, and the table folder
        is appended to (Glue's S3 sink adds files): that is why the SQL is DISTINCT, which removes repeats
        within a run (not across runs). Tables of earlier jobs are lookups and read whole (no
        transformation_ctx): a bookmark there would hide the rows of earlier runs from the join. A reading
        that lands before its customer's record is not picked up later: to rebuild, reset the bookmark
        (aws glue reset-job-bookmark) and run with --rebuild true.
        """)
    } else if !landing.isEmpty {
      docs.append(
        """
        No job bookmarks: under \(rules.profile.rawValue) only each email's newest customer record counts, so a new
        landing file can withdraw consent; an incremental run could not take back rows appended before.
        Every run reads its inputs whole (no transformation_ctx on the reads, so the bookmark option has no
        effect) and replaces the output folders (purge, then write).
        """)
    } else {
      docs.append(
        """
        Reads the tables of earlier jobs whole (no transformation_ctx on the reads: a bookmark would hide the
        rows of earlier runs) and replaces its table on every run (purge, then write), so the job bookmark
        option has no effect.
        """)
    }
    if pseudonyms {
      docs.append(
        """
        subjectId is HMAC-SHA256(key, email) in hex, the same as `stedi pipeline run` with that key. The key
        never enters a table; the job's role needs read access to it (and nothing else in the lake needs it).
        """)
    }

    let header = """
      \"\"\"\(job.table.rawValue): STEDI zone job for AWS Glue (\(rules.profile.rawValue) profile).

      Generated by `stedi pipeline export --target glue --profile \(rules.profile.rawValue)`. Do not edit: the rules
      live in stedi (ZoneRules) and the SQL below is the text the Spark export runs; regenerate instead.

      Job parameters:
      \(parameters.map { "  \($0)" }.joined(separator: "\n"))

      \(docs.joined(separator: "\n\n"))
      \"\"\"
      """

    var imports = ["import json", "import sys", "import time", "import unicodedata"]
    if pseudonyms { imports = ["import hashlib", "import hmac"] + imports }

    var body: [String] = []
    for input in inputs where byPath(input) {
      body.append(
        """
        # \(input.name): read whole from its Parquet folder, a lookup (not from the catalog, so no bookmark).
        \(input.name) = read_parquet_table(args["lake"] + "/\(input.folder)", "\(input.name)")
        \(input.name).createOrReplaceTempView("\(input.name)")
        """)
    }
    for input in inputs where !byPath(input) {
      let ctx = "\(input.name)_source"
      let bookmarked = input.isLanding && appends
      let why =
        input.isLanding
        ? (bookmarked
          ? "# \(input.name): only landing files earlier runs have not seen (the job bookmark follows transformation_ctx)."
          : "# \(input.name): every landing file (no transformation_ctx, so no bookmark).")
        : "# \(input.name): read whole, a lookup (no transformation_ctx, so no bookmark)."
      let read = """
        \(ctx) = glueContext.create_dynamic_frame.from_catalog(
            database=args["database"], table_name="\(input.name)"\(bookmarked ? ", transformation_ctx=\"\(ctx)\"" : "")
        )
        """
      if input.isLanding {
        let source = LandingSource.allCases.first { $0.landingTableName == input.name }!
        body.append(
          """
          \(why)
          \(read)
          \(input.name), \(source.rawValue)_rejected = validate_landing(
              to_frame(\(ctx), args["database"], "\(input.name)"), "\(input.name)"
          )
          \(input.name).createOrReplaceTempView("\(input.name)")
          """)
      } else {
        body.append(
          """
          \(why)
          \(read)
          \(input.name) = to_frame(\(ctx), args["database"], "\(input.name)")
          \(input.name).createOrReplaceTempView("\(input.name)")
          """)
      }
    }
    if pseudonyms {
      body.append(
        """
        # \(pseudonymView): email → subjectId for every trusted customer; the emails stay in this job.
        KEY = pseudonym_key(args["pseudonym_key_path"])
        emails = [row.email for row in spark.sql("SELECT DISTINCT email FROM customer_trusted").collect()]
        pseudonyms = [(email, hmac.new(KEY, stedi_identity(email).encode("utf-8"), hashlib.sha256).hexdigest())
                      for email in emails]
        spark.createDataFrame(pseudonyms, "email string, subjectId string").createOrReplaceTempView("\(pseudonymView)")
        """)
    }

    var writes: [String] = [
      write(
        frame: "result", folder: table.folder, ctx: "\(table.name)_sink", appends: appends, format: format,
        partition: partition)
    ]
    for source in quarantines {
      writes.append(
        write(
          frame: "\(source.rawValue)_rejected", folder: source.quarantineFolder,
          ctx: "\(source.rawValue)_quarantine_sink",
          appends: appends, format: .ndjson, partition: nil))
    }
    let counts =
      ["\"rows\": result.count()"]
      + quarantines.map { "\"\($0.rawValue)_quarantined\": \($0.rawValue)_rejected.count()" }

    var functions = [helpers, identity]
    if !landing.isEmpty { functions.append(validation) }
    if pseudonyms { functions.append(pseudonymKey) }
    if inputs.contains(where: byPath) { functions.append(parquetReader) }

    return """
      \(header)
      \(imports.joined(separator: "\n"))

      from awsglue.context import GlueContext
      from awsglue.dynamicframe import DynamicFrame
      from awsglue.job import Job
      from awsglue.utils import getResolvedOptions
      from pyspark.context import SparkContext
      from pyspark.sql import functions as F, types as T

      \(tablesBlock(inputs))


      \(functions.joined(separator: "\n\n\n"))


      # The zone rule: the same Spark SQL as the Spark export's sql/ file of this job.
      SQL = r\"\"\"
      \(job.sql)
      \"\"\"

      args = getResolvedOptions(sys.argv, ["JOB_NAME", "database", "lake"\(pseudonyms ? ", \"pseudonym_key_path\"" : "")])
      args["lake"] = args["lake"].rstrip("/")\(appends ? "\nREBUILD = optional_argument(\"rebuild\", \"false\").lower() == \"true\"" : "")

      sc = SparkContext.getOrCreate()
      glueContext = GlueContext(sc)
      spark = glueContext.spark_session
      # Partition dates are UTC calendar dates, as stedi's.
      spark.conf.set("spark.sql.session.timeZone", "UTC")
      spark.udf.register("stedi_identity", stedi_identity, "string")
      job = Job(glueContext)
      job.init(args["JOB_NAME"], args)

      \(body.joined(separator: "\n\n"))

      result = spark.sql(SQL).cache()
      counts = {\(counts.joined(separator: ", "))}

      \(writes.joined(separator: "\n\n"))

      print(json.dumps({"job": "\(job.table.rawValue)", "profile": "\(rules.profile.rawValue)", **counts}))
      job.commit()

      """
  }

  /// A frame written to `<lake>/<folder>` through Glue's S3 sink, after purging the folder when the job
  /// replaces its output: NDJSON, or Parquet (`glueparquet`), partitioned by `partition` (a Spark SQL
  /// expression of the partition value) when given, one file per partition folder.
  private static func write(
    frame: String, folder: String, ctx: String, appends: Bool, format: TableFormat, partition: String?
  ) -> String {
    let purge = "glueContext.purge_s3_path(args[\"lake\"] + \"/\(folder)\", options={\"retentionPeriod\": 0})"
    let date = ExportLayout.partitionColumn
    let data =
      partition.map { "\(frame).withColumn(\"\(date)\", F.expr(\"\($0)\")).repartition(\"\(date)\")" }
      ?? "\(frame).coalesce(1)"
    let keys = partition == nil ? "" : ", \"partitionKeys\": [\"\(date)\"]"
    return """
      \(appends ? "if REBUILD:\n    \(purge)" : purge)
      glueContext.write_dynamic_frame.from_options(
          frame=DynamicFrame.fromDF(\(data), glueContext, "\(ctx)"),
          connection_type="s3",
          format="\(format == .parquet ? "glueparquet" : "json")",
          connection_options={"path": args["lake"] + "/\(folder)"\(keys)},
          transformation_ctx="\(ctx)",
      )
      """
  }

  // MARK: - Python shared by the scripts (generated once, embedded in each)

  private static func pythonKind(_ kind: TableColumn.Kind) -> String {
    switch kind {
    case .int64: "LONG"
    case .double: "DOUBLE"
    case .string: "STRING"
    }
  }

  /// The declared columns of the tables a script reads, as athena/create_tables.sql has them.
  static func tablesBlock(_ tables: [TableSchema]) -> String {
    let entries = tables.map { table in
      let columns = table.columns.map {
        "        (\"\($0.name)\", \(pythonKind($0.kind)), \($0.required ? "True" : "False")),"
      }
      return "    \"\(table.name)\": [\n\(columns.joined(separator: "\n"))\n    ],"
    }
    return """
      LONG, DOUBLE, STRING = T.LongType(), T.DoubleType(), T.StringType()
      CORRUPT = "_corrupt_record"
      # (column, type, required) of each table this job reads, as athena/create_tables.sql declares them.
      TABLES = {
      \(entries.joined(separator: "\n"))
      }
      """
  }

  static let helpers = """
    def optional_argument(name, default):
        \"\"\"A job parameter that may be absent (getResolvedOptions fails on absent ones).\"\"\"
        if f"--{name}" in sys.argv:
            return getResolvedOptions(sys.argv, [name])[name]
        return default


    def to_frame(dynamic_frame, database, table):
        \"\"\"A catalog table as a DataFrame with its declared columns: the declared names (the catalog lower-cases
        them; Spark SQL does not care, but the JSON written should match `stedi pipeline run`), the declared types
        (resolveChoice casts columns Glue saw with mixed types), absent columns as null. A corrupt-record column,
        if the reader made one, is kept for validation.\"\"\"
        frame = dynamic_frame.resolveChoice(choice="match_catalog", database=database, table_name=table).toDF()
        present = {name.lower(): name for name in frame.columns}
        columns = [
            (F.col(f"`{present[name.lower()]}`") if name.lower() in present else F.lit(None)).cast(kind).alias(name)
            for name, kind, _ in TABLES[table]
        ]
        if CORRUPT in frame.columns:
            columns.append(F.col(CORRUPT))
        return frame.select(columns)
    """

  /// The landing validation of the Spark export's read_landing, over a frame read from the catalog.
  static let validation = """
    # The time fields of each landing table: 2000-01-01T00:00:00Z up to a day after the job's clock.
    LANDING_TIMES = {
        "customer_landing": ["registrationDate", "lastUpdateDate", "shareWithResearchAsOfDate",
                             "shareWithPublicAsOfDate", "shareWithFriendsAsOfDate"],
        "accelerometer_landing": ["timestamp"],
        "step_trainer_landing": ["sensorReadingTime"],
    }


    def validate_landing(frame, table):
        \"\"\"The valid rows of a landing table and its rejected rows (sourceFile, reason, raw), decided as the
        Spark export's read_landing and `stedi pipeline run` decide: a line that is not a JSON object of the
        right types is invalid_json, one without a required field is missing_field, an email that is not an
        address (blank, no single '@', no domain, whitespace in the domain) invalid_value, and a time before
        2000 or more than a day after the job's clock out_of_range.
        (On Glue, sourceFile may be empty: input_file_name() does not always see through a DynamicFrame.)\"\"\"
        fields = TABLES[table]
        if CORRUPT not in frame.columns:
            frame = frame.withColumn(CORRUPT, F.lit(None).cast(STRING))
        frame = frame.withColumn("sourceFile", F.input_file_name()).cache()
        reason = F.when(F.col(CORRUPT).isNotNull(), F.lit("invalid_json"))
        for name, _, required in fields:
            if required:
                reason = reason.when(F.col(name).isNull(), F.lit("missing_field"))
        email = {"customer_landing": "email", "accelerometer_landing": "user"}.get(table)
        if email:
            # (?U): \\s is Unicode whitespace, as Swift's Character.isWhitespace.
            trimmed = F.regexp_replace(F.col(email), r"(?U)^\\s+|\\s+$", "")
            reason = reason.when(~trimmed.rlike(r"(?U)^[^@]+@[^@\\s]+$"), F.lit("invalid_value"))
        earliest, latest = 946684800000, int(time.time() * 1000) + 86400000
        for name in LANDING_TIMES.get(table, []):
            reason = reason.when((F.col(name) < earliest) | (F.col(name) > latest), F.lit("out_of_range"))
        frame = frame.withColumn("reason", reason)
        good = frame.filter(F.col("reason").isNull()).select([name for name, _, _ in fields])
        bad = frame.filter(F.col("reason").isNotNull()).select(
            "sourceFile", "reason",
            F.coalesce(F.col(CORRUPT), F.to_json(F.struct([name for name, _, _ in fields]))).alias("raw"))
        return good, bad
    """

  /// `Identity.canonical` in Python, registered as the SQL function the zone SQL compares with.
  static let identity = """
    # White space as Swift's CharacterSet.whitespacesAndNewlines: categories Zs, Zl, Zp and controls 9-13, 0x85.
    IDENTITY_SPACE = (" \\t\\n\\x0b\\x0c\\r\\x85\\xa0\\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B))
                      + "\\u2028\\u2029\\u202f\\u205f\\u3000")


    def stedi_identity(text):
        \"\"\"The canonical form of an email or serial number, as stedi's Identity: trimmed, lower-cased, NFC.\"\"\"
        if text is None:
            return None
        return unicodedata.normalize("NFC", text.strip(IDENTITY_SPACE).lower())
    """

  static let parquetReader = """
    def read_parquet_table(path, table):
        \"\"\"A Parquet table of the lake, read whole from its folder with its declared columns. Spark skips the
        _delta_log/ folder stedi writes (names starting with _ or . are hidden); the date= partition column is
        not declared, so it is left out; a folder not written yet is an empty table.\"\"\"
        schema = T.StructType([T.StructField(name, kind, True) for name, kind, _ in TABLES[table]])
        try:
            frame = spark.read.schema(schema).parquet(path)
        except Exception as error:
            if "PATH_NOT_FOUND" not in str(error) and "does not exist" not in str(error):
                raise
            frame = spark.createDataFrame([], schema)
        return frame.select([name for name, _, _ in TABLES[table]])
    """

  static let pseudonymKey = """
    def pseudonym_key(path):
        \"\"\"The lake's pseudonym key: 64 hex digits at s3://bucket/key or a local path. Unlike `stedi`, the job
        never creates one: ids must stay stable across runs, so a missing key is an error.\"\"\"
        if path.startswith("s3://"):
            # boto3 ships with Glue's Python. The job's IAM role needs s3:GetObject on this object (and
            # kms:Decrypt if it is KMS-encrypted); keep the key outside the folders that readers of the lake
            # can list, so the curated table alone cannot be linked back to emails.
            import boto3

            bucket, _, key = path[len("s3://"):].partition("/")
            text = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")
        else:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        text = text.strip()
        if len(text) != 64:
            raise ValueError(f"the pseudonym key at {path} is not 64 hex digits")
        return bytes.fromhex(text)
    """
}
