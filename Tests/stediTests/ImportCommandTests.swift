import Foundation
import Lakehouse
import StediTestSupport
import Testing

/// `stedi import phone` as a data engineer uses it: the real binary, test-written exports, a temporary lake.
@Suite struct ImportCommandTests {
  static let user = "Santosh.Clayton@test.com"

  /// A phyphox export folder: `Raw Data.csv` (one bad row) and `meta/time.csv`.
  static func writePhyphoxExport(in folder: String) throws -> String {
    try FileManager.default.createDirectory(atPath: folder + "/meta", withIntermediateDirectories: true)
    try """
    "event","experiment time","system time","system time text"
    "START",0.000000000E0,1695674132.382,"2023-09-25 17:35:32.382 UTC-03:00"
    "PAUSE",1.826954062E1,1695674150.652,"2023-09-25 17:35:50.652 UTC-03:00"

    """.write(toFile: folder + "/meta/time.csv", atomically: true, encoding: .utf8)
    let csv = folder + "/Raw Data.csv"
    try """
    "Time (s)","Acceleration x (m/s^2)","Acceleration y (m/s^2)","Acceleration z (m/s^2)","Absolute acceleration (m/s^2)"
    3.352406400E-2,3.759722710E-1,3.349951655E-2,9.849455833E0,9.856685933E0
    3.595385600E-2,1.0E0,-1.0E0,-1.0E0,1.732050808E0
    3.838364800E-2,NaN,3.828516230E-2,9.844670296E0,9.852670436E0
    4.081343900E-2,3.783650696E-1,5.982056633E-2,9.837491989E0,9.84
    """.write(toFile: csv, atomically: true, encoding: .utf8)
    return csv
  }

