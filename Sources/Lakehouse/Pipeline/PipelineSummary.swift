/// What a pipeline run did: the funnel of rows per table and what was quarantined.
public struct PipelineSummary: Sendable, Equatable {
  public var profile: PipelineProfile
  /// Rows per landing source as accepted (valid records, duplicates included).
  public var landingRows: [LandingSource: Int] = [:]
  /// Rows per output table.
  public var tableRows: [ZoneTable: Int] = [:]
  /// How every landing line was accounted for, per source.
  public var lines: [LandingSource: LineCounts] = [:]
  /// Quarantined lines per source and reason.
  public var quarantineReasons: [LandingSource: [QuarantineReason: Int]] = [:]
  /// Landing customer records refused because their customer was erased.
  public var erasedRecordsRefused = 0
  /// Findings of the quality assertions run after publishing; empty when all passed.
  public var qualityFailures: [QualityFinding] = []
  public var qualityChecksRun = 0
  /// Whether the tables were published (false when a quality assertion failed).
  public var published = false
  public var seconds: Double = 0
  /// The format the tables were written in.
  public var format: TableFormat
  /// What each Parquet publish changed (empty for NDJSON).
  public var parquetFiles: [ZoneTable: ParquetPublishOutcome] = [:]

  public init(profile: PipelineProfile, format: TableFormat = .ndjson) {
    self.profile = profile
    self.format = format
  }

  public func quarantined(_ source: LandingSource) -> Int { lines[source]?.quarantined ?? 0 }

  /// The funnel as one JSON object (the `--json` output).
  public func json() -> String {
    // Every source and table is present, with 0 when nothing was counted: consumers index them.
    var tables: [String: Int] = [:]
    for source in LandingSource.allCases { tables[source.landingTableName] = landingRows[source] ?? 0 }
    for table in ZoneTable.allCases { tables[table.rawValue] = tableRows[table] ?? 0 }
    let funnel = JSONFunnel(
      profile: profile.rawValue,
      tables: tables,
      quarantined: Self.bySource { quarantined($0) },
      quarantineReasons: Self.bySource { source in
        Dictionary(uniqueKeysWithValues: (quarantineReasons[source] ?? [:]).map { ($0.key.rawValue, $0.value) })
      },
      lines: Self.bySource { lines[$0] ?? LineCounts() },
      erasedRecordsRefused: erasedRecordsRefused,
      checks: .init(run: qualityChecksRun, failed: qualityFailures.map(\.description)),
      published: published,
      format: format.rawValue,
      files: parquetFiles.isEmpty
        ? nil
        : Dictionary(
          uniqueKeysWithValues: parquetFiles.map {
            (
              $0.key.rawValue,
              JSONFunnel.Files(
                version: $0.value.version, written: $0.value.filesWritten,
                kept: $0.value.filesKept, removed: $0.value.filesRemoved)
            )
          }),
      seconds: ReportJSON.seconds(seconds))
    return ReportJSON.line(funnel)
  }

  /// A value for every landing source, keyed by its name.
  private static func bySource<Value>(_ value: (LandingSource) -> Value) -> [String: Value] {
    Dictionary(uniqueKeysWithValues: LandingSource.allCases.map { ($0.rawValue, value($0)) })
  }

  /// The funnel as an aligned table for people.
  public func text() -> String {
    var out = "profile: \(profile.rawValue)   format: \(format.rawValue)\n\n"
    func row(_ name: String, _ count: Int, _ note: String = "") -> String {
      let padded = name.padding(toLength: 28, withPad: " ", startingAt: 0)
      let number = String(count).leftPadded(to: 10, with: " ")
      return "  \(padded)\(number)\(note)\n"
    }
    out += "table                              rows\n"
    for source in LandingSource.allCases {
      out += row(source.landingTableName, landingRows[source] ?? 0)
    }
    for table in ZoneTable.allCases { out += row(table.rawValue, tableRows[table] ?? 0) }
    out += "\nquarantined                        rows\n"
    for source in LandingSource.allCases {
      let reasons = (quarantineReasons[source] ?? [:]).sorted { $0.key < $1.key }
        .map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")
      out += row(source.rawValue, quarantined(source), reasons.isEmpty ? "" : "   (\(reasons))")
    }
    out += "\nlines: read = accepted + quarantined + blank\n"
    for source in LandingSource.allCases {
      let counts = lines[source] ?? LineCounts()
      out += "  \(source.rawValue): \(counts.read) = \(counts.accepted) + \(counts.quarantined) + \(counts.blank)\n"
    }
    if erasedRecordsRefused > 0 {
      out += "\nrefused \(erasedRecordsRefused) landing customer records of erased customers"
      out += " (stedi lake erase --reapply removes them from landing)\n"
    }
    out += "\nquality checks: \(qualityChecksRun - qualityFailures.count) of \(qualityChecksRun) passed\n"
    for finding in qualityFailures { out += "  FAILED \(finding)\n" }
    if !published { out += "nothing was published: the lake's tables are as they were\n" }
    if !parquetFiles.isEmpty {
      out += "\nparquet files                 version  written     kept  removed\n"
      for table in ZoneTable.allCases {
        guard let files = parquetFiles[table] else { continue }
        out +=
          "  \(table.rawValue.padding(toLength: 28, withPad: " ", startingAt: 0))"
          + String(files.version).leftPadded(to: 7, with: " ")
          + String(files.filesWritten).leftPadded(to: 9, with: " ")
          + String(files.filesKept).leftPadded(to: 9, with: " ")
          + String(files.filesRemoved).leftPadded(to: 9, with: " ") + "\n"
      }
    }
    out += "time: \(String(format3(seconds))) s\n"
    return out
  }
}

package func format3(_ value: Double) -> String {
  let rounded = (value * 1000).rounded() / 1000
  return "\(rounded)"
}

extension String {
  package func leftPadded(to width: Int, with pad: Character) -> String {
    count >= width ? self : String(repeating: pad, count: width - count) + self
  }
}

/// The `--json` funnel's shape.
private struct JSONFunnel: Encodable {
  struct Checks: Encodable {
    var run: Int
    /// Each failed assertion's description.
    var failed: [String]
  }
  var profile: String
  /// Rows per landing table and per output table.
  var tables: [String: Int]
  var quarantined: [String: Int]
  var quarantineReasons: [String: [String: Int]]
  /// read = accepted + quarantined + blank, per source.
  var lines: [String: LineCounts]
  var erasedRecordsRefused: Int
  var checks: Checks
  var published: Bool
  /// `ndjson` or `parquet`.
  var format: String
  /// Parquet tables: the Delta version published and the data files written, kept and removed.
  struct Files: Encodable {
    var version: Int64
    var written: Int
    var kept: Int
    var removed: Int
  }
  var files: [String: Files]?
  var seconds: Double
}
