import Foundation
import Lakehouse

/// Lakes for tests: copies of a dataset's landing folders, and pipeline runs with a fixed key.
public enum LakeFixtures {
  /// The skip note of tests that need the public STEDI dataset.
  public static let missingDatasetMessage =
    "../shared/datasets/stedi-udacity is absent: the public STEDI dataset tests are skipped"

  /// Copies the landing folders of `source` into `lake` (the shared data is read-only input).
  public static func copyLanding(from source: String, to lake: String) throws {
    for landing in LandingSource.allCases {
      let target = "\(lake)/\(landing.landingFolder)"
      try FileManager.default.createDirectory(
        atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try FileManager.default.copyItem(atPath: "\(source)/\(landing.landingFolder)", toPath: target)
    }
  }

  /// The pseudonym key of every test pipeline run, so runs compare byte for byte.
  public static let testKey = PseudonymKey(bytes: Array(repeating: 42, count: 32))

  /// Runs the zone pipeline on the folder lake at `lake` with the test key, writing `format`
  /// (the profile's default when nil).
  public static func run(
    _ lake: String, _ profile: PipelineProfile = .strict, format: TableFormat? = nil
  ) async throws -> PipelineSummary {
    try await ZonePipeline(lake: try Lake(root: lake), rules: ZoneRules(profile: profile), key: testKey, format: format)
      .run()
  }
}
