import SeededRandom
import Testing

@testable import Motion

/// The emulated phone signal carries the steps: the reference counter finds them.
@Suite struct StepCounterTests {
  /// Stated tolerance: within 10% (or 2 steps, for short sessions) of the true count, for every person.
  @Test(arguments: 0..<40)
  func countsTheTrueStepsWithinTolerance(seed: UInt64) {
    var random = SplitMix64(seed: seed)
    let person = PersonProfile.random(using: &random)
    let session = ExerciseSession(person: person, duration: 90, random: &random)
    let phone = PhoneAccelerometer.random(using: &random)
    let samples = phone.recording(of: session, startingAt: 1_700_000_000_000, random: &random)
    let counted = StepCounter().steps(in: samples).count
    let truth = session.steps.count
    #expect(truth > 30, "a 90 s session has steps")
    #expect(abs(counted - truth) <= max(2, truth / 10), "counted \(counted) of \(truth) steps for \(person)")
  }

  @Test func detectedStepsLineUpWithTrueContacts() {
    var random = SplitMix64(seed: 99)
    let session = ExerciseSession(person: .random(using: &random), duration: 60, random: &random)
    let phone = PhoneAccelerometer(rate: 100, gapChancePerSecond: 0, clockOffset: 0)
    let samples = phone.recording(of: session, startingAt: 0, random: &random)
    let detected = StepCounter().steps(in: samples)
    for step in session.steps {
      let contact = Int64(step.time * 1000)
      #expect(detected.contains { abs($0 - contact) <= 60 }, "no detection near the step at \(contact) ms")
    }
  }

  @Test func standingStillHasNoSteps() {
    var random = SplitMix64(seed: 5)
    var person = PersonProfile.random(using: &random)
    person.cadence = 0.0001  // one step in the first seconds, then none
    let session = ExerciseSession(person: person, duration: 30, random: &random)
    let samples = PhoneAccelerometer(rate: 100).recording(of: session, startingAt: 0, random: &random)
    #expect(StepCounter().steps(in: samples).count == session.steps.count)
  }
}
