// Property-based tests of the zone pipeline's privacy guarantees.
//
// Each case generates a small random lake (emails and serial numbers from small pools so that
// duplicates, withdrawals, ties and shared devices happen; timestamps from a small set so that
// joins, collisions and consent boundaries happen), runs the real pipeline on it, and compares
// every published table with a straightforward reference computed here from the generated
// records alone, without any of the engine's code.

import Foundation
import PropertyBased
import Testing

@testable import Lakehouse

// MARK: - Generated lakes

/// Emails the generator draws from. The quoted local part needs JSON escapes; the last email
/// never has a customer record, so its readings must never pass.
private let emailPool = [
  "ann@example.com", "bob@example.com", "\"c d\"@example.com", "zoë@example.com", "eve@example.org",
  "mallory@example.net",
]
private let customerEmailCount = 5
/// Serial numbers; the last one is never held by a customer.
private let serialPool = ["S-1", "S-2", "S-orphan"]
private let customerSerialCount = 2
private let axisValues: [Double] = [-1.5, 0.25, 1]
private let distances: [Double] = [0, 1, 2.5, 218]

private enum ConsentSpec: Sendable, Hashable, CustomStringConvertible {
  case absent
  case explicitNull
  case date(Int64)

  var date: Int64? { if case .date(let date) = self { date } else { nil } }

  var description: String {
    switch self {
    case .absent: "absent"
    case .explicitNull: "null"
    case .date(let date): "\(date)"
    }
  }
}

private struct GeneratedCustomer: Sendable, Hashable, CustomStringConvertible {
  var email: String
  var serial: String
  var updated: Int64
  var consent: ConsentSpec
  var registered: Int64
  var file: Int

  var landing: PrivacyLandingCustomer {
    PrivacyLandingCustomer(
      PrivacyLake.customer(email, serial: serial, updated: updated, consent: consent.date, registered: registered),
      explicitNullConsent: consent == .explicitNull)
  }

  var description: String {
    "customer(\(email), \(serial), updated \(updated), consent \(consent), registered \(registered), file \(file))"
  }
}

private struct Placed<Row: Sendable & Hashable>: Sendable, Hashable {
  var row: Row
  var file: Int
}

private struct GeneratedLake: Sendable, CustomStringConvertible {
  var customers: [GeneratedCustomer]
  var readings: [Placed<AccelerometerReading>]
  var steps: [Placed<StepTrainerReading>]
  /// Whether every landing line is delivered a second time in another file.
  var redeliver: Bool
  /// Whether the landing files also hold lines that must be quarantined.
  var noise: Bool

  var customerRecords: [CustomerRecord] { customers.map(\.landing.record) }
  var phoneReadings: [AccelerometerReading] { readings.map(\.row) }
  var stepReadings: [StepTrainerReading] { steps.map(\.row) }

  var description: String {
    var lines = ["lake (redeliver: \(redeliver), noise: \(noise))"]
    lines += customers.map { "  \($0)" }
    lines += readings.map {
      "  phone(\($0.row.user), t \($0.row.timestamp), \($0.row.x), \($0.row.y), \($0.row.z), file \($0.file))"
    }
    lines += steps.map {
      "  step(\($0.row.serialNumber), t \($0.row.sensorReadingTime), d \($0.row.distanceFromObject), file \($0.file))"
    }
    return lines.joined(separator: "\n")
  }

