import Foundation
import Testing

@testable import LakeStorage

#if canImport(Glibc)
  import Glibc
#endif

/// FileSystemStorage: the shared storage behaviours, and what is particular to a folder.
struct FileSystemStorageTests {
  /// A storage in a new temporary folder, removed afterwards.
  static func withStorage(_ body: (FileSystemStorage) async throws -> Void) async throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("stedi-fs-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: root) }
    try await body(FileSystemStorage(root: root))
  }

  @Test func roundTrip() async throws { try await Self.withStorage(StorageBehaviours.roundTrip) }
  @Test func listing() async throws { try await Self.withStorage(StorageBehaviours.listing) }
  @Test func createIfAbsent() async throws { try await Self.withStorage(StorageBehaviours.createIfAbsent) }
  @Test func manyObjects() async throws { try await Self.withStorage { try await StorageBehaviours.manyObjects($0) } }
  @Test func deletion() async throws { try await Self.withStorage(StorageBehaviours.deletion) }
  @Test func missingKey() async throws { try await Self.withStorage(StorageBehaviours.missingKey) }
  @Test func readersNeverSeePartialObjects() async throws {
    try await Self.withStorage { try await StorageBehaviours.readersNeverSeePartialObjects($0) }
  }

  /// Temporary files of puts in progress (hidden, `.name.pid.random.tmp`) are never listed;
  /// metadata under `_stedi/` is.
  @Test func hiddenTemporaryFilesAreNotListed() async throws {
    try await Self.withStorage { storage in
      try await storage.put("table/part-0.json", bytes: [1])
      try await storage.put("_stedi/runs/latest.json", bytes: [2])
      FileManager.default.createFile(atPath: "\(storage.root)/table/.part-1.json.123.abc.tmp", contents: Data([3]))
      #expect(try await storage.list(prefix: "").map(\.key) == ["_stedi/runs/latest.json", "table/part-0.json"])
    }
  }

  /// A put leaves only the object behind, and the folders it needed.
  @Test func putLeavesNoTemporaryFile() async throws {
    try await Self.withStorage { storage in
      try await storage.put("deep/er/object.json", bytes: Array("{}".utf8))
      #expect(try FileManager.default.contentsOfDirectory(atPath: "\(storage.root)/deep/er") == ["object.json"])
      #expect(FileManager.default.contents(atPath: "\(storage.root)/deep/er/object.json") == Data("{}".utf8))
    }
  }

  /// Keys that would leave the lake's folder, or name a folder, are refused.
  @Test(arguments: ["", "/etc/passwd", "../outside.json", "a/../../b", "a//b", "a/./b", "folder/"])
  func invalidKeysAreRefused(key: String) async throws {
    try await Self.withStorage { storage in
      await #expect {
        try await storage.put(key, bytes: [1])
      } throws: { error in
        guard case .invalidConfiguration(let message) = error as? StorageError else { return false }
        return message.contains("not a valid lake key")
      }
    }
  }

  /// Reading a folder's name is `.notFound`, as for any key that holds no object.
  @Test func aFolderIsNotAnObject() async throws {
    try await Self.withStorage { storage in
      try await storage.put("folder/object.json", bytes: [1])
      await #expect(throws: StorageError.notFound(key: "folder", location: storage.location)) {
        try await storage.get("folder")
      }
    }
  }

  /// A full disk is `.diskFull` (also over quota); a missing file read is `.notFound`.
  @Test func errnoMapping() {
    #expect(FileSystemStorage.error(ENOSPC, path: "/lake/x", key: nil, root: "/lake") == .diskFull(path: "/lake/x"))
    #expect(FileSystemStorage.error(EDQUOT, path: "/lake/x", key: nil, root: "/lake") == .diskFull(path: "/lake/x"))
    #expect(
      FileSystemStorage.error(ENOENT, path: "/lake/x", key: "x", root: "/lake")
        == .notFound(key: "x", location: "/lake"))
    guard case .accessDenied = FileSystemStorage.error(EACCES, path: "/lake/x", key: nil, root: "/lake") else {
      Issue.record("EACCES is not accessDenied")
      return
    }
  }

  /// A lake folder that does not exist yet lists as empty, like an unused S3 prefix.
  @Test func aMissingLakeListsEmpty() async throws {
    let storage = FileSystemStorage(root: "/nonexistent/stedi-\(UUID().uuidString)")
    #expect(try await storage.list(prefix: "").isEmpty)
  }

  /// Listings carry when each object was last written (a file's modification time here, S3's
  /// LastModified in a listing page); the time is not part of an object's identity.
  @Test func listingsCarryWhenEachObjectWasLastWritten() async throws {
    try await Self.withStorage { storage in
      try await storage.put("a/b.json", bytes: [1])
      let written = Date(timeIntervalSince1970: 1_700_000_000.25)
      try FileManager.default.setAttributes([.modificationDate: written], ofItemAtPath: "\(storage.root)/a/b.json")
      let listed = try #require(try await storage.list(prefix: "a/").first?.lastModified)
      #expect(abs(listed.timeIntervalSince(written)) < 0.001)

      let xml = """
        <ListBucketResult><Contents><Key>a.json</Key><Size>1</Size>\
        <LastModified>2024-05-01T12:00:00.500Z</LastModified></Contents>\
        <Contents><Key>b.json</Key><Size>2</Size><LastModified>2024-05-01T12:00:00Z</LastModified></Contents>\
        <Contents><Key>c.json</Key><Size>3</Size></Contents></ListBucketResult>
        """
      let page = try #require(S3Response.ListPage(Array(xml.utf8)))
      #expect(
        page.objects.map(\.lastModified) == [
          Date(timeIntervalSince1970: 1_714_564_800.5), Date(timeIntervalSince1970: 1_714_564_800), nil,
        ])
      // The time is not part of an object's identity: listings of the same objects stay equal.
      #expect(StoredObject(key: "a", size: 1, lastModified: written) == StoredObject(key: "a", size: 1))
    }
  }
}
