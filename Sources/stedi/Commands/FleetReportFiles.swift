import ArgumentParser
import Fleet
import Foundation

/// `stedi fleet run`'s report files, besides the report on stdout.
struct FleetReportFiles: ParsableArguments {
  @Option(help: "Write the report as JSON to this file.")
  var reportJson: String?

  @Option(help: "Write the report as a self-contained HTML page to this file.")
  var reportHtml: String?

  /// Writes the files that were asked for.
  func write(_ report: FleetReport) throws {
    if let reportJson { try report.json().write(toFile: reportJson, atomically: true, encoding: .utf8) }
    if let reportHtml { try report.html().write(toFile: reportHtml, atomically: true, encoding: .utf8) }
  }
}
