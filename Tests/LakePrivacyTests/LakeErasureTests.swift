import Foundation
import LakeStorage
import StediTestSupport
import Testing

@testable import LakePrivacy
@testable import Lakehouse

/// `LakeEraser` on generated lakes with every flaw: what leaves, what stays, and that it stays gone.
@Suite struct LakeErasureTests {
  /// Three customers the issue names: a unique serial, a serial shared with another curated
  /// customer, and one with lines in quarantine.
  struct Chosen {
    var unique: CustomerRecord
    var shared: CustomerRecord
    var sharedWith: CustomerRecord
    var quarantined: CustomerRecord
  }

  /// A sample lake built with `profile` (writing `format`: the profile's own when nil), and the
  /// customers chosen from its published tables.
  static func makeLake(_ profile: PipelineProfile = .strict, format: TableFormat? = nil) async throws -> (
    String, Chosen
  ) {
    let lake = try TemporaryFolder(prefix: "lakehouse").path
    try SampleLakeGenerator(customers: 60, seed: 9, readingsPerCustomer: 30).write(to: lake)
    let summary = try await LakeFixtures.run(lake, profile, format: format)
    #expect(summary.format == format ?? TableFormat.standard(for: profile))
    let landing = try customers(in: "\(lake)/customer/landing")
    let curated = try await tableLines(.customersCurated, in: lake).compactMap { line in
      try? Array(line.utf8).withUnsafeBufferPointer { try CustomerRecord.decode($0) }
    }
    var holders: [String: Set<String>] = [:]
    for record in landing { holders[record.serialNumber, default: []].insert(record.email) }
    let unique = try #require(
      curated.first { holders[$0.serialNumber]!.count == 1 && $0.email != "Customer.0@sample.test" })
    var shared: CustomerRecord?
    var sharedWith: CustomerRecord?
    for record in curated where holders[record.serialNumber]!.count > 1 {
      if let other = curated.first(where: { $0.serialNumber == record.serialNumber && $0.email != record.email }) {
        shared = record
        sharedWith = other
        break
      }
    }
    let quarantined = try #require(landing.first { $0.email == "Customer.0@sample.test" })
    return (
      lake,
      Chosen(
        unique: unique, shared: try #require(shared), sharedWith: try #require(sharedWith), quarantined: quarantined)
    )
  }

  static func customers(in folder: String) throws -> [CustomerRecord] {
    var records: [CustomerRecord] = []
    for file in try allFiles(under: folder) {
      forEachLine(Array(FileManager.default.contents(atPath: file)!)) { line in
        if let record = try? CustomerRecord.decode(line) { records.append(record) }
      }
    }
    return records
  }

  static func allFiles(under folder: String) throws -> [String] {
    guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
    var files: [String] = []
    while let relative = enumerator.nextObject() as? String {
      if enumerator.fileAttributes?[.type] as? FileAttributeType == .typeRegular {
        files.append("\(folder)/\(relative)")
      }
    }
    return files.sorted()
  }

  /// Files of the whole lake (metadata included) that contain `text`, ignoring ASCII case. A
  /// Parquet file is compressed: its rows are searched as the NDJSON lines they render to, so
  /// every data file on disk counts, whichever version of its table holds it (or none).
  static func filesMentioning(_ text: String, in lake: String) throws -> [String] {
    let needle = Array(text.lowercased().utf8)
    return try allFiles(under: lake).filter { file in
      var bytes = Array(FileManager.default.contents(atPath: file) ?? Data())
      if file.hasSuffix(".parquet") { bytes = try ParquetTableFile(key: file, bytes: bytes).renderedLines() }
      return bytes.withUnsafeBufferPointer { ByteSearch.containsIgnoringCase($0, needle) }
    }
  }

  /// The rows of a published table as NDJSON lines, whatever its format (its current version).
  static func tableLines(
    _ table: ZoneTable, in lake: String, profile: PipelineProfile = .strict
  ) async throws -> [String] {
    let schema = TableSchema.zone(table, rules: ZoneRules(profile: profile))
    let bytes = try await ZoneTableReader(lake: try Lake(root: lake)).lines(schema)
    return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
  }

