import StepTrainerProtocol

/// The device's receiver: the protocol's decoder, plus the header of each rejected candidate, since a device must
/// name the type and sequence of a frame it refuses (NACK `unknownType`, `unsupportedVersion`), which the decoder's
/// events do not carry.
struct HostFrameReader {
  /// The header fields of a rejected frame.
  struct Header: Equatable {
    var version: UInt8
    var type: UInt8
    var sequence: UInt16
  }

  /// One decoder event, with the header of its candidate when it was rejected after COBS decoding.
  struct Event {
    var event: DecoderEvent
    var header: Header?
  }

  private var decoder = FrameDecoder()
  /// The encoded bytes of the current candidate (only the first 251 are kept: longer ones are oversize anyway).
  private var candidate: [UInt8] = []

  /// What the decoder has seen.
  var counters: DecoderCounters { decoder.counters }

  /// Decodes `bytes`, in order.
  mutating func read(_ bytes: [UInt8]) -> [Event] {
    var events: [Event] = []
    var start = 0
    while start < bytes.count {
      let delimiter = bytes[start...].firstIndex(of: FrameFormat.delimiter) ?? bytes.count
      let segment = bytes[start..<min(delimiter + 1, bytes.count)]
      let content = bytes[start..<delimiter]
      let room = FrameFormat.maxEncodedSize + 1 - candidate.count
      if room > 0 { candidate.append(contentsOf: content.prefix(room)) }
      for event in decoder.decode(segment) {
        var header: Header?
        if case .rejected(let reason) = event, reason != .oversize, delimiter < bytes.count {
          header = Self.header(ofCandidate: candidate)
        }
        events.append(Event(event: event, header: header))
      }
      if delimiter < bytes.count { candidate.removeAll(keepingCapacity: true) }
      start = delimiter + 1
    }
    return events
  }

  /// Forgets the current candidate (a reboot loses the receive buffer).
  mutating func reset() {
    decoder.reset()
    candidate.removeAll()
  }

  /// The first five bytes of a candidate's decoded frame as a header, or nil when COBS fails or it is shorter.
  static func header(ofCandidate encoded: [UInt8]) -> Header? {
    var frame: [UInt8] = []
    var position = 0
    while position < encoded.count, frame.count < FrameFormat.headerSize {
      let code = Int(encoded[position])
      position += 1
      guard code > 0, code - 1 <= encoded.count - position else { return nil }
      frame.append(contentsOf: encoded[position..<position + code - 1])
      position += code - 1
      if code != 0xFF && position < encoded.count { frame.append(0) }
    }
    guard frame.count >= FrameFormat.headerSize else { return nil }
    return Header(version: frame[0], type: frame[1], sequence: UInt16(frame[2]) | UInt16(frame[3]) << 8)
  }
}
