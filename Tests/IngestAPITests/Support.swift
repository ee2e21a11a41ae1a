import Foundation
import IngestAPI
import LakeStorage
import Lakehouse

/// A fresh lake folder for one test, removed by `remove()`.
struct TestLake {
  let root: String

  init(_ name: String = #function) throws {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    root =
      FileManager.default.temporaryDirectory.appendingPathComponent("stedi-ingestapi-\(safe)-\(UUID().uuidString)")
      .path
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
  }

  var storage: FileSystemStorage { FileSystemStorage(root: root) }
  var logFolder: String { "\(root)/_stedi/ingest-wal" }

  func remove() { try? FileManager.default.removeItem(atPath: root) }
}

/// A key for tests (32 bytes).
let testKey = try! TokenKey(bytes: Array("0123456789abcdef0123456789abcdef".utf8))

func token(_ role: AccessToken.Role, _ subject: String, expiresIn seconds: Double = 3600) -> AccessToken {
  AccessToken(role: role, subject: subject, expiresAt: Int64(Date().timeIntervalSince1970 + seconds))
}

/// NDJSON step-trainer readings for `serial`, with distinct times from `start`.
func stepTrainerBody(serial: String, count: Int, start: Int64 = 1_700_000_000_000) -> [UInt8] {
  Array(
    ((0..<count).map {
      #"{"sensorReadingTime":\#(start + Int64($0)),"serialNumber":"\#(serial)","distanceFromObject":\#(200 + $0 % 50)}"#
    }.joined(separator: "\n") + "\n").utf8)
}
