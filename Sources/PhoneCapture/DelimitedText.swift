import Foundation
import Motion

// Byte-level helpers the importers share: lines, CSV fields and exact number parsing.
//
// Numbers are parsed from bytes with a strict grammar: decimal digits, an optional decimal mark,
// an optional exponent (`9.745783539E0`, `8.87E-03`, `-1,5`). Times are converted to integer
// nanoseconds digit by digit, never through a Double, so a 19-digit Sensor Logger time keeps every
// digit and a phyphox start time `1695674132.382` is exactly …382 000 000 ns.

/// One line of a file: its 1-based number and its bytes without `\n` (and without a `\r` before it).
struct TextLine {
  var number: Int
  var range: Range<Int>
}

enum DelimitedText {
  static let quote = UInt8(ascii: "\"")
  static let comma = UInt8(ascii: ",")
  static let semicolon = UInt8(ascii: ";")
  static let tab = UInt8(ascii: "\t")
  static let space = UInt8(ascii: " ")
  static let newline = UInt8(ascii: "\n")
  static let carriageReturn = UInt8(ascii: "\r")

  /// Where the content starts: after a UTF-8 byte order mark, if any.
  static func contentStart(_ bytes: [UInt8]) -> Int {
    bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
  }

  /// The lines of `bytes` from `start`; a last line without a trailing newline is a line too.
  static func lines(_ bytes: [UInt8], from start: Int) -> [TextLine] {
    var result: [TextLine] = []
    var lineStart = start
    var number = 1
    bytes.withUnsafeBufferPointer { buffer in
      var index = start
      while index < buffer.count {
        if buffer[index] == newline {
          var end = index
          if end > lineStart, buffer[end - 1] == carriageReturn { end -= 1 }
          result.append(TextLine(number: number, range: lineStart..<end))
          number += 1
          lineStart = index + 1
        }
        index += 1
      }
      if lineStart < buffer.count {
        var end = buffer.count
        if end > lineStart, buffer[end - 1] == carriageReturn { end -= 1 }
        result.append(TextLine(number: number, range: lineStart..<end))
      }
    }
    return result
  }

  /// True when the range holds only spaces and tabs.
  static func isBlank(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
    bytes[range].allSatisfy { $0 == space || $0 == tab }
  }

  /// The separator of a header line: TAB if it has one outside quotes, else `;`, else `,`.
  static func separator(ofHeader bytes: [UInt8], _ range: Range<Int>) -> UInt8 {
    var inQuotes = false
    var sawSemicolon = false
    for byte in bytes[range] {
      if byte == quote {
        inQuotes.toggle()
      } else if !inQuotes {
        if byte == tab { return tab }
        if byte == semicolon { sawSemicolon = true }
      }
    }
    return sawSemicolon ? semicolon : comma
  }
}

/// One CSV field: the bytes between the quotes (if it was quoted) or the trimmed bytes.
struct CSVField {
  var range: Range<Int>
  var quoted: Bool
}

enum CSVSplit {
  case fields([CSVField])
  case malformed(String)
}

extension DelimitedText {
  /// Splits one line into fields. Quoted fields may hold the separator and `""` for a quote.
  /// Spaces around a field (and TABs, when TAB is not the separator) are ignored.
  static func fields(_ bytes: [UInt8], _ line: Range<Int>, separator: UInt8) -> CSVSplit {
    var fields: [CSVField] = []
    var index = line.lowerBound
    let end = line.upperBound
    func isPadding(_ byte: UInt8) -> Bool { byte == space || (byte == tab && separator != tab) }
    while true {
      while index < end, isPadding(bytes[index]) { index += 1 }
      if index < end, bytes[index] == quote {
        var close = index + 1
        while close < end {
          if bytes[close] == quote {
            if close + 1 < end, bytes[close + 1] == quote {
              close += 2
              continue
            }
            break
          }
          close += 1
        }
        guard close < end else { return .malformed("a quoted field has no closing quote") }
        fields.append(CSVField(range: (index + 1)..<close, quoted: true))
        var after = close + 1
        while after < end, isPadding(bytes[after]) { after += 1 }
        if after == end { return .fields(fields) }
        guard bytes[after] == separator else {
          return .malformed("text follows the closing quote of field \(fields.count)")
        }
        index = after + 1
      } else {
        var stop = index
        while stop < end, bytes[stop] != separator { stop += 1 }
        var trimmed = stop
        while trimmed > index, isPadding(bytes[trimmed - 1]) { trimmed -= 1 }
        fields.append(CSVField(range: index..<trimmed, quoted: false))
        if stop == end { return .fields(fields) }
        index = stop + 1
      }
      if index == end {
        // A separator at the very end: one more, empty field.
        fields.append(CSVField(range: end..<end, quoted: false))
        return .fields(fields)
      }
    }
  }

