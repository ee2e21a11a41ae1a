import LakeStorage
import Lakehouse

/// Writes captured readings into the lake's step_trainer landing zone in batches: one NDJSON file
/// per batch, published atomically (temporary file, fsync, rename), so the pipeline never reads a
/// half-written file. A batch is committed when it holds `maxRecords` readings, when its first
/// reading is `maxAgeMs` old, and on `flush()` (shutdown).
///
/// File names are `capture-<serial>-<first sensorReadingTime>-<first index>.json`: unique per device
/// without coordination, and the same for the same readings, so replaying a raw capture twice
/// rewrites the same files instead of duplicating them.
public final class LandingCaptureWriter {
  public let folder: String
  public let maxRecords: Int
  public let maxAgeMs: Int64
  /// Landing files committed so far.
  public private(set) var filesWritten = 0
  /// Records in committed files.
  public private(set) var recordsWritten = 0
  /// Samples without a valid distance (not written: a landing record needs one).
  public private(set) var samplesWithoutDistance = 0

  private var buffer = NDJSONBuffer()
  private var count = 0
  private var batchName: String?
  private var batchStartedAt: Int64 = 0

  /// A writer into `<lake>/step_trainer/landing`.
  public init(lake: String, maxRecords: Int = 1000, maxAgeMs: Int64 = 10_000) {
    folder = "\(lake)/step_trainer/landing"
    self.maxRecords = maxRecords
    self.maxAgeMs = maxAgeMs
  }

  /// Readings waiting for the next commit.
  public var pending: Int { count }

  /// Adds one reading (held until its batch is committed); `now` is the wall clock, for the age limit.
  public func add(_ reading: CapturedReading, now: Int64) throws(StorageError) {
    guard let record = reading.landingRecord else {
      samplesWithoutDistance += 1
      return
    }
    if batchName == nil {
      batchName = "capture-\(reading.serialNumber)-\(reading.sensorReadingTime)-\(reading.index).json"
      batchStartedAt = now
    }
    record.render(into: &buffer)
    count += 1
    if count >= maxRecords { try flush() }
  }

  /// Commits the batch if it has reached its age limit.
  public func flushIfDue(now: Int64) throws(StorageError) {
    if count > 0 && now - batchStartedAt >= maxAgeMs { try flush() }
  }

  /// Commits the current batch, if any.
  public func flush() throws(StorageError) {
    guard count > 0, let name = batchName else { return }
    let publisher = try TablePublisher(folder: folder, fileName: name)
    try publisher.write(buffer.bytes)
    try publisher.commit()
    filesWritten += 1
    recordsWritten += count
    buffer.removeAll()
    count = 0
    batchName = nil
  }
}
