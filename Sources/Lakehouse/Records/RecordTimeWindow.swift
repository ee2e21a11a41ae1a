import Foundation

/// The times a landing record may carry, in epoch milliseconds: from 2000-01-01T00:00:00Z to a
/// day after the clock of the run or request that reads it.
///
/// A time outside is a device whose clock was never set (1970), a sign error, or a clock far
/// ahead; kept, it would sort before or after every real reading and pass every consent check.
public struct RecordTimeWindow: Sendable, Equatable {
  /// 2000-01-01T00:00:00Z, long before any STEDI device or app existed.
  public static let earliestAllowed: Int64 = 946_684_800_000
  /// Device clocks drift and time zones get mixed up, but not by a day.
  public static let futureAllowance: Int64 = 86_400_000

  /// The first time accepted.
  public var earliest: Int64
  /// The last time accepted.
  public var latest: Int64

  /// The window for a run or request whose clock reads `now`.
  public init(now: Date) {
    let milliseconds = (now.timeIntervalSince1970 * 1000).rounded(.down)
    let clamped = Int64(max(min(milliseconds, 9e18), -9e18))
    self.init(earliest: Self.earliestAllowed, latest: clamped + Self.futureAllowance)
  }

  /// The window for a run or request starting now.
  public static func current() -> RecordTimeWindow { RecordTimeWindow(now: Date()) }

  /// A window with explicit bounds.
  public init(earliest: Int64, latest: Int64) {
    self.earliest = earliest
    self.latest = latest
  }

  /// No bounds: for code that must recognise every record whatever its dates (erasure, audit).
  public static let unbounded = RecordTimeWindow(earliest: .min, latest: .max)

  /// Throws `out_of_range` naming `field` when `value` lies outside the window.
  @inline(__always)
  func check(_ value: Int64, _ field: String) throws(RecordError) {
    if value < earliest || value > latest { throw outOfRange(value, field) }
  }

  @inline(never)
  private func outOfRange(_ value: Int64, _ field: String) -> RecordError {
    let found = "\(value) (\(EpochMilliseconds.iso8601(value)))"
    if value < earliest {
      return RecordError(
        .outOfRange, "field '\(field)' is \(found), before \(EpochMilliseconds.iso8601(earliest))", field: field)
    }
    return RecordError(
      .outOfRange,
      "field '\(field)' is \(found), more than a day after the current time (\(EpochMilliseconds.iso8601(latest - Self.futureAllowance)))",
      field: field)
  }
}
