import Foundation
import LakeStorage
import StediTestSupport
import Synchronization
import Testing

/// A push makes a table's new version visible only once its files are up: data files first, then
/// the commit files in order, and deletions last, so a reader following the log in S3 never finds
/// a file it names missing.
@Suite struct LakeMirrorCommitOrderTests {
  /// Storage that records every write and delete, in order.
  final class RecordingStorage: LakeStorage {
    let inner: FileSystemStorage
    let events = Mutex<[String]>([])
    var location: String { inner.location }

    init(root: String) { inner = FileSystemStorage(root: root) }

    func put(_ key: String, bytes: [UInt8]) async throws(StorageError) {
      try await inner.put(key, bytes: bytes)
      events.withLock { $0.append("put \(key)") }
    }

    func create(_ key: String, bytes: [UInt8]) async throws(StorageError) -> Bool {
      let created = try await inner.create(key, bytes: bytes)
      events.withLock { $0.append("create \(key)") }
      return created
    }

    func get(_ key: String) async throws(StorageError) -> [UInt8] { try await inner.get(key) }
    func list(prefix: String) async throws(StorageError) -> [StoredObject] { try await inner.list(prefix: prefix) }

    func delete(_ key: String) async throws(StorageError) {
      try await inner.delete(key)
      events.withLock { $0.append("delete \(key)") }
    }
  }

  @Test func dataFilesGoUpBeforeTheirCommitsAndDeletionsComeLast() async throws {
    let remoteFolder = try TemporaryFolder("mirror-remote")
    let localFolder = try TemporaryFolder("mirror-local")
    defer {
      remoteFolder.remove()
      localFolder.remove()
    }
    let remote = RecordingStorage(root: remoteFolder.path)
    try await remote.put("t/date=1/part-a.parquet", bytes: [1])
    try await remote.put("t/_delta_log/00000000000000000000.json", bytes: [2])
    remote.events.withLock { $0.removeAll() }

    let mirror = LakeMirror(
      storage: remote, localRoot: localFolder.path,
      rules: .init(isInput: { _ in false }, isLocalOnly: { _ in false }, isCommit: { $0.contains("/_delta_log/") }))
    let snapshot = try await mirror.pull()
    // The run: version 1 replaces part-a with part-b and part-c, then version 2 adds part-d.
    let local = localFolder.path
    try FileManager.default.removeItem(atPath: "\(local)/t/date=1/part-a.parquet")
    for (key, byte) in [
      ("t/date=1/part-b.parquet", UInt8(3)), ("t/date=2/part-c.parquet", 4), ("t/date=2/part-d.parquet", 5),
      ("t/_delta_log/00000000000000000002.json", 7), ("t/_delta_log/00000000000000000001.json", 6),
    ] {
      try FileManager.default.createDirectory(
        atPath: (("\(local)/\(key)") as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try Data([byte]).write(to: URL(fileURLWithPath: "\(local)/\(key)"))
    }
    let summary = try await mirror.push(since: snapshot)
    #expect(summary.uploaded == 5 && summary.deleted == 1)

    let events = remote.events.withLock { $0 }
    let commits = events.indices.filter { events[$0].contains("/_delta_log/") }
    let data = events.indices.filter { events[$0].hasPrefix("put ") && events[$0].hasSuffix(".parquet") }
    let deletions = events.indices.filter { events[$0].hasPrefix("delete ") }
    #expect(data.count == 3 && commits.count == 2 && deletions.count == 1, "\(events)")
    #expect(data.max()! < commits.min()!, "a commit went up before a file it names: \(events)")
    #expect(
      commits.map { events[$0] } == [
        "put t/_delta_log/00000000000000000001.json", "put t/_delta_log/00000000000000000002.json",
      ])
    #expect(deletions.min()! > commits.max()!, "a file was deleted before the commit that removes it: \(events)")
  }
}
