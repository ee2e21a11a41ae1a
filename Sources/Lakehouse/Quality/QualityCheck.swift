// dbt-style assertions over the published tables. They read the tables back from the lake and
// state each rule in its own, independent words, so a bug in the engine's implementation of a
// rule shows up here instead of being repeated.

/// Runs the quality assertions on a lake's published tables.
public struct QualityCheck: Sendable {
  public let lake: Lake
  public let key: PseudonymKey
  public var reader = NDJSONTableReader()

  public init(lake: Lake, key: PseudonymKey) {
    self.lake = lake
    self.key = key
  }

  /// The outcome: how many assertions ran and which failed.
  public struct Report: Sendable {
    public var checksRun = 0
    public var findings: [QualityFinding] = []
    public var passed: Bool { findings.isEmpty }
  }

  /// Checks the tables against the rules of the profile that the last run used.
  public func run() throws(LakeError) -> Report {
    var report = Report()
    guard let record = RunRecord.read(from: lake) else {
      report.checksRun = 1
      report.findings.append(
        QualityFinding(check: "ran", table: "lake", message: "the pipeline has not run on this lake yet"))
      return report
    }
    let rules = ZoneRules(profile: record.profile)
    var assertions = Assertions()

    // Landing customers, to state consent independently of the engine: an email's newest
    // records must all consent for it to be trusted.
    var landing: [CustomerRecord] = []
    _ = try reader.read(
      try lake.tableFiles(in: LandingSource.customer.landingFolder), makeConsumer: { CustomerConsumer() },
      absorb: { landing.append(contentsOf: $0.records) }, quarantine: { _ in })
    var newest: [String: (date: Int64, allConsent: Bool)] = [:]
    for customer in landing {
      let consents = customer.shareWithResearchAsOfDate != nil
      if let seen = newest[customer.email], seen.date > customer.lastUpdateDate { continue }
      if let seen = newest[customer.email], seen.date == customer.lastUpdateDate {
        newest[customer.email] = (seen.date, seen.allConsent && consents)
      } else {
        newest[customer.email] = (customer.lastUpdateDate, consents)
      }
    }
    let landingSet = Set(landing)
    landing = []

    let trusted: [CustomerRecord] = try readRecords(.customerTrusted, &assertions, decode: CustomerRecord.decode)
    let curated: [CustomerRecord] = try readRecords(.customersCurated, &assertions, decode: CustomerRecord.decode)

    let customerTables: [(ZoneTable, [CustomerRecord])] = [(.customerTrusted, trusted), (.customersCurated, curated)]
    for (table, rows) in customerTables {
      let name = table.rawValue
      assertions.check("unique", name, duplicates(rows.map { $0.email }, when: rules.currentRecordPerEmail)) {
        (email: String) in "email \(email) appears on more than one row"
      }
      assertions.check("unique", name, duplicates(rows, when: true)) { "row for \($0.email) appears twice" }
      assertions.check("consent", name, rows.first { $0.shareWithResearchAsOfDate == nil }) {
        "\($0.email) has no shareWithResearchAsOfDate"
      }
      assertions.check("from_landing", name, rows.first { !landingSet.contains($0) }) {
        "the row for \($0.email) is not a landing record"
      }
      if rules.currentRecordPerEmail {
        assertions.check(
          "current_consent", name,
          rows.first { newest[$0.email].map { row in !row.allConsent } ?? true }
        ) { "\($0.email)'s newest landing record does not consent to research" }
        assertions.check("current_record", name, rows.first { $0.lastUpdateDate != newest[$0.email]?.date }) {
          "the row for \($0.email) is not the newest record"
        }
      }
    }
    let trustedSet = Set(trusted)
    assertions.check("subset", ZoneTable.customersCurated.rawValue, curated.first { !trustedSet.contains($0) }) {
      "\($0.email) is curated but not trusted"
    }

    // Subjects and their earliest allowed reading time.
    var subjects = ByteStringTable(expectedCount: trusted.count)
    var allowedFrom: [Int64] = []
    for customer in trusted {
      let subject = Int(subjects.insert(customer.email))
      let from = rules.readingsFromConsentDate ? customer.shareWithResearchAsOfDate ?? Int64.max : Int64.min
      if subject == allowedFrom.count { allowedFrom.append(from) } else { allowedFrom[subject] = min(allowedFrom[subject], from) }
    }

    // accelerometer_trusted
    var readings: [AccelerometerRow] = []
    var unknownUsers = Violations()
    var early = Violations()
    try readTable(.accelerometerTrusted, &assertions, make: { CheckedAccelerometerConsumer(subjects: subjects) }) {
      readings.append(contentsOf: $0.rows)
      unknownUsers.merge($0.unknownUsers)
    }
    for row in readings where row.timestamp < allowedFrom[Int(row.subject)] {
      early.note("\(subjects.keys[Int(row.subject)].string) at \(row.timestamp)")
    }
    let accelerometerName = ZoneTable.accelerometerTrusted.rawValue
    assertions.check("relationship", accelerometerName, unknownUsers.example) { "user \($0) is not in customer_trusted" }
    assertions.check("consent", accelerometerName, early.example) { "reading from before consent: \($0)" }
    readings.sort(by: <)
    assertions.check("unique", accelerometerName, adjacentDuplicate(readings, equal: ==)) {
      "reading of \(subjects.keys[Int($0.subject)].string) at \($0.timestamp) appears twice"
    }
    var hasReadings = Set<Int32>()
    for row in readings { hasReadings.insert(row.subject) }
    assertions.check(
      "has_readings", ZoneTable.customersCurated.rawValue,
      curated.first { !hasReadings.contains(subjects.id(of: $0.email) ?? -1) }
    ) { "\($0.email) has no accelerometer_trusted reading" }

    // Serial numbers owned by curated customers.
    var serials = ByteStringTable(expectedCount: curated.count)
    var serialAllowedFrom: [Int64] = []
    var owners: [Set<Int32>] = []
    for customer in curated {
      let serial = Int(serials.insert(customer.serialNumber))
      let subject = subjects.id(of: customer.email) ?? -1
      let from = subject >= 0 ? allowedFrom[Int(subject)] : Int64.max
      if serial == owners.count {
        owners.append([subject])
        serialAllowedFrom.append(from)
      } else {
        owners[serial].insert(subject)
        serialAllowedFrom[serial] = min(serialAllowedFrom[serial], from)
      }
    }

    // step_trainer_trusted
    var steps: [StepTrainerRow] = []
    var unowned = Violations()
    try readTable(.stepTrainerTrusted, &assertions, make: { CheckedStepTrainerConsumer(serials: serials) }) {
      steps.append(contentsOf: $0.rows)
      unowned.merge($0.unknownSerials)
    }
    let stepName = ZoneTable.stepTrainerTrusted.rawValue
    assertions.check("relationship", stepName, unowned.example) { "serial \($0) is not held by a curated customer" }
    assertions.check("consent", stepName, steps.first { $0.time < serialAllowedFrom[Int($0.serial)] }) {
      "reading of \(serials.keys[Int($0.serial)].string) at \($0.time) is from before every owner's consent"
    }
    steps.sort(by: <)
    assertions.check("unique", stepName, adjacentDuplicate(steps, equal: ==)) {
      "reading of \(serials.keys[Int($0.serial)].string) at \($0.time) appears twice"
    }

    // machine_learning_curated
    var pseudonyms = ByteStringTable(expectedCount: trusted.count)
    for email in subjects.keys { pseudonyms.insert(key.subjectId(email: email.string)) }
    let curatedSubjects = Set(curated.compactMap { subjects.id(of: $0.email) })
    var consumerTemplate = CheckedCuratedConsumer(serials: serials, pseudonyms: pseudonyms, subjects: subjects)
    consumerTemplate.expectEmail = rules.curatedIncludesEmail
    var curatedRows: [CuratedRow] = []
    var curatedViolations = CuratedViolations()
    try readTable(.machineLearningCurated, &assertions, make: { consumerTemplate }) {
      curatedRows.append(contentsOf: $0.rows)
      curatedViolations.merge($0.violations)
    }
    let mlName = ZoneTable.machineLearningCurated.rawValue
    assertions.check("relationship", mlName, curatedViolations.unknownSerial.example) {
      "serial \($0) is not held by a curated customer"
    }
    assertions.check("pseudonym", mlName, curatedViolations.unknownSubject.example) {
      "subjectId \($0) is not the pseudonym of a trusted customer under this lake's key"
    }
    assertions.check("no_direct_identifiers", mlName, curatedViolations.identifier.example) { $0 }
    assertions.check("user_matches_subject", mlName, curatedViolations.userMismatch.example) { $0 }
    assertions.check(
      "curated_subject", mlName, curatedRows.first { !curatedSubjects.contains($0.reading.subject) }
    ) { "subject of \(subjects.keys[Int($0.reading.subject)].string) is not a curated customer" }
    if rules.ownerAwareJoin {
      assertions.check(
        "owner_join", mlName, curatedRows.first { !owners[Int($0.step.serial)].contains($0.reading.subject) }
      ) { "a reading of \(serials.keys[Int($0.step.serial)].string) is paired with a customer who does not hold it" }
    }
    assertions.check("join_time", mlName, curatedRows.first { $0.step.time != $0.reading.timestamp }) {
      "row at \($0.step.time) pairs readings of different instants"
    }
    let stepSet = Set(steps.map { StepKey($0) })
    assertions.check("from_step_trainer_trusted", mlName, curatedRows.first { !stepSet.contains(StepKey($0.step)) }) {
      "row at \($0.step.time) is not a step_trainer_trusted reading"
    }
    curatedRows.sort { a, b in
      a.step == b.step ? a.reading < b.reading : a.step < b.step
    }
    assertions.check(
      "unique", mlName, adjacentDuplicate(curatedRows) { $0.step == $1.step && $0.reading == $1.reading }
    ) { "row at \($0.step.time) appears twice" }
    assertions.check(
      "from_accelerometer_trusted", mlName,
      curatedRows.first { row in !readings.containsSorted(row.reading) }
    ) { "row at \($0.step.time) pairs a phone reading that is not in accelerometer_trusted" }

    report.checksRun = assertions.run
    report.findings = assertions.findings
    return report
  }

