import Foundation
import Lakehouse
import Motion
import Testing

@testable import PhoneCapture

/// An import run end to end in process: a phyphox export on disk (with its meta/time.csv) into a
/// lake's accelerometer landing folder, rejected rows into quarantine, re-imports idempotent.
@Suite struct PhoneImportRunTests {
  struct Folder {
    let root: String
    var export: String { "\(root)/export/Raw Data.csv" }
    var lake: String { "\(root)/lake" }

    init(rows: [String]) throws {
      root = FileManager.default.temporaryDirectory.appendingPathComponent("PhoneImportRunTests-\(UUID())").path
      try FileManager.default.createDirectory(atPath: "\(root)/export/meta", withIntermediateDirectories: true)
      try FileManager.default.createDirectory(atPath: "\(root)/lake", withIntermediateDirectories: true)
      try PhoneImportTests.androidTimeFile.write(
        toFile: "\(root)/export/meta/time.csv", atomically: true, encoding: .utf8)
      try ([PhoneImportTests.phyphoxHeader] + rows).joined(separator: "\n")
        .write(toFile: export, atomically: true, encoding: .utf8)
    }

    func run() throws -> PhoneImportOutcome {
      try PhoneImportRun(source: export, user: "ada@example.com", lake: try Lake(root: lake)).run()
    }
  }

  static func lines(_ path: String) throws -> [String] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
  }

  @Test func samplesLandAndBadRowsAreQuarantinedUnderOneName() throws {
    let folder = try Folder(rows: PhoneImportTests.phyphoxRows + ["4.0E-2,abc,2.0E0,3.0E0,3.7E0"])
    defer { try? FileManager.default.removeItem(atPath: folder.root) }
    let outcome = try folder.run()
    let bytes = Array(FileManager.default.contents(atPath: folder.export)!)
    let name = "import-\(PhoneImportTests.start + 33)-\(PhoneImportRun.shortHash(bytes)).json"
    #expect(outcome.landingPath == "\(folder.lake)/accelerometer/landing/\(name)")
    #expect(outcome.quarantinePath == "\(folder.lake)/accelerometer/quarantine/\(name)")
    #expect(!outcome.unchanged)
    var expected = NDJSONBuffer()
    for sample in PhoneImportTests.phyphoxExpected {
      AccelerometerReading(user: "ada@example.com", timestamp: sample.timestamp, x: sample.x, y: sample.y, z: sample.z)
        .render(into: &expected)
    }
    #expect(FileManager.default.contents(atPath: outcome.landingPath).map(Array.init) == expected.bytes)
    let quarantined = try Self.lines(outcome.quarantinePath!)
    #expect(quarantined.count == 1)
    #expect(quarantined[0].contains("\"wrong_type\"") && quarantined[0].contains("invalid_number: "))
    #expect(outcome.summary.contains("  samples imported  3\n  rows rejected     1\n"))
    #expect(outcome.summary.contains("  time range        2023-09-25T20:35:32.415Z to 2023-09-25T20:35:50.646Z"))
  }

  @Test func importingTheSameFileAgainChangesNothing() throws {
    let folder = try Folder(rows: PhoneImportTests.phyphoxRows)
    defer { try? FileManager.default.removeItem(atPath: folder.root) }
    let first = try folder.run()
    let landed = FileManager.default.contents(atPath: first.landingPath)
    let second = try folder.run()
    #expect(second.landingPath == first.landingPath)
    #expect(second.unchanged)
    #expect(second.quarantinePath == nil)
    #expect(FileManager.default.contents(atPath: second.landingPath) == landed)
    #expect(try FileManager.default.contentsOfDirectory(atPath: "\(folder.lake)/accelerometer/landing").count == 1)
  }

  @Test func aFileWithoutASingleSampleWritesNothing() throws {
    let folder = try Folder(rows: ["1.0E-2,abc,2.0E0,3.0E0,3.7E0"])
    defer { try? FileManager.default.removeItem(atPath: folder.root) }
    #expect {
      _ = try folder.run()
    } throws: { error in
      guard case .unusable(let message) = error as? PhoneImportRunError else { return false }
      return message.contains("has no importable sample; nothing was written (1 rows rejected, for example:")
    }
    #expect(!FileManager.default.fileExists(atPath: "\(folder.lake)/accelerometer"))
  }

  @Test func aMissingFileSaysSo() throws {
    let folder = try Folder(rows: [])
    defer { try? FileManager.default.removeItem(atPath: folder.root) }
    let run = PhoneImportRun(source: "\(folder.root)/nope.csv", user: "a@b.c", lake: try Lake(root: folder.lake))
    #expect {
      _ = try run.run()
    } throws: { error in
      "\(error)" == "cannot read \(folder.root)/nope.csv: no such file"
    }
  }
}
