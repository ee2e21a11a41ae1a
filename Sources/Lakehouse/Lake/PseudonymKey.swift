import Crypto
import Foundation
import LakeStorage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The per-lake secret behind `subjectId`: HMAC-SHA256 of a customer's email, in hex.
///
/// The key is kept outside every table, so the curated data alone cannot be linked back to an
/// email; the same key gives the same ids on every run, so a subject stays one subject.
public struct PseudonymKey: Sendable {
  private let key: SymmetricKey

  /// The default key location inside a lake; point `STEDI_PSEUDONYM_KEY_FILE` elsewhere to keep it apart.
  public static func defaultPath(in lake: Lake) -> String { "\(lake.metadataFolder)/pseudonym.key" }

  public init(bytes: [UInt8]) { key = SymmetricKey(data: bytes) }

  /// Reads the key at `path` (64 hex digits), creating a random one there on first use.
  public static func loadOrCreate(at path: String) throws(StorageError) -> PseudonymKey {
    PseudonymKey(bytes: try SecretKeyFile.loadOrCreate(at: path))
  }

  /// The subject id of `email`: one per customer, whichever spelling of the email is given.
  public func subjectId(email: String) -> String {
    let mac = HMAC<SHA256>.authenticationCode(for: Array(Identity.canonical(email).utf8), using: key)
    return mac.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
  }
}

extension String {
  func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}
