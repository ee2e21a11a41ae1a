/// When a source's buffered records become one landing file, and how much may wait in memory.
///
/// Like Firehose's buffering hints or Vector's batch settings: a batch is flushed when the first
/// of its record count, its size or its age reaches the limit, so a busy stream makes files of a
/// useful size and a quiet one still lands within `maxAge`.
public struct BatchLimits: Sendable, Equatable {
  /// Records per landing file (default 100,000: about 8 MB of step-trainer readings).
  public var maxRecords: Int
  /// Bytes per landing file (default 8 MiB).
  public var maxBytes: Int
  /// How long the first record of a batch may wait (default 60 s).
  public var maxAge: Duration
  /// Bytes buffered or being landed across all sources before new requests get 503 (default 256 MiB).
  public var maxBufferedBytes: Int

  /// Limits; the defaults are documented on each property.
  public init(
    maxRecords: Int = 100_000, maxBytes: Int = 8 << 20, maxAge: Duration = .seconds(60),
    maxBufferedBytes: Int = 256 << 20
  ) {
    self.maxRecords = maxRecords
    self.maxBytes = maxBytes
    self.maxAge = maxAge
    self.maxBufferedBytes = maxBufferedBytes
  }
}
