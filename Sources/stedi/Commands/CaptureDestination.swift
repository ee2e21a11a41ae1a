import Foundation
import Lakehouse
import StepTrainerHost

/// Where `stedi capture` puts readings: the lake's landing folder, or the ingest service.
protocol CaptureDestination: AnyObject {
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

  func add(_ reading: CapturedReading, now: Int64) async throws
  func flushIfDue(now: Int64) async throws
  func flush() async throws
}

// Its synchronous methods witness the async requirements as they are.
extension LandingCaptureWriter: CaptureDestination {
  var summaryOfWrites: String { "\(recordsWritten) readings in \(filesWritten) files under \(folder)" }
}
