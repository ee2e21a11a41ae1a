import Foundation
import Histogram

/// The outcome of a fleet run: counts, throughput, acknowledgement latency, errors, a per-second timeline and the
/// reconciliation against the lake.
public struct FleetReport: Sendable, Codable, Equatable {
  /// Requests sent (every attempt) and acknowledged with a 202.
  public struct Requests: Sendable, Codable, Equatable {
    public var sent: Int
    public var acknowledged: Int
  }

  /// Readings by outcome; each attempt counts, so `sent` includes retries and duplicate deliveries.
  public struct Readings: Sendable, Codable, Equatable {
    public var sent: Int
    public var acknowledged: Int
    /// Refused on purpose by the service (e.g. `wrong_serial`, `erased`).
    public var refused: Int
    public var refusedByReason: [String: Int]
    /// In requests that failed (network, timeout, unexpected status, backpressure).
    public var failed: Int
    /// `failed` by `FleetErrorKind` raw value; every kind is present.
    public var failedByKind: [String: Int]
    /// Sent but neither acknowledged, refused nor failed: still in flight when the report was made (0 at the end of
    /// a clean run).
    public var unanswered: Int
  }

  /// Acknowledged work per second of the run.
  public struct Throughput: Sendable, Codable, Equatable {
    /// Readings acknowledged per second, over the whole run.
    public var readingsPerSecond: Double
    /// Requests acknowledged per second, over the whole run.
    public var requestsPerSecond: Double
    /// The most readings acknowledged within one whole second of the timeline.
    public var peakReadingsPerSecond: Int
  }

  /// Acknowledgement latency percentiles in milliseconds, from an HDR histogram (3 significant digits).
  public struct Latency: Sendable, Codable, Equatable {
    public var count: Int
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    /// The largest latency recorded, exactly (to the microsecond).
    public var max: Double
    public var mean: Double

    init(count: Int, p50: Double, p90: Double, p99: Double, p999: Double, max: Double, mean: Double) {
      self.count = count
      self.p50 = p50
      self.p90 = p90
      self.p99 = p99
      self.p999 = p999
      self.max = max
      self.mean = mean
    }

    init(_ histogram: Histogram<UInt64>) {
      guard histogram.totalCount > 0 else {
        self.init(count: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0)
        return
      }
      self.init(
        count: Int(histogram.totalCount),
        p50: LatencyHistogram.milliseconds(histogram, 50),
        p90: LatencyHistogram.milliseconds(histogram, 90),
        p99: LatencyHistogram.milliseconds(histogram, 99),
        p999: LatencyHistogram.milliseconds(histogram, 99.9),
        max: Double(histogram.maxRecorded) / 1000,
        mean: ReportFormat.round(histogram.mean / 1000, 3))
    }
  }

  /// One second of the run: what was sent and acknowledged within `[t, t + seconds)` seconds after the start.
  public struct TimelinePoint: Sendable, Codable, Equatable {
    /// Seconds since the start at which this interval begins.
    public var t: Int
    /// The interval's length: 1, except for the last, partial second.
    public var seconds: Double
    /// Devices connected at the end of the interval.
    public var devices: Int
    public var requestsSent: Int
    public var readingsSent: Int
    public var readingsAcknowledged: Int
    public var readingsRefused: Int
    /// Failed requests, all kinds.
    public var errors: Int
    /// Latency percentiles of the acknowledgements within the interval in ms; nil when there were none.
    public var p50: Double?
    public var p99: Double?
    public var max: Double?
  }

  public var scenario: String
  public var target: String
  /// Which part of a distributed fleet this process ran, if it ran one part.
  public var shard: String?
  /// The wall-clock start of the run, to the second.
  public var startedAt: Date
  /// From the start to `FleetRecorder.finish()` (or to the report).
  public var durationSeconds: Double
  /// The most devices connected at once.
  public var devices: Int
  /// Device connections made, reconnections included.
  public var connections: Int
  public var requests: Requests
  public var readings: Readings
  public var throughput: Throughput
  public var latency: Latency
  /// Failed requests by `FleetErrorKind` raw value; every kind is present.
  public var errors: [String: Int]
  public var timeline: [TimelinePoint]
  public var reconciliation: FleetReconciliation?
  /// Planned faults that happened, by kind (the scenario's faults, counted as the devices suffered them).
  public var faults: [String: Int] = [:]

  /// Decodes a report written by `json()`.
  public init(json: String) throws {
    self = try Self.decoder.decode(FleetReport.self, from: Data(json.utf8))
  }

  init(
    scenario: String, target: String, shard: String?, startedAt: Date, durationSeconds: Double, devices: Int,
    connections: Int, requests: Requests, readings: Readings, throughput: Throughput, latency: Latency,
    errors: [String: Int], timeline: [TimelinePoint], reconciliation: FleetReconciliation?
  ) {
    self.scenario = scenario
    self.target = target
    self.shard = shard
    self.startedAt = startedAt
    self.durationSeconds = durationSeconds
    self.devices = devices
    self.connections = connections
    self.requests = requests
    self.readings = readings
    self.throughput = throughput
    self.latency = latency
    self.errors = errors
    self.timeline = timeline
    self.reconciliation = reconciliation
  }

