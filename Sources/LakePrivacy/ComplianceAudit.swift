import DeltaLog
import Foundation
import LakeStorage
import Lakehouse

// The yardstick is always the strict rules, whatever profile the pipeline ran with: the promise
// does not change with the profile, so a lake built under the udacity rubric fails. Unlike
// `QualityCheck`, which asserts the profile's rules on the engine's own output, the audit trusts
// nothing the pipeline wrote: it recomputes who consents from the landing customers and reads
// every file. Objects are read one at a time with `get`, so it runs the same on a folder and on
// S3, and memory holds one object plus the landing customers.

/// Audits a whole lake against STEDI's privacy promise and reports every breach.
public struct ComplianceAudit: Sendable {
  /// The lake audited.
  public let storage: any LakeStorage
  /// The key subjectIds are checked with; nil reads the lake's own (never creating one).
  public var pseudonymKey: PseudonymKey?
  /// How long quarantined lines may be kept, counted from when their landing file arrived.
  public var quarantineRetentionDays: Int

  /// Where a lake keeps its pseudonym key.
  public static let pseudonymKeyObject = "_stedi/pseudonym.key"
  /// Where a lake records the profile of the pipeline's last run.
  static let runRecordObject = RunRecord.object

  /// An audit of the lake in `storage`.
  public init(storage: any LakeStorage, pseudonymKey: PseudonymKey? = nil, quarantineRetentionDays: Int = 30) {
    self.storage = storage
    self.pseudonymKey = pseudonymKey
    self.quarantineRetentionDays = quarantineRetentionDays
  }

