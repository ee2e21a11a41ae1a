// The ingest service's fast path for step-trainer readings.
//
// Almost every reading a device sends is already in the exact form `render` writes (the host
// renders them with the same code), so validating it field by field and rendering it again costs
// half of the service's CPU to reproduce the bytes it received. This recognises that one form
// directly and lets the caller copy the line as it came; anything else (other spacing or key
// order, extra fields, escapes, `7.50`, exponents, a time out of range) gets nil and goes through
// `decode` and `render`, so what lands and every rejection stay exactly as they were.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension StepTrainerReading {
  /// A line that is exactly `render`'s output (without its newline): the reading's time and where
  /// its serial number lies in the line.
  public struct CanonicalLine {
    public var sensorReadingTime: Int64
    /// The serial number's bytes (printable ASCII, no escapes), as offsets into the line.
    public var serialNumber: Range<Int>
  }

  /// The line's time and serial number when the line is a valid reading, written exactly as
  /// `render` would write it, with its time inside `times`; nil otherwise (the caller then decodes
  /// and renders it, which reports any error).
  ///
  /// For such a line `decode` succeeds and `render` reproduces it byte for byte, so the caller
  /// may land the line itself. Only forms proven to round-trip are accepted: a whole time of at
  /// most 18 digits; a distance that is a whole number of at most 15 digits, or one with at most
  /// 10 integer digits and 1 to 4 decimals, the last not 0 (exactly the two forms
  /// `NDJSONBuffer.appendDouble(_:integralAsInteger: true)` writes for such values), no `-0`.
  @inline(__always)
  public static func canonicalLine(_ line: UnsafeBufferPointer<UInt8>, times: RecordTimeWindow) -> CanonicalLine? {
    let count = line.count
    var position = 0
    guard line.hasPrefix(timeKey, at: &position) else { return nil }
    // The time: no sign, no leading zero (anything before 2000 is refused anyway).
    let timeStart = position
    var time: Int64 = 0
    while position < count, line[position] &- UInt8(ascii: "0") < 10 {
      time = time &* 10 &+ Int64(line[position] &- UInt8(ascii: "0"))
      position += 1
    }
    let timeDigits = position - timeStart
    guard timeDigits > 0, timeDigits <= 18, line[timeStart] != UInt8(ascii: "0") else { return nil }
    guard time >= times.earliest, time <= times.latest else { return nil }
    guard line.hasPrefix(serialKey, at: &position) else { return nil }
    // The serial number: printable ASCII without quotes or backslashes, which `appendQuoted`
    // writes unchanged (no escapes, no multi-byte characters to validate).
    let serialStart = position
    while position < count {
      let byte = line[position]
      if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x80 { break }
      position += 1
    }
    let serialEnd = position
    guard line.hasPrefix(distanceKey, at: &position) else { return nil }
    // The distance, then the closing brace as the line's last byte.
    guard count - position >= 2, line[count - 1] == UInt8(ascii: "}") else { return nil }
    guard isCanonicalMeasurement(UnsafeBufferPointer(rebasing: line[position..<count - 1])) else { return nil }
    return CanonicalLine(sensorReadingTime: time, serialNumber: serialStart..<serialEnd)
  }

  /// Whether `text` is a number that `appendDouble(_:integralAsInteger: true)` renders as `text`.
  @inline(__always)
  static func isCanonicalMeasurement(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
    var position = 0
    let count = text.count
    guard count > 0 else { return false }
    let negative = text[0] == UInt8(ascii: "-")
    if negative { position += 1 }
    let integerStart = position
    while position < count, text[position] &- UInt8(ascii: "0") < 10 { position += 1 }
    let integerDigits = position - integerStart
    guard integerDigits > 0 else { return false }
    // No leading zero: `0` alone, or a first digit 1-9.
    if integerDigits > 1, text[integerStart] == UInt8(ascii: "0") { return false }
    if position == count {
      // Whole: written as an integer below 1e15; `-0` would be written `0`.
      guard integerDigits <= 15 else { return false }
      return !(negative && integerDigits == 1 && text[integerStart] == UInt8(ascii: "0"))
    }
    // 1 to 4 decimals, the last not 0, below 1e10: exact in ten-thousandths, written digit by digit.
    guard text[position] == UInt8(ascii: "."), integerDigits <= 10 else { return false }
    position += 1
    let fractionDigits = count - position
    guard fractionDigits >= 1, fractionDigits <= 4 else { return false }
    while position < count {
      guard text[position] &- UInt8(ascii: "0") < 10 else { return false }
      position += 1
    }
    return text[count - 1] != UInt8(ascii: "0")
  }

  private static let timeKey: StaticString = #"{"sensorReadingTime":"#
  private static let serialKey: StaticString = #","serialNumber":""#
  private static let distanceKey: StaticString = #"","distanceFromObject":"#
}

extension UnsafeBufferPointer<UInt8> {
  /// Whether `prefix` occurs at `position`; moves `position` past it when it does.
  @inline(__always)
  fileprivate func hasPrefix(_ prefix: StaticString, at position: inout Int) -> Bool {
    let length = prefix.utf8CodeUnitCount
    guard count - position >= length, let base = baseAddress else { return false }
    guard memcmp(base + position, prefix.utf8Start, length) == 0 else { return false }
    position += length
    return true
  }
}
