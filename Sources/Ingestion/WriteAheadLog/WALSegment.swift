/// One segment file of the log: named after the LSN of its first record, so that sorting the names
/// sorts the records and the name alone says which LSNs a segment can hold.
struct WALSegment: Sendable {
  /// The LSN its first record has (or will have, while it is empty).
  var firstLSN: UInt64
  /// Where it lives.
  var path: String
  /// Its length in bytes, as far as this process has written or kept it.
  var size: Int

  private static let prefix = "wal-"
  private static let suffix = ".log"
  /// Digits of `UInt64.max`, so names of any LSN sort as text.
  private static let digits = 20

  /// The file name for a segment starting at `firstLSN`: `wal-00000000000000000001.log`.
  static func fileName(firstLSN: UInt64) -> String {
    let number = String(firstLSN)
    return prefix + String(repeating: "0", count: digits - number.count) + number + suffix
  }

  /// The path for a segment starting at `firstLSN` in `directory`.
  static func path(in directory: String, firstLSN: UInt64) -> String {
    directory + "/" + fileName(firstLSN: firstLSN)
  }

  /// The first LSN encoded in a segment file name, or nil for any other file.
  static func firstLSN(fileName name: String) -> UInt64? {
    guard name.hasPrefix(prefix), name.hasSuffix(suffix) else { return nil }
    let number = name.dropFirst(prefix.count).dropLast(suffix.count)
    guard number.count == digits, number.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
    else { return nil }
    return UInt64(number)
  }
}
