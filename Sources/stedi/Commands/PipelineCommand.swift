import ArgumentParser
import Foundation
import Lakehouse

struct PipelineCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pipeline",
    abstract: "Build and check the trusted and curated zones of a lake.",
    subcommands: [Run.self, Check.self]
  )

  struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Build every zone from the landing tables and print the funnel.")

    @OptionGroup var lakeOptions: LakeOptions

    @Option(help: "Which rules: strict (STEDI's privacy promise) or udacity (the public rubric's counts).")
    var profile: PipelineProfile = .strict

    @Flag(help: "Print the funnel as one JSON object.")
    var json = false

    func run() throws {
      let lake = try lakeOptions.openLake()
      let key = try lakeOptions.pseudonymKey(for: lake)
      let pipeline = ZonePipeline(lake: lake, rules: ZoneRules(profile: profile), key: key)
      let progress = TerminalProgress()
      let summary = try runReportingLakeErrors { try pipeline.run(progress: progress.show) }
      progress.finish()
      print(json ? summary.json() : summary.text(), terminator: json ? "\n" : "")
      if !summary.qualityFailures.isEmpty { throw ExitCode(3) }
    }
  }

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run the quality assertions on the published tables; exit 3 if any fails.")

    @OptionGroup var lakeOptions: LakeOptions

    func run() throws {
      let lake = try lakeOptions.openLake()
      let key = try lakeOptions.pseudonymKey(for: lake)
      let report = try runReportingLakeErrors { try QualityCheck(lake: lake, key: key).run() }
      if report.passed {
        print("quality checks: all \(report.checksRun) passed")
        return
      }
      print("quality checks: \(report.findings.count) of \(report.checksRun) failed")
      for finding in report.findings { print("  FAILED \(finding)") }
      throw ExitCode(3)
    }
  }
}

extension PipelineProfile: ExpressibleByArgument {}
