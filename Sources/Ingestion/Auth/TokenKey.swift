import Crypto
import Foundation
import Lakehouse

#if canImport(Glibc)
  import Glibc
#endif

/// The secret that signs and checks access tokens.
public struct TokenKey: Sendable {
  let symmetricKey: SymmetricKey

  /// A key from raw bytes (at least 32: an HMAC-SHA256 key shorter than its output weakens it).
  public init(bytes: [UInt8]) throws(TokenKeyError) {
    guard bytes.count >= 32 else { throw .tooShort(bytes.count) }
    symmetricKey = SymmetricKey(data: bytes)
  }

  /// Where the key lives in a lake: with the lake's metadata.
  public static let lakeKey = "_stedi/token.key"

  /// The key from `STEDI_TOKEN_KEY` when set, else the lake's key, created on first use.
  ///
  /// On a filesystem lake the file is created with mode 0600 (readable by its owner only) with
  /// O_EXCL, so two services starting at once cannot each create a different key.
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
      let key = randomBytes()
      try await storage.put(lakeKey, bytes: Array(hex(key).utf8) + [0x0A])
      // Read back what is stored: if another node raced us, both use the one that won.
      return try TokenKey(bytes: try hexDecoded(try await storage.get(lakeKey)))
    }
  }

  static func loadOrCreate(path: String) throws -> TokenKey {
    if let data = FileManager.default.contents(atPath: path) {
      return try TokenKey(bytes: try hexDecoded(Array(data)))
    }
    let folder = (path as NSString).deletingLastPathComponent
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    if descriptor < 0 {
      if errno == EEXIST { return try loadOrCreate(path: path) }
      throw TokenKeyError.unwritable(path: path, reason: String(cString: strerror(errno)))
    }
    defer { close(descriptor) }
    let text = Array(hex(randomBytes()).utf8) + [0x0A]
    let written = text.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    guard written == text.count, fsync(descriptor) == 0 else {
      unlink(path)
      throw TokenKeyError.unwritable(path: path, reason: String(cString: strerror(errno)))
    }
    return try TokenKey(bytes: try hexDecoded(text))
  }

  private static func randomBytes() -> [UInt8] {
    SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
  }

  private static func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
  }

  private static func hexDecoded(_ text: [UInt8]) throws(TokenKeyError) -> [UInt8] {
    let digits = String(decoding: text, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard digits.count % 2 == 0 else { throw .notHex }
    var bytes: [UInt8] = []
    var index = digits.startIndex
    while index < digits.endIndex {
      let next = digits.index(index, offsetBy: 2)
      guard let byte = UInt8(digits[index..<next], radix: 16) else { throw .notHex }
      bytes.append(byte)
      index = next
    }
    return bytes
  }
}

/// Why the token key cannot be used.
public enum TokenKeyError: Error, Sendable, CustomStringConvertible {
  case tooShort(Int)
  case notHex
  case unwritable(path: String, reason: String)

  public var description: String {
    switch self {
    case .tooShort(let count): "the token key has \(count) bytes; at least 32 are needed"
    case .notHex: "the lake's token key (\(TokenKey.lakeKey)) is not hexadecimal"
    case .unwritable(let path, let reason): "cannot create the token key \(path): \(reason)"
    }
  }
}
