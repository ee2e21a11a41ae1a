import Foundation
import LakeStorage
import StediTestSupport
import Testing

@testable import Lakehouse

/// One pipeline run at a time per lake; the lock never outlives its holder.
@Suite struct LakeLockTests {
  @Test func secondRunOnABusyLakeFailsClearlyAndTouchesNothing() async throws {
    let root = try TemporaryFolder(prefix: "lakehouse").path
    defer { TemporaryFolder(existing: root).remove() }
    try SampleLakeGenerator(customers: 10, seed: 3).write(to: root)
    let lake = try Lake(root: root)
    var held: LakeLock? = try LakeLock(lake: lake)
    #expect(held != nil)
    await #expect(throws: StorageError.busy(path: root, holder: "pipeline run")) {
      _ = try await LakeFixtures.run(root)
    }
    #expect(TemporaryLake.publishedTables(root).isEmpty)
    #expect(StorageError.busy(path: root, holder: "pipeline run").description.contains("another pipeline run"))

    held = nil
    let summary = try await LakeFixtures.run(root)
    #expect(summary.published)
  }

  @Test func concurrentFirstUsesAgreeOnOnePseudonymKey() throws {
    let root = try TemporaryFolder(prefix: "lakehouse").path
    defer { TemporaryFolder(existing: root).remove() }
    // Many rounds of eight threads creating the same new key: every round must agree on one.
    for round in 0..<200 {
      let path = "\(root)/round-\(round)/pseudonym.key"
      try FileManager.default.createDirectory(
        atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      let ids = UnsafeMutableBufferPointer<String>.allocate(capacity: 8)
      defer { ids.deallocate() }
      ids.initialize(repeating: "")
      concurrentForEach(8) { index in
        ids[index] = (try? PseudonymKey.loadOrCreate(at: path).subjectId(email: "a@b.c")) ?? "failed"
      }
      #expect(Set(ids).count == 1, "round \(round)")
      #expect(ids[0] == (try PseudonymKey.loadOrCreate(at: path)).subjectId(email: "a@b.c"))
    }
  }
}
