import Lakehouse

/// Where a capture puts readings: the lake's landing folder, or the ingest service.
public protocol CaptureDestination: AnyObject {
  /// Readings landed (lake) or acknowledged (ingest service).
  var recordsWritten: Int { get }
  /// Landing files written, or requests acknowledged.
  var filesWritten: Int { get }
  /// Samples without a valid distance (never sent: a landing record needs one).
  var samplesWithoutDistance: Int { get }
  /// Readings held for the next commit or request.
  var pending: Int { get }
  /// The summary's line on where readings went, e.g. "40 readings in 2 files under L/step_trainer/landing".
  var summaryOfWrites: String { get }

  /// Takes one reading; `now` is the wall clock in epoch milliseconds, for the batch's age.
  func add(_ reading: CapturedReading, now: Int64) async throws
  /// Sends or commits the held batch if it has reached its age limit.
  func flushIfDue(now: Int64) async throws
  /// Sends or commits whatever is held (at the end of a capture).
  func flush() async throws
}

// Its synchronous methods witness the async requirements as they are.
extension LandingCaptureWriter: CaptureDestination {
  /// Where the readings went, for the summary.
  public var summaryOfWrites: String { "\(recordsWritten) readings in \(filesWritten) files under \(folder)" }
}
