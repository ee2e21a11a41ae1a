import Dispatch
import Foundation
import LakeStorage
import Lakehouse
import Motion

/// Generates batches on all cores; each batch writes its own files, so order does not matter
/// for the bytes, and the manifest is a sum.
final class GenerationRun: @unchecked Sendable {
  let generator: DatasetGenerator
  let lake: String
  private(set) var manifest: GenerationManifest
  private let lock = NSLock()

  init(generator: DatasetGenerator, lake: String) {
    self.generator = generator
    self.lake = lake
    manifest = generator.manifestHeader()
  }

  private var failure: StorageError?
  private var done = 0

  func run(progress: @escaping @Sendable (String) -> Void) throws {
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
