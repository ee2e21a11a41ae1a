import Testing

@testable import StepTrainerProtocol

/// A device must name the type and sequence of a frame it refuses: the decoder hands over the
/// header of every rejected frame long enough to have one.
@Suite struct RejectedHeaderTests {
  static func events(_ bytes: [UInt8]) -> [(DecoderEvent, FrameHeader?)] {
    var decoder = FrameDecoder()
    var events: [(DecoderEvent, FrameHeader?)] = []
    bytes.withUnsafeBufferPointer { buffer in decoder.decodeWithHeaders(buffer) { events.append(($0, $1)) } }
    return events
  }

  @Test func unknownTypeVersionAndPayloadRejectionsCarryTheHeader() {
    var unknown = FrameEncoder.encoded(.ack(Ack(answeredType: 1, answeredSequence: 2)), sequence: 0x1234)
    unknown[2] = 0x7F  // the type byte (no zero before it, so COBS left it in place)
    var version = FrameEncoder.encoded(.heartbeat(Heartbeat(timeMs: 5, state: .connected)), sequence: 9)
    version[1] = 2
    let events = Self.events(unknown + version)
    #expect(events.count == 2)
    #expect(events[0].0 == .rejected(.unknownType))
    #expect(events[0].1 == FrameHeader(version: 1, type: 0x7F, sequence: 0x1234))
    #expect(events[1].0 == .rejected(.version))
    #expect(events[1].1 == FrameHeader(version: 2, type: MessageType.heartbeat.rawValue, sequence: 9))
  }

  @Test func messagesAndRejectionsWithoutAHeaderCarryNone() {
    let good = FrameEncoder.encoded(.timeSyncRequest(TimeSyncRequest(t1: 7)), sequence: 3)
    let events = Self.events(good + [0x02, 0x01, 0x00] + [UInt8](repeating: 0x41, count: 300) + [0])
    #expect(
      events.map(\.0) == [
        .message(.timeSyncRequest(TimeSyncRequest(t1: 7)), sequence: 3), .rejected(.tooShort), .rejected(.oversize),
      ])
    #expect(events.allSatisfy { $0.1 == nil })
  }
}
