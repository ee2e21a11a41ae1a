import Lakehouse
import Metrics
import Prometheus

/// The ingest service's metrics, in a registry of its own so `/metrics` shows exactly them.
public final class IngestMetrics: Sendable {
  /// The Prometheus registry `/metrics` renders.
  public let registry: PrometheusCollectorRegistry
  private let factory: PrometheusMetricsFactory

  // The per-request metrics, made once: looking one up in the registry takes its lock and
  // hashes its labels, on every request otherwise.
  private let receivedCounters: [LandingSource: Metrics.Counter]
  private let acknowledgedCounters: [LandingSource: Metrics.Counter]
  private let refusedCounters: [LandingSource: Metrics.Counter]
  private let acknowledgementTimer: Metrics.Timer

  /// Fresh metrics in a new registry.
  public init() {
    registry = PrometheusCollectorRegistry()
    let factory = PrometheusMetricsFactory(registry: registry)
    self.factory = factory
    func perSource(_ label: String, _ more: [(String, String)] = []) -> [LandingSource: Metrics.Counter] {
      Dictionary(
        uniqueKeysWithValues: LandingSource.allCases.map {
          ($0, Metrics.Counter(label: label, dimensions: [("source", $0.rawValue)] + more, factory: factory))
        })
    }
    receivedCounters = perSource("stedi_ingest_records_received_total")
    acknowledgedCounters = perSource("stedi_ingest_records_acknowledged_total")
    refusedCounters = perSource("stedi_ingest_records_refused_total", [("reason", "erased")])
    acknowledgementTimer = Metrics.Timer(label: "stedi_ingest_ack_duration_seconds", dimensions: [], factory: factory)
  }

  /// Records received in requests, valid or not.
  func received(_ count: Int, _ source: LandingSource) {
    receivedCounters[source]!.increment(by: count)
  }

  /// Records made durable and acknowledged with 202.
  func acknowledged(_ count: Int, _ source: LandingSource) {
    acknowledgedCounters[source]!.increment(by: count)
  }

  /// Records of erased customers refused, at the door or left out of a batch before it landed.
  func refused(_ count: Int, _ source: LandingSource) {
    refusedCounters[source]!.increment(by: count)
  }

  /// Requests refused, by reason (`invalid_json`, `missing_field`, `bad_signature`, `too_large`, ...).
  func rejected(_ reason: String, status: Int) {
    Counter(
      label: "stedi_ingest_requests_rejected_total", dimensions: [("reason", reason), ("status", String(status))],
      factory: factory
    ).increment()
  }

  /// A landing file written.
  func committed(_ batch: LandingBatch, latency: Duration) {
    let source = [("source", batch.source.rawValue)]
    Counter(label: "stedi_ingest_batches_committed_total", dimensions: source, factory: factory).increment()
    Counter(label: "stedi_ingest_bytes_committed_total", dimensions: source, factory: factory)
      .increment(by: batch.ndjson.count)
    Counter(label: "stedi_ingest_records_committed_total", dimensions: source, factory: factory)
      .increment(by: batch.count)
    Metrics.Timer(label: "stedi_ingest_flush_duration_seconds", dimensions: source, factory: factory)
      .recordNanoseconds(nanoseconds(latency))
  }

  /// A landing write that failed and will be retried.
  func flushFailed(_ source: LandingSource) {
    Counter(label: "stedi_ingest_flush_failures_total", dimensions: [("source", source.rawValue)], factory: factory)
      .increment()
  }

  /// Time from a request's arrival to its acknowledgement.
  func acknowledgementLatency(_ duration: Duration) {
    acknowledgementTimer.recordNanoseconds(nanoseconds(duration))
  }

  /// The write-ahead log's size and the bytes waiting in memory.
  func gauges(walBytes: Int, bufferedBytes: Int) {
    Gauge(label: "stedi_ingest_wal_bytes", dimensions: [], factory: factory).record(walBytes)
    Gauge(label: "stedi_ingest_buffered_bytes", dimensions: [], factory: factory).record(bufferedBytes)
  }

  private func nanoseconds(_ duration: Duration) -> Int64 {
    duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
  }

  /// The Prometheus text exposition of every metric.
  public func render() -> String { registry.emitToString() }
}
