import Foundation

/// The one thread that writes, syncs and rotates segment files, and the queue feeding it
/// (deletions run on a `WALReleaser` of their own, in order).
///
/// Appends from any number of tasks wait in `jobs`. The thread takes everything queued at once,
/// writes it as one buffer and syncs once (group commit): while one fdatasync is in progress the
/// next group gathers, so N concurrent appends cost a few syncs instead of N. The blocking calls
/// happen only here, never on Swift's cooperative pool, whose few threads would otherwise all sit
/// in fdatasync while the rest of the service waits for them.
final class WALWriter: @unchecked Sendable {  // mutable state is guarded by `condition`
  typealias AppendContinuation = CheckedContinuation<Result<UInt64, WALError>, Never>
  typealias ReleaseContinuation = CheckedContinuation<Result<Int, WALError>, Never>
  typealias RotateContinuation = CheckedContinuation<Result<Bool, WALError>, Never>

  private enum Job {
    case append(payloads: [WALPayload], continuation: AppendContinuation)
    case release(through: UInt64, continuation: ReleaseContinuation)
    case rotate(continuation: RotateContinuation)
  }

  /// An append taken off the queue, with the byte count it will occupy on disk.
  private struct PendingAppend {
    var payloads: [WALPayload]
    var continuation: AppendContinuation
    var encodedBytes: Int
  }

  /// Caps the buffer of one group; a burst beyond it is written as several groups in a row.
  private static let maxGroupBytes = 32 << 20

  let directory: String
  let segmentBytes: Int
  private let condition = NSCondition()
  /// Deletes released segments off the writer thread (see WALReleaser).
  private let releaser = WALReleaser()

  // Guarded by `condition`; changed only by the writer thread, except `jobs` and the close flags.
  private var jobs: [Job] = []
  private var closing = false
  private var finished = false
  private var closeWaiters: [CheckedContinuation<Void, Never>] = []
  private var segments: [WALSegment]
  private var nextLSNValue: UInt64
  private var stats: WALStatistics
  /// Set when a sync failed: the kernel may have dropped the unsynced pages and cleared the error,
  /// so a later sync could succeed without the data. No append can be acknowledged after that.
  private var failure: WALError?

  // Used only by the writer thread once it runs.
  private var activeFD: Int32

  /// A writer appending to the last of `segments`, open as `activeFD`.
  init(
    directory: String, segmentBytes: Int, segments: [WALSegment], nextLSN: UInt64, activeFD: Int32,
    statistics: WALStatistics
  ) {
    precondition(!segments.isEmpty, "the writer always has a segment to append to")
    self.directory = directory
    self.segmentBytes = segmentBytes
    self.segments = segments
    self.nextLSNValue = nextLSN
    self.activeFD = activeFD
    self.stats = statistics
  }

  /// Starts the writer thread; it runs until `close` or `stop`.
  func start() {
    let thread = Thread { [self] in run() }
    thread.name = "wal-writer"
    thread.start()
  }

  /// Queues payloads and suspends until they are synced (or failed).
  func append(_ payloads: [WALPayload]) async -> Result<UInt64, WALError> {
    await withCheckedContinuation { (continuation: AppendContinuation) in
      condition.lock()
      guard !closing else {
        condition.unlock()
        continuation.resume(returning: .failure(.closed(directory: directory)))
        return
      }
      jobs.append(.append(payloads: payloads, continuation: continuation))
      condition.signal()
      condition.unlock()
    }
  }

  /// Queues a release and suspends until the segments are deleted.
  func release(through lsn: UInt64) async -> Result<Int, WALError> {
    await withCheckedContinuation { (continuation: ReleaseContinuation) in
      condition.lock()
      guard !closing else {
        condition.unlock()
        continuation.resume(returning: .failure(.closed(directory: directory)))
        return
      }
      jobs.append(.release(through: lsn, continuation: continuation))
      condition.signal()
      condition.unlock()
    }
  }

