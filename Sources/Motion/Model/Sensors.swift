import SeededRandom

/// The Step Trainer's ultrasonic distance sensor: a reading every 1/rate s, with noise, dropouts
/// (no echo) and a limited range; readings are whole centimetres, as the device reports them.
public struct DistanceSensor: Sendable, Equatable {
  /// Readings per second (the device manages up to about 16).
  public var rate: Double
  /// Standard deviation of the measurement noise, cm.
  public var noise: Double
  /// Chance that a reading gets no echo and is not reported.
  public var dropoutChance: Double
  /// What the sensor can measure, cm; outside it there is no reading.
  public var range: ClosedRange<Double>

  public init(rate: Double, noise: Double = 0.8, dropoutChance: Double = 0.02, range: ClosedRange<Double> = 2...400) {
    self.rate = rate
    self.noise = noise
    self.dropoutChance = dropoutChance
    self.range = range
  }

  public static func random(using random: inout SplitMix64) -> DistanceSensor {
    DistanceSensor(rate: random.uniform(8...16))
  }

  /// Calls `reading` with each reported (seconds since start, distance in cm), in time order.
  public func forEachReading(
    of session: ExerciseSession, random: inout SplitMix64, _ reading: (Double, Double) -> Void
  ) {
    var cursor = 0
    var t = 1 / rate
    while t < session.duration {
      let distance = (session.footDistance(at: t, cursor: &cursor) + random.gaussian(deviation: noise)).rounded()
      if !random.chance(dropoutChance), range.contains(distance) { reading(t, distance) }
      t += 1 / rate
    }
  }
}

/// A phone's accelerometer: samples at the phone's rate with timing jitter, occasional gaps and
/// noise, in the device's axes, m/s², gravity included.
public struct PhoneAccelerometer: Sendable, Equatable {
  /// Samples per second (phones offer 50-200 Hz).
  public var rate: Double
  /// Standard deviation of the sampling time, as a fraction of the period.
  public var jitter: Double
  /// Chance per second of a gap in the stream, and how long gaps last.
  public var gapChancePerSecond: Double
  public var gapSeconds: ClosedRange<Double>
  /// Standard deviation of the measurement noise per axis, m/s².
  public var noise: Double
  /// The phone's clock minus the Step Trainer's, in milliseconds.
  public var clockOffset: Int64

  public init(
    rate: Double, jitter: Double = 0.1, gapChancePerSecond: Double = 0.01, gapSeconds: ClosedRange<Double> = 0.2...1.0,
    noise: Double = 0.03, clockOffset: Int64 = 0
  ) {
    self.rate = rate
    self.jitter = jitter
    self.gapChancePerSecond = gapChancePerSecond
    self.gapSeconds = gapSeconds
    self.noise = noise
    self.clockOffset = clockOffset
  }

  public static func random(using random: inout SplitMix64) -> PhoneAccelerometer {
    PhoneAccelerometer(
      rate: [50.0, 60, 100, 200][Int(random.next() % 4)],
      clockOffset: Int64(random.uniform(-2000...2000)))
  }

  /// Calls `sample` with each (true seconds since start, x, y, z), in time order.
  public func forEachSample(
    of session: ExerciseSession, random: inout SplitMix64, _ sample: (Double, Double, Double, Double) -> Void
  ) {
    let period = 1 / rate
    let gapChance = gapChancePerSecond * period
    var cursor = 0
    var tick = period
    var lastTime = -Double.infinity
    while tick < session.duration {
      if random.chance(gapChance) {
        tick += random.uniform(gapSeconds)
        continue
      }
      // Jitter moves a sample but never before the previous one.
      let t = max(lastTime + period * 0.1, tick + period * jitter * random.gaussian())
      lastTime = t
      let a = session.phoneAcceleration(at: t, cursor: &cursor)
      sample(
        t, a.x + random.gaussian(deviation: noise), a.y + random.gaussian(deviation: noise),
        a.z + random.gaussian(deviation: noise))
      tick += period
    }
  }

  /// The samples of a session as the phone records them: epoch ms on the phone's own clock.
  public func recording(of session: ExerciseSession, startingAt start: Int64, random: inout SplitMix64) -> [PhoneSample]
  {
    var samples: [PhoneSample] = []
    forEachSample(of: session, random: &random) { t, x, y, z in
      samples.append(PhoneSample(timestamp: start + clockOffset + Int64((t * 1000).rounded()), x: x, y: y, z: z))
    }
    return samples
  }
}

/// The STEDI app's quantised output: each axis in units of g, rounded to -1, 0 or 1, as in the
/// public STEDI data.
public func quantised(_ value: Double) -> Double {
  max(-1, min(1, (value / ExerciseSession.gravity).rounded()))
}
