import Foundation
import Lakehouse
import StediTestSupport
import Testing

@testable import LakeExport

/// The glue and athena export targets, checked as text (no Python or AWS needed). GlueExportTests in
/// stediTests runs the Glue scripts on local Spark.
struct GlueAthenaExportTests {
  static let seedScripts = [
    "customer_trusted.py", "accelerometer_trusted.py", "customer_curated.py", "step_trainer_trusted.py",
    "machine_learning_curated.py",
  ]

  static func files(_ target: ExportTarget, _ profile: PipelineProfile, _ format: TableFormat? = nil) -> [(
    path: String, contents: String
  )] {
    PipelineExport(target: target, rules: ZoneRules(profile: profile), format: format).files()
  }

  /// Every profile in every format.
  static let profilesAndFormats = PipelineProfile.allCases.flatMap { profile in
    TableFormat.allCases.map { (profile, $0) }
  }

  /// The UTC-date expression a partitioned table's rows are placed by, written out for each table.
  static let partitionExpressions: [ZoneTable: String] = [
    .accelerometerTrusted: "date_format(timestamp_millis(`timestamp`), 'yyyy-MM-dd')",
    .stepTrainerTrusted: "date_format(timestamp_millis(`sensorReadingTime`), 'yyyy-MM-dd')",
    .machineLearningCurated: "date_format(timestamp_millis(`sensorReadingTime`), 'yyyy-MM-dd')",
  ]

  @Test func formatsDefaultAsStediPipelineRunDoes() {
    #expect(PipelineExport(target: .spark, rules: ZoneRules(profile: .strict)).format == .parquet)
    #expect(PipelineExport(target: .spark, rules: ZoneRules(profile: .udacity)).format == .ndjson)
    #expect(PipelineExport(target: .spark, rules: ZoneRules(profile: .strict), format: .ndjson).format == .ndjson)
    for profile in PipelineProfile.allCases {
      for table in ZoneTable.allCases {
        let schema = TableSchema.zone(table, rules: ZoneRules(profile: profile))
        #expect(ExportLayout.partitionExpression(schema) == Self.partitionExpressions[table], "\(table)")
      }
    }
  }