  /// Scans every table of the lake and reports what breaks the promise, judging ages at `now`.
  public func run(now: Date = Date(), progress: (String) -> Void = { _ in }) async throws(StorageError)
    -> ComplianceReport
  {
    let (key, keySource) = try await loadPseudonymKey()
    let erasureList = try await ErasureList.load(storage: storage)
    var erasures = ErasureMatcher.none
    if !erasureList.entries.isEmpty {
      guard let erasureKey = try await ErasureKey.load(storage: storage, create: false) else {
        // Without the key no record can be matched to the list: reporting "no erased customer"
        // would be a false all-clear.
        throw .invalidObject(
          key: ErasureKey.storageKey,
          reason: "the lake has an erasure list but not its key; restore the key from backup")
      }
      erasures = ErasureMatcher(list: erasureList, key: erasureKey)
    }

    progress("listing \(storage.location)")
    let objects = try await storage.list(prefix: "")
    var byArea: [AuditArea: [StoredObject]] = [:]
    var skipped = 0
    var objectTimes: [String: Date] = [:]
    // Parquet tables: their data files and Delta logs, by table.
    var parquetFiles: [ZoneTable: [StoredObject]] = [:]
    var logged: Set<ZoneTable> = []
    var deltaLogs: [StoredObject] = []
    for object in objects {
      if let time = object.lastModified { objectTimes[object.key] = time }
      if LakeZoneFile.isDeltaLog(object.key) {
        deltaLogs.append(object)
        if let table = ZoneTable.allCases.first(where: { object.key.hasPrefix("\($0.folder)/_delta_log/") }) {
          logged.insert(table)
        }
      } else if ParquetTableFile.isDataFile(object.key),
        let table = ZoneTable.allCases.first(where: { object.key.hasPrefix("\($0.folder)/") })
      {
        parquetFiles[table, default: []].append(object)
      } else if let area = AuditArea(key: object.key) {
        byArea[area, default: []].append(object)
      } else {
        skipped += 1
      }
    }

    var scan = AuditScan(
      erasures: erasures, hasPseudonymKey: key != nil, objectTimes: objectTimes,
      retentionCutoff: now.addingTimeInterval(-Double(quarantineRetentionDays) * 86_400),
      retentionDays: quarantineRetentionDays)

    // The landing customers come first: they say who consents now, which every other table is judged by.
    var customers: [CustomerRecord] = []
    for object in byArea[.landing(.customer)] ?? [] {
      progress("auditing \(object.key)")
      guard let bytes = try await contents(of: object) else { continue }
      scan.customerLanding(bytes, file: object.key, into: &customers)
    }
    scan.consent = CurrentConsent(landing: customers, key: key)
    if let key, !erasures.isEmpty {
      // Curated rows name customers only by pseudonym: the erased ones' are recomputed here.
      for email in Set(customers.map(\.email)) where scan.erasures.isErased(email: email) {
        scan.erasedSubjects.insert(key.subjectId(email: email))
        scan.erasedSubjectList.append(Array(key.subjectId(email: email).utf8))
      }
    }
    customers = []

    var parquetFilesAudited: [AuditArea: Int] = [:]
    for area in AuditArea.all where area != .landing(.customer) {
      for object in byArea[area] ?? [] {
        progress("auditing \(object.key)")
        guard let bytes = try await contents(of: object) else { continue }
        scan.audit(bytes, file: object.key, area: area)
      }
      guard case .table(let table) = area else { continue }
      // The current version's Parquet files, each row judged as the NDJSON line it renders to
      // (`line` is then the 1-based row); then every other data file in the folder, which only
      // older versions hold or no version: every byte of the lake is in scope.
      let delta = DeltaTable(storage: storage, root: table.folder)
      var current: [String] = []
      if logged.contains(table) {
        progress("reading \(table.folder)/_delta_log")
        let snapshot: DeltaSnapshot?
        do {
          snapshot = try await delta.snapshot()
        } catch {
          throw ParquetTablePublisher.storageError(error, table: table.folder)
        }
        current = (snapshot?.sortedFiles ?? []).map { delta.dataKey(path: $0.path) }
      }
      let referenced = Set(current)
      let others = (parquetFiles[table] ?? []).map(\.key).filter { !referenced.contains($0) }
      for (key, old) in current.map({ ($0, false) }) + others.map({ ($0, true) }) {
        progress("auditing \(key)")
        guard let bytes = try await contents(of: StoredObject(key: key, size: 0, lastModified: nil)) else {
          if !old {
            throw .unreadable(path: key, reason: "the table's Delta log lists it but it is not in the lake")
          }
          continue
        }
        let file = try ParquetTableFile(key: key, bytes: bytes)
        scan.audit(file.renderedLines(), file: key, area: area, olderVersion: old)
        if !old { parquetFilesAudited[area, default: 0] += 1 }
      }
    }
    // A Delta log keeps every version for time travel and is never rewritten: it must name no
    // one (its statistics carry numbers only), erased customers above all.
    for object in deltaLogs {
      progress("auditing \(object.key)")
      guard let bytes = try await contents(of: object) else { continue }
      scan.deltaLog(bytes, file: object.key)
    }

    return ComplianceReport(
      lake: storage.location, auditedAt: now, lastRunProfile: try await lastRunProfile(), pseudonymKey: keySource,
      consentingCustomers: scan.consent.count, erasedCustomers: erasureList.entries.count,
      quarantineRetentionDays: quarantineRetentionDays,
      tables: AuditArea.all.map { area in
        var table = scan.scanned[area] ?? ComplianceReport.ScannedTable(table: area.name, folder: area.folder)
        table.files = (byArea[area]?.count ?? 0) + (parquetFilesAudited[area] ?? 0)
        return table
      },
      objectsSkipped: skipped, findings: scan.findings())
  }

  /// The object's bytes, or nil when it went away since it was listed (a table republished meanwhile).
  private func contents(of object: StoredObject) async throws(StorageError) -> [UInt8]? {
    do {
      return try await storage.get(object.key)
    } catch .notFound(_, _) {
      return nil
    }
  }

  private func loadPseudonymKey() async throws(StorageError) -> (PseudonymKey?, ComplianceReport.KeySource) {
    if let pseudonymKey { return (pseudonymKey, .given) }
    guard let bytes = try await SecretKeyFile.load(storage: storage, key: Self.pseudonymKeyObject, create: false)
    else { return (nil, .absent) }
    return (PseudonymKey(bytes: bytes), .lake)
  }

  /// The profile the last run recorded; nil when the pipeline never ran. An unreadable record is
  /// nil too: it only informs the reader, the audit does not depend on it.
  private func lastRunProfile() async throws(StorageError) -> PipelineProfile? {
    let bytes: [UInt8]
    do {
      bytes = try await storage.get(Self.runRecordObject)
    } catch .notFound(_, _) {
      return nil
    }
    return RunRecord.decode(bytes)?.profile
  }
}

