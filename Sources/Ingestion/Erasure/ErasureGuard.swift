// The ingest service runs apart from `stedi lake erase`, so it reloads the lake's erasure list
// while it runs. Requests match records against the guard's current snapshot; the Ingestor
// re-checks buffered and sealed batches against it before landing them, whenever the list
// changed after their records were accepted. The list is only ever replaced by a list that was
// read whole: a damaged or unreadable list (or one without its key) keeps the previous state,
// since reading it as empty would let erased customers back in.

import LakeStorage
import Lakehouse
import Logging
import Synchronization

/// The lake's erasure list as the ingest service currently knows it, reloaded while it runs.
public final class ErasureGuard: Sendable {
  /// The erasure list at one moment: a matcher (with empty caches) and the list's version.
  public struct Snapshot: Sendable {
    /// Increases whenever the stored list changes; 0 until a non-empty list was first loaded.
    public var version: UInt64
    /// Matches records against the list.
    public var matcher: ErasureMatcher

    /// A snapshot that refuses nothing.
    public static let none = Snapshot(version: 0, matcher: .none)
  }

  private struct State {
    var list = ErasureList()
    var snapshot = Snapshot.none
    /// The refresh running or queued last: refreshes run one after another, so a slow read of
    /// an older list can never replace a newer one read meanwhile.
    var lastRefresh: Task<Result<Bool, StorageError>, Never>?
  }

  private let state = Mutex(State())

  /// A guard that refuses nothing until `refresh(storage:)` finds a list.
  public init() {}

  /// The current snapshot.
  public var snapshot: Snapshot { state.withLock { $0.snapshot } }

  /// The current version (see `Snapshot.version`).
  public var version: UInt64 { state.withLock { $0.snapshot.version } }

  /// Reloads the list (and, when it is not empty, the erasure key) from `storage`; true when it changed.
  @discardableResult
  public func refresh(storage: any LakeStorage) async throws(StorageError) -> Bool {
    // On any error the previous state stays and the error is thrown: a list that cannot be read
    // is never taken for an empty one.
    let task = state.withLock { state in
      let previous = state.lastRefresh
      let task = Task<Result<Bool, StorageError>, Never> {
        _ = await previous?.value
        do throws(StorageError) {
          return .success(try await self.reload(storage: storage))
        } catch {
          return .failure(error)
        }
      }
      state.lastRefresh = task
      return task
    }
    return try await task.value.get()
  }

  private func reload(storage: any LakeStorage) async throws(StorageError) -> Bool {
    let list = try await ErasureList.load(storage: storage)
    if state.withLock({ $0.list == list }) { return false }
    var key: ErasureKey?
    if !list.entries.isEmpty {
      key = try await ErasureKey.load(storage: storage, create: false)
      guard key != nil else {
        throw .invalidObject(
          key: ErasureKey.storageKey,
          reason: "the erasure list names erased customers but the lake has no erasure key to match records with")
      }
    }
    let matcher = ErasureMatcher(list: list, key: key)
    return state.withLock { state in
      guard state.list != list else { return false }
      state.list = list
      state.snapshot = Snapshot(version: state.snapshot.version + 1, matcher: matcher)
      return true
    }
  }

  /// Puts the serial numbers of erased customers' records that arrived after their erasure on the
  /// stored list (see `ErasureList.learn`); true when the list changed.
  @discardableResult
  public func learnSerials(of records: [CustomerRecord], storage: any LakeStorage) async throws(StorageError) -> Bool {
    guard !records.isEmpty, let key = try await ErasureKey.load(storage: storage, create: false) else { return false }
    var list = try await ErasureList.load(storage: storage)
    var changed = false
    for record in records where list.learn(serialNumber: record.serialNumber, ofEmail: record.email, key: key) {
      changed = true
    }
    guard changed else { return false }
    try await list.save(storage: storage)
    try await refresh(storage: storage)
    return true
  }

  /// Refreshes every `interval` until cancelled, logging failures (the previous state stays).
  public func refreshUntilCancelled(storage: any LakeStorage, every interval: Duration, logger: Logger) async {
    var failing: String?
    var lastReported = ContinuousClock.now
    while !Task.isCancelled {
      try? await Task.sleep(for: interval)
      if Task.isCancelled { return }
      do {
        if try await refresh(storage: storage) {
          logger.info("the erasure list changed; records of newly erased customers are refused from now on")
        }
        if failing != nil {
          logger.notice("the erasure list is readable again")
          failing = nil
        }
      } catch {
        // Once when it starts failing, when the reason changes, and then once a minute: an
        // operator must see it, but not a line every second.
        let reason = error.description
        if reason != failing || ContinuousClock.now - lastReported >= .seconds(60) {
          logger.error(
            "cannot reload the erasure list; still refusing the customers of the last list read",
            metadata: ["error": "\(reason)"])
          lastReported = .now
        }
        failing = reason
      }
    }
  }
}