  /// The Spark runner: the default format baked in, the layout of each table, no _SUCCESS markers.
  @Test(arguments: profilesAndFormats)
  func sparkRunnerWritesTheFormatsLayout(profile: PipelineProfile, format: TableFormat) throws {
    let files = Self.files(.spark, profile, format)
    let runner = try #require(files.first { $0.path == "run_pipeline.py" }?.contents)
    #expect(runner.contains("DEFAULT_FORMAT = \"\(format.rawValue)\""))
    #expect(
      runner.contains("parser.add_argument(\"--format\", choices=[\"parquet\", \"ndjson\"], default=DEFAULT_FORMAT"))
    #expect(runner.contains(".config(\"spark.sql.session.timeZone\", \"UTC\")"))
    #expect(runner.contains(".config(\"spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs\", \"false\")"))
    #expect(runner.contains("no _delta_log"), "the docstring says there is no Delta log")
    for (index, job) in ZoneJob.jobs(for: ZoneRules(profile: profile)).enumerated() {
      let partition = Self.partitionExpressions[job.table].map { "\"\($0)\"" } ?? "None"
      #expect(
        runner.contains(
          "(\"\(job.table.rawValue)\", \"\(job.table.folder)\", \"sql/\(index + 1)_\(job.table.rawValue).sql\", \(partition)),"
        ),
        "\(job.table)")
    }
    for line in [
      "frame.coalesce(1).write.mode(\"overwrite\").json(path)",
      "frame.coalesce(1).write.mode(\"overwrite\").parquet(path)",
      "(frame.withColumn(PARTITION, F.expr(partition)).repartition(PARTITION)",
      ".write.mode(\"overwrite\").partitionBy(PARTITION).parquet(path))",
      "PARTITION = \"date\"",
      "write_table(frame, f\"{lake}/{folder}\", args.format, partition)",
      // Quarantine stays NDJSON in both formats.
      "bad.coalesce(1).write.mode(\"overwrite\").json(f\"{lake}/{source}/quarantine\")",
    ] {
      #expect(runner.contains(line), "run_pipeline.py lacks \(line)")
    }
  }

  /// The `create_dynamic_frame.from_catalog(...)` calls of a script, each as one string.
  static func catalogReads(_ script: String) -> [String] {
    script.components(separatedBy: "create_dynamic_frame.from_catalog(").dropFirst().map {
      String($0.prefix { $0 != ")" })
    }
  }

  @Test func targetsAreOffered() {
    #expect(ExportTarget.allCases.map(\.rawValue) == ["spark", "glue", "athena"])
  }

  @Test(arguments: PipelineProfile.allCases)
  func glueHasTheSeedScriptsInJobOrder(profile: PipelineProfile) {
    #expect(Self.files(.glue, profile).map(\.path) == Self.seedScripts)
  }

  @Test(arguments: profilesAndFormats)
  func eachScriptIsAGlueJobRunningExactlyItsZoneSQL(profile: PipelineProfile, format: TableFormat) {
    let jobs = ZoneJob.jobs(for: ZoneRules(profile: profile))
    let files = Self.files(.glue, profile, format)
    try? #require(files.count == jobs.count)
    for (job, file) in zip(jobs, files) {
      let script = file.contents
      #expect(script.contains("SQL = r\"\"\"\n\(job.sql)\n\"\"\""), "\(file.path) embeds its ZoneJob.sql verbatim")
      #expect(script.contains("spark.sql(SQL)"), "\(file.path)")
      for other in jobs where other.table != job.table {
        #expect(!script.contains(other.sql), "\(file.path) embeds only its own job")
      }
      for line in [
        "from awsglue.context import GlueContext", "from awsglue.job import Job",
        "from awsglue.utils import getResolvedOptions", "job.init(args[\"JOB_NAME\"], args)", "job.commit()",
        "glueContext.write_dynamic_frame.from_options(", "connection_type=\"s3\"",
        "transformation_ctx=\"\(job.table.rawValue)_sink\"",
        "spark.conf.set(\"spark.sql.session.timeZone\", \"UTC\")",
      ] {
        #expect(script.contains(line), "\(file.path) lacks \(line)")
      }
      // The table's sink: NDJSON, or Parquet partitioned by the UTC date of its time column.
      let path = "connection_options={\"path\": args[\"lake\"] + \"/\(job.table.folder)\""
      switch (format, Self.partitionExpressions[job.table]) {
      case (.ndjson, _):
        #expect(script.contains("frame=DynamicFrame.fromDF(result.coalesce(1), glueContext"), "\(file.path)")
        #expect(script.contains("format=\"json\",\n    \(path)}"), "\(file.path)")
        #expect(!script.contains("parquet"), "\(file.path)")
      case (.parquet, nil):
        #expect(script.contains("frame=DynamicFrame.fromDF(result.coalesce(1), glueContext"), "\(file.path)")
        #expect(script.contains("format=\"glueparquet\",\n    \(path)}"), "\(file.path)")
        #expect(!script.contains("partitionKeys"), "\(file.path)")
      case (.parquet, let expression?):
        #expect(
          script.contains(
            "frame=DynamicFrame.fromDF(result.withColumn(\"date\", F.expr(\"\(expression)\")).repartition(\"date\"), glueContext"
          ), "\(file.path)")
        #expect(script.contains("format=\"glueparquet\",\n    \(path), \"partitionKeys\": [\"date\"]}"), "\(file.path)")
      }
      #expect(script.components(separatedBy: "job.commit()").count == 2, "\(file.path) commits once")
      // Each input read from the catalog (Parquet zone tables from their folders: Glue ETL does not apply
      // Athena's partition projection) and registered under the name the SQL uses.
      let inputs = GlueJobs.inputs(of: job, rules: ZoneRules(profile: profile))
      let byPath = inputs.filter { format == .parquet && !$0.isLanding }
      #expect(Self.catalogReads(script).count == inputs.count - byPath.count, "\(file.path)")
      #expect(script.contains("def read_parquet_table(path, table):") == !byPath.isEmpty, "\(file.path)")
      for input in inputs {
        let read =
          byPath.contains(input)
          ? "\(input.name) = read_parquet_table(args[\"lake\"] + \"/\(input.folder)\", \"\(input.name)\")"
          : "database=args[\"database\"], table_name=\"\(input.name)\""
        #expect(script.contains(read), "\(file.path) lacks \(read)")
        #expect(script.contains(".createOrReplaceTempView(\"\(input.name)\")"), "\(file.path)")
      }
      // The seed's pitfalls: no Glue Studio transform nodes, the logic is the SQL.
      for node in ["Filter.apply", "DropFields", "ApplyMapping", "Join.apply", "SelectFields"] {
        #expect(!script.contains(node), "\(file.path) uses \(node)")
      }
    }
  }

  /// What each job reads, derived from its SQL: the dependency graph of the five jobs.
  @Test func inputsFollowTheSQL() {
    func names(_ profile: PipelineProfile) -> [[String]] {
      let rules = ZoneRules(profile: profile)
      return ZoneJob.jobs(for: rules).map { GlueJobs.inputs(of: $0, rules: rules).map(\.name) }
    }
    #expect(
      names(.strict) == [
        ["customer_landing"], ["accelerometer_landing", "customer_trusted"],
        ["customer_trusted", "accelerometer_trusted"], ["step_trainer_landing", "customers_curated"],
        ["step_trainer_trusted", "customers_curated", "accelerometer_trusted", "customer_trusted"],
      ])
    // The rubric's machine-learning join is on time alone: it does not read customers_curated.
    #expect(names(.udacity)[4] == ["step_trainer_trusted", "accelerometer_trusted", "customer_trusted"])
  }

  /// Landing reads are bookmarked only where appending is sound (udacity); lookups never are.
  @Test(arguments: PipelineProfile.allCases)
  func bookmarksOnlyOnLandingReadsOfIncrementalProfiles(profile: PipelineProfile) {
    for file in Self.files(.glue, profile) {
      for read in Self.catalogReads(file.contents) {
        let landing = read.contains("_landing\"")
        let bookmarked = read.contains("transformation_ctx=")
        #expect(bookmarked == (landing && profile == .udacity), "\(file.path): \(read)")
      }
      let landingJob = file.contents.contains("_landing\"")
      #expect(file.contents.contains("--rebuild") == (landingJob && profile == .udacity), "\(file.path)")
      if landingJob && profile == .udacity {
        #expect(file.contents.contains("that is why the SQL is DISTINCT"))
        #expect(file.contents.contains("if REBUILD:\n    glueContext.purge_s3_path("))
      } else {
        #expect(file.contents.contains("\nglueContext.purge_s3_path("), "\(file.path) replaces its output")
      }
    }
  }

  @Test func profilesDifferWhereTheRulesDiffer() {
    let strict = Dictionary(uniqueKeysWithValues: Self.files(.glue, .strict).map { ($0.path, $0.contents) })
    let udacity = Dictionary(uniqueKeysWithValues: Self.files(.glue, .udacity).map { ($0.path, $0.contents) })
    #expect(strict["accelerometer_trusted.py"]!.contains("WHERE a.`timestamp` >= c.consentFrom"))
    #expect(!udacity["accelerometer_trusted.py"]!.contains(">= c.consentFrom"))
    #expect(strict["step_trainer_trusted.py"]!.contains("WHERE s.sensorReadingTime >= o.consentFrom"))
    #expect(!udacity["step_trainer_trusted.py"]!.contains(">= o.consentFrom"))
    #expect(strict["customer_trusted.py"]!.contains("ROW_NUMBER() OVER"))
    #expect(!udacity["customer_trusted.py"]!.contains("ROW_NUMBER() OVER"))
    #expect(!strict["machine_learning_curated.py"]!.contains("p.subjectId, a.`user`"))
    #expect(udacity["machine_learning_curated.py"]!.contains("p.subjectId, a.`user`"))
    #expect(
      strict["machine_learning_curated.py"]!.contains(
        "JOIN accelerometer_trusted a ON stedi_identity(a.`user`) = o.identity"))
  }

  /// The landing jobs validate as the Spark export's read_landing does: the same code in each, over
  /// the same columns and required fields.
  @Test(arguments: PipelineProfile.allCases)
  func landingValidationIsSharedAndMatchesTheSparkRunner(profile: PipelineProfile) {
    let rules = ZoneRules(profile: profile)
    let spark = SparkRunner.script(
      profile: profile, format: .standard(for: profile), jobs: ZoneJob.jobs(for: rules))
    for source in LandingSource.allCases {
      for column in TableSchema.landing(source).columns {
        let kind = [TableColumn.Kind.int64: "LONG", .double: "DOUBLE", .string: "STRING"][column.kind]!
        let tuple = "(\"\(column.name)\", \(kind), \(column.required ? "True" : "False"))"
        #expect(spark.contains(tuple), "the Spark runner declares \(tuple) for \(source)")
      }
    }
    for reason in ["invalid_json", "missing_field", "invalid_value", "out_of_range", "946684800000", "PERMISSIVE"] {
      #expect(spark.contains(reason))
    }
    for file in Self.files(.glue, profile) {
      let landing = file.contents.contains("_landing\"")
      #expect(file.contents.contains(GlueJobs.validation) == landing, "\(file.path)")
      #expect(file.contents.contains(GlueJobs.helpers), "\(file.path)")
      if landing {
        #expect(file.contents.contains("/quarantine\"}"), "\(file.path) writes its rejected rows")
      }
    }
  }

  @Test(arguments: PipelineProfile.allCases)
  func onlyTheMachineLearningJobPseudonymizes(profile: PipelineProfile) {
    for file in Self.files(.glue, profile) {
      let ml = file.path == "machine_learning_curated.py"
      #expect(file.contents.contains("\"pseudonym_key_path\"]") == ml, "\(file.path)")
      #expect(
        file.contents.contains("hmac.new(KEY, stedi_identity(email).encode(\"utf-8\"), hashlib.sha256).hexdigest()")
          == ml)
      // Every job compares identities in canonical form, so each registers the function.
      #expect(file.contents.contains("spark.udf.register(\"stedi_identity\", stedi_identity, \"string\")"))
      #expect(file.contents.contains("createOrReplaceTempView(\"subject_pseudonyms\")") == ml)
      if ml {
        #expect(file.contents.contains("import boto3"))
        #expect(file.contents.contains("--pseudonym_key_path"), "documented in the header")
      }
    }
  }

  /// Every table declared with its columns from TableSchema, in order and with their types: NDJSON tables
  /// with the JSON SerDe; in Parquet, the zone tables STORED AS PARQUET, the reading tables partitioned by
  /// `date` through partition projection (landing stays NDJSON).
  @Test(arguments: profilesAndFormats)
  func athenaDeclaresEveryTableInItsFormat(profile: PipelineProfile, format: TableFormat) throws {
    let rules = ZoneRules(profile: profile)
    let files = Self.files(.athena, profile, format)
    #expect(files.map(\.path) == ["athena/create_tables.sql", "athena/validate_funnel.sql"])
    let ddl = try #require(files.first?.contents)
    let tables = [
      "customer_landing", "accelerometer_landing", "step_trainer_landing", "customer_trusted", "accelerometer_trusted",
      "customers_curated", "step_trainer_trusted", "machine_learning_curated",
    ]
    #expect(TableSchema.all(rules: rules).map(\.name) == tables)
    #expect(ddl.prefix(1_000).contains("${bucket}"), "the placeholder is explained at the top")
    #expect(ddl.prefix(200).contains("--format \(format.rawValue)"))
    let statements = ddl.components(separatedBy: "CREATE EXTERNAL TABLE IF NOT EXISTS ").dropFirst()
    #expect(statements.count == tables.count)
    let types: [TableColumn.Kind: String] = [.int64: "bigint", .double: "double", .string: "string"]
    for (name, statement) in zip(tables, statements) {
      let table = try #require(TableSchema.named(name, rules: rules))
      // The whole column list, in the table's order: nothing more (no `date` column), nothing less.
      let columns = table.columns.map { "  `\($0.name)` \(types[$0.kind]!)" }.joined(separator: ",\n")
      #expect(statement.hasPrefix("\(name) (\n\(columns)\n)\n"), "\(name): \(statement.prefix(600))")
      let location = "s3://${bucket}/\(table.folder)/"
      #expect(statement.contains("LOCATION '\(location)'"), "\(name)")
      let zone = ZoneTable(rawValue: name)
      guard format == .parquet, let zone else {
        #expect(statement.contains(")\nROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'"), "\(name)")
        #expect(statement.contains("TBLPROPERTIES ('classification' = 'json');"), "\(name)")
        #expect(!statement.contains("PARQUET") && !statement.contains("PARTITIONED BY"), "\(name)")
        #expect(statement.contains("'ignore.malformed.json' = 'true'") == table.isLanding, "\(name)")
        continue
      }
      #expect(!statement.contains("SERDE"), "\(name)")
      guard Self.partitionExpressions[zone] != nil else {
        #expect(statement.contains(")\nSTORED AS PARQUET\nLOCATION '\(location)'"), "\(name)")
        #expect(statement.contains("TBLPROPERTIES ('classification' = 'parquet');"), "\(name)")
        #expect(!statement.contains("PARTITIONED BY") && !statement.contains("projection"), "\(name)")
        continue
      }
      #expect(
        statement.contains(
          """
          )
          PARTITIONED BY (`date` string)
          STORED AS PARQUET
          LOCATION '\(location)'
          TBLPROPERTIES (
            'classification' = 'parquet',
            'projection.enabled' = 'true',
            'projection.date.type' = 'date',
            'projection.date.format' = 'yyyy-MM-dd',
            'projection.date.range' = '2000-01-01,NOW+1DAYS',
            'projection.date.interval' = '1',
            'projection.date.interval.unit' = 'DAYS',
            'storage.location.template' = '\(location)date=${date}/'
          );
          """), "\(name): \(statement)")
    }
    let ml = try #require(statements.last)
    #expect(ml.contains("`subjectId` string"))
    #expect(ml.contains("`user` string") == (profile == .udacity))
  }

  @Test(arguments: PipelineProfile.allCases)
  func athenaFunnelNamesEveryTableAndChecksPrivacy(profile: PipelineProfile) throws {
    let queries = try #require(Self.files(.athena, profile).last?.contents)
    let funnel = try #require(queries.components(separatedBy: "-- 2.").first)
    for table in TableSchema.all(rules: ZoneRules(profile: profile)) {
      #expect(funnel.contains("'\(table.name)' AS table_name, COUNT(*) AS row_count FROM \(table.name)"))
    }
    #expect(funnel.components(separatedBy: "UNION ALL").count == 8, "one result")
    #expect(queries.contains("rows whose serialNumber no curated customer holds"))
    #expect(queries.contains("WHERE a.\"timestamp\" < c.consentFrom"))
    #expect(queries.contains("subjectId LIKE '%@%'"))
    #expect(
      queries.contains("'accelerometer_trusted readings before the customer''s consent' AS check_name, 'must be 0'")
        == (profile == .strict))
    #expect(queries.contains("machine_learning_curated WHERE \"user\" IS NOT NULL") == (profile == .udacity))
  }

  /// The catalog's zone columns are the select lists of the jobs (the SQL names every one of them).
  @Test(arguments: PipelineProfile.allCases)
  func catalogColumnsAreWhatTheJobsSelect(profile: PipelineProfile) {
    let rules = ZoneRules(profile: profile)
    for job in ZoneJob.jobs(for: rules) {
      let select = job.sql.components(separatedBy: "\nFROM").first ?? ""
      for column in TableSchema.zone(job.table, rules: rules).columns {
        #expect(select.contains(column.name), "\(job.table) selects \(column.name)")
      }
    }
  }

  @Test func writeCreatesTheFiles() throws {
    let scratch = try TemporaryFolder(prefix: "lakeexport")
    defer { scratch.remove() }
    let folder = scratch.path
    let glue = try PipelineExport(target: .glue, rules: ZoneRules(profile: .strict)).write(to: folder)
    let athena = try PipelineExport(target: .athena, rules: ZoneRules(profile: .strict)).write(to: folder)
    #expect(glue.map { ($0 as NSString).lastPathComponent } == Self.seedScripts)
    #expect(athena == ["\(folder)/athena/create_tables.sql", "\(folder)/athena/validate_funnel.sql"])
    let mode = try FileManager.default.attributesOfItem(atPath: glue[0])[.posixPermissions] as? Int
    #expect(mode == 0o755)
  }
}
