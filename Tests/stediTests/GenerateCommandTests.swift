import Foundation
import StediTestSupport
import Testing

/// `stedi generate`: deterministic lakes whose flaws the pipeline finds exactly as the manifest says.
@Suite struct GenerateCommandTests {
  func manifest(_ lake: String) throws -> [String: Any] {
    let data = try #require(FileManager.default.contents(atPath: lake + "/_stedi/generate-manifest.json"))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
  }

  func funnel(_ lake: String) throws -> [String: Any] {
    let run = try StediProcess.run(["pipeline", "run", "--lake", lake, "--json"])
    #expect(run.status == 0, "\(run.stderr)")
    return try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
  }

  @Test func sameSeedWritesByteIdenticalLakesAndAnotherSeedDoesNot() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    for (name, seed) in [("a", "7"), ("b", "7"), ("c", "8")] {
      let run = try StediProcess.run([
        "generate", "--lake", "\(scratch.path)/\(name)", "--customers", "20", "--days", "2", "--seed", seed,
        "--session-seconds", "20",
      ])
      #expect(run.status == 0, "\(run.stderr)")
    }
    let files = { (lake: String) -> [String: Data] in
      var contents: [String: Data] = [:]
      let enumerator = FileManager.default.enumerator(atPath: lake)
      while let path = enumerator?.nextObject() as? String {
        var isDirectory: ObjCBool = false
        FileManager.default.fileExists(atPath: "\(lake)/\(path)", isDirectory: &isDirectory)
        if !isDirectory.boolValue { contents[path] = FileManager.default.contents(atPath: "\(lake)/\(path)") }
      }
      return contents
    }
    let a = files("\(scratch.path)/a")
    #expect(a.count == 7, "4 landing files, 2 re-delivered copies and the manifest")
    #expect(a == files("\(scratch.path)/b"))
    #expect(a != files("\(scratch.path)/c"))
  }

  /// `--json` prints one object whose counts are the manifest's.
  @Test func theJSONSummaryCountsWhatTheManifestCounts() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = scratch.path + "/lake \"quoted\""
    let run = try StediProcess.run([
      "generate", "--lake", lake, "--customers", "20", "--days", "1", "--session-seconds", "15", "--json",
    ])
    #expect(run.status == 0, "\(run.stderr)")
    let summary = try #require(
      try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], "\(run.stdout)")
    let rows = try #require(try manifest(lake)["rows"] as? [String: Int])
    #expect(summary["lake"] as? String == lake)
    #expect(summary["rows"] as? [String: Int] == rows)
    #expect(summary["readings"] as? Int == rows["accelerometer"]! + rows["step_trainer"]!)
    #expect((summary["malformed"] as? Int ?? 0) > 0, "every flaw by default, malformed lines included")
    #expect(summary["seconds"] is NSNumber)
  }

  @Test func pipelineFunnelMatchesTheManifestWithEveryFlawButSerialReuse() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = scratch.path + "/lake"
    let flaws = "duplicate-emails,withdrawn-consent,readings-before-consent,redelivered-batches,malformed-lines"
    let run = try StediProcess.run([
      "generate", "--lake", lake, "--customers", "60", "--days", "2", "--flaws", flaws, "--session-seconds", "15",
    ])
    #expect(run.status == 0, "\(run.stderr)")
    let manifest = try manifest(lake)
    let funnel = try funnel(lake)
    let tables = try #require(funnel["tables"] as? [String: Int])
    let expected = try #require(manifest["expectedStrict"] as? [String: Int])
    for table in [
      "customer_trusted", "accelerometer_trusted", "customers_curated", "step_trainer_trusted",
      "machine_learning_curated",
    ] {
      #expect(tables[table] == expected[table], "\(table)")
    }
    let rows = try #require(manifest["rows"] as? [String: Int])
    #expect(tables["customer_landing"] == rows["customer"])
    #expect(tables["accelerometer_landing"] == rows["accelerometer"])
    #expect(tables["step_trainer_landing"] == rows["step_trainer"])
    // Every malformed line is quarantined, for the reason the generator broke it.
    let quarantined = try #require(funnel["quarantineReasons"] as? [String: [String: Int]])
    let malformed = try #require(manifest["malformed"] as? [String: [String: Int]])
    #expect(quarantined == malformed)
    // The flaws are really there.
    #expect((manifest["withdrawals"] as? Int ?? 0) > 0)
    #expect((manifest["lateConsents"] as? Int ?? 0) > 0)
    #expect((manifest["duplicateEmailRecords"] as? Int ?? 0) > 0)
    #expect(((manifest["readingsBeforeConsent"] as? [String: Int])?["accelerometer"] ?? 0) > 0)
    #expect(((manifest["redeliveredRows"] as? [String: Int])?["accelerometer"] ?? 0) > 0)
  }

  @Test func reusedSerialsAreSharedAndTheOwnerAwareJoinStillHolds() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = scratch.path + "/lake"
    #expect(
      try StediProcess.run(["generate", "--lake", lake, "--customers", "80", "--seed", "3", "--session-seconds", "15"])
        .status == 0)
    let manifest = try manifest(lake)
    #expect((manifest["reusedSerials"] as? Int ?? 0) >= 1)
    #expect((manifest["customersOnReusedSerials"] as? Int ?? 0) >= 2)
    let funnel = try funnel(lake)
    let tables = try #require(funnel["tables"] as? [String: Int])
    let expected = try #require(manifest["expectedStrict"] as? [String: Int])
    for table in ["customer_trusted", "accelerometer_trusted", "customers_curated"] {
      #expect(tables[table] == expected[table], "\(table)")
    }
    #expect((funnel["checks"] as? [String: Any])?["failed"] as? [String] == [])
  }

  @Test func filesHaveThePublicDataFormat() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = scratch.path + "/lake"
    #expect(
      try StediProcess.run([
        "generate", "--lake", lake, "--customers", "5", "--flaws", "none", "--quantised", "--session-seconds", "10",
      ]).status == 0)
    func firstLine(_ table: String) throws -> String {
      let folder = "\(lake)/\(table)/landing"
      let name = try #require(try FileManager.default.contentsOfDirectory(atPath: folder).sorted().first)
      return String(try String(contentsOfFile: "\(folder)/\(name)", encoding: .utf8).split(separator: "\n")[0])
    }
    let customer = try firstLine("customer")
    #expect(customer.hasPrefix("{\"customerName\": \""))
    #expect(customer.contains("\", \"email\": \""))
    #expect(customer.contains("\"registrationDate\": 1"))
    let reading = try firstLine("accelerometer")
    #expect(
      reading.wholeMatch(
        of: /\{"user":"[^"]+@test\.com","timestamp":\d{13},"x":-?[01]\.0,"y":-?[01]\.0,"z":-?[01]\.0\}/) != nil,
      "\(reading)")
    let step = try firstLine("step_trainer")
    #expect(
      step.wholeMatch(of: /\{"sensorReadingTime":\d{13},"serialNumber":"[0-9a-f-]{36}","distanceFromObject":\d+\}/)
        != nil, "\(step)")
    let event = try firstLine("step_events")
    #expect(
      event.wholeMatch(of: /\{"user":"[^"]+","serialNumber":"[0-9a-f-]{36}","timestamp":\d{13},"foot":"(left|right)"\}/)
        != nil, "\(event)")
  }

  @Test func unknownFlawIsAUsageError() throws {
    let run = try StediProcess.run([
      "generate", "--lake", "/tmp/x", "--customers", "1", "--profile-of-flaws", "gremlins",
    ])
    #expect(run.status == 64)
    #expect(run.stderr.contains("unknown flaw 'gremlins'"))
  }
}
