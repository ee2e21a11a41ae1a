// A validating, allocation-free scanner for the one JSON object on an NDJSON line.
//
// Hand-written because no package on this machine's list parses JSON from raw bytes without
// building a tree of Foundation or Swift values per line; at lake scale that tree costs more
// than the rest of the pipeline together. The scanner validates the whole line (RFC 8259
// grammar and UTF-8), hands the caller each top-level member as offsets into the line, and
// skips nested values after validating them.

/// One JSON value on a line, as offsets into the line's bytes.
package enum JSONToken {
  /// String contents without the quotes; `escaped` when a backslash escape occurs inside.
  case string(JSONStringToken)
  /// Number text; `isInteger` when it has neither a fraction nor an exponent.
  case number(start: Int, end: Int, isInteger: Bool)
  case bool(Bool)
  case null
  case object
  case array

  /// The JSON type name, for error messages.
  var typeName: String {
    switch self {
    case .string: "string"
    case .number: "number"
    case .bool: "boolean"
    case .null: "null"
    case .object: "object"
    case .array: "array"
    }
  }
}

/// A string's contents as offsets into the line (quotes excluded).
package struct JSONStringToken {
  var start: Int
  var end: Int
  var escaped: Bool
}

/// Walks the top-level members of the JSON object on one line.
package struct JSONObjectScanner {
  let bytes: UnsafeBufferPointer<UInt8>
  private(set) var position = 0
  private var sawFirstMember = false
  private var closed = false

  /// Deep nesting is legal JSON but only ever seen in hostile input; the limit keeps recursion bounded.
  static let maximumDepth = 128

  /// Starts scanning; throws `notAnObject` for a valid JSON value of another type.
  package init(line: UnsafeBufferPointer<UInt8>) throws(RecordError) {
    bytes = line
    skipWhitespace()
    guard position < bytes.count else { throw RecordError(.invalidJSON, "empty line") }
    if bytes[position] == UInt8(ascii: "{") {
      position += 1
      return
    }
    let token = try scanValue(depth: 0)
    skipWhitespace()
    if position < bytes.count { throw unexpected("after the value") }
    throw RecordError(.notAnObject, "the line holds a JSON \(token.typeName), not an object")
  }

  /// The next top-level member, or nil once the closing brace (and nothing after it) is reached.
  package mutating func nextMember() throws(RecordError) -> (key: JSONStringToken, value: JSONToken)? {
    if closed { return nil }
    skipWhitespace()
    guard position < bytes.count else { throw truncated("inside the object") }
    if bytes[position] == UInt8(ascii: "}") {
      if sawFirstMember { throw unexpected("after ','") }
      return try close()
    }
    if sawFirstMember {
      guard bytes[position] == UInt8(ascii: ",") else {
        if bytes[position] == UInt8(ascii: "}") { return try close() }
        throw unexpected("where ',' or '}' was expected")
      }
      position += 1
      skipWhitespace()
      guard position < bytes.count else { throw truncated("inside the object") }
    }
    guard bytes[position] == UInt8(ascii: "\"") else { throw unexpected("where a member name was expected") }
    let key = try scanString()
    skipWhitespace()
    guard position < bytes.count else { throw truncated("after a member name") }
    guard bytes[position] == UInt8(ascii: ":") else { throw unexpected("where ':' was expected") }
    position += 1
    let value = try scanValue(depth: 1)
    sawFirstMember = true
    // Peek for the closing brace so the caller's loop ends without one more call.
    skipWhitespace()
    if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
      sawFirstMember = false
      _ = try close()
      return (key, value)
    }
    return (key, value)
  }

  private mutating func close() throws(RecordError) -> (key: JSONStringToken, value: JSONToken)? {
    position += 1
    skipWhitespace()
    if position < bytes.count { throw unexpected("after the closing '}'") }
    closed = true
    return nil
  }

  // MARK: Values

  private mutating func skipWhitespace() {
    while position < bytes.count {
      switch bytes[position] {
      case 0x20, 0x09, 0x0A, 0x0D: position += 1
      default: return
      }
    }
  }

  private mutating func scanValue(depth: Int) throws(RecordError) -> JSONToken {
    skipWhitespace()
    guard position < bytes.count else { throw truncated("where a value was expected") }
    switch bytes[position] {
    case UInt8(ascii: "\""): return .string(try scanString())
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try scanNumber()
    case UInt8(ascii: "t"):
      try scanLiteral("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try scanLiteral("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try scanLiteral("null")
      return .null
    case UInt8(ascii: "{"):
      try skipContainer(depth: depth + 1, closing: UInt8(ascii: "}"), isObject: true)
      return .object
    case UInt8(ascii: "["):
      try skipContainer(depth: depth + 1, closing: UInt8(ascii: "]"), isObject: false)
      return .array
    default:
      throw unexpected("where a value was expected")
    }
  }

  private mutating func scanLiteral(_ literal: StaticString) throws(RecordError) {
    let text = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
    for expected in text {
      guard position < bytes.count else { throw truncated("inside '\(literal)'") }
      guard bytes[position] == expected else { throw unexpected("inside '\(literal)'") }
      position += 1
    }
  }

  private mutating func skipContainer(depth: Int, closing: UInt8, isObject: Bool) throws(RecordError) {
    guard depth <= Self.maximumDepth else {
      throw RecordError(.invalidJSON, "nesting deeper than \(Self.maximumDepth) levels")
    }
    position += 1
    skipWhitespace()
    guard position < bytes.count else { throw truncated("inside a nested value") }
    if bytes[position] == closing {
      position += 1
      return
    }
    while true {
      if isObject {
        skipWhitespace()
        guard position < bytes.count else { throw truncated("inside a nested object") }
        guard bytes[position] == UInt8(ascii: "\"") else { throw unexpected("where a member name was expected") }
        _ = try scanString()
        skipWhitespace()
        guard position < bytes.count else { throw truncated("inside a nested object") }
        guard bytes[position] == UInt8(ascii: ":") else { throw unexpected("where ':' was expected") }
        position += 1
      }
      _ = try scanValue(depth: depth)
      skipWhitespace()
      guard position < bytes.count else { throw truncated("inside a nested value") }
      if bytes[position] == UInt8(ascii: ",") {
        position += 1
        continue
      }
      if bytes[position] == closing {
        position += 1
        return
      }
      throw unexpected("inside a nested value")
    }
  }

  private mutating func scanNumber() throws(RecordError) -> JSONToken {
    let start = position
    var isInteger = true
    if bytes[position] == UInt8(ascii: "-") { position += 1 }
    guard position < bytes.count else { throw truncated("inside a number") }
    if bytes[position] == UInt8(ascii: "0") {
      position += 1
    } else if isDigit(bytes[position]) {
      while position < bytes.count, isDigit(bytes[position]) { position += 1 }
    } else {
      throw unexpected("inside a number")
    }
    if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
      isInteger = false
      position += 1
      guard position < bytes.count else { throw truncated("inside a number") }
      guard isDigit(bytes[position]) else { throw unexpected("after a decimal point") }
      while position < bytes.count, isDigit(bytes[position]) { position += 1 }
    }
    if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
      isInteger = false
      position += 1
      guard position < bytes.count else { throw truncated("inside a number") }
      if bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
      guard position < bytes.count else { throw truncated("inside a number") }
      guard isDigit(bytes[position]) else { throw unexpected("in an exponent") }
      while position < bytes.count, isDigit(bytes[position]) { position += 1 }
    }
    return .number(start: start, end: position, isInteger: isInteger)
  }

  @inline(__always) private func isDigit(_ byte: UInt8) -> Bool {
    byte &- UInt8(ascii: "0") < 10
  }

  private mutating func scanString() throws(RecordError) -> JSONStringToken {
    position += 1
    let start = position
    var escaped = false
    while position < bytes.count {
      let byte = bytes[position]
      if byte == UInt8(ascii: "\"") {
        let token = JSONStringToken(start: start, end: position, escaped: escaped)
        position += 1
        return token
      } else if byte == UInt8(ascii: "\\") {
        escaped = true
        try scanEscape()
      } else if byte < 0x20 {
        throw RecordError(.invalidJSON, "control character 0x\(hex(byte)) inside a string at column \(position + 1)")
      } else if byte < 0x80 {
        position += 1
      } else {
        try scanMultiByteScalar()
      }
    }
    throw truncated("inside a string")
  }

  private mutating func scanEscape() throws(RecordError) {
    position += 1
    guard position < bytes.count else { throw truncated("inside a string escape") }
    switch bytes[position] {
    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
      UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
      position += 1
    case UInt8(ascii: "u"):
      let unit = try scanHexQuad()
      if (0xD800...0xDBFF).contains(unit) {
        // A line that ends here was cut inside the pair: that is truncation, not a lone surrogate.
        if position >= bytes.count || (position + 1 == bytes.count && bytes[position] == UInt8(ascii: "\\")) {
          throw truncated("inside a \\u escape pair")
        }
        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
          bytes[position + 1] == UInt8(ascii: "u")
        else { throw RecordError(.invalidJSON, "unpaired UTF-16 surrogate escape at column \(position)") }
        position += 1
        let low = try scanHexQuad()
        guard (0xDC00...0xDFFF).contains(low) else {
          throw RecordError(.invalidJSON, "unpaired UTF-16 surrogate escape at column \(position)")
        }
      } else if (0xDC00...0xDFFF).contains(unit) {
        throw RecordError(.invalidJSON, "unpaired UTF-16 surrogate escape at column \(position)")
      }
    default:
      throw unexpected("as a string escape")
    }
  }

  /// Reads `uXXXX` with `position` on the `u`; leaves `position` after the last digit.
  private mutating func scanHexQuad() throws(RecordError) -> UInt32 {
    position += 1
    var value: UInt32 = 0
    for _ in 0..<4 {
      guard position < bytes.count else { throw truncated("inside a \\u escape") }
      guard let digit = hexValue(bytes[position]) else { throw unexpected("inside a \\u escape") }
      value = value << 4 | UInt32(digit)
      position += 1
    }
    return value
  }

  /// Validates one UTF-8 multi-byte sequence (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
  private mutating func scanMultiByteScalar() throws(RecordError) {
    let lead = bytes[position]
    let length: Int
    var lowerBound: UInt8 = 0x80
    var upperBound: UInt8 = 0xBF
    switch lead {
    case 0xC2...0xDF: length = 2
    case 0xE0:
      length = 3
      lowerBound = 0xA0
    case 0xE1...0xEC, 0xEE...0xEF: length = 3
    case 0xED:
      length = 3
      upperBound = 0x9F
    case 0xF0:
      length = 4
      lowerBound = 0x90
    case 0xF1...0xF3: length = 4
    case 0xF4:
      length = 4
      upperBound = 0x8F
    default: throw invalidUTF8()
    }
    guard position + length <= bytes.count else {
      // A sequence cut by the end of the line is still invalid UTF-8 (the string is unterminated too).
      throw invalidUTF8()
    }
    let second = bytes[position + 1]
    guard second >= lowerBound, second <= upperBound else { throw invalidUTF8() }
    for offset in 2..<length where bytes[position + offset] & 0xC0 != 0x80 {
      throw invalidUTF8()
    }
    position += length
  }

  // MARK: Errors

  private func unexpected(_ context: String) -> RecordError {
    let byte = bytes[position]
    let shown = byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(hex(byte))"
    if byte >= 0x80 && !isValidUTF8(from: position) { return invalidUTF8() }
    return RecordError(.invalidJSON, "unexpected \(shown) at column \(position + 1) \(context)")
  }

  private func truncated(_ context: String) -> RecordError {
    RecordError(.truncated, "line ends \(context) at column \(bytes.count + 1)")
  }

  private func invalidUTF8() -> RecordError {
    RecordError(.invalidUTF8, "invalid UTF-8 at column \(position + 1)")
  }

  private func isValidUTF8(from offset: Int) -> Bool {
    var copy = self
    copy.position = offset
    do { try copy.scanMultiByteScalar() } catch { return false }
    return true
  }
}

@inline(__always) func hexValue(_ byte: UInt8) -> UInt8? {
  switch byte {
  case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
  case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
  case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
  default: nil
  }
}

func hex(_ byte: UInt8) -> String {
  let digits = Array("0123456789ABCDEF")
  return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
}
