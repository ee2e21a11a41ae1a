import DeltaLog
import Foundation
import LakeStorage
import Lakehouse

/// Removes customers from every zone of a lake, keeps them out for good, and logs each erasure.
///
/// Order matters for crashes: the customer goes on the erasure list first (from then on the
/// pipeline and the ingest service refuse their records), then the pipeline's outputs are
/// rewritten, then quarantine, then landing, customer landing last. Each file is replaced in one
/// atomic put, so a crash leaves every file either as it was or fully scrubbed, and running the
/// same erasure again finds what is left and finishes. A Parquet table changes in one Delta
/// commit (its new files written first); the files that commit removes, and every other data
/// file no version now holds, are deleted right after it, so no older version keeps the rows.
public struct LakeEraser: Sendable {
  /// The lake.
  public let storage: any LakeStorage
  /// The key behind machine_learning_curated's subjectId; nil reads the lake's `_stedi/pseudonym.key`.
  public var pseudonymKey: PseudonymKey?
  /// Files processed at once.
  public var concurrency = 4
  /// Files at least this large are scrubbed in parts on all cores (the pipeline's tables are one file each).
  public var parallelThreshold = 4 << 20
  /// How long after saving the list landing is listed one last time: an ingest service reads the
  /// list before every landing attempt, so only a put already in flight then can land unfiltered.
  public var landingSettle = Duration.seconds(2)

  /// Where the erasure log lives: one JSON line per erasure, without personal data.
  public static let logKey = "_stedi/erasure-log.ndjson"

  /// An eraser for the lake in `storage`.
  public init(storage: any LakeStorage, pseudonymKey: PseudonymKey? = nil) {
    self.storage = storage
    self.pseudonymKey = pseudonymKey
  }

  /// Erases the customer with `email` from every zone, puts them on the erasure list, and logs it.
  ///
  /// `pending` are customer records not in the lake yet (waiting in an ingest service's log):
  /// their serial numbers are the customer's too.
  public func erase(
    email: String, pending: [CustomerRecord] = [], now: Date = Date(), progress: (String) -> Void = { _ in }
  ) async throws -> ErasureReport {
    let started = ContinuousClock.now
    let lock = try localLock()
    defer { withExtendedLifetime(lock) {} }
    guard let key = try await ErasureKey.load(storage: storage, create: true) else {
      throw StorageError.invalidObject(key: ErasureKey.storageKey, reason: "the key could not be created")
    }
    let normalized = ErasureKey.normalized(email: email)
    var report = ErasureReport(subject: key.hash(email: email))
    progress("finding the customer's records and serial numbers")
    let holdings = try await serialHoldings(of: normalized, pending: pending)
    report.customerRecordsFound = holdings.records
    report.uniqueSerials = holdings.unique.count
    report.sharedSerials = holdings.shared.count

    // On the list before anything else, so that a crash from here on still keeps them out.
    var list = try await ErasureList.load(storage: storage)
    let existing = list.entry(subject: report.subject)
    report.resumed = existing != nil
    let erasedAt = existing?.erasedAt ?? Int64(now.timeIntervalSince1970 * 1000)
    list.record(
      ErasureList.Entry(
        subject: report.subject, erasedAt: erasedAt,
        serials: holdings.unique.sorted().map { .init(hash: key.hash(serialNumber: $0), until: erasedAt) }))
    try await list.save(storage: storage)
    let listSaved = ContinuousClock.now

    // A serial learned after an earlier erasure that another customer holds stays theirs.
    let othersHashes = Set(holdings.others.map { key.hash(serialNumber: $0) })
    var entry = list.entry(subject: report.subject)!
    entry.serials.removeAll { $0.learned == true && othersHashes.contains($0.hash) }
    let knownSerialHashes = Set(holdings.unique.map { key.hash(serialNumber: $0) })
    var needles = [Array(normalized.utf8)]
    needles += holdings.unique.map { Array(Identity.canonical($0).utf8) }
    // Serial hashes from an earlier run whose plaintext is gone from the customer tables cannot
    // be searched for as text: then every step-trainer file is decoded.
    let serialsSearchable = entry.serials.allSatisfy { knownSerialHashes.contains($0.hash) }
    try await scrub(
      matcher: ErasureMatcher(list: ErasureList(entries: [entry]), key: key),
      needles: needles, serialsSearchable: serialsSearchable, spellings: holdings.spellings, listSaved: listSaved,
      into: &report, progress: progress)
    report.seconds = (ContinuousClock.now - started).seconds
    try await appendToLog(report, at: now)
    return report
  }

