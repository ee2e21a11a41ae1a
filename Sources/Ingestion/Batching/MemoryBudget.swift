import Synchronization

/// The bytes the service may hold in memory at once: request bodies being received and records
/// buffered or being landed all reserve against one limit (`--max-buffered-bytes`).
///
/// One atomic counter, touched once per request body (or per chunk of a body without a
/// Content-Length) and once per batch: nothing per byte, no lock.
public final class MemoryBudget: Sendable {
  /// The most bytes that may be reserved at once.
  public let limit: Int
  /// Reservations larger than this (default 1 MiB: a request body, or its records) may only take
  /// the total to `largeCeiling`, so that small requests from other clients still fit.
  public let largeBytes: Int
  private let reserved = Atomic<Int>(0)

  /// A budget of `limit` bytes.
  public init(limit: Int, largeBytes: Int = 1 << 20) {
    self.limit = limit
    self.largeBytes = largeBytes
  }

  /// How far a large reservation may take the total: three quarters of the limit.
  public var largeCeiling: Int { limit / 4 * 3 }

  /// Bytes reserved now.
  public var reservedBytes: Int { reserved.load(ordering: .relaxed) }

  /// Reserves `bytes` if the total stays within `ceiling` (default: the limit); false if not.
  public func reserve(_ bytes: Int, ceiling: Int? = nil) -> Bool {
    let ceiling = min(ceiling ?? limit, limit)
    var current = reserved.load(ordering: .relaxed)
    while true {
      guard current + bytes <= ceiling else { return false }
      let (exchanged, original) = reserved.compareExchange(
        expected: current, desired: current + bytes, ordering: .relaxed)
      if exchanged { return true }
      current = original
    }
  }

  /// Reserves `bytes` whatever the limit: for what is already in memory (records replayed from the log).
  public func forceReserve(_ bytes: Int) {
    reserved.add(bytes, ordering: .relaxed)
  }

  /// Gives back `bytes` reserved earlier.
  public func release(_ bytes: Int) {
    reserved.subtract(bytes, ordering: .relaxed)
  }
}
