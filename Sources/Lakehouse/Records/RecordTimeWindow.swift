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
    let found = "\(value) (\(Self.iso8601(value)))"
    if value < earliest {
      return RecordError(
        .outOfRange, "field '\(field)' is \(found), before \(Self.iso8601(earliest))", field: field)
    }
    return RecordError(
      .outOfRange,
      "field '\(field)' is \(found), more than a day after the current time (\(Self.iso8601(latest - Self.futureAllowance)))",
      field: field)
  }

  /// Epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ` (proleptic Gregorian), or `out of calendar range`.
  static func iso8601(_ milliseconds: Int64) -> String {
    // Years 0 to 9999 only: beyond them an ISO date says nothing a reader could use.
    guard milliseconds >= -62_167_219_200_000, milliseconds <= 253_402_300_799_999 else {
      return "out of calendar range"
    }
    let millisecond = Int(((milliseconds % 1000) + 1000) % 1000)
    let seconds = (milliseconds - Int64(millisecond)) / 1000
    var days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
    let secondOfDay = Int(seconds - Int64(days) * 86_400)
    // Howard Hinnant's civil_from_days.
    days += 719_468
    let era = (days >= 0 ? days : days - 146_096) / 146_097
    let dayOfEra = days - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
    let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    func pad(_ value: Int, _ width: Int) -> String {
      let text = String(value)
      return String(repeating: "0", count: max(0, width - text.count)) + text
    }
    return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
      + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(millisecond, 3))Z"
  }
}