  /// Applies every entry of the erasure list again: removes records of erased customers that came
  /// back after their erasure (a batch copied into landing by hand, a late delivery).
  public func reapply(now: Date = Date(), progress: (String) -> Void = { _ in }) async throws -> ErasureReport {
    let started = ContinuousClock.now
    let lock = try localLock()
    defer { withExtendedLifetime(lock) {} }
    var report = ErasureReport(subject: "*")
    var list = try await ErasureList.load(storage: storage)
    guard !list.entries.isEmpty else { return report }
    guard let key = try await ErasureKey.load(storage: storage, create: false) else {
      throw StorageError.invalidObject(
        key: ErasureKey.storageKey, reason: "the lake has an erasure list but not its key; restore it from backup")
    }
    report.resumed = true
    // Customer records of erased customers that came back teach their serial numbers (kept on
    // the list); learned serials that a remaining customer holds are not the erased customer's alone.
    var matcher = ErasureMatcher(list: list, key: key)
    var othersHashes: Set<String> = []
    var learned = false
    let kinds: Set<LakeZoneFile> = [.customerLanding, .customerTrusted, .customersCurated]
    try await LakeZoneObjects.list(storage).forEachRecordLine(of: kinds, storage: storage) { line in
      guard let record = try? CustomerRecord.decode(line) else { return }
      if matcher.isErased(email: record.email) {
        if list.learn(serialNumber: record.serialNumber, ofEmail: record.email, key: key) { learned = true }
      } else {
        othersHashes.insert(key.hash(serialNumber: record.serialNumber))
      }
    }
    if learned { try await list.save(storage: storage) }
    var effective = list
    for index in effective.entries.indices {
      effective.entries[index].serials.removeAll { $0.learned == true && othersHashes.contains($0.hash) }
    }
    matcher = ErasureMatcher(list: effective, key: key)
    try await scrub(
      matcher: matcher, needles: nil, serialsSearchable: false, spellings: [], listSaved: .now, into: &report,
      progress: progress)
    report.seconds = (ContinuousClock.now - started).seconds
    try await appendToLog(report, at: now)
    return report
  }

  // MARK: Finding the customer

  private struct Holdings {
    var records = 0
    /// The customer's email as each record spells it (their subjectId is the same for every one).
    var spellings: Set<String> = []
    var unique: Set<String> = []
    var shared: Set<String> = []
    /// Serial numbers (canonical) other customers hold.
    var others: Set<String> = []
  }

  /// The customer's serial numbers from every customer table, split into those only they hold
  /// and those other customers also hold (the fulfillment defect).
  private func serialHoldings(of normalizedEmail: String, pending: [CustomerRecord]) async throws -> Holdings {
    var holdings = Holdings()
    var theirs: Set<String> = []
    var others: Set<String> = []
    for record in pending where ErasureKey.normalized(email: record.email) == normalizedEmail {
      holdings.records += 1
      holdings.spellings.insert(record.email)
      theirs.insert(Identity.canonical(record.serialNumber))
    }
    let kinds: Set<LakeZoneFile> = [.customerLanding, .customerTrusted, .customersCurated]
    try await LakeZoneObjects.list(storage).forEachRecordLine(of: kinds, storage: storage) { line in
      guard let record = try? CustomerRecord.decode(line) else { return }
      if ErasureKey.normalized(email: record.email) == normalizedEmail {
        holdings.records += 1
        holdings.spellings.insert(record.email)
        theirs.insert(Identity.canonical(record.serialNumber))
      } else {
        others.insert(Identity.canonical(record.serialNumber))
      }
    }
    holdings.unique = theirs.subtracting(others)
    holdings.shared = theirs.intersection(others)
    holdings.others = others
    return holdings
  }

  // MARK: Scrubbing

