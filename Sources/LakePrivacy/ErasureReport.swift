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
    var parts: [String] = []
    if let time { parts.append("\"at\": \"\(Self.timestamp(time))\"") }
    parts.append("\"subject\": \"\(subject)\"")
    parts.append("\"resumed\": \(resumed)")
    parts.append("\"customerRecordsFound\": \(customerRecordsFound)")
    parts.append("\"uniqueSerials\": \(uniqueSerials)")
    parts.append("\"sharedSerials\": \(sharedSerials)")
    let rows = LakeZoneFile.allCases.map { "\"\($0.rawValue)\": \(rowsRemoved[$0.rawValue] ?? 0)" }
    parts.append("\"rowsRemoved\": {\(rows.joined(separator: ", "))}")
    parts.append("\"filesScanned\": \(filesScanned)")
    parts.append("\"filesRewritten\": \(filesRewritten)")
    parts.append("\"filesDeleted\": \(filesDeleted)")
    parts.append("\"seconds\": \(((seconds * 1000).rounded() / 1000))")
    if subject != "*" { parts.append("\"foundNothing\": \(foundNothing)") }
    if let ingestLog { parts.append("\"ingestLog\": \"\(ingestLog)\"") }
    return "{" + parts.joined(separator: ", ") + "}"
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