  // MARK: Reading

  private func readRecords<Record>(
    _ table: ZoneTable, _ assertions: inout Assertions,
    decode: @escaping (UnsafeBufferPointer<UInt8>) throws(RecordError) -> Record
  ) throws(LakeError) -> [Record] {
    var records: [Record] = []
    try readTable(table, &assertions, make: { RecordCollector(decode: decode) }) {
      records.append(contentsOf: $0.records)
    }
    return records
  }

  private func readTable<Consumer: NDJSONLineConsumer>(
    _ table: ZoneTable, _ assertions: inout Assertions, make: () -> Consumer, absorb: (consuming Consumer) -> Void
  ) throws(LakeError) {
    var malformed: QuarantinedLine?
    _ = try reader.read(
      try lake.tableFiles(in: table.folder), makeConsumer: make, absorb: absorb,
      quarantine: { line in if malformed == nil { malformed = line } })
    assertions.check("well_formed", table.rawValue, malformed) {
      "\($0.sourceFile) line \($0.line): \($0.detail) (required fields must be present and typed)"
    }
  }
}

/// Counts assertions and collects the failing ones.
struct Assertions {
  var run = 0
  var findings: [QualityFinding] = []

  mutating func check<Example>(
    _ name: String, _ table: String, _ failingExample: Example?, _ message: (Example) -> String
  ) {
    run += 1
    if let failingExample { findings.append(QualityFinding(check: name, table: table, message: message(failingExample))) }
  }
}