  /// Every identifier of `customer` that must be gone: email, name and phone as JSON strings, and the serial if unique.
  static func identifiers(of customer: CustomerRecord, serialIsUnique: Bool) -> [String] {
    var texts = [customer.email, "\"\(customer.customerName!)\"", "\"\(customer.phone!)\""]
    if serialIsUnique { texts.append(customer.serialNumber) }
    return texts
  }

  static func eraser(_ lake: String) -> LakeEraser { eraser(FileSystemStorage(root: lake)) }

  /// An eraser that does not wait for ingest services (none runs here).
  static func eraser(_ storage: any LakeStorage) -> LakeEraser {
    var eraser = LakeEraser(storage: storage, pseudonymKey: LakeFixtures.testKey)
    eraser.landingSettle = .zero
    return eraser
  }

  @Test func erasedCustomersLeaveNoTraceInAnyFile() async throws {
    let (lake, chosen) = try await Self.makeLake()
    defer { TemporaryFolder(existing: lake).remove() }
    var quarantineBefore: [LandingSource: [String]] = [:]
    for source in LandingSource.allCases {
      let path = "\(lake)/\(source.quarantineFolder)/part-00000.json"
      quarantineBefore[source] = String(decoding: FileManager.default.contents(atPath: path)!, as: UTF8.self)
        .split(separator: "\n").map(String.init)
    }
    #expect(quarantineBefore.values.joined().count >= 7, "the sample quarantines lines of every kind")
    for customer in [chosen.unique, chosen.shared, chosen.quarantined] {
      let mentioned = try Self.filesMentioning(customer.email, in: lake)
      #expect(!mentioned.isEmpty, "the customer must be in the lake before the erasure")
      let report = try await Self.eraser(lake).erase(email: customer.email.uppercased())
      #expect(report.totalRowsRemoved > 0)
      #expect(!report.resumed)
    }
    for (customer, unique) in [(chosen.unique, true), (chosen.shared, false), (chosen.quarantined, true)] {
      for text in Self.identifiers(of: customer, serialIsUnique: unique) {
        #expect(try Self.filesMentioning(text, in: lake) == [], "\(text) is still in the lake")
      }
    }
    // The shared serial keeps its landing readings: they may be the other holder's.
    #expect(try Self.filesMentioning(chosen.shared.serialNumber, in: "\(lake)/step_trainer/landing").count > 0)
    let remainingOwner = LakeFixtures.testKey.subjectId(email: chosen.sharedWith.email)
    #expect(try await Self.tableLines(.machineLearningCurated, in: lake).contains { $0.contains(remainingOwner) })
    // The quarantined line of Customer.0 (invalid UTF-8, kept in base64) is gone from quarantine
    // too, and every other quarantine line is still there.
    for source in LandingSource.allCases {
      let path = "\(lake)/\(source.quarantineFolder)/part-00000.json"
      let after = String(decoding: FileManager.default.contents(atPath: path)!, as: UTF8.self)
      #expect(!after.contains("rawBase64"))
      let kept = quarantineBefore[source]!.filter { line in
        ![chosen.unique, chosen.shared, chosen.quarantined].contains {
          line.lowercased().contains($0.email.lowercased())
        }
          && !line.contains("rawBase64")
      }
      #expect(after.split(separator: "\n").map(String.init) == kept, "\(source.rawValue) quarantine")
    }
  }

