import Foundation
import SeededRandom

/// Generates whole STEDI landing zones from the motion model, deterministically from a seed.
///
/// Customers are generated in batches; every customer draws from a random stream of its own
/// (derived from the seed and its number), so a batch can be generated on any core, in any
/// order, and still give the same bytes. Memory stays flat: records go straight to the sink.
public struct DatasetGenerator: Sendable {
  public var customers: Int
  public var days: Int
  public var seed: UInt64
  public var flaws: Set<DatasetFlaw>
  /// Writes x, y, z as the STEDI app does (-1, 0 or 1 in units of g) instead of m/s².
  public var quantised: Bool
  public var batchSize = 50
  /// Sessions per customer and day, and their length in seconds.
  public var sessionsPerDay: ClosedRange<Int> = 1...2
  public var sessionSeconds: ClosedRange<Double> = 30...90
  /// The first registration, epoch ms (2022-06-18, as in the public data).
  public var start: Int64 = 1_655_510_400_000

  public init(
    customers: Int, days: Int = 1, seed: UInt64 = 1, flaws: Set<DatasetFlaw> = Set(DatasetFlaw.allCases),
    quantised: Bool = false
  ) {
    self.customers = customers
    self.days = days
    self.seed = seed
    self.flaws = flaws
    self.quantised = quantised
  }

  public var batchCount: Int { (customers + batchSize - 1) / batchSize }

  /// An empty manifest with this generator's settings.
  public func manifestHeader() -> GenerationManifest {
    var manifest = GenerationManifest(
      seed: seed, customers: customers, days: days, quantised: quantised,
      flaws: DatasetFlaw.allCases.filter(flaws.contains).map(\.rawValue))
    manifest.reusedSerials = flaws.contains(.reusedSerials) ? reusedSerialPool.count : 0
    return manifest
  }

  /// Whether the landing files of `batch` are to be delivered twice.
  public func isRedelivered(batch: Int) -> Bool {
    flaws.contains(.redeliveredBatches) && batch % 8 == 0
  }

  /// Epoch ms that names the files of `batch` (the moment the batch was "delivered").
  public func deliveryTime(batch: Int) -> Int64 { start + Int64(days) * 86_400_000 + Int64(batch) * 1000 }

  /// Generates the customers of one batch into `sink` and returns the batch's manifest counts.
  public func generate<Sink: DatasetSink>(batch: Int, into sink: inout Sink) -> GenerationManifest {
    var manifest = GenerationManifest(seed: seed, customers: 0, days: days, quantised: quantised, flaws: [])
    let range = (batch * batchSize)..<min(customers, (batch + 1) * batchSize)
    var counter = CountingSink(inner: sink)
    for index in range { generateCustomer(index, into: &counter, manifest: &manifest) }
    if flaws.contains(.malformedLines) { writeMalformedLines(batch: batch, into: &counter, manifest: &manifest) }
    sink = counter.inner
    for table in DatasetTable.allCases { manifest.rows[table.rawValue, default: 0] += counter.rows[table] ?? 0 }
    if isRedelivered(batch: batch) {
      manifest.redeliveredFiles += 2
      for table in [DatasetTable.accelerometer, .stepTrainer] {
        manifest.redeliveredRows[table.rawValue, default: 0] += counter.rows[table] ?? 0
        manifest.rows[table.rawValue, default: 0] += counter.rows[table] ?? 0
        // The copy carries the batch's malformed lines too.
        for (reason, count) in manifest.malformed[table.rawValue] ?? [:] {
          manifest.malformed[table.rawValue]![reason]! += count
        }
      }
    }
    manifest.customers = range.count
    return manifest
  }

  // MARK: Customers

  private var reusedSerialPool: [String] {
    var random = SplitMix64(seed: seed ^ 0x5E71_A1DE_FEC7)
    return (0..<min(30, max(1, customers / 40))).map { _ in Self.uuid(&random) }
  }

