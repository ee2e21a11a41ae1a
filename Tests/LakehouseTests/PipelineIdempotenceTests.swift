import Foundation
import LakeStorage
import StediTestSupport
import Testing

@testable import Lakehouse

/// Re-runs are idempotent, incremental landing equals a fresh run, re-delivery never duplicates.
@Suite struct PipelineIdempotenceTests {
  @Test func runningTwiceGivesByteIdenticalTables() async throws {
    let lake = try TemporaryFolder(prefix: "lakehouse").path
    defer { TemporaryFolder(existing: lake).remove() }
    try SampleLakeGenerator(customers: 80, seed: 11).write(to: lake)
    let first = try await LakeFixtures.run(lake)
    let tables = TemporaryLake.publishedTables(lake)
    let second = try await LakeFixtures.run(lake)
    #expect(TemporaryLake.publishedTables(lake) == tables)
    #expect(first.tableRows == second.tableRows)
    for folder in ZoneTable.allCases.map(\.folder) + LandingSource.allCases.map(\.quarantineFolder) {
      #expect(tables.keys.contains { $0.hasPrefix(folder + "/") }, "\(folder) has no file")
    }
  }

  @Test func addingLandingFilesThenRerunningEqualsAFreshRunOverAllFiles() async throws {
    let incremental = try TemporaryFolder(prefix: "lakehouse").path
    let fresh = try TemporaryFolder(prefix: "lakehouse").path
    defer {
      TemporaryFolder(existing: incremental).remove()
      TemporaryFolder(existing: fresh).remove()
    }
    let firstBatch = SampleLakeGenerator(customers: 40, seed: 1)
    let secondBatch = SampleLakeGenerator(customers: 40, seed: 2)
    try firstBatch.write(to: incremental)
    _ = try await LakeFixtures.run(incremental)
    try addLater(secondBatch, to: incremental)
    let incrementalSummary = try await LakeFixtures.run(incremental)

    try firstBatch.write(to: fresh)
    try addLater(secondBatch, to: fresh)
    let freshSummary = try await LakeFixtures.run(fresh)

    #expect(incrementalSummary.tableRows == freshSummary.tableRows)
    #expect(TemporaryLake.publishedTables(incremental) == TemporaryLake.publishedTables(fresh))
  }

  /// Writes `batch`'s landing files into a `later/` folder inside each landing table of `lake`.
  private func addLater(_ batch: SampleLakeGenerator, to lake: String) throws {
    let staging = lake + "/staging"
    try batch.write(to: staging)
    for source in LandingSource.allCases {
      try FileManager.default.moveItem(
        atPath: "\(staging)/\(source.landingFolder)", toPath: "\(lake)/\(source.landingFolder)/later")
    }
    try FileManager.default.removeItem(atPath: staging)
  }

  @Test(arguments: [PipelineProfile.strict, .udacity])
  func redeliveredLandingFileNeverDuplicatesTrustedRows(profile: PipelineProfile) async throws {
    let lake = try TemporaryFolder(prefix: "lakehouse").path
    defer { TemporaryFolder(existing: lake).remove() }
    try SampleLakeGenerator(customers: 60, seed: 4).write(to: lake)
    _ = try await LakeFixtures.run(lake, profile)
    let once = TemporaryLake.publishedTables(lake).filter { !$0.key.contains("quarantine") }
    for source in LandingSource.allCases {
      for file in try FileManager.default.contentsOfDirectory(atPath: "\(lake)/\(source.landingFolder)")
      where file.hasSuffix(".json") {
        try FileManager.default.copyItem(
          atPath: "\(lake)/\(source.landingFolder)/\(file)",
          toPath: "\(lake)/\(source.landingFolder)/again-\(file)")
      }
    }
    let summary = try await LakeFixtures.run(lake, profile)
    #expect(TemporaryLake.publishedTables(lake).filter { !$0.key.contains("quarantine") } == once)
    #expect(summary.qualityFailures == [])
  }

  @Test func outputsDoNotDependOnLandingFileOrder() async throws {
    let lake = try TemporaryFolder(prefix: "lakehouse").path
    let renamed = try TemporaryFolder(prefix: "lakehouse").path
    defer {
      TemporaryFolder(existing: lake).remove()
      TemporaryFolder(existing: renamed).remove()
    }
    let generator = SampleLakeGenerator(customers: 50, seed: 9)
    try generator.write(to: lake)
    // The same files under names that sort the other way round.
    for (path, bytes) in generator.files() {
      let folder = (path as NSString).deletingLastPathComponent
      let name = (path as NSString).lastPathComponent
      let reordered =
        "\(renamed)/\(folder.replacingOccurrences(of: "/redelivered", with: ""))/\(String(name.reversed()))-x.json"
      try FileManager.default.createDirectory(
        atPath: (reordered as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try Data(bytes).write(to: URL(fileURLWithPath: reordered))
    }
    _ = try await LakeFixtures.run(lake)
    _ = try await LakeFixtures.run(renamed)
    let tables = { (root: String) in TemporaryLake.publishedTables(root).filter { !$0.key.contains("quarantine") } }
    #expect(tables(lake) == tables(renamed))
  }

  @Test func pseudonymKeyIsCreatedOnceAndKeptOutsideTheTables() throws {
    let lake = try TemporaryFolder(prefix: "lakehouse").path
    defer { TemporaryFolder(existing: lake).remove() }
    let path = PseudonymKey.defaultPath(in: try Lake(root: lake))
    let first = try PseudonymKey.loadOrCreate(at: path)
    let second = try PseudonymKey.loadOrCreate(at: path)
    #expect(first.subjectId(email: "a@b.c") == second.subjectId(email: "a@b.c"))
    #expect(first.subjectId(email: "a@b.c").count == 64)
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    #expect((attributes[.posixPermissions] as? Int) == 0o600)
    #expect(path.hasPrefix(lake + "/_stedi/"))

    try "not a key".write(toFile: path, atomically: true, encoding: .utf8)
    #expect(throws: StorageError.self) { try PseudonymKey.loadOrCreate(at: path) }
  }
}