  /// Parquet (strict's own format) and NDJSON: the erased tables are, byte for byte and file
  /// name for file name, what the pipeline builds from the scrubbed landing.
  @Test(arguments: [
    (PipelineProfile.strict, TableFormat.parquet), (.strict, .ndjson), (.udacity, .ndjson),
  ])
  func erasureLeavesTheTablesAFreshRunWouldBuild(profile: PipelineProfile, format: TableFormat) async throws {
    let (lake, chosen) = try await Self.makeLake(profile, format: format)
    defer { TemporaryFolder(existing: lake).remove() }
    for customer in [chosen.shared, chosen.unique, chosen.quarantined] {
      _ = try await Self.eraser(lake).erase(email: customer.email)
    }
    let erased = TemporaryLake.publishedTables(lake)
    if format == .parquet { #expect(erased.keys.contains { $0.hasSuffix(".parquet") }) }
    let summary = try await LakeFixtures.run(lake, profile, format: format)
    #expect(summary.published)
    let rebuilt = TemporaryLake.publishedTables(lake)
    #expect(Set(erased.keys) == Set(rebuilt.keys))
    for (file, bytes) in rebuilt { #expect(erased[file] == bytes, "\(file) differs from a fresh run") }
    if format == .parquet {
      // The same files: the fresh run had nothing to commit.
      #expect(summary.parquetFiles.values.allSatisfy { $0.filesWritten == 0 && $0.filesRemoved == 0 })
    }
  }

  @Test func sharedSerialKeepsOnlyTheOtherOwnersRows() async throws {
    let (lake, chosen) = try await Self.makeLake()
    defer { TemporaryFolder(existing: lake).remove() }
    let subject = LakeFixtures.testKey.subjectId(email: chosen.shared.email)
    let before = MLRows.read(try await Self.tableLines(.machineLearningCurated, in: lake))
    #expect(before.contains { $0.subjectId == subject })
    let report = try await Self.eraser(lake).erase(email: chosen.shared.email)
    #expect(report.sharedSerials == 1)
    #expect(report.rowsRemoved["step_trainer_landing"] == nil, "a shared serial keeps its landing readings")
    let after = MLRows.read(try await Self.tableLines(.machineLearningCurated, in: lake))
    #expect(!after.contains { $0.subjectId == subject })
    let otherOwner = LakeFixtures.testKey.subjectId(email: chosen.sharedWith.email)
    #expect(
      after.filter { $0.subjectId == otherOwner }.count == before.filter { $0.subjectId == otherOwner }.count)
    #expect(before.count - after.count == report.rowsRemoved["machine_learning_curated"])
  }

  @Test func reDeliveredBatchesStayOutAndReapplyScrubsLanding() async throws {
    let (lake, chosen) = try await Self.makeLake()
    defer { TemporaryFolder(existing: lake).remove() }
    let saved = try TemporaryFolder(prefix: "lakehouse").path
    defer { TemporaryFolder(existing: saved).remove() }
    for source in LandingSource.allCases {
      try FileManager.default.createDirectory(atPath: "\(saved)/\(source.rawValue)", withIntermediateDirectories: true)
      try FileManager.default.copyItem(
        atPath: "\(lake)/\(source.landingFolder)", toPath: "\(saved)/\(source.rawValue)/landing")
    }
    _ = try await Self.eraser(lake).erase(email: chosen.unique.email)
    _ = try await Self.eraser(lake).erase(email: chosen.quarantined.email)
    // The old batches come back, as a re-delivery would bring them.
    for source in LandingSource.allCases {
      try FileManager.default.copyItem(
        atPath: "\(saved)/\(source.rawValue)/landing", toPath: "\(lake)/\(source.landingFolder)/redelivered-again")
    }
    let summary = try await LakeFixtures.run(lake)
    #expect(summary.published)
    #expect(summary.erasedRecordsRefused >= 2)
    for folder in [
      "customer/trusted", "customer/curated", "accelerometer/trusted", "step_trainer/trusted", "step_trainer/curated",
      "accelerometer/quarantine", "customer/quarantine",
    ] {
      for customer in [chosen.unique, chosen.quarantined] {
        #expect(try Self.filesMentioning(customer.email, in: "\(lake)/\(folder)") == [], "\(folder)")
        #expect(try Self.filesMentioning(customer.serialNumber, in: "\(lake)/\(folder)") == [], "\(folder)")
      }
    }
    // Landing holds them again until the list is re-applied.
    #expect(try Self.filesMentioning(chosen.unique.email, in: lake).count > 0)
    let report = try await Self.eraser(lake).reapply()
    #expect(report.subject == "*")
    #expect(report.totalRowsRemoved > 0)
    for customer in [chosen.unique, chosen.quarantined] {
      for text in Self.identifiers(of: customer, serialIsUnique: true) {
        #expect(try Self.filesMentioning(text, in: lake) == [], "\(text) is still in the lake")
      }
    }
  }

  @Test func scrubbingLargeFilesInPartsGivesTheSameLake() async throws {
    let (whole, chosen) = try await Self.makeLake()
    defer { TemporaryFolder(existing: whole).remove() }
    let parts = try TemporaryFolder(prefix: "lakehouse").path
    defer { TemporaryFolder(existing: parts).remove() }
    try FileManager.default.removeItem(atPath: parts)
    try FileManager.default.copyItem(atPath: whole, toPath: parts)
    var inParts = Self.eraser(parts)
    inParts.parallelThreshold = 1
    for customer in [chosen.shared, chosen.unique, chosen.quarantined] {
      let expected = try await Self.eraser(whole).erase(email: customer.email)
      let report = try await inParts.erase(email: customer.email)
      #expect(report.rowsRemoved == expected.rowsRemoved)
      #expect(report.filesDeleted == expected.filesDeleted)
    }
    // Delta commits carry their own times; the data files and every other file must be the same.
    let expected = try Self.allFiles(under: whole).filter { !$0.contains("/_stedi/") && !$0.contains("/_delta_log/") }
    #expect(!expected.isEmpty)
    #expect(
      try Self.allFiles(under: whole).filter { $0.contains("/_delta_log/") }.map { $0.dropFirst(whole.count) }
        == (try Self.allFiles(under: parts).filter { $0.contains("/_delta_log/") }.map { $0.dropFirst(parts.count) }))
    for file in expected {
      let twin = parts + file.dropFirst(whole.count)
      #expect(FileManager.default.contents(atPath: twin) == FileManager.default.contents(atPath: file), "\(file)")
    }
  }

