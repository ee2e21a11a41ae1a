import Foundation
import LakeStorage
import StediTestSupport
import Testing

@testable import LakePrivacy
@testable import Lakehouse

/// `stedi lake audit`'s engine: a strict run over the sample lake (every flaw of the real data) is
/// clean, and each kind of breach planted on purpose is caught exactly, with its table and count.
@Suite struct ComplianceAuditTests {
  /// A sample lake after a pipeline run, with its own key in `_stedi/pseudonym.key`.
  struct AuditedLake {
    let root: String
    let key: PseudonymKey
    var storage: FileSystemStorage { FileSystemStorage(root: root) }

    init(_ name: String = #function, profile: PipelineProfile = .strict) async throws {
      root = try TemporaryFolder(name, prefix: "lakehouse").path
      try SampleLakeGenerator(customers: 60, seed: 21).write(to: root)
      key = try PseudonymKey.loadOrCreate(at: "\(root)/\(ComplianceAudit.pseudonymKeyObject)")
      let summary = try await ZonePipeline(lake: try Lake(root: root), rules: ZoneRules(profile: profile), key: key)
        .run()
      #expect(summary.published, "\(summary.qualityFailures)")
    }

    func audit(now: Date = Date(), key: PseudonymKey? = nil) async throws -> ComplianceReport {
      try await ComplianceAudit(storage: storage, pseudonymKey: key).run(now: now)
    }

    func lines(_ folder: String, file: String = TablePublisher.dataFileName) throws -> [String] {
      try String(contentsOfFile: "\(root)/\(folder)/\(file)", encoding: .utf8)
        .split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
    }

    func append(_ line: String, to folder: String) throws {
      let rows = try lines(folder) + [line]
      try (rows.joined(separator: "\n") + "\n").write(
        toFile: "\(root)/\(folder)/\(TablePublisher.dataFileName)", atomically: true, encoding: .utf8)
    }

    /// Every parseable landing customer record.
    func landingCustomers() throws -> [CustomerRecord] {
      var records: [CustomerRecord] = []
      for file in try Lake(root: root).tableFiles(in: LandingSource.customer.landingFolder) {
        for line in try String(contentsOfFile: file.absolutePath, encoding: .utf8).split(separator: "\n") {
          if let record = try? Array(line.utf8).withUnsafeBufferPointer({ try CustomerRecord.decode($0) }) {
            records.append(record)
          }
        }
      }
      return records
    }

    func trusted() throws -> [CustomerRecord] {
      try lines(ZoneTable.customerTrusted.folder).map { line in
        try Array(line.utf8).withUnsafeBufferPointer { try CustomerRecord.decode($0) }
      }
    }

    func setModified(_ relative: String, to date: Date) throws {
      try FileManager.default.setAttributes([.modificationDate: date], ofItemAtPath: "\(root)/\(relative)")
    }

    func remove() { TemporaryFolder(existing: root).remove() }
  }

  private static let day: TimeInterval = 86_400

  private func rendered(_ render: (inout NDJSONBuffer) -> Void) -> String {
    var buffer = NDJSONBuffer()
    render(&buffer)
    return String(decoding: buffer.bytes.dropLast(), as: UTF8.self)
  }

