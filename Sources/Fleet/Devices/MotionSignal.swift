import Motion
import SeededRandom

/// One customer's exercise as their devices sense it, from the motion model: back-to-back
/// sessions of one person, so a customer's Step Trainer and phone (built from the same seed)
/// see the same steps at the same instants.
struct MotionSignal: Sendable {
  private var random: SplitMix64
  private let person: PersonProfile
  private let sessionSeconds: Double
  private var session: ExerciseSession
  private var sessionStart = 0.0
  private var cursor = 0
  private var noise: SplitMix64

  init(seed: UInt64, sessionSeconds: Double) {
    random = SplitMix64(seed: seed)
    person = PersonProfile.random(using: &random)
    self.sessionSeconds = sessionSeconds
    session = ExerciseSession(person: person, duration: sessionSeconds, random: &random)
    noise = SplitMix64(seed: seed ^ 0x9E37_79B9_7F4A_7C15)
  }

  /// Starts a new session at `seconds` (a device that rebooted begins again).
  mutating func restart(at seconds: Double) {
    session = ExerciseSession(person: person, duration: sessionSeconds, random: &random)
    sessionStart = seconds
    cursor = 0
  }

  private mutating func local(_ seconds: Double) -> Double {
    // Sessions follow one another; time only moves forward for a device.
    while seconds - sessionStart >= sessionSeconds { restart(at: sessionStart + sessionSeconds) }
    return max(0, seconds - sessionStart)
  }

  /// The Step Trainer's distance to the foot in cm at `seconds` since the device started, to 0.1 cm.
  mutating func distance(at seconds: Double) -> Double {
    let t = local(seconds)
    let jitter = Double(Int64(noise.next() % 17) - 8) / 10
    return ((session.footDistance(at: t, cursor: &cursor) + jitter) * 10).rounded() / 10
  }

  /// The phone's acceleration in m/s² (gravity included) at `seconds`, to 0.001.
  mutating func acceleration(at seconds: Double) -> (x: Double, y: Double, z: Double) {
    let t = local(seconds)
    let value = session.phoneAcceleration(at: t, cursor: &cursor)
    func rounded(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
    return (rounded(value.x), rounded(value.y), rounded(value.z))
  }
}