  /// Writes the landing files: three files per source (two in subfolders), plus a full
  /// re-delivery when asked. With `noise`, every file also gets a blank line, lines that must
  /// be quarantined, and a last line cut off without a newline; none of them may change a table.
  func write(to lake: PrivacyLake) throws {
    var files = ["part-a.json", "batch/part-b.json", "batch/2024/part-c.json"].enumerated().map { index, file in
      (
        file, customers.filter { $0.file == index }.map(\.landing),
        readings.filter { $0.file == index }.map(\.row), steps.filter { $0.file == index }.map(\.row)
      )
    }
    if redeliver { files.append(("redelivered/all.json", customers.map(\.landing), phoneReadings, stepReadings)) }
    for (file, customers, readings, steps) in files {
      var customerLines = NDJSONBuffer()
      var phoneLines = NDJSONBuffer()
      var stepLines = NDJSONBuffer()
      if noise {
        customerLines.appendRaw(contentsOf: Array(Self.customerNoise.utf8))
        phoneLines.appendRaw(contentsOf: Array(Self.phoneNoise.utf8))
        stepLines.appendRaw(contentsOf: Array(Self.stepNoise.utf8))
      }
      // Times are written from PrivacyLake.epoch on, as PrivacyLake's own writers do.
      for var customer in customers {
        customer.record = customer.record.shifted(by: PrivacyLake.epoch)
        customer.render(into: &customerLines)
      }
      for var reading in readings {
        reading.timestamp += PrivacyLake.epoch
        reading.render(into: &phoneLines)
      }
      for var step in steps {
        step.sensorReadingTime += PrivacyLake.epoch
        step.render(into: &stepLines)
      }
      if noise {
        customerLines.appendRaw(
          contentsOf: Array("{\"email\": \"ann@example.com\", \"serialNumber\": \"S-1\", \"regis".utf8))
        phoneLines.appendRaw(contentsOf: Array("{\"user\": \"ann@example.com\", \"timestamp\": 300, \"x\": 1".utf8))
        stepLines.appendRaw(contentsOf: Array("{\"sensorReadingTime\": 300, \"serialNumber\": \"S-1\", \"dist".utf8))
      }
      try lake.write(.customer, file: file, bytes: customerLines.bytes)
      try lake.write(.accelerometer, file: file, bytes: phoneLines.bytes)
      try lake.write(.stepTrainer, file: file, bytes: stepLines.bytes)
    }
  }

  /// Lines a customer file may hold that must be quarantined (or skipped), never accepted.
  static let customerNoise = """

    not json at all
    {"email": "ann@example.com", "serialNumber": "S-1", "registrationDate": 1, "lastUpdateDate": 9, "shareWithResearchAsOfDate": "yes"}
    {"email": "bob@example.com", "serialNumber": "S-1", "registrationDate": 1, "shareWithResearchAsOfDate": 1}
    {"email": "", "serialNumber": "S-1", "registrationDate": 1, "lastUpdateDate": 9, "shareWithResearchAsOfDate": 1}

    """
  static let phoneNoise = """
    {"user": "ann@example.com", "timestamp": "300", "x": 1, "y": 1, "z": 1}
    {"user": "ann@example.com", "timestamp": 300, "x": 1, "y": 1}
    [1, 2, 3]

    """
  static let stepNoise = """
    {"sensorReadingTime": 300, "serialNumber": "S-1"}
    {"sensorReadingTime": 300.5, "serialNumber": "S-1", "distanceFromObject": 1}

    """
}

private enum LakeGen {
  static let customer: Generator<GeneratedCustomer, some SendableSequenceType> = zip(
    Gen.int(in: 0...(customerEmailCount - 1)), Gen.int(in: 0...(customerSerialCount - 1)), Gen.int(in: 1...3),
    Gen.int(in: 0...4), Gen.int(in: 1...4), Gen.int(in: 1...2), Gen.int(in: 0...2)
  ).map { t in
    let consent: ConsentSpec =
      switch t.3 {
      case 0: .absent
      case 1: .explicitNull
      default: .date(Int64(t.4) * 100)
      }
    return GeneratedCustomer(
      email: emailPool[t.0], serial: serialPool[t.1], updated: Int64(t.2), consent: consent,
      registered: Int64(t.5), file: t.6)
  }

  static let reading: Generator<Placed<AccelerometerReading>, some SendableSequenceType> = zip(
    Gen.int(in: 0...(emailPool.count - 1)), Gen.int(in: 0...4), Gen.int(in: 0...2), Gen.int(in: 0...1),
    Gen.int(in: 0...1), Gen.int(in: 0...2)
  ).map { t in
    Placed(
      row: AccelerometerReading(
        user: emailPool[t.0], timestamp: Int64(t.1) * 100, x: axisValues[t.2], y: axisValues[t.3],
        z: axisValues[t.4 + 1]),
      file: t.5)
  }

  static let step: Generator<Placed<StepTrainerReading>, some SendableSequenceType> = zip(
    Gen.int(in: 0...(serialPool.count - 1)), Gen.int(in: 0...4), Gen.int(in: 0...(distances.count - 1)),
    Gen.int(in: 0...2)
  ).map { t in
    Placed(
      row: StepTrainerReading(
        sensorReadingTime: Int64(t.1) * 100, serialNumber: serialPool[t.0], distanceFromObject: distances[t.2]),
      file: t.3)
  }

  static let lake: Generator<GeneratedLake, some SendableSequenceType> = zip(
    customer.array(of: 1...8), reading.array(of: 0...20), step.array(of: 0...14), Gen.bool(0.3), Gen.bool(0.3)
  ).map { t in GeneratedLake(customers: t.0, readings: t.1, steps: t.2, redeliver: t.3, noise: t.4) }
}

