import Foundation
import LakeStorage
import Lakehouse

/// Where a pipeline export runs.
public enum ExportTarget: String, CaseIterable, Sendable {
  case spark
  /// AWS Glue job scripts, one per zone job, reading and writing through the Glue Data Catalog.
  case glue
  /// Athena DDL for every lake table, and the funnel and privacy queries.
  case athena
}

/// Writes the zone rules of a profile as files another engine runs.
public struct PipelineExport: Sendable {
  public var target: ExportTarget
  public var rules: ZoneRules
  /// The zone tables' format: what the Spark runner writes by default (its `--format` overrides it),
  /// what the Glue jobs write and what the Athena tables declare.
  public var format: TableFormat

  /// An export writing `format`, by default the one `stedi pipeline run` writes under the profile.
  public init(target: ExportTarget, rules: ZoneRules, format: TableFormat? = nil) {
    self.target = target
    self.rules = rules
    self.format = format ?? .standard(for: rules.profile)
  }

  /// The files of the export, relative path → contents.
  public func files() -> [(path: String, contents: String)] {
    let jobs = ZoneJob.jobs(for: rules)
    switch target {
    case .spark:
      var files = jobs.enumerated().map { index, job in
        ("sql/\(SparkRunner.fileName(index: index, job: job))", job.sql + "\n")
      }
      files.append(("run_pipeline.py", SparkRunner.script(profile: rules.profile, format: format, jobs: jobs)))
      return files
    case .glue:
      return GlueJobs.files(rules: rules, format: format)
    case .athena:
      return [
        ("athena/create_tables.sql", AthenaStatements.createTables(rules: rules, format: format)),
        ("athena/validate_funnel.sql", AthenaStatements.validateFunnel(rules: rules)),
      ]
    }
  }

  /// Writes the files under `folder` (created if missing), each atomically.
  public func write(to folder: String) throws(StorageError) -> [String] {
    var written: [String] = []
    for (path, contents) in files() {
      let full = "\(folder)/\(path)"
      try TablePublisher.replaceFile(at: full, with: Array(contents.utf8), mode: path.hasSuffix(".py") ? 0o755 : 0o644)
      written.append(full)
    }
    return written
  }
}
