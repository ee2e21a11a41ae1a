/// TIME_SYNC_REQUEST (host to device): the host's send time (PROTOCOL.md 4.4, 5.5).
public struct TimeSyncRequest: Hashable, Sendable {
  /// Host send time, epoch ms.
  public var t1: UInt64

  /// A TIME_SYNC_REQUEST message.
  public init(t1: UInt64) { self.t1 = t1 }

  init(_ reader: inout PayloadReader) { t1 = reader.u64() }

  /// Writes the payload (MessagePayload).
  public func write(_ writer: inout PayloadWriter) { writer.u64(t1) }
}

/// TIME_SYNC_RESPONSE (device to host): the request's time and the device's receive and send times.
public struct TimeSyncResponse: Hashable, Sendable {
  /// The request's host send time, echoed.
  public var t1: UInt64
  /// Device receive time, ms since boot.
  public var t2: UInt64
  /// Device send time, ms since boot (never before `t2`).
  public var t3: UInt64

  /// A TIME_SYNC_RESPONSE message.
  public init(t1: UInt64, t2: UInt64, t3: UInt64) {
    self.t1 = t1
    self.t2 = t2
    self.t3 = t3
  }

  init(_ reader: inout PayloadReader) throws(PayloadError) {
    t1 = reader.u64()
    t2 = reader.u64()
    t3 = reader.u64()
    guard t2 <= t3 else { throw .value }
  }

  /// Writes the payload (MessagePayload).
  public func write(_ writer: inout PayloadWriter) {
    writer.u64(t1)
    writer.u64(t2)
    writer.u64(t3)
  }
}
