import Foundation
import LakeExport
import Lakehouse
import StediTestSupport
import Testing

/// The scripts of `stedi pipeline export --target glue`, compiled and run on local Spark (the
/// package's .venv-spark) against a stand-in for AWS Glue's `awsglue` library (Fixtures/awsglue).
///
/// What the stand-in covers: the calls the scripts make, with real effects on Spark. So the scripts'
/// SQL, landing validation and quarantine, pseudonyms (HMAC-SHA256 from the key file), catalog table
/// names, job parameters and output paths all run for real, job after job, each reading what the
/// previous ones wrote. What it does not cover: the real Glue Data Catalog (the catalog is a JSON file
/// rendered here from `TableSchema`), job bookmarks' state (transformation_ctx is only recorded),
/// DynamicFrame choice types, resolveChoice semantics and error records (Spark's JSON reader with the
/// declared schema, PERMISSIVE, stands in), and S3 (local paths; purge is a folder removal).
struct GlueExportTests {
  static let packageRoot = SparkEnvironment.packageRoot
  static let python = SparkEnvironment.python
  static let dataset = SparkEnvironment.dataset

  static let fixtures = packageRoot.appendingPathComponent("Tests/stediTests/Fixtures").path

  static let missingPython = Comment(
    rawValue: ".venv-spark/bin/python is absent (a venv with pyspark): the Glue scripts are not compiled or run")
  static let missingData = Comment(
    rawValue:
      ".venv-spark, .venv-parquet or ../shared/datasets/stedi-udacity is absent: the Glue scripts are not run on Spark")

  static let expected = UdacityDataset.expectedCounts

