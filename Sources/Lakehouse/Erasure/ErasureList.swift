import Foundation
import LakeStorage

/// The customers erased from a lake, as keyed hashes: kept in the lake's metadata so that the
/// pipeline and the ingest service refuse their records for good. It never holds an email.
public struct ErasureList: Sendable, Equatable, Codable {
  /// Where the list lives in a lake.
  public static let storageKey = "_stedi/erasures.json"

  /// One erased customer.
  public struct Entry: Sendable, Equatable, Codable {
    /// The keyed hash of the customer's email (`ErasureKey.hash(email:)`).
    public var subject: String
    /// When the erasure was first requested (ms since 1970).
    public var erasedAt: Int64
    /// Serial numbers only this customer held: their readings up to `until` are theirs.
    public var serials: [ErasedSerial]

    /// An entry.
    public init(subject: String, erasedAt: Int64, serials: [ErasedSerial]) {
      self.subject = subject
      self.erasedAt = erasedAt
      self.serials = serials
    }
  }

  /// A serial number that only an erased customer held.
  public struct ErasedSerial: Sendable, Equatable, Codable {
    /// The keyed hash of the serial number (`ErasureKey.hash(serialNumber:)`).
    public var hash: String
    /// Readings taken up to this instant (ms since 1970) belong to the erased customer; later
    /// ones may come from the device's next owner (a refurbished unit) and are kept.
    public var until: Int64
    /// Learned after the erasure, from a customer record of theirs that arrived later (buffered
    /// in an ingest service, or delivered again): nobody checked then whether another customer
    /// holds it too, so whoever knows the customers (pipeline, eraser) checks it each time.
    public var learned: Bool?

    /// A serial entry.
    public init(hash: String, until: Int64, learned: Bool? = nil) {
      self.hash = hash
      self.until = until
      self.learned = learned
    }
  }

  /// The erased customers, in the order they were erased.
  public var entries: [Entry] = []

  /// An empty list.
  public init(entries: [Entry] = []) { self.entries = entries }

  /// The entry of a subject hash, if that customer was erased.
  public func entry(subject: String) -> Entry? { entries.first { $0.subject == subject } }

  /// Adds `entry`, or merges its serials into the subject's existing entry.
  public mutating func record(_ entry: Entry) {
    guard let index = entries.firstIndex(where: { $0.subject == entry.subject }) else {
      entries.append(entry)
      return
    }
    for serial in entry.serials where !entries[index].serials.contains(where: { $0.hash == serial.hash }) {
      entries[index].serials.append(serial)
    }
  }

  /// Adds the serial number of a customer record of an erased customer that arrived after the
  /// erasure (their readings up to the erasure are theirs); true when the list changed.
  public mutating func learn(serialNumber: String, ofEmail email: String, key: ErasureKey) -> Bool {
    let subject = key.hash(email: email)
    guard let index = entries.firstIndex(where: { $0.subject == subject }),
      !Identity.canonical(serialNumber).isEmpty
    else { return false }
    let hash = key.hash(serialNumber: serialNumber)
    guard !entries[index].serials.contains(where: { $0.hash == hash }) else { return false }
    entries[index].serials.append(ErasedSerial(hash: hash, until: entries[index].erasedAt, learned: true))
    return true
  }

  /// The list stored in `storage`, or an empty one if no customer was ever erased there.
  public static func load(storage: any LakeStorage) async throws(StorageError) -> ErasureList {
    do {
      return try decode(try await storage.get(storageKey))
    } catch .notFound(_, _) {
      return ErasureList()
    }
  }

  /// The list in a lake folder (for the pipeline, which reads folders directly).
  public static func load(lake: Lake) throws(StorageError) -> ErasureList {
    let path = lake.path(storageKey)
    guard FileManager.default.fileExists(atPath: path) else { return ErasureList() }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw .unreadable(path: path, reason: "permission denied or not a file")
    }
    do {
      return try decode(Array(data))
    } catch {
      throw .unreadable(path: path, reason: error.description)
    }
  }

  /// Stores the list atomically (one object, one put).
  public func save(storage: any LakeStorage) async throws(StorageError) {
    try await storage.put(Self.storageKey, bytes: encoded())
  }

  /// The list as stored: pretty JSON with sorted keys, so diffs of the metadata stay readable.
  public func encoded() -> [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return Array((try? encoder.encode(self)) ?? Data("{\"entries\":[]}".utf8)) + [0x0A]
  }

  /// Parses a stored list; a damaged list is an error, never read as empty (that would
  /// silently let erased customers back in).
  public static func decode(_ bytes: [UInt8]) throws(StorageError) -> ErasureList {
    do {
      return try JSONDecoder().decode(ErasureList.self, from: Data(bytes))
    } catch {
      throw .invalidObject(key: storageKey, reason: "not an erasure list (\(error))")
    }
  }
}
