import Foundation
import LakeStorage

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A 256-bit secret kept as 64 hex digits in a file readable by its owner only, created on first
/// use: the lake's pseudonym key and the ingest service's token key.
public enum SecretKeyFile {
  /// Reads the key at `path`, creating a random one there (mode 0600) on first use.
  public static func loadOrCreate(at path: String) throws(StorageError) -> [UInt8] {
    if FileManager.default.fileExists(atPath: path) {
      guard let data = FileManager.default.contents(atPath: path) else {
        throw .unreadable(path: path, reason: "permission denied or not a file")
      }
      let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      guard text.count == 64, let bytes = bytes(fromHex: text) else {
        throw .invalidObject(key: path, reason: "expected 64 hexadecimal digits (a 256-bit key)")
      }
      return bytes
    }
    var generator = SystemRandomNumberGenerator()
    let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    // Written beside the final name and linked into place: link fails if another process
    // created the key meanwhile, and then that key is the lake's, for both.
    let candidate = "\(path).\(getpid()).\(UInt64.random(in: 0...UInt64.max, using: &generator)).new"
    try TablePublisher.replaceFile(at: candidate, with: Array((hex(bytes) + "\n").utf8), mode: 0o600)
    defer { unlink(candidate) }
    if link(candidate, path) != 0 {
      guard errno == EEXIST else { throw .fromErrno(errno, writing: path) }
      return try loadOrCreate(at: path)
    }
    return bytes
  }

  /// Lower-case hex digits of `bytes`.
  public static func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
  }

  /// The bytes of a string of hex digits, or nil if it is not one.
  public static func bytes(fromHex text: String) -> [UInt8]? {
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

extension SecretKeyFile {
  /// The key stored under `key` in lake storage, created there on first use when `create` is set.
  ///
  /// In a folder lake this is the file (mode 0600, linked into place); in object storage the
  /// object is read back after writing it, so two nodes racing to create it both use the winner.
  public static func load(storage: any LakeStorage, key: String, create: Bool) async throws(StorageError) -> [UInt8]? {
    if let local = storage as? FileSystemStorage {
      let path = "\(local.root)/\(key)"
      guard create || FileManager.default.fileExists(atPath: path) else { return nil }
      do {
        return try loadOrCreate(at: path)
      } catch {
        throw .invalidObject(key: key, reason: error.description)
      }
    }
    do {
      return try decode(try await storage.get(key), key: key)
    } catch .notFound(_, _) {
      guard create else { return nil }
      var generator = SystemRandomNumberGenerator()
      let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
      try await storage.put(key, bytes: Array((hex(bytes) + "\n").utf8))
      return try decode(try await storage.get(key), key: key)
    }
  }

  private static func decode(_ stored: [UInt8], key: String) throws(StorageError) -> [UInt8] {
    let text = String(decoding: stored, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    guard text.count == 64, let bytes = bytes(fromHex: text) else {
      throw .invalidObject(key: key, reason: "expected 64 hexadecimal digits (a 256-bit key)")
    }
    return bytes
  }
}
