import Foundation
import IngestAPI
import LakeStorage
import Lakehouse

@testable import Ingestion

/// A fresh lake folder for one test, removed by `remove()`.
struct TestLake {
  let root: String

  init(_ name: String = #function) throws {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    root =
      FileManager.default.temporaryDirectory.appendingPathComponent("stedi-ingest-\(safe)-\(UUID().uuidString)")
      .path
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
  }

  var storage: FileSystemStorage { FileSystemStorage(root: root) }
  var logFolder: String { "\(root)/_stedi/ingest-wal" }

  /// Landing files of a source, relative to the root, sorted.
  func landingFiles(_ source: LandingSource) -> [String] {
    let folder = "\(root)/\(source.landingFolder)"
    guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
    return enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.sorted()
      .map { "\(source.landingFolder)/\($0)" }
  }

  /// Every landing line of a source.
  func landingLines(_ source: LandingSource) -> [String] {
    landingFiles(source).flatMap { file in
      (try? String(contentsOfFile: "\(root)/\(file)", encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
    }
  }

  func remove() { try? FileManager.default.removeItem(atPath: root) }
}

/// A key for tests (32 bytes).
let testKey = try! TokenKey(bytes: Array("0123456789abcdef0123456789abcdef".utf8))

func token(_ role: AccessToken.Role, _ subject: String, expiresIn seconds: Double = 3600) -> AccessToken {
  AccessToken(role: role, subject: subject, expiresAt: Int64(Date().timeIntervalSince1970 + seconds))
}

/// NDJSON step-trainer readings for `serial`, with distinct times from `start`.
func stepTrainerBody(serial: String, count: Int, start: Int64 = 1_700_000_000_000) -> String {
  (0..<count).map {
    #"{"sensorReadingTime":\#(start + Int64($0)),"serialNumber":"\#(serial)","distanceFromObject":\#(200 + $0 % 50)}"#
  }.joined(separator: "\n") + "\n"
}

/// Parses `body` for the step-trainer endpoint with a device token.
func stepTrainerBatch(serial: String, count: Int, start: Int64 = 1_700_000_000_000) throws -> IngestBatch {
  let body = Array(stepTrainerBody(serial: serial, count: count, start: start).utf8)
  return try body.withUnsafeBytes { bytes in
    try IngestBody.parse(bytes, source: .stepTrainer, token: token(.device, serial))
  }
}
