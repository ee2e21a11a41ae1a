// dbt-style quality assertions. Each rule is stated here in its own, independent words (not by
// calling the engine's code), so a bug in the engine's implementation of a rule shows up here
// instead of being repeated. `pipeline run` asserts on its tables in memory before publishing
// anything; `pipeline check` reads the published tables back and asserts the same.

import Foundation
import LakeStorage

/// Runs the quality assertions on a lake's published tables.
public struct QualityCheck: Sendable {
  public let lake: Lake
  public let key: PseudonymKey
  public var reader = NDJSONTableReader()
  /// The clock that decides which landing dates are in the future, as the run's clock did.
  public var now: @Sendable () -> Date = { Date() }

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

  /// Checks the published tables against the rules of the profile that the last run used.
  public func run(progress: (String) -> Void = { _ in }) async throws(StorageError) -> Report {
    guard let record = RunRecord.read(from: lake) else {
      return Report(
        checksRun: 1,
        findings: [QualityFinding(check: "ran", table: "lake", message: "the pipeline has not run on this lake yet")])
    }
    let rules = ZoneRules(profile: record.profile)
    var assertions = Assertions()
    progress("checking: reading landing customers")
    var landing: [CustomerRecord] = []
    _ = try reader.read(
      try lake.tableFiles(in: LandingSource.customer.landingFolder),
      makeConsumer: { CustomerConsumer(times: RecordTimeWindow(now: now())) },
      absorb: { landing.append(contentsOf: $0.records) }, quarantine: { _ in })
    progress("checking: reading published tables")
    let tables = try await load(rules: rules, &assertions)
    progress("checking: asserting")
    QualityAssertions(rules: rules).check(tables, landingCustomers: landing, &assertions)
    return Report(checksRun: assertions.run, findings: assertions.findings)
  }

  /// Reads the published tables into compact rows, noting rows that cannot be represented.
  private func load(rules: ZoneRules, _ assertions: inout Assertions) async throws(StorageError) -> ZoneTables {
    let trusted: [CustomerRecord] = try await readRecords(
      .customerTrusted, rules: rules, &assertions, decode: CustomerRecord.decode)
    let curated: [CustomerRecord] = try await readRecords(
      .customersCurated, rules: rules, &assertions, decode: CustomerRecord.decode)
    let (subjects, serials) = ZoneTables.dictionaries(trusted: trusted, curated: curated)

    var readings: [AccelerometerRow] = []
    var unknownUsers = Violations()
    try await readTable(
      .accelerometerTrusted, rules: rules, &assertions, make: { CheckedAccelerometerConsumer(subjects: subjects) }
    ) {
      readings.append(contentsOf: $0.rows)
      unknownUsers.merge($0.unknownUsers)
    }
    assertions.check("relationship", ZoneTable.accelerometerTrusted.rawValue, unknownUsers.example) {
      "user \($0) is not in customer_trusted"
    }

    var steps: [StepTrainerRow] = []
    var unowned = Violations()
    try await readTable(
      .stepTrainerTrusted, rules: rules, &assertions, make: { CheckedStepTrainerConsumer(serials: serials) }
    ) {
      steps.append(contentsOf: $0.rows)
      unowned.merge($0.unknownSerials)
    }
    assertions.check("relationship", ZoneTable.stepTrainerTrusted.rawValue, unowned.example) {
      "serial \($0) is not held by a curated customer"
    }

    var pseudonyms = ByteStringTable(expectedCount: subjects.count)
    for email in subjects.keys { pseudonyms.insert(key.subjectId(email: email.string)) }
    var template = CheckedCuratedConsumer(serials: serials, pseudonyms: pseudonyms, subjects: subjects)
    template.expectEmail = rules.curatedIncludesEmail
    var curatedRows: [CuratedRow] = []
    var violations = CuratedViolations()
    try await readTable(.machineLearningCurated, rules: rules, &assertions, make: { template }) {
      curatedRows.append(contentsOf: $0.rows)
      violations.merge($0.violations)
    }
    let name = ZoneTable.machineLearningCurated.rawValue
    assertions.check("relationship", name, violations.unknownSerial.example) {
      "serial \($0) is not held by a curated customer"
    }
    assertions.check("pseudonym", name, violations.unknownSubject.example) {
      "subjectId \($0) is not the pseudonym of a trusted customer under this lake's key"
    }
    assertions.check("no_direct_identifiers", name, violations.identifier.example) { $0 }
    assertions.check("user_matches_subject", name, violations.userMismatch.example) { $0 }

    return ZoneTables(
      customerTrusted: trusted, customersCurated: curated, subjects: subjects, serials: serials,
      accelerometerTrusted: readings, stepTrainerTrusted: steps, machineLearningCurated: curatedRows)
  }

  private func readRecords<Record>(
    _ table: ZoneTable, rules: ZoneRules, _ assertions: inout Assertions,
    decode: @escaping (UnsafeBufferPointer<UInt8>) throws(RecordError) -> Record
  ) async throws(StorageError) -> [Record] {
    var records: [Record] = []
    try await readTable(table, rules: rules, &assertions, make: { RecordCollector(decode: decode) }) {
      records.append(contentsOf: $0.records)
    }
    return records
  }

