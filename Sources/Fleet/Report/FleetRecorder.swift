import Foundation
import Histogram
import Synchronization

/// Why a request to the ingest service failed, as counted in progress lines and reports.
public enum FleetErrorKind: String, Sendable, CaseIterable, Codable {
  /// The connection could not be made, or broke before an answer.
  case network
  /// No answer within the request timeout.
  case timeout
  /// A 4xx answer that was not a refusal on purpose (those go to `FleetRecorder.refused`).
  case http4xx = "http_4xx"
  /// A 5xx answer other than 503.
  case http5xx = "http_5xx"
  /// A 503: the service's buffers were full and it asked the device to retry later.
  case backpressure

  // Position in `PerKind`; a switch, not `allCases.firstIndex`, because it runs on every failure.
  var index: Int {
    switch self {
    case .network: 0
    case .timeout: 1
    case .http4xx: 2
    case .http5xx: 3
    case .backpressure: 4
    }
  }
}

/// One live snapshot of a fleet run, for the progress line.
public struct FleetProgress: Sendable, Equatable {
  /// Time since the recorder started.
  public var elapsed: Duration
  /// Devices connected right now.
  public var devices: Int
  /// Readings sent per second since the previous snapshot (or since the start).
  public var readingsSentPerSecond: Double
  /// Readings acknowledged per second since the previous snapshot (or since the start).
  public var readingsAcknowledgedPerSecond: Double
  /// The 99th percentile acknowledgement latency since the previous snapshot, in ms; nil without acknowledgements.
  public var p99Milliseconds: Double?
  /// Failed requests since the start, by kind.
  public var errors: [FleetErrorKind: Int]
  /// Readings refused on purpose since the start.
  public var readingsRefused: Int

  /// The one-line live status, e.g. `  12.0 s  devices 9,812  sent 97,400/s  acked 97,350/s  p99 18 ms  errors none`.
  public var line: String {
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    var parts = [
      ReportFormat.padLeft(ReportFormat.fixed(seconds, 1), 6) + " s",
      "devices \(ReportFormat.grouped(devices))",
      "sent \(ReportFormat.grouped(Int(readingsSentPerSecond.rounded())))/s",
      "acked \(ReportFormat.grouped(Int(readingsAcknowledgedPerSecond.rounded())))/s",
      "p99 " + (p99Milliseconds.map { ReportFormat.milliseconds($0) + " ms" } ?? "-"),
    ]
    if readingsRefused > 0 { parts.append("refused \(ReportFormat.grouped(readingsRefused))") }
    // Every kind once any error happened, so a kind that stays at 0 is visibly 0 rather than absent.
    if errors.values.contains(where: { $0 > 0 }) {
      let kinds = FleetErrorKind.allCases.map { "\($0.rawValue) \(ReportFormat.grouped(errors[$0] ?? 0))" }
      parts.append("errors " + kinds.joined(separator: ", "))
    } else {
      parts.append("errors none")
    }
    return parts.joined(separator: "  ")
  }
}

/// Counts what a fleet run sends and what comes back, and measures acknowledgement latency; safe to call from
/// thousands of concurrent tasks.
public final class FleetRecorder: Sendable {
  // One lock around one struct: each call is a few additions and one histogram increment, so contention stays
  // short; a lock-free design would need a histogram per task and a merge, not worth it at ~100k calls/s.
  private let state: Mutex<RecorderState>
  private let startedAtDate: Date

  /// Starts recording; `startedAt` is time zero of the timeline.
  public init(startedAt: ContinuousClock.Instant = .now) {
    state = Mutex(RecorderState(startedAt: startedAt))
    // The wall-clock time of `startedAt`, for the report; the continuous clock has no calendar.
    startedAtDate = Date(timeIntervalSinceNow: -ReportFormat.seconds(ContinuousClock.now - startedAt))
  }

  /// A device connected.
  public func deviceConnected() { deviceConnected(at: .now) }

  /// A device disconnected.
  public func deviceDisconnected() { deviceDisconnected(at: .now) }