  /// The report as pretty-printed JSON with sorted keys and an ISO 8601 `startedAt`.
  public func json() -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = .iso8601
    // Cannot fail: no floating-point field is ever NaN or infinite, and every key is a String.
    let data = try! encoder.encode(self)
    return String(decoding: data, as: UTF8.self)
  }

  /// A decoder for `json()`'s output.
  public static var decoder: JSONDecoder {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return decoder
  }

  /// The end-of-run summary for a terminal.
  public func text() -> String {
    typealias F = ReportFormat
    var lines: [String] = []
    var title = "Fleet run \"\(scenario)\" against \(target)"
    if let shard { title += " (shard \(shard))" }
    lines.append(title)
    func row(_ label: String, _ value: String) {
      lines.append("  " + label.padding(toLength: 16, withPad: " ", startingAt: 0) + value)
    }
    row("duration", "\(F.fixed(durationSeconds, 1)) s, \(F.grouped(devices)) devices at most")
    row("requests", "sent \(F.grouped(requests.sent)), acknowledged \(F.grouped(requests.acknowledged))")
    var readingsLine = "sent \(F.grouped(readings.sent)), acknowledged \(F.grouped(readings.acknowledged))"
    readingsLine += ", refused \(F.grouped(readings.refused))"
    if !readings.refusedByReason.isEmpty { readingsLine += " (\(F.byKey(readings.refusedByReason)))" }
    readingsLine += ", failed \(F.grouped(readings.failed))"
    if readings.unanswered != 0 { readingsLine += ", unanswered \(F.grouped(readings.unanswered))" }
    row("readings", readingsLine)
    row(
      "throughput",
      "\(F.grouped(Int(throughput.readingsPerSecond.rounded()))) readings/s, "
        + "\(F.grouped(Int(throughput.requestsPerSecond.rounded()))) requests/s acknowledged"
        + " (peak \(F.grouped(throughput.peakReadingsPerSecond)) readings/s)")
    if latency.count > 0 {
      let ms = F.milliseconds
      row(
        "latency",
        "p50 \(ms(latency.p50)) ms, p90 \(ms(latency.p90)) ms, p99 \(ms(latency.p99)) ms, "
          + "p99.9 \(ms(latency.p999)) ms, max \(ms(latency.max)) ms, mean \(ms(latency.mean)) ms "
          + "(\(F.grouped(latency.count)) acknowledgements)")
    } else {
      row("latency", "no acknowledgements")
    }
    row("errors", F.kinds(errors))
    if !faults.isEmpty { row("faults injected", F.byKey(faults)) }
    if readings.failed > 0 { row("failed readings", F.kinds(readings.failedByKind)) }
    if let r = reconciliation {
      var text = "acknowledged \(F.grouped(r.readingsAcknowledged)), landed \(F.grouped(r.readingsLanded))"
      text += ", refused \(F.grouped(r.readingsRefused))"
      if !r.refusedByReason.isEmpty { text += " (\(F.byKey(r.refusedByReason)))" }
      text += ", missing \(F.grouped(r.missing)), unexpected \(F.grouped(r.unexpected)): "
      text += r.balanced ? "balanced" : "NOT BALANCED"
      row("reconciliation", text)
    } else {
      row("reconciliation", "not done")
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

/// Number and text formatting shared by the progress line, the text summary and the HTML report. Locale-free, so
/// reports read the same on every machine.
enum ReportFormat {
  static func seconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) + Double(attoseconds) / 1e18
  }

  static func round(_ value: Double, _ digits: Int) -> Double {
    let scale = pow(10, Double(digits))
    return (value * scale).rounded() / scale
  }

  /// 1234567 → "1,234,567".
  static func grouped(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
      if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
      out.append(c)
    }
    return value < 0 ? "-" + out : out
  }

  /// `value` with exactly `digits` decimals.
  static func fixed(_ value: Double, _ digits: Int) -> String {
    String(format: "%.\(digits)f", value)
  }

  /// `value` with at most `digits` decimals, trailing zeros dropped.
  static func trimmed(_ value: Double, _ digits: Int) -> String {
    var s = fixed(value, digits)
    if s.contains(".") {
      while s.hasSuffix("0") { s.removeLast() }
      if s.hasSuffix(".") { s.removeLast() }
    }
    return s == "-0" ? "0" : s
  }

  /// Milliseconds to three significant digits or so: 0.352, 4.21, 18.4, 1,024.
  static func milliseconds(_ value: Double) -> String {
    switch value {
    case ..<1: trimmed(value, 3)
    case ..<10: trimmed(value, 2)
    case ..<100: trimmed(value, 1)
    default: grouped(Int(value.rounded()))
    }
  }

  static func padLeft(_ s: String, _ width: Int) -> String {
    s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
  }

  /// "a 1, b 2", sorted by key.
  static func byKey(_ counts: [String: Int]) -> String {
    counts.sorted { $0.key < $1.key }.map { "\($0.key) \(grouped($0.value))" }.joined(separator: ", ")
  }

  /// Error counts in `FleetErrorKind` order, then any other keys.
  static func kinds(_ counts: [String: Int]) -> String {
    let known = FleetErrorKind.allCases.map(\.rawValue)
    let ordered = known + counts.keys.filter { !known.contains($0) }.sorted()
    return ordered.map { "\($0) \(grouped(counts[$0] ?? 0))" }.joined(separator: ", ")
  }
}