/// A part of the lake the audit reads: a landing table, a zone table or a quarantine.
enum AuditArea: Hashable {
  case landing(LandingSource)
  case table(ZoneTable)
  case quarantine(LandingSource)
  /// The lake's own files under `_stedi/` that may hold records: an ingest service's
  /// write-ahead log kept in the lake, working copies, anything but the keys and lists.
  case metadata

  /// Every area, in the order the report lists them.
  static let all: [AuditArea] =
    LandingSource.allCases.map(AuditArea.landing)
    + [
      ZoneTable.customerTrusted, .customersCurated, .accelerometerTrusted, .stepTrainerTrusted, .machineLearningCurated,
    ]
    .map(AuditArea.table)
    + LandingSource.allCases.map(AuditArea.quarantine) + [.metadata]

  /// Metadata that holds no records (keys, hashed lists, counts), or is binary by design.
  static let recordFreeMetadata: Set<String> = [
    "pseudonym.key", "erasure.key", "token.key", "erasures.json", "erasure-log.ndjson", "revoked-tokens.json",
    "last-run.json", "pipeline.lock",
  ]

  /// The area a lake object belongs to; nil for objects that are no table file: metadata, other
  /// files, and names starting with `.` or `_` anywhere below the table's folder, which readers skip.
  init?(key: String) {
    if key.hasPrefix("_stedi/") {
      let name = key.dropFirst("_stedi/".count)
      guard !Self.recordFreeMetadata.contains(String(name)) else { return nil }
      self = .metadata
      return
    }
    guard key.hasSuffix(".json") else { return nil }
    for area in Self.all where key.hasPrefix(area.folder + "/") {
      let below = key.dropFirst(area.folder.count + 1).split(separator: "/")
      guard !below.contains(where: { $0.hasPrefix(".") || $0.hasPrefix("_") }) else { return nil }
      self = area
      return
    }
    return nil
  }

  /// The name the report gives it.
  var name: String {
    switch self {
    case .landing(let source): source.landingTableName
    case .table(let table): table.rawValue
    case .quarantine(let source): "\(source.rawValue)_quarantine"
    case .metadata: "lake_metadata"
    }
  }

  /// Its folder in the lake.
  var folder: String {
    switch self {
    case .landing(let source): source.landingFolder
    case .table(let table): table.folder
    case .quarantine(let source): source.quarantineFolder
    case .metadata: "_stedi"
    }
  }
}

/// The audit's running state: what each table breaks so far, and what was read.
struct AuditScan {
  var erasures: ErasureMatcher
  var consent = CurrentConsent()
  /// Pseudonyms of erased customers whose landing records are still in the lake.
  var erasedSubjects = ByteStringTable()
  /// The same, to search commit files for.
  var erasedSubjectList: [[UInt8]] = []
  let hasPseudonymKey: Bool
  /// Last-modified times of every object of the lake, for the age of quarantined lines.
  let objectTimes: [String: Date]
  let retentionCutoff: Date
  let retentionDays: Int
  private(set) var scanned: [AuditArea: ComplianceReport.ScannedTable] = [:]
  private var tallies: [TallyKey: Tally] = [:]

  init(
    erasures: ErasureMatcher, hasPseudonymKey: Bool, objectTimes: [String: Date], retentionCutoff: Date,
    retentionDays: Int
  ) {
    self.erasures = erasures
    self.hasPseudonymKey = hasPseudonymKey
    self.objectTimes = objectTimes
    self.retentionCutoff = retentionCutoff
    self.retentionDays = retentionDays
  }

  private struct TallyKey: Hashable {
    var area: AuditArea
    var check: ComplianceFinding.Check
  }

  private struct Tally {
    var count = 0
    var example: ComplianceFinding.Location
    var reasons: [String] = []
  }

  /// Counts one offending row; `reasons` say what is wrong with it, in words that name no one.
  private mutating func note(
    _ check: ComplianceFinding.Check, _ area: AuditArea, _ location: ComplianceFinding.Location, _ reasons: [String]
  ) {
    let key = TallyKey(area: area, check: check)
    var tally = tallies[key] ?? Tally(example: location)
    tally.count += 1
    let suffix = olderVersion ? " (in a Parquet file no current version of the table holds)" : ""
    for reason in reasons.map({ $0 + suffix }) where !tally.reasons.contains(reason) { tally.reasons.append(reason) }
    tallies[key] = tally
  }

