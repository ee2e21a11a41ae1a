import Crypto
import Foundation
import LakeStorage

/// The lake's secret behind the erasure list: keyed hashes of erased emails and serial numbers.
///
/// Kept apart from the pseudonym key so that an entry of the erasure list cannot be matched to a
/// subjectId of an old curated table, and the ingest service needs no key that re-identifies data.
public struct ErasureKey: Sendable {
  private let key: SymmetricKey

  /// Where the key lives in a lake.
  public static let storageKey = "_stedi/erasure.key"

  /// A key from raw bytes.
  public init(bytes: [UInt8]) { key = SymmetricKey(data: bytes) }

  /// The lake's erasure key, created on first use when `create` is set; nil when absent and not created.
  public static func load(storage: any LakeStorage, create: Bool) async throws(StorageError) -> ErasureKey? {
    try await SecretKeyFile.load(storage: storage, key: storageKey, create: create).map(ErasureKey.init(bytes:))
  }

  /// The form an email is compared in: its canonical identity (`Identity.canonical`).
  public static func normalized(email: String) -> String { Identity.canonical(email) }

  /// The keyed hash of an email (normalized first).
  public func hash(email: String) -> String { mac("email\u{0}" + Self.normalized(email: email)) }

  /// The keyed hash of a serial number (its canonical identity).
  public func hash(serialNumber: String) -> String { mac("serial\u{0}" + Identity.canonical(serialNumber)) }

  private func mac(_ text: String) -> String {
    SecretKeyFile.hex(Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key)))
  }
}
