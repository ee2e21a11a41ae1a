import Foundation

@testable import Lakehouse

/// Lakes for tests: scratch copies, the shared public dataset, and reading published tables.
enum LakeFixtures {
  /// The public STEDI dataset beside the repository, if present.
  static let udacityDataset: String? = {
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    let path = repository.deletingLastPathComponent().appendingPathComponent("shared/datasets/stedi-udacity").path
    return FileManager.default.fileExists(atPath: path + "/customer/landing") ? path : nil
  }()

  static let missingDatasetMessage =
    "../shared/datasets/stedi-udacity is absent: the public STEDI dataset tests are skipped"

  /// A new empty folder; call `removeScratch` when done.
  static func scratch(_ name: String = #function) throws -> String {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let path = FileManager.default.temporaryDirectory
      .appendingPathComponent("lakehouse-\(safe)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  static func removeScratch(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

  /// Copies the landing folders of `source` into `lake` (the shared data is read-only input).
  static func copyLanding(from source: String, to lake: String) throws {
    for landing in LandingSource.allCases {
      let target = "\(lake)/\(landing.landingFolder)"
      try FileManager.default.createDirectory(
        atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try FileManager.default.copyItem(atPath: "\(source)/\(landing.landingFolder)", toPath: target)
    }
  }

  /// The bytes of every published table file (relative path → contents).
  static func publishedTables(_ lake: String) -> [String: Data] {
    var tables: [String: Data] = [:]
    let folders = ZoneTable.allCases.map(\.folder) + LandingSource.allCases.map(\.quarantineFolder)
    for folder in folders {
      for name in (try? FileManager.default.contentsOfDirectory(atPath: "\(lake)/\(folder)")) ?? [] {
        tables["\(folder)/\(name)"] = FileManager.default.contents(atPath: "\(lake)/\(folder)/\(name)")
      }
    }
    return tables
  }

  static let testKey = PseudonymKey(bytes: Array(repeating: 42, count: 32))

  static func run(_ lake: String, _ profile: PipelineProfile = .strict) throws -> PipelineSummary {
    try ZonePipeline(lake: try Lake(root: lake), rules: ZoneRules(profile: profile), key: testKey).run()
  }
}
