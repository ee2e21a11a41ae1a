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

  public init(profile: PipelineProfile) { self.profile = profile }

  public func quarantined(_ source: LandingSource) -> Int { lines[source]?.quarantined ?? 0 }

  /// The funnel as one JSON object (the `--json` output).
  public func json() -> String {
    var parts: [String] = []
    parts.append("\"profile\": \"\(profile.rawValue)\"")
    var tables: [String] = LandingSource.allCases.map { "\"\($0.landingTableName)\": \(landingRows[$0] ?? 0)" }
    tables += ZoneTable.allCases.map { "\"\($0.rawValue)\": \(tableRows[$0] ?? 0)" }
    parts.append("\"tables\": {\(tables.joined(separator: ", "))}")
    parts.append(
      "\"quarantined\": {\(LandingSource.allCases.map { "\"\($0.rawValue)\": \(quarantined($0))" }.joined(separator: ", "))}"
    )
    let reasons = LandingSource.allCases.map { source in
      let counts = (quarantineReasons[source] ?? [:]).sorted { $0.key < $1.key }
        .map { "\"\($0.key.rawValue)\": \($0.value)" }
      return "\"\(source.rawValue)\": {\(counts.joined(separator: ", "))}"
    }
    parts.append("\"quarantineReasons\": {\(reasons.joined(separator: ", "))}")
    let lineParts = LandingSource.allCases.map { source in
      let counts = lines[source] ?? LineCounts()
      return
        "\"\(source.rawValue)\": {\"read\": \(counts.read), \"accepted\": \(counts.accepted), \"quarantined\": \(counts.quarantined), \"blank\": \(counts.blank)}"
    }
    parts.append("\"lines\": {\(lineParts.joined(separator: ", "))}")
    parts.append("\"erasedRecordsRefused\": \(erasedRecordsRefused)")
    var findings = NDJSONBuffer()
    for (index, finding) in qualityFailures.enumerated() {
      if index > 0 { findings.appendRaw(UInt8(ascii: ",")) }
      findings.appendQuoted(finding.description)
    }
    parts.append(
      "\"checks\": {\"run\": \(qualityChecksRun), \"failed\": [\(String(decoding: findings.bytes, as: UTF8.self))]}")
    parts.append("\"published\": \(published)")
    parts.append("\"seconds\": \(((seconds * 1000).rounded() / 1000))")
    return "{" + parts.joined(separator: ", ") + "}"
  }

  /// The funnel as an aligned table for people.
  public func text() -> String {
    var out = "profile: \(profile.rawValue)\n\n"
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