  private func generateCustomer<Sink: DatasetSink>(
    _ index: Int, into sink: inout Sink, manifest: inout GenerationManifest
  ) {
    var random = SplitMix64(stream: index, of: seed)
    let first = Names.first[Int(random.next() % UInt64(Names.first.count))]
    let last = Names.last[Int(random.next() % UInt64(Names.last.count))]
    let email = "\(first).\(last).\(index)@test.com"
    var serial = Self.uuid(&random)
    if flaws.contains(.reusedSerials), index % 20 == 7 {
      // One customer in twenty gets a defective serial; the pool is small enough that each is
      // handed out several times (once there are 40 customers or more).
      let pool = reusedSerialPool
      serial = pool[(index / 20) % pool.count]
      manifest.customersOnReusedSerials += 1
    }
    let registered = start + Int64(random.uniform(0...(86_400_000 * 0.8)))
    let birthYear = 1940 + Int(random.next() % 66)
    let birthDay =
      "\(birthYear)-\(Self.twoDigits(1 + Int(random.next() % 12)))-\(Self.twoDigits(1 + Int(random.next() % 28)))"
    let phone = "801555\(1000 + random.next() % 9000)"

    // Consent: about half agree to research; some only after their first day of sessions.
    let consents = random.chance(0.5)
    let lateConsent = consents && flaws.contains(.readingsBeforeConsent) && days > 1 && random.chance(0.3)
    let withdraws = consents && flaws.contains(.withdrawnConsent) && days > 1 && random.chance(0.05)
    let researchFrom: Int64? = consents ? (lateConsent ? registered + 86_400_000 : registered) : nil
    let publicFrom: Int64? = random.chance(0.5) ? registered : nil
    let friendsFrom: Int64? = random.chance(0.5) ? registered : nil
    var customer = GeneratedCustomer(
      customerName: "\(first) \(last)", email: email, phone: phone, birthDay: birthDay, serialNumber: serial,
      registrationDate: registered, lastUpdateDate: researchFrom ?? registered, shareWithResearchAsOfDate: researchFrom,
      shareWithPublicAsOfDate: publicFrom, shareWithFriendsAsOfDate: friendsFrom)
    if lateConsent { manifest.lateConsents += 1 }
    sink.customer(customer)
    if flaws.contains(.duplicateEmails), random.chance(0.03) {
      // The same person updates their phone number: a newer record, same consent.
      customer.phone = "801555\(1000 + random.next() % 9000)"
      customer.lastUpdateDate += 3_600_000
      sink.customer(customer)
      manifest.duplicateEmailRecords += 1
    }
    if withdraws {
      customer.lastUpdateDate = registered + Int64(days) * 86_400_000
      customer.shareWithResearchAsOfDate = nil
      sink.customer(customer)
      manifest.withdrawals += 1
    }

    let person = PersonProfile.random(using: &random)
    let sensor = DistanceSensor.random(using: &random)
    let phoneSensor = PhoneAccelerometer.random(using: &random)
    let trusted = consents && !withdraws
    var trustedReadings = 0
    var trustedSteps = 0
    var trainer: [(time: Int64, distance: Double)] = []
    for day in 0..<days {
      let sessions = Int.random(in: sessionsPerDay, using: &random)
      for session in 0..<sessions {
        let dayStart = start + Int64(day) * 86_400_000
        let sessionStart =
          max(registered + 60_000, dayStart) + Int64(session) * 4 * 3_600_000
          + Int64(random.uniform(0...3_000_000))
        let exercise = ExerciseSession(person: person, duration: random.uniform(sessionSeconds), random: &random)
        for step in exercise.steps {
          sink.stepEvent(
            user: email, serialNumber: serial, timestamp: sessionStart + Self.milliseconds(step.time), foot: step.foot)
        }
        trainer.removeAll(keepingCapacity: true)
        sensor.forEachReading(of: exercise, random: &random) { t, distance in
          trainer.append((sessionStart + Self.milliseconds(t), distance))
        }
        for reading in trainer {
          sink.stepTrainer(serialNumber: serial, sensorReadingTime: reading.time, distanceFromObject: reading.distance)
          if let researchFrom, reading.time < researchFrom {
            manifest.readingsBeforeConsent["step_trainer", default: 0] += 1
          }
          if trusted, reading.time >= researchFrom! { trustedSteps += 1 }
        }
        // The app stamps each phone sample with the latest Step Trainer reading it has received,
        // so phone readings share the device's timestamps (several per timestamp), as in the
        // public data; the phone's own clock offset never reaches the lake.
        var next = 0
        var stamp: Int64 = -1
        var groupStamp: Int64 = -1
        var groupValues: [(Double, Double, Double)] = []
        phoneSensor.forEachSample(of: exercise, random: &random) { t, x, y, z in
          let now = sessionStart + Self.milliseconds(t)
          while next < trainer.count, trainer[next].time <= now {
            stamp = trainer[next].time
            next += 1
          }
          guard stamp >= 0 else { return }
          let values =
            quantised
            ? (Motion.quantised(x), Motion.quantised(y), Motion.quantised(z))
            : (Self.round4(x), Self.round4(y), Self.round4(z))
          sink.accelerometer(user: email, timestamp: stamp, x: values.0, y: values.1, z: values.2)
          if let researchFrom, stamp < researchFrom { manifest.readingsBeforeConsent["accelerometer", default: 0] += 1 }
          // Count distinct readings per timestamp, as the pipeline's DISTINCT will.
          if stamp != groupStamp {
            groupValues.removeAll(keepingCapacity: true)
            groupStamp = stamp
          }
          guard trusted, stamp >= researchFrom! else { return }
          if !groupValues.contains(where: { $0 == values }) {
            groupValues.append(values)
            trustedReadings += 1
          }
        }
      }
    }
    if trusted {
      manifest.expectedStrict["customer_trusted", default: 0] += 1
      manifest.expectedStrict["accelerometer_trusted", default: 0] += trustedReadings
      if trustedReadings > 0 {
        manifest.expectedStrict["customers_curated", default: 0] += 1
        if !flaws.contains(.reusedSerials) {
          manifest.expectedStrict["step_trainer_trusted", default: 0] += trustedSteps
          manifest.expectedStrict["machine_learning_curated", default: 0] += trustedReadings
        }
      }
    }
  }

