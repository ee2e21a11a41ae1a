import SeededRandom
import Testing

@testable import Motion

/// The generator's records: realistic ranges, deterministic, flaws where the manifest says.
@Suite struct DatasetGeneratorTests {
  /// Keeps everything the generator emits.
  struct CollectingSink: DatasetSink {
    var customers: [GeneratedCustomer] = []
    var readings: [(user: String, timestamp: Int64, x: Double, y: Double, z: Double)] = []
    var steps: [(serial: String, time: Int64, distance: Double)] = []
    var events: [(user: String, timestamp: Int64, foot: Foot)] = []
    var malformed: [(DatasetTable, [UInt8], Bool)] = []

    mutating func customer(_ customer: GeneratedCustomer) { customers.append(customer) }
    mutating func accelerometer(user: String, timestamp: Int64, x: Double, y: Double, z: Double) {
      readings.append((user, timestamp, x, y, z))
    }
    mutating func stepTrainer(serialNumber: String, sensorReadingTime: Int64, distanceFromObject: Double) {
      steps.append((serialNumber, sensorReadingTime, distanceFromObject))
    }
    mutating func stepEvent(user: String, serialNumber: String, timestamp: Int64, foot: Foot) {
      events.append((user, timestamp, foot))
    }
    mutating func malformed(_ table: DatasetTable, line: [UInt8], last: Bool) { malformed.append((table, line, last)) }
  }

  func generate(_ generator: DatasetGenerator, batch: Int = 0) -> (CollectingSink, GenerationManifest) {
    var sink = CollectingSink()
    let manifest = generator.generate(batch: batch, into: &sink)
    return (sink, manifest)
  }

  func small(seed: UInt64 = 1, flaws: Set<DatasetFlaw> = [], quantised: Bool = false) -> DatasetGenerator {
    var generator = DatasetGenerator(customers: 30, days: 2, seed: seed, flaws: flaws, quantised: quantised)
    generator.sessionSeconds = 10...30
    return generator
  }

  @Test func readingsAreInTheSensorsRanges() {
    let (sink, _) = generate(small())
    #expect(sink.customers.count == 30)
    #expect(!sink.steps.isEmpty && !sink.readings.isEmpty)
    for step in sink.steps { #expect((2...400).contains(step.distance) && step.distance == step.distance.rounded()) }
    // Gravity is in the signal: magnitudes cluster around 9.8 m/s².
    let magnitudes = sink.readings.map { ($0.x * $0.x + $0.y * $0.y + $0.z * $0.z).squareRoot() }
    let mean = magnitudes.reduce(0, +) / Double(magnitudes.count)
    #expect(abs(mean - 9.8) < 0.6, "mean |a| \(mean)")
    // Every phone reading carries the time of one of its customer's Step Trainer readings.
    let stepTimes = Set(sink.steps.map(\.time))
    #expect(sink.readings.allSatisfy { stepTimes.contains($0.timestamp) })
    // Several phone readings share a timestamp, as in the public data.
    #expect(Set(sink.readings.map(\.timestamp)).count < sink.readings.count / 2)
  }

  @Test func quantisedOutputIsMinusOneZeroOrOne() {
    let (sink, _) = generate(small(quantised: true))
    #expect(sink.readings.allSatisfy { [$0.x, $0.y, $0.z].allSatisfy { [-1.0, 0.0, 1.0].contains($0) } })
    #expect(quantised(9.7) == 1 && quantised(-12) == -1 && quantised(3.1) == 0)
  }

  @Test func stepEventsAlternateFeetAndFollowTheCadence() {
    let (sink, _) = generate(small())
    let byUser = Dictionary(grouping: sink.events, by: \.user)
    for (_, events) in byUser {
      for (previous, next) in zip(events, events.dropFirst()) where next.timestamp - previous.timestamp < 10_000 {
        #expect(previous.foot != next.foot)
        #expect(next.timestamp - previous.timestamp >= 350)
      }
    }
  }

  @Test func sameSeedSameRecordsOtherSeedOtherRecords() {
    let first = generate(small(seed: 4)).0
    let again = generate(small(seed: 4)).0
    let other = generate(small(seed: 5)).0
    #expect(first.customers == again.customers)
    #expect(first.readings.map(\.timestamp) == again.readings.map(\.timestamp))
    #expect(first.readings.map(\.x) == again.readings.map(\.x))
    #expect(first.customers != other.customers)
  }

  @Test func customersAreIndependentOfEachOther() {
    // Streams of neighbouring customers must not be shifted copies of each other.
    let (sink, _) = generate(small(seed: 9))
    let serials = sink.customers.map(\.serialNumber)
    for (a, b) in zip(serials, serials.dropFirst()) {
      let shared = Set(a.split(separator: "-")).intersection(Set(b.split(separator: "-")))
      #expect(shared.isEmpty, "\(a) and \(b)")
    }
  }

  @Test func withoutFlawsThereIsNothingToQuarantineOrWithdraw() {
    let (sink, manifest) = generate(small())
    #expect(sink.malformed.isEmpty)
    #expect(manifest.withdrawals == 0 && manifest.duplicateEmailRecords == 0 && manifest.lateConsents == 0)
    #expect(Set(sink.customers.map(\.email)).count == sink.customers.count)
    #expect(manifest.readingsBeforeConsent.isEmpty)
  }

  @Test func flawsAppearAsTheManifestCountsThem() {
    var generator = small(seed: 2, flaws: Set(DatasetFlaw.allCases))
    generator.customers = 200
    generator.batchSize = 200
    let (sink, manifest) = generate(generator)
    let emails = sink.customers.map(\.email)
    #expect(emails.count - Set(emails).count == manifest.duplicateEmailRecords + manifest.withdrawals)
    #expect(manifest.withdrawals > 0 && manifest.duplicateEmailRecords > 0 && manifest.lateConsents > 0)
    let serialHolders = Dictionary(
      grouping: Set(sink.customers.map { "\($0.email) \($0.serialNumber)" }), by: { $0.split(separator: " ")[1] })
    #expect(serialHolders.values.filter { $0.count > 1 }.count == generator.manifestHeader().reusedSerials)
    #expect(sink.malformed.filter(\.2).count == 1, "one cut last line")
    // Six kinds of bad line per table and a cut last line; the re-delivered copy of batch 0
    // carries the accelerometer and step-trainer ones a second time.
    #expect(sink.malformed.count == 19)
    #expect(generator.isRedelivered(batch: 0))
    #expect(manifest.malformed["customer"]?.values.reduce(0, +) == 6)
    #expect(manifest.malformed["accelerometer"]?.values.reduce(0, +) == 14)
    #expect(manifest.malformed["step_trainer"]?.values.reduce(0, +) == 12)
  }

  @Test func phoneClockOffsetShowsInARawRecording() {
    var random = SplitMix64(seed: 1)
    let session = ExerciseSession(person: .random(using: &random), duration: 5, random: &random)
    let phone = PhoneAccelerometer(rate: 100, jitter: 0, gapChancePerSecond: 0, clockOffset: 1500)
    let shifted = phone.recording(of: session, startingAt: 0, random: &random)
    #expect(shifted.first!.timestamp == 1500 + 10, "first sample one period in, on the phone's clock")
    #expect(abs(Double(shifted.count) - 5 * 100) <= 2)
  }
}
