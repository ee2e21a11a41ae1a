import ArgumentParser
import Foundation
import LakePrivacy
import LakeStorage
import Lakehouse

/// `stedi lake audit`: the compliance report of a lake, for an auditor.
struct LakeAuditCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "audit",
    abstract: "Scan every table against STEDI's privacy promise; exit 3 on any finding.",
    discussion: """
      Judges the strict rules whatever profile the pipeline ran with: rows of customers without \
      current consent in trusted and curated tables (consent), readings from before consent \
      (before_consent), direct identifiers in machine_learning_curated (direct_identifier), \
      records of erased customers anywhere (erased_customer), and quarantined lines kept longer \
      than the retention limit (quarantine_retention); rows of trusted or curated tables that are \
      not records at all cannot pass unjudged (unreadable). Findings give table, row count and the \
      first file and line, never the personal data itself. Exit 0 when clean, 3 on findings, 2 \
      on errors. --lake is a folder or s3://bucket/prefix; nothing in the lake is written.
      """)

  @OptionGroup var location: StorageOptions

  @OptionGroup var pseudonymKey: PseudonymKeyOptions

  @Option(help: "How many days quarantined lines may be kept, from when their landing file arrived.")
  var quarantineRetentionDays = 30

  @Flag(help: "Print the report as one JSON object.")
  var json = false

  func validate() throws {
    guard quarantineRetentionDays >= 0 else {
      throw ValidationError("--quarantine-retention-days must be 0 or more")
    }
  }

  func run() async throws {
    let storage = try location.storage()
    let key = try await pseudonymKey.namedKey()
    let audit = ComplianceAudit(storage: storage, pseudonymKey: key, quarantineRetentionDays: quarantineRetentionDays)
    let progress = TerminalProgress()
    let report = try await CommandFailure.reporting { try await audit.run(progress: progress.show) }
    progress.finish()
    print(json ? report.json() : report.text(), terminator: json ? "\n" : "")
    if !report.isClean { throw ExitCode(3) }
  }
}
