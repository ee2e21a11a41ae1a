/// Why a candidate frame was rejected, in the order the decoder checks (PROTOCOL.md 3.5).
public enum FrameRejection: UInt8, Sendable, CaseIterable {
  /// More than 250 encoded bytes without a delimiter.
  case oversize
  /// A COBS code byte announced more bytes than arrived before the delimiter.
  case cobs
  /// Fewer than 9 bytes after decoding.
  case tooShort
  /// A protocol version this decoder does not speak.
  case version
  /// The length byte disagrees with the frame's size.
  case length
  /// A message type this decoder does not know (its CRC cannot be checked).
  case unknownType
  /// The CRC does not match.
  case crc
  /// The payload's size or a field breaks the message's definition.
  case payload
}
