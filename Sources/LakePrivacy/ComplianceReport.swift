import Foundation
import Lakehouse

// The report says what was scanned as well as what was found: "clean" means something only next
// to the files and rows it covered (a lake whose tables were never published is clean too).

/// What a compliance audit found and what it scanned, as text for people or JSON for machines.
public struct ComplianceReport: Sendable, Equatable {
  /// Where the pseudonym key that subjectIds were checked with came from.
  public enum KeySource: String, Sendable, Equatable, Codable {
    /// Given by the caller (a key file).
    case given
    /// The lake's own `_stedi/pseudonym.key`.
    case lake
    /// There was none: subjectIds could not be checked.
    case absent
  }

  /// One table or file area and how much of it was read.
  public struct ScannedTable: Sendable, Equatable, Codable {
    /// The table's name (`customer_landing`, `machine_learning_curated`, `step_trainer_quarantine`).
    public var table: String
    /// Its folder in the lake.
    public var folder: String
    /// NDJSON files read.
    public var files: Int
    /// Non-blank lines read.
    public var rows: Int
    /// Lines that are not records of the table (malformed landing lines are normal; elsewhere they are findings).
    public var unreadableRows: Int

    /// A scanned table.
    public init(table: String, folder: String, files: Int = 0, rows: Int = 0, unreadableRows: Int = 0) {
      self.table = table
      self.folder = folder
      self.files = files
      self.rows = rows
      self.unreadableRows = unreadableRows
    }
  }

  /// The lake's location.
  public var lake: String
  /// The instant the audit judged ages against.
  public var auditedAt: Date
  /// The profile of the pipeline's last run, nil if it never ran (the audit judges strict rules regardless).
  public var lastRunProfile: PipelineProfile?
  /// Where the pseudonym key came from.
  public var pseudonymKey: KeySource
  /// Customers who consent to research now (by their newest landing record).
  public var consentingCustomers: Int
  /// Customers on the lake's erasure list.
  public var erasedCustomers: Int
  /// The retention limit of quarantined lines, in days.
  public var quarantineRetentionDays: Int
  /// Every table and area, in lake order, present or not.
  public var tables: [ScannedTable]
  /// Objects that belong to no table (metadata, files that are not NDJSON): not audited.
  public var objectsSkipped: Int
  /// What breaks the promise, by table and check.
  public var findings: [ComplianceFinding]

  /// A report.
  public init(
    lake: String, auditedAt: Date, lastRunProfile: PipelineProfile?, pseudonymKey: KeySource,
    consentingCustomers: Int, erasedCustomers: Int, quarantineRetentionDays: Int, tables: [ScannedTable],
    objectsSkipped: Int, findings: [ComplianceFinding]
  ) {
    self.lake = lake
    self.auditedAt = auditedAt
    self.lastRunProfile = lastRunProfile
    self.pseudonymKey = pseudonymKey
    self.consentingCustomers = consentingCustomers
    self.erasedCustomers = erasedCustomers
    self.quarantineRetentionDays = quarantineRetentionDays
    self.tables = tables
    self.objectsSkipped = objectsSkipped
    self.findings = findings
  }

  /// Whether nothing was found.
  public var isClean: Bool { findings.isEmpty }

  /// NDJSON files read, over every table.
  public var filesScanned: Int { tables.reduce(0) { $0 + $1.files } }

  /// The findings of one check.
  public func findings(_ check: ComplianceFinding.Check) -> [ComplianceFinding] {
    findings.filter { $0.check == check }
  }

  // MARK: Rendering

  /// The report as one JSON object (the `--json` output).
  public func json() -> String {
    let found = findings.map { finding in
      JSONReport.Finding(
        check: finding.check.rawValue, table: finding.table, rows: finding.count, example: finding.example,
        detail: finding.detail)
    }
    let report = JSONReport(
      lake: lake,
      auditedAt: auditedAt.formatted(.iso8601),
      clean: isClean,
      rules: PipelineProfile.strict.rawValue,
      lastRunProfile: .init(lastRunProfile?.rawValue),
      pseudonymKey: pseudonymKey.rawValue,
      consentingCustomers: consentingCustomers,
      erasedCustomers: erasedCustomers,
      quarantineRetentionDays: quarantineRetentionDays,
      scanned: .init(files: filesScanned, objectsSkipped: objectsSkipped, tables: tables),
      findings: found)
    return ReportJSON.line(report)
  }

  /// The report as aligned text for people.
  public func text() -> String {
    var out = "compliance audit of \(lake) at \(auditedAt.formatted(.iso8601))\n"
    out += "rules: strict (STEDI's privacy promise), whatever profile the pipeline ran with\n"
    out += "last pipeline run: \(lastRunProfile.map { "\($0.rawValue) profile" } ?? "none (the pipeline never ran)")\n"
    let keyText =
      switch pseudonymKey {
      case .given: "the key file given"
      case .lake: "the lake's _stedi/pseudonym.key"
      case .absent: "none (subjectIds cannot be checked)"
      }
    out += "pseudonym key: \(keyText)\n"
    out += "customers consenting now: \(consentingCustomers); on the erasure list: \(erasedCustomers)\n"
    out += "quarantine retention: \(quarantineRetentionDays) days\n\n"
    out += "scanned".padding(toLength: 30, withPad: " ", startingAt: 0) + "files".leftPadded(to: 7, with: " ")
    out += "rows".leftPadded(to: 12, with: " ") + "\n"
    for table in tables {
      out += "  " + table.table.padding(toLength: 28, withPad: " ", startingAt: 0)
      out += String(table.files).leftPadded(to: 7, with: " ") + String(table.rows).leftPadded(to: 12, with: " ")
      if table.unreadableRows > 0 { out += "   (\(table.unreadableRows) unreadable)" }
      out += "\n"
    }
    out += "  \(filesScanned) files audited"
    out += objectsSkipped > 0 ? ", \(objectsSkipped) other objects not audited (metadata, non-NDJSON)\n" : "\n"
    if findings.isEmpty {
      out += "\nfindings: none\n"
      return out
    }
    out += "\nfindings: \(findings.count)\n"
    for finding in findings {
      let rows = finding.count == 1 ? "1 row" : "\(finding.count) rows"
      out += "  FOUND \(finding.check.rawValue) in \(finding.table): \(rows), first at \(finding.example)\n"
      out += "        \(finding.detail)\n"
    }
    return out
  }
}

/// The `--json` report's shape.
private struct JSONReport: Encodable {
  struct Scanned: Encodable {
    var files: Int
    var objectsSkipped: Int
    var tables: [ComplianceReport.ScannedTable]
  }
  struct Finding: Encodable {
    var check: String
    var table: String
    var rows: Int
    var example: ComplianceFinding.Location
    var detail: String
  }
  var lake: String
  var auditedAt: String
  var clean: Bool
  /// The rules judged by: always strict.
  var rules: String
  /// `null` when the pipeline never ran.
  var lastRunProfile: ReportJSON.Nullable<String>
  var pseudonymKey: String
  var consentingCustomers: Int
  var erasedCustomers: Int
  var quarantineRetentionDays: Int
  var scanned: Scanned
  var findings: [Finding]
}