  /// A request carrying `readings` readings was sent (retries and duplicate deliveries count again).
  public func sent(requests: Int = 1, readings: Int) { sent(requests: requests, readings: readings, at: .now) }

  /// A request was acknowledged (202) with `readings` readings accepted, `latency` after it was sent.
  public func acknowledged(readings: Int, latency: Duration) {
    acknowledged(readings: readings, latency: latency, at: .now)
  }

  /// The service refused `readings` readings on purpose (e.g. `wrong_serial`, `erased`).
  public func refused(readings: Int, reason: String) { refused(readings: readings, reason: reason, at: .now) }

  /// A planned fault happened (`reboot`, `clock_jump`, `offline`, `duplicate`, `wrong_serial`, ...).
  public func injected(_ fault: String) { state.withLock { $0.faults[fault, default: 0] += 1 } }

  /// A request carrying `readings` readings failed.
  public func failed(kind: FleetErrorKind, readings: Int) { failed(kind: kind, readings: readings, at: .now) }

  /// Marks the end of the load, so that waiting for the lake afterwards does not count in duration and throughput.
  public func finish() { finish(at: .now) }

  /// A snapshot for the live progress line; rates are since the previous call.
  public func progress() -> FleetProgress { progress(at: .now) }

  /// The end-of-run report (or one so far, if the run goes on).
  public func report(
    scenario: String, target: String, shard: String?, reconciliation: FleetReconciliation?
  ) -> FleetReport {
    report(scenario: scenario, target: target, shard: shard, reconciliation: reconciliation, at: .now)
  }

  // MARK: With explicit instants (for tests, which cannot wait for real seconds to pass)

  func deviceConnected(at now: ContinuousClock.Instant) {
    state.withLock {
      $0.advance(to: now)
      $0.devices += 1
      $0.connections += 1
      $0.peakDevices = max($0.peakDevices, $0.devices)
    }
  }

  func deviceDisconnected(at now: ContinuousClock.Instant) {
    state.withLock {
      $0.advance(to: now)
      $0.devices -= 1
    }
  }

  func sent(requests: Int = 1, readings: Int, at now: ContinuousClock.Instant) {
    state.withLock {
      $0.advance(to: now)
      $0.requestsSent += requests
      $0.readingsSent += readings
      $0.interval.requestsSent += requests
      $0.interval.readingsSent += readings
    }
  }

  func acknowledged(readings: Int, latency: Duration, at now: ContinuousClock.Instant) {
    let micros = LatencyHistogram.microseconds(latency)
    state.withLock {
      $0.advance(to: now)
      $0.requestsAcknowledged += 1
      $0.readingsAcknowledged += readings
      $0.interval.readingsAcknowledged += readings
      $0.latency.record(micros)
      $0.interval.latency.record(micros)
      $0.sinceProgress.record(micros)
    }
  }

  func refused(readings: Int, reason: String, at now: ContinuousClock.Instant) {
    state.withLock {
      $0.advance(to: now)
      $0.readingsRefused += readings
      $0.refusedByReason[reason, default: 0] += readings
      $0.interval.readingsRefused += readings
    }
  }

  func failed(kind: FleetErrorKind, readings: Int, at now: ContinuousClock.Instant) {
    state.withLock {
      $0.advance(to: now)
      $0.errors[kind] += 1
      $0.readingsFailed[kind] += readings
      $0.interval.errors += 1
    }
  }

  func finish(at now: ContinuousClock.Instant) {
    state.withLock {
      if $0.endedAt == nil { $0.endedAt = now }
    }
  }

  func progress(at now: ContinuousClock.Instant) -> FleetProgress {
    state.withLock { s in
      s.advance(to: now)
      let window = ReportFormat.seconds(now - s.lastProgress.at)
      let sentRate = window > 0 ? Double(s.readingsSent - s.lastProgress.sent) / window : 0
      let ackedRate = window > 0 ? Double(s.readingsAcknowledged - s.lastProgress.acknowledged) / window : 0
      let p99 = s.sinceProgress.totalCount > 0 ? LatencyHistogram.milliseconds(s.sinceProgress, 99) : nil
      s.lastProgress = (now, s.readingsSent, s.readingsAcknowledged)
      s.sinceProgress.reset()
      var errors: [FleetErrorKind: Int] = [:]
      for kind in FleetErrorKind.allCases { errors[kind] = s.errors[kind] }
      return FleetProgress(
        elapsed: now - s.startedAt, devices: s.devices, readingsSentPerSecond: sentRate,
        readingsAcknowledgedPerSecond: ackedRate, p99Milliseconds: p99, errors: errors,
        readingsRefused: s.readingsRefused)
    }
  }