  // MARK: Malformed lines

  /// One line of each quarantine reason per table, and a cut last line in the accelerometer file.
  private func writeMalformedLines<Sink: DatasetSink>(
    batch: Int, into sink: inout Sink, manifest: inout GenerationManifest
  ) {
    let time = deliveryTime(batch: batch)
    let lines: [(DatasetTable, String, [UInt8])] = [
      (.customer, "invalid_json", Array("{\"customerName\": \"Broken\", \"email\": ,}".utf8)),
      (
        .customer, "missing_field",
        Array(
          "{\"customerName\": \"No Email\", \"serialNumber\": \"x\", \"registrationDate\": \(time), \"lastUpdateDate\": \(time)}"
            .utf8)
      ),
      (
        .customer, "wrong_type",
        Array(
          "{\"email\": \"typed.\(batch)@test.com\", \"serialNumber\": \"x\", \"registrationDate\": \"yesterday\", \"lastUpdateDate\": \(time)}"
            .utf8)
      ),
      (.customer, "not_an_object", Array("[\"customer\", \(time)]".utf8)),
      (
        .customer, "duplicate_field",
        Array(
          "{\"email\": \"a.\(batch)@test.com\", \"email\": \"b.\(batch)@test.com\", \"serialNumber\": \"x\", \"registrationDate\": \(time), \"lastUpdateDate\": \(time)}"
            .utf8)
      ),
      (
        .customer, "invalid_utf8",
        Array("{\"customerName\": \"".utf8) + [0xC3, 0x28] + Array("\", \"email\": \"utf.\(batch)@test.com\"}".utf8)
      ),
      (
        .accelerometer, "invalid_json",
        Array("{\"user\":\"ghost@test.com\",\"timestamp\":\(time),\"x\":1.0,,\"y\":0.0,\"z\":0.0}".utf8)
      ),
      (
        .accelerometer, "missing_field",
        Array("{\"user\":\"ghost@test.com\",\"timestamp\":\(time),\"x\":1.0,\"y\":0.0}".utf8)
      ),
      (
        .accelerometer, "wrong_type",
        Array("{\"user\":\"ghost@test.com\",\"timestamp\":\"\(time)\",\"x\":1.0,\"y\":0.0,\"z\":0.0}".utf8)
      ),
      (.accelerometer, "not_an_object", Array("\"ghost@test.com\"".utf8)),
      (
        .accelerometer, "duplicate_field",
        Array(
          "{\"user\":\"ghost@test.com\",\"timestamp\":\(time),\"timestamp\":\(time + 1),\"x\":1.0,\"y\":0.0,\"z\":0.0}"
            .utf8)
      ),
      (
        .accelerometer, "invalid_utf8",
        Array("{\"user\":\"gh".utf8) + [0xFF]
          + Array("st@test.com\",\"timestamp\":\(time),\"x\":1.0,\"y\":0.0,\"z\":0.0}".utf8)
      ),
      (
        .stepTrainer, "invalid_json",
        Array("{\"sensorReadingTime\":\(time),\"serialNumber\":\"x\" \"distanceFromObject\":1}".utf8)
      ),
      (.stepTrainer, "missing_field", Array("{\"sensorReadingTime\":\(time),\"distanceFromObject\":1}".utf8)),
      (
        .stepTrainer, "wrong_type",
        Array("{\"sensorReadingTime\":\(time).5,\"serialNumber\":\"x\",\"distanceFromObject\":1}".utf8)
      ),
      (.stepTrainer, "not_an_object", Array("\(time)".utf8)),
      (
        .stepTrainer, "duplicate_field",
        Array(
          "{\"sensorReadingTime\":\(time),\"serialNumber\":\"x\",\"serialNumber\":\"y\",\"distanceFromObject\":1}".utf8)
      ),
      (
        .stepTrainer, "invalid_utf8",
        Array("{\"sensorReadingTime\":\(time),\"serialNumber\":\"".utf8) + [0xED, 0xA0, 0x80]
          + Array("\",\"distanceFromObject\":1}".utf8)
      ),
    ]
    for (table, reason, line) in lines {
      sink.malformed(table, line: line, last: false)
      manifest.malformed[table.rawValue, default: [:]][reason, default: 0] += 1
    }
    // A writer that crashed mid-line: the file's last line stops inside a value.
    sink.malformed(.accelerometer, line: Array("{\"user\":\"cut@test.com\",\"timestamp\":16555".utf8), last: true)
    manifest.malformed[DatasetTable.accelerometer.rawValue, default: [:]]["truncated", default: 0] += 1
  }

