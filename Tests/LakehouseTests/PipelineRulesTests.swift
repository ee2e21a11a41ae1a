// Example tests that pin the zone rules one by one, each on a lake small enough to read.

import Foundation
import Testing

@testable import Lakehouse

private let ann = "ann@example.com"
private let bob = "bob@example.com"
private let carol = "carol@example.com"
private let dave = "dave@example.com"

private func customer(_ email: String, _ serial: String, updated: Int64, consent: Int64?) -> CustomerRecord {
  PrivacyLake.customer(email, serial: serial, updated: updated, consent: consent)
}

private func phone(_ user: String, _ timestamp: Int64, x: Double = 0.5) -> AccelerometerReading {
  PrivacyLake.phone(user, at: timestamp, x: x)
}

private func step(_ serial: String, _ time: Int64, distance: Double = 218) -> StepTrainerReading {
  PrivacyLake.step(serial, at: time, distance: distance)
}

/// Runs `profile` on a fresh lake filled by `fill`, expects the quality gate to pass, and returns
/// the summary and the published tables.
private func runLake(
  _ profile: PipelineProfile, key: PseudonymKey = privacyTestKey, _ fill: (PrivacyLake) async throws -> Void
) async throws -> (summary: PipelineSummary, tables: PrivacyTables) {
  let lake = try PrivacyLake("rules")
  defer { lake.remove() }
  try await fill(lake)
  let summary = try await lake.run(profile, key: key)
  #expect(summary.qualityFailures.isEmpty, "quality checks failed: \(summary.qualityFailures)")
  #expect(summary.published, "the run published nothing")
  return (summary, try await lake.tables())
}

/// The (serial, subject) pairs of machine_learning_curated, with subjects named by email.
private func pairs(_ rows: [MachineLearningRow], emails: [String]) -> Set<String> {
  let names = Dictionary(uniqueKeysWithValues: emails.map { (privacyTestKey.subjectId(email: $0), $0) })
  return Set(
    rows.map { "\($0.serialNumber)@\($0.sensorReadingTime)->\(names[$0.subjectId] ?? "unknown \($0.subjectId)")" })
}

@Suite("Zone rules, by example")
struct PipelineRulesTests {
  @Test(arguments: [false, true])
  func consentWithdrawnByALaterRecordRemovesTheCustomerEverywhere(withdrawalInEarlierFile: Bool) async throws {
    let (summary, tables) = try await runLake(.strict) { lake in
      let consent = customer(ann, "S-1", updated: 1, consent: 100)
      let withdrawal = customer(ann, "S-1", updated: 2, consent: nil)
      try lake.writeCustomers([withdrawalInEarlierFile ? withdrawal : consent], file: "a.json")
      try lake.writeCustomers(
        [withdrawalInEarlierFile ? consent : withdrawal, customer(bob, "S-2", updated: 1, consent: 100)], file: "b.json"
      )
      try lake.writeAccelerometer([phone(ann, 200), phone(bob, 200)])
      try lake.writeStepTrainer([step("S-1", 200), step("S-2", 200)])
    }
    #expect(summary.qualityFailures.isEmpty)
    #expect(tables.customerTrusted.map(\.email) == [bob])
    #expect(tables.customersCurated.map(\.email) == [bob])
    #expect(tables.accelerometerTrusted == [phone(bob, 200)])
    #expect(tables.stepTrainerTrusted == [step("S-2", 200)])
    #expect(pairs(tables.machineLearningCurated, emails: [ann, bob]) == ["S-2@200->\(bob)"])
    for table in ZoneTable.allCases {
      #expect(!tables.raw[table]!.privacyContains(ann), "\(ann) appears in \(table.rawValue)")
    }
  }

  /// The current record's consent date governs, whether the earlier record had no consent or an earlier one.
  @Test(arguments: [nil, 100] as [Int64?])
  func consentGrantedByALaterRecordAdmitsOnlyReadingsFromTheNewConsentDateOn(earlierConsent: Int64?) async throws {
    let (summary, tables) = try await runLake(.strict) { lake in
      try lake.writeCustomers([
        customer(ann, "S-1", updated: 1, consent: earlierConsent),
        customer(ann, "S-1", updated: 2, consent: 300),
      ])
      try lake.writeAccelerometer([100, 200, 300, 400].map { phone(ann, $0) })
      try lake.writeStepTrainer([100, 200, 300, 400].map { step("S-1", $0) })
    }
    #expect(summary.qualityFailures.isEmpty)
    #expect(tables.customerTrusted == [customer(ann, "S-1", updated: 2, consent: 300)])
    #expect(tables.accelerometerTrusted.map(\.timestamp) == [300, 400])
    #expect(tables.stepTrainerTrusted.map(\.sensorReadingTime) == [300, 400])
    #expect(tables.machineLearningCurated.map(\.sensorReadingTime).sorted() == [300, 400])
  }