  static func importFiles(_ lake: String, _ zone: String) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "\(lake)/accelerometer/\(zone)")) ?? [])
      .filter { $0.hasPrefix("import-") }.sorted()
  }

  static func jsonLines(_ path: String) throws -> [[String: Any]] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    #expect(text.hasSuffix("\n"))
    return try text.split(separator: "\n").map {
      try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
    }
  }

  @Test func phyphoxExportBecomesOneLandingFileAndAQuarantineFile() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = scratch.path + "/lake"
    try FileManager.default.createDirectory(atPath: lake, withIntermediateDirectories: true)
    let csv = try Self.writePhyphoxExport(in: scratch.path + "/export")

    let run = try StediProcess.run(["import", "phone", "--from", csv, "--user", Self.user, "--lake", lake])
    #expect(run.status == 0, "\(run.stderr)")
    for text in [
      "samples imported  3", "rows rejected     1", "2023-09-25T20:35:32.415Z to 2023-09-25T20:35:32.422Z",
      "gravity           included", "rejected line 4: non_finite", "part-00000.json",
    ] {
      #expect(run.stdout.contains(text), "summary lacks \(text):\n\(run.stdout)")
    }

    let landingFiles = Self.importFiles(lake, "landing")
    #expect(landingFiles.count == 1)
    let name = try #require(landingFiles.first)
    #expect(name.wholeMatch(of: /import-1695674132415-[0-9a-f]{12}\.json/) != nil, "\(name)")

    // Each line is a valid landing reading: the lake's own decoder accepts it, with exact times.
    let landing = try #require(FileManager.default.contents(atPath: "\(lake)/accelerometer/landing/\(name)"))
    let lines = landing.split(separator: UInt8(ascii: "\n"))
    let readings = try lines.map { line in
      try Array(line).withUnsafeBufferPointer { try AccelerometerReading.decode($0) }
    }
    #expect(
      readings == [
        AccelerometerReading(
          user: Self.user, timestamp: 1_695_674_132_415, x: 0.3759722710, y: 0.03349951655, z: 9.849455833),
        AccelerometerReading(user: Self.user, timestamp: 1_695_674_132_417, x: 1, y: -1, z: -1),
        AccelerometerReading(
          user: Self.user, timestamp: 1_695_674_132_422, x: 0.3783650696, y: 0.05982056633, z: 9.837491989),
      ])
    // The landing zone's exact text: key order and `1.0` for whole values, like the phone app's lines.
    #expect(
      String(decoding: lines[1], as: UTF8.self)
        == #"{"user":"Santosh.Clayton@test.com","timestamp":1695674132417,"x":1.0,"y":-1.0,"z":-1.0}"#)

    #expect(Self.importFiles(lake, "quarantine") == [name])
    let entries = try Self.jsonLines("\(lake)/accelerometer/quarantine/\(name)")
    #expect(entries.count == 1)
    #expect(entries[0]["sourceFile"] as? String == csv)
    #expect(entries[0]["line"] as? Int == 4)
    #expect(entries[0]["reason"] as? String == "wrong_type")
    #expect((entries[0]["detail"] as? String)?.hasPrefix("non_finite:") == true)
    #expect(entries[0]["raw"] as? String == "3.838364800E-2,NaN,3.828516230E-2,9.844670296E0,9.852670436E0")
  }

  @Test func reimportingTheSameFileIsIdempotent() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = scratch.path + "/lake"
    try FileManager.default.createDirectory(atPath: lake, withIntermediateDirectories: true)
    let csv = try Self.writePhyphoxExport(in: scratch.path + "/export")
    let arguments = ["import", "phone", "--from", csv, "--user", Self.user, "--lake", lake]

    #expect(try StediProcess.run(arguments).status == 0)
    let first = TemporaryLake.publishedTables(lake).merging(landingSnapshot(lake)) { $1 }
    let again = try StediProcess.run(arguments + ["--format", "phyphox"])
    #expect(again.status == 0, "\(again.stderr)")
    #expect(again.stdout.contains("unchanged: this file was already imported"))
    #expect(TemporaryLake.publishedTables(lake).merging(landingSnapshot(lake)) { $1 } == first)
    #expect(Self.importFiles(lake, "landing").count == 1)

    // A copy of the file under another name is the same recording: same landing file.
    let copy = scratch.path + "/copy.csv"
    try FileManager.default.copyItem(atPath: csv, toPath: copy)
    try FileManager.default.copyItem(atPath: scratch.path + "/export/meta", toPath: scratch.path + "/meta")
    #expect(try StediProcess.run(["import", "phone", "--from", copy, "--user", Self.user, "--lake", lake]).status == 0)
    #expect(Self.importFiles(lake, "landing").count == 1)
  }

  @Test func sensorLoggerJSONWithoutClosingBracketAndSensorChoice() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = scratch.path + "/lake"
    try FileManager.default.createDirectory(atPath: lake, withIntermediateDirectories: true)
    let json = scratch.path + "/2023-11-24_07-25-54.json"
    try """
    [
    {"sensor":"Accelerometer","time":"1700810754682863000","seconds_elapsed":"0.050863037109375","z":"0.125","y":"-0.25","x":"1.5"},
    {"sensor":"TotalAcceleration","time":"1700810755062863000","seconds_elapsed":"-0.430863037109375","z":"8.77","y":"4.37","x":"-0.39"},
    {"sensor":"TotalAcceleration","time":"1700810755072999999","seconds_elapsed":"0.44086328125","z":"8.90","y":"4.38","x":"-0.41"},
    {"sensor":"Metadata","version":"3","platform":"android"}

    """.write(toFile: json, atomically: true, encoding: .utf8)

    let total = try StediProcess.run(["import", "phone", "--from", json, "--user", Self.user, "--lake", lake])
    #expect(total.status == 0, "\(total.stderr)")
    for text in [
      "Sensor Logger JSON, TotalAcceleration", "samples imported  2", "no closing `]`", "gravity           included",
    ] {
      #expect(total.stdout.contains(text), "summary lacks \(text):\n\(total.stdout)")
    }
    let name = try #require(Self.importFiles(lake, "landing").first)
    #expect(name.hasPrefix("import-1700810755062-"))
    let lines = try Self.jsonLines("\(lake)/accelerometer/landing/\(name)")
    // Nanoseconds ÷ 1 000 000, rounded down: …072999999 ns is …072 ms.
    #expect(lines.map { $0["timestamp"] as? Int } == [1_700_810_755_062, 1_700_810_755_072])
    #expect(lines.allSatisfy { $0["user"] as? String == Self.user })
    #expect(Self.importFiles(lake, "quarantine").isEmpty)

    let accelerometer = try StediProcess.run([
      "import", "phone", "--from", json, "--user", Self.user, "--lake", lake, "--sensor", "accelerometer",
    ])
    #expect(accelerometer.status == 0, "\(accelerometer.stderr)")
    #expect(accelerometer.stdout.contains("gravity           removed"))
    #expect(accelerometer.stdout.contains("the same file was also imported as \(name)"))
    #expect(Self.importFiles(lake, "landing").count == 2)
  }

  @Test func unknownFormatExitsWith2AndWritesNothing() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = scratch.path + "/lake"
    try FileManager.default.createDirectory(atPath: lake, withIntermediateDirectories: true)
    let other = scratch.path + "/other.csv"
    try "Timestamp,Milliseconds,X,Y,Z\n1,2,3,4,5\n".write(toFile: other, atomically: true, encoding: .utf8)

    let run = try StediProcess.run(["import", "phone", "--from", other, "--user", Self.user, "--lake", lake])
    #expect(run.status == 2)
    #expect(run.stderr.contains("is not a phone export"), "\(run.stderr)")
    #expect(run.stderr.contains("time,seconds_elapsed,z,y,x"))
    #expect(!FileManager.default.fileExists(atPath: lake + "/accelerometer"))

    let forced = try StediProcess.run([
      "import", "phone", "--from", other, "--user", Self.user, "--lake", lake, "--format", "sensorlogger-csv",
    ])
    #expect(forced.status == 2)
    #expect(forced.stderr.contains("is not a Sensor Logger CSV file"), "\(forced.stderr)")
  }

  @Test func unreadableInputsExitWith2() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = scratch.path + "/lake"
    try FileManager.default.createDirectory(atPath: lake, withIntermediateDirectories: true)

    let missing = try StediProcess.run([
      "import", "phone", "--from", scratch.path + "/none.csv", "--user", Self.user, "--lake", lake,
    ])
    #expect(missing.status == 2)
    #expect(missing.stderr.contains("no such file"), "\(missing.stderr)")

    let folder = try StediProcess.run(["import", "phone", "--from", scratch.path, "--user", Self.user, "--lake", lake])
    #expect(folder.status == 2)

    let noLake = try StediProcess.run([
      "import", "phone", "--from", scratch.path + "/none.csv", "--user", Self.user, "--lake", scratch.path + "/nolake",
    ])
    #expect(noLake.status == 2)
    #expect(noLake.stderr.contains("no lake at"))

    // A phyphox CSV without its meta folder needs --start-ms.
    let csv = scratch.path + "/Raw Data.csv"
    try "\"Time (s)\",\"X (m/s^2)\",\"Y (m/s^2)\",\"Z (m/s^2)\"\n0.5,1,2,3\n".write(
      toFile: csv, atomically: true, encoding: .utf8)
    let noStart = try StediProcess.run(["import", "phone", "--from", csv, "--user", Self.user, "--lake", lake])
    #expect(noStart.status == 2)
    #expect(noStart.stderr.contains("--start-ms"))
    let started = try StediProcess.run([
      "import", "phone", "--from", csv, "--user", Self.user, "--lake", lake, "--start-ms", "1000",
    ])
    #expect(started.status == 0, "\(started.stderr)")
    #expect(started.stdout.contains("1970-01-01T00:00:01.500Z"))

    // Only bad rows: nothing to import.
    try "time,seconds_elapsed,z,y,x\n1,x,0,0,0\n".write(
      toFile: scratch.path + "/Accelerometer.csv", atomically: true, encoding: .utf8)
    let nothing = try StediProcess.run([
      "import", "phone", "--from", scratch.path + "/Accelerometer.csv", "--user", Self.user, "--lake", lake,
    ])
    #expect(nothing.status == 2)
    #expect(nothing.stderr.contains("line 2: invalid_number"), "\(nothing.stderr)")

    let badUser = try StediProcess.run(["import", "phone", "--from", csv, "--user", " ", "--lake", lake])
    #expect(badUser.status != 0)
    #expect(badUser.stderr.contains("--user must be the customer's email"), "\(badUser.stderr)")
  }

  @Test func thePipelineReadsTheImportAndKeepsItsQuarantine() throws {
    let scratch = try TemporaryFolder()
    defer { scratch.remove() }
    let lake = scratch.path + "/lake"
    #expect(try StediProcess.run(["lake", "sample", "--lake", lake, "--customers", "20"]).status == 0)
    let before = try StediProcess.run(["pipeline", "run", "--lake", lake, "--json"])
    #expect(before.status == 0, "\(before.stderr)")
    let csv = try Self.writePhyphoxExport(in: scratch.path + "/export")
    #expect(try StediProcess.run(["import", "phone", "--from", csv, "--user", Self.user, "--lake", lake]).status == 0)

    let after = try StediProcess.run(["pipeline", "run", "--lake", lake, "--json"])
    #expect(after.status == 0, "\(after.stderr)")
    func counts(_ output: String) throws -> (landing: Int, quarantined: Int) {
      let funnel = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
      let tables = try #require(funnel["tables"] as? [String: Int])
      let quarantined = try #require(funnel["quarantined"] as? [String: Int])
      return (tables["accelerometer_landing"] ?? -1, quarantined["accelerometer"] ?? -1)
    }
    let (landingBefore, quarantinedBefore) = try counts(before.stdout)
    let (landingAfter, quarantinedAfter) = try counts(after.stdout)
    #expect(landingAfter == landingBefore + 3)
    #expect(quarantinedAfter == quarantinedBefore)
    // The run rebuilt part-00000.json; the import's own quarantine file is still there.
    #expect(Self.importFiles(lake, "quarantine").count == 1)
  }
}

/// The accelerometer landing files of a lake: relative path → bytes.
private func landingSnapshot(_ lake: String) -> [String: Data] {
  var snapshot: [String: Data] = [:]
  let folder = "accelerometer/landing"
  for name in (try? FileManager.default.contentsOfDirectory(atPath: "\(lake)/\(folder)")) ?? [] {
    snapshot["\(folder)/\(name)"] = FileManager.default.contents(atPath: "\(lake)/\(folder)/\(name)")
  }
  return snapshot
}
