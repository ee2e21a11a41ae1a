// The ingest buffer, after Vector's buffer notes.
//
// A request's records are validated whole, appended to the write-ahead log as one `records`
// entry and fsynced (group commit: one fsync serves every request that arrived meanwhile), and
// only then acknowledged. They wait in memory in their source's buffer until the buffer reaches
// its record, byte or age limit; then a `seal` entry lists the buffer's entries and the batch's
// time, the landing file is written (atomic: temp + rename, or one PUT), and a `committed` entry
// follows. Log segments are deleted once every entry in them is in landing.
//
// Memory is bounded: bytes buffered or being landed count against `maxBufferedBytes`, and a
// request that would pass it gets 503 with Retry-After instead of growing the heap. A landing
// write that fails (S3 away) is retried with backoff; meanwhile the limit fills and senders are
// told to retry, while everything acknowledged stays safe in the log.
//
// After a crash the log is replayed: sealed but uncommitted batches are rebuilt exactly and
// written under the same name (a second write of the same file changes nothing), and entries
// never sealed are sealed and landed. So landing holds every acknowledged record once.
//
// Erasure: records are checked against the erasure list when they arrive, but a customer may
// be erased while their acknowledged records wait here (up to `maxAge` in a buffer, or longer
// while storage is away). So before every landing attempt the list is reloaded, and a batch
// whose records were checked against an older list (or an unknown one: rebuilt from the log)
// loses the lines of erased customers. The file keeps its name; a batch left with no lines
// writes no file (and removes one an earlier attempt may have written), and is committed all
// the same so that its log segments can go.
//
// The log itself must not keep them either (a quiet service could hold its active segment for
// weeks). So whenever the list changes (and once at start-up when it is not empty), every buffer
// is sealed and landed at once, the segment being written is closed, and every segment goes as
// soon as its batches are in landing: what is left is a segment begun after the change, holding
// records checked against the new list. A request checked against an older list whose records
// reach the log after that rotation starts the same again. A clean shutdown ends the same way,
// so a stopped service leaves no records in its log. This was chosen over encrypting the log per
// customer (crypto-shredding): the log is a buffer measured in seconds, and emptying it needs no
// key management and leaves nothing to break.

import Foundation
import IngestAPI
import LakePrivacy
import LakeStorage
import Lakehouse
import Logging
import Synchronization

