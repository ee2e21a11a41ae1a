/// One record read back from the log: its LSN and the payload exactly as appended.
public struct WALRecord: Sendable, Equatable {
  /// The log sequence number assigned when the record was appended.
  public var lsn: UInt64
  /// The bytes given to `append`, unchanged.
  public var payload: [UInt8]

  /// A record with the given LSN and payload.
  public init(lsn: UInt64, payload: [UInt8]) {
    self.lsn = lsn
    self.payload = payload
  }
}

/// One record's payload as given to `append`: `head` then `body`, stored as one payload. Two parts
/// so that a caller framing a large body (the ingest service's entry kind and count before a
/// request's NDJSON) need not copy the body into a new array first; the log copies it once, into
/// the group it writes.
public struct WALPayload: Sendable {
  public var head: [UInt8]
  public var body: [UInt8]

  public init(head: [UInt8] = [], body: [UInt8]) {
    self.head = head
    self.body = body
  }

  /// The payload's length.
  public var count: Int { head.count + body.count }
}