  /// The report never shows an email, a name or a serial number.
  private func expectNoPersonalData(_ report: ComplianceReport, serials: [String] = []) {
    for output in [report.text(), report.json()] {
      #expect(!output.contains("@sample.test"), "\(output)")
      #expect(!output.contains("Customer "), "\(output)")
      for serial in serials { #expect(!output.contains(serial), "\(output)") }
    }
  }

  // MARK: Clean

  @Test func aStrictRunOverTheSampleLakeIsClean() async throws {
    let lake = try await AuditedLake()
    defer { lake.remove() }
    let report = try await lake.audit()
    #expect(report.isClean, "\(report.text())")
    #expect(report.lastRunProfile == .strict)
    #expect(report.pseudonymKey == .lake)
    #expect(report.consentingCustomers > 0)
    // What was scanned: every area, with the rows the pipeline published.
    let rows = Dictionary(uniqueKeysWithValues: report.tables.map { ($0.table, $0.rows) })
    for table in ZoneTable.allCases {
      let published = try lake.lines(table.folder).count
      #expect(rows[table.rawValue] == published, "\(table)")
      #expect(rows[table.rawValue, default: 0] > 0, "\(table)")
    }
    #expect(rows["customer_quarantine"] == 4 && rows["accelerometer_quarantine"] == 2)
    #expect(rows["step_trainer_quarantine"] == 1)
    let landing = try #require(report.tables.first { $0.table == "customer_landing" })
    #expect(landing.files == 2 && landing.unreadableRows == 4)
    #expect(report.tables.first { $0.table == "accelerometer_landing" }?.files == 2)
    #expect(report.objectsSkipped >= 2)  // _stedi/pseudonym.key, _stedi/last-run.json
    #expect(report.text().contains("findings: none"))
  }

  @Test func aLakeWhereThePipelineNeverRanIsAuditedOnWhatExists() async throws {
    let root = try TemporaryFolder(prefix: "lakehouse").path
    defer { TemporaryFolder(existing: root).remove() }
    try SampleLakeGenerator(customers: 20, seed: 4).write(to: root)
    let report = try await ComplianceAudit(storage: FileSystemStorage(root: root)).run()
    #expect(report.isClean, "\(report.text())")
    #expect(report.lastRunProfile == nil && report.pseudonymKey == .absent)
    #expect(report.filesScanned == 5)
    for table in ZoneTable.allCases {
      #expect(report.tables.first { $0.table == table.rawValue }.map { $0.files == 0 && $0.rows == 0 } == true)
    }
    #expect(report.text().contains("the pipeline never ran"))
    #expect(!FileManager.default.fileExists(atPath: "\(root)/_stedi"), "the audit writes nothing")
  }

  // MARK: Each breach, planted

  @Test func aNonConsentingCustomerInCustomerTrustedIsFound() async throws {
    let lake = try await AuditedLake()
    defer { lake.remove() }
    let consenting = Set(try lake.trusted().map(\.email))
    let refuser = try #require(try lake.landingCustomers().first { !consenting.contains($0.email) })
    try lake.append(rendered { refuser.render(into: &$0) }, to: ZoneTable.customerTrusted.folder)
    let report = try await lake.audit()
    let line = try lake.lines(ZoneTable.customerTrusted.folder).count
    #expect(
      report.findings.map { [$0.check.rawValue, $0.table, "\($0.count)", "\($0.example)"] } == [
        ["consent", "customer_trusted", "1", "customer/trusted/part-00000.json:\(line)"]
      ], "\(report.text())")
    expectNoPersonalData(report, serials: [refuser.serialNumber])
  }

  @Test func aReadingFromBeforeConsentInAccelerometerTrustedIsFound() async throws {
    let lake = try await AuditedLake()
    defer { lake.remove() }
    let customer = try #require(try lake.trusted().first)
    let early = AccelerometerReading(
      user: customer.email, timestamp: customer.shareWithResearchAsOfDate! - 1, x: 0, y: 1, z: 0)
    try lake.append(rendered { early.render(into: &$0) }, to: ZoneTable.accelerometerTrusted.folder)
    let report = try await lake.audit()
    let lastLine = try lake.lines(ZoneTable.accelerometerTrusted.folder).count
    #expect(report.findings.map(\.check) == [.beforeConsent], "\(report.text())")
    #expect(report.findings.first?.table == "accelerometer_trusted")
    #expect(report.findings.first?.count == 1)
    #expect(report.findings.first?.example.line == lastLine)
    expectNoPersonalData(report)
  }