  @Test func theListAndTheLogHoldNoPersonalData() async throws {
    let (lake, chosen) = try await Self.makeLake()
    defer { TemporaryFolder(existing: lake).remove() }
    let first = try await Self.eraser(lake).erase(email: chosen.unique.email)
    let second = try await Self.eraser(lake).erase(email: " \(chosen.unique.email.lowercased()) ")
    #expect(second.resumed)
    #expect(second.subject == first.subject)
    #expect(second.totalRowsRemoved == 0)
    let list = try ErasureList.decode(Array(FileManager.default.contents(atPath: "\(lake)/_stedi/erasures.json")!))
    #expect(list.entries.count == 1)
    #expect(list.entries[0].subject == first.subject)
    #expect(list.entries[0].serials.count == 1)
    let log = String(decoding: FileManager.default.contents(atPath: "\(lake)/\(LakeEraser.logKey)")!, as: UTF8.self)
    let lines = log.split(separator: "\n")
    #expect(lines.count == 2)
    let entry = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
    #expect(entry["subject"] as? String == first.subject)
    #expect(entry["at"] is String)
    let removed = try #require(entry["rowsRemoved"] as? [String: Int])
    #expect(removed["customer_landing"] == first.rowsRemoved["customer_landing"])
    #expect(removed["accelerometer_trusted"] == first.rowsRemoved["accelerometer_trusted"])
    for text in Self.identifiers(of: chosen.unique, serialIsUnique: true) {
      #expect(try Self.filesMentioning(text, in: "\(lake)/_stedi") == [])
    }
    let key = try #require(
      FileManager.default.attributesOfItem(atPath: "\(lake)/\(ErasureKey.storageKey)")[.posixPermissions] as? Int)
    #expect(key == 0o600)
  }

  @Test func anInterruptedErasureFinishesWhenRunAgain() async throws {
    let (reference, chosen) = try await Self.makeLake()
    defer { TemporaryFolder(existing: reference).remove() }
    let pristine = try TemporaryFolder(prefix: "lakehouse").path
    defer { TemporaryFolder(existing: pristine).remove() }
    try FileManager.default.removeItem(atPath: pristine)
    try FileManager.default.copyItem(atPath: reference, toPath: pristine)
    let full = try await Self.eraser(reference).erase(email: chosen.unique.email)
    let expected = TemporaryLake.publishedTables(reference)
    // Through this wrapper the first write is the new erasure key, the second the list, then the files.
    let writes = full.filesRewritten + full.filesDeleted + 3
    for failAfter in [2, 3, 4, writes / 2, writes - 1] {
      let lake = try TemporaryFolder(prefix: "lakehouse").path
      defer { TemporaryFolder(existing: lake).remove() }
      try FileManager.default.removeItem(atPath: lake)
      try FileManager.default.copyItem(atPath: pristine, toPath: lake)
      let crashing = CrashingStorage(FileSystemStorage(root: lake), failAfterWrites: failAfter)
      await #expect(throws: StorageError.self) {
        _ = try await Self.eraser(crashing).erase(email: chosen.unique.email)
      }
      // Whatever was left, the pipeline already keeps the customer out of every table.
      let copy = try TemporaryFolder(prefix: "lakehouse").path
      defer { TemporaryFolder(existing: copy).remove() }
      try FileManager.default.removeItem(atPath: copy)
      try FileManager.default.copyItem(atPath: lake, toPath: copy)
      let rerun = try await LakeFixtures.run(copy)
      #expect(rerun.published, "\(failAfter): \(rerun.qualityFailures)")
      // (Its tables, as readers see them: a Parquet publish keeps the files it replaces until the
      // next one, for readers of the version before; the erasure run again deletes them below.)
      let subject = LakeFixtures.testKey.subjectId(email: chosen.unique.email)
      for table in [ZoneTable.customerTrusted, .accelerometerTrusted, .machineLearningCurated] {
        let lines = try await Self.tableLines(table, in: copy)
        #expect(!lines.isEmpty && !lines.contains { $0.contains(chosen.unique.email) }, "\(failAfter) \(table)")
        #expect(!lines.contains { $0.contains(subject) }, "\(failAfter) \(table)")
      }
      let again = try await Self.eraser(lake).erase(email: chosen.unique.email)
      #expect(again.resumed)
      #expect(TemporaryLake.publishedTables(lake) == expected, "after a crash after \(failAfter) writes")
      for text in Self.identifiers(of: chosen.unique, serialIsUnique: true) {
        #expect(try Self.filesMentioning(text, in: lake) == [])
      }
    }
  }
}