  /// Queues a rotation (after the appends queued before it) and suspends until it is done.
  func rotate() async -> Result<Bool, WALError> {
    await withCheckedContinuation { (continuation: RotateContinuation) in
      condition.lock()
      guard !closing else {
        condition.unlock()
        continuation.resume(returning: .failure(.closed(directory: directory)))
        return
      }
      jobs.append(.rotate(continuation: continuation))
      condition.signal()
      condition.unlock()
    }
  }

  /// Refuses new work, lets the thread finish what is queued, and returns once it has stopped.
  func close() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      condition.lock()
      if finished {
        condition.unlock()
        continuation.resume()
        return
      }
      closing = true
      closeWaiters.append(continuation)
      condition.signal()
      condition.unlock()
    }
  }

  /// Like `close`, without waiting: for the log's deinit, so a forgotten log does not leak a thread.
  func stop() {
    condition.lock()
    closing = true
    condition.signal()
    condition.unlock()
  }

  /// Whether appends are refused already.
  var isClosing: Bool { locked { closing } }

  var nextLSN: UInt64 { locked { nextLSNValue } }

  var sizeBytes: Int { locked { segments.reduce(0) { $0 + $1.size } } }

  var segmentCount: Int { locked { segments.count } }

  var statistics: WALStatistics { locked { stats } }

  private func locked<T>(_ body: () -> T) -> T {
    condition.lock()
    defer { condition.unlock() }
    return body()
  }

  // MARK: - The writer thread

  private func run() {
    while true {
      condition.lock()
      while jobs.isEmpty && !closing { condition.wait() }
      if jobs.isEmpty {
        // Closing and drained: every append that got in has been answered.
        finished = true
        let waiters = closeWaiters
        closeWaiters = []
        condition.unlock()
        WALFileSystem.closeFile(activeFD)
        releaser.finish()
        for waiter in waiters { waiter.resume() }
        return
      }
      let taken = jobs
      jobs = []
      condition.unlock()

      var group: [PendingAppend] = []
      var groupBytes = 0
      var releases: [(lsn: UInt64, continuation: ReleaseContinuation)] = []
      for job in taken {
        switch job {
        case .append(let payloads, let continuation):
          let bytes = payloads.reduce(0) { $0 + WALRecordFormat.headerBytes + $1.count }
          if !group.isEmpty && groupBytes + bytes > Self.maxGroupBytes {
            commit(group, bytes: groupBytes)
            group = []
            groupBytes = 0
          }
          group.append(PendingAppend(payloads: payloads, continuation: continuation, encodedBytes: bytes))
          groupBytes += bytes
        case .release(let lsn, let continuation):
          releases.append((lsn, continuation))
        case .rotate(let continuation):
          // In order: the appends queued before it go into the segment being closed.
          if !group.isEmpty { commit(group, bytes: groupBytes) }
          group = []
          groupBytes = 0
          continuation.resume(returning: rotateNow())
        }
      }
      if !group.isEmpty { commit(group, bytes: groupBytes) }
      if !releases.isEmpty {
        releaser.enqueue { [self] in
          for release in releases { release.continuation.resume(returning: deleteSegments(through: release.lsn)) }
        }
      }
    }
  }

  /// Writes a group with one write and one fdatasync, then answers every append in it.
  private func commit(_ group: [PendingAppend], bytes: Int) {
    switch writeGroup(group, bytes: bytes) {
    case .success(let firstLSNs):
      for (pending, lsn) in zip(group, firstLSNs) { pending.continuation.resume(returning: .success(lsn)) }
    case .failure(let error):
      for pending in group { pending.continuation.resume(returning: .failure(error)) }
    }
  }

  /// The first LSN of each append in the group, once all of it is on stable storage.
  private func writeGroup(_ group: [PendingAppend], bytes: Int) -> Result<[UInt64], WALError> {
    condition.lock()
    let poisoned = failure
    var lsn = nextLSNValue
    var active = segments[segments.count - 1]
    condition.unlock()
    if let poisoned { return .failure(poisoned) }

    do throws(WALError) {
      // Rotation happens between groups, never inside one, so a group needs a single sync.
      if active.size >= segmentBytes && active.size > 0 {
        active = try rotate(firstLSN: lsn)
      }
      var buffer: [UInt8] = []
      buffer.reserveCapacity(bytes)
      var firstLSNs: [UInt64] = []
      firstLSNs.reserveCapacity(group.count)
      var records = 0
      var payloadBytes = 0
      for pending in group {
        firstLSNs.append(lsn)
        for payload in pending.payloads {
          WALRecordFormat.append(lsn: lsn, payload: payload, to: &buffer)
          lsn += 1
          records += 1
          payloadBytes += payload.count
        }
      }
      if !buffer.isEmpty {
        do throws(WALError) {
          try WALFileSystem.writeAll(activeFD, buffer, path: active.path)
        } catch {
          // Cut off what part of the group reached the file; later groups must not follow
          // garbage, or recovery would stop at it. If even that fails, stop accepting appends.
          do throws(WALError) {
            try WALFileSystem.truncate(activeFD, to: active.size, path: active.path)
          } catch let truncation {
            poison(truncation)
          }
          throw error
        }
        do throws(WALError) {
          try WALFileSystem.dataSync(activeFD, path: active.path)
        } catch {
          poison(error)
          throw error
        }
      }
      condition.lock()
      nextLSNValue = lsn
      segments[segments.count - 1].size += buffer.count
      stats.appends += group.count
      stats.records += records
      stats.payloadBytes += payloadBytes
      stats.bytesWritten += buffer.count
      if !buffer.isEmpty { stats.syncs += 1 }
      condition.unlock()
      return .success(firstLSNs)
    } catch {
      return .failure(error)
    }
  }

  /// Closes the active segment and starts a new one, unless the active one is empty; true when it rotated.
  private func rotateNow() -> Result<Bool, WALError> {
    let (active, lsn, poisoned): (WALSegment, UInt64, WALError?) = locked {
      (segments[segments.count - 1], nextLSNValue, failure)
    }
    if let poisoned { return .failure(poisoned) }
    guard active.size > 0 else { return .success(false) }
    do throws(WALError) {
      _ = try rotate(firstLSN: lsn)
      return .success(true)
    } catch {
      return .failure(error)
    }
  }

  /// Starts a new segment named after the next LSN; the directory is synced before any record in
  /// it is acknowledged, or a power loss could take the whole file with it.
  private func rotate(firstLSN: UInt64) throws(WALError) -> WALSegment {
    let path = WALSegment.path(in: directory, firstLSN: firstLSN)
    let fd = try WALFileSystem.createSegment(path)
    do throws(WALError) {
      try WALFileSystem.syncDirectory(directory)
    } catch {
      WALFileSystem.closeFile(fd)
      try? WALFileSystem.remove(path)
      throw error
    }
    // Everything in the old segment was synced with its group.
    WALFileSystem.closeFile(activeFD)
    activeFD = fd
    let segment = WALSegment(firstLSN: firstLSN, path: path, size: 0)
    condition.lock()
    segments.append(segment)
    stats.segmentsCreated += 1
    condition.unlock()
    return segment
  }

  /// Deletes the segments all of whose records have LSNs up to `lsn`, oldest first, and returns
  /// how many. The segment being appended to is kept even when fully released: its name is what
  /// carries the next LSN across a restart once everything else is gone.
  private func deleteSegments(through lsn: UInt64) -> Result<Int, WALError> {
    let candidates: [WALSegment] = locked {
      var released: [WALSegment] = []
      for index in segments.indices.dropLast() {
        // Segment `index` ends just before the next one starts.
        guard segments[index + 1].firstLSN - 1 <= lsn else { break }
        released.append(segments[index])
      }
      return released
    }
    var deleted = 0
    var failed: WALError?
    for segment in candidates {
      do throws(WALError) {
        try WALFileSystem.remove(segment.path)
      } catch {
        failed = error
        break
      }
      condition.lock()
      segments.removeFirst()
      stats.segmentsReleased += 1
      condition.unlock()
      deleted += 1
    }
    if deleted > 0 {
      do throws(WALError) {
        try WALFileSystem.syncDirectory(directory)
      } catch {
        failed = failed ?? error
      }
    }
    if let failed { return .failure(failed) }
    return .success(deleted)
  }

  private func poison(_ error: WALError) {
    condition.lock()
    if failure == nil { failure = error }
    condition.unlock()
  }
}