  func report(
    scenario: String, target: String, shard: String?, reconciliation: FleetReconciliation?,
    at now: ContinuousClock.Instant
  ) -> FleetReport {
    // Take the numbers under the lock, build the report (percentiles of the whole run, dictionaries) outside it.
    let (s, partial, end) = state.withLock { s in
      let end = s.endedAt ?? now
      s.advance(to: end)
      return (s, s.partialPoint(end: end), end)
    }
    var timeline = s.timeline
    if let partial { timeline.append(partial) }
    let duration = ReportFormat.seconds(end - s.startedAt)
    let perSecond = { (count: Int) in duration > 0 ? ReportFormat.round(Double(count) / duration, 2) : 0 }
    // Whole seconds only: a partial last second would make a short burst look like a peak rate.
    let peak = timeline.filter { $0.seconds >= 1 }.map(\.readingsAcknowledged).max() ?? 0

    var errors: [String: Int] = [:]
    var failedByKind: [String: Int] = [:]
    for kind in FleetErrorKind.allCases {
      errors[kind.rawValue] = s.errors[kind]
      failedByKind[kind.rawValue] = s.readingsFailed[kind]
    }
    let failed = s.readingsFailed.total
    var report = FleetReport(
      scenario: scenario,
      target: target,
      shard: shard,
      // Whole seconds, so that the ISO 8601 timestamp in the JSON decodes to the same Date.
      startedAt: Date(timeIntervalSince1970: startedAtDate.timeIntervalSince1970.rounded(.down)),
      durationSeconds: ReportFormat.round(duration, 3),
      devices: s.peakDevices,
      connections: s.connections,
      requests: .init(sent: s.requestsSent, acknowledged: s.requestsAcknowledged),
      readings: .init(
        sent: s.readingsSent, acknowledged: s.readingsAcknowledged, refused: s.readingsRefused,
        refusedByReason: s.refusedByReason, failed: failed, failedByKind: failedByKind,
        unanswered: s.readingsSent - s.readingsAcknowledged - s.readingsRefused - failed),
      throughput: .init(
        readingsPerSecond: perSecond(s.readingsAcknowledged), requestsPerSecond: perSecond(s.requestsAcknowledged),
        peakReadingsPerSecond: peak),
      latency: .init(s.latency),
      errors: errors,
      timeline: timeline,
      reconciliation: reconciliation)
    report.faults = s.faults
    return report
  }
}

// MARK: - State

/// Counts per error kind in a fixed array: cheaper than a dictionary inside the lock.
struct PerKind: Sendable {
  private var counts = [Int](repeating: 0, count: FleetErrorKind.allCases.count)
  subscript(kind: FleetErrorKind) -> Int {
    get { counts[kind.index] }
    set { counts[kind.index] = newValue }
  }
  var total: Int { counts.reduce(0, +) }
}

/// The HDR histogram settings for acknowledgement latency: microseconds, 3 significant digits, up to 60 s.
enum LatencyHistogram {
  static let highestMicroseconds: UInt64 = 60_000_000

  static func make() -> Histogram<UInt64> {
    Histogram(
      lowestDiscernibleValue: 1, highestTrackableValue: highestMicroseconds, numberOfSignificantValueDigits: .three)
  }

  /// Whole microseconds, clamped to the histogram's range: a latency beyond 60 s is recorded as 60 s rather than
  /// dropped, so the count of acknowledgements stays exact.
  static func microseconds(_ duration: Duration) -> UInt64 {
    let (seconds, attoseconds) = duration.components
    guard seconds >= 0, attoseconds >= 0 else { return 0 }
    guard UInt64(seconds) < highestMicroseconds / 1_000_000 else { return highestMicroseconds }
    return min(UInt64(seconds) * 1_000_000 + UInt64(attoseconds / 1_000_000_000_000), highestMicroseconds)
  }

