import Foundation

@testable import Lakehouse

/// Lakes for tests: the shared public dataset, copies of its landing folders, and pipeline runs.
enum LakeFixtures {
  static let missingDatasetMessage =
    "../shared/datasets/stedi-udacity is absent: the public STEDI dataset tests are skipped"

  /// Copies the landing folders of `source` into `lake` (the shared data is read-only input).
  static func copyLanding(from source: String, to lake: String) throws {
    for landing in LandingSource.allCases {
      let target = "\(lake)/\(landing.landingFolder)"
      try FileManager.default.createDirectory(
        atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try FileManager.default.copyItem(atPath: "\(source)/\(landing.landingFolder)", toPath: target)
    }
  }

  static let testKey = PseudonymKey(bytes: Array(repeating: 42, count: 32))

  static func run(_ lake: String, _ profile: PipelineProfile = .strict) throws -> PipelineSummary {
    try ZonePipeline(lake: try Lake(root: lake), rules: ZoneRules(profile: profile), key: testKey).run()
  }
}
