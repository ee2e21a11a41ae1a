import DeltaLog
import Foundation
import LakeStorage
import StediTestSupport
import Testing

@testable import Lakehouse

/// Any storage as the local folder the engine runs on: a folder lake is used in place, an S3 lake
/// is pulled, run on and pushed back, and a run on the copy gives the tables a folder run gives.
@Suite struct LakeWorkingCopyTests {
  @Test func aFolderLakeIsUsedInPlaceAndPublishingWritesNothingElse() async throws {
    let lake = try TemporaryLake()
    defer { lake.remove() }
    try SampleLakeGenerator(customers: 20, seed: 3).write(to: lake.root)
    var askedForAWorkingCopy = false
    func workFolder() -> String {
      askedForAWorkingCopy = true
      return "/unused"
    }
    let copy = try await LakeWorkingCopy.open(lake.storage, workFolder: workFolder())
    #expect(copy.lake.root == lake.root && !askedForAWorkingCopy)
    try await copy.publish()
    #expect(!FileManager.default.fileExists(atPath: "\(lake.root)/customer/trusted"))
  }

  @Test func aMissingFolderLakeIsOneStorageError() async throws {
    let path = "/nonexistent/stedi-working-copy"
    await #expect(throws: StorageError.lakeNotFound(path: path)) {
      _ = try await LakeWorkingCopy.open(FileSystemStorage(root: path), workFolder: "/unused")
    }
  }

  @Test(
    .enabled(
      if: SeaweedFSServer.testsEnabled,
      "SeaweedFS's weed is not installed: run `bash scripts/test.sh` or `bash scripts/install-seaweedfs.sh`"))
  func anS3LakeIsPulledRunOnAndPushedBack() async throws {
    let s3 = try await SeaweedFSServer.shared().freshLake()
    let source = try TemporaryLake("working-copy-source")
    let work = try TemporaryFolder("working-copy-work")
    defer {
      source.remove()
      work.remove()
    }
    try SampleLakeGenerator(customers: 30, seed: 4).write(to: source.root)
    for object in try await source.storage.list(prefix: "") {
      try await s3.put(object.key, bytes: try await source.storage.get(object.key))
    }
    _ = try await LakeFixtures.run(source.root)

    let copy = try await LakeWorkingCopy.open(s3, workFolder: work.path)
    #expect(copy.lake.root == work.path)
    _ = try await ZonePipeline(lake: copy.lake, rules: ZoneRules(profile: .strict), key: LakeFixtures.testKey).run()
    try await copy.publish()
    for table in ZoneTable.allCases {
      let folderRun = try await source.storage.list(prefix: table.folder + "/").map(\.key).sorted()
      let pushed = try await s3.list(prefix: table.folder + "/").map(\.key).sorted()
      #expect(!pushed.isEmpty && pushed == folderRun, "\(table.rawValue)")
      // Data files are equal byte for byte; Delta commits carry their own times and table ids,
      // so those are compared by the files their snapshots hold.
      for key in pushed where !key.contains("/_delta_log/") {
        #expect(try await s3.get(key) == (try await source.storage.get(key)), "\(key)")
      }
      let pushedFiles = try await DeltaTable(storage: s3, root: table.folder).snapshot()?.files.keys.sorted()
      let localFiles = try await DeltaTable(storage: source.storage, root: table.folder).snapshot()?.files.keys.sorted()
      #expect(pushedFiles != nil && pushedFiles == localFiles, "\(table.rawValue)")
    }
  }
}