  /// The value at `percentile` in milliseconds (0 without values).
  static func milliseconds(_ histogram: Histogram<UInt64>, _ percentile: Double) -> Double {
    // Below 100 the histogram answers with the highest value equivalent to the bucket; 100 is the exact maximum.
    Double(histogram.valueAtPercentile(percentile)) / 1000
  }
}

/// What happened within the current second of the timeline.
struct IntervalTally: Sendable {
  var requestsSent = 0
  var readingsSent = 0
  var readingsAcknowledged = 0
  var readingsRefused = 0
  var errors = 0
  var latency = LatencyHistogram.make()

  var isEmpty: Bool {
    requestsSent == 0 && readingsSent == 0 && readingsAcknowledged == 0 && readingsRefused == 0 && errors == 0
      && latency.totalCount == 0
  }

  mutating func reset() {
    requestsSent = 0
    readingsSent = 0
    readingsAcknowledged = 0
    readingsRefused = 0
    errors = 0
    // Zeroing the counts costs ~16k stores; skip it for seconds without acknowledgements.
    if latency.totalCount > 0 { latency.reset() }
  }
}

struct RecorderState: Sendable {
  let startedAt: ContinuousClock.Instant
  var endedAt: ContinuousClock.Instant?
  var devices = 0
  var peakDevices = 0
  var connections = 0
  var requestsSent = 0
  var readingsSent = 0
  var requestsAcknowledged = 0
  var readingsAcknowledged = 0
  var readingsRefused = 0
  var refusedByReason: [String: Int] = [:]
  var faults: [String: Int] = [:]
  var errors = PerKind()
  var readingsFailed = PerKind()
  var latency = LatencyHistogram.make()
  // The timeline keeps only each second's summary: a histogram per second would cost ~130 kB a second.
  var second = 0
  var interval = IntervalTally()
  var timeline: [FleetReport.TimelinePoint] = []
  var sinceProgress = LatencyHistogram.make()
  var lastProgress: (at: ContinuousClock.Instant, sent: Int, acknowledged: Int)

  init(startedAt: ContinuousClock.Instant) {
    self.startedAt = startedAt
    lastProgress = (startedAt, 0, 0)
  }

  /// Closes every second before `instant`. An event whose instant was read before another task closed its second
  /// lands in the current second: the timeline never reopens a closed second.
  mutating func advance(to instant: ContinuousClock.Instant) {
    let elapsed = ReportFormat.seconds(instant - startedAt)
    let target = elapsed > 0 ? Int(elapsed.rounded(.down)) : 0
    while second < target {
      timeline.append(point(second: second, seconds: 1))
      interval.reset()
      second += 1
    }
  }

  /// The current, unfinished second up to `end`, if it has begun or holds anything.
  func partialPoint(end: ContinuousClock.Instant) -> FleetReport.TimelinePoint? {
    let width = min(max(ReportFormat.seconds(end - startedAt) - Double(second), 0), 1)
    guard width > 0 || !interval.isEmpty else { return nil }
    return point(second: second, seconds: ReportFormat.round(width, 3))
  }

  private func point(second: Int, seconds: Double) -> FleetReport.TimelinePoint {
    let hasLatency = interval.latency.totalCount > 0
    return FleetReport.TimelinePoint(
      t: second,
      seconds: seconds,
      devices: devices,
      requestsSent: interval.requestsSent,
      readingsSent: interval.readingsSent,
      readingsAcknowledged: interval.readingsAcknowledged,
      readingsRefused: interval.readingsRefused,
      errors: interval.errors,
      p50: hasLatency ? LatencyHistogram.milliseconds(interval.latency, 50) : nil,
      p99: hasLatency ? LatencyHistogram.milliseconds(interval.latency, 99) : nil,
      max: hasLatency ? Double(interval.latency.maxRecorded) / 1000 : nil)
  }
}
