import Foundation
import LakeStorage
import Lakehouse

/// Removes customers from every zone of a lake, keeps them out for good, and logs each erasure.
///
/// Order matters for crashes: the customer goes on the erasure list first (from then on the
/// pipeline and the ingest service refuse their records), then the pipeline's outputs are
/// rewritten, then quarantine, then landing, customer landing last. Each file is replaced in one
/// atomic put, so a crash leaves every file either as it was or fully scrubbed, and running the
/// same erasure again finds what is left and finishes.
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
    for object in try await zoneObjects() where kinds.contains(LakeZoneFile(key: object.key)) {
      let bytes = try await storage.get(object.key)
      forEachLine(bytes) { line in
        guard let record = try? CustomerRecord.decode(line) else { return }
        if matcher.isErased(email: record.email) {
          if list.learn(serialNumber: record.serialNumber, ofEmail: record.email, key: key) { learned = true }
        } else {
          othersHashes.insert(key.hash(serialNumber: record.serialNumber))
        }
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
    for object in try await zoneObjects() where kinds.contains(LakeZoneFile(key: object.key)) {
      let bytes = try await storage.get(object.key)
      forEachLine(bytes) { line in
        guard let record = try? CustomerRecord.decode(line) else { return }
        if ErasureKey.normalized(email: record.email) == normalizedEmail {
          holdings.records += 1
          holdings.spellings.insert(record.email)
          theirs.insert(Identity.canonical(record.serialNumber))
        } else {
          others.insert(Identity.canonical(record.serialNumber))
        }
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
    let objects = try await zoneObjects()
    var seen = Set(objects.map(\.key))
    let restriction = try await CuratedRestriction.load(
      storage: storage, objects: objects, matcher: matcher, pseudonymKey: pseudonymKey, spellings: spellings)
    let order: [[LakeZoneFile]] = [
      [.machineLearningCurated], [.stepTrainerTrusted], [.accelerometerTrusted], [.customersCurated],
      [.customerTrusted], [.customerQuarantine, .accelerometerQuarantine, .stepTrainerQuarantine, .other],
      [.accelerometerLanding, .stepTrainerLanding], [.customerLanding],
    ]
    var scrubber = FileScrubber(
      matcher: matcher, needles: needles, serialsSearchable: serialsSearchable, restriction: restriction)
    scrubber.parallelThreshold = parallelThreshold
    for group in order {
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

  private func scrub(_ files: [StoredObject], with scrubber: FileScrubber, into report: inout ErasureReport)
    async throws
  {
    let outcomes = try await forEachBounded(files, limit: concurrency) { object in
      try await self.scrub(object, with: scrubber)
    }
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

  /// Every object under the sources' folders (landing, trusted, curated, quarantine, and anything else there).
  private func zoneObjects() async throws -> [StoredObject] {
    var objects: [StoredObject] = []
    for prefix in LakeZoneFile.sourcePrefixes { objects += try await storage.list(prefix: prefix) }
    return objects
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
