import StepTrainerProtocol

/// The header of the candidate frame being received, kept beside the decoder: a device must
/// name the type and sequence of a frame it refuses (NACK `unknownType`, `unsupportedVersion`,
/// `badPayload`), which the decoder's rejection events do not carry.
struct FrameHeaderCapture {
  /// The header fields of a candidate.
  struct Header {
    var type: UInt8
    var sequence: UInt16
  }

  // Every encoded byte after the first yields one frame byte (a data byte, or the 0x00 a code
  // byte stands for), so 6 encoded bytes hold the 5-byte header; longer prefixes are not kept.
  private var prefix = InlineArray<6, UInt8>(repeating: 0)
  private var count = 0

  /// Notes bytes of the current candidate (no delimiter among them).
  mutating func note(_ bytes: UnsafeBufferPointer<UInt8>) {
    for byte in bytes {
      guard count < 6 else { return }
      prefix[count] = byte
      count += 1
    }
  }

  /// Starts a new candidate (after a delimiter).
  mutating func reset() { count = 0 }

  /// The candidate's header, or nil when its first bytes are not valid COBS or too few.
  var header: Header? {
    guard count == 6 else { return nil }
    var frame = InlineArray<5, UInt8>(repeating: 0)
    var produced = 0
    var position = 1
    var nextCode = Int(prefix[0])
    while produced < 5 && position < 6 {
      guard nextCode >= 1 else { return nil }
      if position == nextCode {
        // A code byte: the 0x00 it stands for (the 254-byte 0xFF block cannot occur this early).
        frame[produced] = 0
        nextCode = position + Int(prefix[position])
      } else {
        frame[produced] = prefix[position]
      }
      produced += 1
      position += 1
    }
    return Header(type: frame[1], sequence: UInt16(frame[2]) | UInt16(frame[3]) << 8)
  }
}
