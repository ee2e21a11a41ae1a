import SeededRandom
import Testing

@testable import StepTrainerProtocol

/// After garbage, bit flips, truncation or lost bytes the decoder is in step again at the next
/// delimiter, and it never delivers a message that was not sent.
@Suite struct ResynchronisationTests {
  @Test func noiseNeverBecomesAMessageAndIntactFramesAllArrive() {
    var random = SplitMix64(testSeed: 3)
    var delivered = 0
    var rejected = 0
    for _ in 0..<500 {
      let stream = NoisyStream.make(messages: SampleMessages.all, using: &random)
      var decoder = FrameDecoder()
      let events = decoder.decode(stream.bytes + [0])
      var received: Set<UInt16> = []
      for event in events {
        guard case .message(let message, let sequence) = event else { continue }
        let original = stream.sent.first { $0.sequence == sequence }
        #expect(original?.message == message, "a delivered message must be exactly one that was sent")
        received.insert(sequence)
      }
      #expect(stream.intact.isSubset(of: received), "every untouched frame is delivered")
      delivered += received.count
      rejected += decoder.counters.framesRejected
    }
    #expect(
      delivered > 3000 && rejected > 10000,
      "the test must exercise both outcomes: \(delivered) delivered, \(rejected) rejected")
  }

  @Test func randomBytesNeverDecode() {
    var random = SplitMix64(testSeed: 4)
    var decoder = FrameDecoder()
    var candidates = 0
    for _ in 0..<2000 {
      let noise = (0..<Int.random(in: 1...600, using: &random)).map { _ in
        // Zeros a little more often than by chance, so many candidates are judged.
        UInt8.random(in: 0...40, using: &random) == 0 ? 0 : UInt8.random(in: 0...255, using: &random)
      }
      for event in decoder.decode(noise + [0]) {
        candidates += 1
        if case .message(let message, _) = event { Issue.record("noise decoded into \(message)") }
      }
    }
    #expect(candidates > 10_000)
  }

  @Test func oversizeIsReportedOnceAndTheNextFrameDecodes() {
    var decoder = FrameDecoder()
    let reading = Message.reading(Reading(index: 1, deviceTimeMs: 2, distanceMm: 3, status: .ok))
    let events = decoder.decode(
      [UInt8](repeating: 0x41, count: 1000) + [0] + FrameEncoder.encoded(reading, sequence: 9))
    #expect(events == [.rejected(.oversize), .message(reading, sequence: 9)])
    #expect(decoder.counters.bytesDiscarded == 1000)
    #expect(decoder.counters[.oversize] == 1)
  }

  @Test func largestLegalCandidateIsJudgedAndOneMoreByteIsOversize() {
    // 250 encoded bytes: judged normally (here: a CRC failure); 251: oversize.
    var judged = FrameDecoder()
    #expect(
      judged.decode([UInt8](repeating: 0xFF, count: 1) + [UInt8](repeating: 1, count: 249) + [0]) != [
        .rejected(.oversize)
      ])
    var tooLong = FrameDecoder()
    #expect(tooLong.decode([UInt8](repeating: 0x05, count: 251) + [0]) == [.rejected(.oversize)])
  }

  @Test func everyRejectionReasonIsCountedWithItsBytes() {
    let reading = Message.reading(Reading(index: 1, deviceTimeMs: 2, distanceMm: 3, status: .ok))
    let good = FrameEncoder.encoded(reading, sequence: 1)
    var flipped = good
    flipped[8] ^= 0x10
    var decoder = FrameDecoder()
    let events = decoder.decode([0x05, 0x01, 0x02, 0x00] + [0x02, 0x01, 0x00] + flipped + good)
    #expect(events == [.rejected(.cobs), .rejected(.tooShort), .rejected(.crc), .message(reading, sequence: 1)])
    #expect(decoder.counters.bytesDiscarded == 3 + 2 + flipped.count - 1)
    #expect(decoder.counters.messages == 1 && decoder.counters.framesRejected == 3)
  }
}
