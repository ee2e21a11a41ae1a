/// ACK: the request named by type and sequence was applied (PROTOCOL.md 5.7).
public struct Ack: Hashable, Sendable {
  /// The type of the frame answered (a raw byte: it may be a type this side does not know).
  public var answeredType: UInt8
  /// The sequence of the frame answered.
  public var answeredSequence: UInt16

  /// An ACK message.
  public init(answeredType: UInt8, answeredSequence: UInt16) {
    self.answeredType = answeredType
    self.answeredSequence = answeredSequence
  }

  init(_ reader: inout PayloadReader) {
    answeredType = reader.u8()
    answeredSequence = reader.u16()
  }

  /// Writes the payload (MessagePayload).
  public func write(_ writer: inout PayloadWriter) {
    writer.u8(answeredType)
    writer.u16(answeredSequence)
  }
}

/// Why a request was refused.
public enum NackReason: UInt8, Sendable {
  case unknownType = 1
  case unsupportedVersion = 2
  case badPayload = 3
  case outOfRange = 4
  case notConnected = 5
  case busy = 6
}

/// NACK: the request named by type and sequence was refused, and why (PROTOCOL.md 5.7).
public struct Nack: Hashable, Sendable {
  /// The type of the frame answered.
  public var answeredType: UInt8
  /// The sequence of the frame answered.
  public var answeredSequence: UInt16
  /// Why it was refused.
  public var reason: NackReason

  /// A NACK message.
  public init(answeredType: UInt8, answeredSequence: UInt16, reason: NackReason) {
    self.answeredType = answeredType
    self.answeredSequence = answeredSequence
    self.reason = reason
  }

  init(_ reader: inout PayloadReader) throws(PayloadError) {
    answeredType = reader.u8()
    answeredSequence = reader.u16()
    guard let reason = NackReason(rawValue: reader.u8()) else { throw .value }
    self.reason = reason
  }

  /// Writes the payload (MessagePayload).
  public func write(_ writer: inout PayloadWriter) {
    writer.u8(answeredType)
    writer.u16(answeredSequence)
    writer.u8(reason.rawValue)
  }
}