/// A count of violations and the first one, kept per chunk and merged in order.
struct Violations {
  var count = 0
  var example: String?

  mutating func note(_ text: @autoclosure () -> String) {
    count += 1
    if example == nil { example = text() }
  }

  mutating func merge(_ other: Violations) {
    count += other.count
    if example == nil { example = other.example }
  }
}

struct CuratedViolations {
  var unknownSerial = Violations()
  var unknownSubject = Violations()
  var identifier = Violations()
  var userMismatch = Violations()

  mutating func merge(_ other: CuratedViolations) {
    unknownSerial.merge(other.unknownSerial)
    unknownSubject.merge(other.unknownSubject)
    identifier.merge(other.identifier)
    userMismatch.merge(other.userMismatch)
  }
}

private struct StepKey: Hashable {
  var serial: Int32
  var time: Int64
  var distance: Double
  init(_ row: StepTrainerRow) {
    serial = row.serial
    time = row.time
    distance = row.distance
  }
}

private func duplicates<Element: Hashable>(_ values: [Element], when enabled: Bool) -> Element? {
  guard enabled else { return nil }
  var seen = Set<Element>()
  for value in values where !seen.insert(value).inserted { return value }
  return nil
}

private func adjacentDuplicate<Element>(_ sorted: [Element], equal: (Element, Element) -> Bool) -> Element? {
  guard sorted.count > 1 else { return nil }
  for index in 1..<sorted.count where equal(sorted[index - 1], sorted[index]) { return sorted[index] }
  return nil
}

extension [AccelerometerRow] {
  /// Whether the sorted array holds `row`.
  func containsSorted(_ row: AccelerometerRow) -> Bool {
    var low = 0
    var high = count
    while low < high {
      let middle = (low + high) / 2
      if self[middle] < row { low = middle + 1 } else { high = middle }
    }
    return low < count && self[low] == row
  }
}

extension [UInt8] {
  var string: String { String(decoding: self, as: UTF8.self) }
}
