import Testing

@testable import StepTrainerProtocol

@Suite struct RoundTripTests {
  @Test(arguments: SampleMessages.all)
  func everyMessageDecodesToItself(_ message: Message) {
    for sequence: UInt16 in [0, 1, 255, 256, 65535] {
      let wire = FrameEncoder.encoded(message, sequence: sequence)
      #expect(wire.last == 0)
      #expect(!wire.dropLast().contains(0), "COBS output must not contain the delimiter")
      #expect(wire.count <= FrameFormat.maxWireSize)
      var decoder = FrameDecoder()
      #expect(decoder.decode(wire) == [.message(message, sequence: sequence)])
      #expect(decoder.pendingBytes == 0)
    }
  }

  @Test func encoderNumbersFramesAndWraps() {
    var encoder = FrameEncoder(firstSequence: 65534)
    var decoder = FrameDecoder()
    let heartbeat = Message.heartbeat(Heartbeat(timeMs: 1, state: .connected))
    let events = decoder.decode((0..<3).flatMap { _ in encoder.encoded(heartbeat) })
    let sequences: [UInt16?] = events.map { if case .message(_, let s) = $0 { s } else { nil } }
    #expect(sequences == [65534, 65535, 0])
  }

  @Test func fullBatchIsTheLargestFrameAndStillFits() {
    let batch = SampleMessages.all.first { if case .readingBatch(let b) = $0 { b.isFull } else { false } }!
    let wire = FrameEncoder.encoded(batch, sequence: 7)
    #expect(wire.count == 5 + 238 + 4 + 2)
  }

  @Test func batchRefusesReadingsThatAreNotItsNext() {
    var batch = ReadingBatch(firstIndex: 10, firstTimeMs: 1000)
    func add(_ index: UInt32, _ time: UInt64, _ status: ReadingStatus = .ok) -> Bool {
      batch.append(Reading(index: index, deviceTimeMs: time, distanceMm: 6, status: status))
    }
    #expect(add(10, 1000))
    #expect(!add(12, 1100), "gap in index")
    #expect(!add(11, 999), "time before first")
    #expect(!add(11, 1000 + 65536), "offset overflow")
    #expect(add(11, 1100, .noEcho))
    #expect(batch[1] == Reading(index: 11, deviceTimeMs: 1100, distanceMm: 6, status: .noEcho))
    #expect(batch[1].distance == nil, "a no-echo sample never reads as a distance")
  }

  @Test func serialNumberTextRoundTrips() {
    let text = "7f3c2a10-5b9e-4d21-8a06-c4e5f1b2d390"
    #expect(DeviceSerialNumber(text)?.description == text)
    #expect(DeviceSerialNumber("7F3C2A10-5B9E-4D21-8A06-C4E5F1B2D390")?.description == text)
    #expect(DeviceSerialNumber("7f3c2a10-5b9e-4d21-8a06-c4e5f1b2d39") == nil)
    #expect(DeviceSerialNumber("7f3c2a10x5b9e-4d21-8a06-c4e5f1b2d390") == nil)
    #expect(DeviceSerialNumber("7f3c2a10-5b9e-4d21-8a06-c4e5f1b2d39g") == nil)
  }
}