  /// Rewrites every file of the lake without the records `matcher` picks, outputs first.
  private func scrub(
    matcher: ErasureMatcher, needles: [[UInt8]]?, serialsSearchable: Bool, spellings: Set<String>,
    listSaved: ContinuousClock.Instant, into report: inout ErasureReport, progress: (String) -> Void
  ) async throws {
    let zone = try await LakeZoneObjects.list(storage)
    let objects = zone.lineFiles
    var seen = Set(objects.map(\.key))
    let restriction = try await CuratedRestriction.load(
      storage: storage, zone: zone, matcher: matcher, pseudonymKey: pseudonymKey, spellings: spellings)
    let order: [[LakeZoneFile]] = [
      [.machineLearningCurated], [.stepTrainerTrusted], [.accelerometerTrusted], [.customersCurated],
      [.customerTrusted], [.customerQuarantine, .accelerometerQuarantine, .stepTrainerQuarantine, .other],
      [.accelerometerLanding, .stepTrainerLanding], [.customerLanding],
    ]
    var scrubber = FileScrubber(
      matcher: matcher, needles: needles, serialsSearchable: serialsSearchable, restriction: restriction)
    scrubber.parallelThreshold = parallelThreshold
    let atMs = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    for group in order {
      // Parquet tables first (one Delta commit each, old files deleted at once), then the
      // NDJSON files of the same tables and zones.
      for table in zone.parquetTables where group.contains(table.kind) {
        progress("scrubbing \(table.kind.rawValue) (Parquet, \(table.currentFiles.count) files)")
        try await scrub(table, with: scrubber, atMs: atMs, into: &report)
      }
      let loose = zone.looseParquet.filter { group.contains(LakeZoneFile(key: $0.key)) }
      if !loose.isEmpty {
        progress("scrubbing \(loose.count) Parquet files outside the tables")
        try await scrubLooseParquet(loose, with: scrubber, into: &report)
      }
      var files = objects.filter { group.contains(LakeZoneFile(key: $0.key)) }
      while true {
        if !files.isEmpty {
          progress("scrubbing \(group.map(\.rawValue).joined(separator: ", ")) (\(files.count) files)")
          try await scrub(files, with: scrubber, into: &report)
        }
        guard group.contains(where: \.isLanding) else { break }
        // Batches an ingest service landed meanwhile: list again once the settle time is over,
        // until no new batch shows up.
        let settled = listSaved + landingSettle
        if settled > .now { try await Task.sleep(until: settled) }
        files = try await zoneObjects().filter { group.contains(LakeZoneFile(key: $0.key)) && !seen.contains($0.key) }
        seen.formUnion(files.map(\.key))
        if files.isEmpty { break }
      }
    }
  }

  // MARK: Parquet tables

  private struct ParquetFileOutcome: Sendable {
    var removing: DeltaAddFile
    var removed: Int
    /// The file of the rows kept, already written; nil when no row is left.
    var replacement: DeltaAddFile?
  }

  /// Erases from one Parquet table: each data file of the current version is decoded and its
  /// rows judged as the lines they render to; a file with rows to erase is replaced by one of the
  /// rows kept (or by none), all in one Delta commit, and then the files that commit removed are
  /// deleted for good, with every other data file in the folder no version needs now (files kept
  /// for readers of older versions, leftovers of killed runs): erased rows must not live on there.
  ///
  /// A crash before the commit leaves the old version whole (new files unreferenced); after it,
  /// the rows are out of the table. Either way running the erasure again finishes: it finds the
  /// rows still there, or only the unreferenced files, and deletes those.
  private func scrub(
    _ table: ParquetZoneTable, with scrubber: FileScrubber, atMs: Int64, into report: inout ErasureReport
  ) async throws {
    let kind = table.kind
    let delta = table.table
    let outcomes = try await forEachBounded(table.currentFiles, limit: concurrency) {
      file -> ParquetFileOutcome? in
      let key = delta.dataKey(path: file.path)
      let decoded = try ParquetTableFile(key: key, bytes: try await self.storage.get(key))
      var scrubber = scrubber
      let erased = scrubber.erasedLines(decoded.renderedLines(), kind: kind)
      guard !erased.isEmpty else { return nil }
      let gone = Set(erased)
      let kept = (0..<decoded.rowCount).filter { !gone.contains($0) }
      var outcome = ParquetFileOutcome(removing: file, removed: erased.count)
      if let replacement = try decoded.rewritten(keeping: kept, partitionValues: file.partitionValues, atMs: atMs) {
        try await self.storage.put(delta.dataKey(path: replacement.add.path), bytes: replacement.bytes)
        outcome.replacement = replacement.add
      }
      return outcome
    }
    report.filesScanned += table.currentFiles.count
    let changed = outcomes.compactMap { $0 }.sorted { $0.removing.path < $1.removing.path }
    var current = table.snapshot
    if let snapshot = table.snapshot, !changed.isEmpty {
      let removing = changed.map { DeltaRemoveFile(removing: $0.removing, at: atMs) }
      let adding = changed.compactMap(\.replacement).filter { snapshot.files[$0.path] == nil }
      do {
        current = try await delta.commit(
          on: snapshot, adding: adding, removing: removing, operation: "DELETE", atMs: atMs, engineInfo: "stedi")
        report.deltaCommits += 1
        // At once: no reader may travel back to the erased rows (delta-io/delta#1692).
        try await delta.deleteDataFiles(removing.filter { current?.files[$0.path] == nil })
      } catch {
        throw ParquetTablePublisher.storageError(error, table: delta.root)
      }
      for outcome in changed {
        report.rowsRemoved[kind.rawValue, default: 0] += outcome.removed
        if outcome.replacement == nil { report.filesDeleted += 1 } else { report.filesRewritten += 1 }
      }
    }
    // Every data file the version now current does not hold goes too.
    let referenced = Set((current?.sortedFiles ?? []).map { delta.dataKey(path: $0.path) })
    let removedNow = Set(changed.map { delta.dataKey(path: $0.removing.path) })
    for object in table.dataFiles where !referenced.contains(object.key) && !removedNow.contains(object.key) {
      try await storage.delete(object.key)
      report.oldFilesDeleted += 1
    }
    removeEmptyPartitionFolders(of: delta.root)
  }

