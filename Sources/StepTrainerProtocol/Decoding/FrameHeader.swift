/// The header fields of a frame the decoder rejected after undoing COBS (PROTOCOL.md 3.1).
public struct FrameHeader: Sendable, Equatable {
  /// Byte 0: the protocol version the sender claims.
  public var version: UInt8
  /// Byte 1: the message type, possibly one this side does not know.
  public var type: UInt8
  /// Bytes 2-3: the sender's sequence number.
  public var sequence: UInt16

  /// A header from its fields.
  public init(version: UInt8, type: UInt8, sequence: UInt16) {
    self.version = version
    self.type = type
    self.sequence = sequence
  }
}
