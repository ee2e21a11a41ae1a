import Foundation

/// What the last run published, kept in the lake's metadata so that checks know its profile.
public struct RunRecord: Sendable, Equatable {
  public var profile: PipelineProfile

  public init(profile: PipelineProfile) { self.profile = profile }

  static func path(in lake: Lake) -> String { "\(lake.metadataFolder)/last-run.json" }

  func write(to lake: Lake) throws(LakeError) {
    try TablePublisher.replaceFile(
      at: Self.path(in: lake), with: Array("{\"profile\": \"\(profile.rawValue)\"}\n".utf8))
  }

  /// The lake's last run, or nil if the pipeline never ran there.
  public static func read(from lake: Lake) -> RunRecord? {
    guard let data = FileManager.default.contents(atPath: path(in: lake)),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let name = object["profile"] as? String, let profile = PipelineProfile(rawValue: name)
    else { return nil }
    return RunRecord(profile: profile)
  }
}
