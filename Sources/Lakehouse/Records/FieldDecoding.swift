// Typed access to the members of one scanned line, shared by every record's decoder so that
// each rule ("an integer", "a number", "a string", "integer, null or absent") has one wording.

extension UnsafeBufferPointer<UInt8> {
  func integerField(_ token: JSONToken, _ name: @autoclosure () -> String) throws(RecordError) -> Int64 {
    guard case .number(let start, let end, let isInteger) = token else {
      throw RecordError(.wrongType, "field '\(name())' must be an integer, found \(token.typeName)", field: name())
    }
    guard isInteger else {
      throw RecordError(.wrongType, "field '\(name())' must be an integer, found a fractional number", field: name())
    }
    guard let value = int64(start: start, end: end) else {
      throw RecordError(.wrongType, "field '\(name())' is outside the 64-bit integer range", field: name())
    }
    return value
  }

  func optionalIntegerField(_ token: JSONToken, _ name: @autoclosure () -> String) throws(RecordError) -> Int64? {
    if case .null = token { return nil }
    guard case .number = token else {
      throw RecordError(
        .wrongType, "field '\(name())' must be an integer or null, found \(token.typeName)", field: name())
    }
    return try integerField(token, name())
  }

  func numberField(_ token: JSONToken, _ name: @autoclosure () -> String) throws(RecordError) -> Double {
    guard case .number(let start, let end, _) = token else {
      throw RecordError(.wrongType, "field '\(name())' must be a number, found \(token.typeName)", field: name())
    }
    let value = double(start: start, end: end)
    guard value.isFinite else {
      throw RecordError(.wrongType, "field '\(name())' is outside the range of a double", field: name())
    }
    return value
  }

  func stringField(_ token: JSONToken, _ name: @autoclosure () -> String) throws(RecordError) -> JSONStringToken {
    guard case .string(let string) = token else {
      throw RecordError(.wrongType, "field '\(name())' must be a string, found \(token.typeName)", field: name())
    }
    return string
  }

  func optionalStringField(_ token: JSONToken, _ name: @autoclosure () -> String) throws(RecordError) -> String? {
    if case .null = token { return nil }
    return string(try stringField(token, name()))
  }

  /// The string's bytes, unescaped into `scratch` only when it has escapes.
  func stringBytes<Result>(
    _ token: JSONStringToken, scratch: inout [UInt8], _ body: (UnsafeRawBufferPointer) -> Result
  ) -> Result {
    if !token.escaped {
      return body(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(self)[token.start..<token.end]))
    }
    scratch.removeAll(keepingCapacity: true)
    unescapedString(token, into: &scratch)
    return scratch.withUnsafeBytes(body)
  }
}

/// Tracks which schema fields a line has set, to reject duplicates and report missing ones.
struct SeenFields {
  private var bits: UInt32 = 0

  mutating func mark(_ index: Int, _ name: @autoclosure () -> String) throws(RecordError) {
    let bit: UInt32 = 1 << UInt32(index)
    if bits & bit != 0 { throw RecordError(.duplicateField, "field '\(name())' appears more than once", field: name()) }
    bits |= bit
  }

  func require(_ index: Int, _ name: @autoclosure () -> String) throws(RecordError) {
    if bits & (1 << UInt32(index)) == 0 {
      throw RecordError(.missingField, "required field '\(name())' is missing", field: name())
    }
  }
}
