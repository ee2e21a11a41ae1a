import SeededRandom
import StediTestSupport
import StepTrainerFirmware
import StepTrainerProtocol
import Testing

/// Whatever a host (or the line) sends, the device never crashes, never acts on a corrupt frame,
/// answers what it must, and keeps working (PROTOCOL.md 3.5, 4.6).
@Suite struct RobustnessTests {
  @Test func garbageAndBitFlippedFramesNeverCrashOrActAndTheDeviceKeepsWorking() {
    var host = TestHost()
    // A deterministic generator, so a failure reproduces.
    var random = SplitMix64(seed: 42)
    host.connect(sessionId: 1)
    host.keepAlive = true
    host.run(forMs: 500)
    let connectFrame = FrameEncoder.encoded(.connect(Connect(sessionId: 0xDEAD_BEEF)), sequence: 7)
    let configureFrame = FrameEncoder.encoded(
      .configure(Configure(sampleRateCentihertz: 100, batchSize: 45)), sequence: 8)
    for round in 0..<400 {
      switch round % 4 {
      case 0:
        // Random bytes, zeros included, of random lengths (some longer than any frame).
        let count = Int.random(in: 0...600, using: &random)
        host.sendRaw((0..<count).map { _ in UInt8.random(in: 0...255, using: &random) })
      case 1, 2:
        // A CONNECT or CONFIGURE with one to three flipped bits: the CRC must catch every one.
        var frame = round % 4 == 1 ? connectFrame : configureFrame
        // Distinct bits (the same bit flipped twice would restore the frame), delimiter excluded.
        var bits = Set<Int>()
        let flips = Int.random(in: 1...3, using: &random)
        while bits.count < flips { bits.insert(Int.random(in: 0..<((frame.count - 1) * 8), using: &random)) }
        for bit in bits { frame[bit / 8] ^= 1 << UInt8(bit % 8) }
        host.sendRaw([0] + frame)
      default:
        // A truncated frame (the last byte of `connectFrame` is its delimiter), then a delimiter.
        host.sendRaw(Array(connectFrame.prefix(Int.random(in: 1..<(connectFrame.count - 1), using: &random))) + [0])
      }
      host.run(forMs: 7)
    }
    // No corrupt frame was acted on: same session, same settings; the device never crashed.
    #expect(host.firmware.sessionId == 1)
    #expect(host.firmware.settings == FirmwareSettings())
    // The boot's unsolicited HELLO, then only session 1's.
    #expect(host.hellos.dropFirst().allSatisfy { $0.sessionId == 1 })
    #expect(host.acks.isEmpty)
    #expect(host.firmware.decoderCounters.framesRejected > 300)
    #expect(host.rejected.isEmpty)
    // Readings kept flowing the whole time, without a gap.
    let indexes = host.readings.map(\.index)
    #expect(indexes == Array(0..<UInt32(indexes.count)))
    #expect(indexes.count >= 30)
    // And it still answers.
    host.sendRaw([0])
    let sequence = host.send(.configure(Configure(sampleRateCentihertz: 500)))
    host.connect(sessionId: 2)
    #expect(host.acks.last == Ack(answeredType: MessageType.configure.rawValue, answeredSequence: sequence))
    #expect(host.hellos.last?.sessionId == 2)
  }

  @Test func unknownTypesAreRefusedNamingTypeAndSequence() {
    var host = TestHost()
    host.connect()
    _ = host.take()
    host.sendRaw(rawFrame(version: 1, type: 0x7F, sequence: 0x1234, payload: [1, 2, 3]))
    host.sendRaw(rawFrame(version: 1, type: 0x00, sequence: 0x0100, payload: []))
    host.poll()
    #expect(
      host.nacks == [
        Nack(answeredType: 0x7F, answeredSequence: 0x1234, reason: .unknownType),
        Nack(answeredType: 0x00, answeredSequence: 0x0100, reason: .unknownType),
      ])
    #expect(host.firmware.state == .connected)
  }

  @Test func anotherVersionGetsAtMostOneNackPerSecond() {
    var host = TestHost()
    host.connect()
    host.keepAlive = true
    _ = host.take()
    for i in 0..<30 {
      host.sendRaw(rawFrame(version: 2, type: 0x01, sequence: UInt16(i), payload: [2, 1, 0, 0, 0]))
      host.run(forMs: 100)
    }
    let nacks = host.nacks
    #expect(nacks.count == 3)
    #expect(nacks.allSatisfy { $0.reason == .unsupportedVersion && $0.answeredType == 0x01 })
    #expect(nacks.map(\.answeredSequence) == [0, 10, 20])
    // The NACKs themselves speak version 1 (the host decoder would reject anything else).
    #expect(host.rejected.isEmpty)
    #expect(host.firmware.state == .connected)
  }

  @Test func aValidFrameWithABadPayloadIsRefused() {
    var host = TestHost()
    host.connect()
    _ = host.take()
    // CONNECT with session 0, and a CONFIGURE one byte short: CRCs valid, payloads not.
    host.sendRaw(rawFrame(version: 1, type: 0x01, sequence: 5, payload: [1, 0, 0, 0, 0]))
    host.sendRaw(rawFrame(version: 1, type: 0x30, sequence: 6, payload: [0xE8, 0x03]))
    host.poll()
    #expect(
      host.nacks == [
        Nack(answeredType: 0x01, answeredSequence: 5, reason: .badPayload),
        Nack(answeredType: 0x30, answeredSequence: 6, reason: .badPayload),
      ])
    #expect(host.firmware.sessionId == 0x5EED_0001)
  }

  @Test func unknownTypesAndBadPayloadsKeepTheLinkAliveAsANewerHostsProbesDo() {
    var host = TestHost()
    host.connect()
    for i in 0..<40 {
      host.sendRaw(rawFrame(type: 0x7F, sequence: UInt16(i), payload: []))
      host.run(forMs: 100)
    }
    #expect(host.firmware.state == .connected)
    for i in 0..<40 {
      host.sendRaw(rawFrame(type: 0x01, sequence: UInt16(i), payload: [1, 0, 0, 0, 0]))
      host.run(forMs: 100)
    }
    #expect(host.firmware.state == .connected)
  }

  @Test(arguments: [
    ("another version", rawFrame(version: 2, type: 0x03, sequence: 1, payload: Array(repeating: 0, count: 15))),
    ("a device-to-host message", FrameEncoder.encoded(.ack(Ack(answeredType: 0x30, answeredSequence: 1)), sequence: 1)),
    ("noise", [0x05, 0x17, 0x99, 0x42, 0x13, 0x77, 0x00]),
  ])
  func otherFramesDoNotKeepTheLinkAlive(kind: String, frame: [UInt8]) {
    var host = TestHost()
    host.connect()
    for _ in 0..<40 {
      host.sendRaw([0] + frame)
      host.run(forMs: 100)
    }
    #expect(host.firmware.state == .waiting, "\(kind)")
    // Nothing was answered except what the rules say: at most a NACK per second for the version.
    #expect(host.acks.isEmpty)
  }

  @Test func bytesSplitAcrossPollsStillDecode() {
    var host = TestHost()
    host.run(until: 5)
    let frame = [0] + FrameEncoder.encoded(.connect(Connect(sessionId: 77)), sequence: 0)
    for byte in frame {
      host.sendRaw([byte])
      host.poll()
    }
    #expect(host.firmware.sessionId == 77)
    #expect(host.hellos.last?.sessionId == 77)
  }
}
