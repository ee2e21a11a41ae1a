import Foundation
import Lakehouse

/// The public STEDI dataset beside the package (`../shared/datasets/stedi-udacity`) and what the pipeline makes of it.
public enum UdacityDataset {
  /// The dataset's folder, or nil when its landing folders are absent (skip the test with a clear message).
  public static let path: String? = {
    let path = TestPaths.sharedDataset("stedi-udacity").path
    return FileManager.default.fileExists(atPath: path + "/customer/landing") ? path : nil
  }()

  /// The rows of each published table after a run of each profile: the rubric's counts under
  /// udacity, the privacy-correct counts under strict. Every engine (ours, Spark, Glue) must give them.
  public static let expectedCounts: [PipelineProfile: [ZoneTable: Int]] = [
    .udacity: [
      .customerTrusted: 482, .accelerometerTrusted: 40_981, .customersCurated: 482, .stepTrainerTrusted: 14_460,
      .machineLearningCurated: 43_681,
    ],
    .strict: [
      .customerTrusted: 482, .accelerometerTrusted: 32_025, .customersCurated: 464, .stepTrainerTrusted: 11_297,
      .machineLearningCurated: 32_025,
    ],
  ]
}
