import Foundation

/// Where a lake's objects live: a folder on this machine or an S3 bucket (and prefix).
///
/// Keys are lake-relative paths with `/` separators (`orders/landing/x.json`), the same on every
/// backend, so a landing file or a table has one name wherever the lake is.
public protocol LakeStorage: Sendable {
  /// The lake's location for messages: a folder path or `s3://bucket/prefix`.
  var location: String { get }

  /// Stores `bytes` under `key` atomically: a reader sees the whole object or none of it.
  /// Storing the same bytes again under the same key is harmless (replays rely on it).
  func put(_ key: String, bytes: [UInt8]) async throws(StorageError)

  /// Stores `bytes` under `key` only if no object is there yet, atomically: of writers racing
  /// for one key exactly one succeeds, and a reader sees the whole object or none. Returns false
  /// when the key was already taken (a commit log's next version, written by someone else).
  func create(_ key: String, bytes: [UInt8]) async throws(StorageError) -> Bool

  /// The whole object stored under `key`.
  func get(_ key: String) async throws(StorageError) -> [UInt8]

  /// Every object whose key starts with `prefix`, recursively, sorted by key.
  func list(prefix: String) async throws(StorageError) -> [StoredObject]

  /// Removes the object under `key`; removing a missing object is not an error.
  func delete(_ key: String) async throws(StorageError)
}

/// One object in lake storage.
public struct StoredObject: Sendable, Hashable {
  /// The lake-relative key.
  public var key: String
  /// The object's size in bytes.
  public var size: Int
  /// When the object was last written, if the store says (a file's mtime, S3's LastModified).
  public var lastModified: Date?

  /// An object entry.
  public init(key: String, size: Int, lastModified: Date? = nil) {
    self.key = key
    self.size = size
    self.lastModified = lastModified
  }

  // Equal when key and size are: the time is when this store last wrote the object, which says
  // nothing of its contents (a copy of the same object in another store has another time).
  public static func == (lhs: StoredObject, rhs: StoredObject) -> Bool { lhs.key == rhs.key && lhs.size == rhs.size }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(key)
    hasher.combine(size)
  }
}
