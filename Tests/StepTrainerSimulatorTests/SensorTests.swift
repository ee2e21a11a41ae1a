import StepTrainerProtocol
import StepTrainerSimulator
import Testing

@Suite("The sensor's samples and determinism")
struct SensorTests {
  /// Ten simulated minutes of samples, taken while waiting (the buffer keeps the newest; the log keeps all).
  static func samples(_ options: SimulatorOptions) -> [GeneratedSample] {
    var device = SimulatedStepTrainer(options: options)
    _ = device.advance(toMs: 600_000)
    return device.log.samples
  }

  @Test("ok samples lie in the sensor's range; no-echo and out-of-range samples carry their statuses")
  func statuses() {
    let samples = Self.samples(SimulatorOptions(seed: 3, noEchoChance: 0.05, outOfRangeChance: 0.05))
    #expect(samples.count == 6000)
    let ok = samples.filter { $0.status == .ok }
    let noEcho = samples.filter { $0.status == .noEcho }
    let outOfRange = samples.filter { $0.status == .outOfRange }
    #expect(ok.count + noEcho.count + outOfRange.count == samples.count)
    #expect(ok.allSatisfy { (20...4000).contains($0.distanceMm) })
    // The firmware reports a lost echo as distance 0 (PROTOCOL.md 5.4), never a made-up distance.
    #expect(noEcho.allSatisfy { $0.distanceMm == 0 })
    #expect(outOfRange.allSatisfy { !(20...4000).contains($0.distanceMm) })
    // About 5% each (binomial, n = 6000: 4 standard deviations is about 1.1%).
    #expect(abs(Double(noEcho.count) / 6000 - 0.05) < 0.012)
    #expect(abs(Double(outOfRange.count) / 6000 - 0.05) < 0.012)
  }

  @Test("the distances show a person stepping: a resting distance and dips of several centimetres")
  func stepping() {
    let ok = Self.samples(SimulatorOptions(seed: 11)).filter { $0.status == .ok }.map { Int($0.distanceMm) }
    let sorted = ok.sorted()
    let low = sorted[sorted.count / 50]
    let high = sorted[sorted.count * 49 / 50]
    // A person stands 45-120 cm away and reaches 15-40 cm toward the sensor.
    #expect((400...1250).contains(high))
    #expect(high - low >= 100)
    // Jitter of a few mm: consecutive samples while resting differ little, never by metres.
    let jumps = zip(ok, ok.dropFirst()).map { abs($0 - $1) }
    #expect(jumps.filter { $0 <= 10 }.count > jumps.count / 4)
    #expect(jumps.max()! < 500)
  }

  @Test("the same seed gives the same bytes; another seed does not")
  func sameSeedSameBytes() {
    func transcript(seed: UInt64) -> [UInt8] {
      var bench = TestBench(SimulatorOptions(seed: seed, garbageBurstsPerMinute: 20, bitFlipChance: 0.02))
      bench.run(until: 3000)
      bench.keepAlive = true
      bench.connect()
      bench.run(until: 20_000, stepMs: 13)
      bench.send(.configure(Configure(sampleRateCentihertz: 1600, batchSize: 4)))
      bench.run(until: 40_000, stepMs: 13)
      bench.device.restart(atMs: 40_000)
      bench.run(until: 45_000)
      return bench.wire
    }
    let first = transcript(seed: 42)
    #expect(first.count > 10_000)
    #expect(first == transcript(seed: 42))
    #expect(first != transcript(seed: 43))
  }

  @Test("how often the device is advanced does not change what it sends")
  func stepIndependence() {
    func transcript(stepMs: UInt64) -> [UInt8] {
      var device = SimulatedStepTrainer(options: SimulatorOptions(seed: 5, batchSize: 3, garbageBurstsPerMinute: 30))
      var wire: [UInt8] = []
      var now: UInt64 = 0
      while now < 30_000 {
        now += stepMs
        wire += device.advance(toMs: now)
      }
      return wire
    }
    #expect(transcript(stepMs: 1) == transcript(stepMs: 250))
  }

  @Test("turning line noise on does not change the samples")
  func noiseLeavesTruthAlone() {
    let quiet = Self.samples(SimulatorOptions(seed: 8))
    let noisy = Self.samples(SimulatorOptions(seed: 8, garbageBurstsPerMinute: 100, bitFlipChance: 0.5))
    #expect(quiet == noisy)
  }
}
