import Crypto
import Foundation

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
  public static func loadOrCreate(at path: String) throws(LakeError) -> PseudonymKey {
    if FileManager.default.fileExists(atPath: path) {
      guard let data = FileManager.default.contents(atPath: path) else {
        throw .unreadable(path: path, reason: "permission denied or not a file")
      }
      let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      guard text.count == 64, let bytes = Self.bytes(fromHex: text) else {
        throw .invalidKey(path: path, reason: "expected 64 hexadecimal digits (a 256-bit key)")
      }
      return PseudonymKey(bytes: bytes)
    }
    var generator = SystemRandomNumberGenerator()
    let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    let text = bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined() + "\n"
    // Written beside the final name and linked into place: link fails if another process
    // created the key meanwhile, and then that key is the lake's, for both.
    let candidate = "\(path).\(getpid()).\(UInt64.random(in: 0...UInt64.max, using: &generator)).new"
    try TablePublisher.replaceFile(at: candidate, with: Array(text.utf8), mode: 0o600)
    defer { unlink(candidate) }
    if link(candidate, path) != 0 {
      guard errno == EEXIST else { throw .fromErrno(errno, writing: path) }
      return try loadOrCreate(at: path)
    }
    return PseudonymKey(bytes: bytes)
  }

  /// The subject id of `email`.
  public func subjectId(email: String) -> String {
    let mac = HMAC<SHA256>.authenticationCode(for: Array(email.utf8), using: key)
    return mac.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
  }

  private static func bytes(fromHex text: String) -> [UInt8]? {
    var bytes: [UInt8] = []
    var high: UInt8?
    for byte in text.utf8 {
      guard let value = hexValue(byte) else { return nil }
      if let first = high {
        bytes.append(first << 4 | value)
        high = nil
      } else {
        high = value
      }
    }
    return high == nil ? bytes : nil
  }
}

extension String {
  func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}
