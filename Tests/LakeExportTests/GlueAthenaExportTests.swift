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

  static func files(_ target: ExportTarget, _ profile: PipelineProfile) -> [(path: String, contents: String)] {
    PipelineExport(target: target, rules: ZoneRules(profile: profile)).files()
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

  @Test(arguments: PipelineProfile.allCases)
  func eachScriptIsAGlueJobRunningExactlyItsZoneSQL(profile: PipelineProfile) {
    let jobs = ZoneJob.jobs(for: ZoneRules(profile: profile))
    let files = Self.files(.glue, profile)
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
        "glueContext.write_dynamic_frame.from_options(", "connection_type=\"s3\"", "format=\"json\"",
        "connection_options={\"path\": args[\"lake\"] + \"/\(job.table.folder)\"}",
        "transformation_ctx=\"\(job.table.rawValue)_sink\"",
      ] {
        #expect(script.contains(line), "\(file.path) lacks \(line)")
      }
      #expect(script.components(separatedBy: "job.commit()").count == 2, "\(file.path) commits once")
      // Each input read from the catalog and registered under the name the SQL uses.
      let inputs = GlueJobs.inputs(of: job, rules: ZoneRules(profile: profile))
      #expect(Self.catalogReads(script).count == inputs.count, "\(file.path)")
      for input in inputs {
        #expect(script.contains("database=args[\"database\"], table_name=\"\(input.name)\""), "\(file.path)")
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
    let spark = SparkRunner.script(profile: profile, jobs: ZoneJob.jobs(for: rules))
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

  @Test(arguments: PipelineProfile.allCases)
  func athenaDeclaresEveryTableWithTheJsonSerDe(profile: PipelineProfile) throws {
    let files = Self.files(.athena, profile)
    #expect(files.map(\.path) == ["athena/create_tables.sql", "athena/validate_funnel.sql"])
    let ddl = try #require(files.first?.contents)
    let tables = [
      "customer_landing", "accelerometer_landing", "step_trainer_landing", "customer_trusted", "accelerometer_trusted",
      "customers_curated", "step_trainer_trusted", "machine_learning_curated",
    ]
    #expect(TableSchema.all(rules: ZoneRules(profile: profile)).map(\.name) == tables)
    #expect(ddl.prefix(1_000).contains("${bucket}"), "the placeholder is explained at the top")
    let statements = ddl.components(separatedBy: "CREATE EXTERNAL TABLE IF NOT EXISTS ").dropFirst()
    #expect(statements.count == tables.count)
    for (name, statement) in zip(tables, statements) {
      let table = try #require(TableSchema.named(name, rules: ZoneRules(profile: profile)))
      #expect(statement.hasPrefix("\(name) ("))
      #expect(statement.contains("ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'"), "\(name)")
      #expect(statement.contains("LOCATION 's3://${bucket}/\(table.folder)/'"), "\(name)")
    }
    for column in ["`registrationDate` bigint", "`timestamp` bigint", "`sensorReadingTime` bigint"] {
      #expect(ddl.contains(column))
    }
    for column in ["`x` double", "`z` double", "`distanceFromObject` double", "`birthDay` string"] {
      #expect(ddl.contains(column))
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