  // MARK: Helpers

  static func milliseconds(_ seconds: Double) -> Int64 { Int64((seconds * 1000).rounded()) }

  static func round4(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }

  static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

  /// A random UUID in the canonical text form (version 4 bits set).
  static func uuid(_ random: inout SplitMix64) -> String {
    let high = (random.next() & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
    let low = (random.next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
    let digits = Array(hex16(high) + hex16(low))
    return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(digits[$0]) }.joined(separator: "-")
  }

  private static func hex16(_ value: UInt64) -> String {
    let text = String(value, radix: 16)
    return String(repeating: "0", count: 16 - text.count) + text
  }
}

/// Counts the valid records passing through to the real sink.
struct CountingSink<Inner: DatasetSink>: DatasetSink {
  var inner: Inner
  var rows: [DatasetTable: Int] = [:]

  mutating func customer(_ customer: GeneratedCustomer) {
    rows[.customer, default: 0] += 1
    inner.customer(customer)
  }

  mutating func accelerometer(user: String, timestamp: Int64, x: Double, y: Double, z: Double) {
    rows[.accelerometer, default: 0] += 1
    inner.accelerometer(user: user, timestamp: timestamp, x: x, y: y, z: z)
  }

  mutating func stepTrainer(serialNumber: String, sensorReadingTime: Int64, distanceFromObject: Double) {
    rows[.stepTrainer, default: 0] += 1
    inner.stepTrainer(
      serialNumber: serialNumber, sensorReadingTime: sensorReadingTime, distanceFromObject: distanceFromObject)
  }

  mutating func stepEvent(user: String, serialNumber: String, timestamp: Int64, foot: Foot) {
    rows[.stepEvents, default: 0] += 1
    inner.stepEvent(user: user, serialNumber: serialNumber, timestamp: timestamp, foot: foot)
  }

  mutating func malformed(_ table: DatasetTable, line: [UInt8], last: Bool) {
    inner.malformed(table, line: line, last: last)
  }
}

/// Given and family names for invented customers (common names, no real people).
enum Names {
  static let first = [
    "Santosh", "Ben", "Sarah", "Frank", "Jane", "Chris", "Lyn", "Bobby", "Steph", "Liz", "Danny", "Jacob", "Trevor",
    "Gail", "Eric", "Spencer", "Senthil", "Neeraj", "Ahmed", "Kathy", "Larry", "Jeff", "Dan", "Craig", "Sean",
    "Angie", "Edward", "John", "Suresh", "Travis", "Lori", "Stephanie", "Marie", "Rick", "Pedro", "Amy", "Anna",
    "Yuki", "Fatima", "Olga",
  ]
  static let last = [
    "Clayton", "Khatib", "Lincoln", "Jones", "Hansen", "Aristotle", "Fibonacci", "Mitra", "Davis", "Wu", "Huey",
    "Ahmed", "Staples", "Hatch", "Anandh", "Phillips", "Spencer", "Lee", "Abram", "Smith", "Habschied", "Gonzalez",
    "Mendoza", "Garcia", "Kim", "Nakamura", "Okafor", "Ivanova", "Schmidt", "Rossi", "Novak", "Silva", "Haddad",
    "Kowalski", "Jensen", "Murphy", "Singh", "Tanaka", "Moreau", "Lopez",
  ]
}