// MARK: - Reference

/// The five tables as sets of rows, computed directly from the rules.
private struct ReferenceTables: Equatable {
  var customerTrusted: Set<CustomerRecord>
  var accelerometerTrusted: Set<AccelerometerReading>
  var customersCurated: Set<CustomerRecord>
  var stepTrainerTrusted: Set<StepTrainerReading>
  var machineLearningCurated: Set<MachineLearningRow>
}

private enum Reference {
  /// Strict: the current record per email, readings from consent on, owner-and-time join.
  static func strict(
    customers: [CustomerRecord], readings: [AccelerometerReading], steps: [StepTrainerReading], key: PseudonymKey
  ) -> ReferenceTables {
    // Rule 1: an email's current records are those with its greatest lastUpdateDate. If any of
    // them lacks consent, the customer is not trusted (withdrawal, or a tie lost to a record
    // without consent). If several consenting records tie, the engine documents that the
    // greatest record wins; among the fields generated here that is the greatest
    // (serialNumber, registrationDate, shareWithResearchAsOfDate).
    var trustedByEmail: [String: CustomerRecord] = [:]
    for (email, records) in Dictionary(grouping: customers, by: \.email) {
      let newest = records.map(\.lastUpdateDate).max()!
      let current = records.filter { $0.lastUpdateDate == newest }
      guard current.allSatisfy({ $0.shareWithResearchAsOfDate != nil }) else { continue }
      trustedByEmail[email] = current.max { a, b in
        (a.serialNumber, a.registrationDate, a.shareWithResearchAsOfDate!)
          < (b.serialNumber, b.registrationDate, b.shareWithResearchAsOfDate!)
      }
    }
    // Rule 2.
    let accelerometer = Set(
      readings.filter { reading in
        guard let customer = trustedByEmail[reading.user] else { return false }
        return reading.timestamp >= customer.shareWithResearchAsOfDate!
      })
    // Rule 3.
    let usersWithReadings = Set(accelerometer.map(\.user))
    let curated = trustedByEmail.values.filter { usersWithReadings.contains($0.email) }
    // Rule 4.
    let stepTrainer = Set(
      steps.filter { step in
        curated.contains {
          $0.serialNumber == step.serialNumber && $0.shareWithResearchAsOfDate! <= step.sensorReadingTime
        }
      })
    // Rule 5.
    var machineLearning = Set<MachineLearningRow>()
    for step in stepTrainer {
      for reading in accelerometer where reading.timestamp == step.sensorReadingTime {
        guard let owner = curated.first(where: { $0.email == reading.user }), owner.serialNumber == step.serialNumber
        else { continue }
        machineLearning.insert(
          MachineLearningRow(
            sensorReadingTime: step.sensorReadingTime, serialNumber: step.serialNumber,
            distanceFromObject: step.distanceFromObject, x: reading.x, y: reading.y, z: reading.z,
            subjectId: key.subjectId(email: reading.user)))
      }
    }
    return ReferenceTables(
      customerTrusted: Set(trustedByEmail.values), accelerometerTrusted: accelerometer, customersCurated: Set(curated),
      stepTrainerTrusted: stepTrainer, machineLearningCurated: machineLearning)
  }

  /// Udacity: every consenting record, no date filter, join on time only, email kept in `user`.
  static func udacity(
    customers: [CustomerRecord], readings: [AccelerometerReading], steps: [StepTrainerReading], key: PseudonymKey
  ) -> ReferenceTables {
    let trusted = Set(customers.filter { $0.shareWithResearchAsOfDate != nil })
    let trustedEmails = Set(trusted.map(\.email))
    let accelerometer = Set(readings.filter { trustedEmails.contains($0.user) })
    let usersWithReadings = Set(accelerometer.map(\.user))
    let curated = trusted.filter { usersWithReadings.contains($0.email) }
    let curatedSerials = Set(curated.map(\.serialNumber))
    let stepTrainer = Set(steps.filter { curatedSerials.contains($0.serialNumber) })
    var machineLearning = Set<MachineLearningRow>()
    for step in stepTrainer {
      for reading in accelerometer where reading.timestamp == step.sensorReadingTime {
        machineLearning.insert(
          MachineLearningRow(
            sensorReadingTime: step.sensorReadingTime, serialNumber: step.serialNumber,
            distanceFromObject: step.distanceFromObject, x: reading.x, y: reading.y, z: reading.z,
            subjectId: key.subjectId(email: reading.user), user: reading.user))
      }
    }
    return ReferenceTables(
      customerTrusted: trusted, accelerometerTrusted: accelerometer, customersCurated: curated,
      stepTrainerTrusted: stepTrainer, machineLearningCurated: machineLearning)
  }
}