  /// The rubric's "2,700 cross-customer rows": joining on time alone pairs a step reading with
  /// whoever's phone happened to record at that instant. Strict joins on owner and time.
  @Test func sharedSerialNeverPairsOneCustomersStepReadingsWithAnotherCustomersPhone() async throws {
    let fill: (PrivacyLake) throws -> Void = { lake in
      try lake.writeCustomers([
        customer(ann, "S-1", updated: 1, consent: 100),
        customer(bob, "S-1", updated: 1, consent: nil),  // shares ann's step trainer, never consented
        customer(carol, "S-2", updated: 1, consent: 100),
      ])
      try lake.writeAccelerometer([
        phone(ann, 200, x: 1), phone(bob, 200, x: 2), phone(bob, 300, x: 2), phone(carol, 200, x: 3),
        phone(carol, 300, x: 3),
      ])
      try lake.writeStepTrainer([step("S-1", 200), step("S-1", 300), step("S-2", 200), step("S-2", 300)])
    }
    let strict = try await runLake(.strict, fill)
    #expect(strict.summary.qualityFailures.isEmpty)
    // S-1 at 300 is bob's session (only his phone recorded then): it pairs with nobody, least of all ann.
    #expect(
      pairs(strict.tables.machineLearningCurated, emails: [ann, bob, carol])
        == ["S-1@200->\(ann)", "S-2@200->\(carol)", "S-2@300->\(carol)"])
    for row in strict.tables.machineLearningCurated {
      let x = row.subjectId == privacyTestKey.subjectId(email: ann) ? 1.0 : 3.0
      #expect(row.x == x, "row \(row) carries another customer's phone reading")
    }
    #expect(!strict.tables.machineLearningCurated.contains { $0.subjectId == privacyTestKey.subjectId(email: bob) })
    #expect(!strict.tables.accelerometerTrusted.contains { $0.user == bob })