  /// Runs `arguments` with output to files in `folder` (no pipe to fill); returns status and stderr's tail.
  /// Awaits the exit rather than blocking in waitUntilExit: a Spark job takes ~20 s, and a blocked
  /// thread of the cooperative pool would hold up every other test meanwhile.
  static func run(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:], in folder: String,
    label: String
  ) async throws -> (status: Int32, stdout: String, stderrTail: String) {
    let out = "\(folder)/\(label).out"
    let err = "\(folder)/\(label).err"
    FileManager.default.createFile(atPath: out, contents: nil)
    FileManager.default.createFile(atPath: err, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
    process.standardInput = FileHandle.nullDevice
    let status = try await withCheckedThrowingContinuation { (exited: CheckedContinuation<Int32, any Error>) in
      process.terminationHandler = { exited.resume(returning: $0.terminationStatus) }
      do { try process.run() } catch {
        process.terminationHandler = nil
        exited.resume(throwing: error)
      }
    }
    let stdout = String(decoding: FileManager.default.contents(atPath: out) ?? Data(), as: UTF8.self)
    let stderr = String(decoding: FileManager.default.contents(atPath: err) ?? Data(), as: UTF8.self)
    return (status, stdout, String(stderr.suffix(3_000)))
  }

  static func export(_ profile: PipelineProfile, to folder: String) throws {
    let export = try StediProcess.run([
      "pipeline", "export", "--target", "glue", "--profile", profile.rawValue, "--out", folder,
    ])
    try #require(export.status == 0, "\(export.stderr)")
  }

  /// The JSON lines of a table folder's data files (Spark's part files; hidden and marker files aside).
  static func lines(_ folder: String) -> [String] {
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
      $0.hasSuffix(".json") && !$0.hasPrefix(".") && !$0.hasPrefix("_")
    }
    return names.sorted().flatMap { name in
      String(decoding: FileManager.default.contents(atPath: "\(folder)/\(name)") ?? Data(), as: UTF8.self)
        .split(separator: "\n").map(String.init)
    }
  }

  static func object(_ line: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
  }

  @Test(.enabled(if: python != nil, missingPython), arguments: PipelineProfile.allCases)
  func scriptsCompile(profile: PipelineProfile) async throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    try Self.export(profile, to: scratch.path)
    let scripts = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasSuffix(".py") }
    #expect(scripts.count == 5)
    let compiled = try await Self.run(
      Self.python!, ["-m", "py_compile"] + scripts.sorted().map { "\(scratch.path)/\($0)" }, in: scratch.path,
      label: "py_compile")
    #expect(compiled.status == 0, "\(compiled.stderrTail)")
  }

  /// The five jobs in order over a copy of the public STEDI data give the profile's funnel. The copy gets
  /// a few bad landing lines too, which the jobs must quarantine without changing a count.
  @Test(
    .enabled(if: python != nil && dataset != nil && TableFolder.parquetPython != nil, missingData),
    arguments: PipelineProfile.allCases)
  func jobsRunOnSparkAndGiveTheFunnel(profile: PipelineProfile) async throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let scripts = "\(scratch.path)/glue"
    let lake = "\(scratch.path)/lake"
    try Self.export(profile, to: scripts)
    for source in LandingSource.allCases {
      try FileManager.default.createDirectory(atPath: "\(lake)/\(source.rawValue)", withIntermediateDirectories: true)
      try FileManager.default.copyItem(
        atPath: "\(Self.dataset!)/\(source.landingFolder)", toPath: "\(lake)/\(source.landingFolder)")
    }
    let badCustomers = """
      {"customerName": "Broken
      {"customerName": "No Serial", "email": "Santosh.Clayton@test.com", "registrationDate": 1, "lastUpdateDate": 1}
      {"customerName": "Empty", "email": "", "serialNumber": "s", "registrationDate": 1, "lastUpdateDate": 1, "shareWithResearchAsOfDate": 1}

      """
    let badReadings = """
      {"user": "Santosh.Clayton@test.com", "timestamp": 1655564376361, "x": "left", "y": 0, "z": 0}
      {"user": "Santosh.Clayton@test.com", "timestamp": 1655564376361, "y": 0, "z": 0}

      """
    try badCustomers.write(toFile: "\(lake)/customer/landing/bad-lines.json", atomically: true, encoding: .utf8)
    try badReadings.write(toFile: "\(lake)/accelerometer/landing/bad-lines.json", atomically: true, encoding: .utf8)

    // The catalog the stand-in serves: the tables of athena/create_tables.sql, located in the local lake.
    let rules = ZoneRules(profile: profile)
    var tables: [String: Any] = [:]
    for table in TableSchema.all(rules: rules) {
      tables[table.name] = [
        "location": "\(lake)/\(table.folder)", "columns": table.columns.map { [$0.name, $0.kind.athenaType] },
      ]
    }
    let catalog = "\(scratch.path)/catalog.json"
    try JSONSerialization.data(withJSONObject: ["database": "stedi", "tables": tables])
      .write(to: URL(fileURLWithPath: catalog))
    let key = [UInt8](repeating: 42, count: 32)
    try (key.map { String(format: "%02x", $0) }.joined() + "\n")
      .write(toFile: "\(scratch.path)/pseudonym.key", atomically: true, encoding: .utf8)
    let log = "\(scratch.path)/glue.jsonl"
    let environment = [
      "PYTHONPATH": Self.fixtures,
      "PYTHONDONTWRITEBYTECODE": "1",  // no __pycache__ beside the stand-in in the source tree
      "PYSPARK_PYTHON": Self.python!,
      "PYSPARK_SUBMIT_ARGS":
        "--master local[2] --conf spark.sql.shuffle.partitions=4 --conf spark.ui.enabled=false "
        + "--conf spark.ui.showConsoleProgress=false pyspark-shell",
      "AWSGLUE_STANDIN_CATALOG": catalog,
      "AWSGLUE_STANDIN_LOG": log,
    ]

    // The seed project's job names, in the order the jobs must run.
    let names = [
      "customer_trusted", "accelerometer_trusted", "customer_curated", "step_trainer_trusted",
      "machine_learning_curated",
    ]
    for (name, job) in zip(names, ZoneJob.jobs(for: rules)) {
      var arguments = ["\(scripts)/\(name).py", "--JOB_NAME", name, "--database", "stedi", "--lake", lake + "/"]
      if job.table == .machineLearningCurated {
        arguments += ["--pseudonym_key_path", "\(scratch.path)/pseudonym.key"]
      }
      let outcome = try await Self.run(Self.python!, arguments, environment: environment, in: scratch.path, label: name)
      try #require(outcome.status == 0, "\(name) failed:\n\(outcome.stderrTail)")
      let summary = Self.object(outcome.stdout.split(separator: "\n").last.map(String.init) ?? "")
      #expect(summary["rows"] as? Int == Self.expected[profile]![job.table], "\(name) printed \(outcome.stdout)")
    }

    // The funnel, as written: each table in the profile's format (strict: Parquet in stedi's layout).
    let format = TableFormat.standard(for: profile)
    var written: [ZoneTable: TableFolder] = [:]
    for table in ZoneTable.allCases {
      written[table] =
        format == .parquet
        ? try TableFolder.parquet("\(lake)/\(table.folder)", scratch: scratch.path)
        : try TableFolder.ndjson("\(lake)/\(table.folder)")
    }
    for (table, rows) in Self.expected[profile]! {
      #expect(written[table]!.rows.count == rows, "\(table)")
      #expect(written[table]!.other.isEmpty, "\(table): \(written[table]!.other)")
    }
    // The bad lines are quarantined with their reasons; nothing else is.
    let reasons = { (source: LandingSource) in
      Self.lines("\(lake)/\(source.quarantineFolder)").compactMap { Self.object($0)["reason"] as? String }.sorted()
    }
    #expect(reasons(.customer) == ["invalid_json", "invalid_value", "missing_field"])
    #expect(reasons(.accelerometer) == ["invalid_json", "missing_field"])
    #expect(reasons(.stepTrainer) == [])

    // Only declared columns are written; strict's curated rows carry no email. In Parquet, every file has
    // exactly the declared columns (no date inside), and the reading tables are in date= folders.
    for table in ZoneTable.allCases {
      let declared = TableSchema.zone(table, rules: rules).columns.map(\.name)
      let contents = written[table]!
      if format == .parquet {
        #expect(!contents.files.isEmpty, "\(table)")
        for file in contents.files {
          #expect(file.columns.map { $0[0] } == declared, "\(table) \(file.path): \(file.columns)")
        }
        let partitioned = table != .customerTrusted && table != .customersCurated
        #expect(
          contents.files.allSatisfy { $0.path.hasPrefix("date=") == partitioned },
          "\(table): \(contents.files.map(\.path))")
      } else {
        let first = contents.rows.first ?? [:]
        #expect(Set(first.keys).isSubset(of: Set(declared)) && !first.isEmpty, "\(table): \(first.keys.sorted())")
      }
    }
    // subjectId is stedi's pseudonym of a trusted customer's email under the same key.
    let pseudonym = PseudonymKey(bytes: key)
    let trusted = Set(
      written[.customerTrusted]!.rows.compactMap { $0["email"] as? String }.map { pseudonym.subjectId(email: $0) })
    let curated = written[.machineLearningCurated]!.rows
    #expect(Set(curated.compactMap { $0["subjectId"] as? String }).isSubset(of: trusted))
    #expect(curated.contains { $0["user"] is String } == (profile == .udacity))

    // Every job committed; landing reads were bookmarked (had a transformation_ctx) only where the profile
    // appends, and lookups never.
    let events = (try String(contentsOfFile: log, encoding: .utf8)).split(separator: "\n").map {
      Self.object(String($0))
    }
    #expect(events.filter { $0["event"] as? String == "commit" }.count == 5)
    for read in events where read["event"] as? String == "read" {
      let table = read["table"] as? String ?? ""
      let bookmarked = !(read["transformation_ctx"] as? String ?? "").isEmpty
      #expect(bookmarked == (table.hasSuffix("_landing") && profile == .udacity), "\(read)")
    }
  }
}