  /// Reads a published table, NDJSON or Parquet (`ZoneTableReader`), noting its first malformed row.
  private func readTable<Consumer: NDJSONLineConsumer>(
    _ table: ZoneTable, rules: ZoneRules, _ assertions: inout Assertions, make: () -> Consumer,
    absorb: (consuming Consumer) -> Void
  ) async throws(StorageError) {
    var malformed: QuarantinedLine?
    var tableReader = ZoneTableReader(lake: lake)
    tableReader.ndjson = reader
    _ = try await tableReader.read(
      TableSchema.zone(table, rules: rules), makeConsumer: make, absorb: absorb,
      quarantine: { line in if malformed == nil { malformed = line } })
    let unlisted = try await tableReader.unlistedFiles(TableSchema.zone(table, rules: rules))
    assertions.check("listed_files", table.rawValue, unlisted.first) {
      "\(table.folder)/\($0) is in the table's folder but not in its Delta log"
        + " (\(unlisted.count) such files): readers that list the folder would read it"
    }
    assertions.check("well_formed", table.rawValue, malformed) {
      "\($0.sourceFile) line \($0.line): \($0.detail) (required fields must be present and typed)"
    }
  }
}

/// The assertions themselves, over tables in memory.
struct QualityAssertions {
  let rules: ZoneRules

  func check(_ tables: ZoneTables, landingCustomers: [CustomerRecord], _ assertions: inout Assertions) {
    let trusted = tables.customerTrusted
    let curated = tables.customersCurated
    let subjects = tables.subjects
    let serials = tables.serials

    // An email's newest landing records must all consent for it to be trusted (strict).
    var newest: [String: (date: Int64, allConsent: Bool)] = [:]
    for customer in landingCustomers {
      let consents = customer.shareWithResearchAsOfDate != nil
      let identity = Identity.canonical(customer.email)
      if let seen = newest[identity], seen.date > customer.lastUpdateDate { continue }
      if let seen = newest[identity], seen.date == customer.lastUpdateDate {
        newest[identity] = (seen.date, seen.allConsent && consents)
      } else {
        newest[identity] = (customer.lastUpdateDate, consents)
      }
    }
    let landingSet = Set(landingCustomers)

    let customerTables: [(ZoneTable, [CustomerRecord])] = [(.customerTrusted, trusted), (.customersCurated, curated)]
    for (table, rows) in customerTables {
      let name = table.rawValue
      assertions.check(
        "unique", name, duplicates(rows.map { Identity.canonical($0.email) }, when: rules.currentRecordPerEmail)
      ) {
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
          rows.first { newest[Identity.canonical($0.email)].map { row in !row.allConsent } ?? true }
        ) { "\($0.email)'s newest landing record does not consent to research" }
        assertions.check(
          "current_record", name, rows.first { $0.lastUpdateDate != newest[Identity.canonical($0.email)]?.date }
        ) {
          "the row for \($0.email) is not the newest record"
        }
      }
    }
    let trustedSet = Set(trusted)
    assertions.check("subset", ZoneTable.customersCurated.rawValue, curated.first { !trustedSet.contains($0) }) {
      "\($0.email) is curated but not trusted"
    }

    // Per subject, the earliest reading time the rules allow.
    var allowedFrom = [Int64](repeating: Int64.max, count: subjects.count)
    for customer in trusted {
      let subject = Int(subjects.id(ofIdentity: customer.email)!)
      let from = rules.readingsFromConsentDate ? customer.shareWithResearchAsOfDate ?? Int64.max : Int64.min
      allowedFrom[subject] = min(allowedFrom[subject], from)
    }

    // accelerometer_trusted
    let accelerometerName = ZoneTable.accelerometerTrusted.rawValue
    let readings = sortedIfNeeded(tables.accelerometerTrusted, by: <)
    assertions.check("consent", accelerometerName, readings.first { $0.timestamp < allowedFrom[Int($0.subject)] }) {
      "reading of \(subjects.keys[Int($0.subject)].string) at \($0.timestamp) is from before consent"
    }
    assertions.check("unique", accelerometerName, adjacentDuplicate(readings, equal: ==)) {
      "reading of \(subjects.keys[Int($0.subject)].string) at \($0.timestamp) appears twice"
    }
    var hasReadings = [Bool](repeating: false, count: subjects.count)
    for row in readings { hasReadings[Int(row.subject)] = true }
    assertions.check(
      "has_readings", ZoneTable.customersCurated.rawValue,
      curated.first { !hasReadings[Int(subjects.id(ofIdentity: $0.email) ?? 0)] }
    ) { "\($0.email) has no accelerometer_trusted reading" }

