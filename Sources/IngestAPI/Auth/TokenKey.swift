import Crypto
import Foundation
import LakeStorage
import Lakehouse

/// The secret that signs and checks access tokens.
public struct TokenKey: Sendable {
  package let symmetricKey: SymmetricKey

  /// A key from raw bytes (at least 32: an HMAC-SHA256 key shorter than its output weakens it).
  public init(bytes: [UInt8]) throws(TokenKeyError) {
    guard bytes.count >= 32 else { throw .tooShort(bytes.count) }
    symmetricKey = SymmetricKey(data: bytes)
  }

  /// Where the key lives in a lake: with the lake's metadata.
  public static let lakeKey = "_stedi/token.key"

  /// The key from `STEDI_TOKEN_KEY` when set, else the lake's key, created on first use.
  ///
  /// On a filesystem lake the file is created with mode 0600 (readable by its owner only) and
  /// linked into place, so two services starting at once cannot each create a different key.
  public static func load(
    storage: any LakeStorage, environment: [String: String] = ProcessInfo.processInfo.environment
  ) async throws -> TokenKey {
    if let given = environment["STEDI_TOKEN_KEY"], !given.isEmpty {
      return try TokenKey(bytes: Array(given.utf8))
    }
    if let local = storage as? FileSystemStorage {
      return try loadOrCreate(path: "\(local.root)/\(lakeKey)")
    }
    do {
      return try TokenKey(bytes: try hexDecoded(try await storage.get(lakeKey)))
    } catch StorageError.notFound {
      let key = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
      try await storage.put(lakeKey, bytes: Array(SecretKeyFile.hex(key).utf8) + [0x0A])
      // Read back what is stored: if another node raced us, both use the one that won.
      return try TokenKey(bytes: try hexDecoded(try await storage.get(lakeKey)))
    }
  }

  static func loadOrCreate(path: String) throws -> TokenKey {
    try TokenKey(bytes: SecretKeyFile.loadOrCreate(at: path))
  }

  private static func hexDecoded(_ text: [UInt8]) throws(TokenKeyError) -> [UInt8] {
    let digits = String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard let bytes = SecretKeyFile.bytes(fromHex: digits) else { throw .notHex }
    return bytes
  }
}

/// Why the token key cannot be used.
public enum TokenKeyError: Error, Sendable, CustomStringConvertible {
  case tooShort(Int)
  case notHex

  public var description: String {
    switch self {
    case .tooShort(let count): "the token key has \(count) bytes; at least 32 are needed"
    case .notHex: "the lake's token key (\(TokenKey.lakeKey)) is not hexadecimal"
    }
  }
}
