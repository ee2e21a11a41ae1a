import Foundation
import StediTestSupport
import Testing

/// The exported Spark job computes exactly the tables the embedded engine computes, row by row,
/// for both profiles, on the public data and on a generated lake with every flaw.
@Suite(
  .enabled(if: SparkEnvironment.python != nil, "no .venv-spark with pyspark: run scripts/test.sh, which installs it"),
  .serialized)
struct SparkExportTests {
  static let tableFolders = [
    "customer/trusted", "accelerometer/trusted", "customer/curated", "step_trainer/trusted", "step_trainer/curated",
  ]

  /// Every row of a table as canonical text (keys sorted, numbers as doubles), sorted.
  func rows(_ folder: String) throws -> [String] {
    var rows: [String] = []
    for name in try FileManager.default.contentsOfDirectory(atPath: folder)
    where name.hasSuffix(".json") && !name.hasPrefix(".") && !name.hasPrefix("_") {
      let text = try String(contentsOfFile: "\(folder)/\(name)", encoding: .utf8)
      for line in text.split(separator: "\n") where !line.isEmpty {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        rows.append(
          object.keys.sorted().map { key -> String in
            switch object[key] {
            case let number as NSNumber: return "\(key)=\(number.doubleValue)"
            case let string as String: return "\(key)=\(string)"
            default: return "\(key)=null"
            }
          }.joined(separator: "|"))
      }
    }
    return rows.sorted()
  }

  /// Runs both engines on copies of `landing` and compares every table.
  func compareEngines(landing: String, profile: String, scratch: TemporaryFolder) throws {
    let embedded = scratch.path + "/embedded-\(profile)"
    let spark = scratch.path + "/spark-\(profile)"
    for lake in [embedded, spark] {
      try FileManager.default.createDirectory(atPath: lake, withIntermediateDirectories: true)
      for source in ["customer", "accelerometer", "step_trainer"] {
        try FileManager.default.createDirectory(atPath: "\(lake)/\(source)", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: "\(landing)/\(source)/landing", toPath: "\(lake)/\(source)/landing")
      }
    }
    let run = try StediProcess.run(["pipeline", "run", "--lake", embedded, "--profile", profile, "--json"])
    #expect(run.status == 0, "\(run.stderr)")
    // The same pseudonym key, so the same subject ids.
    try FileManager.default.createDirectory(atPath: spark + "/_stedi", withIntermediateDirectories: true)
    try FileManager.default.copyItem(
      atPath: embedded + "/_stedi/pseudonym.key", toPath: spark + "/_stedi/pseudonym.key")

    let jobs = scratch.path + "/jobs-\(profile)"
    let export = try StediProcess.run(["pipeline", "export", "--target", "spark", "--profile", profile, "--out", jobs])
    #expect(export.status == 0, "\(export.stderr)")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: SparkEnvironment.python!)
    process.arguments = [jobs + "/run_pipeline.py", "--lake", spark, "--master", "local[2]"]
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let complaints = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "spark job failed:\n\(complaints.suffix(3000))")
    #expect(printed.contains("\"engine\": \"spark\""), "\(printed)")

    for folder in Self.tableFolders {
      let expected = try rows("\(embedded)/\(folder)")
      let actual = try rows("\(spark)/\(folder)")
      #expect(!expected.isEmpty, "\(folder) is empty: the comparison would prove nothing")
      #expect(
        actual.count == expected.count, "\(profile) \(folder): spark \(actual.count) rows, stedi \(expected.count)")
      if actual != expected {
        let missing = Set(expected).subtracting(actual).prefix(3)
        let extra = Set(actual).subtracting(expected).prefix(3)
        Issue.record("\(profile) \(folder) differs; only stedi: \(Array(missing)); only spark: \(Array(extra))")
      }
    }
  }

  @Test(
    .enabled(if: SparkEnvironment.dataset != nil, "../shared/datasets/stedi-udacity is absent"),
    arguments: ["strict", "udacity"])
  func sparkEqualsEmbeddedOnThePublicData(profile: String) throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    try compareEngines(landing: SparkEnvironment.dataset!, profile: profile, scratch: scratch)
  }

  @Test(arguments: ["strict", "udacity"])
  func sparkEqualsEmbeddedOnAGeneratedLakeWithEveryFlaw(profile: String) throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let generated = scratch.path + "/generated"
    let run = try StediProcess.run([
      "generate", "--lake", generated, "--customers", "80", "--days", "2", "--session-seconds", "12", "--seed", "11",
    ])
    #expect(run.status == 0, "\(run.stderr)")
    try compareEngines(landing: generated, profile: profile, scratch: scratch)
  }

  /// One customer and one device spelled several ways (case, NFC/NFD, white space, a Kelvin sign):
  /// both engines treat them as one identity and show the same spelling.
  @Test(arguments: ["strict", "udacity"])
  func sparkEqualsEmbeddedWhenIdentitiesAreSpelledSeveralWays(profile: String) throws {
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
    try compareEngines(landing: landing, profile: profile, scratch: scratch)
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