/// Batches validated records into landing files, durably: nothing acknowledged is lost.
public actor Ingestor {
  private let storage: any LakeStorage
  private let log: WriteAheadLog
  private let lock: LogDirectoryLock
  private let limits: BatchLimits
  private let dateFolders: Bool
  private let metrics: IngestMetrics
  private let logger: Logger
  /// Unique per log directory; part of every landing file name.
  public nonisolated let instance: String
  /// The erasure list that requests are checked against and batches again before they land.
  public nonisolated let erasures: ErasureGuard
  /// The memory limit shared with the request bodies being received (see `MemoryBudget`).
  public nonisolated let memory: MemoryBudget

  private var buffers: [LandingSource: SourceBuffer] = [:]
  private var landing: [UInt64: LandingBatch] = [:]
  private var landingTasks: [UInt64: Task<Void, Never>] = [:]
  /// Bytes buffered or being landed; kept on the health board, which `/healthz` reads without
  /// waiting for this actor.
  private var reservedBytes: Int {
    get { board.buffered.load(ordering: .relaxed) }
    set { board.buffered.store(newValue, ordering: .relaxed) }
  }
  private let board = HealthBoard()
  /// Lower bounds of the sequence numbers of appends still in progress, so their segments stay.
  private var appendsInProgress: [UInt64: Int] = [:]
  private var shuttingDown = false
  /// Whether the last write-ahead log append failed (the board has the error).
  private var logFailing = false
  /// The erasure-list version whose customers are out of the log (0: none purged yet).
  private var purgedErasureVersion: UInt64 = 0
  private var purging = false

  /// What start-up found in the log.
  public struct Recovery: Sendable {
    /// Log records read.
    public var recordsRead: Int
    /// Batches sealed before the crash and landed again under their own names.
    public var sealedBatchesRelanded: Int
    /// Acknowledged records that had not been sealed yet, now sealed and landed.
    public var unsealedRecordsReplayed: Int
    /// Damage found in the log (a torn tail after a crash is expected), in words.
    public var damage: [String]
  }

  /// Opens the log in `logDirectory`, replays what was not yet in landing, and starts landing it.
  public static func open(
    storage: any LakeStorage, logDirectory: String, limits: BatchLimits = BatchLimits(),
    dateFolders: Bool = false, segmentBytes: Int = 64 << 20, metrics: IngestMetrics = IngestMetrics(),
    erasures: ErasureGuard = ErasureGuard(), memory: MemoryBudget? = nil,
    logger: Logger = Logger(label: "stedi.ingest")
  ) async throws -> (Ingestor, Recovery) {
    // Locked before the log is opened: opening cuts off a torn tail, which must never be the
    // tail another running service is still appending to.
    try FileManager.default.createDirectory(
      atPath: logDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    let lock = try LogDirectoryLock(directory: logDirectory)
    let log: WriteAheadLog
    let recovered: WALRecovery
    do {
      (log, recovered) = try WriteAheadLog.open(directory: logDirectory, segmentBytes: segmentBytes)
    } catch {
      lock.release()
      throw error
    }
    let instance = try InstanceIdentity.loadOrCreate(in: logDirectory)
    let ingestor = Ingestor(
      storage: storage, log: log, lock: lock, instance: instance, limits: limits, dateFolders: dateFolders,
      metrics: metrics, erasures: erasures, memory: memory ?? MemoryBudget(limit: limits.maxBufferedBytes),
      logger: logger)
    let recovery = await ingestor.replay(recovered)
    return (ingestor, recovery)
  }

  private init(
    storage: any LakeStorage, log: WriteAheadLog, lock: LogDirectoryLock, instance: String, limits: BatchLimits,
    dateFolders: Bool,
    metrics: IngestMetrics, erasures: ErasureGuard, memory: MemoryBudget, logger: Logger
  ) {
    self.storage = storage
    self.log = log
    self.lock = lock
    self.instance = instance
    self.limits = limits
    self.dateFolders = dateFolders
    self.metrics = metrics
    self.erasures = erasures
    self.memory = memory
    self.logger = logger
  }

  /// Makes `batch` durable and buffers it; returns its record count once it is safe to acknowledge.
  public func accept(_ batch: IngestBatch) async throws(IngestRejection) -> Int {
    guard !shuttingDown else {
      throw IngestRejection(status: 503, reason: "shutting_down", message: "the service is shutting down")
    }
    let size = batch.ndjson.count
    // Shared with the bodies being received, so what waits here and what is arriving are
    // bounded together.
    guard memory.reserve(size, ceiling: size > memory.largeBytes ? memory.largeCeiling : nil) else {
      throw IngestRejection(
        status: 503, reason: "buffers_full",
        message: "the ingest buffers are full (\(reservedBytes) bytes waiting to land); retry later")
    }
    reservedBytes += size
    let lowerBound = log.nextLSN
    appendsInProgress[lowerBound, default: 0] += 1
    defer {
      appendsInProgress[lowerBound]! -= 1
      if appendsInProgress[lowerBound] == 0 { appendsInProgress[lowerBound] = nil }
    }
    let entry = IngestLogEntry.recordsPayload(source: batch.source, count: batch.count, ndjson: batch.ndjson)
    let sequence: UInt64
    do {
      sequence = try await log.append([entry])
    } catch {
      reservedBytes -= size
      memory.release(size)
      logFailing = true
      board.update { $0.logFailure = "\(error)" }
      logger.error("write-ahead log append failed", metadata: ["error": "\(error)"])
      throw IngestRejection(
        status: 503, reason: "log_unavailable", message: "the service cannot make records durable right now: \(error)")
    }
    if logFailing {
      logFailing = false
      board.update { $0.logFailure = nil }
    }
    // Checked against a list older than the one the log was last purged for: its records may sit
    // in the segment begun by that purge, so the log is purged once more.
    if batch.erasureVersion != erasures.version { purgedErasureVersion = 0 }
    buffers[batch.source, default: SourceBuffer()].add(
      entry: sequence, ndjson: batch.ndjson, count: batch.count, erasureVersion: batch.erasureVersion, at: .now)
    if buffers[batch.source]!.isFull(limits) { seal(batch.source) }
    return batch.count
  }

  /// Seals every buffer whose oldest record has waited `maxAge`.
  public func sealAged(now: ContinuousClock.Instant = .now) {
    for (source, buffer) in buffers {
      if let oldest = buffer.oldest, now - oldest >= limits.maxAge { seal(source) }
    }
  }

  /// Seals aged buffers and purges the log after erasures until cancelled, a few times per `maxAge`.
  public func sealAgedUntilCancelled() async {
    let tick = min(max(limits.maxAge / 4, .milliseconds(10)), .seconds(1))
    while !Task.isCancelled {
      try? await Task.sleep(for: tick)
      sealAged()
      await purgeErasedFromLog()
    }
  }

  /// Takes the records of customers erased since the last purge out of the write-ahead log (see
  /// the top of this file); does nothing while the erasure list is empty or unchanged.
  public func purgeErasedFromLog() async {
    let version = erasures.version
    guard version != 0, version != purgedErasureVersion, !purging, !shuttingDown else { return }
    purging = true
    defer { purging = false }
    purgedErasureVersion = version
    for source in LandingSource.allCases { seal(source) }
    await emptyLogOfLandedRecords()
    logger.info("took the records of erased customers out of the write-ahead log", metadata: ["list": "\(version)"])
  }

  /// Closes the segment being written and deletes every segment whose batches are in landing
  /// (those still landing go when they are in).
  private func emptyLogOfLandedRecords() async {
    do {
      try await log.rotate()
    } catch {
      purgedErasureVersion = 0
      logger.error("cannot close the write-ahead log's segment; trying again", metadata: ["error": "\(error)"])
      return
    }
    await releaseLog()
  }

  /// Lands everything buffered, waits up to `grace` for the landing writes, and closes the log.
  ///
  /// Batches that cannot land in time (storage unreachable) stay in the log and land on the
  /// next start: shutting down never waits forever and never loses them.
  public func shutdown(grace: Duration = .seconds(30)) async {
    shuttingDown = true
    for source in LandingSource.allCases { seal(source) }
    let deadline = ContinuousClock.now + grace
    while !landingTasks.isEmpty, ContinuousClock.now < deadline {
      try? await Task.sleep(for: .milliseconds(10))
    }
    if !landingTasks.isEmpty {
      logger.warning(
        "storage did not take every batch before shutdown; they stay in the write-ahead log and land on the next start",
        metadata: ["batches": "\(landingTasks.count)"])
      for task in landingTasks.values { task.cancel() }
      for task in landingTasks.values { await task.value }
    } else {
      // Everything is in landing: a stopped service keeps no records in its log.
      await emptyLogOfLandedRecords()
    }
    await log.close()
    lock.release()
  }

  /// Stops at once without landing anything, as a crash would (for tests of recovery).
  func abandon() async {
    shuttingDown = true
    for task in landingTasks.values { task.cancel() }
    await log.close()
    lock.release()
  }

  /// Puts the serial numbers of erased customers' records that arrived after their erasure on the
  /// erasure list, then removes those devices' readings up to the erasure from landing.
  public nonisolated func learnErasedSerials(_ records: [CustomerRecord]) {
    guard !records.isEmpty else { return }
    Task { [storage, erasures, logger] in
      await Self.learnAndScrub(records, erasures, storage, logger)
    }
  }

  /// See `learnErasedSerials`. The landing scrub is the eraser's `reapply`, which takes the lake's
  /// lock: while a pipeline run or an erasure holds it, it is tried again a little later.
  private static func learnAndScrub(
    _ records: [CustomerRecord], _ erasures: ErasureGuard, _ storage: any LakeStorage, _ logger: Logger
  ) async {
    do {
      guard try await erasures.learnSerials(of: records, storage: storage) else { return }
    } catch {
      logger.error("cannot put an erased customer's serial number on the erasure list", metadata: ["error": "\(error)"])
      return
    }
    logger.notice("an erased customer's record arrived late; removing their device's readings up to the erasure")
    var delay = Duration.seconds(1)
    for _ in 0..<12 {
      do {
        let report = try await LakeEraser(storage: storage).reapply()
        logger.notice(
          "removed an erased customer's device readings from the lake",
          metadata: ["rows": "\(report.rowsRemoved.values.reduce(0, +))"])
        return
      } catch {
        logger.warning("cannot re-apply the erasure list yet; trying again", metadata: ["error": "\(error)"])
        try? await Task.sleep(for: delay)
        delay = min(delay * 2, .seconds(60))
      }
    }
    logger.error("gave up re-applying the erasure list; run `stedi lake erase --reapply`")
  }

  /// Bytes buffered or being landed.
  public var bufferedBytes: Int { reservedBytes }

  /// Batches sealed but not yet in landing.
  public var batchesLanding: Int { landing.count }

  /// Whether records are making it into landing, for `/healthz`.
  public struct Health: Sendable, Equatable {
    /// Bytes buffered or being landed.
    public var bufferedBytes: Int
    /// Batches sealed but not yet in landing.
    public var batchesLanding: Int
    /// Batches whose last landing attempt failed (they are being retried).
    public var batchesFailing: Int
    /// Why the service is unhealthy ("landing_failing", "log_unavailable"), or nil when it is healthy.
    public var problem: String?
    /// The last error behind `problem`.
    public var error: String?
  }

  /// The state `/healthz` reports: unhealthy while the log cannot be appended to or a batch
  /// cannot land, healthy again as soon as they work. Read without waiting for the actor.
  public nonisolated var health: Health { board.health }

  private func landingAttemptFailed(_ batch: UInt64, _ error: String) {
    board.update { $0.failing[batch] = error }
  }

  /// Records waiting in buffers, per source.
  public var bufferedRecords: [LandingSource: Int] { buffers.mapValues(\.count) }

  // MARK: sealing and landing

  private func seal(_ source: LandingSource) {
    guard let buffer = buffers[source], !buffer.isEmpty else { return }
    buffers[source] = nil
    let batch = LandingBatch(
      id: buffer.entries[0], source: source, epochMilliseconds: Int64(Date().timeIntervalSince1970 * 1000),
      entries: buffer.entries,
      ndjson: buffer.ndjson, count: buffer.count, erasureVersion: buffer.erasureVersion)
    startLanding(batch, sealed: false)
  }

  private func startLanding(_ batch: LandingBatch, sealed: Bool) {
    landing[batch.id] = batch
    board.update { [count = landing.count] in $0.landing = count }
    let key = batch.key(instance: instance, dateFolders: dateFolders)
    landingTasks[batch.id] = Task { [log, storage, logger, metrics, erasures] in
      let started = ContinuousClock.now
      var delay = Duration.milliseconds(100)
      var isSealed = sealed
      // What is written: the batch, less the lines of customers erased since it was checked.
      var content = batch
      // A replayed batch may have been written before the crash; so may an earlier attempt's.
      var mayBeInLanding = sealed
      while true {
        do {
          if !isSealed {
            let entry = IngestLogEntry.seal(
              source: batch.source, epochMilliseconds: batch.epochMilliseconds, entries: batch.entries)
            _ = try await log.append([entry.encoded])
            isSealed = true
          }
          content = await Self.withoutNewlyErased(content, key: key, erasures, storage, metrics, logger)
          if !content.ndjson.isEmpty {
            mayBeInLanding = true
            try await storage.put(key, bytes: content.ndjson)
          } else if mayBeInLanding {
            try await storage.delete(key)
          }
          _ = try await log.append([IngestLogEntry.committed(source: batch.source, batch: batch.id).encoded])
          break
        } catch {
          // Cancelled only by `abandon()`, which simulates a crash: leave everything to the log.
          if Task.isCancelled { return }
          metrics.flushFailed(batch.source)
          self.landingAttemptFailed(batch.id, "\(error)")
          logger.error(
            "landing a batch failed; retrying",
            metadata: ["key": "\(key)", "error": "\(error)", "retry_in": "\(delay)"])
          try? await Task.sleep(for: delay)
          if Task.isCancelled { return }
          delay = min(delay * 2, .seconds(10))
        }
      }
      if !content.ndjson.isEmpty { metrics.committed(content, latency: .now - started) }
      await self.landed(batch)
    }
  }

  /// `batch` without the lines of customers erased after its records were checked, against the
  /// list as stored right now (reloaded first, so an erasure made since the last periodic
  /// reload is seen; if it cannot be read, the last list read is used).
  private static func withoutNewlyErased(
    _ batch: LandingBatch, key: String, _ erasures: ErasureGuard, _ storage: any LakeStorage,
    _ metrics: IngestMetrics, _ logger: Logger
  ) async -> LandingBatch {
    do {
      try await erasures.refresh(storage: storage)
    } catch {
      logger.error(
        "cannot reload the erasure list before landing a batch; checking it against the last list read",
        metadata: ["key": "\(key)", "error": "\(error)"])
    }
    let snapshot = erasures.snapshot
    guard !snapshot.matcher.isEmpty, batch.erasureVersion != snapshot.version else { return batch }
    if batch.source == .customer {
      var matcher = snapshot.matcher
      let late = matcher.erasedCustomerRecords(in: batch.ndjson)
      if !late.isEmpty { Task { await learnAndScrub(late, erasures, storage, logger) } }
    }
    var (filtered, refused) = batch.withoutErased(snapshot.matcher)
    filtered.erasureVersion = snapshot.version
    if refused > 0 {
      metrics.refused(refused, batch.source)
      // The file name and a count only: nothing that says whose records they were.
      logger.notice(
        "left records of erased customers out of a batch before landing it",
        metadata: ["key": "\(key)", "refused": "\(refused)", "kept": "\(filtered.count)"])
    }
    return filtered
  }

  private func landed(_ batch: LandingBatch) async {
    landing[batch.id] = nil
    landingTasks[batch.id] = nil
    board.update { [count = landing.count] in
      $0.landing = count
      $0.failing[batch.id] = nil
    }
    reservedBytes -= batch.ndjson.count
    memory.release(batch.ndjson.count)
    await releaseLog()
  }

  /// Deletes the log segments whose every entry is in landing.
  private func releaseLog() async {
    var needed = log.nextLSN
    for buffer in buffers.values { if let first = buffer.entries.min() { needed = min(needed, first) } }
    for batch in landing.values { if let first = batch.entries.min() { needed = min(needed, first) } }
    if let first = appendsInProgress.keys.min() { needed = min(needed, first) }
    if needed > 1 {
      do {
        _ = try await log.releaseSegments(through: needed - 1)
      } catch {
        // Keeping a segment too long costs disk, not data: log it and try again next time.
        logger.warning("cannot delete landed log segments", metadata: ["error": "\(error)"])
      }
    }
    metrics.gauges(walBytes: log.sizeBytes, bufferedBytes: reservedBytes)
  }

  // MARK: recovery

  private func replay(_ recovered: WALRecovery) async -> Recovery {
    var damage = recovered.damage.map { "\($0)" }
    var records: [UInt64: (source: LandingSource, count: Int, ndjson: [UInt8])] = [:]
    var seals: [(source: LandingSource, time: Int64, entries: [UInt64])] = []
    var committed = Set<UInt64>()
    for record in recovered.records {
      guard let entry = IngestLogEntry(decoding: record.payload) else {
        damage.append("log record \(record.lsn) is not an ingest entry; skipped")
        continue
      }
      switch entry {
      case .records(let source, let count, let ndjson): records[record.lsn] = (source, count, ndjson)
      case .seal(let source, let time, let entries): seals.append((source, time, entries))
      case .committed(_, let batch): committed.insert(batch)
      }
    }
    var relanded = 0
    var sealedEntries = Set<UInt64>()
    for seal in seals {
      sealedEntries.formUnion(seal.entries)
      guard let first = seal.entries.first, !committed.contains(first) else { continue }
      // Its records' erasure check is not in the log: unknown, so checked again before landing.
      var batch = LandingBatch(
        id: first, source: seal.source, epochMilliseconds: seal.time, entries: [], ndjson: [], count: 0,
        erasureVersion: nil)
      for lsn in seal.entries {
        guard let record = records[lsn] else {
          damage.append("sealed batch \(first) names log record \(lsn), which the log no longer holds")
          continue
        }
        batch.entries.append(lsn)
        batch.ndjson += record.ndjson
        batch.count += record.count
      }
      guard !batch.entries.isEmpty else { continue }
      reservedBytes += batch.ndjson.count
      memory.forceReserve(batch.ndjson.count)
      startLanding(batch, sealed: true)
      relanded += 1
    }
    var unsealed = 0
    let now = ContinuousClock.now
    for lsn in records.keys.sorted() where !sealedEntries.contains(lsn) {
      let record = records[lsn]!
      buffers[record.source, default: SourceBuffer()].add(
        entry: lsn, ndjson: record.ndjson, count: record.count, erasureVersion: nil, at: now)
      reservedBytes += record.ndjson.count
      memory.forceReserve(record.ndjson.count)
      unsealed += record.count
    }
    for source in LandingSource.allCases { seal(source) }
    for problem in damage { logger.warning("write-ahead log damage", metadata: ["detail": "\(problem)"]) }
    await releaseLog()
    return Recovery(
      recordsRead: recovered.records.count, sealedBatchesRelanded: relanded, unsealedRecordsReplayed: unsealed,
      damage: damage)
  }
}

/// What `/healthz` reports, published by the Ingestor as it changes (per batch, and a counter
/// per request) so that health is answered without waiting behind the actor's work.
final class HealthBoard: Sendable {
  struct State: Sendable {
    var landing = 0
    /// Batches whose last landing attempt failed, with the error.
    var failing: [UInt64: String] = [:]
    /// The error of the last write-ahead log append, if it failed.
    var logFailure: String?
  }

  let buffered = Atomic<Int>(0)
  private let state = Mutex(State())

  func update(_ change: (inout State) -> Void) {
    state.withLock { change(&$0) }
  }

  var health: Ingestor.Health {
    state.withLock { state in
      var health = Ingestor.Health(
        bufferedBytes: buffered.load(ordering: .relaxed), batchesLanding: state.landing,
        batchesFailing: state.failing.count)
      if let logFailure = state.logFailure {
        health.problem = "log_unavailable"
        health.error = logFailure
      } else if let failure = state.failing.min(by: { $0.key < $1.key }) {
        health.problem = "landing_failing"
        health.error = failure.value
      }
      return health
    }
  }
}
