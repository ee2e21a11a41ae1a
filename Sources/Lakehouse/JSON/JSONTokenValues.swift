// Turning scanned tokens into Swift values. Kept apart from the scanner so the grammar stays
// readable; these run only on the fields a record actually needs.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension UnsafeBufferPointer<UInt8> {
  /// The token's integer value, or nil if it does not fit in 64 bits.
  package func int64(start: Int, end: Int) -> Int64? {
    var index = start
    let negative = self[index] == UInt8(ascii: "-")
    if negative { index += 1 }
    var magnitude: UInt64 = 0
    while index < end {
      let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
      let (sum, overflow2) = times10.addingReportingOverflow(UInt64(self[index] &- UInt8(ascii: "0")))
      if overflow1 || overflow2 { return nil }
      magnitude = sum
      index += 1
    }
    if negative {
      if magnitude == UInt64(Int64.max) + 1 { return Int64.min }
      return magnitude <= UInt64(Int64.max) ? -Int64(magnitude) : nil
    }
    return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
  }

  /// The token's value as the nearest Double (correctly rounded).
  package func double(start: Int, end: Int) -> Double {
    // Clinger's fast path: a mantissa below 2^53 scaled by an exact power of ten is exact
    // after one correctly rounded multiply or divide. Everything else goes to strtod.
    var index = start
    let negative = self[index] == UInt8(ascii: "-")
    if negative { index += 1 }
    var mantissa: UInt64 = 0
    var digits = 0
    var exponent = 0
    while index < end, self[index] &- UInt8(ascii: "0") < 10 {
      mantissa = mantissa &* 10 &+ UInt64(self[index] &- UInt8(ascii: "0"))
      digits += 1
      index += 1
    }
    if index < end, self[index] == UInt8(ascii: ".") {
      index += 1
      while index < end, self[index] &- UInt8(ascii: "0") < 10 {
        mantissa = mantissa &* 10 &+ UInt64(self[index] &- UInt8(ascii: "0"))
        digits += 1
        exponent -= 1
        index += 1
      }
    }
    if index == end, digits <= 15, mantissa < (1 << 53), exponent >= -22 {
      var value = Double(mantissa)
      if exponent < 0 { value /= exactPowersOfTen[-exponent] }
      return negative ? -value : value
    }
    let text = String(decoding: UnsafeBufferPointer(rebasing: self[start..<end]), as: UTF8.self)
    return Double(text) ?? .nan
  }

  /// The string token's contents as UTF-8 bytes with escapes resolved, appended to `output`.
  package func unescapedString(_ token: JSONStringToken, into output: inout [UInt8]) {
    var index = token.start
    while index < token.end {
      let byte = self[index]
      guard byte == UInt8(ascii: "\\") else {
        output.append(byte)
        index += 1
        continue
      }
      let escape = self[index + 1]
      index += 2
      switch escape {
      case UInt8(ascii: "b"): output.append(0x08)
      case UInt8(ascii: "f"): output.append(0x0C)
      case UInt8(ascii: "n"): output.append(0x0A)
      case UInt8(ascii: "r"): output.append(0x0D)
      case UInt8(ascii: "t"): output.append(0x09)
      case UInt8(ascii: "u"):
        var scalar = hexQuad(at: index)
        index += 4
        if (0xD800...0xDBFF).contains(scalar) {
          // The scanner guaranteed a low surrogate escape follows.
          let low = hexQuad(at: index + 2)
          index += 6
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        output.append(contentsOf: Unicode.UTF8.encode(Unicode.Scalar(scalar)!)!)
      default: output.append(escape)
      }
    }
  }

  private func hexQuad(at index: Int) -> UInt32 {
    var value: UInt32 = 0
    for offset in 0..<4 { value = value << 4 | UInt32(hexValue(self[index + offset])!) }
    return value
  }

  /// The string token's contents as a Swift String.
  package func string(_ token: JSONStringToken) -> String {
    if !token.escaped {
      return String(decoding: UnsafeBufferPointer(rebasing: self[token.start..<token.end]), as: UTF8.self)
    }
    var scratch: [UInt8] = []
    scratch.reserveCapacity(token.end - token.start)
    unescapedString(token, into: &scratch)
    return String(decoding: scratch, as: UTF8.self)
  }

  /// Whether the string token's contents equal `name` (member names in the schema never need escapes).
  @inline(__always) package func stringEquals(_ token: JSONStringToken, _ name: StaticString) -> Bool {
    let count = name.utf8CodeUnitCount
    guard token.end - token.start == count else {
      return token.escaped && string(token) == name.description
    }
    if token.escaped { return string(token) == name.description }
    return memcmp(baseAddress! + token.start, name.utf8Start, count) == 0
  }
}

private let exactPowersOfTen: [Double] = (0...22).map { exponent in
  var value = 1.0
  for _ in 0..<exponent { value *= 10 }
  return value
}
