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

  /// Encodes a payload struct with the next sequence into `wire` (at least
  /// `FrameFormat.maxWireSize` bytes), delimiter included, and returns the number of bytes written.
  public mutating func encode<Payload: MessagePayload>(
    _ payload: Payload, into wire: UnsafeMutableBufferPointer<UInt8>
  ) -> Int {
    defer { nextSequence &+= 1 }
    return Self.encode(Payload.messageType, sequence: nextSequence, into: wire) { payload.write(&$0) }
  }

  /// Encodes a frame of `type` whose payload `writePayload` writes, with the next sequence, into
  /// `wire` (at least `FrameFormat.maxWireSize` bytes); returns the number of bytes written.
  public mutating func encode(
    _ type: MessageType, into wire: UnsafeMutableBufferPointer<UInt8>, writePayload: (inout PayloadWriter) -> Void
  ) -> Int {
    defer { nextSequence &+= 1 }
    return Self.encode(type, sequence: nextSequence, into: wire, writePayload: writePayload)
  }

  /// Encodes `message` with a given sequence into `wire` (at least `FrameFormat.maxWireSize` bytes),
  /// delimiter included, and returns the number of bytes written.
  public static func encode(
    _ message: Message, sequence: UInt16, into wire: UnsafeMutableBufferPointer<UInt8>
  ) -> Int {
    encode(message.type, sequence: sequence, into: wire) { writer in
      writer.skip(message.writePayload(into: writer.unwritten))
    }
  }

  /// Encodes a frame of `type` with a given sequence, its payload written by `writePayload`, into
  /// `wire` (at least `FrameFormat.maxWireSize` bytes), delimiter included; returns the bytes written.
  ///
  /// The frame is built at `wire[1...]` and COBS-encoded where it lies, so no second frame-sized
  /// buffer is needed (a device's stack is small). In place works because a frame is at most 249
  /// bytes: no run of 254 non-zero bytes can occur, so COBS adds exactly one leading code byte and
  /// otherwise only replaces each 0x00 with the distance to the next 0x00 (or the end).
  public static func encode(
    _ type: MessageType, sequence: UInt16, into wire: UnsafeMutableBufferPointer<UInt8>,
    writePayload: (inout PayloadWriter) -> Void
  ) -> Int {
    precondition(wire.count >= FrameFormat.maxWireSize, "frame buffer too small")
    // wire[1 + k] holds frame byte k.
    let payloadStart = 1 + FrameFormat.headerSize
    var writer = PayloadWriter(
      UnsafeMutableBufferPointer(rebasing: wire[payloadStart..<payloadStart + FrameFormat.maxPayloadSize]))
    writePayload(&writer)
    let payloadSize = writer.count
    wire[1] = FrameFormat.version
    wire[2] = type.rawValue
    wire[3] = UInt8(truncatingIfNeeded: sequence)
    wire[4] = UInt8(truncatingIfNeeded: sequence >> 8)
    wire[5] = UInt8(payloadSize)
    let covered = FrameFormat.headerSize + payloadSize
    var crc = CRC32C.update(CRC32C.initial, UnsafeBufferPointer(rebasing: wire[1..<1 + covered]))
    crc = CRC32C.finalize(CRC32C.update(crc, byte: type.seed))
    for i in 0..<4 { wire[1 + covered + i] = UInt8(truncatingIfNeeded: crc >> UInt32(8 * i)) }
    let frameSize = covered + FrameFormat.crcSize
    // COBS from the end backwards: each 0x00 becomes the distance to the next one (the end of the
    // frame counts as one), and wire[0] the distance to the first.
    var next = frameSize + 1
    var i = frameSize
    while i >= 1 {
      if wire[i] == 0 {
        wire[i] = UInt8(truncatingIfNeeded: next - i)
        next = i
      }
      i -= 1
    }
    wire[0] = UInt8(truncatingIfNeeded: next)
    wire[frameSize + 1] = FrameFormat.delimiter
    return frameSize + 2
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
