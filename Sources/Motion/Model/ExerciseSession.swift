import Foundation
import SeededRandom

/// One exercise session of one person: the true steps, and the signals the Step Trainer's
/// distance sensor and the phone's accelerometer see, as functions of time.
///
/// The model: at each step the foot swings toward the sensor and back (a raised-cosine dip in
/// distance, deepest at contact), and the body takes an impulse at contact (a sharp vertical
/// pulse with a smaller rebound). On top of that, slow sway and gravity; the phone sees all of
/// it rotated into its own axes, with a slow wobble of its orientation.
public struct ExerciseSession: Sendable {
  public let person: PersonProfile
  /// Length of the session in seconds.
  public let duration: Double
  /// The true steps, in time order.
  public let steps: [StepEvent]
  private let swayPhase: Double
  private let orientation: Rotation
  private let wobbleSine: Double
  private let wobbleCosine: Double

  /// Gravity, m/s² (the standard value phones report).
  public static let gravity = 9.80665
  /// Half the time a step's foot swing takes, in seconds.
  static let swingHalfWidth = 0.35
  /// Width (standard deviation) of the contact impulse, in seconds.
  static let impulseWidth = 0.045

  /// Simulates the steps of a session of `duration` seconds.
  public init(person: PersonProfile, duration: Double, random: inout SplitMix64) {
    self.person = person
    self.duration = duration
    var steps: [StepEvent] = []
    var time = random.uniform(1.0...2.0)
    var foot: Foot = random.chance(0.5) ? .left : .right
    while time < duration - 0.5 {
      steps.append(StepEvent(time: time, foot: foot))
      foot = foot == .left ? .right : .left
      let cadence = person.cadence * max(0.4, 1 - person.fatiguePerMinute * time / 60)
      let interval = max(0.35, (1 / cadence) * (1 + person.irregularity * random.gaussian()))
      time += interval
      if random.chance(person.pauseChance) { time += random.uniform(person.pauseSeconds) }
    }
    self.steps = steps
    swayPhase = random.uniform(0...(2 * Double.pi))
    let wobblePhase = random.uniform(0...(2 * Double.pi))
    wobbleSine = sin(wobblePhase)
    wobbleCosine = cos(wobblePhase)
    let tilt = random.uniform(-0.25...0.25)
    let yaw = random.uniform(0...(2 * Double.pi))
    switch person.placement {
    case .pocket: orientation = Rotation(yaw: yaw, pitch: Double.pi / 2 + tilt, roll: random.uniform(-0.3...0.3))
    case .hand: orientation = Rotation(yaw: yaw, pitch: random.uniform(0.4...0.9), roll: tilt)
    }
  }

  /// Index of the first step that can still influence time `t` (steps are sorted).
  func firstRelevantStep(at t: Double, from hint: Int = 0) -> Int {
    var index = hint
    while index < steps.count, steps[index].time < t - 0.5 { index += 1 }
    return index
  }

  /// Distance from the sensor to the nearer foot at time `t`, in cm, before sensor noise.
  public func footDistance(at t: Double, cursor: inout Int) -> Double {
    cursor = firstRelevantStep(at: t, from: cursor)
    var dip = 0.0
    var index = cursor
    while index < steps.count, steps[index].time < t + Self.swingHalfWidth {
      let offset = abs(t - steps[index].time)
      if offset < Self.swingHalfWidth { dip = max(dip, 0.5 * (1 + cos(Double.pi * offset / Self.swingHalfWidth))) }
      index += 1
    }
    return person.restingDistance - person.stepReach * dip
  }

  /// The acceleration the phone measures at time `t`, in its own axes (m/s², gravity included), before noise.
  public func phoneAcceleration(at t: Double, cursor: inout Int) -> (x: Double, y: Double, z: Double) {
    cursor = firstRelevantStep(at: t, from: cursor)
    var vertical = 0.0
    var index = cursor
    while index < steps.count, steps[index].time < t + 0.5 {
      let offset = t - steps[index].time
      let width = Self.impulseWidth
      vertical += person.impact * exp(-offset * offset / (2 * width * width))
      let rebound = offset - 0.12
      vertical -= 0.35 * person.impact * exp(-rebound * rebound / (8 * width * width))
      index += 1
    }
    let swayAngle = 2 * Double.pi * person.swayFrequency * t + swayPhase
    let (swaySine, swayCosine) = (sin(swayAngle), cos(swayAngle))
    let world = (
      x: person.swayAmplitude * swaySine, y: 0.6 * person.swayAmplitude * swayCosine, z: Self.gravity + vertical
    )
    // The phone's orientation wobbles a few degrees with the sway (sin(a + φ) expanded, to
    // reuse the sway's sine and cosine).
    let wobble = 0.05 * (swaySine * wobbleCosine + swayCosine * wobbleSine)
    return orientation.intoDevice(world, pitchOffset: wobble)
  }
}

/// A rotation from the world frame (z up) into a device frame; the sines and cosines are
/// computed once, since they are needed for every sample.
struct Rotation: Sendable {
  private let yawCosine: Double
  private let yawSine: Double
  private let pitch: Double
  private let pitchCosine: Double
  private let pitchSine: Double
  private let rollCosine: Double
  private let rollSine: Double

  init(yaw: Double, pitch: Double, roll: Double) {
    (yawCosine, yawSine) = (cos(yaw), sin(yaw))
    self.pitch = pitch
    (pitchCosine, pitchSine) = (cos(pitch), sin(pitch))
    (rollCosine, rollSine) = (cos(roll), sin(roll))
  }

  /// The world vector expressed in the device's axes, the pitch changed by a small `pitchOffset`.
  func intoDevice(_ v: (x: Double, y: Double, z: Double), pitchOffset: Double) -> (x: Double, y: Double, z: Double) {
    // Inverse of R = Rz(yaw) · Rx(pitch) · Ry(roll): apply the transposes in reverse order.
    let a = (x: yawCosine * v.x + yawSine * v.y, y: -yawSine * v.x + yawCosine * v.y, z: v.z)
    // cos and sin of pitch + offset, for an offset of a few hundredths of a radian (second order).
    let offsetCosine = 1 - pitchOffset * pitchOffset / 2
    let cp = pitchCosine * offsetCosine - pitchSine * pitchOffset
    let sp = pitchSine * offsetCosine + pitchCosine * pitchOffset
    let b = (x: a.x, y: cp * a.y + sp * a.z, z: -sp * a.y + cp * a.z)
    return (x: rollCosine * b.x - rollSine * b.z, y: b.y, z: rollSine * b.x + rollCosine * b.z)
  }
}
