import Foundation
import LakeStorage

/// A Delta Lake table's transaction log (`<table>/_delta_log/`): the versions of a folder of
/// Parquet files, so readers see one consistent snapshot however the files change meanwhile.
///
/// Commits are JSON files of actions, one per version, created with `LakeStorage.create` so that
/// of two writers of one version exactly one succeeds. This module writes protocol 1/2 tables
/// (no deletion vectors, no column mapping) with statistics on every file; it reads logs of
/// JSON commits from version 0 (not logs that begin at a Parquet checkpoint).
public struct DeltaTable: Sendable {
  /// Where the table lives.
  public let storage: any LakeStorage
  /// The table's folder, a key prefix without a trailing slash.
  public let root: String

  /// The table in `root` of `storage`.
  public init(storage: any LakeStorage, root: String) {
    self.storage = storage
    self.root = root
  }

  /// The log's folder.
  var logPrefix: String { "\(root)/_delta_log/" }

  /// The key of version `version`'s commit file (20 digits, as every Delta client names them).
  func commitKey(_ version: Int64) -> String {
    let digits = String(version)
    return logPrefix + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".json"
  }

  /// The table's current snapshot, or nil when it has no log yet.
  public func snapshot() async throws(DeltaLogError) -> DeltaSnapshot? {
    let objects: [StoredObject]
    do {
      objects = try await storage.list(prefix: logPrefix)
    } catch {
      throw .storage(error)
    }
    var versions: [Int64] = []
    for object in objects {
      let name = object.key.dropFirst(logPrefix.count)
      guard name.hasSuffix(".json"), !name.contains("/") else { continue }
      let stem = name.dropLast(5)
      guard stem.count == 20, let version = Int64(stem) else { continue }
      versions.append(version)
    }
    versions.sort()
    guard !versions.isEmpty else { return nil }
    guard versions[0] == 0 else {
      throw .unsupported(
        table: root,
        reason: "its Delta log starts at version \(versions[0]) (older commits were folded into a checkpoint), "
          + "and checkpoints are not read here")
    }
    var snapshot = DeltaSnapshot(table: root)
    for (expected, version) in versions.enumerated() {
      guard version == Int64(expected) else {
        throw .invalidLog(key: commitKey(Int64(expected)), reason: "missing: the log jumps to version \(version)")
      }
      let key = commitKey(version)
      let bytes: [UInt8]
      do {
        bytes = try await storage.get(key)
      } catch {
        throw .storage(error)
      }
      try snapshot.apply(try Self.actions(in: bytes, key: key), version: version, key: key)
    }
    return snapshot
  }

  /// Creates the table: version 0 with its protocol, metadata and `files`; fails with
  /// `conflict` when the table already has a log.
  public func create(
    schema: DeltaSchema, partitionColumns: [String], files: [DeltaAddFile] = [], atMs: Int64,
    engineInfo: String? = nil
  ) async throws(DeltaLogError) -> DeltaSnapshot {
    let metadata = DeltaMetadata(
      id: UUID().uuidString.lowercased(), schema: schema, partitionColumns: partitionColumns, createdTime: atMs)
    var lines = [
      DeltaActionLine(commitInfo: DeltaCommitInfo(timestamp: atMs, operation: "CREATE TABLE", engineInfo: engineInfo)),
      DeltaActionLine(protocol: .basic), DeltaActionLine(metaData: metadata),
    ]
    lines += files.map { DeltaActionLine(add: $0) }
    try await write(lines, version: 0)
    var snapshot = DeltaSnapshot(table: root)
    try snapshot.apply(lines, version: 0, key: commitKey(0))
    return snapshot
  }

  /// Commits the next version after `snapshot`: `removing` then `adding`. Fails with `conflict`
  /// when another writer committed that version first (nothing is written then).
  public func commit(
    on snapshot: DeltaSnapshot, adding: [DeltaAddFile], removing: [DeltaRemoveFile], operation: String, atMs: Int64,
    engineInfo: String? = nil
  ) async throws(DeltaLogError) -> DeltaSnapshot {
    var lines = [
      DeltaActionLine(commitInfo: DeltaCommitInfo(timestamp: atMs, operation: operation, engineInfo: engineInfo))
    ]
    lines += removing.map { DeltaActionLine(remove: $0) }
    lines += adding.map { DeltaActionLine(add: $0) }
    let version = snapshot.version + 1
    try await write(lines, version: version)
    var next = snapshot
    try next.apply(lines, version: version, key: commitKey(version))
    return next
  }

  /// Deletes the data files of `removed` for good. For an erasure this follows the commit at
  /// once: a removed file must not keep the erased rows for time travel.
  public func deleteDataFiles(_ removed: [DeltaRemoveFile]) async throws(DeltaLogError) {
    for file in removed {
      do {
        try await storage.delete(dataKey(path: file.path))
      } catch {
        throw .storage(error)
      }
    }
  }

  /// The storage key of a data file named by an action's `path`.
  public func dataKey(path: String) -> String {
    "\(root)/\(path.removingPercentEncoding ?? path)"
  }

  /// The `path` of a data file at `relativeKey` (below the table's folder), as an action names it:
  /// a URI path, so characters outside the unreserved set are percent-encoded.
  public static func actionPath(relativeKey: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~/=")
    return relativeKey.addingPercentEncoding(withAllowedCharacters: allowed) ?? relativeKey
  }

  private func write(_ lines: [DeltaActionLine], version: Int64) async throws(DeltaLogError) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    var bytes: [UInt8] = []
    for line in lines {
      do {
        bytes += try encoder.encode(line)
      } catch {
        throw .invalidLog(key: commitKey(version), reason: "cannot encode an action: \(error)")
      }
      bytes.append(UInt8(ascii: "\n"))
    }
    let created: Bool
    do {
      created = try await storage.create(commitKey(version), bytes: bytes)
    } catch {
      throw .storage(error)
    }
    guard created else { throw .conflict(table: root, version: version) }
  }

  /// The actions of one commit file, a line each.
  static func actions(in bytes: [UInt8], key: String) throws(DeltaLogError) -> [DeltaActionLine] {
    let decoder = JSONDecoder()
    var lines: [DeltaActionLine] = []
    for (number, line) in bytes.split(separator: UInt8(ascii: "\n")).enumerated() {
      if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { continue }
      do {
        lines.append(try decoder.decode(DeltaActionLine.self, from: Data(line)))
      } catch {
        throw .invalidLog(key: key, reason: "line \(number + 1) is not a Delta action (\(error))")
      }
    }
    return lines
  }
}
