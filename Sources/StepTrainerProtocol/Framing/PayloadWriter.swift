/// Writes little-endian fields into a payload buffer of at least `FrameFormat.maxPayloadSize` bytes.
public struct PayloadWriter {
  let bytes: UnsafeMutableBufferPointer<UInt8>
  /// Bytes written so far.
  public private(set) var count = 0

  /// A writer at the buffer's first byte.

  public init(_ bytes: UnsafeMutableBufferPointer<UInt8>) { self.bytes = bytes }

  /// The part of the buffer not written yet.
  public var unwritten: UnsafeMutableBufferPointer<UInt8> {
    UnsafeMutableBufferPointer(rebasing: bytes[count...])
  }

  /// Counts `n` bytes written into `unwritten` directly as written.
  public mutating func skip(_ n: Int) {
    precondition(n <= bytes.count - count, "payload overflows its buffer")
    count += n
  }

  /// Appends one byte.

  public mutating func u8(_ value: UInt8) {
    bytes[count] = value
    count += 1
  }

  /// Appends two bytes, little-endian.

  public mutating func u16(_ value: UInt16) {
    u8(UInt8(truncatingIfNeeded: value))
    u8(UInt8(truncatingIfNeeded: value >> 8))
  }

  /// Appends four bytes, little-endian.

  public mutating func u32(_ value: UInt32) {
    u16(UInt16(truncatingIfNeeded: value))
    u16(UInt16(truncatingIfNeeded: value >> 16))
  }

  /// Appends eight bytes, little-endian.

  public mutating func u64(_ value: UInt64) {
    u32(UInt32(truncatingIfNeeded: value))
    u32(UInt32(truncatingIfNeeded: value >> 32))
  }

  /// Appends a serial number's sixteen bytes (RFC 4122 order).

  public mutating func serialNumber(_ value: DeviceSerialNumber) {
    for shift in stride(from: 56, through: 0, by: -8) { u8(UInt8(truncatingIfNeeded: value.high >> UInt64(shift))) }
    for shift in stride(from: 56, through: 0, by: -8) { u8(UInt8(truncatingIfNeeded: value.low >> UInt64(shift))) }
  }
}