    // Owners of each serial number, and the earliest reading time any of them allows.
    var owners = [[Int32]](repeating: [], count: serials.count)
    var serialAllowedFrom = [Int64](repeating: Int64.max, count: serials.count)
    var curatedSubject = [Bool](repeating: false, count: subjects.count)
    for customer in curated {
      guard let serial = serials.id(ofIdentity: customer.serialNumber),
        let subject = subjects.id(ofIdentity: customer.email)
      else {
        continue
      }
      curatedSubject[Int(subject)] = true
      if !owners[Int(serial)].contains(subject) { owners[Int(serial)].append(subject) }
      serialAllowedFrom[Int(serial)] = min(serialAllowedFrom[Int(serial)], allowedFrom[Int(subject)])
    }

    // step_trainer_trusted
    let stepName = ZoneTable.stepTrainerTrusted.rawValue
    let steps = sortedIfNeeded(tables.stepTrainerTrusted, by: <)
    assertions.check("consent", stepName, steps.first { $0.time < serialAllowedFrom[Int($0.serial)] }) {
      "reading of \(serials.keys[Int($0.serial)].string) at \($0.time) is from before every owner's consent"
    }
    assertions.check("unique", stepName, adjacentDuplicate(steps, equal: ==)) {
      "reading of \(serials.keys[Int($0.serial)].string) at \($0.time) appears twice"
    }

    // machine_learning_curated
    let name = ZoneTable.machineLearningCurated.rawValue
    let rows = sortedIfNeeded(tables.machineLearningCurated) { a, b in
      a.step == b.step ? a.reading < b.reading : a.step < b.step
    }
    assertions.check("curated_subject", name, rows.first { !curatedSubject[Int($0.reading.subject)] }) {
      "subject of \(subjects.keys[Int($0.reading.subject)].string) is not a curated customer"
    }
    if rules.ownerAwareJoin {
      assertions.check("owner_join", name, rows.first { !owners[Int($0.step.serial)].contains($0.reading.subject) }) {
        "a reading of \(serials.keys[Int($0.step.serial)].string) is paired with a customer who does not hold it"
      }
    }
    assertions.check("join_time", name, rows.first { $0.step.time != $0.reading.timestamp }) {
      "row at \($0.step.time) pairs readings of different instants"
    }
    assertions.check(
      "from_step_trainer_trusted", name, rows.firstOnAllCores { !steps.containsSorted($0.step, less: <, equal: ==) }
    ) { "row at \($0.step.time) is not a step_trainer_trusted reading" }
    assertions.check(
      "from_accelerometer_trusted", name,
      rows.firstOnAllCores { !readings.containsSorted($0.reading, less: <, equal: ==) }
    ) { "row at \($0.step.time) pairs a phone reading that is not in accelerometer_trusted" }
    assertions.check("unique", name, adjacentDuplicate(rows) { $0.step == $1.step && $0.reading == $1.reading }) {
      "row at \($0.step.time) appears twice"
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
    if let failingExample {
      findings.append(QualityFinding(check: name, table: table, message: message(failingExample)))
    }
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

private func duplicates<Element: Hashable>(_ values: [Element], when enabled: Bool) -> Element? {
  guard enabled else { return nil }
  var seen = Set<Element>()
  for value in values where !seen.insert(value).inserted { return value }
  return nil
}

/// The rows in order: as given when they already are (published tables are written sorted).
private func sortedIfNeeded<Element>(_ rows: [Element], by less: (Element, Element) -> Bool) -> [Element] {
  for index in rows.indices.dropFirst() where less(rows[index], rows[index - 1]) {
    return rows.sorted(by: less)
  }
  return rows
}

private func adjacentDuplicate<Element>(_ sorted: [Element], equal: (Element, Element) -> Bool) -> Element? {
  guard sorted.count > 1 else { return nil }
  for index in 1..<sorted.count where equal(sorted[index - 1], sorted[index]) { return sorted[index] }
  return nil
}

extension Array {
  /// The first element that satisfies `predicate`, searching slices on all cores.
  func firstOnAllCores(where predicate: (Element) -> Bool) -> Element? {
    let slices = 16
    let firstHits = UnsafeMutableBufferPointer<Int>.allocate(capacity: slices)
    defer { firstHits.deallocate() }
    withUnsafeBufferPointer { elements in
      concurrentForEach(slices) { slice in
        let range = (elements.count * slice / slices)..<(elements.count * (slice + 1) / slices)
        firstHits[slice] = range.first { predicate(elements[$0]) } ?? Int.max
      }
    }
    let index = firstHits.min() ?? Int.max
    return index == Int.max ? nil : self[index]
  }

  /// Whether the sorted array holds `element`.
  func containsSorted(_ element: Element, less: (Element, Element) -> Bool, equal: (Element, Element) -> Bool) -> Bool {
    var low = 0
    var high = count
    while low < high {
      let middle = (low + high) / 2
      if less(self[middle], element) { low = middle + 1 } else { high = middle }
    }
    return low < count && equal(self[low], element)
  }
}

extension [UInt8] {
  var string: String { String(decoding: self, as: UTF8.self) }
}
