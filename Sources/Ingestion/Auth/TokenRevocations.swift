import LakeStorage
import Lakehouse
import Logging
import Synchronization

/// The lake's token revocation list as the ingest service currently knows it, reloaded while it
/// runs (as `ErasureGuard` reloads the erasure list). A list that cannot be read keeps the last
/// one read: reading it as empty would let revoked tokens back in.
public final class TokenRevocations: Sendable {
  private struct State {
    var list = RevocationList()
    var tokens: Set<String> = []
    var subjects: [String: Int64] = [:]
  }

  private let state = Mutex(State())

  /// Revokes nothing until `refresh(storage:)` finds a list.
  public init() {}

  /// Whether nothing is revoked (then requests pay no hashing at all).
  public var isEmpty: Bool { state.withLock { $0.tokens.isEmpty && $0.subjects.isEmpty } }

  /// Reloads the list from `storage`; true when it changed.
  @discardableResult
  public func refresh(storage: any LakeStorage) async throws(StorageError) -> Bool {
    let list = try await RevocationList.load(storage: storage)
    return state.withLock { state in
      guard state.list != list else { return false }
      state.list = list
      state.tokens = Set(list.tokens.map(\.sha256))
      state.subjects = Dictionary(list.subjects.map { ($0.hash, $0.revokedAt) }, uniquingKeysWith: max)
      return true
    }
  }

  /// Whether the token (by its hash) or its subject is revoked.
  func isRevoked(tokenHash: String, subjectHash: String, issuedAt: Int64?) -> Bool {
    state.withLock { state in
      if state.tokens.contains(tokenHash) { return true }
      guard let revokedAt = state.subjects[subjectHash] else { return false }
      // A token without an issue time predates revocation support: it was issued before.
      return (issuedAt ?? .min) <= revokedAt
    }
  }

  /// Refreshes every `interval` until cancelled, logging failures (the previous list stays).
  public func refreshUntilCancelled(storage: any LakeStorage, every interval: Duration, logger: Logger) async {
    var failing: String?
    while !Task.isCancelled {
      try? await Task.sleep(for: interval)
      if Task.isCancelled { return }
      do {
        if try await refresh(storage: storage) { logger.info("the token revocation list changed") }
        failing = nil
      } catch {
        if error.description != failing {
          logger.error(
            "cannot reload the token revocation list; still refusing the tokens of the last list read",
            metadata: ["error": "\(error)"])
        }
        failing = error.description
      }
    }
  }
}