  @Test(arguments: [
    ("user", "\"Customer.3@sample.test\""), ("email", "\"Customer.3@sample.test\""), ("phone", "\"8015551212\""),
    ("birthDay", "\"1990-01-01\""), ("customerName", "\"Customer 3\""), ("note", "\"ask Customer.3@sample.test\""),
  ])
  func aDirectIdentifierInMachineLearningCuratedIsFound(member: String, value: String) async throws {
    let lake = try await AuditedLake("directIdentifier\(member)")
    defer { lake.remove() }
    let folder = ZoneTable.machineLearningCurated.folder
    let first = try #require(try lake.lines(folder).first)
    try lake.append(String(first.dropLast()) + ",\"\(member)\":\(value)}", to: folder)
    let report = try await lake.audit()
    let lastLine = try lake.lines(folder).count
    #expect(report.findings.map(\.check) == [.directIdentifier], "\(report.text())")
    let finding = try #require(report.findings.first)
    #expect(finding.table == "machine_learning_curated" && finding.count == 1)
    #expect(finding.example == .init(file: "\(folder)/part-00000.json", line: lastLine))
    expectNoPersonalData(report)
  }

  @Test func anErasedCustomerIsFoundInLandingTrustedCuratedAndQuarantine() async throws {
    let lake = try await AuditedLake()
    defer { lake.remove() }
    // A consenting customer whose serial number nobody else holds (so it is theirs alone to
    // erase), and Customer.1, whose malformed phone reading sits in the quarantine.
    let landing = try lake.landingCustomers()
    let holders = Dictionary(grouping: landing, by: \.serialNumber).mapValues { Set($0.map(\.email)) }
    let chosen = try #require(try lake.trusted().first { holders[$0.serialNumber]!.count == 1 })
    let erasureKey = try #require(try await ErasureKey.load(storage: lake.storage, create: true))
    var list = ErasureList()
    list.record(
      .init(
        subject: erasureKey.hash(email: chosen.email), erasedAt: 1,
        serials: [.init(hash: erasureKey.hash(serialNumber: chosen.serialNumber), until: .max)]))
    list.record(.init(subject: erasureKey.hash(email: "customer.1@SAMPLE.test"), erasedAt: 1, serials: []))
    try await list.save(storage: lake.storage)

    // The oracle: lines of each file that carry one of their identifiers, counted independently.
    let identifiers = [
      chosen.email, chosen.serialNumber, lake.key.subjectId(email: chosen.email), "Customer.1@sample.test",
      lake.key.subjectId(email: "Customer.1@sample.test"),
    ]
    var expected: [String: Int] = [:]
    for area in AuditArea.all {
      for file in try Lake(root: lake.root).tableFiles(in: area.folder) {
        let text = String(decoding: FileManager.default.contents(atPath: file.absolutePath)!, as: UTF8.self)
        let count = text.split(separator: "\n").filter { line in identifiers.contains { line.contains($0) } }.count
        if count > 0 { expected[area.name, default: 0] += count }
      }
    }
    let report = try await lake.audit()
    #expect(Set(report.findings.map(\.check)) == [.erasedCustomer], "\(report.text())")
    #expect(Dictionary(uniqueKeysWithValues: report.findings.map { ($0.table, $0.count) }) == expected)
    for table in [
      "customer_landing", "accelerometer_landing", "step_trainer_landing", "customer_trusted", "accelerometer_trusted",
      "step_trainer_trusted", "machine_learning_curated", "accelerometer_quarantine",
    ] {
      #expect(expected[table, default: 0] > 0, "the sample lake should hold \(table) rows of the erased")
    }
    #expect(report.erasedCustomers == 2)
    expectNoPersonalData(report, serials: [chosen.serialNumber])
  }

  @Test func anErasureListWithoutItsKeyIsAnErrorNotAnAllClear() async throws {
    let lake = try await AuditedLake()
    defer { lake.remove() }
    try await ErasureList(entries: [.init(subject: "00", erasedAt: 1, serials: [])]).save(storage: lake.storage)
    await #expect(throws: StorageError.self) { try await lake.audit() }
  }