  /// A field's text, with `""` inside a quoted field read as one quote.
  static func text(_ bytes: [UInt8], _ field: CSVField) -> String {
    let raw = String(decoding: bytes[field.range], as: UTF8.self)
    return field.quoted ? raw.replacingOccurrences(of: "\"\"", with: "\"") : raw
  }

  /// The texts of a header line's fields (trimmed), or nil if the line cannot be split.
  static func headerNames(_ bytes: [UInt8], _ line: Range<Int>, separator: UInt8) -> [String]? {
    guard case .fields(let fields) = Self.fields(bytes, line, separator: separator) else { return nil }
    return fields.map { text(bytes, $0).trimmingCharacters(in: .whitespaces) }
  }

  /// A line's text for a message: at most `limit` characters.
  static func preview(_ bytes: [UInt8], _ range: Range<Int>, limit: Int = 160) -> String {
    let text = String(decoding: bytes[range], as: UTF8.self)
    return text.count > limit ? String(text.prefix(limit)) + "…" : text
  }
}

/// The outcome of reading one numeric field.
enum NumberParse<Value> {
  case value(Value)
  /// The field is empty.
  case empty
  /// The field is a number word that means NaN or infinity, or overflows.
  case nonFinite
  /// The field is not a number.
  case invalid
  /// The number does not fit the integer it is converted to.
  case outOfRange
}

/// The parts of a decimal number as written: digits before and after the mark, and the exponent.
private struct DecimalParts {
  var negative: Bool
  var integerDigits: Range<Int>
  var fractionDigits: Range<Int>
  var exponent: Int
}

extension DelimitedText {
  private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