  /// Parquet files outside the tables (no log names them): rows judged by the rules of the zone
  /// they sit in, and the file rewritten in place (the same key) without them, or deleted.
  private func scrubLooseParquet(
    _ files: [StoredObject], with scrubber: FileScrubber, into report: inout ErasureReport
  ) async throws {
    let outcomes = try await forEachBounded(files, limit: concurrency) { object -> FileOutcome in
      let kind = LakeZoneFile(key: object.key)
      let decoded = try ParquetTableFile(key: object.key, bytes: try await self.storage.get(object.key))
      var scrubber = scrubber
      let erased = scrubber.erasedLines(decoded.renderedLines(), kind: kind)
      guard !erased.isEmpty else { return FileOutcome(kind: kind) }
      let gone = Set(erased)
      let kept = (0..<decoded.rowCount).filter { !gone.contains($0) }
      guard let replacement = try decoded.rewritten(keeping: kept, partitionValues: [:], atMs: 0) else {
        try await self.storage.delete(object.key)
        return FileOutcome(kind: kind, removed: erased.count, deleted: true)
      }
      try await self.storage.put(object.key, bytes: replacement.bytes)
      return FileOutcome(kind: kind, removed: erased.count)
    }
    tally(outcomes, into: &report)
  }

  /// Partition folders left empty on a folder lake (object storage has no folders).
  private func removeEmptyPartitionFolders(of table: String) {
    guard let local = storage as? FileSystemStorage else { return }
    let folder = "\(local.root)/\(table)"
    for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
    where name.hasPrefix("\(TableSchema.partitionColumnName)=") {
      rmdir("\(folder)/\(name)")  // fails, harmlessly, unless empty
    }
  }

  // MARK: NDJSON files

  private func scrub(_ files: [StoredObject], with scrubber: FileScrubber, into report: inout ErasureReport)
    async throws
  {
    let outcomes = try await forEachBounded(files, limit: concurrency) { object in
      try await self.scrub(object, with: scrubber)
    }
    tally(outcomes, into: &report)
  }

  private func tally(_ outcomes: [FileOutcome], into report: inout ErasureReport) {
    for outcome in outcomes {
      report.filesScanned += 1
      guard outcome.removed > 0 else { continue }
      report.rowsRemoved[outcome.kind.rawValue, default: 0] += outcome.removed
      if outcome.deleted { report.filesDeleted += 1 } else { report.filesRewritten += 1 }
    }
  }

  private struct FileOutcome: Sendable {
    var kind: LakeZoneFile
    var removed = 0
    var deleted = false
  }

  private func scrub(_ object: StoredObject, with scrubber: FileScrubber) async throws -> FileOutcome {
    let kind = LakeZoneFile(key: object.key)
    let bytes = try await storage.get(object.key)
    var scrubber = scrubber
    guard let rewritten = scrubber.rewrite(bytes, kind: kind) else { return FileOutcome(kind: kind) }
    // A landing batch with nothing left goes entirely; a table stays, possibly empty, as the
    // pipeline would have published it.
    if kind.isLanding, rewritten.remaining == 0 {
      try await storage.delete(object.key)
      return FileOutcome(kind: kind, removed: rewritten.removed, deleted: true)
    }
    try await storage.put(object.key, bytes: rewritten.bytes)
    return FileOutcome(kind: kind, removed: rewritten.removed)
  }

  /// Every object under the sources' folders read as NDJSON lines (landing, quarantine, NDJSON
  /// tables, anything else there); Parquet data files and Delta logs are not.
  private func zoneObjects() async throws -> [StoredObject] {
    var objects: [StoredObject] = []
    for prefix in LakeZoneFile.sourcePrefixes { objects += try await storage.list(prefix: prefix) }
    return objects.filter { LakeZoneFile.isLineFile($0.key) }
  }

  // MARK: Log and lock

  private func appendToLog(_ report: ErasureReport, at time: Date) async throws {
    var log: [UInt8]
    do {
      log = try await storage.get(Self.logKey)
    } catch StorageError.notFound(_, _) {
      log = []
    }
    log += Array(report.json(at: time).utf8) + [0x0A]
    try await storage.put(Self.logKey, bytes: log)
  }

  /// A folder lake is locked against pipeline runs for the erasure's duration (object storage
  /// has no such lock: run erasures and pipeline runs on an S3 lake from one place).
  private func localLock() throws -> LakeLock? {
    guard let local = storage as? FileSystemStorage else { return nil }
    return try LakeLock(lake: try Lake(root: local.root))
  }
}
