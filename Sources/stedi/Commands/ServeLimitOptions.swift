import ArgumentParser
import Ingestion

/// `stedi serve`'s batch, memory and connection limits.
struct ServeLimitOptions: ParsableArguments {
  @Option(help: "Records per landing file.")
  var batchMaxRecords = BatchLimits().maxRecords

  @Option(help: "Bytes per landing file.")
  var batchMaxBytes = BatchLimits().maxBytes

  @Option(help: "Seconds the first record of a batch may wait before its file is written.")
  var batchMaxAge = 60.0

  @Option(
    help: "Bytes in memory (bodies being received, records waiting to land) before requests get 503 with Retry-After.")
  var maxBufferedBytes = BatchLimits().maxBufferedBytes

  @Option(help: "The largest request body, in bytes; larger ones get 413.")
  var maxBodyBytes = IngestServiceConfiguration().maxBodyBytes

  @Option(help: "Connections open at once (at most the descriptor limit less 256).")
  var maxConnections = ConnectionLimits().maxConnections

  @Option(help: "Seconds a new connection has to send its request head.")
  var headerTimeout = 10.0

  @Option(help: "Seconds a kept-alive connection may wait for its next request.")
  var idleTimeout = 75.0

  @Option(help: "Seconds from a request's head to the last byte of its body.")
  var bodyTimeout = 60.0

  @Option(
    help: ArgumentHelp(
      "Seconds between reloads of the lake's erasure list.",
      discussion: "How soon records of a customer erased by `stedi lake erase` (another process) are refused."))
  var erasureRefreshSeconds = 1.0

  func validate() throws {
    guard batchMaxAge > 0, batchMaxRecords > 0, batchMaxBytes > 0, maxBufferedBytes > 0, maxBodyBytes > 0 else {
      throw ValidationError("batch limits and sizes must be positive")
    }
    guard erasureRefreshSeconds > 0 else { throw ValidationError("--erasure-refresh-seconds must be positive") }
    guard maxConnections > 0, headerTimeout > 0, idleTimeout > 0, bodyTimeout > 0 else {
      throw ValidationError("--max-connections and the timeouts must be positive")
    }
  }

  /// The batch and memory limits.
  var batchLimits: BatchLimits {
    BatchLimits(
      maxRecords: batchMaxRecords, maxBytes: batchMaxBytes, maxAge: Self.duration(batchMaxAge),
      maxBufferedBytes: maxBufferedBytes)
  }

  /// The connection limits.
  var connectionLimits: ConnectionLimits {
    ConnectionLimits(
      maxConnections: maxConnections, headerTimeout: Self.duration(headerTimeout),
      idleTimeout: Self.duration(idleTimeout), bodyTimeout: Self.duration(bodyTimeout))
  }

  /// How often the erasure and revocation lists are reloaded.
  var listRefreshInterval: Duration { Self.duration(erasureRefreshSeconds) }

  /// Seconds as given on the command line, as a span of at least a millisecond.
  private static func duration(_ seconds: Double) -> Duration {
    .milliseconds(max(1, Int64(seconds * 1000)))
  }
}
