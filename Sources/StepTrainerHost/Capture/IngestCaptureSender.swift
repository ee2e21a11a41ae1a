import Foundation
import IngestAPI
import Lakehouse

/// Sends captured readings to `stedi serve` in batches instead of writing the lake directly.
///
/// A batch is sent when it reaches `maxRecords` or `maxAgeMs`. The service answering 503 or not
/// answering at all keeps the batch and retries on the next tick (readings meanwhile wait in
/// memory); a refusal that retrying cannot fix (400, 401, 403, 413) stops the capture with the
/// service's own explanation.
public final class IngestCaptureSender: CaptureDestination {
  /// The ingest service's client.
  public let client: IngestClient
  let token: String
  /// A batch is sent when it holds this many readings.
  public let maxRecords: Int
  /// A batch is sent when its first reading is this old.
  public let maxAgeMs: Int64
  /// Readings the service acknowledged.
  public private(set) var recordsWritten = 0
  /// Requests the service acknowledged.
  public private(set) var filesWritten = 0
  /// Samples without a valid distance (never sent).
  public private(set) var samplesWithoutDistance = 0
  /// Requests that will be (or were) tried again.
  public private(set) var retries = 0
  private var buffer = NDJSONBuffer()
  private var count = 0
  private var batchStartedAt: Int64 = 0
  private var retryAfterMs: Int64 = 0

  /// A sender to the ingest service at `serviceURL`, authenticated with the device's `token`.
  public init(serviceURL: String, token: String, maxRecords: Int, maxAgeMs: Int64) {
    client = IngestClient(baseURL: serviceURL)
    self.token = token
    self.maxRecords = maxRecords
    self.maxAgeMs = maxAgeMs
  }

  /// Readings held for the next request.
  public var pending: Int { count }
  private var url: String { client.url(for: .stepTrainer) }
  /// Where the readings went, for the summary.
  public var summaryOfWrites: String {
    "\(recordsWritten) readings acknowledged by \(url) in \(filesWritten) request\(filesWritten == 1 ? "" : "s")"
  }

  /// Holds one reading, sending the batch when it is full.
  public func add(_ reading: CapturedReading, now: Int64) async throws {
    guard let record = reading.landingRecord else {
      samplesWithoutDistance += 1
      return
    }
    if count == 0 { batchStartedAt = now }
    record.render(into: &buffer)
    count += 1
    if count >= maxRecords { try await send(now: now) }
  }

  /// Sends the batch if it has reached its age limit (and no retry is pending).
  public func flushIfDue(now: Int64) async throws {
    if count > 0, now - batchStartedAt >= maxAgeMs { try await send(now: now) }
  }

  /// Sends what is held, retrying for up to 15 s; throws if the service never takes it.
  public func flush() async throws {
    let deadline = ContinuousClock.now + .seconds(15)
    while count > 0 {
      if try await send(now: Int64(Date().timeIntervalSince1970 * 1000), force: true) { return }
      guard ContinuousClock.now < deadline else {
        throw IngestSendError(
          message: "the ingest service at \(url) did not take the last \(count) readings (they are in --raw if given)")
      }
      try? await Task.sleep(for: .milliseconds(500))
    }
  }

  /// Sends the held batch; returns whether it was acknowledged.
  @discardableResult
  private func send(now: Int64, force: Bool = false) async throws -> Bool {
    guard force || now >= retryAfterMs else { return false }
    let response: IngestResponse
    do {
      response = try await client.post(.stepTrainer, token: token, ndjson: buffer.bytes, timeout: .seconds(10))
    } catch {
      retries += 1
      retryAfterMs = now + 1000
      return false
    }
    switch response.status {
    case 202:
      recordsWritten += count
      filesWritten += 1
      buffer.removeAll()
      count = 0
      return true
    case 503, 500...599, 429:
      retries += 1
      retryAfterMs = now + Int64(response.retryAfterSeconds ?? 1) * 1000
      return false
    default:
      let why =
        response.rejection.map { rejection in
          "\(rejection.reason): \(rejection.message)"
            + (rejection.line.map { " (line \($0)" + (rejection.field.map { ", field '\($0)'" } ?? "") + ")" } ?? "")
        } ?? response.text
      throw IngestSendError(message: "the ingest service refused the readings (HTTP \(response.status)): \(why)")
    }
  }
}

/// The ingest service refused readings, or never took the last ones.
public struct IngestSendError: Error, CustomStringConvertible {
  /// What failed and why, on one line.
  public var message: String
  public var description: String { message }
}
