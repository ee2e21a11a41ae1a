import StepTrainerProtocol
import StepTrainerSimulator
import Testing

@Suite("Unknown types, other versions, bad payloads")
struct RequestTests {
  @Test("a frame of an unknown type is answered NACK unknownType naming its type and sequence, in any state")
  func unknownType() {
    var bench = TestBench()
    bench.run(until: 100)
    bench.sendRaw([0] + rawFrame(type: 0x7E, sequence: 0x1234, payload: [1, 2, 3]))
    #expect(bench.nacks == [Nack(answeredType: 0x7E, answeredSequence: 0x1234, reason: .unknownType)])
    bench.connect()
    bench.sendRaw(rawFrame(type: 0xF0, sequence: 7))
    #expect(bench.nacks.last == Nack(answeredType: 0xF0, answeredSequence: 7, reason: .unknownType))
    #expect(bench.device.state == .connected)
    #expect(bench.device.counters.nacksSent == 2)
  }

  @Test("frames of another version get at most one NACK unsupportedVersion per second")
  func otherVersion() {
    var bench = TestBench()
    bench.run(until: 100)
    for i in 0..<20 {
      bench.sendRaw(rawFrame(version: 2, type: 0x01, sequence: UInt16(i), payload: [2, 1, 0, 0, 0]))
      bench.run(until: bench.now + 100)
    }
    // Sent every 100 ms from 100 to 2000 ms: only those at 100 and 1100 ms are answered.
    #expect(
      bench.nacks == [
        Nack(answeredType: 0x01, answeredSequence: 0, reason: .unsupportedVersion),
        Nack(answeredType: 0x01, answeredSequence: 10, reason: .unsupportedVersion),
      ])
    #expect(bench.device.decoderCounters[.version] == 20)
    // The NACKs themselves are version 1 (the host's decoder took them) and the device is still waiting.
    #expect(bench.device.state == .waiting)
    #expect(bench.rejected.isEmpty)
  }

  @Test("a well-formed frame whose payload breaks a rule gets NACK badPayload; noise gets nothing")
  func badPayloadAndNoise() {
    var bench = TestBench()
    bench.run(until: 100)
    // CONNECT with session id 0 is rejected by the decoder (payload) but its CRC matched.
    let sequence = bench.send(.connect(Connect(sessionId: 0)))
    #expect(bench.nacks == [Nack(answeredType: 0x01, answeredSequence: sequence, reason: .badPayload)])
    #expect(bench.device.state == .waiting)
    bench.sendRaw([0x05, 0x17, 0x99, 0x00, 0xFF, 0xFF, 0xFF, 0x00, 0x42, 0x00])
    #expect(bench.nacks.count == 1)
    #expect(bench.device.counters.framesRejected == 4)
  }

  @Test("frames split at any byte are still understood")
  func splitFrames() {
    var bench = TestBench()
    bench.run(until: 100)
    var encoder = FrameEncoder()
    let bytes =
      [0] + encoder.encoded(.connect(Connect(sessionId: 99)))
      + encoder.encoded(.timeSyncRequest(TimeSyncRequest(t1: 5)))
    for byte in bytes { bench.sendRaw([byte]) }
    #expect(bench.device.sessionId == 99)
    #expect(bench.received.contains { if case .timeSyncResponse(let r) = $0.message { r.t1 == 5 } else { false } })
  }
}
