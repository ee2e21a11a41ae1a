/// Whether a device is waiting for a host or in a session.
public enum LinkState: UInt8, Sendable {
  case waiting = 0
  case connected = 1
}

/// HEARTBEAT (both directions, once a second): liveness and the device's buffer (PROTOCOL.md 5.3).
public struct Heartbeat: Hashable, Sendable {
  /// The sender's clock: ms since boot on a device, epoch ms on a host.
  public var timeMs: UInt64
  /// The sender's state.
  public var state: LinkState
  /// Readings waiting in the device's buffer (0 from a host).
  public var buffered: UInt16
  /// Readings the device dropped since boot because its buffer was full (0 from a host).
  public var dropped: UInt32

  /// A HEARTBEAT message.
  public init(timeMs: UInt64, state: LinkState, buffered: UInt16 = 0, dropped: UInt32 = 0) {
    self.timeMs = timeMs
    self.state = state
    self.buffered = buffered
    self.dropped = dropped
  }

  init(_ reader: inout PayloadReader) throws(PayloadError) {
    timeMs = reader.u64()
    guard let state = LinkState(rawValue: reader.u8()) else { throw .value }
    self.state = state
    buffered = reader.u16()
    dropped = reader.u32()
  }

  /// Writes the payload (MessagePayload).
  public func write(_ writer: inout PayloadWriter) {
    writer.u64(timeMs)
    writer.u8(state.rawValue)
    writer.u16(buffered)
    writer.u32(dropped)
  }
}
