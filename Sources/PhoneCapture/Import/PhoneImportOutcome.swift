import Foundation
import Lakehouse

/// What an import landed, and the summary `stedi import phone` prints.
public struct PhoneImportOutcome: Sendable {
  /// The export file.
  public var source: String
  /// The customer's email.
  public var user: String
  /// What the importer read.
  public var result: PhoneImport
  /// The first and last sample's epoch milliseconds.
  public var timeRange: ClosedRange<Int64>
  /// The landing file.
  public var landingPath: String
  /// Whether the landing file already held exactly these bytes (the file was imported before).
  public var unchanged: Bool
  /// The quarantine file, if any row was rejected.
  public var quarantinePath: String?
  /// Other landing files of the same source bytes (imported with another stream or start).
  public var siblings: [String]

  /// The summary: counts, time range, rate, gravity, files, the first rejected rows and notes.
  public var summary: String {
    let range = timeRange
    let seconds = Double(range.upperBound - range.lowerBound) / 1000
    var lines = [
      "imported \(source) (\(result.format.displayName), \(result.stream)) for \(user)",
      "  samples imported  \(result.samples.count)",
      "  rows rejected     \(result.rejected.count)",
      "  time range        \(EpochMilliseconds.iso8601(range.lowerBound)) to \(EpochMilliseconds.iso8601(range.upperBound)) "
        + "(\(String(format: "%.3f", seconds)) s)",
      "  rate              \(result.sampleRate.map { String(format: "%.2f Hz", $0) } ?? "n/a (fewer than two distinct times)")",
      "  gravity           \(Self.gravityText(result.gravity))",
      "  landing file      \(landingPath)\(unchanged ? " (unchanged: this file was already imported)" : "")",
      "  quarantine file   "
        + (quarantinePath.map { "\($0) (not part-00000.json, which every pipeline run rebuilds)" } ?? "none"),
    ]
    for row in result.rejected.prefix(5) {
      lines.append("  rejected line \(row.line): \(row.reason.rawValue): \(row.detail)")
    }
    if result.rejected.count > 5 { lines.append("  … and \(result.rejected.count - 5) more rejected rows") }
    if result.nonIncreasingSteps > 0 {
      lines.append("  note: \(result.nonIncreasingSteps) samples do not move forward in time (kept as recorded)")
    }
    for note in result.notes { lines.append("  note: \(note)") }
    for sibling in siblings {
      lines.append("  note: the same file was also imported as \(sibling) (another --sensor or --start-ms?)")
    }
    return lines.joined(separator: "\n")
  }

  static func gravityText(_ gravity: GravityContent) -> String {
    switch gravity {
    case .included: "included"
    case .removed: "removed (linear acceleration)"
    case .unknown: "unknown (neither the columns nor the file name say)"
    }
  }
}
