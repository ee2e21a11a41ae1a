import Checksums
import Foundation
import SeededRandom
import Testing

@testable import StepTrainerProtocol

/// `decodeFrames` (frames lent as `DecodedFrame`) must accept and reject exactly what
/// `decodeWithHeaders` does: the same messages with the same sequences, the same rejections with
/// the same headers, the same counters and pending bytes, however the bytes are split. Compared on
/// the shared vectors, on seeded random streams of valid frames, noise, bit flips and frames whose
/// CRC is right but whose payload breaks a rule, at every split point and in every chunk size.
@Suite struct DecodedFrameTests {
  /// What a decoder reported over a whole input: events with the header each came with.
  struct Outcome: Equatable, CustomStringConvertible {
    var events: [DecoderEvent] = []
    var headers: [FrameHeader?] = []
    var counters = DecoderCounters()
    var pending = 0

    var description: String {
      "\(events.count) events, \(counters.messages) messages, rejections \(Array(counters.rejections.indices.map { counters.rejections[$0] })), "
        + "\(counters.bytesDiscarded) discarded, \(pending) pending"
    }
  }

  /// The input cut into chunks of the given lengths (the rest, if any, is the last chunk).
  static func chunks(_ bytes: [UInt8], _ lengths: [Int]) -> [ArraySlice<UInt8>] {
    var result: [ArraySlice<UInt8>] = []
    var start = 0
    for length in lengths where start < bytes.count {
      let end = min(bytes.count, start + length)
      result.append(bytes[start..<end])
      start = end
    }
    if start < bytes.count { result.append(bytes[start...]) }
    return result
  }

  /// The old API's outcome.
  static func viaEvents(_ chunks: [ArraySlice<UInt8>]) -> Outcome {
    var decoder = FrameDecoder()
    var outcome = Outcome()
    for chunk in chunks {
      chunk.withUnsafeBufferPointer { buffer in
        decoder.decodeWithHeaders(buffer) { event, header in
          outcome.events.append(event)
          outcome.headers.append(header)
        }
      }
    }
    outcome.counters = decoder.counters
    outcome.pending = decoder.pendingBytes
    return outcome
  }

  /// The new API's outcome, each lent frame turned into the event the old API reports for it;
  /// with `checkAccessors`, every accessor of a lent frame must also agree with its message.
  static func viaFrames(_ chunks: [ArraySlice<UInt8>], checkAccessors: Bool = false) -> Outcome {
    var decoder = FrameDecoder()
    var outcome = Outcome()
    for chunk in chunks {
      chunk.withUnsafeBufferPointer { buffer in
        decoder.decodeFrames(buffer) { event in
          switch event {
          case .frame(let frame):
            let message = frame.message
            if checkAccessors {
              #expect(message.type == frame.type)
              if case .reading(let reading) = message {
                #expect(frame.reading == reading)
              } else {
                #expect(frame.reading == nil)
              }
              if case .readingBatch(let batch) = message {
                #expect(frame.readingBatch == batch)
                let view = frame.readingBatchView
                #expect(view?.count == batch.count)
                #expect(view?.firstIndex == batch.firstIndex && view?.firstTimeMs == batch.firstTimeMs)
                for i in 0..<batch.count {
                  #expect(view?.entry(i) == batch.entry(i) && view?[i] == batch[i])
                }
              } else {
                #expect(frame.readingBatch == nil && frame.readingBatchView == nil)
              }
            }
            outcome.events.append(.message(message, sequence: frame.sequence))
            outcome.headers.append(nil)
          case .rejected(let reason, let header):
            outcome.events.append(.rejected(reason))
            outcome.headers.append(header)
          }
        }
      }
    }
    outcome.counters = decoder.counters
    outcome.pending = decoder.pendingBytes
    return outcome
  }

