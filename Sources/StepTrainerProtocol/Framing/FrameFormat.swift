/// The frame layout's constants (PROTOCOL.md section 3).
public enum FrameFormat {
  /// The protocol major version this module speaks, byte 0 of every frame.
  public static let version: UInt8 = 1
  /// Bytes before the payload: version, type, sequence (2), length.
  public static let headerSize = 5
  /// Bytes of CRC after the payload.
  public static let crcSize = 4
  /// The largest payload.
  public static let maxPayloadSize = 240
  /// The smallest frame (empty payload).
  public static let minFrameSize = headerSize + crcSize
  /// The largest frame before COBS encoding.
  public static let maxFrameSize = headerSize + maxPayloadSize + crcSize
  /// The largest COBS-encoded frame, delimiter excluded.
  public static let maxEncodedSize = maxFrameSize + 1
  /// The largest frame on the wire, delimiter included: the buffer an encoder needs.
  public static let maxWireSize = maxEncodedSize + 1
  /// The frame delimiter.
  public static let delimiter: UInt8 = 0
}