  private mutating func note(
    _ check: ComplianceFinding.Check, _ area: AuditArea, _ location: ComplianceFinding.Location, _ reason: String
  ) {
    note(check, area, location, [reason])
  }

  /// The findings, in the report's table order, then by check.
  func findings() -> [ComplianceFinding] {
    let order = Dictionary(uniqueKeysWithValues: AuditArea.all.enumerated().map { ($1, $0) })
    return tallies.sorted { a, b in
      a.key.area != b.key.area ? order[a.key.area]! < order[b.key.area]! : a.key.check < b.key.check
    }.map { key, tally in
      let detail =
        key.check == .directIdentifier
        ? "direct identifiers in a table that must hold none: " + tally.reasons.joined(separator: ", ")
        : tally.reasons.joined(separator: "; ")
      return ComplianceFinding(
        check: key.check, table: key.area.name, count: tally.count, example: tally.example, detail: detail)
    }
  }

  // MARK: Reading objects

  /// Reads the landing customers of one file, noting erased customers and counting rows.
  mutating func customerLanding(_ bytes: [UInt8], file: String, into customers: inout [CustomerRecord]) {
    let area = AuditArea.landing(.customer)
    forEachLine(bytes, file: file, area: area) { scan, line, location in
      do {
        let record = try CustomerRecord.decode(line)
        customers.append(record)
        if !scan.erasures.isEmpty, scan.erasures.isErased(email: record.email) {
          scan.note(.erasedCustomer, area, location, Self.erasedRecord)
        }
        return true
      } catch {
        scan.unparsed(line, area: area, location: location)
        return false
      }
    }
  }

  /// Set while a data file no current Delta version holds is read: its rows are not the table's
  /// (not counted), and what they break is said to be there.
  private var olderVersion = false

  /// Reads one commit file of a Delta log: it may name no erased customer (email, serial number
  /// or subjectId) and hold nothing shaped like an email.
  mutating func deltaLog(_ bytes: [UInt8], file: String) {
    let area = ZoneTable.allCases.first { file.hasPrefix("\($0.folder)/") }.map(AuditArea.table) ?? .metadata
    Self.forEachLine(of: bytes) { line, number in
      let location = ComplianceFinding.Location(file: file, line: number)
      if !erasures.isEmpty,
        erasures.mentionsErased(line) || erasedSubjectList.contains(where: { ByteSearch.contains(line, $0) })
      {
        note(.erasedCustomer, area, location, "Delta log entries that name an erased customer")
      }
      if Self.containsEmailLikeToken(line) {
        note(.directIdentifier, area, location, "a Delta log entry holding a value that looks like an email address")
      }
    }
  }

  /// Calls `body` with every line of `bytes` (without its newline) and its 1-based number.
  private static func forEachLine(of bytes: [UInt8], _ body: (UnsafeBufferPointer<UInt8>, Int) -> Void) {
    bytes.withUnsafeBufferPointer { buffer in
      var number = 0
      var start = 0
      while start < buffer.count {
        number += 1
        var end = start
        while end < buffer.count, buffer[end] != 0x0A { end += 1 }
        body(UnsafeBufferPointer(rebasing: buffer[start..<end]), number)
        start = end + 1
      }
    }
  }

  /// Reads one object of any area but customer landing; `olderVersion` for a Parquet data file
  /// that the table's current version does not hold.
  mutating func audit(_ bytes: [UInt8], file: String, area: AuditArea, olderVersion: Bool = false) {
    self.olderVersion = olderVersion
    defer { self.olderVersion = false }
    forEachLine(bytes, file: file, area: area) { scan, line, location in
      switch area {
      case .landing(.customer), .table(.customerTrusted), .table(.customersCurated):
        return scan.customer(line, area: area, location: location)
      case .landing(.accelerometer), .table(.accelerometerTrusted):
        return scan.accelerometer(line, area: area, location: location)
      case .landing(.stepTrainer), .table(.stepTrainerTrusted):
        return scan.stepTrainer(line, area: area, location: location)
      case .table(.machineLearningCurated):
        return scan.curated(line, area: area, location: location)
      case .quarantine:
        scan.quarantined(line, area: area, location: location)
        return true
      case .metadata:
        // Only erased customers are looked for: an ingest log holds landing records by design.
        if !scan.erasures.isEmpty, scan.erasures.mentionsErased(line) {
          scan.note(.erasedCustomer, area, location, Self.erasedMention)
        }
        return true
      }
    }
  }

