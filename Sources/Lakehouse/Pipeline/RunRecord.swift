import Foundation
import LakeStorage

/// What the last run published, kept in the lake's metadata so that checks know its profile.
public struct RunRecord: Sendable, Equatable, Codable {
  /// The profile the run applied.
  public var profile: PipelineProfile
  /// The format it wrote its tables in (nil in records of runs before Parquet: NDJSON).
  public var format: TableFormat?

  /// A record of a run with `profile` writing `format`.
  public init(profile: PipelineProfile, format: TableFormat? = nil) {
    self.profile = profile
    self.format = format
  }

  /// The record's key in lake storage (and path below a folder lake's root).
  package static let object = "_stedi/last-run.json"

  static func path(in lake: Lake) -> String { "\(lake.metadataFolder)/last-run.json" }

  /// The record as the file holds it.
  var encoded: [UInt8] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    // Encoding a struct of one enum cannot fail.
    return Array(try! encoder.encode(self)) + [UInt8(ascii: "\n")]
  }

  /// The record in `bytes`, or nil when they hold none (an unreadable record only informs).
  package static func decode(_ bytes: [UInt8]) -> RunRecord? {
    try? JSONDecoder().decode(RunRecord.self, from: Data(bytes))
  }

  func write(to lake: Lake) throws(StorageError) {
    try TablePublisher.replaceFile(at: Self.path(in: lake), with: encoded)
  }

  /// The lake's last run, or nil if the pipeline never ran there.
  public static func read(from lake: Lake) -> RunRecord? {
    FileManager.default.contents(atPath: path(in: lake)).flatMap { decode(Array($0)) }
  }
}
