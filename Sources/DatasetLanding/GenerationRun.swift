import Dispatch
import Foundation
import LakeStorage
import Lakehouse
import Motion

// Batches run on all cores with DispatchQueue.concurrentPerform: the work is CPU-bound and
// synchronous, and each batch writes its own files, so order does not matter for the bytes and
// the manifest is a sum. The lock guards the manifest, the count and the first failure.

/// A generated dataset written into a folder lake's landing zone, with its manifest.
public final class GenerationRun: @unchecked Sendable {
  /// The generator, with its seed, size and flaws.
  public let generator: DatasetGenerator
  /// The lake folder written into (created if missing).
  public let lake: String
  /// What was written: rows per table, every flaw, the counts a strict run must give.
  public private(set) var manifest: GenerationManifest
  private let lock = NSLock()

  /// A run of `generator` into the folder lake at `lake`.
  public init(generator: DatasetGenerator, lake: String) {
    self.generator = generator
    self.lake = lake
    manifest = generator.manifestHeader()
  }

  private var failure: StorageError?
  private var done = 0

  /// Writes every batch and then `_stedi/generate-manifest.json`; the first failure is thrown.
  public func run(progress: @escaping @Sendable (String) -> Void = { _ in }) throws {
    try FileManager.default.createDirectory(atPath: lake, withIntermediateDirectories: true)
    let total = generator.batchCount
    DispatchQueue.concurrentPerform(iterations: total) { batch in
      do {
        let part = try generate(batch: batch)
        let finished = lock.withLock {
          manifest.add(part)
          done += 1
          return done
        }
        let filled = finished * 30 / total
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: 30 - filled)
        progress("[\(bar)] \(finished) of \(total) batches of customers")
      } catch {
        lock.withLock { failure = failure ?? (error as? StorageError) ?? .writeFailed(path: lake, reason: "\(error)") }
      }
    }
    if let failure { throw failure }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try TablePublisher.replaceFile(
      at: "\(lake)/_stedi/generate-manifest.json", with: Array(try encoder.encode(manifest)))
  }

  /// What was written, as one JSON object (`stedi generate --json`), with the run's `seconds`.
  public func json(seconds: Double) -> String {
    // Every table is present, with 0 when none of it was written.
    var rows: [String: Int] = [:]
    for table in DatasetTable.allCases { rows[table.rawValue] = manifest.rows[table.rawValue] ?? 0 }
    let summary = JSONSummary(
      lake: lake,
      rows: rows,
      malformed: manifest.malformed.values.flatMap(\.values).reduce(0, +),
      readings: (manifest.rows[DatasetTable.accelerometer.rawValue] ?? 0)
        + (manifest.rows[DatasetTable.stepTrainer.rawValue] ?? 0),
      seconds: ReportJSON.seconds(seconds))
    return ReportJSON.line(summary)
  }

  private func generate(batch: Int) throws -> GenerationManifest {
    let time = generator.deliveryTime(batch: batch)
    var sink = LandingDatasetSink(lake: lake, deliveryTime: time)
    let part = generator.generate(batch: batch, into: &sink)
    let published = try sink.finish()
    if generator.isRedelivered(batch: batch) {
      // The same files arrive again later under a new name: exact duplicates.
      for table in [DatasetTable.accelerometer, .stepTrainer] {
        try LandingBatchWriter.redeliver(published[table]!, table: table.rawValue, lake: lake, deliveryTime: time + 500)
      }
    }
    return part
  }
}

/// `stedi generate --json`'s shape.
private struct JSONSummary: Encodable {
  var lake: String
  /// Rows written per table, malformed lines and re-delivered copies included.
  var rows: [String: Int]
  /// Deliberately malformed lines over every table.
  var malformed: Int
  /// Accelerometer and step trainer rows together.
  var readings: Int
  var seconds: Double
}
