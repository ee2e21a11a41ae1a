import SeededRandom
import StepTrainerProtocol

/// The device's HC-SR04-style sensor: the true foot distance plus a few millimetres of jitter, occasional missing
/// echoes and stray out-of-range echoes, each reported with its status.
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

  /// A measurement at `ms` (simulator time, never decreasing): the distance field and its status.
  mutating func measure(atMs ms: UInt64) -> (distanceMm: UInt16, status: ReadingStatus) {
    let range = SimulatorOptions.distanceRangeMm
    let trueMm = timeline.footDistanceCm(atMs: ms) * 10
    // Every draw is made for every sample, so one sample's outcome never shifts the next one's noise.
    let jitter = random.gaussian(deviation: jitterMm)
    let roll = random.unit()
    let pick = random.next()
    if roll < noEchoChance {
      // Firmwares report a lost echo as 0 or as the range's end (the echo timer ran out).
      return (pick & 1 == 0 ? 0 : range.upperBound, .noEcho)
    }
    if roll < noEchoChance + outOfRangeChance {
      // A stray echo: inside the blind zone in front of the transducers, or a far reflection beyond the range.
      let raw = pick & 1 == 0 ? 2 + (pick >> 1) % 18 : 4001 + (pick >> 1) % 2500
      return (UInt16(raw), .outOfRange)
    }
    let measured = (trueMm + jitter).rounded()
    guard measured >= Double(range.lowerBound), measured <= Double(range.upperBound) else {
      return (UInt16(max(0, min(Double(UInt16.max), measured))), .outOfRange)
    }
    return (UInt16(measured), .ok)
  }
}
