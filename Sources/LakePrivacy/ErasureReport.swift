import Foundation
import Lakehouse

/// What an erasure did: rows removed per table and files touched. It holds no personal data.
public struct ErasureReport: Sendable, Equatable {
  /// The keyed hash of the erased email, or `*` when every list entry was re-applied.
  public var subject: String
  /// Whether the customer was already on the erasure list (a second run, or one finishing a crashed run).
  public var resumed = false
  /// Customer records of this customer found in the customer tables.
  public var customerRecordsFound = 0
  /// Serial numbers only this customer held (their readings are erased) and ones shared with others (kept).
  public var uniqueSerials = 0
  public var sharedSerials = 0
  /// Rows removed per table (`customer_landing`, ..., `machine_learning_curated`, `<source>_quarantine`).
  public var rowsRemoved: [String: Int] = [:]
  public var filesScanned = 0
  public var filesRewritten = 0
  public var filesDeleted = 0
  /// Data files of Parquet tables deleted because no version holds them now (files earlier
  /// versions held, kept for their readers, and leftovers of killed runs): erased rows must not
  /// survive in old versions.
  public var oldFilesDeleted = 0
  /// Delta versions committed: one per Parquet table the erasure changed.
  public var deltaCommits = 0
  public var seconds = 0.0
  /// What became of an ingest service's write-ahead log on this machine (nil: none was looked at).
  public var ingestLog: String?

  /// Whether nothing of the customer was found anywhere (an unknown email, or a spelling of
  /// nobody): they are on the erasure list all the same, so records arriving later are refused.
  public var foundNothing: Bool { !resumed && customerRecordsFound == 0 && totalRowsRemoved == 0 }

  /// An empty report for `subject`.
  public init(subject: String) { self.subject = subject }

  /// All rows removed.
  public var totalRowsRemoved: Int { rowsRemoved.values.reduce(0, +) }

  /// The report as one JSON object (also the erasure log's entry, with `at`).
  public func json(at time: Date? = nil) -> String {
    // Every table is present, with 0 when nothing was removed from it.
    var rows: [String: Int] = [:]
    for kind in LakeZoneFile.allCases { rows[kind.rawValue] = rowsRemoved[kind.rawValue] ?? 0 }
    let entry = JSONEntry(
      at: time.map(Self.timestamp),
      subject: subject,
      resumed: resumed,
      customerRecordsFound: customerRecordsFound,
      uniqueSerials: uniqueSerials,
      sharedSerials: sharedSerials,
      rowsRemoved: rows,
      filesScanned: filesScanned,
      filesRewritten: filesRewritten,
      filesDeleted: filesDeleted,
      oldFilesDeleted: oldFilesDeleted,
      deltaCommits: deltaCommits,
      seconds: ReportJSON.seconds(seconds),
      // Re-applying the whole list (`*`) looks for nobody in particular.
      foundNothing: subject == "*" ? nil : foundNothing,
      ingestLog: ingestLog)
    return ReportJSON.line(entry)
  }

  /// The report for people.
  public func text() -> String {
    var out = "erased subject \(subject)\(resumed ? " (already on the erasure list: finished or re-checked)" : "")\n"
    if subject != "*", foundNothing {
      out += "no record of this customer was found in the lake (check the spelling); they are on the erasure"
      out += " list all the same, so their records are refused if they arrive later\n"
    }
    out += "customer records found: \(customerRecordsFound); serial numbers: \(uniqueSerials) only theirs"
    out += " (readings erased), \(sharedSerials) shared with other customers (readings kept)\n\n"
    out += "table                              rows removed\n"
    for kind in LakeZoneFile.allCases {
      let count = rowsRemoved[kind.rawValue] ?? 0
      out +=
        "  \(kind.rawValue.padding(toLength: 28, withPad: " ", startingAt: 0))\(String(count).leftPadded(to: 10, with: " "))\n"
    }
    out += "\nfiles: \(filesScanned) scanned, \(filesRewritten) rewritten, \(filesDeleted) deleted\n"
    if oldFilesDeleted > 0 || deltaCommits > 0 {
      out +=
        "Parquet tables: \(deltaCommits) Delta versions committed, \(oldFilesDeleted) files of older versions deleted\n"
    }
    out += "time: \(format3(seconds)) s\n"
    if let ingestLog { out += "ingest log: \(ingestLog)\n" }
    return out
  }

  static func timestamp(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
  }
}

/// The JSON report's and the erasure log entry's shape; nil fields are left out.
private struct JSONEntry: Encodable {
  var at: String?
  var subject: String
  var resumed: Bool
  var customerRecordsFound: Int
  var uniqueSerials: Int
  var sharedSerials: Int
  var rowsRemoved: [String: Int]
  var filesScanned: Int
  var filesRewritten: Int
  var filesDeleted: Int
  var oldFilesDeleted: Int
  var deltaCommits: Int
  var seconds: Double
  var foundNothing: Bool?
  var ingestLog: String?
}