  /// Splits `[+-] digits [mark digits] [(e|E) [+-] digits]` into parts; a decimal comma is
  /// accepted when `decimalComma` is true. Nil when the bytes are not such a number.
  private static func decimalParts(_ bytes: [UInt8], _ range: Range<Int>, decimalComma: Bool) -> DecimalParts? {
    var index = range.lowerBound
    let end = range.upperBound
    var negative = false
    if index < end, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
      negative = bytes[index] == UInt8(ascii: "-")
      index += 1
    }
    let integerStart = index
    while index < end, isDigit(bytes[index]) { index += 1 }
    let integerDigits = integerStart..<index
    var fractionDigits = index..<index
    if index < end, bytes[index] == UInt8(ascii: ".") || (decimalComma && bytes[index] == comma) {
      index += 1
      let fractionStart = index
      while index < end, isDigit(bytes[index]) { index += 1 }
      fractionDigits = fractionStart..<index
    }
    guard !integerDigits.isEmpty || !fractionDigits.isEmpty else { return nil }
    var exponent = 0
    if index < end, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
      index += 1
      var exponentNegative = false
      if index < end, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
        exponentNegative = bytes[index] == UInt8(ascii: "-")
        index += 1
      }
      let exponentStart = index
      while index < end, isDigit(bytes[index]) {
        // Saturate: an exponent beyond ±100 000 is out of range for every use here anyway.
        exponent = min(exponent * 10 + Int(bytes[index] - 0x30), 100_000)
        index += 1
      }
      guard index > exponentStart else { return nil }
      if exponentNegative { exponent = -exponent }
    }
    guard index == end else { return nil }
    return DecimalParts(
      negative: negative, integerDigits: integerDigits, fractionDigits: fractionDigits, exponent: exponent)
  }

  /// True for the words that spell NaN or infinity (`NaN`, `-inf`, `Infinity`, `∞`).
  private static func isNonFiniteWord(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
    var word = String(decoding: bytes[range], as: UTF8.self).lowercased()
    if word.hasPrefix("-") || word.hasPrefix("+") { word.removeFirst() }
    return ["nan", "inf", "infinity", "∞", "1.#inf", "1.#qnan", "1.#ind"].contains(word)
  }

  /// Reads a field as a Double (correctly rounded), refusing NaN, infinity and overflow.
  static func double(_ bytes: [UInt8], _ range: Range<Int>, decimalComma: Bool) -> NumberParse<Double> {
    if range.isEmpty { return .empty }
    guard decimalParts(bytes, range, decimalComma: decimalComma) != nil else {
      return isNonFiniteWord(bytes, range) ? .nonFinite : .invalid
    }
    var text = String(decoding: bytes[range], as: UTF8.self)
    if decimalComma, bytes[range].contains(comma) { text = text.replacingOccurrences(of: ",", with: ".") }
    guard let value = Double(text) else { return .invalid }
    return value.isFinite ? .value(value) : .nonFinite
  }

  /// Reads a field as an exact integer count of 10^-`scale` units, rounded to the nearest unit
  /// (halves away from zero): `scale` 9 turns seconds into nanoseconds, 0 reads an integer as is.
  /// Only integer arithmetic is used, so every written digit counts.
  static func scaled(_ bytes: [UInt8], _ range: Range<Int>, scale: Int, decimalComma: Bool) -> NumberParse<Int64> {
    if range.isEmpty { return .empty }
    guard let parts = decimalParts(bytes, range, decimalComma: decimalComma) else {
      return isNonFiniteWord(bytes, range) ? .nonFinite : .invalid
    }
    let integerCount = parts.integerDigits.count
    let digitCount = integerCount + parts.fractionDigits.count
    func digit(_ position: Int) -> Int64 {
      let byte =
        position < integerCount
        ? bytes[parts.integerDigits.lowerBound + position]
        : bytes[parts.fractionDigits.lowerBound + position - integerCount]
      return Int64(byte - 0x30)
    }
    // The value is D × 10^shift, D being all the written digits as one integer.
    let shift = parts.exponent - parts.fractionDigits.count + scale
    let kept = shift >= 0 ? digitCount : digitCount + shift
    var magnitude: Int64 = 0
    var position = 0
    while position < kept {
      let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
      let (sum, overflow2) = times10.addingReportingOverflow(digit(position))
      if overflow1 || overflow2 { return .outOfRange }
      magnitude = sum
      position += 1
    }
    if shift > 0, magnitude != 0 {
      for _ in 0..<shift {
        let (times10, overflow) = magnitude.multipliedReportingOverflow(by: 10)
        if overflow { return .outOfRange }
        magnitude = times10
      }
    }
    if kept >= 0, kept < digitCount, digit(kept) >= 5 {
      let (rounded, overflow) = magnitude.addingReportingOverflow(1)
      if overflow { return .outOfRange }
      magnitude = rounded
    }
    return .value(parts.negative ? -magnitude : magnitude)
  }
}

/// Clock arithmetic shared by the importers.
enum PhoneClock {
  /// Epoch nanoseconds to epoch milliseconds, rounding down (floor, also for times before 1970).
  static func milliseconds(fromNanoseconds nanoseconds: Int64) -> Int64 {
    let (quotient, remainder) = nanoseconds.quotientAndRemainder(dividingBy: 1_000_000)
    return remainder < 0 ? quotient - 1 : quotient
  }

  /// 1 / median of the consecutive intervals, in Hz; nil when that is not defined.
  static func sampleRate(nanoseconds: [Int64]) -> Double? {
    guard nanoseconds.count >= 2 else { return nil }
    var intervals: [Int64] = []
    intervals.reserveCapacity(nanoseconds.count - 1)
    for index in 1..<nanoseconds.count {
      let (difference, overflow) = nanoseconds[index].subtractingReportingOverflow(nanoseconds[index - 1])
      intervals.append(overflow ? (nanoseconds[index] > nanoseconds[index - 1] ? .max : .min) : difference)
    }
    intervals.sort()
    let middle = intervals.count / 2
    let median =
      intervals.count % 2 == 1
      ? Double(intervals[middle])
      : (Double(intervals[middle - 1]) + Double(intervals[middle])) / 2
    return median > 0 ? 1e9 / median : nil
  }

  /// How many consecutive steps do not move forward in time.
  static func nonIncreasingSteps(nanoseconds: [Int64]) -> Int {
    guard nanoseconds.count >= 2 else { return 0 }
    var count = 0
    for index in 1..<nanoseconds.count where nanoseconds[index] <= nanoseconds[index - 1] { count += 1 }
    return count
  }