/// Reads machine_learning_curated rows.
enum MLRows {
  static func read(_ lines: [String]) -> [MachineLearningRow] {
    lines.compactMap { line in try? Array(line.utf8).withUnsafeBufferPointer { try MachineLearningRow.decode($0) } }
  }
}

/// Storage that fails every write after the first `failAfterWrites`, as a crash would stop them.
final class CrashingStorage: LakeStorage, @unchecked Sendable {
  let inner: FileSystemStorage
  let failAfterWrites: Int
  private let lock = NSLock()
  private var writes = 0

  init(_ inner: FileSystemStorage, failAfterWrites: Int) {
    self.inner = inner
    self.failAfterWrites = failAfterWrites
  }

  var location: String { inner.location }

  private func count() throws(StorageError) {
    let allowed = lock.withLock {
      writes += 1
      return writes <= failAfterWrites
    }
    if !allowed { throw .unreachable(location: location, reason: "simulated crash") }
  }

  func put(_ key: String, bytes: [UInt8]) async throws(StorageError) {
    try count()
    try await inner.put(key, bytes: bytes)
  }

  func create(_ key: String, bytes: [UInt8]) async throws(StorageError) -> Bool {
    try count()
    return try await inner.create(key, bytes: bytes)
  }

  func get(_ key: String) async throws(StorageError) -> [UInt8] { try await inner.get(key) }
  func list(prefix: String) async throws(StorageError) -> [StoredObject] { try await inner.list(prefix: prefix) }

  func delete(_ key: String) async throws(StorageError) {
    try count()
    try await inner.delete(key)
  }
}
