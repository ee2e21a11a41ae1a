import ArgumentParser
import Foundation
import LakeExport
import Lakehouse

struct PipelineCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "pipeline",
    abstract: "Build and check the trusted and curated zones of a lake.",
    subcommands: [Run.self, Check.self, Export.self]
  )

  struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Build every zone from the landing tables and print the funnel.",
      discussion: """
        --lake is a folder or s3://bucket/prefix. An S3 lake is pulled into a local working copy \
        (--work; landing batches already there are not downloaded again), the same pipeline runs \
        on it, and the tables, quarantine and metadata it wrote are uploaded, one PUT per file.
        """)

    @OptionGroup var location: StorageOptions
    @OptionGroup var pseudonymKey: PseudonymKeyOptions

    @Option(help: "For an S3 lake: the local working copy (default ~/.cache/stedi/s3/<bucket>/<prefix>).")
    var work: String?

    @Option(help: "Which rules: strict (STEDI's privacy promise) or udacity (the public rubric's counts).")
    var profile: PipelineProfile = .strict

    @Option(
      help: """
        How trusted and curated tables are written: parquet (ZSTD Parquet under a Delta log, reading \
        tables partitioned by UTC date=YYYY-MM-DD; the strict default) or ndjson (one JSON object per \
        line; the udacity default).
        """)
    var format: TableFormat?

    @Flag(help: "Print the funnel as one JSON object.")
    var json = false

    func run() async throws {
      let progress = TerminalProgress()
      let summary = try await withLocalLake(location, work: work, progress: progress, publish: true) {
        lake in
        let key = try pseudonymKey.keyForRun(on: lake)
        let pipeline = ZonePipeline(lake: lake, rules: ZoneRules(profile: profile), key: key, format: format)
        return try await CommandFailure.reporting { try await pipeline.run(progress: progress.show) }
      }
      progress.finish()
      print(json ? summary.json() : summary.text(), terminator: json ? "\n" : "")
      if !summary.qualityFailures.isEmpty { throw ExitCode(3) }
    }
  }

  struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run the quality assertions on the published tables; exit 3 if any fails.")

    @OptionGroup var location: StorageOptions
    @OptionGroup var pseudonymKey: PseudonymKeyOptions

    @Option(help: "For an S3 lake: the local working copy (default ~/.cache/stedi/s3/<bucket>/<prefix>).")
    var work: String?

    func run() async throws {
      try await withLocalLake(location, work: work, progress: TerminalProgress(), publish: false) { lake in
        try await check(lake)
      }
    }

    private func check(_ lake: Lake) async throws {
      let key = try pseudonymKey.keyForRun(on: lake)
      let report = try await CommandFailure.reporting { try await QualityCheck(lake: lake, key: key).run() }
      if report.passed {
        print("quality checks: all \(report.checksRun) passed")
        return
      }
      print("quality checks: \(report.findings.count) of \(report.checksRun) failed")
      for finding in report.findings { print("  FAILED \(finding)") }
      throw ExitCode(3)
    }
  }

  struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Write the zone rules as jobs another engine runs, rendered from the same definition.",
      discussion: """
        spark: one Spark SQL file per zone job (sql/) and run_pipeline.py, which runs them in order \
        over a lake (python3 DIR/run_pipeline.py --lake PATH) and writes the same folders as \
        `stedi pipeline run`. glue: the five AWS Glue job scripts with the seed project's names. \
        athena: CREATE EXTERNAL TABLE statements for every table and the funnel queries.
        """)

    @Option(
      help: "The engine: spark (SQL jobs + a PySpark runner), glue (Glue job scripts) or athena (DDL + funnel queries)."
    )
    var target: ExportTarget = .spark

    @Option(help: "Which rules: strict or udacity.")
    var profile: PipelineProfile = .strict

    @Option(help: "The folder to write the jobs into (created if missing).")
    var out: String

    func run() throws {
      let export = PipelineExport(target: target, rules: ZoneRules(profile: profile))
      let written = try CommandFailure.reporting { try export.write(to: out) }
      print("wrote \(written.count) files for \(target.rawValue) (\(profile.rawValue) profile) to \(out)")
      if target == .spark { print("run: python3 \(out)/run_pipeline.py --lake LAKE") }
    }
  }
}

extension PipelineProfile: ExpressibleByArgument {}
extension TableFormat: ExpressibleByArgument {}
extension ExportTarget: ExpressibleByArgument {}
