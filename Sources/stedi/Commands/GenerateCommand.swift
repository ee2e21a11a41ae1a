import ArgumentParser
import DatasetLanding
import Foundation
import Lakehouse
import Motion

struct GenerateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "generate",
    abstract: "Write a synthetic landing zone from the motion model, deterministically from a seed.",
    discussion: """
      Writes customer, accelerometer and step_trainer landing tables in the public STEDI data's \
      format, plus step_events (the true steps, for scoring step detectors), and a manifest of \
      every flaw at <lake>/_stedi/generate-manifest.json. Same seed, same bytes.
      """)

  @Option(help: "The lake folder to write into (created if missing).")
  var lake: String

  @Option(help: "How many customers.")
  var customers: Int

  @Option(help: "Days of exercise per customer.")
  var days = 1

  @Option(help: "Seed: the same seed writes the same bytes.")
  var seed: UInt64 = 1

  @Option(
    name: [.customLong("flaws"), .customLong("profile-of-flaws")],
    help: ArgumentHelp(
      "Which flaws of the real data to reproduce: all, none, or a comma-separated list.",
      discussion: DatasetFlaw.allCases.map(\.rawValue).joined(separator: ", ")))
  var flaws = "all"

  @Option(help: "Longest exercise session in seconds; sessions last between a third of it and all of it.")
  var sessionSeconds = 90.0

  @Flag(help: "Write x, y, z as the STEDI app does: -1, 0 or 1 (units of g), instead of m/s².")
  var quantised = false

  @Flag(help: "Print the summary as one JSON object.")
  var json = false

  func validate() throws {
    guard customers > 0 else { throw ValidationError("--customers must be at least 1") }
    guard days > 0 else { throw ValidationError("--days must be at least 1") }
    guard sessionSeconds >= 3 else { throw ValidationError("--session-seconds must be at least 3") }
    _ = try parsedFlaws()
  }

  func parsedFlaws() throws -> Set<DatasetFlaw> {
    switch flaws {
    case "all": return Set(DatasetFlaw.allCases)
    case "none": return []
    default:
      return Set(
        try flaws.split(separator: ",").map { name in
          guard let flaw = DatasetFlaw(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
            throw ValidationError(
              "unknown flaw '\(name)'; known: \(DatasetFlaw.allCases.map(\.rawValue).joined(separator: ", "))")
          }
          return flaw
        })
    }
  }

  func run() throws {
    let started = ContinuousClock.now
    var generator = DatasetGenerator(
      customers: customers, days: days, seed: seed, flaws: try parsedFlaws(), quantised: quantised)
    generator.sessionSeconds = (sessionSeconds / 3)...sessionSeconds
    let progress = TerminalProgress()
    let outcome = GenerationRun(generator: generator, lake: lake)
    try CommandFailure.reporting { try outcome.run(progress: progress.show) }
    progress.finish()
    let manifest = outcome.manifest
    let elapsed = (ContinuousClock.now - started).components
    let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18
    if json {
      print(outcome.json(seconds: seconds))
    } else {
      print("wrote \(customers) customers over \(days) day(s) to \(lake) in \(String(format: "%.3f", seconds)) s")
      for table in DatasetTable.allCases { print("  \(table.rawValue): \(manifest.rows[table.rawValue] ?? 0) rows") }
      print("  flaws: \(manifest.flaws.isEmpty ? "none" : manifest.flaws.joined(separator: ", "))")
      print("  manifest: \(lake)/_stedi/generate-manifest.json")
    }
  }
}