// MARK: - Properties

@Suite("Privacy properties of the zone pipeline")
struct PrivacyPropertyTests {
  /// Runs the strict pipeline on `generated` and checks every privacy guarantee and the exact tables.
  @discardableResult
  private static func checkStrict(_ generated: GeneratedLake) async throws -> PrivacyTables {
    let lake = try PrivacyLake("privacy-strict")
    defer { lake.remove() }
    try generated.write(to: lake)
    let summary = try await lake.run(.strict)
    #expect(summary.qualityFailures.isEmpty, "quality checks failed: \(summary.qualityFailures)")
    #expect(summary.published, "the run published nothing")
    // The noise lines are quarantined, every one of them, and nothing else is.
    let fileCount = generated.redeliver ? 4 : 3
    #expect(summary.quarantined(.customer) == (generated.noise ? 5 * fileCount : 0))
    #expect(summary.quarantined(.accelerometer) == (generated.noise ? 4 * fileCount : 0))
    #expect(summary.quarantined(.stepTrainer) == (generated.noise ? 3 * fileCount : 0))
    let tables = try await lake.tables()
    let key = privacyTestKey
    let reference = Reference.strict(
      customers: generated.customerRecords, readings: generated.phoneReadings, steps: generated.stepReadings, key: key)

    // Nothing of a customer whose current record lacks consent (or who has no record at all).
    let consenting = Set(reference.customerTrusted.map(\.email))
    for email in emailPool where !consenting.contains(email) {
      #expect(!tables.customerTrusted.contains { $0.email == email }, "\(email) is in customer_trusted")
      #expect(!tables.customersCurated.contains { $0.email == email }, "\(email) is in customers_curated")
      #expect(!tables.accelerometerTrusted.contains { $0.user == email }, "\(email) has accelerometer_trusted rows")
      let pseudonym = key.subjectId(email: email)
      #expect(
        !tables.machineLearningCurated.contains { $0.subjectId == pseudonym },
        "\(email) has machine_learning_curated rows")
      for table in ZoneTable.allCases {
        #expect(
          !tables.raw[table]!.privacyContains(email.replacingOccurrences(of: "\"", with: "\\\"")),
          "\(email) appears in \(table.rawValue)")
      }
    }

    // No reading from before consent.
    let trustedByEmail = Dictionary(reference.customerTrusted.map { ($0.email, $0) }, uniquingKeysWith: { a, _ in a })
    for reading in tables.accelerometerTrusted {
      let consent = trustedByEmail[reading.user]?.shareWithResearchAsOfDate
      #expect(
        consent != nil && reading.timestamp >= consent!,
        "accelerometer_trusted holds \(reading) (consent \(String(describing: consent)))")
    }
    let curatedByEmail = Dictionary(reference.customersCurated.map { ($0.email, $0) }, uniquingKeysWith: { a, _ in a })
    for step in tables.stepTrainerTrusted {
      #expect(
        curatedByEmail.values.contains {
          $0.serialNumber == step.serialNumber && $0.shareWithResearchAsOfDate! <= step.sensorReadingTime
        }, "step_trainer_trusted holds \(step), before every curated owner's consent or of no curated owner")
    }

    // No email in machine_learning_curated.
    let mlBytes = tables.raw[.machineLearningCurated]!
    #expect(!mlBytes.contains(UInt8(ascii: "@")), "machine_learning_curated contains an '@'")
    #expect(!mlBytes.privacyContains("\"user\""), "machine_learning_curated has a user field")
    for row in tables.machineLearningCurated {
      #expect(row.user == nil && row.otherFields.isEmpty, "unexpected fields in \(row)")
    }

    // Every ML row is attributable to a curated owner of its serial with that exact phone reading.
    let outputPhone = Set(tables.accelerometerTrusted)
    let outputSteps = Set(tables.stepTrainerTrusted)
    for row in tables.machineLearningCurated {
      let owners = tables.customersCurated.filter {
        $0.serialNumber == row.serialNumber && key.subjectId(email: $0.email) == row.subjectId
      }
      #expect(
        owners.contains {
          outputPhone.contains(
            AccelerometerReading(user: $0.email, timestamp: row.sensorReadingTime, x: row.x, y: row.y, z: row.z))
        }, "machine_learning_curated row \(row) has no curated owner of its serial with that phone reading")
      #expect(
        outputSteps.contains(
          StepTrainerReading(
            sensorReadingTime: row.sensorReadingTime, serialNumber: row.serialNumber,
            distanceFromObject: row.distanceFromObject)), "machine_learning_curated row \(row) has no step reading")
    }

    try expectTables(tables, equal: reference, summary: summary)
    return tables
  }

  /// The published tables have exactly the reference's rows, each once, and the summary counts them.
  private static func expectTables(_ tables: PrivacyTables, equal reference: ReferenceTables, summary: PipelineSummary)
    throws
  {
    func expectRows<Row: Hashable>(_ rows: [Row], _ expected: Set<Row>, _ table: ZoneTable) {
      let actual = Set(rows)
      #expect(
        actual == expected,
        "\(table.rawValue): missing \(expected.subtracting(actual)), extra \(actual.subtracting(expected))")
      #expect(rows.count == actual.count, "\(table.rawValue) has duplicate rows")
      #expect(
        summary.tableRows[table] == rows.count,
        "summary counts \(String(describing: summary.tableRows[table])) rows of \(table.rawValue), the table has \(rows.count)"
      )
    }
    expectRows(tables.customerTrusted, reference.customerTrusted, .customerTrusted)
    expectRows(tables.accelerometerTrusted, reference.accelerometerTrusted, .accelerometerTrusted)
    expectRows(tables.customersCurated, reference.customersCurated, .customersCurated)
    expectRows(tables.stepTrainerTrusted, reference.stepTrainerTrusted, .stepTrainerTrusted)
    expectRows(tables.machineLearningCurated, reference.machineLearningCurated, .machineLearningCurated)
  }

  @Test("strict: no non-consenting customer, no pre-consent reading, no email; tables equal the reference")
  func strictTablesKeepThePrivacyPromise() async {
    await propertyCheck(count: 100, input: LakeGen.lake) { generated in
      try await Self.checkStrict(generated)
    }
  }

  @Test("udacity: tables equal the rubric's reference")
  func udacityTablesEqualTheRubricReference() async {
    await propertyCheck(count: 60, input: LakeGen.lake) { generated in
      let lake = try PrivacyLake("privacy-udacity")
      defer { lake.remove() }
      try generated.write(to: lake)
      let summary = try await lake.run(.udacity)
      #expect(summary.qualityFailures.isEmpty, "quality checks failed: \(summary.qualityFailures)")
      #expect(summary.published, "the run published nothing")
      let tables = try await lake.tables()
      let reference = Reference.udacity(
        customers: generated.customerRecords, readings: generated.phoneReadings, steps: generated.stepReadings,
        key: privacyTestKey)
      try Self.expectTables(tables, equal: reference, summary: summary)
    }
  }

  @Test("strict: a later record without consent removes any customer from every table")
  func laterWithdrawalRemovesTheCustomerEverywhere() async {
    await propertyCheck(count: 50, input: LakeGen.lake, Gen.int(in: 0...(customerEmailCount - 1)), Gen.bool) {
      generated, emailIndex, explicitNull in
      let email = emailPool[emailIndex]
      let withdrawal = GeneratedCustomer(
        email: email, serial: serialPool[0], updated: 4, consent: explicitNull ? .explicitNull : .absent,
        registered: 1, file: 0)
      var withdrawn = generated
      withdrawn.customers.append(withdrawal)
      let before = try await Self.checkStrict(generated)
      let after = try await Self.checkStrict(withdrawn)

      // The withdrawal only ever removes rows: every published table is a subset of the one before.
      #expect(Set(after.customerTrusted).isSubset(of: before.customerTrusted))
      #expect(Set(after.accelerometerTrusted).isSubset(of: before.accelerometerTrusted))
      #expect(Set(after.customersCurated).isSubset(of: before.customersCurated))
      #expect(Set(after.stepTrainerTrusted).isSubset(of: before.stepTrainerTrusted))
      #expect(Set(after.machineLearningCurated).isSubset(of: before.machineLearningCurated))
      #expect(!after.accelerometerTrusted.contains { $0.user == email })
      #expect(!after.machineLearningCurated.contains { $0.subjectId == privacyTestKey.subjectId(email: email) })
      #expect(!after.customerTrusted.contains { $0.email == email })
    }
  }
}
