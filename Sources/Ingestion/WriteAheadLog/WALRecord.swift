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
