import Foundation
import IngestAPI

/// Credentials and request bodies for tests of the ingest contract.
public enum IngestFakes {
  /// A fixed token key (32 bytes).
  public static let key = try! TokenKey(bytes: Array("0123456789abcdef0123456789abcdef".utf8))

  /// A token for `subject` in `role` that expires `seconds` from now.
  public static func token(_ role: AccessToken.Role, _ subject: String, expiresIn seconds: Double = 3600)
    -> AccessToken
  {
    AccessToken(role: role, subject: subject, expiresAt: Int64(Date().timeIntervalSince1970 + seconds))
  }

  /// NDJSON step-trainer readings for `serial`, with distinct times from `start`, one a line.
  public static func stepTrainerBody(serial: String, count: Int, start: Int64 = 1_700_000_000_000) -> String {
    (0..<count).map {
      #"{"sensorReadingTime":\#(start + Int64($0)),"serialNumber":"\#(serial)","distanceFromObject":\#(200 + $0 % 50)}"#
    }.joined(separator: "\n") + "\n"
  }
}
