/// Instants as the lake stores them: milliseconds since 1970-01-01T00:00:00Z.
///
/// Written by hand (Howard Hinnant's civil_from_days) rather than with a date formatter, so that
/// it needs no Foundation calendar, allocates one string and gives the same answer on every
/// platform; it is the one conversion the pipeline's messages and the CLI share.
public enum EpochMilliseconds {
  /// Epoch milliseconds as `YYYY-MM-DDTHH:MM:SS.mmmZ` (proleptic Gregorian), or `out of calendar range`.
  public static func iso8601(_ milliseconds: Int64) -> String {
    // Years 0 to 9999 only: beyond them an ISO date says nothing a reader could use.
    // Not Date.ISO8601FormatStyle: it switches to the Julian calendar before 1582-10-15 (year 1's
    // first day comes out as 0001-01-03) and, through a Double, writes .999 ms as .998.
    guard milliseconds >= -62_167_219_200_000, milliseconds <= 253_402_300_799_999 else {
      return "out of calendar range"
    }
    let millisecond = Int(((milliseconds % 1000) + 1000) % 1000)
    let seconds = (milliseconds - Int64(millisecond)) / 1000
    let days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
    let secondOfDay = Int(seconds - Int64(days) * 86_400)
    let (year, month, day) = civil(days: days)
    return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
      + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(millisecond, 3))Z"
  }

  /// The UTC day an instant falls on, as whole days since 1970-01-01 (negative before it).
  public static func utcDay(_ milliseconds: Int64) -> Int64 {
    milliseconds >= 0 ? milliseconds / 86_400_000 : (milliseconds + 1) / 86_400_000 - 1
  }

  /// Day `utcDay` as `YYYY-MM-DD` (proleptic Gregorian; years before 0 or after 9999 get a sign or
  /// more digits, as Hive partition values must still be distinct).
  public static func utcDate(day utcDay: Int64) -> String {
    let (year, month, day) = civil(days: Int(utcDay))
    return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
  }

  /// `value` in decimal, zero-padded to `width` digits after any sign.
  static func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value.magnitude)
    return (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - text.count)) + text
  }

  /// Howard Hinnant's civil_from_days: the proleptic Gregorian date of a day since the epoch.
  static func civil(days: Int) -> (year: Int, month: Int, day: Int) {
    let shifted = days + 719_468
    let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
    let dayOfEra = shifted - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
    let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }
}
