import DeltaLog
import Foundation
import LakeStorage
import Parquet
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

    /// The sample lake after a run of `profile` writing `format` (the profile's own when nil).
    init(_ name: String = #function, profile: PipelineProfile = .strict, format: TableFormat? = nil) async throws {
      root = try TemporaryFolder(name, prefix: "lakehouse").path
      try SampleLakeGenerator(customers: 60, seed: 21).write(to: root)
      key = try PseudonymKey.loadOrCreate(at: "\(root)/\(ComplianceAudit.pseudonymKeyObject)")
      let summary = try await ZonePipeline(
        lake: try Lake(root: root), rules: ZoneRules(profile: profile), key: key, format: format
      ).run()
      #expect(summary.published, "\(summary.qualityFailures)")
      #expect(summary.format == format ?? TableFormat.standard(for: profile))
    }

    func audit(now: Date = Date(), key: PseudonymKey? = nil) async throws -> ComplianceReport {
      try await ComplianceAudit(storage: storage, pseudonymKey: key).run(now: now)
    }

    func isParquet(_ folder: String) -> Bool { FileManager.default.fileExists(atPath: "\(root)/\(folder)/_delta_log") }

    /// A table's rows as lines: its NDJSON file, or its current Parquet files' rows rendered as
    /// the lines they stand for (whatever columns a planted file has).
    func lines(_ folder: String) async throws -> [String] {
      guard isParquet(folder) else {
        return try String(contentsOfFile: "\(root)/\(folder)/\(TablePublisher.dataFileName)", encoding: .utf8)
          .split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
      }
      let table = DeltaTable(storage: storage, root: folder)
      var lines: [String] = []
      for file in try #require(try await table.snapshot()).sortedFiles {
        let key = table.dataKey(path: file.path)
        let rendered = try ParquetTableFile(key: key, bytes: try await storage.get(key)).renderedLines()
        lines += String(decoding: rendered, as: UTF8.self).split(separator: "\n").map(String.init)
      }
      return lines
    }

    /// Adds `line` to the table in `folder` as its last row and says where it is: appended to
    /// the NDJSON file, or (Parquet) in a new version whose file of the row's partition has the
    /// row at its end.
    @discardableResult
    func append(_ line: String, to folder: String) async throws -> ComplianceFinding.Location {
      guard isParquet(folder) else {
        let rows = try await lines(folder) + [line]
        try (rows.joined(separator: "\n") + "\n").write(
          toFile: "\(root)/\(folder)/\(TablePublisher.dataFileName)", atomically: true, encoding: .utf8)
        return .init(file: "\(folder)/\(TablePublisher.dataFileName)", line: rows.count)
      }
      return try await ParquetPlant.append(line, to: folder, in: storage)
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

    func trusted() async throws -> [CustomerRecord] {
      try await lines(ZoneTable.customerTrusted.folder).map { line in
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

  @Test(arguments: [TableFormat.parquet, .ndjson])
  func aStrictRunOverTheSampleLakeIsClean(format: TableFormat) async throws {
    let lake = try await AuditedLake("clean\(format)", format: format)
    defer { lake.remove() }
    let report = try await lake.audit()
    #expect(report.isClean, "\(report.text())")
    #expect(report.lastRunProfile == .strict)
    #expect(report.pseudonymKey == .lake)
    #expect(report.consentingCustomers > 0)
    // What was scanned: every area, with the rows the pipeline published.
    let rows = Dictionary(uniqueKeysWithValues: report.tables.map { ($0.table, $0.rows) })
    for table in ZoneTable.allCases {
      let published = try await lake.lines(table.folder).count
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

  /// In Parquet the row is planted through a new Delta version (the file of its partition
  /// replaced by one with the row at its end): the finding names that file and the row.
  @Test(arguments: [TableFormat.parquet, .ndjson])
  func aNonConsentingCustomerInCustomerTrustedIsFound(format: TableFormat) async throws {
    let lake = try await AuditedLake("nonConsenting\(format)", format: format)
    defer { lake.remove() }
    let consenting = Set(try await lake.trusted().map(\.email))
    let refuser = try #require(try lake.landingCustomers().first { !consenting.contains($0.email) })
    let planted = try await lake.append(rendered { refuser.render(into: &$0) }, to: ZoneTable.customerTrusted.folder)
    let report = try await lake.audit()
    let line = try await lake.lines(ZoneTable.customerTrusted.folder).count
    #expect(planted.line == line)
    #expect(planted.file.hasSuffix(format == .parquet ? ".parquet" : "/part-00000.json"))
    #expect(
      report.findings.map { [$0.check.rawValue, $0.table, "\($0.count)", "\($0.example)"] } == [
        ["consent", "customer_trusted", "1", "\(planted.file):\(line)"]
      ], "\(report.text())")
    expectNoPersonalData(report, serials: [refuser.serialNumber])
  }

  @Test(arguments: [TableFormat.parquet, .ndjson])
  func aReadingFromBeforeConsentInAccelerometerTrustedIsFound(format: TableFormat) async throws {
    let lake = try await AuditedLake("beforeConsent\(format)", format: format)
    defer { lake.remove() }
    let customer = try #require(try await lake.trusted().first)
    let early = AccelerometerReading(
      user: customer.email, timestamp: customer.shareWithResearchAsOfDate! - 1, x: 0, y: 1, z: 0)
    let planted = try await lake.append(
      rendered { early.render(into: &$0) }, to: ZoneTable.accelerometerTrusted.folder)
    let report = try await lake.audit()
    #expect(report.findings.map(\.check) == [.beforeConsent], "\(report.text())")
    #expect(report.findings.first?.table == "accelerometer_trusted")
    #expect(report.findings.first?.count == 1)
    #expect(report.findings.first?.example == planted)
    expectNoPersonalData(report)
  }

  /// In Parquet the member is a column the planted file has beyond the table's.
  @Test(
    arguments: [
      ("user", "\"Customer.3@sample.test\""), ("email", "\"Customer.3@sample.test\""), ("phone", "\"8015551212\""),
      ("birthDay", "\"1990-01-01\""), ("customerName", "\"Customer 3\""), ("note", "\"ask Customer.3@sample.test\""),
    ], [TableFormat.parquet, .ndjson])
  func aDirectIdentifierInMachineLearningCuratedIsFound(member: (String, String), format: TableFormat) async throws {
    let (member, value) = member
    let lake = try await AuditedLake("directIdentifier\(member)\(format)", format: format)
    defer { lake.remove() }
    let folder = ZoneTable.machineLearningCurated.folder
    let first = try #require(try await lake.lines(folder).first)
    let planted = try await lake.append(String(first.dropLast()) + ",\"\(member)\":\(value)}", to: folder)
    let report = try await lake.audit()
    #expect(report.findings.map(\.check) == [.directIdentifier], "\(report.text())")
    let finding = try #require(report.findings.first)
    #expect(finding.table == "machine_learning_curated" && finding.count == 1)
    #expect(finding.example == planted)
    if format == .ndjson {
      #expect(planted == .init(file: "\(folder)/part-00000.json", line: try await lake.lines(folder).count))
    }
    expectNoPersonalData(report)
  }

  @Test(arguments: [TableFormat.parquet, .ndjson])
  func anErasedCustomerIsFoundInLandingTrustedCuratedAndQuarantine(format: TableFormat) async throws {
    let lake = try await AuditedLake("erasedFound\(format)", format: format)
    defer { lake.remove() }
    // A consenting customer whose serial number nobody else holds (so it is theirs alone to
    // erase), and Customer.1, whose malformed phone reading sits in the quarantine.
    let landing = try lake.landingCustomers()
    let holders = Dictionary(grouping: landing, by: \.serialNumber).mapValues { Set($0.map(\.email)) }
    let chosen = try #require(try await lake.trusted().first { holders[$0.serialNumber]!.count == 1 })
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
      var lines: [Substring] = []
      if lake.isParquet(area.folder) {
        lines = try await lake.lines(area.folder).map { $0[...] }
      } else {
        for file in try Lake(root: lake.root).tableFiles(in: area.folder) {
          lines += String(decoding: FileManager.default.contents(atPath: file.absolutePath)!, as: UTF8.self)
            .split(separator: "\n")
        }
      }
      let count = lines.filter { line in identifiers.contains { line.contains($0) } }.count
      if count > 0 { expected[area.name, default: 0] += count }
    }
    if format == .parquet { #expect(lake.isParquet(ZoneTable.machineLearningCurated.folder)) }
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
    let curatedRows = try await lake.lines(ZoneTable.machineLearningCurated.folder).count
    #expect(report.findings(.directIdentifier).first?.count == curatedRows)
    expectNoPersonalData(report)
  }

  @Test func withoutThePseudonymKeyEveryCuratedRowIsUnverifiable() async throws {
    let lake = try await AuditedLake()
    defer { lake.remove() }
    try FileManager.default.removeItem(atPath: "\(lake.root)/\(ComplianceAudit.pseudonymKeyObject)")
    let curatedRows = try await lake.lines(ZoneTable.machineLearningCurated.folder).count
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

  /// NDJSON: a timestamp that is no number. Parquet types every value, so there the row lacks
  /// x, y and z (the planted file's columns allow nulls).
  @Test(arguments: [TableFormat.parquet, .ndjson])
  func aRowThatIsNoRecordOfItsTableCannotPassUnjudged(format: TableFormat) async throws {
    let lake = try await AuditedLake("noRecord\(format)", format: format)
    defer { lake.remove() }
    let row =
      format == .ndjson ? #"{"user": "someone", "timestamp": "yesterday"}"# : #"{"user": "someone", "timestamp": 5}"#
    try await lake.append(row, to: ZoneTable.accelerometerTrusted.folder)
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

  /// A Delta log is kept for time travel and never rewritten: a commit that names someone (an
  /// email in its statistics or anywhere else) is a finding, an erased customer's all the more.
  @Test func aDeltaLogCommitThatNamesSomeoneIsFound() async throws {
    let lake = try await AuditedLake()
    defer { lake.remove() }
    let folder = ZoneTable.customerTrusted.folder
    let snapshot = try #require(try await DeltaTable(storage: lake.storage, root: folder).snapshot())
    let digits = String(snapshot.version + 1)
    let commit = "\(folder)/_delta_log/\(String(repeating: "0", count: 20 - digits.count))\(digits).json"
    let line = #"{"commitInfo":{"timestamp":1,"operation":"WRITE","userMetadata":"for Ghost.1@sample.test"}}"#
    try await lake.storage.put(commit, bytes: Array((line + "\n").utf8))
    var report = try await lake.audit()
    #expect(
      report.findings.map { [$0.check.rawValue, $0.table, "\($0.count)", "\($0.example)"] } == [
        ["direct_identifier", "customer_trusted", "1", "\(commit):1"]
      ], "\(report.text())")
    // Put on the erasure list, they are an erased customer named in the log too.
    let erasureKey = try #require(try await ErasureKey.load(storage: lake.storage, create: true))
    try await ErasureList(entries: [
      .init(subject: erasureKey.hash(email: "ghost.1@sample.test"), erasedAt: 1, serials: [])
    ])
    .save(storage: lake.storage)
    report = try await lake.audit()
    #expect(
      report.findings.map { [$0.check.rawValue, $0.table, "\($0.count)", "\($0.example)"] } == [
        ["direct_identifier", "customer_trusted", "1", "\(commit):1"],
        ["erased_customer", "customer_trusted", "1", "\(commit):1"],
      ], "\(report.text())")
    expectNoPersonalData(report)
  }

  /// Parquet data files that no version of the table holds are audited too: a file an earlier
  /// version held keeps whom it names until it is deleted.
  @Test func aParquetFileNoVersionHoldsIsAuditedToo() async throws {
    let lake = try await AuditedLake()
    defer { lake.remove() }
    let consenting = Set(try await lake.trusted().map(\.email))
    let refuser = try #require(try lake.landingCustomers().first { !consenting.contains($0.email) })
    let table = DeltaTable(storage: lake.storage, root: ZoneTable.customerTrusted.folder)
    let original = try #require(try await table.snapshot()?.sortedFiles.first)
    let planted = try await lake.append(rendered { refuser.render(into: &$0) }, to: ZoneTable.customerTrusted.folder)
    // The version with the row is undone by a later one that brings back the file before it;
    // the planted file stays on disk.
    let snapshot = try #require(try await table.snapshot())
    let plantedAdd = try #require(snapshot.sortedFiles.first { planted.file.hasSuffix($0.path) })
    _ = try await table.commit(
      on: snapshot, adding: [original], removing: [DeltaRemoveFile(removing: plantedAdd, at: 2)], operation: "RESTORE",
      atMs: 2)
    #expect(FileManager.default.fileExists(atPath: "\(lake.root)/\(planted.file)"))
    let report = try await lake.audit()
    #expect(
      report.findings.map { [$0.check.rawValue, $0.table, "\($0.count)", "\($0.example)"] } == [
        ["consent", "customer_trusted", "1", "\(planted.file):\(planted.line)"]
      ], "\(report.text())")
    #expect(report.findings.first?.detail.contains("no current version") == true)
    // Its rows are not the table's.
    let rows = try #require(report.tables.first { $0.table == "customer_trusted" }?.rows)
    #expect(rows == planted.line - 1)
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

/// Plants a row into a Parquet table as a writer outside the pipeline would: a new Delta version.
enum ParquetPlant {
  /// Replaces the file of `line`'s partition (the last file of an unpartitioned table) by one
  /// with the same rows and `line` at the end, in a new version; members the table lacks become
  /// nullable string columns, and columns `line` lacks become nullable. Returns where the row is.
  static func append(_ line: String, to folder: String, in storage: FileSystemStorage) async throws
    -> ComplianceFinding.Location
  {
    let table = DeltaTable(storage: storage, root: folder)
    let snapshot = try #require(try await table.snapshot())
    let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    let zone = try #require(ZoneTable.allCases.first { $0.folder == folder })
    let schema = TableSchema.zone(zone, rules: ZoneRules(profile: .strict))
    let date = schema.partitionTimeColumn.flatMap { (object[$0] as? NSNumber)?.int64Value }.map {
      EpochMilliseconds.utcDate(day: EpochMilliseconds.utcDay($0))
    }
    let target = snapshot.sortedFiles.last { $0.partitionValues[TableSchema.partitionColumnName] == date }
    var columns = ParquetTablePublisher.parquetSchema(schema).columns
    var rows: [[ParquetValue]] = []
    if let target {
      let file = try ParquetFile(bytes: try await storage.get(table.dataKey(path: target.path)))
      columns = file.schema.columns
      rows = try file.rows()
    }
    for name in object.keys.sorted() where !columns.contains(where: { $0.name == name }) {
      columns.append(ParquetColumn(name: name, type: .string, optional: true))
      rows = rows.map { $0 + [.null] }
    }
    var row: [ParquetValue] = []
    for index in columns.indices {
      let value = object[columns[index].name]
      switch columns[index].type {
      case _ where value == nil:
        columns[index].optional = true
        row.append(.null)
      case .int64: row.append(.int64(try #require(value as? NSNumber).int64Value))
      case .double: row.append(.double(try #require(value as? NSNumber).doubleValue))
      case .string: row.append(.string(try #require(value as? String)))
      case .boolean: row.append(.bool(try #require(value as? Bool)))
      }
    }
    rows.append(row)
    var writer = try ParquetWriter(schema: ParquetSchema(columns))
    for row in rows { try writer.append(row: row) }
    let bytes = try writer.finish()
    let name = ParquetTablePublisher.fileName(chunk: TableFileChunk(date: date, index: 0, rows: []), bytes: bytes)
    let relative = (date.map { "\(TableSchema.partitionColumnName)=\($0)/" } ?? "") + name
    try await storage.put("\(folder)/\(relative)", bytes: bytes)
    let add = DeltaAddFile(
      path: relative, partitionValues: date.map { [TableSchema.partitionColumnName: $0] } ?? [:],
      size: Int64(bytes.count), modificationTime: 1, stats: nil)
    _ = try await table.commit(
      on: snapshot, adding: [add], removing: target.map { [DeltaRemoveFile(removing: $0, at: 1)] } ?? [],
      operation: "WRITE", atMs: 1)
    return .init(file: "\(folder)/\(relative)", line: rows.count)
  }
}
