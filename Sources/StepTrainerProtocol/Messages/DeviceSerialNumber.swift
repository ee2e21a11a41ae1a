/// A Step Trainer's identity: a UUID's sixteen bytes, printed as lowercase 8-4-4-4-12 hex.
public struct DeviceSerialNumber: Hashable, Sendable {
  /// The first eight bytes, big-endian (as in the UUID's text).
  public var high: UInt64
  /// The last eight bytes, big-endian.
  public var low: UInt64

  /// A serial number from its two halves.
  public init(high: UInt64, low: UInt64) {
    self.high = high
    self.low = low
  }

  /// The 36 ASCII bytes of the lowercase text form, written into `out` (at least 36 bytes).
  public func writeText(into out: UnsafeMutableBufferPointer<UInt8>) {
    let digits: StaticString = "0123456789abcdef"
    var position = 0
    for nibbleIndex in 0..<32 {
      if nibbleIndex == 8 || nibbleIndex == 12 || nibbleIndex == 16 || nibbleIndex == 20 {
        out[position] = UInt8(ascii: "-")
        position += 1
      }
      let half = nibbleIndex < 16 ? high : low
      let shift = UInt64(60 - 4 * (nibbleIndex % 16))
      out[position] = digits.utf8Start[Int((half >> shift) & 0xF)]
      position += 1
    }
  }

  /// Parses the 8-4-4-4-12 hex text form (either case); nil when it is not one.
  public init?(text: some Collection<UInt8>) {
    guard text.count == 36 else { return nil }
    var high: UInt64 = 0
    var low: UInt64 = 0
    var nibbles = 0
    for (position, byte) in text.enumerated() {
      if position == 8 || position == 13 || position == 18 || position == 23 {
        guard byte == UInt8(ascii: "-") else { return nil }
        continue
      }
      let value: UInt8
      switch byte {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): value = byte - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): value = byte - UInt8(ascii: "A") + 10
      default: return nil
      }
      if nibbles < 16 { high = high << 4 | UInt64(value) } else { low = low << 4 | UInt64(value) }
      nibbles += 1
    }
    self.init(high: high, low: low)
  }
}

#if !hasFeature(Embedded)
  extension DeviceSerialNumber: CustomStringConvertible {
    /// The lowercase UUID text, as it appears in the lake's `serialNumber`.
    public var description: String {
      String(unsafeUninitializedCapacity: 36) { buffer in
        writeText(into: buffer)
        return 36
      }
    }

    /// Parses the UUID text form; nil when it is not one.
    public init?(_ text: String) { self.init(text: Array(text.utf8)) }
  }
#endif
