import Foundation
import Lakehouse
import StediTestSupport
import Testing

/// The exported Spark job computes exactly the tables the embedded engine computes, row by row,
/// for both profiles and both table formats (strict's Parquet with its date= partitions, and NDJSON),
/// on the public data and on a generated lake with every flaw.
@Suite(
  .enabled(if: SparkEnvironment.python != nil, "no .venv-spark with pyspark: run scripts/test.sh, which installs it"),
  .enabled(
    if: TableFolder.parquetPython != nil, "no .venv-parquet with pyarrow: run scripts/test.sh, which installs it"),
  .serialized)
struct SparkExportTests {
  /// The UTC calendar date (yyyy-MM-dd) of an epoch-millisecond time.
  static func utcDate(_ milliseconds: Int64) -> String {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd"
    return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
  }

  /// The Parquet column stedi's layout promises for a declared column: [name, physical, logical type].
  static func parquetColumn(_ column: TableColumn) -> [String] {
    switch column.kind {
    case .int64: [column.name, "INT64", "NONE"]
    case .double: [column.name, "DOUBLE", "NONE"]
    case .string: [column.name, "BYTE_ARRAY", "STRING"]
    }
  }

  /// Checks a Parquet table folder's layout: only Parquet files (hidden names aside), each with the
  /// table's columns in order and their promised types, no `date` column inside; a reading table's
  /// files each in one date= folder matching the UTC date of every row's time, a customer table's at
  /// the root.
  func checkParquetLayout(_ contents: TableFolder, table: ZoneTable, rules: ZoneRules, engine: String) {
    let label = "\(engine) \(rules.profile.rawValue) \(table.rawValue)"
    let declared = TableSchema.zone(table, rules: rules).columns
    #expect(contents.other.isEmpty, "\(label): visible entries that are not Parquet: \(contents.other)")
    #expect(!contents.files.isEmpty, "\(label): no Parquet file")
    for file in contents.files {
      #expect(
        file.columns.map { Array($0.prefix(3)) } == declared.map(Self.parquetColumn),
        "\(label) \(file.path): columns \(file.columns)")
      #expect(!file.columns.contains { $0.first == "date" }, "\(label) \(file.path) stores the date column")
    }
    guard let time = TableSchema.zone(table, rules: rules).partitionTimeColumn else {
      #expect(contents.partitions.isEmpty, "\(label) is partitioned: \(contents.partitions)")
      #expect(contents.files.allSatisfy { !$0.path.contains("/") }, "\(label): \(contents.files.map(\.path))")
      return
    }
    #expect(contents.partitions.allSatisfy { $0.hasPrefix("date=") && !$0.contains("/") }, "\(label)")
    #expect(
      contents.files.allSatisfy { $0.path.split(separator: "/").count == 2 && $0.path.hasPrefix("date=") },
      "\(label): files outside date= folders: \(contents.files.map(\.path))")
    let misplaced = contents.rows.filter { row in
      guard let millis = (row[time] as? NSNumber)?.int64Value, let date = row["date"] as? String else { return true }
      return Self.utcDate(millis) != date
    }
    #expect(misplaced.isEmpty, "\(label): rows in the wrong date= folder: \(misplaced.prefix(3))")
  }

  /// Runs both engines on copies of `landing` and compares every table, written as `format`.
  func compareEngines(landing: String, profile: String, format: String, scratch: TemporaryFolder) throws {
    let rules = ZoneRules(profile: try #require(PipelineProfile(rawValue: profile)))
    let embedded = scratch.path + "/embedded-\(profile)-\(format)"
    let spark = scratch.path + "/spark-\(profile)-\(format)"
    for lake in [embedded, spark] {
      try FileManager.default.createDirectory(atPath: lake, withIntermediateDirectories: true)
      for source in ["customer", "accelerometer", "step_trainer"] {
        try FileManager.default.createDirectory(atPath: "\(lake)/\(source)", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(landing)/\(source)/landing", toPath: "\(lake)/\(source)/landing")
      }
    }
    let run = try StediProcess.run([
      "pipeline", "run", "--lake", embedded, "--profile", profile, "--format", format, "--json",
    ])
    #expect(run.status == 0, "\(run.stderr)")
    // The same pseudonym key, so the same subject ids.
    try FileManager.default.createDirectory(atPath: spark + "/_stedi", withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      atPath: embedded + "/_stedi/pseudonym.key", toPath: spark + "/_stedi/pseudonym.key")
    // The Spark lake starts with stedi's tables (Parquet with their _delta_log under strict): the job
    // reads only landing and must replace each table folder whole.
    for table in ZoneTable.allCases {
      try FileManager.default.copyItem(atPath: "\(embedded)/\(table.folder)", toPath: "\(spark)/\(table.folder)")
    }

    // The export's default format is the profile's (parquet for strict); strict NDJSON is asked of the runner.
    let jobs = scratch.path + "/jobs-\(profile)-\(format)"
    let export = try StediProcess.run(["pipeline", "export", "--target", "spark", "--profile", profile, "--out", jobs])
    #expect(export.status == 0, "\(export.stderr)")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: SparkEnvironment.python!)
    process.arguments =
      [jobs + "/run_pipeline.py", "--lake", spark, "--master", "local[2]"]
      + (format == TableFormat.standard(for: rules.profile).rawValue ? [] : ["--format", format])
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let complaints = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "spark job failed:\n\(complaints.suffix(3000))")
    #expect(printed.contains("\"engine\": \"spark\", \"format\": \"\(format)\""), "\(printed)")

    for table in ZoneTable.allCases {
      let folder = table.folder
      let label = "\(profile) \(format) \(folder)"
      let expected: TableFolder
      let actual: TableFolder
      if format == "parquet" {
        expected = try TableFolder.parquet("\(embedded)/\(folder)", scratch: scratch.path)
        actual = try TableFolder.parquet("\(spark)/\(folder)", scratch: scratch.path)
        checkParquetLayout(expected, table: table, rules: rules, engine: "stedi")
        checkParquetLayout(actual, table: table, rules: rules, engine: "spark")
        #expect(
          Set(actual.partitions) == Set(expected.partitions),
          "\(label): date= folders only stedi's: \(Set(expected.partitions).subtracting(actual.partitions).sorted().prefix(5)); only spark's: \(Set(actual.partitions).subtracting(expected.partitions).sorted().prefix(5))"
        )
        #expect(
          FileManager.default.fileExists(atPath: "\(embedded)/\(folder)/_delta_log"), "\(label): stedi's Delta log")
      } else {
        expected = try TableFolder.ndjson("\(embedded)/\(folder)")
        actual = try TableFolder.ndjson("\(spark)/\(folder)")
        #expect(actual.other.isEmpty, "\(label): spark wrote \(actual.other)")
      }
      // Spark replaced the folder whole: no stale Delta log of stedi's, and no _SUCCESS marker.
      #expect(!FileManager.default.fileExists(atPath: "\(spark)/\(folder)/_delta_log"), "\(label): a stale _delta_log")
      #expect(!FileManager.default.fileExists(atPath: "\(spark)/\(folder)/_SUCCESS"), "\(label): a _SUCCESS marker")

      let expectedRows = expected.canonicalRows
      let actualRows = actual.canonicalRows
      #expect(!expectedRows.isEmpty, "\(folder) is empty: the comparison would prove nothing")
      #expect(
        actualRows.count == expectedRows.count,
        "\(label): spark \(actualRows.count) rows, stedi \(expectedRows.count)")
      if actualRows != expectedRows {
        let missing = Set(expectedRows).subtracting(actualRows).prefix(3)
        let extra = Set(actualRows).subtracting(expectedRows).prefix(3)
        Issue.record("\(label) differs; only stedi: \(Array(missing)); only spark: \(Array(extra))")
      }
    }
  }

  /// Each profile in its default format (strict Parquet, udacity NDJSON), and strict in NDJSON.
  static let cases = [("strict", "parquet"), ("udacity", "ndjson"), ("strict", "ndjson")]

  @Test(
    .enabled(if: SparkEnvironment.dataset != nil, "../shared/datasets/stedi-udacity is absent"),
    arguments: cases.prefix(2))
  func sparkEqualsEmbeddedOnThePublicData(profile: String, format: String) throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    try compareEngines(landing: SparkEnvironment.dataset!, profile: profile, format: format, scratch: scratch)
  }

  @Test(arguments: cases)
  func sparkEqualsEmbeddedOnAGeneratedLakeWithEveryFlaw(profile: String, format: String) throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let generated = scratch.path + "/generated"
    try StediProcess.generateLakeWithEveryFlaw(at: generated)
    try compareEngines(landing: generated, profile: profile, format: format, scratch: scratch)
  }

  /// One customer and one device spelled several ways (case, NFC/NFD, white space, a Kelvin sign):
  /// both engines treat them as one identity and show the same spelling.
  @Test(arguments: cases.prefix(2))
  func sparkEqualsEmbeddedWhenIdentitiesAreSpelledSeveralWays(profile: String, format: String) throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let landing = scratch.path + "/spellings"
    let t: Int64 = 1_700_000_000_000
    func customer(_ email: String, _ serial: String, updated: Int64, consent: Int64?) -> String {
      #"{"customerName":"C","email":\#(json(email)),"phone":"1","birthDay":"1990-01-01","serialNumber":\#(json(serial)),"registrationDate":\#(t),"lastUpdateDate":\#(updated),"shareWithResearchAsOfDate":\#(consent.map(String.init) ?? "null"),"shareWithPublicAsOfDate":null,"shareWithFriendsAsOfDate":null}"#
    }
    func json(_ text: String) -> String {
      String(decoding: try! JSONSerialization.data(withJSONObject: text, options: .fragmentsAllowed), as: UTF8.self)
    }
    let files: [String: [String]] = [
      "customer": [
        customer("Élise@X.com", "SER-K1", updated: t + 1, consent: t),
        customer(" e\u{301}lise@x.com", "ser-k1", updated: t + 2, consent: t + 5),
        customer("kim@x.com", "SER-2", updated: t + 1, consent: t),
        customer("\u{212A}IM@x.com", "SER-2", updated: t + 3, consent: nil),
        customer("bob@x.com", "SER-3", updated: t + 1, consent: t),
      ],
      "accelerometer": (0..<6).flatMap { index -> [String] in
        let time = t + 10 * Int64(index)
        return ["élise@x.com", "ÉLISE@x.com ", "KIM@x.com", "bob@x.com"].map {
          #"{"user":\#(json($0)),"timestamp":\#(time),"x":1,"y":2,"z":3}"#
        }
      },
      "step_trainer": (0..<6).flatMap { index -> [String] in
        let time = t + 10 * Int64(index)
        return ["SER-K1", "ser-k1 ", "ser-2", "SER-3"].map {
          #"{"sensorReadingTime":\#(time),"serialNumber":\#(json($0)),"distanceFromObject":200}"#
        }
      },
    ]
    for (source, lines) in files {
      try FileManager.default.createDirectory(atPath: "\(landing)/\(source)/landing", withIntermediateDirectories: true)
      try Data((lines.joined(separator: "\n") + "\n").utf8).write(
        to: URL(fileURLWithPath: "\(landing)/\(source)/landing/part.json"))
    }
    try compareEngines(landing: landing, profile: profile, format: format, scratch: scratch)
  }
}

/// Where the Spark virtualenv and the public dataset are, if present.
enum SparkEnvironment {
  static let packageRoot = TestPaths.packageRoot

  static let python: String? = {
    let path = packageRoot.appendingPathComponent(".venv-spark/bin/python").path
    return FileManager.default.isExecutableFile(atPath: path) ? path : nil
  }()

  static let dataset: String? = UdacityDataset.path
}