    // The udacity profile reproduces the rubric, cross-customer pairs included (bob still excluded).
    let udacity = try await runLake(.udacity, fill)
    #expect(udacity.summary.qualityFailures.isEmpty)
    #expect(
      pairs(udacity.tables.machineLearningCurated, emails: [ann, bob, carol])
        == [
          "S-1@200->\(ann)", "S-1@200->\(carol)", "S-1@300->\(carol)", "S-2@200->\(ann)", "S-2@200->\(carol)",
          "S-2@300->\(carol)",
        ])
  }

  @Test func sharedSerialWithTwoConsentingOwnersPairsEachStepReadingWithEachOwnersReadingAtThatInstant() async throws {
    let (summary, tables) = try await runLake(.strict) { lake in
      try lake.writeCustomers([
        customer(ann, "S-3", updated: 1, consent: 100), customer(dave, "S-3", updated: 1, consent: 400),
      ])
      try lake.writeAccelerometer([phone(ann, 300), phone(ann, 500), phone(dave, 300), phone(dave, 500)])
      try lake.writeStepTrainer([step("S-3", 300), step("S-3", 500)])
    }
    #expect(summary.qualityFailures.isEmpty)
    // dave's reading at 300 predates his consent, so S-3 at 300 pairs only with ann.
    #expect(tables.accelerometerTrusted.count == 3)
    #expect(
      pairs(tables.machineLearningCurated, emails: [ann, dave]) == [
        "S-3@300->\(ann)", "S-3@500->\(ann)", "S-3@500->\(dave)",
      ])
  }

  @Test func readingsBeforeConsentAreExcludedInStrictAndIncludedInUdacity() async throws {
    let fill: (PrivacyLake) throws -> Void = { lake in
      try lake.writeCustomers([customer(ann, "S-1", updated: 1, consent: 300)])
      try lake.writeAccelerometer([100, 200, 300, 400].map { phone(ann, $0) })
      try lake.writeStepTrainer([100, 200, 300, 400].map { step("S-1", $0) })
    }
    let strict = try await runLake(.strict, fill)
    #expect(strict.summary.qualityFailures.isEmpty)
    #expect(strict.tables.accelerometerTrusted.map(\.timestamp) == [300, 400])
    #expect(strict.tables.stepTrainerTrusted.map(\.sensorReadingTime) == [300, 400])
    #expect(strict.tables.machineLearningCurated.map(\.sensorReadingTime).sorted() == [300, 400])

    let udacity = try await runLake(.udacity, fill)
    #expect(udacity.summary.qualityFailures.isEmpty)
    #expect(udacity.tables.accelerometerTrusted.map(\.timestamp) == [100, 200, 300, 400])
    #expect(udacity.tables.stepTrainerTrusted.map(\.sensorReadingTime) == [100, 200, 300, 400])
    #expect(udacity.tables.machineLearningCurated.map(\.sensorReadingTime).sorted() == [100, 200, 300, 400])
    #expect(udacity.tables.machineLearningCurated.allSatisfy { $0.user == ann })
  }

  @Test func subjectIdIsStableAcrossRunsAndLakesWithTheSameKeyAndDiffersUnderAnotherKey() async throws {
    // HMAC-SHA256(key: 32 bytes of 7, "ann@example.com"), computed independently (Python's hmac).
    let annUnderKey7 = "61b55fab9c26d32d104ec34ed67a68f9042c022638ba102c71aeabc6b760fe1d"
    let annUnderKey9 = "a5db3ff216ca8ca55c09c775364c6bfd0307299f1a1ba7cefbdd4541daf951d8"
    #expect(privacyTestKey.subjectId(email: ann) == annUnderKey7)

    let lake = try PrivacyLake("subject-id")
    defer { lake.remove() }
    try lake.writeCustomers([customer(ann, "S-1", updated: 1, consent: 100)])
    try lake.writeAccelerometer([phone(ann, 200)])
    try lake.writeStepTrainer([step("S-1", 200)])
    #expect(try await lake.run(.strict).published)
    let first = try await lake.rawTable(.machineLearningCurated)
    #expect(try await lake.run(.strict).published)
    let second = try await lake.rawTable(.machineLearningCurated)
    #expect(first == second, "a re-run changed machine_learning_curated")
    #expect(try await lake.tables().machineLearningCurated.map(\.subjectId) == [annUnderKey7])

    // Another lake with other customers and readings: ann keeps her subject id.
    let (_, other) = try await runLake(.strict) { lake in
      try lake.writeCustomers([
        customer(bob, "S-2", updated: 1, consent: 50), customer(ann, "S-9", updated: 3, consent: 10),
      ])
      try lake.writeAccelerometer([phone(bob, 700), phone(ann, 700, x: 9)])
      try lake.writeStepTrainer([step("S-2", 700), step("S-9", 700)])
    }
    let annRows = other.machineLearningCurated.filter { $0.serialNumber == "S-9" }
    #expect(annRows.map(\.subjectId) == [annUnderKey7])
    #expect(other.machineLearningCurated.count == 2)

    // Under another key the same customer gets another id, and the old one appears nowhere.
    let key9 = PseudonymKey(bytes: Array(repeating: 9, count: 32))
    #expect(try await lake.run(.strict, key: key9).published)
    let rekeyed = try await lake.tables()
    #expect(rekeyed.machineLearningCurated.map(\.subjectId) == [annUnderKey9])
    #expect(!(try await lake.rawTable(.machineLearningCurated)).privacyContains(annUnderKey7))
  }

  @Test(arguments: PipelineProfile.allCases)
  func explicitNullConsentEqualsAnAbsentKey(profile: PipelineProfile) async throws {
    func fill(explicitNull: Bool) -> (PrivacyLake) async throws -> Void {
      { lake in
        try lake.writeCustomers([
          PrivacyLandingCustomer(customer(ann, "S-1", updated: 1, consent: 100)),
          // ann withdraws with a later record; bob never consents.
          PrivacyLandingCustomer(customer(ann, "S-1", updated: 2, consent: nil), explicitNullConsent: explicitNull),
          PrivacyLandingCustomer(customer(bob, "S-2", updated: 1, consent: nil), explicitNullConsent: explicitNull),
          PrivacyLandingCustomer(customer(carol, "S-3", updated: 1, consent: 100)),
        ])
        try lake.writeAccelerometer([phone(ann, 200), phone(bob, 200), phone(carol, 200)])
        try lake.writeStepTrainer([step("S-1", 200), step("S-2", 200), step("S-3", 200)])
      }
    }
    let withNull = try await runLake(profile, fill(explicitNull: true))
    let absent = try await runLake(profile, fill(explicitNull: false))
    #expect(withNull.summary.quarantined(.customer) == 0, "a null consent must be accepted, not quarantined")
    #expect(withNull.summary.qualityFailures.isEmpty)
    #expect(absent.summary.qualityFailures.isEmpty)
    for table in ZoneTable.allCases {
      #expect(withNull.tables.raw[table] == absent.tables.raw[table], "\(table.rawValue) differs")
    }
    #expect(!withNull.tables.customerTrusted.contains { $0.email == bob })
    if profile == .strict {
      #expect(withNull.tables.customerTrusted.map(\.email) == [carol])
      #expect(withNull.tables.accelerometerTrusted.map(\.user) == [carol])
    } else {
      #expect(Set(withNull.tables.customerTrusted.map(\.email)) == [ann, carol])
    }
  }

  @Test(arguments: PipelineProfile.allCases)
  func redeliveredFileGivesNoDuplicateTrustedRows(profile: PipelineProfile) async throws {
    let customers = [
      customer(ann, "S-1", updated: 1, consent: 100), customer(bob, "S-1", updated: 1, consent: 150),
      customer(carol, "S-2", updated: 2, consent: 100),
    ]
    let readings = [phone(ann, 200), phone(bob, 200, x: 2), phone(carol, 200), phone(carol, 300)]
    let steps = [step("S-1", 200), step("S-2", 200), step("S-2", 300)]
    let once = try await runLake(profile) { lake in
      try lake.writeCustomers(customers)
      try lake.writeAccelerometer(readings)
      try lake.writeStepTrainer(steps)
    }
    let twice = try await runLake(profile) { lake in
      for file in ["delivery-1.json", "delivery-2.json"] {
        try lake.writeCustomers(customers, file: file)
        try lake.writeAccelerometer(readings, file: file)
        try lake.writeStepTrainer(steps, file: file)
      }
    }
    #expect(twice.summary.landingRows[.customer] == 2 * customers.count)
    #expect(twice.summary.qualityFailures.isEmpty)
    #expect(twice.tables.customerTrusted.count == 3)
    #expect(twice.tables.accelerometerTrusted.count == 4)
    #expect(twice.tables.stepTrainerTrusted.count == 3)
    for table in ZoneTable.allCases {
      #expect(twice.tables.raw[table] == once.tables.raw[table], "\(table.rawValue) changed by the re-delivery")
      #expect(twice.summary.tableRows[table] == once.summary.tableRows[table])
    }
  }

  @Test(arguments: [false, true], [false, true])
  func tieOnLastUpdateDateWithOneRecordLackingConsentIsNotTrustedRegardlessOfFileOrder(
    withoutConsentFirst: Bool, sameFile: Bool
  ) async throws {
    let consenting = customer(ann, "S-1", updated: 5, consent: 100)
    let notConsenting = customer(ann, "S-1", updated: 5, consent: nil)
    let ordered = withoutConsentFirst ? [notConsenting, consenting] : [consenting, notConsenting]
    let (summary, tables) = try await runLake(.strict) { lake in
      if sameFile {
        try lake.writeCustomers(ordered)
      } else {
        try lake.writeCustomers([ordered[0]], file: "a.json")
        try lake.writeCustomers([ordered[1]], file: "b.json")
      }
      try lake.writeAccelerometer([phone(ann, 200)])
      try lake.writeStepTrainer([step("S-1", 200)])
    }
    #expect(summary.qualityFailures.isEmpty)
    for table in ZoneTable.allCases {
      #expect(summary.tableRows[table] == 0, "\(table.rawValue) is not empty")
      #expect(tables.raw[table]!.isEmpty, "\(table.rawValue) is not empty")
    }
  }

  @Test func machineLearningCuratedCarriesNoEmailInStrictAndTheEmailInUdacity() async throws {
    let fill: (PrivacyLake) throws -> Void = { lake in
      try lake.writeCustomers([customer(ann, "S-1", updated: 1, consent: 100)])
      try lake.writeAccelerometer([phone(ann, 200)])
      try lake.writeStepTrainer([step("S-1", 200)])
    }
    let strict = try await runLake(.strict, fill)
    let strictBytes = strict.tables.raw[.machineLearningCurated]!
    #expect(!strictBytes.contains(UInt8(ascii: "@")))
    #expect(!strictBytes.privacyContains("\"user\""))
    #expect(
      strict.tables.machineLearningCurated == [
        MachineLearningRow(
          sensorReadingTime: 200, serialNumber: "S-1", distanceFromObject: 218, x: 0.5, y: -1, z: 2,
          subjectId: privacyTestKey.subjectId(email: ann))
      ])
    let udacity = try await runLake(.udacity, fill)
    #expect(udacity.tables.machineLearningCurated.map(\.user) == [ann])
  }
}
