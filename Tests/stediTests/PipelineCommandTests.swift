import Foundation
import StediTestSupport
import Testing

/// `stedi pipeline run` and `check` as a data engineer uses them: real process, real folders.
@Suite struct PipelineCommandTests {
  @Test func sampleLakeRunPrintsAReconcilingJSONFunnel() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = scratch.path + "/lake"
    let sample = try StediProcess.run(["lake", "sample", "--lake", lake, "--customers", "60", "--seed", "3"])
    #expect(sample.status == 0, "\(sample.stderr)")

    let run = try StediProcess.run(["pipeline", "run", "--lake", lake, "--json"])
    #expect(run.status == 0, "\(run.stderr)")
    let funnel = try #require(
      try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "stdout is one JSON object")
    #expect(funnel["profile"] as? String == "strict")
    let tables = try #require(funnel["tables"] as? [String: Int])
    for name in [
      "customer_landing", "accelerometer_landing", "step_trainer_landing", "customer_trusted",
      "accelerometer_trusted", "customers_curated", "step_trainer_trusted", "machine_learning_curated",
    ] {
      #expect(tables[name] != nil, "missing \(name)")
    }
    #expect(tables["machine_learning_curated", default: 0] > 0)
    #expect(tables["customer_trusted", default: 0] < tables["customer_landing", default: 0])
    // The sample lake carries malformed lines of each kind; every one is quarantined, none lost.
    let quarantined = try #require(funnel["quarantined"] as? [String: Int])
    #expect(quarantined == ["customer": 4, "accelerometer": 2, "step_trainer": 1])
    let lines = try #require(funnel["lines"] as? [String: [String: Int]])
    for (source, counts) in lines {
      #expect(counts["read"] == counts["accepted"]! + counts["quarantined"]! + counts["blank"]!, "\(source)")
    }
    #expect(lines["customer"]?["blank"] == 1)
    #expect(funnel["seconds"] is Double)

    let quarantineFile = try String(contentsOfFile: lake + "/customer/quarantine/part-00000.json", encoding: .utf8)
    let entries = quarantineFile.split(separator: "\n").map {
      try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
    }
    #expect(entries.count == 4)
    #expect(
      Set(entries.compactMap { $0["reason"] as? String }) == [
        "truncated", "missing_field", "wrong_type", "not_an_object",
      ])
    for entry in entries {
      #expect((entry["sourceFile"] as? String)?.hasPrefix("customer/landing/") == true)
      #expect((entry["line"] as? Int ?? 0) > 0)
      #expect(entry["raw"] is String)
      #expect(entry["detail"] is String)
    }

    let check = try StediProcess.run(["pipeline", "check", "--lake", lake])
    #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    #expect(check.stdout.contains("passed"))
  }

  @Test func humanFunnelShowsEveryTableAndQuarantineReason() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = scratch.path + "/lake"
    try StediProcess.run(["lake", "sample", "--lake", lake, "--customers", "30"])
    let run = try StediProcess.run(["pipeline", "run", "--lake", lake, "--profile", "udacity"])
    #expect(run.status == 0)
    for text in ["profile: udacity", "machine_learning_curated", "invalid_utf8 1", "wrong_type 1", "truncated 1"] {
      #expect(run.stdout.contains(text), "funnel lacks \(text):\n\(run.stdout)")
    }
  }

  @Test func missingLakeIsAClearErrorWithExitCode2() throws {
    let run = try StediProcess.run(["pipeline", "run", "--lake", "/nonexistent/stedi-lake"])
    #expect(run.status == 2)
    #expect(run.stderr.contains("no lake at /nonexistent/stedi-lake"))
  }

  @Test func unknownProfileIsRejected() throws {
    let run = try StediProcess.run(["pipeline", "run", "--lake", "/tmp", "--profile", "lenient"])
    #expect(run.status != 0)
    #expect(run.stderr.contains("lenient"))
  }

  @Test func unreadableLandingFileStopsTheRunAndPublishesNothing() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = scratch.path + "/lake"
    try StediProcess.run(["lake", "sample", "--lake", lake, "--customers", "10"])
    // A landing file that cannot be opened, whoever runs the test (root reads any mode): a broken link.
    try FileManager.default.createSymbolicLink(
      atPath: lake + "/step_trainer/landing/lost-batch.json", withDestinationPath: scratch.path + "/gone.json")
    let run = try StediProcess.run(["pipeline", "run", "--lake", lake])
    #expect(run.status == 2)
    #expect(run.stderr.contains("cannot read \(lake)/step_trainer/landing/lost-batch.json"), "\(run.stderr)")
    #expect(TemporaryLake.publishedTables(lake).isEmpty, "nothing may be published from a partial read")
  }

  @Test func checkFailsWithAReadableListWhenATableIsTamperedWith() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = scratch.path + "/lake"
    try StediProcess.run(["lake", "sample", "--lake", lake, "--customers", "40"])
    #expect(try StediProcess.run(["pipeline", "run", "--lake", lake, "--format", "ndjson"]).status == 0)

    // Someone appends an email-bearing row and a duplicate to the curated table by hand.
    let curated = lake + "/step_trainer/curated/part-00000.json"
    var text = try String(contentsOfFile: curated, encoding: .utf8)
    let firstLine = String(text.split(separator: "\n")[0])
    text += firstLine + "\n"
    text += firstLine.replacingOccurrences(of: "}", with: ",\"user\":\"Customer.0@sample.test\"}") + "\n"
    try text.write(toFile: curated, atomically: true, encoding: .utf8)

    let check = try StediProcess.run(["pipeline", "check", "--lake", lake])
    #expect(check.status == 3)
    #expect(check.stdout.contains("machine_learning_curated: unique"), "\(check.stdout)")
    #expect(check.stdout.contains("machine_learning_curated: no_direct_identifiers"), "\(check.stdout)")
  }

  @Test func checkNamesADamagedParquetFileInOneLine() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = scratch.path + "/lake"
    try StediProcess.run(["lake", "sample", "--lake", lake, "--customers", "40"])
    let run = try StediProcess.run(["pipeline", "run", "--lake", lake])
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.contains("format: parquet"), "strict writes Parquet unless told: \(run.stdout)")
    #expect(try StediProcess.run(["pipeline", "check", "--lake", lake]).status == 0)

    // A curated data file loses its tail (a copy cut short).
    let folder = lake + "/step_trainer/curated"
    let files = FileManager.default.enumerator(atPath: folder)!.compactMap { $0 as? String }
      .filter { $0.hasSuffix(".parquet") }.sorted()
    let victim = try #require(files.first)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(victim)"))
    try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: "\(folder)/\(victim)"))

    let check = try StediProcess.run(["pipeline", "check", "--lake", lake])
    #expect(check.status != 0 && check.status != 3, "a damaged file is an error, not a failed check")
    let message = check.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(message.contains(victim), "\(check.stderr)")
    #expect(!message.contains("\n"), "one line: \(check.stderr)")
  }
}
