import Foundation
import LakeStorage
import Lakehouse

/// What `stedi lake erase` does with an ingest service's write-ahead log on the same machine.
///
/// An erasure must know the customer's serial numbers even while their customer record still
/// waits in a service's buffer, and must not leave their records in a log that no service will
/// land soon (a service that was stopped by kill -9).
public enum IngestLogErasure {
  /// The customer records waiting in the log in `directory`, read without changing anything
  /// (a running service may be appending): every intact record entry, landed or not.
  public static func customerRecords(inLogDirectory directory: String) throws -> [CustomerRecord] {
    guard FileManager.default.fileExists(atPath: directory) else { return [] }
    var customers: [CustomerRecord] = []
    for segment in try WALFileSystem.listSegments(in: directory) {
      // A segment released meanwhile is simply gone.
      guard let bytes = try? WALFileSystem.readAll(segment.path) else { continue }
      let scan = bytes.withUnsafeBufferPointer { WALSegmentScan(bytes: $0, firstLSN: segment.firstLSN) }
      for record in scan.records {
        guard case .records(.customer, _, let ndjson)? = IngestLogEntry(decoding: record.payload) else { continue }
        forEachLine(ndjson) { line in
          if let customer = try? CustomerRecord.decode(line) { customers.append(customer) }
        }
      }
    }
    return customers
  }

  /// What happened to the log.
  public enum Outcome: Sendable, Equatable {
    /// There is no log in that folder.
    case noLog
    /// A service holds the log: it takes erased customers' records out of it itself, within its
    /// erasure-list refresh interval.
    case inUse
    /// Nobody held the log: what it held is now in landing, less erased customers' records, and
    /// the log holds no records any more.
    case drained(recordsReplayed: Int)
  }

  /// Lands what a stopped service left in its log (less erased customers' records) and empties
  /// the log; a log held by a running service is left to it.
  public static func drain(logDirectory: String, storage: any LakeStorage) async throws -> Outcome {
    guard FileManager.default.fileExists(atPath: logDirectory),
      (try? WALFileSystem.listSegments(in: logDirectory))?.isEmpty == false
    else { return .noLog }
    let erasures = ErasureGuard()
    try await erasures.refresh(storage: storage)
    let opened: (Ingestor, Ingestor.Recovery)
    do {
      opened = try await Ingestor.open(storage: storage, logDirectory: logDirectory, erasures: erasures)
    } catch IngestStartError.busy(_) {
      return .inUse
    }
    let (ingestor, recovery) = opened
    await ingestor.purgeErasedFromLog()
    await ingestor.shutdown()
    return .drained(recordsReplayed: recovery.unsealedRecordsReplayed)
  }
}
