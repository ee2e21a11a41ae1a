import ArgumentParser
import Foundation
import Ingestion
import LakePrivacy
import LakeStorage
import Lakehouse

/// `stedi lake erase`: the right to erasure, across every zone of a lake.
struct LakeEraseCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "erase",
    abstract: "Remove a customer from every zone of the lake and keep them out for good.",
    discussion: """
      Removes the customer's records from customer landing/trusted/curated, their phone readings \
      from accelerometer landing/trusted, their rows of machine_learning_curated (by subjectId), \
      the step-trainer readings of serial numbers only they held (a serial shared with other \
      customers keeps its readings; only the curated rows the owner-aware join gave this customer \
      go), and quarantine lines that name them. Landing lines are blanked (so line numbers in \
      quarantine entries stay true) and a batch left empty is deleted; every file is replaced \
      atomically.

      A keyed hash of the email (never the email) goes on the lake's erasure list \
      (_stedi/erasures.json, key _stedi/erasure.key) before any file changes: from then on the \
      pipeline and the ingest service refuse the customer's records. If the command is \
      interrupted, run it again: it finishes the job. Each run appends an entry without personal \
      data to _stedi/erasure-log.ndjson: when, the hash, rows removed per table.

      Every spelling of the email is the same customer (trimmed, any letter case, any Unicode \
      normalization). On a folder lake the ingest service's write-ahead log (--wal, default \
      _stedi/ingest-wal) is read for the customer's records still waiting there (their serial \
      numbers are theirs too); a running service takes the customer's records out of its log \
      within its --erasure-refresh-seconds, and a log nobody holds (a service stopped by kill -9) \
      is landed, less the customer, and emptied here. An email found nowhere is said so; it goes \
      on the list all the same.

      --reapply (without --email) applies the whole list again, removing records of erased \
      customers that reached the lake after their erasure.
      """)

  @OptionGroup var storageOptions: StorageOptions

  @Option(help: "The customer's email address.")
  var email: String?

  @Flag(help: "Apply every entry of the erasure list again instead of erasing a new customer.")
  var reapply = false

  @OptionGroup var pseudonymKey: PseudonymKeyOptions

  @Flag(help: "Print the report as one JSON object.")
  var json = false

  @Option(help: "The ingest service's write-ahead log folder on this machine (default: <lake>/_stedi/ingest-wal).")
  var wal: String?

  func validate() throws {
    guard (email != nil) != reapply else { throw ValidationError("give either --email ADDRESS or --reapply") }
    if let email, !email.contains("@") { throw ValidationError("--email must be an email address") }
  }

  func run() async throws {
    let storage = try storageOptions.storage()
    var eraser = LakeEraser(storage: storage)
    if let key = try await pseudonymKey.namedKey() { eraser.pseudonymKey = key }
    let logFolder = wal ?? (storageOptions.isS3 ? nil : "\(storageOptions.lake)/_stedi/ingest-wal")
    let pending = try logFolder.map { try IngestLogErasure.customerRecords(inLogDirectory: $0) } ?? []
    let progress = TerminalProgress()
    var report = try await CommandFailure.reporting {
      if let email {
        try await eraser.erase(email: email, pending: pending, progress: progress.show)
      } else {
        try await eraser.reapply(progress: progress.show)
      }
    }
    if let logFolder {
      progress.show("taking erased customers' records out of the ingest log")
      report.ingestLog =
        switch try await IngestLogErasure.drain(logDirectory: logFolder, storage: storage) {
        case .noLog: "none"
        case .inUse: "in use by a running service, which takes the customer's records out of it itself"
        case .drained(let replayed): "landed what it held (\(replayed) records, less erased customers') and emptied it"
        }
    }
    progress.finish()
    print(json ? report.json() : report.text(), terminator: json ? "\n" : "")
  }
}
