/// Reads little-endian fields from a payload whose size the caller has already checked.
public struct PayloadReader {
  let bytes: UnsafeBufferPointer<UInt8>
  var offset = 0

  /// A reader at the payload's first byte.

  public init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  /// Bytes not yet read.

  public var remaining: Int { bytes.count - offset }

  /// The next byte.

  public mutating func u8() -> UInt8 {
    defer { offset += 1 }
    return bytes[offset]
  }

  /// The next two bytes, little-endian.

  public mutating func u16() -> UInt16 { UInt16(u8()) | UInt16(u8()) << 8 }

  /// The next four bytes, little-endian.

  public mutating func u32() -> UInt32 { UInt32(u16()) | UInt32(u16()) << 16 }

  /// The next eight bytes, little-endian.

  public mutating func u64() -> UInt64 { UInt64(u32()) | UInt64(u32()) << 32 }

  /// The next sixteen bytes as a serial number (RFC 4122 order).

  public mutating func serialNumber() -> DeviceSerialNumber {
    var high: UInt64 = 0
    var low: UInt64 = 0
    for _ in 0..<8 { high = high << 8 | UInt64(u8()) }
    for _ in 0..<8 { low = low << 8 | UInt64(u8()) }
    return DeviceSerialNumber(high: high, low: low)
  }
}
