import StepTrainerProtocol
import StepTrainerSimulator
import Testing

@Suite("Line noise")
struct NoiseTests {
  @Test("garbage bursts come at about the configured rate and a decoder still gets every uncorrupted frame")
  func burstsAndBitFlips() {
    var bench = TestBench(SimulatorOptions(seed: 17, garbageBurstsPerMinute: 60, bitFlipChance: 0.03))
    bench.keepAlive = true
    bench.connect()
    bench.run(until: 600_000, stepMs: 20)
    let counters = bench.device.counters
    // 600 expected in 10 minutes; a Poisson count's standard deviation is about 24.5.
    #expect(abs(counters.noiseBursts - 600) < 100)
    #expect(counters.bitFlips > 0)
    #expect(counters.framesCorrupted >= counters.bitFlips)
    // The link survived: every host frame reached the device, which never timed out.
    #expect(bench.device.counters.linkTimeouts == 0)
    #expect(bench.device.state == .connected)

    // Exactly the frames noise did not touch were decoded, each once.
    let corrupted = Set(bench.device.log.corruptedFrames.map(\.sequence))
    #expect(corrupted.count == counters.framesCorrupted)
    let expected = Set((0..<counters.framesSent).map { UInt16($0) }).subtracting(corrupted)
    let decoded = bench.received.map(\.sequence)
    #expect(Set(decoded) == expected)
    #expect(decoded.count == expected.count)
    #expect(!bench.rejected.isEmpty)

    // Every reading the host got is true; the missing ones are exactly those in corrupted frames.
    let truth = bench.device.log.samples
    let readings = bench.readings
    #expect(readings.allSatisfy { GeneratedSample(reading: $0, bootId: bench.device.bootId) == truth[Int($0.index)] })
    #expect(readings.count < truth.count)
    #expect(readings.count + 1 >= truth.count - counters.framesCorrupted)
  }

  @Test("bursts of bytes without 0x00 cost the frame that follows them, and only that frame")
  func burstsMergeWithNextFrame() {
    var bench = TestBench(SimulatorOptions(seed: 2, garbageBurstsPerMinute: 600))
    // In a session: readings follow each other without a 0x00 between them (HELLOs have one).
    bench.keepAlive = true
    bench.connect()
    bench.run(until: 60_000)
    let counters = bench.device.counters
    // 600 expected in a minute (standard deviation about 24.5).
    #expect(abs(counters.noiseBursts - 600) < 100)
    #expect(counters.bitFlips == 0)
    #expect(counters.framesCorrupted > 0)
    #expect(bench.received.count == counters.framesSent - counters.framesCorrupted)
  }

  @Test("no noise options, no noise")
  func quiet() {
    var bench = TestBench()
    bench.keepAlive = true
    bench.connect()
    bench.run(until: 60_000)
    #expect(bench.rejected.isEmpty)
    #expect(bench.device.counters.noiseBursts == 0)
    #expect(bench.device.counters.framesCorrupted == 0)
    #expect(bench.received.count == bench.device.counters.framesSent)
  }
}
