import Motion
import SeededRandom

/// One person on the Step Trainer for as long as the simulator runs: exercise sessions of 30 to 120 s with short
/// rests between them, each from the Motion model, giving the true foot distance at any time.
struct ExerciseTimeline {
  /// The person exercising, drawn from the seed.
  let person: PersonProfile
  private var random: SplitMix64
  private var session: ExerciseSession?
  private var sessionStartMs: UInt64 = 0
  private var sessionEndMs: UInt64 = 0
  private var nextSessionStartMs: UInt64
  private var cursor = 0

  /// Session lengths, seconds.
  static let sessionSeconds = 30.0...120.0
  /// Rests between sessions, seconds (stepping off, catching breath).
  static let restSeconds = 4.0...15.0

  /// A timeline starting at simulator time 0, with the person stepping on within a few seconds.
  init(random: SplitMix64) {
    self.random = random
    person = PersonProfile.random(using: &self.random)
    nextSessionStartMs = UInt64(self.random.uniform(1.0...4.0) * 1000)
  }

  /// The distance from the sensor to the nearer foot at `ms` (simulator time, never decreasing), in cm.
  mutating func footDistanceCm(atMs ms: UInt64) -> Double {
    if session != nil, ms >= sessionEndMs {
      session = nil
      nextSessionStartMs = sessionEndMs + UInt64(random.uniform(Self.restSeconds) * 1000)
    }
    if session == nil, ms >= nextSessionStartMs {
      let duration = random.uniform(Self.sessionSeconds)
      session = ExerciseSession(person: person, duration: duration, random: &random)
      sessionStartMs = nextSessionStartMs
      sessionEndMs = sessionStartMs + UInt64(duration * 1000)
      cursor = 0
    }
    guard let session, ms >= sessionStartMs else {
      // Resting: standing still in front of the sensor.
      return person.restingDistance
    }
    return session.footDistance(at: Double(ms - sessionStartMs) / 1000, cursor: &cursor)
  }
}