  /// Calls `body` with each non-blank line and where it is; `body` says whether the line was a record.
  private mutating func forEachLine(
    _ bytes: [UInt8], file: String, area: AuditArea,
    _ body: (inout AuditScan, UnsafeBufferPointer<UInt8>, ComplianceFinding.Location) -> Bool
  ) {
    var table = scanned[area] ?? ComplianceReport.ScannedTable(table: area.name, folder: area.folder)
    Self.forEachLine(of: bytes) { line, number in
      if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
      if !olderVersion { table.rows += 1 }
      if !body(&self, line, ComplianceFinding.Location(file: file, line: number)), !olderVersion {
        table.unreadableRows += 1
      }
    }
    scanned[area] = table
  }

  // MARK: Rows

  private static let erasedRecord = "records of customers on the erasure list"
  private static let erasedMention = "lines that name an erased customer's email or serial number"

  /// A line that is no record of its table: only its identifiers can still be checked.
  private mutating func unparsed(
    _ line: UnsafeBufferPointer<UInt8>, area: AuditArea, location: ComplianceFinding.Location
  ) {
    if !erasures.isEmpty, erasures.mentionsErased(line) { note(.erasedCustomer, area, location, Self.erasedMention) }
    guard case .table(let table) = area else { return }  // malformed landing lines are the quarantine's business
    note(
      .unreadable, area, location, "rows that are not valid \(table.rawValue) records, so no rule can be judged on them"
    )
    if table == .machineLearningCurated, Self.containsEmailLikeToken(line) {
      note(.directIdentifier, area, location, "a value that looks like an email address")
    }
  }

  private mutating func customer(
    _ line: UnsafeBufferPointer<UInt8>, area: AuditArea, location: ComplianceFinding.Location
  ) -> Bool {
    guard let record = try? CustomerRecord.decode(line) else {
      unparsed(line, area: area, location: location)
      return false
    }
    if !erasures.isEmpty, erasures.isErased(email: record.email) {
      note(.erasedCustomer, area, location, Self.erasedRecord)
    }
    if case .table = area, consent.from(email: record.email) == nil {
      note(.consent, area, location, "rows of customers whose newest landing record does not consent to research")
    }
    return true
  }

  private mutating func accelerometer(
    _ line: UnsafeBufferPointer<UInt8>, area: AuditArea, location: ComplianceFinding.Location
  ) -> Bool {
    var erased = false
    var consentFrom: Int64?
    var time: Int64 = 0
    var scratch: [UInt8] = []
    do {
      try AccelerometerReading.decode(line, scratch: &scratch) { user, timestamp, _, _, _ in
        erased = !erasures.isEmpty && erasures.isErased(email: user)
        consentFrom = consent.from(email: user)
        time = timestamp
      }
    } catch {
      unparsed(line, area: area, location: location)
      return false
    }
    if erased { note(.erasedCustomer, area, location, Self.erasedRecord) }
    guard case .table = area else { return true }
    if let consentFrom {
      if time < consentFrom {
        note(.beforeConsent, area, location, "readings taken before their customer's research consent date")
      }
    } else {
      note(.consent, area, location, "readings of users without current research consent")
    }
    return true
  }

  private mutating func stepTrainer(
    _ line: UnsafeBufferPointer<UInt8>, area: AuditArea, location: ComplianceFinding.Location
  ) -> Bool {
    var erased = false
    var consentFrom: Int64?
    var time: Int64 = 0
    var scratch: [UInt8] = []
    do {
      try StepTrainerReading.decode(line, scratch: &scratch) { serial, sensorReadingTime, _ in
        if !erasures.isEmpty {
          erased = erasures.isErased(serialNumber: String(decoding: serial, as: UTF8.self), time: sensorReadingTime)
        }
        consentFrom = consent.from(serial: serial)
        time = sensorReadingTime
      }
    } catch {
      unparsed(line, area: area, location: location)
      return false
    }
    if erased { note(.erasedCustomer, area, location, Self.erasedRecord) }
    guard case .table = area else { return true }
    if let consentFrom {
      if time < consentFrom {
        note(
          .beforeConsent, area, location,
          "readings taken before the earliest research consent of their serial number's holders")
      }
    } else {
      note(.consent, area, location, "readings of serial numbers that no currently consenting customer holds")
    }
    return true
  }

