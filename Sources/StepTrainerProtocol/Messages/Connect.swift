/// CONNECT (host to device): opens a session (PROTOCOL.md 5.1).
public struct Connect: Hashable, Sendable {
  /// The highest protocol version the host speaks.
  public var protocolVersion: UInt8
  /// Chosen at random per connection, never 0; the device's HELLO echoes it.
  public var sessionId: UInt32

  /// A CONNECT message.
  public init(protocolVersion: UInt8 = FrameFormat.version, sessionId: UInt32) {
    self.protocolVersion = protocolVersion
    self.sessionId = sessionId
  }

  init(_ reader: inout PayloadReader) throws(PayloadError) {
    protocolVersion = reader.u8()
    sessionId = reader.u32()
    guard sessionId != 0 else { throw .value }
  }

  /// Writes the payload (MessagePayload).
  public func write(_ writer: inout PayloadWriter) {
    writer.u8(protocolVersion)
    writer.u32(sessionId)
  }
}
