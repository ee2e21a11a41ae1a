import SeededRandom
import StepTrainerFirmware
import StepTrainerProtocol

/// The device's HC-SR04-style sensor: the echoes of the true foot distance with a few millimetres of
/// jitter each, occasionally no echo at all, or a stray echo from outside the sensor's range.
///
/// It gives echo round trips, as the hardware does; the firmware turns each sample's three into a
/// distance and a status (`DistanceSample.median`), so the simulator's readings are the firmware's.
struct UltrasonicSensor {
  private var random: SplitMix64
  private var timeline: ExerciseTimeline
  private let jitterMm: Double
  private let noEchoChance: Double
  private let outOfRangeChance: Double

  /// A sensor watching a person drawn from `motion`, with noise drawn from `noise`.
  init(options: SimulatorOptions, motion: SplitMix64, noise: SplitMix64) {
    random = noise
    timeline = ExerciseTimeline(random: motion)
    jitterMm = options.jitterMm
    noEchoChance = options.noEchoChance
    outOfRangeChance = options.outOfRangeChance
  }

  /// The three echo round trips (µs, nil: none came back) of one sample at `ms` (simulator time,
  /// never decreasing). `noEchoChance` and `outOfRangeChance` are per sample: a lost or stray
  /// echo affects all three, so the median keeps it and the sample carries that status.
  mutating func echoes(atMs ms: UInt64) -> [UInt32?] {
    let trueMm = timeline.footDistanceCm(atMs: ms) * 10
    // Every draw is made for every sample, so one sample's outcome never shifts the next one's noise.
    let jitters = (0..<3).map { _ in random.gaussian(deviation: jitterMm) }
    let roll = random.unit()
    let pick = random.next()
    if roll < noEchoChance { return [nil, nil, nil] }
    if roll < noEchoChance + outOfRangeChance {
      // A stray echo: inside the blind zone in front of the transducers, or a far reflection beyond the range.
      let strayMm =
        pick & 1 == 0
        ? 2 + Double((pick >> 1) % UInt64(DistanceSample.minDistanceMm - 2))
        : Double(DistanceSample.maxDistanceMm) + 1 + Double((pick >> 1) % 2500)
      let echo = Self.echoMicroseconds(millimetres: strayMm)
      return [echo, echo, echo]
    }
    return jitters.map { Self.echoMicroseconds(millimetres: (trueMm + $0).rounded()) }
  }

  /// The round trip of sound (343 m/s) to an object `millimetres` away and back, rounded so the
  /// firmware's conversion gives the distance back exactly.
  static func echoMicroseconds(millimetres: Double) -> UInt32 {
    UInt32((max(0, millimetres) * 2000 / 343).rounded())
  }
}