  @Test func quarantinedLinesKeptPastTheRetentionLimitAreFound() async throws {
    let lake = try await AuditedLake()
    defer { lake.remove() }
    #expect(try await lake.audit(now: Date().addingTimeInterval(20 * Self.day)).isClean)
    let report = try await lake.audit(now: Date().addingTimeInterval(40 * Self.day))
    #expect(
      report.findings.map { [$0.check.rawValue, $0.table, "\($0.count)"] } == [
        ["quarantine_retention", "customer_quarantine", "4"],
        ["quarantine_retention", "accelerometer_quarantine", "2"],
        ["quarantine_retention", "step_trainer_quarantine", "1"],
      ], "\(report.text())")
    #expect(report.findings.first?.example == .init(file: "customer/quarantine/part-00000.json", line: 1))
  }

  @Test func retentionCountsFromTheLandingFileAndElseFromTheQuarantineItself() async throws {
    let lake = try await AuditedLake()
    defer { lake.remove() }
    // The quarantine file was just rewritten by the run; what counts is when the landing file arrived.
    let source = try #require(try Lake(root: lake.root).tableFiles(in: "step_trainer/landing").first)
    try lake.setModified(source.relativePath, to: Date().addingTimeInterval(-31 * Self.day))
    var report = try await lake.audit()
    #expect(report.findings.map { [$0.table, "\($0.count)"] } == [["step_trainer_quarantine", "1"]])

    // A quarantine entry whose landing file is gone is as old as the quarantine file holding it.
    try lake.setModified(source.relativePath, to: Date())
    let entry =
      #"{"sourceFile": "customer/landing/gone.json", "line": 3, "reason": "truncated", "detail": "", "raw": "{"}"#
    try (entry + "\n").write(toFile: "\(lake.root)/customer/quarantine/old.json", atomically: true, encoding: .utf8)
    try lake.setModified("customer/quarantine/old.json", to: Date().addingTimeInterval(-45 * Self.day))
    report = try await lake.audit()
    #expect(
      report.findings.map { [$0.table, "\($0.count)", "\($0.example)"] } == [
        ["customer_quarantine", "1", "customer/quarantine/old.json:1"]
      ])
  }

  // MARK: Whole lakes that break the promise

  @Test func aUdacityProfileLakeFailsTheAudit() async throws {
    let lake = try await AuditedLake(profile: .udacity)
    defer { lake.remove() }
    let report = try await lake.audit()
    #expect(!report.isClean)
    #expect(report.lastRunProfile == .udacity)
    let found = Set(report.findings.map { "\($0.check.rawValue) \($0.table)" })
    for expected in [
      "consent customer_trusted", "before_consent accelerometer_trusted", "direct_identifier machine_learning_curated",
    ] {
      #expect(found.contains(expected), "\(report.text())")
    }
    // Every curated row of the rubric carries the email.
    let curatedRows = try lake.lines(ZoneTable.machineLearningCurated.folder).count
    #expect(report.findings(.directIdentifier).first?.count == curatedRows)
    expectNoPersonalData(report)
  }

  @Test func withoutThePseudonymKeyEveryCuratedRowIsUnverifiable() async throws {
    let lake = try await AuditedLake()
    defer { lake.remove() }
    try FileManager.default.removeItem(atPath: "\(lake.root)/\(ComplianceAudit.pseudonymKeyObject)")
    let curatedRows = try lake.lines(ZoneTable.machineLearningCurated.folder).count
    let report = try await lake.audit()
    #expect(report.pseudonymKey == .absent)
    #expect(
      report.findings.map { [$0.check.rawValue, $0.table, "\($0.count)"] } == [
        ["consent", "machine_learning_curated", "\(curatedRows)"]
      ])
    #expect(report.findings.first?.detail.contains("no pseudonym key") == true)
    // The right key given from elsewhere verifies them; a wrong one matches no consenting customer.
    #expect(try await lake.audit(key: lake.key).isClean)
    let wrong = try await lake.audit(key: PseudonymKey(bytes: Array(repeating: 1, count: 32)))
    #expect(wrong.pseudonymKey == .given)
    #expect(wrong.findings.map(\.count) == [curatedRows])
  }

  @Test func aRowThatIsNoRecordOfItsTableCannotPassUnjudged() async throws {
    let lake = try await AuditedLake()
    defer { lake.remove() }
    try lake.append(#"{"user": "someone", "timestamp": "yesterday"}"#, to: ZoneTable.accelerometerTrusted.folder)
    let report = try await lake.audit()
    #expect(
      report.findings.map { [$0.check.rawValue, $0.table, "\($0.count)"] } == [
        ["unreadable", "accelerometer_trusted", "1"]
      ])
    #expect(report.tables.first { $0.table == "accelerometer_trusted" }?.unreadableRows == 1)
  }

  // MARK: Report and storage

  @Test func theJSONReportHasTheDocumentedShape() async throws {
    let lake = try await AuditedLake()
    defer { lake.remove() }
    let report = try await lake.audit(now: Date().addingTimeInterval(40 * Self.day))
    let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
    #expect(object["clean"] as? Bool == false)
    #expect(object["rules"] as? String == "strict" && object["lastRunProfile"] as? String == "strict")
    #expect(object["quarantineRetentionDays"] as? Int == 30 && object["pseudonymKey"] as? String == "lake")
    #expect(object["auditedAt"] is String && object["lake"] as? String == lake.root)
    let scanned = try #require(object["scanned"] as? [String: Any])
    let tables = try #require(scanned["tables"] as? [[String: Any]])
    #expect(tables.count == 12)
    #expect(tables.allSatisfy { $0["table"] is String && $0["folder"] is String && $0["rows"] is Int })
    let findings = try #require(object["findings"] as? [[String: Any]])
    #expect(findings.count == 3)
    let example = try #require(findings.first?["example"] as? [String: Any])
    #expect(example["file"] as? String == "customer/quarantine/part-00000.json" && example["line"] as? Int == 1)
    #expect(findings.first?["check"] as? String == "quarantine_retention" && findings.first?["rows"] as? Int == 4)
  }

  /// The audit reads the lake's metadata too: an ingest log kept in the lake that still holds an
  /// erased customer's records is a finding.
  @Test func theAuditFindsAnErasedCustomerInTheIngestLog() async throws {
    let root = try TemporaryFolder(prefix: "lakehouse").path
    defer { TemporaryFolder(existing: root).remove() }
    let storage = FileSystemStorage(root: root)
    let erasureKeyBytes = Array(repeating: UInt8(5), count: 32)
    try await storage.put(ErasureKey.storageKey, bytes: Array((SecretKeyFile.hex(erasureKeyBytes) + "\n").utf8))
    let key = ErasureKey(bytes: erasureKeyBytes)
    try await ErasureList(entries: [
      .init(subject: key.hash(email: "élise@x.com"), erasedAt: 1_700_000_000_000, serials: [])
    ])
    .save(storage: storage)
    // A segment's bytes: a binary header, then the records' NDJSON.
    let segment =
      [0x57, 0x41, 0x4C, 0x31, 0, 1, 0, 0] + Array(#"{"user":"E\u0301LISE@x.com","timestamp":1}"#.utf8) + [0x0A]
    try await storage.put("_stedi/ingest-wal/wal-00000000000000000001.log", bytes: segment)
    let report = try await ComplianceAudit(storage: storage).run()
    let finding = try #require(report.findings.first { $0.check == .erasedCustomer })
    #expect(finding.table == "lake_metadata")

    try await storage.put("_stedi/ingest-wal/wal-00000000000000000001.log", bytes: [0x57, 0x41, 0x4C, 0x31])
    let clean = try await ComplianceAudit(storage: storage).run()
    #expect(!clean.findings.contains { $0.check == .erasedCustomer })
  }
}