  /// Both APIs on `bytes` whole, split in two at every position (with `everySplit`), and in
  /// chunks of every length from 1 to `maxChunk`; returns the outcome of the whole input.
  @discardableResult
  static func compare(_ bytes: [UInt8], maxChunk: Int = 64, everySplit: Bool = true, _ label: String) -> Outcome {
    let whole = viaEvents([bytes[...]])
    #expect(viaFrames([bytes[...]], checkAccessors: true) == whole, "\(label): whole")
    for split in 0...bytes.count where everySplit {
      let parts = chunks(bytes, [split])
      let old = viaEvents(parts)
      let new = viaFrames(parts)
      #expect(new == old, "\(label): split at \(split): \(new) vs \(old)")
      if new != old { return whole }
    }
    for length in 1...max(1, min(maxChunk, bytes.count)) {
      let parts = chunks(bytes, Array(repeating: length, count: bytes.count / length + 1))
      let old = viaEvents(parts)
      let new = viaFrames(parts)
      #expect(new == old, "\(label): chunks of \(length): \(new) vs \(old)")
      if new != old { return whole }
    }
    return whole
  }

  /// A frame on the wire with any header, payload and CRC (right or not), COBS-encoded and
  /// delimited; for what `FrameEncoder` will not write (a wrong version or length byte, an unknown type).
  static func rawFrame(
    version: UInt8 = FrameFormat.version, type: UInt8, sequence: UInt16, length: UInt8? = nil,
    payload: [UInt8], seed: UInt8? = nil, crcDelta: UInt32 = 0
  ) -> [UInt8] {
    var frame = [version, type, UInt8(sequence & 0xFF), UInt8(sequence >> 8), length ?? UInt8(payload.count)]
    frame += payload
    var withSeed = frame
    withSeed.append(seed ?? MessageType(rawValue: type)?.seed ?? 0)
    let crc = withSeed.withUnsafeBufferPointer { CRC32C.checksum($0) } ^ crcDelta
    frame += [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 24)]
    var wire = [UInt8](repeating: 0, count: frame.count + frame.count / 254 + 2)
    let count = frame.withUnsafeBufferPointer { source in
      wire.withUnsafeMutableBufferPointer { COBS.encode(source, into: $0) }
    }
    return Array(wire[0..<count]) + [FrameFormat.delimiter]
  }

  /// A payload of the right size for `type` (a batch: 1 to 45 entries, or a wrong size now and
  /// then), with random bytes where fields can break a rule: statuses 0-5, offsets that sometimes
  /// decrease, a zero session id, min >= max distances, t2 > t3, unknown reasons and severities.
  static func randomPayload(_ type: MessageType, using random: inout SplitMix64) -> [UInt8] {
    func byte() -> UInt8 { UInt8.random(in: 0...255, using: &random) }
    func small() -> UInt8 { UInt8.random(in: 0...7, using: &random) }
    guard let size = type.fixedPayloadSize else {
      let count = Int.random(in: 0...47, using: &random)
      var payload = (0..<12).map { _ in byte() }
      payload.append(random.chance(0.1) ? byte() : UInt8(count))
      var offset = random.chance(0.8) ? 0 : Int.random(in: 0...3, using: &random)
      for _ in 0..<count {
        // Mostly valid entries, so that whole batches are valid often enough.
        let status = random.chance(0.98) ? UInt8.random(in: 0...3, using: &random) : small()
        payload += [UInt8(offset & 0xFF), UInt8(offset >> 8), byte(), byte(), status]
        offset = max(0, offset + (random.chance(0.98) ? Int.random(in: 0...200, using: &random) : -1))
        if offset > 0xFFFF { offset = 0xFFFF }
      }
      if random.chance(0.05) { payload.append(byte()) }
      return Array(payload.prefix(FrameFormat.maxPayloadSize))
    }
    var payload = (0..<size).map { _ in random.chance(0.3) ? 0 : byte() }
    // Put small values where a field is an enum, so valid and invalid values both occur.
    switch type {
    case .reading: payload[14] = small()
    case .heartbeat: payload[8] = small()
    case .nack: payload[3] = small()
    case .fault: payload[2] = small()
    case .hello where random.chance(0.5): payload[25...26] = payload[23...24]  // max = min
    case .timeSyncResponse where random.chance(0.5): payload[8..<16] = payload[16..<24]
    default: break
    }
    return payload
  }

  /// A stream of valid frames of every type, frames with valid CRCs and random payloads, frames
  /// with a broken header or CRC, runs of noise, bit flips and lost bytes; all seeded.
  static func randomStream(_ seed: UInt64) -> [UInt8] {
    var random = SplitMix64(testSeed: seed)
    var bytes: [UInt8] = []
    var sequence = UInt16.random(in: 0...UInt16.max, using: &random)
    for _ in 0..<Int.random(in: 10...30, using: &random) {
      sequence &+= 1
      let type = MessageType.allCases.randomElement(using: &random)!
      var frame: [UInt8]
      switch Int.random(in: 0..<12, using: &random) {
      case 0...3:
        frame = FrameEncoder.encoded(SampleMessages.all.randomElement(using: &random)!, sequence: sequence)
      case 4...6:
        frame = rawFrame(type: type.rawValue, sequence: sequence, payload: randomPayload(type, using: &random))
      case 7:
        let payload = randomPayload(type, using: &random)
        switch Int.random(in: 0..<4, using: &random) {
        case 0: frame = rawFrame(version: 2, type: type.rawValue, sequence: sequence, payload: payload)
        case 1:
          frame = rawFrame(type: type.rawValue, sequence: sequence, length: UInt8(payload.count + 1), payload: payload)
        case 2: frame = rawFrame(type: 0x7E, sequence: sequence, payload: payload, seed: 0)
        default: frame = rawFrame(type: type.rawValue, sequence: sequence, payload: payload, crcDelta: 1)
        }
      case 8:
        frame = (0..<Int.random(in: 0...300, using: &random)).map { _ in UInt8.random(in: 1...255, using: &random) }
        if random.chance(0.7) { frame.append(0) }
      case 9:
        frame = (0..<Int.random(in: 1...12, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
      default:
        frame = FrameEncoder.encoded(
          .reading(
            Reading(
              index: UInt32.random(in: 0...100, using: &random), deviceTimeMs: 1000, distanceMm: 500, status: .ok)),
          sequence: sequence)
        let at = Int.random(in: 0..<frame.count, using: &random)
        if random.chance(0.5) {
          frame[at] ^= 1 << UInt8.random(in: 0...7, using: &random)
        } else {
          frame.remove(at: at)
        }
      }
      bytes += frame
    }
    return bytes
  }

  @Test func vectorsGiveTheSameOutcomesThroughBothAPIs() throws {
    let cases = try VectorTests.load()
    #expect(cases.count >= 50)
    var total = DecoderCounters()
    for item in cases {
      let name = item["name"] as? String ?? "?"
      let bytes = VectorTests.bytes(hex: try #require(item["hex"] as? String))
      let outcome = Self.compare(bytes, name)
      total.messages += outcome.counters.messages
      for i in total.rejections.indices { total.rejections[i] += outcome.counters.rejections[i] }
    }
    // The vectors exercise messages and every rejection, so the comparison above covers them.
    #expect(total.messages > 0)
    for reason in FrameRejection.allCases { #expect(total[reason] > 0, "no vector rejected as \(reason)") }
  }

  @Test func allVectorsBackToBackGiveTheSameOutcomes() throws {
    var bytes: [UInt8] = []
    for item in try VectorTests.load() { bytes += VectorTests.bytes(hex: try #require(item["hex"] as? String)) }
    // Every split point of each vector alone is covered above; here, every chunk size.
    Self.compare(bytes, maxChunk: 300, everySplit: false, "all vectors")
  }

  @Test(arguments: 0..<24)
  func randomStreamsGiveTheSameOutcomes(seed: Int) {
    let bytes = Self.randomStream(UInt64(seed))
    let outcome = Self.compare(bytes, "stream \(seed)")
    #expect(outcome.counters.messages > 0)
  }

  @Test func randomStreamsReachEveryRejection() {
    var total = DecoderCounters()
    for seed in 0..<40 {
      let outcome = Self.viaFrames([Self.randomStream(UInt64(seed))[...]])
      total.messages += outcome.counters.messages
      for i in total.rejections.indices { total.rejections[i] += outcome.counters.rejections[i] }
    }
    #expect(total.messages > 200)
    for reason in FrameRejection.allCases { #expect(total[reason] > 0, "no stream frame rejected as \(reason)") }
  }

  @Test func noisyStreamsGiveTheSameOutcomes() {
    var random = SplitMix64(testSeed: 17)
    for round in 0..<10 {
      Self.compare(NoisyStream.make(messages: SampleMessages.all, using: &random).bytes, "noisy \(round)")
    }
  }

  /// The comparison is not vacuous: a stream that differs in one payload byte (CRC fixed up)
  /// changes the outcome, and `compare`'s equality sees it.
  @Test func outcomesOfDifferentStreamsDiffer() {
    let reading = Reading(index: 1, deviceTimeMs: 2, distanceMm: 3, status: .ok)
    let one = FrameEncoder.encoded(.reading(reading), sequence: 5)
    var payload = [UInt8](repeating: 0, count: 15)
    payload[0] = 1
    payload[4] = 2
    payload[12] = 4
    let other = Self.rawFrame(type: MessageType.reading.rawValue, sequence: 5, payload: payload)
    #expect(Self.viaFrames([one[...]]) != Self.viaFrames([other[...]]))
    #expect(Self.viaFrames([one[...]]) == Self.viaEvents([one[...]]))
    payload[14] = 9
    let invalid = Self.rawFrame(type: MessageType.reading.rawValue, sequence: 5, payload: payload)
    #expect(Self.viaFrames([invalid[...]]).events == [.rejected(.payload)])
  }

  @Test func readingStatusFastCheckMatchesTheInitialiser() {
    for raw in 0...255 {
      let byte = UInt8(raw)
      #expect(ReadingStatus.isKnown(byte) == (ReadingStatus(rawValue: byte) != nil), "\(byte)")
      if let status = ReadingStatus(rawValue: byte) { #expect(ReadingStatus(known: byte) == status) }
    }
  }

  @Test func typeByteSwitchMatchesTheInitialiser() {
    for raw in 0...255 {
      #expect(MessageType(wire: UInt8(raw)) == MessageType(rawValue: UInt8(raw)), "\(raw)")
    }
  }

  @Test func batchFastCheckMatchesTheInitialiser() {
    var random = SplitMix64(testSeed: 23)
    var valid = 0
    for _ in 0..<20_000 {
      let payload = Self.randomPayload(.readingBatch, using: &random)
      payload.withUnsafeBufferPointer { buffer in
        var reader = PayloadReader(buffer)
        let decodes = (try? ReadingBatch(&reader)) != nil
        #expect(ReadingBatch.isValid(buffer) == decodes, "\(payload)")
        if decodes { valid += 1 }
      }
    }
    // Both outcomes occur often enough for the comparison to mean something.
    #expect(valid > 1000 && valid < 19_000, "\(valid) valid")
  }

  @Test func fastChecksMatchTheInitialisersForEveryType() {
    var random = SplitMix64(testSeed: 29)
    for type in MessageType.allCases {
      var accepted = 0
      for _ in 0..<2000 {
        let payload = Self.randomPayload(type, using: &random)
        payload.withUnsafeBufferPointer { buffer in
          let decodes = (try? Message.decode(type, payload: buffer)) != nil
          let sized = type.fixedPayloadSize.map { $0 == buffer.count } ?? true
          #expect((sized && DecodedFrame.payloadIsValid(type, buffer)) == decodes, "\(type): \(payload)")
          if decodes { accepted += 1 }
        }
      }
      #expect(accepted > 0, "\(type): no payload accepted")
    }
  }

  @Test func aLentFrameCarriesItsHeaderAndPayload() {
    let reading = Reading(index: 0x0102_0304, deviceTimeMs: 0x0A0B_0C0D_0E0F, distanceMm: 1234, status: .noEcho)
    let bytes = FrameEncoder.encoded(.reading(reading), sequence: 0xBEEF)
    var decoder = FrameDecoder()
    var seen = 0
    bytes.withUnsafeBufferPointer { buffer in
      decoder.decodeFrames(buffer) { event in
        guard case .frame(let frame) = event else {
          Issue.record("rejected: \(event)")
          return
        }
        seen += 1
        #expect(frame.type == .reading && frame.sequence == 0xBEEF && frame.payload.count == 15)
        #expect(frame.reading == reading)
        #expect(frame.message == .reading(reading))
      }
    }
    #expect(seen == 1 && decoder.counters.messages == 1)
  }
}
