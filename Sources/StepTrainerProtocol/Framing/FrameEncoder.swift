import Checksums

/// Encodes messages into wire frames, `COBS(header payload crc) 0x00`, numbering them (PROTOCOL.md 3).
public struct FrameEncoder {
  /// The sequence the next frame gets.
  public var nextSequence: UInt16

  /// An encoder whose first frame has sequence `firstSequence` (0 after boot or opening the port).
  public init(firstSequence: UInt16 = 0) { nextSequence = firstSequence }

  /// Encodes `message` with the next sequence into `wire` (at least `FrameFormat.maxWireSize`
  /// bytes), delimiter included, and returns the number of bytes written.
  public mutating func encode(_ message: Message, into wire: UnsafeMutableBufferPointer<UInt8>) -> Int {
    defer { nextSequence &+= 1 }
    return Self.encode(message, sequence: nextSequence, into: wire)
  }

  /// Encodes `message` with a given sequence into `wire` (at least `FrameFormat.maxWireSize` bytes),
  /// delimiter included, and returns the number of bytes written.
  public static func encode(
    _ message: Message, sequence: UInt16, into wire: UnsafeMutableBufferPointer<UInt8>
  ) -> Int {
    precondition(wire.count >= FrameFormat.maxWireSize, "frame buffer too small")
    var frame = InlineArray<249, UInt8>(repeating: 0)
    var span = frame.mutableSpan
    return span.withUnsafeMutableBufferPointer { frame in
      let payloadSize = message.writePayload(
        into: UnsafeMutableBufferPointer(rebasing: frame[FrameFormat.headerSize..<FrameFormat.headerSize + 240]))
      let type = message.type
      frame[0] = FrameFormat.version
      frame[1] = type.rawValue
      frame[2] = UInt8(truncatingIfNeeded: sequence)
      frame[3] = UInt8(truncatingIfNeeded: sequence >> 8)
      frame[4] = UInt8(payloadSize)
      let covered = FrameFormat.headerSize + payloadSize
      var crc = CRC32C.update(CRC32C.initial, UnsafeBufferPointer(rebasing: frame[0..<covered]))
      crc = CRC32C.finalize(CRC32C.update(crc, byte: type.seed))
      for i in 0..<4 { frame[covered + i] = UInt8(truncatingIfNeeded: crc >> UInt32(8 * i)) }
      let frameSize = covered + FrameFormat.crcSize
      let encoded = COBS.encode(UnsafeBufferPointer(rebasing: frame[0..<frameSize]), into: wire)
      wire[encoded] = FrameFormat.delimiter
      return encoded + 1
    }
  }
}

#if !hasFeature(Embedded)
  extension FrameEncoder {
    /// The wire bytes of `message` with a given sequence, delimiter included.
    public static func encoded(_ message: Message, sequence: UInt16) -> [UInt8] {
      [UInt8](unsafeUninitializedCapacity: FrameFormat.maxWireSize) { buffer, count in
        count = encode(message, sequence: sequence, into: buffer)
      }
    }

    /// The wire bytes of `message` with the next sequence, delimiter included.
    public mutating func encoded(_ message: Message) -> [UInt8] {
      defer { nextSequence &+= 1 }
      return Self.encoded(message, sequence: nextSequence)
    }
  }
#endif
