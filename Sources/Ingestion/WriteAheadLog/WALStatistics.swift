/// Running totals since the log was opened, for metrics and for showing group commit at work.
public struct WALStatistics: Sendable, Equatable {
  /// Acknowledged `append` calls.
  public var appends = 0
  /// Acknowledged records (payloads).
  public var records = 0
  /// Payload bytes of the acknowledged records.
  public var payloadBytes = 0
  /// Bytes written to segment files for acknowledged records, headers included.
  public var bytesWritten = 0
  /// Groups written, each with one write and one fdatasync; `appends / syncs` is the grouping factor.
  public var syncs = 0
  /// Segment files created after opening (rotations, or a fresh segment at open).
  public var segmentsCreated = 0
  /// Segment files deleted by `releaseSegments`.
  public var segmentsReleased = 0
}
