import SeededRandom

/// How one person does the STEDI step exercise: varies from person to person.
public struct PersonProfile: Sendable, Equatable {
  /// Steps per second at the start of a session. Balance-test stepping is slower and less
  /// regular than free walking (1.5-2.2 steps/s).
  public var cadence: Double
  /// Relative standard deviation of the time between steps.
  public var irregularity: Double
  /// Relative slow-down of the cadence per minute of exercise.
  public var fatiguePerMinute: Double
  /// Chance, at each step, of stopping for a moment before the next.
  public var pauseChance: Double
  /// How long such a pause lasts, in seconds.
  public var pauseSeconds: ClosedRange<Double>
  /// How far the foot travels toward the sensor at each step, in cm.
  public var stepReach: Double
  /// Distance from the sensor to the foot at rest, in cm.
  public var restingDistance: Double
  /// Peak vertical acceleration of the body at foot contact, in m/s².
  public var impact: Double
  /// Amplitude (m/s²) and frequency (Hz) of the body's sway.
  public var swayAmplitude: Double
  public var swayFrequency: Double
  /// Where the phone is carried, which sets its orientation.
  public var placement: PhonePlacement

  /// A person drawn from the ranges above.
  public static func random(using random: inout SplitMix64) -> PersonProfile {
    PersonProfile(
      cadence: random.uniform(0.7...1.6),
      irregularity: random.uniform(0.05...0.2),
      fatiguePerMinute: random.uniform(0...0.06),
      pauseChance: random.uniform(0.01...0.05),
      pauseSeconds: 1.0...3.5,
      stepReach: random.uniform(15...40),
      restingDistance: random.uniform(45...120),
      impact: random.uniform(2.0...4.5),
      swayAmplitude: random.uniform(0.05...0.3),
      swayFrequency: random.uniform(0.2...0.5),
      placement: random.chance(0.6) ? .pocket : .hand)
  }
}

/// Where the phone is while the person exercises.
public enum PhonePlacement: String, Sendable, Equatable {
  /// Upright in a trouser pocket: the device's y axis points roughly up.
  case pocket
  /// Held in front, screen up and tilted: the device's z axis points roughly up.
  case hand
}

/// One true step: when the foot touched down (closest to the sensor) and which foot.
public struct StepEvent: Sendable, Equatable {
  /// Seconds since the session started.
  public var time: Double
  public var foot: Foot

  public init(time: Double, foot: Foot) {
    self.time = time
    self.foot = foot
  }
}

public enum Foot: String, Sendable, Equatable {
  case left
  case right
}