  /// Builds the result's samples from nanosecond times and the parsed values.
  static func samples(nanoseconds: [Int64], values: [(Double, Double, Double)]) -> [PhoneSample] {
    var samples: [PhoneSample] = []
    samples.reserveCapacity(values.count)
    for (time, value) in zip(nanoseconds, values) {
      samples.append(PhoneSample(timestamp: milliseconds(fromNanoseconds: time), x: value.0, y: value.1, z: value.2))
    }
    return samples
  }
}

/// Why one row was rejected: the reason and what exactly was wrong.
typealias RowProblem = (reason: PhoneRejectionReason, detail: String)

/// A delimited text file read as a header and the data rows under it.
struct DelimitedTable {
  let bytes: [UInt8]
  let path: String
  let lines: [TextLine]
  /// The index in `lines` of the header: the first line that is not blank.
  let headerIndex: Int
  let separator: UInt8
  /// The header's field names (trimmed); empty when the header line cannot be split into fields.
  let names: [String]

  /// Finds the header and its separator; throws `.empty` when every line is blank.
  init(_ bytes: [UInt8], path: String) throws(PhoneImportError) {
    self.bytes = bytes
    self.path = path
    lines = DelimitedText.lines(bytes, from: DelimitedText.contentStart(bytes))
    guard let headerIndex = lines.firstIndex(where: { !DelimitedText.isBlank(bytes, $0.range) }) else {
      throw .empty(path: path)
    }
    self.headerIndex = headerIndex
    let header = lines[headerIndex].range
    separator = DelimitedText.separator(ofHeader: bytes, header)
    names = DelimitedText.headerNames(bytes, header, separator: separator) ?? []
  }

  /// True when numbers may use a decimal comma: the separator is TAB or semicolon.
  var decimalComma: Bool { separator != DelimitedText.comma }

  /// The error for a header that does not fit `format`.
  func headerMismatch(format: PhoneExportFormat, expected: String) -> PhoneImportError {
    .headerMismatch(
      path: path, format: format, expected: expected,
      found: DelimitedText.preview(bytes, lines[headerIndex].range))
  }

  /// Calls `body` with the fields of every data row that splits into one field per header name, and
  /// rejects the others; `body` returns the row's problem, if any. `malformedDetail` replaces the
  /// splitter's own explanation of a row that cannot be split.
  func forEachRow(
    malformedDetail: String? = nil, _ body: ([CSVField]) -> RowProblem?
  ) -> (rejected: [RejectedRow], blankLines: Int) {
    var rejected: [RejectedRow] = []
    var blankLines = headerIndex
    for line in lines[(headerIndex + 1)...] {
      if DelimitedText.isBlank(bytes, line.range) {
        blankLines += 1
        continue
      }
      let problem: RowProblem?
      switch DelimitedText.fields(bytes, line.range, separator: separator) {
      case .malformed(let why):
        problem = (.malformedRow, malformedDetail ?? why)
      case .fields(let fields) where fields.count != names.count:
        problem = (
          fields.count < names.count ? .missingColumns : .extraColumns,
          "the row has \(fields.count) fields, the header has \(names.count)"
        )
      case .fields(let fields):
        problem = body(fields)
      }
      if let (reason, detail) = problem {
        rejected.append(RejectedRow(line: line.number, reason: reason, detail: detail, raw: Array(bytes[line.range])))
      }
    }
    return (rejected, blankLines)
  }

  /// The problem with a number read from `fields[column]`, or nil when it is a value: an invalid
  /// field "is not `expected`", an out-of-range one is described by `outOfRange`.
  func problem<Value>(
    _ parse: NumberParse<Value>, in fields: [CSVField], column: Int, expected: String = "a number",
    outOfRange: String
  ) -> RowProblem? {
    let name = names[column]
    var text: String { DelimitedText.text(bytes, fields[column]) }
    switch parse {
    case .value: return nil
    case .empty: return (.missingValue, "\(name) is empty")
    case .invalid: return (.invalidNumber, "\(name) `\(text)` is not \(expected)")
    case .nonFinite: return (.nonFinite, "\(name) `\(text)` is not a finite number")
    case .outOfRange: return (.timeOutOfRange, "\(name) `\(text)` \(outOfRange)")
    }
  }
}