  /// Members that identify a person directly; machine_learning_curated may carry none of them.
  private static let identifierMembers = TableSchema.personIdentifyingColumns

  private mutating func curated(
    _ line: UnsafeBufferPointer<UInt8>, area: AuditArea, location: ComplianceFinding.Location
  ) -> Bool {
    var identifiers: [String] = []
    var erased = false
    var consentFrom: Int64?
    var time: Int64 = 0
    do {
      try MachineLearningRow.decode(line) { fields in
        if fields.user != nil { identifiers.append("a 'user' member") }
        for name in fields.otherFields where Self.identifierMembers.contains(name) {
          identifiers.append("a '\(name)' member")
        }
        if !erasures.isEmpty {
          erased =
            erasures.isErased(
              serialNumber: String(decoding: fields.serialNumber, as: UTF8.self), time: fields.sensorReadingTime)
            || fields.user.map { erasures.isErased(email: $0) } ?? false
            || (!fields.subjectId.isEmpty && erasedSubjects.id(of: fields.subjectId) != nil)
        }
        consentFrom = consent.from(subjectId: fields.subjectId)
        time = fields.sensorReadingTime
      }
    } catch {
      unparsed(line, area: area, location: location)
      return false
    }
    if Self.containsEmailLikeToken(line) { identifiers.append("a value that looks like an email address") }
    if !identifiers.isEmpty { note(.directIdentifier, area, location, identifiers) }
    if erased { note(.erasedCustomer, area, location, Self.erasedRecord) }
    if !hasPseudonymKey {
      note(
        .consent, area, location,
        "no pseudonym key (the lake has no _stedi/pseudonym.key and none was given): "
          + "no subjectId can be checked against the consenting customers")
    } else if let consentFrom {
      if time < consentFrom {
        note(
          .beforeConsent, area, location, "rows with a sensorReadingTime before their subject's research consent date")
      }
    } else {
      note(.consent, area, location, "rows whose subjectId is not the pseudonym of a currently consenting customer")
    }
    return true
  }

  /// One quarantine entry: whom it names, and how long its landing line has been kept.
  private mutating func quarantined(
    _ line: UnsafeBufferPointer<UInt8>, area: AuditArea, location: ComplianceFinding.Location
  ) {
    if !erasures.isEmpty, erasures.mentionsErased(line) { note(.erasedCustomer, area, location, Self.erasedMention) }
    // Age counts from when the landing file arrived; a source since removed leaves only the
    // quarantine's own time. A store that gives no times cannot be judged on retention.
    let source = Self.sourceFile(of: line)
    guard let arrived = source.flatMap({ objectTimes[$0] }) ?? objectTimes[location.file] else { return }
    if arrived < retentionCutoff {
      note(
        .quarantineRetention, area, location,
        "quarantined lines whose landing file arrived more than \(retentionDays) days ago")
    }
  }

  /// The `sourceFile` member of a quarantine entry.
  private static func sourceFile(of line: UnsafeBufferPointer<UInt8>) -> String? {
    guard var scanner = try? JSONObjectScanner(line: line) else { return nil }
    while let (key, value) = try? scanner.nextMember() {
      if line.stringEquals(key, "sourceFile"), case .string(let token) = value { return line.string(token) }
    }
    return nil
  }

  /// Whether the line holds a word shaped like an email address (`local@domain.tld`), in the
  /// words `IdentifierTokens` splits lines into; byte by byte, since a rubric-built curated
  /// table has an email on every one of its millions of rows.
  static func containsEmailLikeToken(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
    var at = 0
    while let found = line[at...].firstIndex(of: UInt8(ascii: "@")) {
      at = found + 1
      guard found > 0, IdentifierTokens.isIdentifierByte(line[found - 1]), line[found - 1] != UInt8(ascii: "@")
      else { continue }
      // The domain: the rest of the word, with a dot that has something on both sides.
      var end = at
      while end < line.count, IdentifierTokens.isIdentifierByte(line[end]), line[end] != UInt8(ascii: "@") { end += 1 }
      if end - at >= 3, line[(at + 1)..<(end - 1)].contains(UInt8(ascii: ".")) { return true }
    }
    return false
  }
}
